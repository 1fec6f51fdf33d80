//! The Kubernetes API server style: `/livez`, `/readyz` and their single-check paths.

use crate::common;
use crate::styles;

use http::Method;
use styles::{Logs, Switch};
use tower_health::{
    Check, CheckResult, Exposure, Health, HealthLayer, Lifecycle, preset::Kubernetes,
};

use common::{TestServer, get, request};

struct Fixture {
    server: TestServer,
    health: Health,
    db: Switch,
}

/// `ping` (liveness and readiness) always passes; `db` (readiness) fails when the test says so.
async fn fixture() -> Fixture {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.register(Check::new("ping", || async {}).liveness().readiness());
    let db = Switch::new(false);
    health.register(db.check(
        "db",
        CheckResult::pass(),
        CheckResult::fail("connection refused to 10.0.0.7:5432"),
    ));
    let server = styles::serve_layer(
        HealthLayer::new()
            .health(health.clone())
            // The API server shows single-check reasons; tower-health withholds them unless told.
            .endpoints(Kubernetes::new().exposure(Exposure::Messages)),
    )
    .await;
    Fixture { server, health, db }
}

fn assert_text_headers(reply: &common::Reply) {
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn success_is_ok_in_plain_text() {
    let f = fixture().await;
    for path in ["/livez", "/readyz"] {
        let reply = get(&f.server, path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_text_headers(&reply);
        assert_eq!(reply.text(), "ok");
    }
}

#[tokio::test]
async fn verbose_lists_every_check() {
    let f = fixture().await;
    let reply = get(&f.server, "/readyz?verbose").await;
    assert_eq!(reply.status, 200);
    assert_text_headers(&reply);
    assert_eq!(reply.text(), "[+]ping ok\n[+]db ok\nreadyz check passed\n");
    let reply = get(&f.server, "/livez?verbose=1").await;
    assert_eq!(reply.text(), "[+]ping ok\nlivez check passed\n");
}

#[tokio::test]
async fn exclude_skips_a_check_and_warns_about_unknown_names() {
    let f = fixture().await;
    let reply = get(&f.server, "/readyz?verbose&exclude=db").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.text(),
        "[+]ping ok\n[+]db excluded: ok\nreadyz check passed\n"
    );
    assert_eq!(f.db.runs(), 0, "an excluded check is not run");

    let reply = get(
        &f.server,
        "/readyz?verbose&exclude=db&exclude=etcd&exclude=kms",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.text(),
        "[+]ping ok\n[+]db excluded: ok\n\
         warn: some health checks cannot be excluded: no matches for \"etcd\", \"kms\"\n\
         readyz check passed\n"
    );
    // Without verbose, an unknown exclude does not change the answer.
    let reply = get(&f.server, "/readyz?exclude=etcd").await;
    assert_eq!((reply.status.as_u16(), reply.text()), (200, "ok"));
}

#[tokio::test]
async fn failure_is_always_verbose_with_the_reason_withheld_and_logged() {
    let (logs, _guard) = Logs::capture();
    let f = fixture().await;
    f.db.set_failing(true);
    for path in ["/readyz", "/readyz?verbose"] {
        let reply = get(&f.server, path).await;
        assert_eq!(reply.status, 500, "{path}");
        assert_text_headers(&reply);
        assert_eq!(
            reply.text(),
            "[+]ping ok\n[-]db failed: reason withheld\nreadyz check failed\n"
        );
    }
    let logged = logs.lines_with("connection refused to 10.0.0.7:5432");
    assert!(
        logged.iter().any(|line| line.contains("WARN")),
        "the reason is logged: {}",
        logs.text()
    );
    // Liveness does not include db.
    assert_eq!(get(&f.server, "/livez").await.status, 200);
    // Excluding the failing check makes readiness pass again.
    let reply = get(&f.server, "/readyz?exclude=db").await;
    assert_eq!((reply.status.as_u16(), reply.text()), (200, "ok"));
    // Flipping it back passes.
    f.db.set_failing(false);
    assert_eq!(get(&f.server, "/readyz").await.status, 200);
}

#[tokio::test]
async fn single_check_paths_answer_ok_or_the_error() {
    let f = fixture().await;
    let reply = get(&f.server, "/readyz/db").await;
    assert_eq!((reply.status.as_u16(), reply.text()), (200, "ok"));
    assert_text_headers(&reply);
    f.db.set_failing(true);
    let reply = get(&f.server, "/readyz/db").await;
    assert_eq!(reply.status, 500);
    assert_text_headers(&reply);
    assert_eq!(
        reply.text(),
        "internal server error: connection refused to 10.0.0.7:5432\n"
    );
    assert_eq!(get(&f.server, "/readyz/ping").await.text(), "ok");
    assert_eq!(get(&f.server, "/livez/ping").await.text(), "ok");
    // Unknown names, and checks of the other probe, are not found.
    for path in ["/readyz/etcd", "/livez/db"] {
        let reply = get(&f.server, path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.text(), "404 page not found\n");
    }
}

#[tokio::test]
async fn readiness_fails_until_the_service_is_working() {
    let f = fixture().await;
    f.health.set_lifecycle(Lifecycle::WarmingUp);
    let reply = get(&f.server, "/readyz").await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.text(),
        "[-]state failed: reason withheld\n[+]ping ok\n[+]db ok\nreadyz check failed\n"
    );
    assert_eq!(get(&f.server, "/livez").await.text(), "ok");
    f.health.set_lifecycle(Lifecycle::Working);
    f.health.set_maintenance(true);
    let reply = get(&f.server, "/readyz").await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.text(),
        "[-]maintenance failed: reason withheld\nreadyz check failed\n"
    );
    f.health.set_maintenance(false);
    assert_eq!(get(&f.server, "/readyz").await.text(), "ok");
}

#[tokio::test]
async fn a_panicking_check_fails_with_500_and_the_service_keeps_answering() {
    let f = fixture().await;
    f.health.register(styles::panicking("flaky").liveness());
    let reply = get(&f.server, "/livez").await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.text(),
        "[+]ping ok\n[-]flaky failed: reason withheld\nlivez check failed\n"
    );
    assert_eq!(get(&f.server, "/livez/flaky").await.status, 500);
    assert_eq!(get(&f.server, "/readyz").await.text(), "ok");
    assert_eq!(get(&f.server, "/livez?exclude=flaky").await.text(), "ok");
}

#[tokio::test]
async fn other_paths_and_methods() {
    let f = fixture().await;
    for path in ["/readyz/", "/livez/a/b", "/healthz"] {
        let reply = get(&f.server, path).await;
        assert_eq!(reply.header("x-inner"), Some("yes"), "{path}");
    }
    let reply = request(&f.server, Method::HEAD, "/readyz?verbose").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-length"),
        Some("readyz check passed\n".len() + "[+]ping ok\n[+]db ok\n".len())
            .map(|n| n.to_string())
            .as_deref()
    );
    assert!(reply.body.is_empty());
    assert_eq!(request(&f.server, Method::POST, "/livez").await.status, 405);
}

#[tokio::test]
async fn single_check_reasons_are_withheld_unless_the_application_allows_them() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.register(
        Check::new("db", || async {
            Err::<(), _>("connection refused to 10.0.0.7:5432")
        })
        .readiness(),
    );
    let server = styles::serve_layer(
        HealthLayer::new()
            .health(health)
            .endpoints(Kubernetes::new()),
    )
    .await;
    let reply = get(&server, "/readyz/db").await;
    assert_eq!(reply.status, 500);
    assert!(!reply.text().contains("10.0.0.7"), "{}", reply.text());
}
