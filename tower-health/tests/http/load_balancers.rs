//! Answers for load balancers over real sockets: the warn header Envoy reads, Consul's codes.

use crate::common;

use common::{get, serve_hyper};
use http::{HeaderName, HeaderValue, StatusCode};
use tower::Layer;
use tower_health::{Check, Endpoint, Health, HealthLayer, Lifecycle, StatusCodes};

fn degraded() -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("x-envoy-degraded"),
        HeaderValue::from_static("true"),
    )
}

#[tokio::test]
async fn warn_answers_carry_the_warn_header_and_consul_gets_429() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    let (name, value) = degraded();
    let layer = HealthLayer::new()
        .health(health.clone())
        .warn_header(name.clone(), value.clone())
        .endpoint(Endpoint::new("/consul").status_codes(StatusCodes::consul()))
        .endpoint(Endpoint::new("/envoy").warn_header(name, value));
    let server = serve_hyper(layer.layer(common::echo_service())).await;

    // Passing: no header, 200 everywhere.
    for path in ["/health/ready", "/consul", "/envoy"] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("x-envoy-degraded"), None, "{path}");
    }

    // A non-critical check failing: warn.
    health.register(Check::new("cache", || async { false }).non_critical());
    for path in ["/health", "/health/ready", "/envoy"] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("x-envoy-degraded"), Some("true"), "{path}");
    }
    let consul = get(&server, "/consul").await;
    assert_eq!(consul.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        consul.header("x-envoy-degraded"),
        Some("true"),
        "the layer's warn header reaches an endpoint that sets none of its own"
    );
    // The check's own path warns as well (non-critical wherever it is counted).
    let cache = get(&server, "/health/ready/cache").await;
    assert_eq!(cache.status, StatusCode::OK);
    assert_eq!(cache.header("x-envoy-degraded"), Some("true"));

    // A critical check failing too: fail, without the header; Consul's critical is any other code.
    health.register(Check::new("database", || async { false }));
    for path in ["/health/ready", "/envoy", "/consul"] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(reply.header("x-envoy-degraded"), None, "{path}");
    }
}
