//! The maintenance style (pyramid_health): plain text, maintenance file, checks on request.

use crate::common;
use crate::styles;

use std::path::PathBuf;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::Full;
use styles::{Logs, Switch};
use tower_health::{Check, CheckResult, Health, HealthLayer, preset::PyramidHealth};

use common::{Reply, TestServer, get, request};

struct Fixture {
    server: TestServer,
    health: Health,
    cache: Switch,
    db: Switch,
}

/// `db` reports `OK`; `cache` reports `OK` or `NOK` with a message, as the test says.
async fn fixture(preset: PyramidHealth) -> Fixture {
    let health = Health::new();
    let db = Switch::new(false);
    let cache = Switch::new(false);
    let ok = PyramidHealth::report("OK", None);
    health.register(db.check("db", ok.clone(), ok));
    health.register(cache.check(
        "cache",
        PyramidHealth::report("OK", Some("warm")),
        PyramidHealth::report("NOK", Some("evicting")),
    ));
    let server = styles::serve_layer(
        HealthLayer::new()
            .health(health.clone())
            .without_default_endpoints()
            .endpoints(preset),
    )
    .await;
    Fixture {
        server,
        health,
        cache,
        db,
    }
}

fn assert_plain(reply: &Reply, status: u16, body: &str) {
    assert_eq!(reply.status, status);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(reply.text(), body);
}

fn maintenance_file(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tower-health-{}-{test}", std::process::id()))
}

#[tokio::test]
async fn without_the_checks_parameter_the_checks_are_not_called() {
    let (logs, _guard) = Logs::capture();
    let f = fixture(PyramidHealth::new()).await;
    f.cache.set_failing(true);
    for path in [
        "/health",
        "/health?checks=1",
        "/health?checks=yes",
        "/health?checks=",
    ] {
        assert_plain(&get(&f.server, path).await, 200, "OK");
    }
    assert_eq!((f.db.runs(), f.cache.runs()), (0, 0));
    assert!(
        logs.lines_with("Health response").is_empty(),
        "nothing logged for OK"
    );
}

#[tokio::test]
async fn checks_true_or_all_in_any_case_run_every_check() {
    let (logs, _guard) = Logs::capture();
    let f = fixture(PyramidHealth::new()).await;
    for (n, path) in [
        "/health?checks=true",
        "/health?checks=ALL",
        "/health?checks=True",
    ]
    .into_iter()
    .enumerate()
    {
        assert_plain(&get(&f.server, path).await, 200, "OK");
        assert_eq!((f.db.runs(), f.cache.runs()), (n + 1, n + 1), "{path}");
    }
    assert!(logs.lines_with("Health response").is_empty());
}

#[tokio::test]
async fn a_report_other_than_ok_fails_and_logs_every_report() {
    let (logs, _guard) = Logs::capture();
    let f = fixture(PyramidHealth::new()).await;
    f.cache.set_failing(true);
    assert_plain(&get(&f.server, "/health?checks=all").await, 503, "ERROR");
    assert_eq!(
        logs.lines_with("Health response"),
        ["ERROR tower_health::format::plain: Health response: ERROR \
          ([{'name': 'db', 'status': 'OK', 'message': None}, \
          {'name': 'cache', 'status': 'NOK', 'message': 'evicting'}])"]
    );
    f.cache.set_failing(false);
    assert_plain(&get(&f.server, "/health?checks=all").await, 200, "OK");
}

#[tokio::test]
async fn lowercase_ok_fails_too() {
    let f = fixture(PyramidHealth::new()).await;
    f.health.register(Check::new("lower", || async {
        PyramidHealth::report("ok", None)
    }));
    assert_plain(&get(&f.server, "/health?checks=true").await, 503, "ERROR");
    // A plain failing result (no status string) reads as ERROR as well.
    f.health.deregister("lower");
    f.health
        .register(Check::new("plain", || async { CheckResult::fail("down") }));
    assert_plain(&get(&f.server, "/health?checks=true").await, 503, "ERROR");
}

#[tokio::test]
async fn the_maintenance_file_wins_and_is_looked_at_on_every_request() {
    let (logs, _guard) = Logs::capture();
    let f = fixture(PyramidHealth::new()).await;
    let file = maintenance_file("wins");
    f.health.set_maintenance_file(Some(file.clone()));
    f.cache.set_failing(true);
    assert_plain(&get(&f.server, "/health").await, 200, "OK");

    std::fs::write(&file, b"").unwrap();
    for path in ["/health", "/health?checks=all"] {
        assert_plain(&get(&f.server, path).await, 299, "MAINTENANCE");
    }
    assert_eq!((f.db.runs(), f.cache.runs()), (0, 0), "checks are not run");
    assert_eq!(
        logs.lines_with("Health response"),
        [
            " INFO tower_health::format::plain: Health response: MAINTENANCE",
            " INFO tower_health::format::plain: Health response: MAINTENANCE",
        ]
    );

    std::fs::remove_file(&file).unwrap();
    assert_plain(&get(&f.server, "/health").await, 200, "OK");
}

#[tokio::test]
async fn any_method_is_answered_and_a_form_body_counts() {
    let f = fixture(PyramidHealth::new()).await;
    f.cache.set_failing(true);
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
        assert_plain(&request(&f.server, method, "/health").await, 200, "OK");
    }
    let form = Request::post(f.server.url("/health"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(b"checks=all")))
        .unwrap();
    let reply = common::send_with(&common::http1_client(), form).await;
    assert_plain(&reply, 503, "ERROR");

    let head = request(&f.server, Method::HEAD, "/health?checks=all").await;
    assert_eq!(head.status, 503);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some("5"));
}

#[tokio::test]
async fn a_raising_check_answers_500_and_the_service_keeps_answering() {
    let f = fixture(PyramidHealth::new()).await;
    f.health.register(styles::panicking("explodes"));
    assert_eq!(get(&f.server, "/health?checks=all").await.status, 500);
    assert_plain(&get(&f.server, "/health").await, 200, "OK");
}

#[tokio::test]
async fn custom_url_and_codes() {
    let f = fixture(
        PyramidHealth::new()
            .path("/whatsup")
            .maintenance_status(http::StatusCode::from_u16(288).unwrap())
            .failure_status(http::StatusCode::INTERNAL_SERVER_ERROR),
    )
    .await;
    assert_plain(&get(&f.server, "/whatsup").await, 200, "OK");
    f.cache.set_failing(true);
    assert_plain(&get(&f.server, "/whatsup?checks=all").await, 500, "ERROR");
    f.health.set_maintenance(true);
    assert_plain(&get(&f.server, "/whatsup").await, 288, "MAINTENANCE");
    // The old url is not served.
    assert_eq!(
        get(&f.server, "/health").await.header("x-inner"),
        Some("yes")
    );
}

#[tokio::test]
async fn the_last_checks_parameter_decides_and_the_query_comes_before_the_body() {
    let f = fixture(PyramidHealth::new()).await;
    f.cache.set_failing(true);
    for (query, runs) in [
        ("checks=all&checks=1", false),
        ("checks=1&checks=all", true),
        ("checks=TRUE", true),
        ("checks=all&checks=", false),
    ] {
        let reply = get(&f.server, &format!("/health?{query}")).await;
        let (status, body) = if runs { (503, "ERROR") } else { (200, "OK") };
        assert_plain(&reply, status, body);
    }
    // A query that names `checks` decides; the form body is not read for it.
    let form = |uri: &str| {
        Request::post(f.server.url(uri))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"checks=all")))
            .unwrap()
    };
    let client = common::http1_client();
    let reply = common::send_with(&client, form("/health?checks=1")).await;
    assert_plain(&reply, 200, "OK");
    let reply = common::send_with(&client, form("/health?other=1")).await;
    assert_plain(&reply, 503, "ERROR");
}
