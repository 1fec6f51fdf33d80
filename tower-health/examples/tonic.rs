//! A tonic gRPC server with health probes over HTTP and the gRPC health protocol.
//!
//! ```text
//! cargo run --example tonic --features grpc     # PORT defaults to 50051
//! curl -i http://127.0.0.1:50051/health/ready   # HTTP/1.1 probes (accept_http1)
//! grpc_health_probe -addr 127.0.0.1:50051 -service readiness
//! ```
//!
//! The server's own service, `example.Greeter`, is written by hand in `support/greeter.rs` so
//! that the example needs no `protoc`. SIGTERM or Ctrl-C drains, then stops.

#[path = "support/greeter.rs"]
mod greeter;

use std::time::Duration;

use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tower_health::{Check, Drain, Health, HealthLayer, Lifecycle};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    health.register(
        Check::new("greeter", || async {
            // A real service would check what its handlers depend on.
            tokio::time::sleep(Duration::from_millis(2)).await;
            true
        })
        .readiness()
        .liveness()
        .timeout(Duration::from_millis(300)),
    );

    let port = std::env::var("PORT").unwrap_or_else(|_| "50051".into());
    // 127.0.0.1 unless HOST says otherwise (in a pod, 0.0.0.0: the kubelet probes the pod's IP).
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    let addr = listener.local_addr()?;
    println!("tonic example listening on {addr}; try:");
    println!("  curl -i http://{addr}/health/ready");
    println!("  grpc_health_probe -addr {addr} -service readiness");
    println!("  grpc_health_probe -addr {addr} -service greeter");
    println!("SIGTERM or Ctrl-C drains for 5 s, then stops.");

    health.set_lifecycle(Lifecycle::Working);
    Server::builder()
        .accept_http1(true)
        .layer(HealthLayer::new().health(health.clone()).grpc())
        .add_service(greeter::Greeter)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), Drain::new(health).signal())
        .await?;
    println!("stopped");
    Ok(())
}
