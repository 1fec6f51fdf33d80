//! The metrics endpoint over a real socket: the families and their values, content
//! negotiation, per-endpoint request counts, a deregistered check's series going away, and the
//! path next to a group named `metrics`.

use crate::common;

use common::{Reply, get, get_with_headers, http1_client, request, send_with, serve_hyper};
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use tower::Layer;
use tower_health::{
    Check, CheckResult, Endpoint, Exposure, ExposurePolicy, Group, Health, HealthLayer, Subject,
    authorize,
};

/// Whether the body has exactly this line.
fn has_line(reply: &Reply, line: &str) -> bool {
    reply.text().lines().any(|l| l == line)
}

fn health() -> Health {
    let health = Health::new();
    // Every answer after the first of a check reuses its result, however slow the machine.
    health.set_default_cache_ttl(std::time::Duration::from_secs(3600));
    health.register(Check::new("database", || async { true }).readiness());
    health.register(
        Check::new("queue", || async { CheckResult::warn("backlog") })
            .readiness()
            .group("jobs")
            .non_critical(),
    );
    health.register(Check::new("boom", || async { panic!("no") as bool }).group("jobs"));
    health
}

/// The default endpoints and the metrics endpoint serving `health`.
async fn metrics_server(health: &Health) -> common::TestServer {
    let layer = HealthLayer::new().health(health.clone()).metrics();
    serve_hyper(layer.layer(common::echo_service())).await
}

#[tokio::test]
async fn metrics_show_checks_groups_service_and_requests() {
    let health = health();
    let server = metrics_server(&health).await;
    assert_eq!(get(&server, "/health/ready").await.status, StatusCode::OK);
    assert_eq!(
        get(&server, "/health/jobs").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&server, "/health").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&server, "/health/ready/nope").await.status,
        StatusCode::NOT_FOUND
    );

    let reply = get(&server, "/health/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    for line in [
        r#"tower_health_check_status{check="database",group="ready"} 0"#,
        r#"tower_health_check_status{check="queue",group="ready"} 1"#,
        r#"tower_health_check_status{check="queue",group="jobs"} 1"#,
        r#"tower_health_check_status{check="boom",group="jobs"} 2"#,
        // Each check ran once: `/health` took the results cached by the group answers.
        r#"tower_health_check_runs_total{check="database",outcome="pass"} 1"#,
        r#"tower_health_check_runs_total{check="database",outcome="fail"} 0"#,
        r#"tower_health_check_runs_total{check="queue",outcome="warn"} 1"#,
        r#"tower_health_check_runs_total{check="boom",outcome="panic"} 1"#,
        r#"tower_health_check_runs_total{check="boom",outcome="fail"} 0"#,
        r#"tower_health_check_duration_seconds_count{check="boom"} 1"#,
        r#"tower_health_check_duration_seconds_bucket{check="boom",le="+Inf"} 1"#,
        r#"tower_health_group_status{group="ready"} 1"#,
        r#"tower_health_group_status{group="jobs"} 2"#,
        "tower_health_service_status 2",
        r#"tower_health_requests_total{endpoint="/health/{group}",code="200"} 1"#,
        r#"tower_health_requests_total{endpoint="/health/{group}",code="503"} 1"#,
        r#"tower_health_requests_total{endpoint="/health/{group}",code="404"} 1"#,
        r#"tower_health_requests_total{endpoint="/health",code="503"} 1"#,
    ] {
        assert!(has_line(&reply, line), "{line} in\n{}", reply.text());
    }
    // No message is a label: the series are those of names only.
    assert!(!reply.text().contains("backlog"), "{}", reply.text());
    assert!(!reply.text().contains("# EOF"));

    // The scrape counted itself; a HEAD has the headers and no body; other methods get 405.
    let again = get(&server, "/health/metrics").await;
    let scrapes = r#"tower_health_requests_total{endpoint="/health/metrics",code="200"} 1"#;
    assert!(has_line(&again, scrapes), "{}", again.text());
    let head = request(&server, Method::HEAD, "/health/metrics").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    let post = request(&server, Method::POST, "/health/metrics").await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    server.stop().await;
}

#[tokio::test]
async fn open_metrics_is_answered_when_the_scraper_prefers_it() {
    let server = serve_hyper(HealthLayer::new().metrics().layer(common::echo_service())).await;
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    for (accept, content_type) in [
        (
            prometheus,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
        ("text/plain", "text/plain; version=0.0.4; charset=utf-8"),
        (
            "garbage;;q=x,=;",
            "text/plain; version=0.0.4; charset=utf-8",
        ),
    ] {
        let request = Request::get(server.url("/health/metrics"))
            .header("accept", accept)
            .body(Full::default())
            .unwrap();
        let reply = send_with(&http1_client(), request).await;
        assert_eq!(reply.status, StatusCode::OK, "{accept}");
        assert_eq!(reply.header("content-type"), Some(content_type), "{accept}");
        let open_metrics = content_type.starts_with("application/openmetrics-text");
        assert_eq!(reply.text().ends_with("# EOF\n"), open_metrics, "{accept}");
        assert_eq!(
            reply
                .text()
                .contains("# TYPE tower_health_requests counter\n"),
            open_metrics,
            "{accept}"
        );
    }
    // A header that is not even text gets the default format.
    let request = Request::get(server.url("/health/metrics"))
        .header(
            "accept",
            http::HeaderValue::from_bytes(b"application/\xffopenmetrics-text").unwrap(),
        )
        .body(Full::default())
        .unwrap();
    let reply = send_with(&http1_client(), request).await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_deregistered_checks_series_disappear() {
    let health = health();
    let server = metrics_server(&health).await;
    get(&server, "/health/jobs").await;
    let before = get(&server, "/health/metrics").await;
    assert!(before.text().contains(r#"check="boom""#));
    assert!(health.deregister("boom"));
    let after = get(&server, "/health/metrics").await;
    assert!(
        !after.text().contains(r#"check="boom""#),
        "{}",
        after.text()
    );
    assert!(after.text().contains(r#"check="queue""#));
    server.stop().await;
}

#[tokio::test]
async fn a_group_whose_last_check_is_deregistered_leaves_the_metrics() {
    let health = health();
    health.register(Check::new("mailer", || async { false }).group("mail"));
    let server = metrics_server(&health).await;
    get(&server, "/health/mail").await;
    get(&server, "/health/ready").await;
    let group = r#"tower_health_group_status{group="mail"} 2"#;
    assert!(has_line(&get(&server, "/health/metrics").await, group));
    assert!(health.deregister("mailer"));
    let after = get(&server, "/health/metrics").await;
    assert!(
        !after.text().contains(r#"group="mail""#),
        "{}",
        after.text()
    );
    // The built-in groups stay, whatever they hold.
    assert!(
        after
            .text()
            .contains(r#"tower_health_group_status{group="ready"}"#)
    );
    server.stop().await;
}

#[tokio::test]
async fn names_in_the_metrics_follow_the_layers_exposure() {
    let health = health();
    let layer = HealthLayer::new()
        .health(health.clone())
        .exposure(
            ExposurePolicy::new(Exposure::StatusOnly)
                .when(Exposure::Names, authorize::bearer("scrape-token")),
        )
        .metrics();
    let server = serve_hyper(layer.layer(common::echo_service())).await;
    get(&server, "/health/ready").await;
    get(&server, "/health/jobs").await;
    get(&server, "/health").await;

    let anonymous = get(&server, "/health/metrics").await;
    assert_eq!(anonymous.status, StatusCode::OK);
    for name in [
        "database", "queue", "boom", "jobs", "ready", "group=", "check=",
    ] {
        assert!(
            !anonymous.text().contains(name),
            "{name}:\n{}",
            anonymous.text()
        );
    }
    assert!(
        has_line(&anonymous, "tower_health_service_status 2"),
        "{}",
        anonymous.text()
    );

    let scraper = [("authorization", "Bearer scrape-token")];
    let prometheus = get_with_headers(&server, "/health/metrics", &scraper).await;
    for line in [
        r#"tower_health_check_runs_total{check="database",outcome="pass"} 1"#,
        r#"tower_health_group_status{group="jobs"} 2"#,
    ] {
        assert!(
            has_line(&prometheus, line),
            "{line}:\n{}",
            prometheus.text()
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_metrics_path_comes_before_a_group_named_metrics() {
    let health = Health::new();
    health.register(Check::new("scraper", || async { false }).group("metrics"));
    let layer = HealthLayer::new().health(health.clone());
    let server = serve_hyper(layer.clone().metrics().layer(common::echo_service())).await;
    let metrics = get(&server, "/health/metrics").await;
    assert!(
        metrics
            .text()
            .contains("# TYPE tower_health_check_status gauge")
    );
    // The group's checks are still answered by name.
    let check = get(&server, "/health/metrics/scraper").await;
    assert_eq!(check.status, StatusCode::SERVICE_UNAVAILABLE);
    server.stop().await;

    // Without the metrics endpoint, the group is answered there; an endpoint of the
    // application's own at the path wins over the metrics endpoint.
    let server = serve_hyper(layer.clone().layer(common::echo_service())).await;
    assert_eq!(
        get(&server, "/health/metrics").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    server.stop().await;
    let own = Endpoint::new("/health/metrics").subject(Subject::group(Group::LIVE));
    let server = serve_hyper(layer.metrics().endpoint(own).layer(common::echo_service())).await;
    let reply = get(&server, "/health/metrics").await;
    assert_eq!(
        reply.header("content-type"),
        Some("application/health+json")
    );
    server.stop().await;
}

#[tokio::test]
async fn presets_count_their_own_paths() {
    let server = serve_hyper(
        HealthLayer::with_endpoints(tower_health::preset::Kubernetes::new())
            .metrics()
            .layer(common::echo_service()),
    )
    .await;
    assert_eq!(get(&server, "/livez").await.status, StatusCode::OK);
    let reply = get(&server, "/health/metrics").await;
    let livez = r#"tower_health_requests_total{endpoint="/livez",code="200"} 1"#;
    assert!(has_line(&reply, livez), "{}", reply.text());
    server.stop().await;
}
