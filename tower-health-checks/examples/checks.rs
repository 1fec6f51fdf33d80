//! Ready-made checks: a TCP port, an HTTP endpoint and the disk, behind one `HealthLayer`.
//!
//! ```text
//! cargo run -p tower-health-checks --example checks --features http,disk   # PORT defaults to 3000
//! curl -i http://127.0.0.1:3000/health
//! ```
//!
//! The app checks its own port and its own `/` route, so the probes pass once it listens.

use std::time::Duration;

use axum::{Router, routing::get};
use tower_health::checks::Tcp;
use tower_health::{Exposure, Health, HealthLayer, Lifecycle};
use tower_health_checks::{Amount, Disk, Http};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let addr = listener.local_addr()?;

    let health = Health::new();
    // Stand-ins for a database port and an upstream service: this app itself.
    health.register(Tcp::new(addr.to_string()).into_check("database-port"));
    health.register(
        Http::new(&format!("http://{addr}/"))
            .warn_above(Duration::from_millis(100))
            .into_check("upstream")
            .non_critical(),
    );
    health.register(
        Disk::new(std::env::temp_dir())
            .fail_below(Amount::mib(100))
            .into_check("disk"),
    );

    let app = Router::new().route("/", get(|| async { "hello" })).layer(
        HealthLayer::new()
            .health(health.clone())
            .exposure(Exposure::Messages),
    );

    println!("checks example listening on http://{addr}; try:");
    println!("  curl -i http://{addr}/health");
    println!("Ctrl-C stops it.");
    health.set_lifecycle(Lifecycle::Working);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
