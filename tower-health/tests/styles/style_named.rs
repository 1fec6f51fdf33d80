//! The named-check style (flask-healthz): `/healthz/NAME` as problem+json.

use crate::common;
use crate::styles;

use http::Method;
use serde_json::json;
use styles::{Logs, Switch};
use tower_health::{
    Check, CheckResult, Exposure, Health, HealthLayer, Status, preset::FlaskHealthz,
};

use common::{Reply, TestServer, get, request};

struct Fixture {
    server: TestServer,
    health: Health,
    ready: Switch,
}

/// `live` always passes; `ready` fails with "database is down" when the test says so.
async fn fixture(preset: FlaskHealthz) -> Fixture {
    let health = Health::new();
    health.register(Check::new("live", || async {}));
    let ready = Switch::new(false);
    health.register(ready.check(
        "ready",
        CheckResult::pass(),
        CheckResult::fail("database is down"),
    ));
    // flask-healthz shows messages; tower-health withholds them unless told.
    let preset = preset.exposure(Exposure::Messages);
    let server =
        styles::serve_layer(HealthLayer::new().health(health.clone()).endpoints(preset)).await;
    Fixture {
        server,
        health,
        ready,
    }
}

fn assert_problem(reply: &Reply, status: u16, title: &str) {
    assert_eq!(reply.status, status);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.json(), json!({"status": status, "title": title}));
}

#[tokio::test]
async fn a_passing_check_is_200_ok() {
    let f = fixture(FlaskHealthz::new()).await;
    assert_problem(&get(&f.server, "/healthz/live").await, 200, "OK");
    assert_problem(&get(&f.server, "/healthz/ready").await, 200, "OK");
}

#[tokio::test]
async fn a_failing_check_is_503_with_its_message() {
    let f = fixture(FlaskHealthz::new()).await;
    f.ready.set_failing(true);
    assert_problem(
        &get(&f.server, "/healthz/ready").await,
        503,
        "database is down",
    );
    assert_problem(&get(&f.server, "/healthz/live").await, 200, "OK");
    f.ready.set_failing(false);
    assert_problem(&get(&f.server, "/healthz/ready").await, 200, "OK");
    // A failure without a message has an empty title.
    f.health
        .register(Check::new("quiet", || async { Status::Fail }));
    assert_problem(&get(&f.server, "/healthz/quiet").await, 503, "");
}

#[tokio::test]
async fn unknown_unresolved_and_panicking_checks() {
    let f = fixture(FlaskHealthz::new()).await;
    assert_problem(
        &get(&f.server, "/healthz/startup").await,
        404,
        "The startup check endpoint is not setup",
    );
    f.health
        .register(Check::unresolved("db", "no such pool: orders"));
    assert_problem(
        &get(&f.server, "/healthz/db").await,
        500,
        "The db check function could not be imported",
    );
    f.health.register(styles::panicking("explodes"));
    assert_problem(
        &get(&f.server, "/healthz/explodes").await,
        500,
        "Internal Server Error",
    );
    // The service keeps answering.
    assert_problem(&get(&f.server, "/healthz/live").await, 200, "OK");
}

#[tokio::test]
async fn checks_added_or_replaced_later_are_served_at_once() {
    let f = fixture(FlaskHealthz::new()).await;
    assert_eq!(get(&f.server, "/healthz/cache").await.status, 404);
    f.health
        .register(Check::new("cache", || async { Err::<(), _>("cold") }));
    assert_problem(&get(&f.server, "/healthz/cache").await, 503, "cold");
    f.health.replace(Check::new("cache", || async {}));
    assert_problem(&get(&f.server, "/healthz/cache").await, 200, "OK");
}

#[tokio::test]
async fn methods() {
    let f = fixture(FlaskHealthz::new()).await;
    let got = get(&f.server, "/healthz/live").await;
    let head = request(&f.server, Method::HEAD, "/healthz/live").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-type"), got.header("content-type"));
    assert_eq!(
        head.header("content-length"),
        Some(got.body.len().to_string().as_str())
    );
    let post = request(&f.server, Method::POST, "/healthz/live").await;
    assert_eq!(post.status, 405);
    assert_eq!(
        styles::allow(post.header("allow")),
        ["GET", "HEAD", "OPTIONS"]
    );
    let options = request(&f.server, Method::OPTIONS, "/healthz/live").await;
    assert_eq!(options.status, 200);
    assert_eq!(
        styles::allow(options.header("allow")),
        ["GET", "HEAD", "OPTIONS"]
    );
}

#[tokio::test]
async fn the_prefix_alone_and_deeper_paths_reach_the_application() {
    let f = fixture(FlaskHealthz::new()).await;
    for path in ["/healthz", "/healthz/", "/healthz/live/"] {
        assert_eq!(
            get(&f.server, path).await.header("x-inner"),
            Some("yes"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_custom_prefix() {
    let f = fixture(FlaskHealthz::new().prefix("/status")).await;
    assert_problem(&get(&f.server, "/status/live").await, 200, "OK");
    assert_eq!(
        get(&f.server, "/healthz/live").await.header("x-inner"),
        Some("yes")
    );
}

/// The per-request log lines of health answers.
fn answers(logs: &Logs) -> Vec<String> {
    logs.lines_with("health request")
}

#[tokio::test]
async fn no_log_silences_only_200s_under_the_prefix() {
    let (logs, _guard) = Logs::capture();
    let f = fixture(FlaskHealthz::new().no_log()).await;
    f.health.register(styles::panicking("explodes"));
    get(&f.server, "/healthz/live").await;
    request(&f.server, Method::HEAD, "/healthz/live").await;
    assert_eq!(answers(&logs), Vec::<String>::new());
    f.ready.set_failing(true);
    get(&f.server, "/healthz/ready").await;
    get(&f.server, "/healthz/nope").await;
    get(&f.server, "/healthz/explodes").await;
    let logged = answers(&logs);
    assert_eq!(logged.len(), 3, "{logged:?}");
    for (line, status) in logged.iter().zip(["503", "404", "500"]) {
        assert!(line.contains(&format!("status={status}")), "{line}");
    }
}

#[tokio::test]
async fn without_no_log_everything_is_logged() {
    let (logs, _guard) = Logs::capture();
    let f = fixture(FlaskHealthz::new()).await;
    get(&f.server, "/healthz/live").await;
    f.ready.set_failing(true);
    get(&f.server, "/healthz/ready").await;
    let logged = answers(&logs);
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert!(logged[0].contains("status=200") && logged[0].contains("/healthz/live"));
}

#[tokio::test]
async fn messages_are_withheld_unless_the_application_allows_them() {
    let health = Health::new();
    health.register(Check::new("ready", || async {
        Err::<(), _>("database is down")
    }));
    let server = styles::serve_layer(
        HealthLayer::new()
            .health(health)
            .endpoints(FlaskHealthz::new()),
    )
    .await;
    assert_problem(
        &get(&server, "/healthz/ready").await,
        503,
        "Service Unavailable",
    );
}
