//! The main demo: an axum app with health probes.
//!
//! ```text
//! cargo run --example quickstart          # PORT defaults to 3000
//! curl -i http://127.0.0.1:3000/health/ready
//! ```

use std::time::Duration;

use axum::{Router, routing::get};
use tower_health::{Check, CheckResult, Exposure, Health, HealthLayer, Lifecycle};
use tower_http::trace::TraceLayer;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_health=debug,tower_http=debug".into()),
        )
        .init();

    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    health.register(
        Check::new("database", || async {
            // A real service would ping its pool here.
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok::<(), std::io::Error>(())
        })
        .readiness()
        .component_type("datastore")
        .timeout(Duration::from_millis(300)),
    );
    health.register(
        Check::new("disk-cache", || async {
            CheckResult::warn("cache volume is 91% full").observed(91, "percent")
        })
        .readiness()
        .non_critical()
        .component_type("system"),
    );

    // The access log (TraceLayer) sees `/` but no probe: the health layer answers around it.
    let app = Router::new().route("/", get(|| async { "hello" })).layer(
        HealthLayer::new()
            .health(health.clone())
            .exposure(Exposure::Messages)
            .around(TraceLayer::new_for_http()),
    );

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("quickstart listening on {base}; try:");
    for path in [
        "/",
        "/health",
        "/health/live",
        "/health/ready",
        "/health/startup",
        "/health/ready/database",
    ] {
        println!("  curl -i {base}{path}");
    }
    println!("Ctrl-C stops it.");

    health.set_lifecycle(Lifecycle::Working);
    let drained = health.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            drained.set_lifecycle(Lifecycle::ShuttingDown);
        })
        .await
}
