//! Each preset's one-liner, `HealthLayer::with_endpoints(preset)`, intercepts exactly the paths
//! its package serves: every other path, `/health/ready` included, reaches the application.

use tower_health::{HealthLayer, preset};

use crate::common::{TestServer, get};
use crate::styles;

/// Paths some package or the default endpoints answer.
const PATHS: [&str; 13] = [
    "/health",
    "/health/live",
    "/health/ready",
    "/health/startup",
    "/health/ready/db",
    "/livez",
    "/readyz",
    "/livez/db",
    "/healthz/db",
    "/healthz",
    "/.well-known/heartbeat/readiness",
    "/.well-known/heartbeat/liveliness",
    "/.well-known/heartbeat/environ",
];

/// The paths of `PATHS` the layer behind `server` answers itself.
async fn intercepted(server: &TestServer) -> Vec<&'static str> {
    let mut answered = Vec::new();
    for path in PATHS {
        if get(server, path).await.header("x-inner").is_none() {
            answered.push(path);
        }
    }
    answered
}

async fn answered_by(layer: HealthLayer) -> Vec<&'static str> {
    let server = styles::serve_layer(layer).await;
    let answered = intercepted(&server).await;
    server.stop().await;
    answered
}

#[tokio::test]
async fn each_one_liner_answers_exactly_its_packages_paths() {
    let environ =
        tower_health::format::Environ::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    let cases: Vec<(HealthLayer, Vec<&str>)> = vec![
        (
            HealthLayer::with_endpoints(preset::Kubernetes::new()),
            vec!["/livez", "/readyz", "/livez/db"],
        ),
        (
            HealthLayer::with_endpoints(preset::Py12fCommon::new("orders")),
            vec!["/health"],
        ),
        (
            HealthLayer::with_endpoints(preset::PyramidHealth::new()),
            vec!["/health"],
        ),
        (
            HealthLayer::with_endpoints(preset::OarepoHeartbeat::new().environ(environ)),
            vec![
                "/.well-known/heartbeat/readiness",
                "/.well-known/heartbeat/liveliness",
                "/.well-known/heartbeat/environ",
            ],
        ),
        (
            HealthLayer::with_endpoints(preset::OarepoHeartbeat::new()),
            vec![
                "/.well-known/heartbeat/readiness",
                "/.well-known/heartbeat/liveliness",
            ],
        ),
        (
            HealthLayer::with_endpoints(preset::FlaskHealthz::new()),
            vec!["/healthz/db"],
        ),
        (
            HealthLayer::new(),
            vec![
                "/health",
                "/health/live",
                "/health/ready",
                "/health/startup",
                "/health/ready/db",
            ],
        ),
    ];
    for (layer, expected) in cases {
        let debug = format!("{layer:?}");
        assert_eq!(answered_by(layer).await, expected, "{debug}");
    }
}
