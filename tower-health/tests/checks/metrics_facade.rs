//! With the feature `metrics`, the figures recorded through the `metrics` facade, read back from
//! `metrics-exporter-prometheus`'s own rendering.

use std::convert::Infallible;

use http::{Request, Response, StatusCode};
use metrics_exporter_prometheus::PrometheusBuilder;
use tower::{Layer, ServiceExt};
use tower_health::{Check, CheckResult, Health, HealthLayer};

#[test]
fn the_figures_reach_the_applications_recorder() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    // A current-thread runtime: the spawned runs record on this thread, into the local recorder.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let health = Health::new();
            health.register(Check::new("database", || async { true }).readiness());
            health.register(
                Check::new("queue", || async { CheckResult::warn("backlog") })
                    .group("jobs")
                    .non_critical(),
            );
            // No metrics endpoint: the facade alone is the way out.
            let service = HealthLayer::new().health(health).layer(tower::service_fn(
                |_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) },
            ));
            for path in ["/health/ready", "/health/jobs", "/health/metrics"] {
                let request = Request::get(path).body(String::new()).unwrap();
                let response = service.clone().oneshot(request).await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{path}");
            }
        })
    });
    let text = handle.render();
    for line in [
        r#"tower_health_check_runs_total{check="database",outcome="pass"} 1"#,
        r#"tower_health_check_runs_total{check="queue",outcome="warn"} 1"#,
        r#"tower_health_check_status{check="database",group="ready"} 0"#,
        r#"tower_health_check_status{check="queue",group="jobs"} 1"#,
        r#"tower_health_check_duration_seconds_count{check="database"} 1"#,
        r#"tower_health_group_status{group="ready"} 0"#,
        r#"tower_health_group_status{group="jobs"} 1"#,
        r#"tower_health_requests_total{endpoint="/health/{group}",code="200"} 2"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    // `/health/metrics` without `metrics()` is not a health path here: the application answered.
    assert!(!text.contains("/health/metrics"), "{text}");
}
