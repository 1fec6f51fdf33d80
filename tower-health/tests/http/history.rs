//! The history endpoints over a real socket: the ring and its counts as a check flips, what each
//! exposure level shows, one check's path, and that reading runs nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tower::Layer;
use tower_health::{
    Check, CheckResult, Exposure, ExposurePolicy, Health, HealthLayer, Lifecycle, authorize,
};

use crate::common::{self, get, get_with_headers, serve_hyper};

const SECRET: &str = "10.0.0.7:5432 refused for user billing";

/// A working handle keeping `len` results, with `db` failing while `down` is set, counting its
/// runs, never cached.
fn flipping(len: usize) -> (Health, Arc<AtomicBool>, Arc<AtomicUsize>) {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.keep_history(len);
    let down = Arc::new(AtomicBool::new(false));
    let runs = Arc::new(AtomicUsize::new(0));
    let (flag, counted) = (down.clone(), runs.clone());
    health.register(
        Check::new("db", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let down = flag.load(Ordering::SeqCst);
            async move {
                if down {
                    CheckResult::fail(SECRET)
                } else {
                    CheckResult::pass()
                }
            }
        })
        .cache(Duration::ZERO),
    );
    (health, down, runs)
}

fn operator() -> ExposurePolicy {
    ExposurePolicy::new(Exposure::StatusOnly)
        .when(Exposure::Names, authorize::bearer("names-token"))
        .when(Exposure::Messages, authorize::bearer("operator-token"))
}

#[tokio::test]
async fn the_history_keeps_the_last_results_and_counts_the_flips() {
    let (health, down, runs) = flipping(4);
    let layer = HealthLayer::new().health(health).history();
    let server = serve_hyper(layer.layer(common::echo_service())).await;
    // pass, pass, fail, fail, pass, fail: three status changes, six runs, four kept.
    for fail in [false, false, true, true, false, true] {
        down.store(fail, Ordering::SeqCst);
        get(&server, "/health/ready").await;
    }
    let ran = runs.load(Ordering::SeqCst);
    let reply = get(&server, "/health/history").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(
        body["status"], "fail",
        "the aggregate of the latest results"
    );
    let db = &body["checks"][0];
    assert_eq!(db["name"], "db");
    assert_eq!(db["runs"], 6);
    assert_eq!(db["transitions"], 3);
    assert_eq!(db["status"], "fail");
    let statuses: Vec<&str> = db["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["fail", "fail", "pass", "fail"]);
    assert_eq!(db["lastFailure"], db["results"][3]["time"]);
    assert_eq!(db["lastPass"], db["results"][2]["time"]);
    assert_eq!(db["since"], db["results"][3]["time"]);
    assert!(db["secondsInStatus"].as_f64().unwrap() >= 0.0);
    // Names by default: no message anywhere.
    assert!(!reply.text().contains("refused"), "{}", reply.text());
    // Reading the history ran no check.
    get(&server, "/health/history/db").await;
    assert_eq!(runs.load(Ordering::SeqCst), ran);
    server.stop().await;
}

#[tokio::test]
async fn what_the_history_shows_follows_the_layers_exposure() {
    let (health, down, _) = flipping(60);
    down.store(true, Ordering::SeqCst);
    let layer = HealthLayer::new()
        .health(health)
        .exposure(operator())
        .history();
    let server = serve_hyper(layer.layer(common::echo_service())).await;
    get(&server, "/health/ready").await;

    let anonymous = get(&server, "/health/history").await;
    assert_eq!(anonymous.json(), serde_json::json!({"status": "fail"}));
    let one = get(&server, "/health/history/db").await;
    assert_eq!(one.json(), serde_json::json!({"status": "fail"}));

    let names = get_with_headers(
        &server,
        "/health/history",
        &[("authorization", "Bearer names-token")],
    )
    .await;
    assert_eq!(names.json()["checks"][0]["name"], "db");
    assert!(!names.text().contains("refused"), "{}", names.text());

    let operator = get_with_headers(
        &server,
        "/health/history/db",
        &[("authorization", "Bearer operator-token")],
    )
    .await;
    let db = &operator.json()["checks"][0];
    assert_eq!(db["results"][0]["message"], SECRET);
    assert_eq!(db["lastFailureMessage"], SECRET);
    server.stop().await;
}

#[tokio::test]
async fn a_name_with_no_check_is_not_found_and_history_is_opt_in() {
    let (health, _, _) = flipping(60);
    let with = serve_hyper(
        HealthLayer::new()
            .health(health.clone())
            .history()
            .layer(common::echo_service()),
    )
    .await;
    let missing = get(&with, "/health/history/nothing-of-that-name").await;
    assert_eq!(missing.status, 404);
    assert!(missing.header("x-inner").is_none(), "answered by the layer");
    with.stop().await;

    let without = serve_hyper(
        HealthLayer::new()
            .health(health)
            .layer(common::echo_service()),
    )
    .await;
    let reply = get(&without, "/health/history").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("x-inner"),
        Some("yes"),
        "not a health path without history()"
    );
    without.stop().await;
}
