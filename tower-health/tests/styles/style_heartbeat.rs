//! The heartbeat style (oarepo-heartbeat): readiness, liveliness and environ.

use crate::common;
use crate::styles;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::Method;
use serde_json::{Map, json};
use styles::Switch;
use tower_health::format::Environ;
use tower_health::{Check, CheckResult, Health, HealthLayer, Status, preset::OarepoHeartbeat};

use common::{Reply, TestServer, get, request};

const READINESS: &str = "/.well-known/heartbeat/readiness";
const LIVELINESS: &str = "/.well-known/heartbeat/liveliness";
const ENVIRON: &str = "/.well-known/heartbeat/environ";

async fn server(health: &Health, preset: OarepoHeartbeat) -> TestServer {
    styles::serve_layer(HealthLayer::new().health(health.clone()).endpoints(preset)).await
}

fn assert_json(reply: &Reply, status: u16, body: serde_json::Value) {
    assert_eq!(reply.status, status);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json(), body);
}

/// A heartbeat probe: `(name, ok, data)`, `ok` driven by the switch.
fn probe(name: &str, switch: &Switch, data: serde_json::Value) -> Check {
    let data = data.as_object().cloned().unwrap_or_default();
    let with_data = |status| {
        let mut result = CheckResult::new(status);
        result.data = data.clone();
        result
    };
    switch.check(name, with_data(Status::Pass), with_data(Status::Fail))
}

#[tokio::test]
async fn readiness_and_liveliness_have_their_own_probes() {
    let health = Health::new();
    let database = Switch::new(false);
    let search = Switch::new(true);
    health.register(
        probe("database", &database, json!({"time": 0.0012}))
            .readiness()
            .liveness(),
    );
    health.register(probe("search", &search, json!({"nodes": 3})).readiness());
    let server = server(&health, OarepoHeartbeat::new()).await;

    assert_json(
        &get(&server, READINESS).await,
        500,
        json!({"status": false, "checks": {
            "database": {"time": 0.0012, "status": true},
            "search": {"nodes": 3, "status": false},
        }}),
    );
    assert_json(
        &get(&server, LIVELINESS).await,
        200,
        json!({"status": true, "checks": {"database": {"time": 0.0012, "status": true}}}),
    );
    search.set_failing(false);
    assert_json(
        &get(&server, READINESS).await,
        200,
        json!({"status": true, "checks": {
            "database": {"time": 0.0012, "status": true},
            "search": {"nodes": 3, "status": true},
        }}),
    );
    database.set_failing(true);
    assert_eq!(get(&server, LIVELINESS).await.status, 500);
}

#[tokio::test]
async fn no_probes_is_ok() {
    let health = Health::new();
    let server = server(&health, OarepoHeartbeat::new()).await;
    for path in [READINESS, LIVELINESS] {
        assert_json(
            &get(&server, path).await,
            200,
            json!({"status": true, "checks": {}}),
        );
    }
}

#[tokio::test]
async fn the_boolean_overwrites_status_in_data_and_the_later_duplicate_wins() {
    let health = Health::new();
    let ok = Switch::new(false);
    let failing = Switch::new(true);
    health.register(probe("queue", &ok, json!({"status": "green", "depth": 4})));
    let server = server(&health, OarepoHeartbeat::new()).await;
    assert_json(
        &get(&server, READINESS).await,
        200,
        json!({"status": true, "checks": {"queue": {"depth": 4, "status": true}}}),
    );
    // Two probes named `dup`: the later entry is shown, the status is still the AND of all.
    health.register(probe("dup", &failing, json!({"n": 1})));
    health.register(probe("dup", &ok, json!({"n": 2})));
    assert_json(
        &get(&server, READINESS).await,
        500,
        json!({"status": false, "checks": {
            "queue": {"depth": 4, "status": true},
            "dup": {"n": 2, "status": true},
        }}),
    );
}

#[tokio::test]
async fn a_raising_probe_answers_json_500_and_the_service_keeps_answering() {
    let health = Health::new();
    health.register(styles::panicking("explodes").liveness());
    let server = server(&health, OarepoHeartbeat::new()).await;
    assert_json(
        &get(&server, LIVELINESS).await,
        500,
        json!({"status": false, "checks": {"explodes": {"status": false}}}),
    );
    assert_json(
        &get(&server, READINESS).await,
        200,
        json!({"status": true, "checks": {}}),
    );
}

#[tokio::test]
async fn any_method_exact_path_query_ignored() {
    let health = Health::new();
    health.register(probe("database", &Switch::new(false), json!({})));
    let server = server(&health, OarepoHeartbeat::new()).await;
    let expected = json!({"status": true, "checks": {"database": {"status": true}}});
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        assert_json(
            &request(&server, method, READINESS).await,
            200,
            expected.clone(),
        );
    }
    assert_json(
        &get(&server, &format!("{READINESS}?x=1")).await,
        200,
        expected,
    );
    let head = request(&server, Method::HEAD, READINESS).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    for path in [
        "/.well-known/heartbeat/readiness/",
        "/.well-known/heartbeat",
        ENVIRON,
    ] {
        assert_eq!(
            get(&server, path).await.header("x-inner"),
            Some("yes"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn environ_is_always_200_with_the_build_and_application_sections() {
    let health = Health::new();
    let healthy = Arc::new(AtomicBool::new(true));
    let flag = healthy.clone();
    let environ = Environ::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .library("postgres", "16.2")
        .section("region", json!("eu-west-1"))
        .contributor(move || {
            let ok = flag.load(Ordering::SeqCst);
            (
                ok,
                Map::from_iter([("pool".to_owned(), json!({"healthy": ok}))]),
            )
        });
    let server = server(&health, OarepoHeartbeat::new().environ(environ)).await;

    let reply = get(&server, ENVIRON).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["status"], true);
    assert_eq!(
        body["libraries"][env!("CARGO_PKG_NAME")],
        json!({"version": env!("CARGO_PKG_VERSION"), "conflicts": null})
    );
    assert_eq!(
        body["libraries"]["tower-health"],
        json!({"version": env!("CARGO_PKG_VERSION"), "conflicts": null})
    );
    assert_eq!(body["libraries"]["postgres"]["version"], "16.2");
    assert_eq!(
        body["rust"],
        json!({"arch": std::env::consts::ARCH, "os": std::env::consts::OS})
    );
    assert_eq!(body["region"], "eu-west-1");
    assert_eq!(body["pool"], json!({"healthy": true}));

    healthy.store(false, Ordering::SeqCst);
    let reply = get(&server, ENVIRON).await;
    assert_eq!(reply.status, 200, "always 200");
    assert_eq!(reply.json()["status"], false);
    assert_eq!(reply.json()["pool"], json!({"healthy": false}));
}
