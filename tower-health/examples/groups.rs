//! Groups: checks in groups named by the application, next to the built-in `live`, `ready` and
//! `startup`.
//!
//! ```text
//! cargo run --example groups              # PORT defaults to 3007
//! curl -i http://127.0.0.1:3007/health/database           # both checks: warn, 200
//! curl -i http://127.0.0.1:3007/health/database/postgres  # the one check
//! curl -i http://127.0.0.1:3007/health/ready              # postgres only
//! ```

use std::time::Duration;

use axum::{Router, routing::get};
use tower_health::{Check, CheckResult, Exposure, Health, HealthLayer, Lifecycle};

#[path = "common/serve.rs"]
mod serve;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    // In the readiness probe and in the `database` group.
    health.register(
        Check::new("postgres", || async {
            Ok::<(), std::io::Error>(()) // ping the pool here
        })
        .readiness()
        .group("database")
        .component_type("datastore")
        .timeout(Duration::from_millis(300)),
    );
    // In the `database` group only; its failure only makes the group warn.
    health.register(
        Check::new("cache", || async {
            CheckResult::warn("evicting: 97% of memory in use")
        })
        .group("database")
        .non_critical(),
    );
    let app = Router::new().route("/", get(|| async { "hello" })).layer(
        HealthLayer::new()
            .health(health.clone())
            .exposure(Exposure::Messages),
    );
    health.set_lifecycle(Lifecycle::Working);
    let paths = [
        "/health/database",
        "/health/database/postgres",
        "/health/database/cache",
        "/health/ready",
        "/health/live",
        "/health",
    ];
    serve::serve(app, 3007, &paths).await
}
