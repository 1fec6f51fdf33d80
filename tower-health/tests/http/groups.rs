//! Groups over real sockets: every group at `/health/{group}`, each of its checks at
//! `/health/{group}/{check}`, a group at a path of its own, declared gates, and the change
//! events of a group.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::StatusCode;
use tower::Layer;
use tower_health::{
    Check, CheckResult, Endpoint, Exposure, Gate, Group, Health, HealthLayer, Lifecycle, Status,
    Subject,
};

use crate::common::{self, TestServer, get, serve_hyper};

/// `postgres` (in `ready` and `database`, switchable) and `cache` (in `database`,
/// non-critical, warning).
fn registry() -> (Health, Arc<AtomicBool>) {
    let health = Health::new();
    let up = Arc::new(AtomicBool::new(true));
    let flag = up.clone();
    health.register(
        Check::new("postgres", move || {
            let up = flag.load(Ordering::SeqCst);
            async move {
                if up {
                    Ok(())
                } else {
                    Err("connection refused")
                }
            }
        })
        .readiness()
        .group("database")
        .cache(Duration::ZERO),
    );
    health.register(
        Check::new("cache", || async { CheckResult::warn("evicting") })
            .group("database")
            .non_critical(),
    );
    (health, up)
}

async fn server(layer: HealthLayer) -> TestServer {
    serve_hyper(layer.layer(common::echo_service())).await
}

fn names(body: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = body["checks"]
        .as_object()
        .map(|checks| checks.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn every_group_has_a_path_and_so_does_each_of_its_checks() {
    let (health, up) = registry();
    let server = server(HealthLayer::new().health(health)).await;

    let database = get(&server, "/health/database").await;
    assert_eq!(database.status, StatusCode::OK);
    assert_eq!(database.json()["status"], "warn");
    assert_eq!(names(&database.json()), ["cache", "postgres"]);
    let ready = get(&server, "/health/ready").await;
    assert_eq!(names(&ready.json()), ["postgres"]);

    let one = get(&server, "/health/database/postgres").await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(names(&one.json()), ["postgres"]);
    assert_eq!(
        get(&server, "/health/database/nope").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&server, "/health/ready/cache").await.status,
        StatusCode::NOT_FOUND,
        "cache is not in the ready group"
    );

    up.store(false, Ordering::SeqCst);
    assert_eq!(
        get(&server, "/health/database").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&server, "/health/database/cache").await.status,
        StatusCode::OK,
        "a warning check on its own still passes"
    );
    server.stop().await;
}

#[tokio::test]
async fn paths_of_groups_that_do_not_exist_reach_the_application() {
    let (health, _) = registry();
    let server = server(HealthLayer::new().health(health.clone())).await;
    for path in [
        "/health/payments",
        "/health/payments/ledger",
        "/health/%72eady",
    ] {
        let reply = get(&server, path).await;
        assert_eq!(reply.header("x-inner"), Some("yes"), "{path}");
    }
    // A group comes to exist when a check joins it, or when it is declared.
    health.register(Check::new("ledger", || async { true }).group("payments"));
    let reply = get(&server, "/health/payments/ledger").await;
    assert_eq!(reply.header("x-inner"), None);
    assert_eq!(reply.status, StatusCode::OK);
    health.add_group(Group::new("empty"));
    let empty = get(&server, "/health/empty").await;
    assert_eq!(
        (empty.status, empty.json()["status"].clone()),
        (StatusCode::OK, "pass".into())
    );
    assert!(health.deregister("ledger"));
    assert_eq!(
        get(&server, "/health/payments").await.header("x-inner"),
        Some("yes")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_group_gets_the_gate_it_is_declared_with() {
    let (health, _) = registry();
    let server = server(HealthLayer::new().health(health.clone())).await;
    health.set_lifecycle(Lifecycle::WarmingUp);
    assert_eq!(
        get(&server, "/health/ready").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&server, "/health/database").await.status,
        StatusCode::OK,
        "an undeclared group is ungated"
    );
    health.add_group(Group::new("database").gate(Gate::Ready).maintenance(true));
    assert_eq!(
        get(&server, "/health/database").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&server, "/health/database/postgres").await.status,
        StatusCode::OK,
        "one check of a group is ungated"
    );
    health.set_lifecycle(Lifecycle::Working);
    health.set_maintenance(true);
    assert_eq!(get(&server, "/health/database").await.status.as_u16(), 503);
    assert_eq!(get(&server, "/health/live").await.status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn a_group_at_a_path_of_its_own_with_its_own_policy() {
    let (health, up) = registry();
    up.store(false, Ordering::SeqCst);
    let layer = HealthLayer::new().health(health).endpoint(
        Endpoint::new("/dbz")
            .subject(Subject::group("database"))
            .exposure(Exposure::Messages)
            .format(|answer: &tower_health::format::Answer<'_>| {
                tower_health::format::Rendered::new(
                    answer.status_code,
                    "text/plain",
                    answer.status.as_str().to_owned(),
                )
            }),
    );
    let server = server(layer).await;
    let own = get(&server, "/dbz").await;
    assert_eq!(own.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(own.text(), "fail");
    // The default path of the group keeps the layer's format and its withheld messages.
    let default = get(&server, "/health/database").await;
    assert_eq!(default.json()["checks"]["postgres"][0].get("output"), None);
    server.stop().await;
}

#[tokio::test]
async fn a_group_publishes_its_changes() {
    let (health, up) = registry();
    let server = server(HealthLayer::new().health(health.clone())).await;
    let mut changes = common::subscribe_to(&health, Subject::group("database"));
    let watch = health.watch(Subject::group("database"));

    get(&server, "/health/database").await;
    let first = common::within(changes.recv()).await.unwrap();
    assert_eq!((first.old, first.new), (None, Status::Warn));
    up.store(false, Ordering::SeqCst);
    get(&server, "/health/database").await;
    let failed = common::within(changes.recv()).await.unwrap();
    assert_eq!((failed.old, failed.new), (Some(Status::Warn), Status::Fail));
    assert_eq!(failed.message.as_deref(), Some("postgres, cache"));
    assert_eq!(*watch.borrow(), Some(Status::Fail));
    // One check's path is a part of the group: it records nothing for the group.
    up.store(true, Ordering::SeqCst);
    get(&server, "/health/database/postgres").await;
    assert_eq!(*watch.borrow(), Some(Status::Fail));
    server.stop().await;
}
