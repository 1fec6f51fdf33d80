//! The layer on axum and on plain hyper, over HTTP/1.1 and HTTP/2 with hyper's client, and the
//! graceful drain.

use crate::common;

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State as AxumState;
use axum::routing::get;
use bytes::Bytes;
use common::{Reply, TestServer, send_with};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tower::ServiceBuilder;
use tower_health::{Check, Drain, Health, HealthLayer, Lifecycle};

/// A bound on anything that could hang; never a timing assertion.
const BOUND: Duration = Duration::from_secs(20);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn clients() -> [(&'static str, HttpClient); 2] {
    [
        ("HTTP/1.1", common::http1_client()),
        ("HTTP/2", common::http2_client()),
    ]
}

async fn get_with(client: &HttpClient, server: &TestServer, path: &str) -> Reply {
    let request = Request::get(server.url(path))
        .body(Full::new(Bytes::new()))
        .unwrap();
    tokio::time::timeout(BOUND, send_with(client, request))
        .await
        .expect("request hung")
}

fn health() -> Health {
    let health = Health::new();
    health.register(Check::new("db", || async { true }).readiness());
    health.set_lifecycle(Lifecycle::Working);
    health
}

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

/// An application router with state, a nested router and a fallback; the layer goes on last.
fn app(health: Health) -> Router {
    let api =
        Router::new().route(
            "/items",
            get(|AxumState(state): AxumState<AppState>| async move {
                format!("{} items", state.greeting)
            }),
        );
    Router::new()
        .route("/", get(|| async { "root" }))
        .nest("/api", api)
        .fallback(|| async { (StatusCode::IM_A_TEAPOT, "fallback") })
        .layer(HealthLayer::new().health(health))
        .with_state(AppState { greeting: "hello" })
}

#[tokio::test]
async fn axum_router_with_state_nesting_and_fallback() {
    let server = common::serve_axum(app(health())).await;
    for (version, client) in clients() {
        let ready = get_with(&client, &server, "/health/ready").await;
        assert_eq!(ready.status, 200, "{version}");
        assert_eq!(ready.json()["status"], "pass", "{version}");
        let db = get_with(&client, &server, "/health/ready/db").await;
        assert_eq!(db.status, 200, "{version}");
        let missing = get_with(&client, &server, "/health/ready/nope").await;
        assert_eq!(missing.status, 404, "{version}");

        let items = get_with(&client, &server, "/api/items").await;
        assert_eq!(items.text(), "hello items", "{version}");
        let root = get_with(&client, &server, "/").await;
        assert_eq!(root.text(), "root", "{version}");
        // Not a health path, no route: the fallback answers.
        let other = get_with(&client, &server, "/health/").await;
        assert_eq!(other.status, StatusCode::IM_A_TEAPOT, "{version}");
        assert_eq!(other.text(), "fallback", "{version}");
    }
}

#[tokio::test]
async fn axum_layer_before_state_and_on_a_router_without_routes() {
    // `layer` on a router that still needs its state, and one with nothing but a fallback.
    let stateful: Router = Router::new()
        .route(
            "/",
            get(|AxumState(state): AxumState<AppState>| async move { state.greeting }),
        )
        .layer(HealthLayer::new().health(health()))
        .with_state(AppState { greeting: "hi" });
    let empty: Router = Router::new().layer(HealthLayer::new().health(health()));
    for router in [stateful, empty] {
        let server = common::serve_axum(router).await;
        for (version, client) in clients() {
            let live = get_with(&client, &server, "/health/live").await;
            assert_eq!(live.status, 200, "{version}");
            assert_eq!(live.json()["status"], "pass", "{version}");
        }
    }
}

#[tokio::test]
async fn hyper_service_fn_with_service_builder() {
    let service = ServiceBuilder::new()
        .layer(HealthLayer::new().health(health()))
        .service_fn(|request: Request<hyper::body::Incoming>| async move {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                "inner {:?}",
                request.version()
            )))))
        });
    let server = common::serve_hyper(service).await;
    for ((version, client), expected) in clients().into_iter().zip(["HTTP/1.1", "HTTP/2.0"]) {
        let ready = get_with(&client, &server, "/health/ready").await;
        assert_eq!(ready.status, 200, "{version}");
        assert_eq!(ready.json()["status"], "pass", "{version}");
        let inner = get_with(&client, &server, "/anything").await;
        assert_eq!(inner.text(), format!("inner {expected}"), "{version}");
    }
}

/// The drain: a slow request in flight, then the shutdown trigger. Readiness fails while the
/// drain waits, the in-flight request completes, and the server then stops.
#[tokio::test]
async fn drain_fails_readiness_lets_in_flight_requests_finish_then_stops() {
    let health = health();
    let started = std::sync::Arc::new(Notify::new());
    let release = std::sync::Arc::new(Notify::new());
    let (slow_started, slow_release) = (started.clone(), release.clone());
    let router = Router::new()
        .route(
            "/slow",
            get(move || async move {
                slow_started.notify_one();
                slow_release.notified().await;
                "slow done"
            }),
        )
        .layer(HealthLayer::new().health(health.clone()));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (drained_tx, drained_rx) = oneshot::channel::<()>();
    let drain = Drain::new(health.clone())
        .delay(Duration::from_secs(3))
        .without_signals()
        .signal();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                drain.await;
                let _ = drained_tx.send(());
            })
            .await
    });
    let server_url = |path: &str| format!("http://{addr}{path}");

    let slow_client = common::http1_client();
    let slow = tokio::spawn(async move {
        let request = Request::get(format!("http://{addr}/slow"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        send_with(&slow_client, request).await
    });
    tokio::time::timeout(BOUND, started.notified())
        .await
        .expect("the slow request did not start");

    // The explicit trigger; SIGTERM and Ctrl-C do the same.
    health.set_lifecycle(Lifecycle::ShuttingDown);
    let request = Request::get(server_url("/health/ready"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let ready = send_with(&common::http1_client(), request).await;
    assert_eq!(ready.status, 503, "readiness must fail while draining");
    let request = Request::get(server_url("/health/live"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let live = send_with(&common::http1_client(), request).await;
    assert_eq!(live.status, 200, "liveness holds while draining");

    // The drain ends; the server stops accepting but waits for the request in flight.
    tokio::time::timeout(BOUND, drained_rx)
        .await
        .expect("the drain did not end")
        .unwrap();
    assert!(
        !server.is_finished(),
        "the server stopped with a request in flight"
    );
    assert!(!slow.is_finished());
    release.notify_one();
    let slow = tokio::time::timeout(BOUND, slow)
        .await
        .expect("the in-flight request did not complete")
        .unwrap();
    assert_eq!(slow.status, 200);
    assert_eq!(slow.text(), "slow done");
    tokio::time::timeout(BOUND, server)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the server still accepts connections"
    );
}
