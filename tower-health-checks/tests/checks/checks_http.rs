//! The HTTP and upstream health checks against real listeners on 127.0.0.1.

#![cfg(feature = "http")]

use crate::checks;

use std::time::Duration;

use checks::{closed_port, message, run};
use tower_health::{RunEnd, Status};

const SHORT: Duration = Duration::from_millis(300);

mod http {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU16, Ordering};

    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tower_health_checks::Http;

    use super::*;
    use crate::checks::{Server, rendered, silent_listener};
    use crate::common::serve_axum;

    /// A server answering `/status` with the status held in the returned cell, and `/slow`
    /// after a pause.
    async fn upstream() -> (Server, Arc<AtomicU16>) {
        let status = Arc::new(AtomicU16::new(200));
        let answer = status.clone();
        let router = Router::new()
            .route(
                "/status",
                get(move || {
                    let code = answer.load(Ordering::SeqCst);
                    async move { StatusCode::from_u16(code).unwrap() }
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    "slow"
                }),
            );
        (serve_axum(router).await, status)
    }

    #[tokio::test]
    async fn passes_on_2xx_and_fails_on_500_with_the_status() {
        let (server, status) = upstream().await;
        let check = Http::new(&server.url("/status")).into_check("upstream");
        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("component"));
        assert_eq!(report.result.observed_unit.as_deref(), Some("ms"));
        assert_eq!(report.result.data["statusCode"], 200);

        status.store(204, Ordering::SeqCst);
        assert_eq!(run(check.clone()).await.status(), Status::Pass);

        status.store(500, Ordering::SeqCst);
        let report = run(check).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(
            message(&report),
            format!(
                "GET {} answered 500 Internal Server Error",
                server.url("/status")
            )
        );
    }

    #[tokio::test]
    async fn passes_only_on_the_chosen_statuses() {
        let (server, status) = upstream().await;
        let check = Http::new(&server.url("/status"))
            .pass_statuses([200, 404])
            .into_check("upstream");
        status.store(404, Ordering::SeqCst);
        assert_eq!(run(check.clone()).await.status(), Status::Pass);
        status.store(204, Ordering::SeqCst);
        let report = run(check).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(message(&report).ends_with("answered 204 No Content"));
    }

    #[tokio::test]
    async fn warns_above_the_latency_threshold() {
        let (server, _) = upstream().await;
        // The route sleeps 50 ms, so it cannot answer within 1 ms.
        let report = run(Http::new(&server.url("/slow"))
            .warn_above(Duration::from_millis(1))
            .into_check("upstream"))
        .await;
        assert_eq!(report.status(), Status::Warn, "{report:?}");
        assert!(message(&report).contains("above the warn threshold of 1ms"));
        let observed = report
            .result
            .observed_value
            .as_ref()
            .unwrap()
            .as_f64()
            .unwrap();
        assert!(observed >= 50.0, "{observed}");
    }

    #[tokio::test]
    async fn fails_when_nothing_listens_and_on_a_bad_url() {
        let addr = closed_port().await;
        let report = run(Http::new(&format!("http://{addr}/")).into_check("upstream")).await;
        assert_eq!(report.status(), Status::Fail);
        let message = message(&report);
        assert!(
            message.starts_with(&format!("GET http://{addr}/ failed: ")),
            "{message}"
        );
        assert!(message.contains("refused"), "{message}");

        let report = run(Http::new("http://bad host/").into_check("upstream")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(crate::checks::message(&report).starts_with("invalid URL"));
    }

    #[tokio::test]
    async fn times_out_when_the_server_never_answers() {
        let silent = silent_listener().await;
        let report = run(Http::new(&format!("http://{}/", silent.addr))
            .into_check("upstream")
            .timeout(SHORT))
        .await;
        assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
        assert_eq!(report.status(), Status::Fail);
    }

    #[tokio::test]
    async fn never_shows_the_credentials_in_the_url() {
        let (server, status) = upstream().await;
        status.store(500, Ordering::SeqCst);
        let url = format!("http://admin:hunter2@{}/status", server.addr);
        let report = run(Http::new(&url).into_check("upstream")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(!message(&report).contains("hunter2"));
        assert!(!message(&report).contains("admin"));
        assert!(message(&report).contains(&server.url("/status")));

        let closed = closed_port().await;
        let url = format!("http://admin:hunter2@{closed}/");
        let report = run(Http::new(&url).into_check("upstream")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(
            !message(&report).contains("hunter2"),
            "{}",
            message(&report)
        );

        let body = rendered(Http::new(&url).into_check("upstream")).await;
        let entry = &body["checks"]["upstream"][0];
        assert_eq!(entry["componentType"], "component");
        assert!(entry["output"].as_str().unwrap().contains("failed"));
        assert!(!body.to_string().contains("hunter2"), "{body}");
    }

    #[tokio::test]
    async fn never_shows_query_tokens_in_the_url() {
        let (server, status) = upstream().await;
        status.store(500, Ordering::SeqCst);
        let url = format!("http://admin:hunter2@{}/status?token=t0k3n#x", server.addr);
        let report = run(Http::new(&url).into_check("upstream")).await;
        assert_eq!(report.status(), Status::Fail);
        let shown = message(&report);
        for secret in ["hunter2", "admin", "t0k3n", "token"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains(&server.url("/status")), "{shown}");

        let closed = closed_port().await;
        let url = format!("http://admin:hunter2@{closed}/?token=t0k3n");
        let body = rendered(Http::new(&url).into_check("upstream")).await;
        assert!(!body.to_string().contains("t0k3n"), "{body}");
        assert!(!body.to_string().contains("hunter2"), "{body}");
    }
}

#[cfg(feature = "upstream")]
mod upstream {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU8, Ordering};

    use axum::Router;
    use axum::routing::get;
    use tower_health::{Check, CheckResult, Exposure, Health, HealthLayer, Lifecycle};
    use tower_health_checks::Upstream;

    use super::*;
    use crate::checks::{Server, rendered, silent_listener};
    use crate::common::serve_axum;

    /// A real tower-health service whose one check reports the status held in the cell
    /// (0 pass, 1 warn, 2 fail), with details shown or not.
    async fn tower_health_service(details: Exposure) -> (Server, Arc<AtomicU8>) {
        let status = Arc::new(AtomicU8::new(0));
        let reported = status.clone();
        let health = Health::new();
        // The tests flip the remote check between probes: the remote must run it each time.
        health.set_default_cache_ttl(Duration::ZERO);
        health.register(Check::new("orders-db", move || {
            let status = reported.load(Ordering::SeqCst);
            async move {
                match status {
                    0 => CheckResult::pass(),
                    1 => CheckResult::warn("replica lag"),
                    _ => CheckResult::fail("password=letmein rejected"),
                }
            }
        }));
        health.set_lifecycle(Lifecycle::Working);
        let router = Router::new()
            .route("/", get(|| async { "app" }))
            .layer(HealthLayer::new().health(health).exposure(details));
        (serve_axum(router).await, status)
    }

    #[tokio::test]
    async fn maps_the_remote_status_rather_than_the_http_code() {
        let (server, status) = tower_health_service(Exposure::Messages).await;
        let check = Upstream::new(&server.url("/health")).into_check("orders");

        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("component"));
        assert_eq!(report.result.observed_unit.as_deref(), Some("ms"));

        // 200 with status warn: warns.
        status.store(1, Ordering::SeqCst);
        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Warn, "{report:?}");
        assert_eq!(report.result.data["statusCode"], 200);
        assert_eq!(
            message(&report),
            format!("{} reports warn (200 OK): orders-db", server.url("/health"))
        );

        // 503 with status fail: fails with the remote output.
        status.store(2, Ordering::SeqCst);
        let report = run(check).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.result.data["statusCode"], 503);
        assert_eq!(
            message(&report),
            format!(
                "{} reports fail (503 Service Unavailable): orders-db",
                server.url("/health")
            )
        );
    }

    #[tokio::test]
    async fn fails_without_output_when_the_remote_hides_details() {
        let (server, status) = tower_health_service(Exposure::Names).await;
        status.store(2, Ordering::SeqCst);
        let report = run(Upstream::new(&server.url("/health/ready")).into_check("orders")).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(
            message(&report),
            format!(
                "{} reports fail (503 Service Unavailable)",
                server.url("/health/ready")
            )
        );
    }

    #[tokio::test]
    async fn falls_back_to_the_http_code_without_a_health_body() {
        let server = serve_axum(
            Router::new()
                .route("/plain", get(|| async { "fine" }))
                .route(
                    "/broken",
                    get(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "oops") }),
                )
                .route("/odd", get(|| async { r#"{"status":"sideways"}"# })),
        )
        .await;
        let report = run(Upstream::new(&server.url("/plain")).into_check("up")).await;
        assert_eq!(report.status(), Status::Pass);
        let report = run(Upstream::new(&server.url("/broken")).into_check("up")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(
            message(&report)
                .ends_with("answered 500 Internal Server Error without a health status")
        );
        let report = run(Upstream::new(&server.url("/odd")).into_check("up")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(message(&report).contains("unknown status \"sideways\""));
    }

    #[tokio::test]
    async fn fails_when_nothing_listens_and_times_out_when_nothing_answers() {
        let addr = closed_port().await;
        let report = run(Upstream::new(&format!("http://{addr}/health")).into_check("up")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(message(&report).contains("refused"), "{}", message(&report));

        let silent = silent_listener().await;
        let report = run(Upstream::new(&format!("http://{}/health", silent.addr))
            .into_check("up")
            .timeout(SHORT))
        .await;
        assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
    }

    #[tokio::test]
    async fn never_shows_the_credentials_in_the_url() {
        let (server, status) = tower_health_service(Exposure::Messages).await;
        status.store(2, Ordering::SeqCst);
        let url = format!("http://probe:s3cr3t@{}/health", server.addr);
        let report = run(Upstream::new(&url).into_check("orders")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(!message(&report).contains("s3cr3t"), "{}", message(&report));
        let body = rendered(Upstream::new(&url).into_check("orders")).await;
        assert!(!body.to_string().contains("s3cr3t"), "{body}");
        assert!(
            body["checks"]["orders"][0]["output"]
                .as_str()
                .unwrap()
                .contains("reports fail")
        );
    }
}
