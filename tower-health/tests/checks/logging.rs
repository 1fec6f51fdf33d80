//! What is logged: one DEBUG event per health request, each change of outcome once, `no_log`,
//! messages whatever the exposure policy, and where `TraceLayer` sees probes.

use crate::capture;
use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get as axum_get;
use capture::{Captured, capture};
use common::{TestServer, get, request, serve_axum, serve_hyper};
use http::{Method, StatusCode};
use tower::Layer;
use tower_health::{Check, CheckResult, Health, HealthLayer, Lifecycle, StatusCodes};
use tower_http::trace::TraceLayer;
use tracing::Level;

const SECRET: &str = "password authentication failed for user admin@db.internal";

/// A working handle with a readiness check `db` that fails while `down` is set.
fn switchable() -> (Health, Arc<AtomicBool>) {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    // The tests flip `db` between requests: the next request must run it and see the flip.
    health.set_default_cache_ttl(Duration::ZERO);
    let down = Arc::new(AtomicBool::new(false));
    let flag = down.clone();
    health.register(Check::new("db", move || {
        let down = flag.load(Ordering::SeqCst);
        async move {
            if down {
                CheckResult::fail(SECRET)
            } else {
                CheckResult::pass()
            }
        }
    }));
    health.register(Check::new("cache", || async { true }));
    (health, down)
}

async fn server(health: &Health, layer: HealthLayer) -> TestServer {
    serve_hyper(layer.health(health.clone()).layer(common::echo_service())).await
}

fn requests(captured: &Captured) -> Vec<(String, String)> {
    captured
        .events("health request")
        .into_iter()
        .map(|r| {
            assert_eq!(r.level, Level::DEBUG);
            assert_eq!(r.target, "tower_health::request");
            assert!(r.field("elapsed").is_some(), "{r:?}");
            (
                r.field("path").unwrap().to_owned(),
                r.field("status").unwrap().to_owned(),
            )
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn each_health_request_is_one_debug_event() {
    let (captured, _guard) = capture();
    let (health, _) = switchable();
    let server = server(&health, HealthLayer::new()).await;
    get(&server, "/health/ready").await;
    get(&server, "/health/live?x=1").await;
    get(&server, "/health/ready/nope").await;
    request(&server, Method::POST, "/health").await;
    get(&server, "/other").await;
    assert_eq!(
        requests(&captured),
        owned(&[
            ("/health/ready", "200"),
            ("/health/live", "200"),
            ("/health/ready/nope", "404"),
            ("/health", "405"),
        ])
    );
}

/// The "health changed" events of `subject`, as (level, from, to, message).
fn changes(captured: &Captured, subject: &str) -> Vec<(Level, String, String, String)> {
    captured
        .events("health changed")
        .into_iter()
        .filter(|r| r.field("subject") == Some(subject))
        .map(|r| {
            (
                r.level,
                r.field("from").unwrap().to_owned(),
                r.field("to").unwrap().to_owned(),
                r.field("reason").unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_change_of_outcome_is_logged_once() {
    let (captured, _guard) = capture();
    let (health, down) = switchable();
    let server = server(&health, HealthLayer::new()).await;
    for _ in 0..3 {
        assert_eq!(get(&server, "/health/ready").await.status, 200);
    }
    down.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(get(&server, "/health/ready").await.status, 503);
    }
    down.store(false, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(get(&server, "/health/ready").await.status, 200);
    }
    let probe = changes(&captured, "group ready");
    let levels: Vec<_> = probe
        .iter()
        .map(|c| (c.0, c.1.as_str(), c.2.as_str()))
        .collect();
    assert_eq!(
        levels,
        [
            (Level::DEBUG, "none", "pass"),
            (Level::WARN, "pass", "fail"),
            (Level::INFO, "fail", "pass"),
        ]
    );
    // The failure names the failing check, and only it.
    assert_eq!(probe[1].3, "db");
    // The recovery names what recovered.
    let recovery = &captured
        .events("health changed")
        .into_iter()
        .filter(|r| r.field("subject") == Some("group ready"))
        .collect::<Vec<_>>()[2];
    assert_eq!(recovery.field("was"), Some("db"));
    let check = changes(&captured, "check db");
    let levels: Vec<_> = check.iter().map(|c| c.0).collect();
    assert_eq!(levels, [Level::DEBUG, Level::WARN, Level::INFO]);
    assert!(
        changes(&captured, "check cache").len() == 1,
        "cache never changed"
    );
}

#[tokio::test]
async fn messages_are_logged_even_when_responses_hide_them() {
    let (captured, _guard) = capture();
    let (health, down) = switchable();
    down.store(true, Ordering::SeqCst);
    let server = server(&health, HealthLayer::new()).await;
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!reply.text().contains(SECRET));
    let check = changes(&captured, "check db");
    assert_eq!(check.len(), 1);
    assert_eq!(check[0].0, Level::WARN);
    assert_eq!(check[0].3, SECRET);
}

#[tokio::test]
async fn no_log_keeps_failures_and_changes_only() {
    let (captured, _guard) = capture();
    let (health, down) = switchable();
    let server = server(&health, HealthLayer::new().no_log()).await;
    for _ in 0..3 {
        assert_eq!(get(&server, "/health/ready").await.status, 200);
        assert_eq!(get(&server, "/health/live").await.status, 200);
    }
    assert_eq!(requests(&captured), []);
    down.store(true, Ordering::SeqCst);
    get(&server, "/health/ready").await;
    get(&server, "/health/ready/nope").await;
    request(&server, Method::DELETE, "/health").await;
    assert_eq!(
        requests(&captured),
        owned(&[
            ("/health/ready", "503"),
            ("/health/ready/nope", "404"),
            ("/health", "405"),
        ])
    );
    assert_eq!(changes(&captured, "group ready")[1].0, Level::WARN);
}

fn traced_paths(captured: &Captured) -> Vec<String> {
    captured
        .spans("request")
        .into_iter()
        .filter(|span| span.target.starts_with("tower_http"))
        .map(|span| span.field("uri").unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_health_layer_added_after_trace_layer_keeps_probes_out_of_the_trace() {
    let (captured, _guard) = capture();
    let app = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(TraceLayer::new_for_http())
        .layer(HealthLayer::new());
    let server = serve_axum(app).await;
    assert_eq!(get(&server, "/health/ready").await.status, 200);
    assert_eq!(get(&server, "/").await.status, 200);
    assert_eq!(traced_paths(&captured), ["/"]);
}

#[tokio::test]
async fn a_health_layer_added_before_trace_layer_has_probes_traced() {
    let (captured, _guard) = capture();
    let app = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(HealthLayer::new())
        .layer(TraceLayer::new_for_http());
    let server = serve_axum(app).await;
    assert_eq!(get(&server, "/health/ready").await.status, 200);
    assert_eq!(get(&server, "/").await.status, 200);
    assert_eq!(traced_paths(&captured), ["/health/ready", "/"]);
}

#[tokio::test]
async fn a_health_layer_around_trace_layer_keeps_probes_out_of_it_in_either_order() {
    let (captured, _guard) = capture();
    // Added after the application's other layers, and before them: either way the trace
    // layer sees the application's requests and no probe.
    let limit = || tower::limit::ConcurrencyLimitLayer::new(64);
    let outermost = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(limit())
        .layer(HealthLayer::new().around(TraceLayer::new_for_http()));
    let innermost = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(HealthLayer::new().around(TraceLayer::new_for_http()))
        .layer(limit());
    for app in [outermost, innermost] {
        let server = serve_axum(app).await;
        assert_eq!(get(&server, "/health/ready").await.status, 200);
        assert_eq!(get(&server, "/health/live").await.status, 200);
        assert_eq!(get(&server, "/").await.status, 200);
    }
    let traced = traced_paths(&captured);
    assert!(
        !traced.iter().any(|path| path.starts_with("/health")),
        "{traced:?}"
    );
    assert_eq!(
        traced.iter().filter(|path| *path == "/").count(),
        2,
        "{traced:?}"
    );
}

#[tokio::test]
async fn no_log_silences_only_200_not_other_successes() {
    let (captured, _guard) = capture();
    let (health, _down) = switchable();
    // pyramid_health's 299 for maintenance: a success other than 200.
    let mut codes = StatusCodes::default();
    codes.maintenance = StatusCode::from_u16(299).unwrap();
    let server = server(&health, HealthLayer::new().no_log().status_codes(codes)).await;
    assert_eq!(get(&server, "/health/ready").await.status, 200);
    health.set_maintenance(true);
    assert_eq!(get(&server, "/health/ready").await.status, 299);
    assert_eq!(requests(&captured), owned(&[("/health/ready", "299")]));
}

#[test]
fn a_dependency_in_liveness_warns_once_at_registration_unless_meant() {
    use tower_health::checks::Tcp;
    let (captured, _guard) = capture();
    let warned = || {
        captured
            .records()
            .into_iter()
            .filter(|r| r.span.is_none() && r.message.contains("in the liveness group"))
            .filter_map(|r| r.field("check").map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let health = Health::new();
    health.register(
        Tcp::new("db.internal:5432")
            .into_check("database")
            .liveness(),
    );
    health.register(Tcp::new("db.internal:5432").into_check("database-ready"));
    health.register(
        Tcp::new("127.0.0.1:15000")
            .into_check("sidecar")
            .liveness()
            .liveness_on_purpose(),
    );
    // Not a dependency: the application's own state.
    health.register(Check::new("event-loop", || async { true }).liveness());
    health.register(
        Check::new("mailer", || async { true })
            .dependency()
            .liveness(),
    );
    assert_eq!(warned(), ["database", "mailer"]);
}
