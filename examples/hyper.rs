//! Plain hyper 1 with hyper-util: a `service_fn` wrapped with `ServiceBuilder`, served over HTTP/1
//! and HTTP/2 by the auto connection builder, drained gracefully on SIGTERM.
//!
//! ```text
//! cargo run --example hyper       # PORT defaults to 3001
//! curl -i http://127.0.0.1:3001/health/ready
//! curl -i --http2-prior-knowledge http://127.0.0.1:3001/health/live
//! ```

use std::convert::Infallible;
use std::pin::pin;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_health::{Check, Drain, Health, HealthLayer, State};

async fn hello(
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("hello from {}\n", request.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let health = Health::new();
    health.set_state(State::WarmingUp);
    health.register(
        Check::new("upstream", || async {
            // A real service would call what it depends on.
            tokio::time::sleep(Duration::from_millis(2)).await;
            true
        })
        .readiness()
        .timeout(Duration::from_millis(300)),
    );

    let service = ServiceBuilder::new()
        .layer(HealthLayer::new().health(health.clone()))
        .service_fn(hello);

    let port = std::env::var("PORT").unwrap_or_else(|_| "3001".into());
    // 127.0.0.1 unless HOST says otherwise (in a pod, 0.0.0.0: the kubelet probes the pod's IP).
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("hyper example listening on {base}; try:");
    println!("  curl -i {base}/");
    println!("  curl -i {base}/health/ready");
    println!("  curl -i --http2-prior-knowledge {base}/health/live");
    println!("SIGTERM or Ctrl-C drains for 5 s, then stops.");

    health.set_state(State::Working);
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(Drain::new(health).signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let connection = builder.serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service.clone()),
                );
                let connection = graceful.watch(connection.into_owned());
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    // Stop accepting; let the connections finish what they are doing.
    drop(listener);
    graceful.shutdown().await;
    println!("stopped");
    Ok(())
}
