//! The maintenance style (pyramid_health): `OK`, `ERROR` or `MAINTENANCE` on `/health`.
//!
//! ```text
//! cargo run --example style_maintenance       # PORT defaults to 3003
//! touch /tmp/maintenance                      # maintenance mode on; rm it to switch it off
//! ```

#[path = "common/serve.rs"]
mod serve;

use axum::{Router, routing::get};
use tower_health::{Check, Health, HealthLayer, preset::PyramidHealth};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let health = Health::new();
    health.set_maintenance_file(Some("/tmp/maintenance".into()));
    health.register(Check::new("db", || async {
        PyramidHealth::report("OK", None)
    }));
    health.register(Check::new("cache", || async {
        PyramidHealth::report("NOK", Some("evicting"))
    }));
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .layer(HealthLayer::with_endpoints(PyramidHealth::new()).health(health));
    serve::serve(app, 3003, &["/health", "/health?checks=all"]).await
}
