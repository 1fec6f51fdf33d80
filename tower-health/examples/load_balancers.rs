//! Health answers for load balancers: Envoy (HTTP with `x-envoy-degraded`, and gRPC), Consul
//! (warn as 429) and the plain `/health/ready`, from one registry on one port.
//!
//! ```text
//! cargo run --example load_balancers --features grpc      # PORT defaults to 3000
//! curl -i http://127.0.0.1:3000/health/ready              # Envoy's http_health_check path
//! curl -i http://127.0.0.1:3000/consul                    # Consul's HTTP check
//! touch "$DOWN_DIR/cache.down"                            # the cache fails: warn, degraded
//! ```
//!
//! Two stand-in dependencies are checked: `database` (critical) and `cache` (non-critical: its
//! failure degrades the service). Each fails while a file `{name}.down` exists in `DOWN_DIR`
//! (default: the system's temporary directory), so that their outcome can be switched from
//! outside; a real service would ping them. See the README's "Load balancers" section for the
//! balancers' settings.

#[path = "common/serve.rs"]
#[allow(dead_code)]
mod common;
#[path = "support/greeter.rs"]
mod greeter;

use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tower_health::{Check, Drain, Endpoint, Health, HealthLayer, Lifecycle, StatusCodes};

/// A check that fails while `{dir}/{name}.down` exists.
fn switchable(dir: &Path, name: &str) -> Check {
    let marker = dir.join(format!("{name}.down"));
    Check::new(name, move || {
        let down = marker.exists();
        async move { if down { Err("marked down") } else { Ok(()) } }
    })
    // Every probe sees the current file.
    .cache(Duration::ZERO)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_tracing();

    let dir = std::env::var_os("DOWN_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let health = Health::new();
    health.register(switchable(&dir, "database").readiness());
    health.register(switchable(&dir, "cache").readiness().non_critical());

    let layer = HealthLayer::new()
        .health(health.clone())
        // Envoy's active HTTP health check: 200 is healthy, 503 failed, and 200 with this header
        // (on warn) degraded.
        .warn_header(
            HeaderName::from_static("x-envoy-degraded"),
            HeaderValue::from_static("true"),
        )
        // Consul's HTTP check: 2xx passing, 429 warning, anything else critical.
        .endpoint(Endpoint::new("/consul").status_codes(StatusCodes::consul()))
        // Envoy's gRPC health check (`grpc_health_check`, service name "" or "ready").
        .grpc();

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let addr = listener.local_addr()?;
    println!(
        "load_balancers example listening on {addr}; down markers in {}",
        dir.display()
    );

    health.set_lifecycle(Lifecycle::Working);
    Server::builder()
        // HTTP/1.1 for the HTTP health checks, HTTP/2 for gRPC, on the same port.
        .accept_http1(true)
        .layer(layer)
        .add_service(greeter::Greeter)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), Drain::new(health).signal())
        .await?;
    println!("stopped");
    Ok(())
}
