//! The heartbeat style (oarepo-heartbeat): `/.well-known/heartbeat/{readiness,liveliness,environ}`.
//!
//! ```text
//! cargo run --example style_heartbeat         # PORT defaults to 3004
//! ```

#[path = "common/serve.rs"]
mod serve;

use axum::{Router, routing::get};
use serde_json::json;
use tower_health::format::Environ;
use tower_health::{Check, CheckResult, Health, HealthLayer, preset::OarepoHeartbeat};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let health = Health::new();
    health.register(
        Check::new("database", || async {
            CheckResult::pass().data("time", 0.0012)
        })
        .readiness()
        .liveness(),
    );
    health.register(Check::new("search", || async {
        CheckResult::fail("no quorum").data("nodes", 3)
    }));
    let environ = Environ::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .section("region", json!("local"));
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .layer(HealthLayer::with_endpoints(OarepoHeartbeat::new().environ(environ)).health(health));
    let paths = [
        "/.well-known/heartbeat/readiness",
        "/.well-known/heartbeat/liveliness",
        "/.well-known/heartbeat/environ",
    ];
    serve::serve(app, 3004, &paths).await
}
