//! What an endpoint's status is recorded as: only an evaluation of exactly the service or exactly
//! a probe is recorded (and logged, and published to watches); a part of it is not.

use crate::common;

use common::{TestServer, get, serve_hyper};
use http::StatusCode;
use tokio::sync::broadcast::Receiver;
use tower::Layer;
use tower_health::{
    Change, Check, CheckResult, Endpoint, Gate, Group, Health, HealthLayer, Lifecycle, Subject,
    preset,
};

/// A working handle with a readiness check `db` that always fails and a passing `cache`.
fn failing_db() -> Health {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.register(Check::new("db", || async { CheckResult::fail("down") }).readiness());
    health.register(Check::new("cache", || async { true }).readiness());
    health
}

async fn server(health: &Health, layer: HealthLayer) -> TestServer {
    serve_hyper(layer.health(health.clone()).layer(common::echo_service())).await
}

/// The changes published so far.
fn published(
    changes: &mut Receiver<Change>,
) -> Vec<(Subject, Option<tower_health::Status>, tower_health::Status)> {
    std::iter::from_fn(|| changes.try_recv().ok())
        .map(|change| (change.subject, change.old, change.new))
        .collect()
}

#[tokio::test]
async fn a_request_that_excludes_a_check_does_not_record_the_probe() {
    let health = failing_db();
    let mut changes = health.subscribe();
    let server = server(
        &health,
        HealthLayer::new().endpoints(preset::Kubernetes::new()),
    )
    .await;
    let readiness = Subject::group(Group::READY);

    for _ in 0..2 {
        assert_eq!(
            get(&server, "/readyz").await.status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            get(&server, "/readyz?exclude=db").await.status,
            StatusCode::OK
        );
        assert_eq!(
            *health.watch(readiness.clone()).borrow(),
            Some(tower_health::Status::Fail)
        );
        assert_eq!(
            get(&server, "/health/ready").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    let readiness_changes: Vec<_> = published(&mut changes)
        .into_iter()
        .filter(|(subject, _, _)| *subject == readiness)
        .collect();
    assert_eq!(
        readiness_changes,
        vec![(readiness, None, tower_health::Status::Fail)],
        "readiness failed once and stayed failed"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_request_that_does_not_run_the_checks_does_not_record_the_probe() {
    let health = failing_db();
    let layer = HealthLayer::new().endpoint(
        Endpoint::new("/ready-lite")
            .subject(Subject::group(Group::READY))
            .run_checks_when("checks", ["true"]),
    );
    let server = server(&health, layer).await;
    let readiness = Subject::group(Group::READY);

    assert_eq!(get(&server, "/ready-lite").await.status, StatusCode::OK);
    assert_eq!(
        *health.watch(readiness.clone()).borrow(),
        None,
        "nothing ran: nothing to record"
    );
    assert_eq!(
        get(&server, "/ready-lite?checks=true").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        *health.watch(readiness.clone()).borrow(),
        Some(tower_health::Status::Fail)
    );
    assert_eq!(get(&server, "/ready-lite").await.status, StatusCode::OK);
    assert_eq!(
        *health.watch(readiness.clone()).borrow(),
        Some(tower_health::Status::Fail)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_subset_endpoint_is_not_recorded_as_the_service() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.register(Check::new("db", || async { true }).readiness());
    let layer = HealthLayer::new()
        // Every check, but ungated: not what the service's status means.
        .endpoint(Endpoint::new("/status").gate(Gate::None))
        // Another probe's gate on the readiness checks: not the readiness probe either.
        .endpoint(
            Endpoint::new("/ready-started")
                .subject(Subject::group(Group::READY))
                .gate(Gate::Started),
        );
    let server = server(&health, layer).await;

    assert_eq!(get(&server, "/status").await.status, StatusCode::OK);
    assert_eq!(get(&server, "/ready-started").await.status, StatusCode::OK);
    assert_eq!(*health.watch(Subject::Service.clone()).borrow(), None);
    assert_eq!(
        health
            .watch(Subject::group(Group::READY).clone())
            .borrow()
            .clone(),
        None
    );

    assert_eq!(get(&server, "/health").await.status, StatusCode::OK);
    assert_eq!(
        *health.watch(Subject::Service.clone()).borrow(),
        Some(tower_health::Status::Pass)
    );
    assert_eq!(get(&server, "/health/ready").await.status, StatusCode::OK);
    assert_eq!(
        health
            .watch(Subject::group(Group::READY).clone())
            .borrow()
            .clone(),
        Some(tower_health::Status::Pass)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_named_endpoint_keeps_the_gate_it_is_given() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    health.register(Check::new("db", || async { true }).readiness());
    let layer = HealthLayer::new().endpoint(Endpoint::new("/gated").per_check().gate(Gate::Ready));
    let server = server(&health, layer).await;

    assert_eq!(
        get(&server, "/gated/db").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&server, "/gated/nope").await.status,
        StatusCode::NOT_FOUND
    );
    // The default named endpoints are ungated.
    assert_eq!(
        get(&server, "/health/ready/db").await.status,
        StatusCode::OK
    );
    health.set_lifecycle(Lifecycle::Working);
    assert_eq!(get(&server, "/gated/db").await.status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn the_service_endpoint_runs_everything_gated_by_working_and_maintenance() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    health.register(Check::new("alive", || async { true }).liveness());
    health.register(Check::new("db", || async { CheckResult::warn("slow") }).readiness());
    let layer = HealthLayer::new()
        .without_default_endpoints()
        .endpoint(Endpoint::new("/svc"));
    let server = server(&health, layer).await;

    assert_eq!(
        get(&server, "/svc").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    health.set_lifecycle(Lifecycle::Working);
    let reply = get(&server, "/svc").await;
    assert_eq!(reply.status, StatusCode::OK);
    let checks = reply.json()["checks"].as_object().unwrap().len();
    assert_eq!(checks, 2, "{}", reply.json());
    assert_eq!(
        *health.watch(Subject::Service.clone()).borrow(),
        Some(tower_health::Status::Warn)
    );
    health.set_maintenance(true);
    assert_eq!(get(&server, "/svc").await.status.as_u16(), 503);
    server.stop().await;
}
