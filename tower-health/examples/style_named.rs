//! The named-check style (flask-healthz): `/healthz/NAME` as problem+json.
//!
//! ```text
//! cargo run --example style_named             # PORT defaults to 3005
//! ```

#[path = "common/serve.rs"]
mod serve;

use axum::{Router, routing::get};
use tower_health::{Check, Health, HealthLayer, preset::FlaskHealthz};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let health = Health::new();
    health.register(Check::new("live", || async {}));
    health.register(Check::new("ready", || async {
        Err::<(), _>("database is down")
    }));
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .layer(HealthLayer::with_endpoints(FlaskHealthz::new().no_log()).health(health));
    serve::serve(
        app,
        3005,
        &["/healthz/live", "/healthz/ready", "/healthz/nope"],
    )
    .await
}
