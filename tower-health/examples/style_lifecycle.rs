//! The lifecycle style (py-12f-common): the state on `/health` of a standalone listener.
//!
//! ```text
//! HEALTH_CHECK=1 HEALTH_CHECK_PORT=8008 cargo run --example style_lifecycle --features listener
//! curl -i http://127.0.0.1:8008/health
//! ```

#[path = "common/serve.rs"]
mod serve;

use axum::{Router, routing::get};
use tower_health::listener::{HealthListener, ListenerConfig};
use tower_health::{Health, HealthLayer, Lifecycle, preset::Py12fCommon};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    serve::init_tracing();
    let health = Health::new();
    // The health endpoint on its own address, as configured by HEALTH_CHECK*; logs
    // `Health check serving on HOST:PORT/health`.
    let listener = HealthListener::start(
        &ListenerConfig::from_env()?,
        HealthLayer::with_endpoints(Py12fCommon::new("orders")).health(health.clone()),
    )
    .await?;
    health.set_lifecycle(Lifecycle::WarmingUp);
    let app = Router::new().route("/", get(|| async { "hello" }));
    health.set_lifecycle(Lifecycle::Working);
    serve::serve(app, 3002, &["/"]).await?;
    health.set_lifecycle(Lifecycle::ShuttingDown);
    listener.shutdown().await;
    Ok(())
}
