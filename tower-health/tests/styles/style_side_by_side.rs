//! Several styles on one layer, next to the default endpoints, over axum.

use crate::common;

use axum::{Router, routing::get as route_get};
use serde_json::json;
use tower_health::{Check, CheckResult, Exposure, Health, HealthLayer, Lifecycle, preset};

use common::{get, serve_axum};

#[tokio::test]
async fn kubernetes_heartbeat_named_and_default_paths_side_by_side() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.register(
        Check::new("database", || async {
            CheckResult::pass().data("time", 0.5)
        })
        .readiness()
        .liveness(),
    );
    health.register(Check::new("search", || async { Err::<(), _>("no nodes") }));
    let app = Router::new()
        .route("/", route_get(|| async { "app" }))
        .layer(
            HealthLayer::new()
                .health(health.clone())
                .endpoints(preset::Kubernetes::new())
                .endpoints(preset::OarepoHeartbeat::new())
                .endpoints(preset::FlaskHealthz::new().exposure(Exposure::Messages)),
        );
    let server = serve_axum(app).await;

    // Kubernetes.
    let livez = get(&server, "/livez?verbose").await;
    assert_eq!(livez.status, 200);
    assert_eq!(livez.text(), "[+]database ok\nlivez check passed\n");
    let readyz = get(&server, "/readyz").await;
    assert_eq!(readyz.status, 500);
    assert_eq!(
        readyz.text(),
        "[+]database ok\n[-]search failed: reason withheld\nreadyz check failed\n"
    );
    // Heartbeat.
    let liveliness = get(&server, "/.well-known/heartbeat/liveliness").await;
    assert_eq!(liveliness.status, 200);
    assert_eq!(
        liveliness.json(),
        json!({"status": true, "checks": {"database": {"time": 0.5, "status": true}}})
    );
    assert_eq!(
        get(&server, "/.well-known/heartbeat/readiness")
            .await
            .status,
        500
    );
    // Named.
    let named = get(&server, "/healthz/search").await;
    assert_eq!(named.json(), json!({"status": 503, "title": "no nodes"}));
    // The defaults.
    let ready = get(&server, "/health/ready").await;
    assert_eq!(ready.status, 503);
    assert_eq!(
        ready.header("content-type"),
        Some("application/health+json")
    );
    assert_eq!(get(&server, "/health/live").await.status, 200);
    // And the application.
    assert_eq!(get(&server, "/").await.text(), "app");
}

#[tokio::test]
async fn a_preset_at_a_default_path_replaces_the_default_endpoint() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    let app = Router::new().layer(
        HealthLayer::new()
            .health(health.clone())
            .endpoints(preset::Py12fCommon::new("orders")),
    );
    let server = serve_axum(app).await;
    let reply = get(&server, "/health").await;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.json()["serviceId"], "get-health");
    // The other default paths stay.
    assert_eq!(get(&server, "/health/ready").await.status, 503);
}
