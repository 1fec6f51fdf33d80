mod common;

use common::{TestServer, get, serve_hyper};
use tower::ServiceBuilder;
use tower_health::HealthLayer;

async fn server() -> TestServer {
    serve_hyper(
        ServiceBuilder::new()
            .layer(HealthLayer::new())
            .service(common::echo_service()),
    )
    .await
}

#[tokio::test]
async fn default_layer_answers_probes_and_passes_the_rest() {
    let server = server().await;
    let ready = get(&server, "/health/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["status"], "pass");
    assert_eq!(
        ready.header("content-type"),
        Some("application/health+json")
    );
    let other = get(&server, "/health/?x=1").await;
    assert_eq!(other.header("x-inner"), Some("yes"));
    assert_eq!(other.text(), "GET /health/?x=1 HTTP/1.1 ");
}
