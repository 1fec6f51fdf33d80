//! Lifecycle states against each probe, and maintenance mode by toggle and by file.

use crate::common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get as axum_get;
use common::{TestServer, get, serve_axum, serve_hyper};
use http::StatusCode;
use tower::Layer;
use tower_health::{Check, Group, Health, HealthLayer, Lifecycle, Status, StatusCodes, Subject};

async fn server(health: &Health) -> TestServer {
    serve_hyper(
        HealthLayer::new()
            .health(health.clone())
            .layer(common::echo_service()),
    )
    .await
}

/// The HTTP status of each default endpoint: detailed, live, ready, startup.
async fn statuses(server: &TestServer) -> [u16; 4] {
    let mut statuses = [0; 4];
    for (status, path) in statuses.iter_mut().zip([
        "/health",
        "/health/live",
        "/health/ready",
        "/health/startup",
    ]) {
        *status = get(server, path).await.status.as_u16();
    }
    statuses
}

#[tokio::test]
async fn a_bare_layer_is_live_and_ready() {
    let app = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(HealthLayer::new());
    let server = serve_axum(app).await;
    assert_eq!(statuses(&server).await, [200, 200, 200, 200]);
    assert_eq!(get(&server, "/").await.text(), "hello");
}

#[tokio::test]
async fn every_state_against_every_probe() {
    let health = Health::new();
    health.register(Check::new("db", || async { true }));
    health.register(Check::new("heart", || async { true }).liveness());
    health.register(Check::new("migrations", || async { true }).startup());
    let server = server(&health).await;
    //                                         detailed live ready startup
    assert_eq!(health.lifecycle(), Lifecycle::Unknown);
    // No state set: the gates step aside and the checks decide.
    assert_eq!(statuses(&server).await, [200, 200, 200, 200]);
    health.set_lifecycle(Lifecycle::WarmingUp);
    assert_eq!(statuses(&server).await, [503, 200, 503, 503]);
    health.set_lifecycle(Lifecycle::Working);
    assert_eq!(statuses(&server).await, [200, 200, 200, 200]);
    health.set_lifecycle(Lifecycle::ShuttingDown);
    // Startup has finished for good once working was reached.
    assert_eq!(statuses(&server).await, [503, 200, 503, 200]);
    health.set_lifecycle(Lifecycle::WarmingUp);
    assert_eq!(statuses(&server).await, [503, 200, 503, 200]);
    health.set_lifecycle(Lifecycle::Working);
    assert_eq!(statuses(&server).await, [200, 200, 200, 200]);
}

#[tokio::test]
async fn shutting_down_before_ever_working_never_starts() {
    let health = Health::new();
    let server = server(&health).await;
    health.set_lifecycle(Lifecycle::ShuttingDown);
    assert_eq!(statuses(&server).await, [503, 200, 503, 503]);
}

#[tokio::test]
async fn the_gate_says_why_readiness_fails() {
    let health = Health::new();
    health.register(Check::new("db", || async { true }));
    let server = server(&health).await;
    health.set_lifecycle(Lifecycle::WarmingUp);
    let body = get(&server, "/health/ready").await.json();
    assert_eq!(body["status"], "fail");
    assert_eq!(
        body["checks"]["db"][0]["status"], "pass",
        "checks still ran"
    );
    assert_eq!(body["notes"], serde_json::json!(["state is warming up"]));
}

/// A check that passes while its flag is set; not cached, so the next request sees a flip.
fn switched(name: &'static str, passing: bool) -> (Check, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(passing));
    let read = flag.clone();
    let check = Check::new(name, move || {
        let passing = read.load(Ordering::SeqCst);
        async move { passing }
    })
    .cache(Duration::ZERO);
    (check, flag)
}

#[tokio::test]
async fn startup_needs_working_reached_and_its_own_checks_passing() {
    let health = Health::new();
    let (check, migrated) = switched("migrations", false);
    health.register(check.startup());
    let server = server(&health).await;
    let startup = || get(&server, "/health/startup");
    assert_eq!(startup().await.status, 503);
    health.set_lifecycle(Lifecycle::Working);
    assert_eq!(startup().await.status, 503, "its check still fails");
    migrated.store(true, Ordering::SeqCst);
    assert_eq!(startup().await.status, 200);
    migrated.store(false, Ordering::SeqCst);
    health.set_lifecycle(Lifecycle::ShuttingDown);
    assert_eq!(startup().await.status, 503, "its checks keep counting");
    // Readiness does not run startup checks.
    health.set_lifecycle(Lifecycle::Working);
    assert_eq!(get(&server, "/health/ready").await.status, 200);
}

#[tokio::test]
async fn liveness_follows_its_checks_in_every_state() {
    let health = Health::new();
    let (check, alive) = switched("heart", true);
    health.register(check.liveness());
    let server = server(&health).await;
    for state in [
        Lifecycle::Unknown,
        Lifecycle::WarmingUp,
        Lifecycle::Working,
        Lifecycle::ShuttingDown,
    ] {
        health.set_lifecycle(state);
        alive.store(true, Ordering::SeqCst);
        assert_eq!(get(&server, "/health/live").await.status, 200, "{state}");
        alive.store(false, Ordering::SeqCst);
        assert_eq!(get(&server, "/health/live").await.status, 503, "{state}");
    }
}

#[tokio::test]
async fn one_check_endpoints_ignore_the_state() {
    let health = Health::new();
    health.register(Check::new("db", || async { true }));
    let server = server(&health).await;
    health.set_lifecycle(Lifecycle::WarmingUp);
    assert_eq!(get(&server, "/health/ready").await.status, 503);
    assert_eq!(get(&server, "/health/ready/db").await.status, 200);
}

#[tokio::test]
async fn the_state_set_from_another_task_counts_on_the_next_request() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    let server = server(&health).await;
    assert_eq!(get(&server, "/health/ready").await.status, 503);
    let clone = health.clone();
    tokio::spawn(async move { clone.set_lifecycle(Lifecycle::Working) })
        .await
        .unwrap();
    assert_eq!(get(&server, "/health/ready").await.status, 200);
}

/// A working handle with one readiness and one liveness check that count their runs.
fn counted() -> (Health, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    // Every request that runs checks runs them, so the counts show which requests did.
    health.set_default_cache_ttl(Duration::ZERO);
    let ready_runs = Arc::new(AtomicUsize::new(0));
    let live_runs = Arc::new(AtomicUsize::new(0));
    for (runs, name, liveness) in [(&ready_runs, "db", false), (&live_runs, "heart", true)] {
        let runs = runs.clone();
        let check = Check::new(name, move || {
            runs.fetch_add(1, Ordering::SeqCst);
            async { true }
        });
        health.register(if liveness { check.liveness() } else { check });
    }
    (health, ready_runs, live_runs)
}

#[tokio::test]
async fn maintenance_by_toggle_answers_503_without_running_checks() {
    let (health, ready_runs, live_runs) = counted();
    let server = server(&health).await;
    assert_eq!(statuses(&server).await, [200, 200, 200, 200]);
    let ready_before = ready_runs.load(Ordering::SeqCst);

    health.set_maintenance(true);
    assert!(health.in_maintenance());
    assert_eq!(statuses(&server).await, [503, 200, 503, 200]);
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, 503);
    let body = reply.json();
    assert_eq!(body["status"], "fail", "the body agrees with the code");
    assert_eq!(body["notes"], serde_json::json!(["maintenance"]));
    assert!(body.get("checks").is_none(), "{body}");
    assert_eq!(
        ready_runs.load(Ordering::SeqCst),
        ready_before,
        "no readiness check ran"
    );
    assert!(live_runs.load(Ordering::SeqCst) > 0, "liveness still runs");

    health.set_maintenance(false);
    assert_eq!(statuses(&server).await, [200, 200, 200, 200]);
    assert!(ready_runs.load(Ordering::SeqCst) > ready_before);
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "tower-health-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_file(&path);
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn maintenance_takes_the_instance_out_of_readiness_for_a_kubelet() {
    // The kubelet (and tower-health-probe) count any code from 200 to 399 as success.
    let kubelet_success = |code: StatusCode| (200..400).contains(&code.as_u16());
    let (health, _, _) = counted();
    let server = server(&health).await;
    health.set_maintenance(true);
    for path in ["/health/ready", "/health"] {
        let code = get(&server, path).await.status;
        assert!(
            !kubelet_success(code),
            "{path} answered {code} in maintenance"
        );
    }
    let live = get(&server, "/health/live").await.status;
    assert!(kubelet_success(live), "liveness is unaffected: {live}");
}

#[tokio::test]
async fn maintenance_by_file_follows_the_file_between_requests() {
    let (health, ready_runs, _) = counted();
    let file = TempFile::new("maintenance");
    health.set_maintenance_file(Some(file.0.clone()));
    let server = server(&health).await;
    assert_eq!(get(&server, "/health/ready").await.status, 200);

    std::fs::write(&file.0, b"").unwrap();
    let runs = ready_runs.load(Ordering::SeqCst);
    assert_eq!(get(&server, "/health/ready").await.status, 503);
    assert_eq!(get(&server, "/health").await.status, 503);
    assert_eq!(get(&server, "/health/live").await.status, 200);
    assert_eq!(ready_runs.load(Ordering::SeqCst), runs);

    std::fs::remove_file(&file.0).unwrap();
    assert_eq!(get(&server, "/health/ready").await.status, 200);

    std::fs::write(&file.0, b"").unwrap();
    assert_eq!(get(&server, "/health/ready").await.status, 503);
    health.set_maintenance_file(None);
    assert_eq!(get(&server, "/health/ready").await.status, 200);
}

#[tokio::test]
async fn the_maintenance_status_is_configurable() {
    let (health, _, _) = counted();
    // pyramid_health's 2xx, as an option: the body warns rather than fails.
    let mut codes = StatusCodes::default();
    codes.maintenance = StatusCode::from_u16(299).unwrap();
    let server = serve_hyper(
        HealthLayer::new()
            .health(health.clone())
            .status_codes(codes)
            .layer(common::echo_service()),
    )
    .await;
    health.set_maintenance(true);
    assert_eq!(statuses(&server).await, [299, 200, 299, 200]);
    assert_eq!(get(&server, "/health/ready").await.json()["status"], "warn");
}

#[tokio::test]
async fn maintenance_wins_over_the_state() {
    let (health, _, _) = counted();
    let server = server(&health).await;
    health.set_lifecycle(Lifecycle::WarmingUp);
    health.set_maintenance(true);
    assert_eq!(get(&server, "/health/ready").await.status, 503);
}

#[tokio::test]
async fn watchers_and_subscribers_see_probe_outcomes_change() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    let mut ready = health.watch(Subject::group(Group::READY));
    let mut changes = health.subscribe();
    let server = server(&health).await;
    assert_eq!(*ready.borrow_and_update(), None);

    get(&server, "/health/ready").await;
    assert!(ready.has_changed().unwrap());
    assert_eq!(*ready.borrow_and_update(), Some(Status::Fail));
    health.set_lifecycle(Lifecycle::Working);
    get(&server, "/health/ready").await;
    get(&server, "/health/ready").await;
    assert_eq!(*ready.borrow_and_update(), Some(Status::Pass));
    assert_eq!(
        health
            .watch(Subject::group(Group::READY).clone())
            .borrow()
            .clone(),
        Some(Status::Pass)
    );

    let first = changes.try_recv().unwrap();
    assert_eq!(first.subject, Subject::group(Group::READY));
    assert_eq!((first.old, first.new), (None, Status::Fail));
    assert_eq!(first.message.as_deref(), Some("state is warming up"));
    let second = changes.try_recv().unwrap();
    assert_eq!((second.old, second.new), (Some(Status::Fail), Status::Pass));
    assert!(
        changes.try_recv().is_err(),
        "one change, not one per request"
    );
}
