//! The servers `bench/load.sh` drives: `bench-server MODE PORT`.
//!
//! Every server runs on a single-threaded tokio runtime (the load script pins it to one core), so
//! the contenders compete on equal terms. Modes:
//!
//! | mode | what |
//! |---|---|
//! | `hyper-bare` | hyper, a fixed 15-byte response on every path: the physical limit |
//! | `hyper-layer` | the same behind `HealthLayer` with five readiness checks |
//! | `axum-bare` | an axum app, `/` answers 15 bytes |
//! | `axum-layer` | the same app with `.layer(HealthLayer)` and five readiness checks |
//! | `axum-handwritten` | the same app with hand-written `/health/live` and `/health/ready` routes running the same checks |
//! | `grpc-tonic-health` | tonic serving tonic-health (feature `grpc`) |
//! | `grpc-tower-health` | hyper HTTP/2 with `HealthLayer` answering gRPC (feature `tower-health-grpc`) |

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{Layer, service_fn};
use tower_health::{Check, Health, HealthLayer, State};

/// The bare server's answer: 15 bytes.
const BODY: &[u8; 15] = br#"{"status":"ok"}"#;

/// The names of the five readiness checks every contender with checks runs.
const CHECKS: [&str; 5] = ["postgres", "redis", "kafka", "s3", "auth"];

/// One check: passes at once (the benchmark measures what surrounds the checks).
async fn check() -> bool {
    true
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(port)) = (args.next(), args.next()) else {
        eprintln!("usage: bench-server MODE PORT");
        std::process::exit(2);
    };
    let port: u16 = port.parse().expect("PORT is a number");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .expect("bind 127.0.0.1");
        match mode.as_str() {
            "hyper-bare" => serve_http1(listener, service_fn(bare)).await,
            "hyper-layer" => serve_http1(listener, layer().layer(service_fn(bare))).await,
            "axum-bare" => axum::serve(listener, app()).await.unwrap(),
            "axum-layer" => axum::serve(listener, app().layer(layer())).await.unwrap(),
            "axum-handwritten" => axum::serve(listener, handwritten(app())).await.unwrap(),
            #[cfg(feature = "grpc")]
            "grpc-tonic-health" => grpc::tonic_health(listener).await,
            #[cfg(feature = "tower-health-grpc")]
            "grpc-tower-health" => grpc::tower_health(listener).await,
            other => {
                eprintln!("unknown mode {other}");
                std::process::exit(2);
            }
        }
    });
}

async fn bare<B>(_: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// The layer as an application configures it: its handle, five readiness checks, working.
fn layer() -> HealthLayer {
    let health = Health::new();
    for name in CHECKS {
        health.register(Check::new(name, check).readiness());
    }
    health.set_state(State::Working);
    HealthLayer::new().health(health)
}

fn app() -> Router {
    Router::new().route("/", get(|| async { &BODY[..] }))
}

/// What a user writes instead of the layer: routes that run the same checks concurrently and
/// answer JSON with each check's status.
fn handwritten(app: Router) -> Router {
    app.route(
        "/health/live",
        get(|| async {
            (
                [(http::header::CONTENT_TYPE, "application/json")],
                r#"{"status":"pass"}"#,
            )
        }),
    )
    .route(
        "/health/ready",
        get(|| async {
            let results = futures_util::future::join_all(CHECKS.map(|_| check())).await;
            let pass = results.iter().all(|ok| *ok);
            let status = if pass { "pass" } else { "fail" };
            let checks: serde_json::Map<String, serde_json::Value> = CHECKS
                .iter()
                .zip(&results)
                .map(|(name, ok)| {
                    let status = if *ok { "pass" } else { "fail" };
                    (name.to_string(), serde_json::json!({ "status": status }))
                })
                .collect();
            let code = if pass {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (
                code,
                axum::Json(serde_json::json!({ "status": status, "checks": checks })),
            )
        }),
    )
}

/// Serves `service` over HTTP/1.1 keep-alive, one task per connection.
async fn serve_http1<S, B>(listener: TcpListener, service: S)
where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Serves `service` over HTTP/2 (prior knowledge), one task per connection.
#[cfg_attr(not(feature = "tower-health-grpc"), allow(dead_code))]
async fn serve_http2<S, B>(listener: TcpListener, service: S)
where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(feature = "grpc")]
mod grpc {
    use super::*;

    /// tonic's server with tonic-health's service: `""` is serving.
    pub(super) async fn tonic_health(listener: TcpListener) {
        let (_reporter, service) = tonic_health::server::health_reporter();
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream(listener))
            .await
            .unwrap();
    }

    fn tokio_stream(
        listener: TcpListener,
    ) -> impl futures_util::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
        futures_util::stream::unfold(listener, |listener| async move {
            let accepted = listener.accept().await.map(|(stream, _)| {
                let _ = stream.set_nodelay(true);
                stream
            });
            Some((accepted, listener))
        })
    }

    /// tower-health answering `grpc.health.v1.Health/Check` itself; every other request gets an
    /// empty gRPC "unimplemented" answer, so a layer that did not answer shows as no data.
    #[cfg(feature = "tower-health-grpc")]
    pub(super) async fn tower_health(listener: TcpListener) {
        let unimplemented = service_fn(|_: Request<Incoming>| async {
            let mut response = Response::new(Full::new(Bytes::new()));
            response
                .headers_mut()
                .insert("content-type", "application/grpc".parse().unwrap());
            response
                .headers_mut()
                .insert("grpc-status", "12".parse().unwrap());
            Ok::<_, Infallible>(response)
        });
        serve_http2(listener, layer().layer(unimplemented)).await;
    }
}
