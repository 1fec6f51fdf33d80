//! Plain hyper 1 with hyper-util: a `service_fn` wrapped with `ServiceBuilder`, served over HTTP/1
//! and HTTP/2 by the auto connection builder, drained gracefully on SIGTERM (GOAWAY on HTTP/2),
//! with the two production settings `axum::serve` lacks: a chosen listen backlog and a timeout on
//! reading a request head.
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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_health::{Check, Drain, Health, HealthLayer, Lifecycle};

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
    health.set_lifecycle(Lifecycle::WarmingUp);
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
    let addr: std::net::SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(std::io::Error::other)?;
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // `TcpListener::bind` listens with a backlog of 128; bursts of connections overflow it.
    let listener = socket.listen(4096)?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("hyper example listening on {base}; try:");
    println!("  curl -i {base}/");
    println!("  curl -i {base}/health/ready");
    println!("  curl -i --http2-prior-knowledge {base}/health/live");
    println!("SIGTERM or Ctrl-C drains for 5 s, then stops.");

    health.set_lifecycle(Lifecycle::Working);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A client that never finishes its request head is dropped after 5 s.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(5));
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
