//! An axum app that probes itself: `healthcheck` as a subcommand of the application's own binary,
//! for Docker's `HEALTHCHECK` and Kubernetes `exec` probes in images without curl (see
//! examples/docker/Dockerfile).
//!
//! ```text
//! cargo run -p tower-health-probe --example healthcheck      # serves on 127.0.0.1:3000
//! cargo run -p tower-health-probe --example healthcheck -- healthcheck http://127.0.0.1:3000/health/ready
//! echo $?                                                    # 0 healthy ... 4 unhealthy
//! ```

use std::process::ExitCode;
use std::time::Duration;

use axum::{Router, routing::get};
use tower_health::{Check, Drain, Health, HealthLayer, Lifecycle};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("healthcheck") {
        // The same arguments and exit codes as the tower-health-probe binary.
        return tower_health_probe::cli(args).await;
    }
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> std::io::Result<()> {
    let health = Health::new();
    health.register(
        Check::new("database", || async {
            // A real service would ping its pool here.
            Ok::<(), std::io::Error>(())
        })
        .readiness()
        .timeout(Duration::from_millis(300)),
    );
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .layer(HealthLayer::new().health(health.clone()));

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    // 127.0.0.1 unless HOST says otherwise (in a container, 0.0.0.0 to be reached from outside).
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}; probe it with:");
    println!(
        "  cargo run -p tower-health-probe --example healthcheck -- healthcheck http://127.0.0.1:{port}/health/ready",
        port = addr.port()
    );
    health.set_lifecycle(Lifecycle::Working);
    axum::serve(listener, app)
        .with_graceful_shutdown(Drain::new(health).signal())
        .await
}
