//! The manual check: the application reports, and every part of the crate sees it like any
//! other check's result.

use std::time::Duration;

use http::StatusCode;
use tower::Layer;
use tower_health::checks::Manual;
use tower_health::{Exposure, Group, Health, HealthLayer, RunEnd, Status, Subject};

use crate::common::{echo_service, get, serve_hyper, within};

/// Waits until the check named `name` has recorded `status`.
async fn recorded(health: &Health, name: &str, status: Status) {
    let mut watch = health.watch(Subject::check(name));
    within(watch.wait_for(|recorded| *recorded == Some(status)))
        .await
        .unwrap();
}

/// A report, the status it records, a path and what that path then answers.
type Step = (
    fn(&Manual),
    Status,
    &'static str,
    StatusCode,
    Option<&'static str>,
);

#[tokio::test]
async fn reports_are_answered_over_http_in_the_check_s_groups() {
    let health = Health::new();
    let consumer = Manual::new();
    health.register(consumer.clone().into_check("consumer").group("workers"));
    let layer = HealthLayer::new()
        .health(health.clone())
        .exposure(Exposure::Messages);
    let server = serve_hyper(layer.layer(echo_service())).await;

    recorded(&health, "consumer", Status::Fail).await;
    assert_eq!(
        get(&server, "/health/ready").await.status,
        StatusCode::OK,
        "not in ready"
    );
    let steps: [Step; 4] = [
        (
            |_| {},
            Status::Fail,
            "/health/workers",
            StatusCode::SERVICE_UNAVAILABLE,
            Some("not yet reported"),
        ),
        (
            Manual::pass,
            Status::Pass,
            "/health/workers/consumer",
            StatusCode::OK,
            None,
        ),
        (
            |m| m.warn("lagging 812 messages behind"),
            Status::Warn,
            "/health/workers",
            StatusCode::OK,
            Some("lagging 812 messages behind"),
        ),
        (
            |m| m.fail("broker connection lost"),
            Status::Fail,
            "/health",
            StatusCode::SERVICE_UNAVAILABLE,
            Some("broker connection lost"),
        ),
    ];
    for (report, status, path, code, output) in steps {
        report(&consumer);
        recorded(&health, "consumer", status).await;
        let reply = get(&server, path).await;
        assert_eq!(reply.status, code, "{path} after {status}");
        let entry = &reply.json()["checks"]["consumer"][0];
        assert_eq!(entry["status"], status.as_str(), "{path}");
        assert_eq!(entry["output"].as_str(), output, "{path}");
    }
}

#[tokio::test]
async fn each_report_publishes_a_change_without_a_probe() {
    let health = Health::new();
    let breaker = Manual::new();
    health.register(breaker.clone().into_check("payments-breaker"));
    recorded(&health, "payments-breaker", Status::Fail).await;
    let mut changes = health.subscribe();

    breaker.pass();
    let change = within(changes.recv()).await.unwrap();
    assert_eq!(change.subject, Subject::check("payments-breaker"));
    assert_eq!(change.new, Status::Pass);

    breaker.fail("circuit open");
    let change = within(changes.recv()).await.unwrap();
    assert_eq!(change.new, Status::Fail);
    assert_eq!(change.message.as_deref(), Some("circuit open"));
}

#[tokio::test]
async fn thresholds_smooth_reports_like_any_run() {
    let health = Health::new();
    let consumer = Manual::new();
    health.register(
        consumer
            .clone()
            .into_check("consumer")
            .liveness()
            .failure_threshold(2),
    );
    consumer.pass();
    recorded(&health, "consumer", Status::Pass).await;
    consumer.fail("one blip");
    recorded(&health, "consumer", Status::Warn).await;
    consumer.fail("still down");
    recorded(&health, "consumer", Status::Fail).await;
    let report = health.evaluate(&Subject::group(Group::LIVE)).await.unwrap();
    assert_eq!(report.status, Status::Fail);
    assert_eq!(report.checks[0].end, RunEnd::Completed);
}

#[tokio::test(start_paused = true)]
async fn a_heartbeat_that_stops_expires_to_fail_and_a_new_one_passes_again() {
    let health = Health::new();
    let worker = Manual::new().expire_after(Duration::from_secs(5));
    health.register(worker.clone().into_check("worker").readiness());
    worker.pass();
    recorded(&health, "worker", Status::Pass).await;

    // Nothing reports: the paused clock runs on to the expiry (before `within` gives up).
    recorded(&health, "worker", Status::Fail).await;
    let report = health.evaluate(&Subject::check("worker")).await.unwrap();
    assert_eq!(
        report.checks[0].result.message.as_deref(),
        Some("not reported for 5s")
    );

    worker.pass();
    recorded(&health, "worker", Status::Pass).await;
}

#[tokio::test]
async fn a_report_made_before_registering_is_the_first_result() {
    let health = Health::new();
    let consumer = Manual::new();
    consumer.warn("starting with a backlog");
    health.register(consumer.into_check("consumer"));
    recorded(&health, "consumer", Status::Warn).await;
}
