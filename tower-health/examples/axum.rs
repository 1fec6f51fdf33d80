//! An axum app with health probes, drained gracefully on SIGTERM.
//!
//! ```text
//! cargo run --example axum        # PORT defaults to 3000
//! curl -i http://127.0.0.1:3000/health/ready
//! ```

use std::time::Duration;

use axum::{Router, routing::get};
use tower_health::{Check, Drain, Health, HealthLayer, Lifecycle};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
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
        .timeout(Duration::from_millis(300)),
    );

    let api = Router::new().route("/items", get(|| async { "[]" }));
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .nest("/api", api)
        .layer(HealthLayer::new().health(health.clone()));

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    // 127.0.0.1 unless HOST says otherwise (in a pod, 0.0.0.0: the kubelet probes the pod's IP).
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("axum example listening on {base}; try:");
    for path in [
        "/",
        "/api/items",
        "/health/live",
        "/health/ready",
        "/health/ready/database",
    ] {
        println!("  curl -i {base}{path}");
    }
    // The drain delay in seconds (default 5), e.g. shorter for a load test of the drain.
    let delay = std::env::var("DRAIN_DELAY")
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .map_or(Drain::DEFAULT_DELAY, Duration::from_secs_f64);
    println!("SIGTERM or Ctrl-C drains for {delay:?}, then stops.");

    health.set_lifecycle(Lifecycle::Working);
    axum::serve(listener, app)
        .with_graceful_shutdown(Drain::new(health).delay(delay).signal())
        .await?;
    println!("stopped");
    Ok(())
}
