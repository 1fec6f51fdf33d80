//! The Kubernetes API server style: `/livez`, `/readyz`, `?verbose`, `?exclude=NAME`.
//!
//! ```text
//! cargo run --example style_kubernetes        # PORT defaults to 3006
//! ```

#[path = "common/serve.rs"]
mod serve;

use axum::{Router, routing::get};
use tower_health::{Check, CheckResult, Health, HealthLayer, Lifecycle, preset::Kubernetes};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let health = Health::new();
    health.register(Check::new("ping", || async {}).liveness().readiness());
    health.register(Check::new("etcd", || async {
        CheckResult::fail("dial tcp 10.0.0.7:2379: connection refused")
    }));
    health.set_lifecycle(Lifecycle::Working);
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .layer(HealthLayer::with_endpoints(Kubernetes::new()).health(health));
    let paths = [
        "/livez?verbose",
        "/readyz",
        "/readyz?verbose&exclude=etcd&exclude=kms",
        "/readyz/etcd",
    ];
    serve::serve(app, 3006, &paths).await
}
