//! Serves an example app on 127.0.0.1:$PORT until Ctrl-C.

use axum::Router;

/// Logs to stderr (`RUST_LOG` to change what); calling it again does nothing.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_health=debug".into()),
        )
        .try_init();
}

pub async fn serve(app: Router, default_port: u16, paths: &[&str]) -> std::io::Result<()> {
    init_tracing();
    let port = std::env::var("PORT").unwrap_or_else(|_| default_port.to_string());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("listening on {base}; try:");
    for path in paths {
        println!("  curl -i '{base}{path}'");
    }
    println!("Ctrl-C stops it.");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
