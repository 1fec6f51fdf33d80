//! Named paths: the prefix is matched byte for byte, the check name is percent-decoded, and an
//! empty prefix is refused at configuration time.

use crate::common;

use common::{get, serve_hyper};
use http::StatusCode;
use tower::Layer;
use tower_health::{Check, CheckResult, Health, HealthLayer, Lifecycle, preset};

#[tokio::test]
async fn the_name_segment_is_percent_decoded_and_the_prefix_is_not() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.register(Check::new("my db", || async { CheckResult::fail("down") }).readiness());
    health.register(Check::new("café", || async { true }));
    let layer = HealthLayer::new()
        .health(health)
        .endpoints(preset::FlaskHealthz::new());
    let server = serve_hyper(layer.layer(common::echo_service())).await;

    for (target, status) in [
        ("/health/ready/my%20db", StatusCode::SERVICE_UNAVAILABLE),
        ("/healthz/my%20db", StatusCode::SERVICE_UNAVAILABLE),
        ("/healthz/caf%C3%A9", StatusCode::OK),
        ("/healthz/caf%c3%a9", StatusCode::OK),
        // Not UTF-8 once decoded, an invalid escape, the raw escape text: unknown names.
        ("/healthz/caf%C3", StatusCode::NOT_FOUND),
        ("/healthz/%FF", StatusCode::NOT_FOUND),
        ("/healthz/my%2", StatusCode::NOT_FOUND),
        ("/health/ready/nope%20db", StatusCode::NOT_FOUND),
    ] {
        let reply = get(&server, target).await;
        assert_eq!(reply.status, status, "{target}: {}", reply.text());
        assert!(
            !reply.text().starts_with("GET "),
            "{target} reached the inner service"
        );
    }
    // The prefix is not decoded: this goes to the inner service.
    let reply = get(&server, "/health%7Aready/my%20db").await;
    assert!(
        reply.text().starts_with("GET /health%7Aready/my%20db"),
        "{}",
        reply.text()
    );
    server.stop().await;
}

#[test]
#[should_panic(expected = "needs a prefix")]
fn a_named_endpoint_without_a_prefix_is_refused() {
    let _ = tower_health::Endpoint::new("/").per_check();
}

#[test]
#[should_panic(expected = "must not be empty")]
fn an_empty_layer_prefix_is_refused() {
    let _ = HealthLayer::new().prefix("/");
}
