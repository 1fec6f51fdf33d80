//! A jsonrpsee server with health probes on its JSON-RPC port: the same `HealthLayer`, unchanged,
//! in jsonrpsee's HTTP middleware. JSON-RPC calls (HTTP POST) and WebSocket connections pass
//! through to jsonrpsee.
//!
//! ```text
//! cargo run --example jsonrpsee            # PORT defaults to 3010
//! curl -i http://127.0.0.1:3010/health/ready
//! curl -s -H 'content-type: application/json' \
//!     -d '{"jsonrpc":"2.0","id":1,"method":"say_hello"}' http://127.0.0.1:3010/
//! ```

use jsonrpsee::server::{RpcModule, Server};
use tower_health::{Check, Health, HealthLayer, Lifecycle};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    health.register(Check::new("ledger", || async { true }).readiness());

    let mut module = RpcModule::new(());
    module.register_method("say_hello", |_, _, _| "hello")?;

    let port = std::env::var("PORT").unwrap_or_else(|_| "3010".into());
    let server = Server::builder()
        .set_http_middleware(
            tower::ServiceBuilder::new().layer(HealthLayer::new().health(health.clone())),
        )
        .build(format!("127.0.0.1:{port}"))
        .await?;
    let base = format!("http://{}", server.local_addr()?);
    println!("jsonrpsee listening on {base}; try:");
    println!("  curl -i {base}/health/ready");
    println!(
        "  curl -s -H 'content-type: application/json' -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"say_hello\"}}' {base}/"
    );
    println!("Ctrl-C stops it.");

    let handle = server.start(module);
    health.set_lifecycle(Lifecycle::Working);
    tokio::signal::ctrl_c().await?;
    health.set_lifecycle(Lifecycle::ShuttingDown);
    handle.stop()?;
    handle.stopped().await;
    Ok(())
}
