//! The servers `bench/load.sh` drives: `bench-server MODE PORT`.
//!
//! Every server runs on a single-threaded tokio runtime (the load script pins it to one core), so
//! the contenders compete on equal terms. Modes:
//!
//! | mode | what |
//! |---|---|
//! | `hyper-bare` | hyper, a fixed 15-byte response on every path: the physical limit |
//! | `hyper-tower-http` | the same behind tower-http's `SetResponseHeaderLayer::if_not_present` (a header the app does not set): the smallest layer users stack, the base of pass-through |
//! | `hyper-layer` | the same behind `HealthLayer` with five readiness checks, results cached for the default TTL (1 s) |
//! | `hyper-handwritten` | hyper answering `/health/live` and `/health/ready` by hand with the status, headers and body the `hyper-layer` layer answered when asked in process at start-up; the bare answer elsewhere |
//! | `hyper-layer-nocache` | the same with caching off (`set_default_cache_ttl(Duration::ZERO)`): every readiness request runs the checks |
//! | `hyper-layer-twenty` | the same behind a layer showing details, with twenty cached checks (one of them warning) on `/health` |
//! | `axum-bare` | an axum app, `/` answers 15 bytes |
//! | `axum-tower-http` | the same app with `.layer(SetResponseHeaderLayer::if_not_present(..))` |
//! | `axum-layer` | the same app with `.layer(HealthLayer)` and five readiness checks (default TTL) |
//! | `axum-layer-nocache` | the same with caching off |
//! | `axum-handwritten` | the same app with hand-written `/health/live` (the same bytes and headers as the layer's) and `/health/ready` routes running the same checks |
//! | `grpc-tonic-health` | tonic's server with tonic-health's service (feature `grpc`) |
//! | `grpc-tower-health` | tonic's server with `.layer(HealthLayer::new().grpc())` in front of a service that answers "unimplemented" to everything (feature `tower-health-grpc`) |
//! | `grpc-hyper-layer` | hyper's HTTP/2 connection with the same layer in front of a bare "unimplemented" service (feature `tower-health-grpc`) |
//!
//! `bench-server grpc-probe PORT` (feature `grpc`) asks `127.0.0.1:PORT` for the status of service
//! `""` with tonic-health's generated client and exits with 0 only when it is `SERVING`: the load
//! script's proof that a gRPC contender answers what it claims.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{Layer, ServiceExt, service_fn};
use tower_health::{Check, Health, HealthLayer, Lifecycle};
use tower_http::set_header::SetResponseHeaderLayer;

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
    #[cfg(feature = "grpc")]
    if mode == "grpc-probe" {
        grpc::probe(port);
    }
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
            "hyper-tower-http" => {
                serve_http1(listener, tower_http_layer().layer(service_fn(bare))).await
            }
            "hyper-handwritten" => serve_http1(listener, handwritten_hyper().await).await,
            "hyper-layer" => {
                serve_http1(listener, layer(Cache::Default).layer(service_fn(bare))).await
            }
            "hyper-layer-nocache" => {
                serve_http1(listener, layer(Cache::Off).layer(service_fn(bare))).await
            }
            "hyper-layer-twenty" => serve_http1(listener, twenty().layer(service_fn(bare))).await,
            "axum-bare" => axum::serve(listener, app()).await.unwrap(),
            "axum-tower-http" => axum::serve(listener, app().layer(tower_http_layer()))
                .await
                .unwrap(),
            "axum-layer" => axum::serve(listener, app().layer(layer(Cache::Default)))
                .await
                .unwrap(),
            "axum-layer-nocache" => axum::serve(listener, app().layer(layer(Cache::Off)))
                .await
                .unwrap(),
            "axum-handwritten" => axum::serve(listener, handwritten(app())).await.unwrap(),
            #[cfg(feature = "grpc")]
            "grpc-tonic-health" => grpc::tonic_health(listener).await,
            #[cfg(feature = "tower-health-grpc")]
            "grpc-tower-health" => grpc::tower_health(listener).await,
            #[cfg(feature = "tower-health-grpc")]
            "grpc-hyper-layer" => grpc::hyper_layer(listener).await,
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

/// The base of the pass-through rows: one response header, set only where the app did not set it
/// (it never does), so the layer looks it up and inserts it on every response.
fn tower_http_layer() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("x-bench-layer"),
        HeaderValue::from_static("tower-http"),
    )
}

/// One answer of the layer, kept to be sent again verbatim.
struct Captured {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// What `hyper-layer`'s configuration of the layer answers to `GET path`, asked in process.
async fn capture(path: &str) -> Captured {
    let request = Request::get(path).body(Empty::<Bytes>::new()).unwrap();
    let service = layer(Cache::Default).layer(service_fn(bare));
    let Ok(response) = service.oneshot(request).await;
    let (parts, body) = response.into_parts();
    let Ok(body) = body.collect().await;
    Captured {
        status: parts.status,
        headers: parts.headers,
        body: body.to_bytes(),
    }
}

/// A hand-written liveness and readiness answer on hyper: the layer's own bytes and headers,
/// captured once, so the rows differ only in who builds the response. Readiness keeps the check
/// times of the capture (the layer's change once a second, when its cache refreshes).
async fn handwritten_hyper() -> impl tower::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    let live: &'static Captured = Box::leak(Box::new(capture("/health/live").await));
    let ready: &'static Captured = Box::leak(Box::new(capture("/health/ready").await));
    service_fn(move |request: Request<Incoming>| {
        let answer = match request.uri().path() {
            "/health/live" => Some(live),
            "/health/ready" => Some(ready),
            _ => None,
        };
        async move {
            let Some(answer) = answer else {
                return bare(request).await;
            };
            let mut response = Response::new(Full::new(answer.body.clone()));
            *response.status_mut() = answer.status;
            // Cheaper than inserting the three headers (8,805 against 9,296 instructions).
            *response.headers_mut() = answer.headers.clone();
            Ok(response)
        }
    })
}

/// Whether check results are reused between requests.
#[derive(Clone, Copy)]
enum Cache {
    /// For `Health::DEFAULT_CACHE_TTL` (1 s), as an application gets it.
    Default,
    /// Never: every request runs the checks, as the hand-written route does.
    Off,
}

/// The layer as an application configures it: its handle, five readiness checks, working.
fn layer(cache: Cache) -> HealthLayer {
    let health = Health::new();
    if let Cache::Off = cache {
        health.set_default_cache_ttl(Duration::ZERO);
    }
    for name in CHECKS {
        health.register(Check::new(name, check).readiness());
    }
    health.set_lifecycle(Lifecycle::Working);
    HealthLayer::new().health(health)
}

/// Twenty cached checks, one warning, every detail shown: the largest common answer.
fn twenty() -> HealthLayer {
    let health = Health::new();
    for index in 0..20 {
        let name = format!("dependency-{index:02}");
        if index == 7 {
            health.register(Check::new(name, || async {
                tower_health::CheckResult::warn("replica lag 2.5 s").observed(2.5, "s")
            }));
        } else {
            health.register(Check::new(name, check).component_type("datastore"));
        }
    }
    health.set_lifecycle(Lifecycle::Working);
    HealthLayer::new()
        .health(health)
        .exposure(tower_health::Exposure::Messages)
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
                [
                    (http::header::CONTENT_TYPE, "application/health+json"),
                    (http::header::CACHE_CONTROL, "no-store"),
                ],
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
    use tonic::transport::Server;
    use tonic::transport::server::TcpIncoming;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    /// tonic's server with tonic-health's service: `""` is serving.
    pub(super) async fn tonic_health(listener: TcpListener) {
        let (_reporter, service) = tonic_health::server::health_reporter();
        Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming(listener))
            .await
            .unwrap();
    }

    fn incoming(listener: TcpListener) -> TcpIncoming {
        TcpIncoming::from(listener).with_nodelay(Some(true))
    }

    /// tonic's server as an application would run it, with the layer answering
    /// `grpc.health.v1.Health`; the application's service answers "unimplemented" to everything,
    /// so a request the layer passed on would not be `SERVING`.
    #[cfg(feature = "tower-health-grpc")]
    pub(super) async fn tower_health(listener: TcpListener) {
        Server::builder()
            .layer(layer(Cache::Default).grpc())
            .add_service(Unimplemented)
            .serve_with_incoming(incoming(listener))
            .await
            .unwrap();
    }

    /// hyper's HTTP/2 connection with the layer in front of a bare "unimplemented" service.
    #[cfg(feature = "tower-health-grpc")]
    pub(super) async fn hyper_layer(listener: TcpListener) {
        serve_http2(listener, layer(Cache::Default).grpc().layer(Unimplemented)).await;
    }

    /// An application service that implements nothing.
    #[derive(Clone)]
    #[cfg_attr(not(feature = "tower-health-grpc"), allow(dead_code))]
    struct Unimplemented;

    impl tonic::server::NamedService for Unimplemented {
        const NAME: &'static str = "bench.Unimplemented";
    }

    impl<B> tower::Service<Request<B>> for Unimplemented {
        type Response = Response<tonic::body::Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;

        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<B>) -> Self::Future {
            std::future::ready(Ok(tonic::Status::unimplemented("").into_http()))
        }
    }

    /// Exits with 0 when `127.0.0.1:port` says service `""` is `SERVING`, else with 1.
    pub(super) fn probe(port: u16) -> ! {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let answer = runtime.block_on(async {
            let channel =
                tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                    .map_err(|e| e.to_string())?
                    .connect()
                    .await
                    .map_err(|e| e.to_string())?;
            let mut client = HealthClient::new(channel);
            let request = HealthCheckRequest {
                service: String::new(),
            };
            let response = client.check(request).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(response.into_inner().status())
        });
        match answer {
            Ok(ServingStatus::Serving) => {
                println!("SERVING");
                std::process::exit(0)
            }
            Ok(other) => {
                println!("{}", other.as_str_name());
                std::process::exit(1)
            }
            Err(error) => {
                println!("error: {error}");
                std::process::exit(1)
            }
        }
    }
}
