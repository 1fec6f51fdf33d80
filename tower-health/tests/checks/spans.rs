//! Each check run is a `health_check` span: a child of the request's span when a request
//! triggered it (through the single-flight task), a root in the background; and the slow-check
//! warning, once per check until it is fast again.

use crate::capture;
use crate::common;

use std::time::Duration;

use axum::Router;
use axum::routing::get as axum_get;
use capture::{Captured, Record, capture};
use common::{get, serve_axum};
use tower_health::{Check, CheckResult, Health, HealthLayer, Subject};
use tower_http::trace::TraceLayer;
use tracing::{Instrument, Level};

fn runs(captured: &Captured) -> Vec<Record> {
    captured.spans("health_check")
}

#[tokio::test]
async fn a_requested_run_is_a_child_of_the_requests_span() {
    let (captured, _guard) = capture();
    let health = Health::new();
    health.register(
        Check::new("db", || async { CheckResult::warn("slow replica") })
            .readiness()
            .group("database"),
    );
    // The trace layer outside the health layer: probes are traced, so runs join their spans.
    let app = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(HealthLayer::new().health(health.clone()))
        .layer(TraceLayer::new_for_http());
    let server = serve_axum(app).await;
    assert_eq!(get(&server, "/health/ready").await.status, 200);
    let runs = runs(&captured);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run.level, Level::INFO);
    assert_eq!(run.parent.as_deref(), Some("request"), "{run:?}");
    assert_eq!(run.field("check"), Some("db"));
    assert_eq!(run.field("groups"), Some("ready,database"));
    assert_eq!(run.field("outcome"), Some("warn"));
    let seconds: f64 = run.field("duration_seconds").unwrap().parse().unwrap();
    assert!(seconds >= 0.0);
    server.stop().await;
}

#[tokio::test]
async fn runs_outside_any_span_are_roots_and_name_their_outcome() {
    let (captured, _guard) = capture();
    let health = Health::new();
    health.register(
        Check::new("hangs", std::future::pending::<bool>).timeout(Duration::from_millis(5)),
    );
    health.register(Check::new("boom", || async { panic!("no") as bool }));
    health.evaluate(&Subject::Service).await.unwrap();
    let mut runs: Vec<(String, String, Option<String>)> = runs(&captured)
        .into_iter()
        .map(|r| {
            let field = |name| r.field(name).unwrap().to_owned();
            (field("check"), field("outcome"), r.parent)
        })
        .collect();
    runs.sort();
    assert_eq!(
        runs,
        [
            ("boom".to_owned(), "panic".to_owned(), None),
            ("hangs".to_owned(), "timeout".to_owned(), None),
        ]
    );

    // Inside a span of the caller's, without any HTTP: the run is its child.
    captured.clear();
    health.set_default_cache_ttl(Duration::ZERO);
    health
        .evaluate(&Subject::check("boom"))
        .instrument(tracing::info_span!("caller"))
        .await;
    let runs = captured.spans("health_check");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].parent.as_deref(), Some("caller"));
}

#[tokio::test]
async fn background_runs_are_roots() {
    let (captured, _guard) = capture();
    let health = Health::new();
    let mut status = health.watch(Subject::check("disk"));
    async {
        health.register(
            Check::new("disk", || async { true })
                .liveness()
                .background(Duration::from_secs(3600)),
        );
    }
    // Registered inside a span: the background task must not take it as its runs' parent.
    .instrument(tracing::info_span!("setup"))
    .await;
    common::within(status.wait_for(Option::is_some))
        .await
        .unwrap();
    let runs = runs(&captured);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].parent, None);
    assert_eq!(runs[0].field("groups"), Some("live"));
}

#[tokio::test]
async fn a_slow_check_warns_once_until_it_is_fast_again() {
    let (captured, _guard) = capture();
    let health = Health::new();
    health.set_default_cache_ttl(Duration::ZERO);
    health.register(Check::new("report", || async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        true
    }));
    // The default threshold (10 s) is far above the run.
    health.evaluate(&Subject::Service).await;
    assert!(captured.events("health check is slow").is_empty());

    health.set_slow_threshold(Some(Duration::from_millis(1)));
    for _ in 0..3 {
        health.evaluate(&Subject::Service).await;
    }
    let slow = captured.events("health check is slow");
    assert_eq!(slow.len(), 1, "{slow:?}");
    assert_eq!(slow[0].level, Level::WARN);
    assert_eq!(slow[0].field("check"), Some("report"));
    assert!(slow[0].field("duration").is_some());

    health.set_slow_threshold(Some(Duration::from_secs(3600)));
    for _ in 0..2 {
        health.evaluate(&Subject::Service).await;
    }
    let fast = captured.events("health check is fast again");
    assert_eq!(fast.len(), 1, "{fast:?}");
    assert_eq!(fast[0].level, Level::INFO);

    health.set_slow_threshold(Some(Duration::from_millis(1)));
    health.evaluate(&Subject::Service).await;
    assert_eq!(
        captured.events("health check is slow").len(),
        2,
        "slow again"
    );
    health.set_slow_threshold(None);
    health.evaluate(&Subject::Service).await;
    assert_eq!(captured.events("health check is fast again").len(), 2);
}
