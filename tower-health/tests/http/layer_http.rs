//! The layer over HTTP: what it answers, what it passes on untouched, methods, HEAD, caching
//! headers and independence from the inner service's backpressure.

use crate::bodies;
use crate::common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::{get as axum_get, post as axum_post};
use bodies::{ChannelBody, Gated, stream_echo, streaming_client};
use bytes::Bytes;
use common::{
    TestServer, get, http1_client, http2_client, request, send_with, serve_axum, serve_hyper,
};
use futures_util::FutureExt;
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tower_health::{Check, Health, HealthLayer, Lifecycle};

/// An inner service that answers with everything it saw, as JSON, and counts its calls.
fn inspecting(
    calls: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |request: Request<hyper::body::Incoming>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let headers: Vec<(String, String)> = parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            let seen = serde_json::json!({
                "method": parts.method.as_str(),
                "uri": parts.uri.to_string(),
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            });
            Ok::<_, Infallible>(
                Response::builder()
                    .status(StatusCode::IM_A_TEAPOT)
                    .header("x-inner", "one")
                    .header("x-inner", "two")
                    .header("cache-control", "max-age=60")
                    .body(Full::new(Bytes::from(seen.to_string())))
                    .unwrap(),
            )
        }
    })
}

async fn inspecting_server(calls: Arc<AtomicUsize>) -> TestServer {
    serve_hyper(HealthLayer::new().layer(inspecting(calls))).await
}

#[tokio::test]
async fn pass_through_keeps_method_uri_headers_and_body_both_ways() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = inspecting_server(calls.clone()).await;
    for (client, version) in [
        (http1_client(), Version::HTTP_11),
        (http2_client(), Version::HTTP_2),
    ] {
        let request = Request::builder()
            .method(Method::PATCH)
            .uri(server.url("/orders/7?expand=lines&x=%2F"))
            .header("x-trace", "a")
            .header("x-trace", "b")
            .header("content-type", "application/octet-stream")
            .body(Full::new(Bytes::from_static(b"payload \x00 bytes")))
            .unwrap();
        let reply = send_with(&client, request).await;
        assert_eq!(reply.status, StatusCode::IM_A_TEAPOT, "{version:?}");
        let inner: Vec<_> = reply.headers.get_all("x-inner").iter().collect();
        assert_eq!(inner, ["one", "two"]);
        assert_eq!(reply.header("cache-control"), Some("max-age=60"));
        let seen = reply.json();
        assert_eq!(seen["method"], "PATCH");
        assert!(
            seen["uri"]
                .as_str()
                .unwrap()
                .ends_with("/orders/7?expand=lines&x=%2F"),
            "{seen}"
        );
        let headers = seen["headers"].as_array().unwrap();
        let traces: Vec<_> = headers
            .iter()
            .filter(|h| h[0] == "x-trace")
            .map(|h| h[1].as_str().unwrap())
            .collect();
        assert_eq!(traces, ["a", "b"]);
        assert!(
            headers
                .iter()
                .any(|h| h[0] == "content-type" && h[1] == "application/octet-stream")
        );
        assert_eq!(seen["body"], "payload \u{0} bytes");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[derive(Clone, Debug, PartialEq)]
struct RequestMarker(u32);

#[derive(Clone, Debug, PartialEq)]
struct ResponseMarker(Option<RequestMarker>, Version);

#[tokio::test]
async fn pass_through_keeps_extensions_and_version_in_process() {
    let inner = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        let marker = request.extensions().get::<RequestMarker>().cloned();
        let mut response = Response::new(Full::new(Bytes::from_static(b"inner")));
        response
            .extensions_mut()
            .insert(ResponseMarker(marker, request.version()));
        Ok::<_, Infallible>(response)
    });
    let mut request = Request::builder()
        .uri("/anything")
        .version(Version::HTTP_10)
        .body(Full::new(Bytes::new()))
        .unwrap();
    request.extensions_mut().insert(RequestMarker(42));
    let response = HealthLayer::new()
        .layer(inner)
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(
        response.extensions().get::<ResponseMarker>(),
        Some(&ResponseMarker(Some(RequestMarker(42)), Version::HTTP_10))
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"inner");
}

/// Sends chunks one at a time and reads each echoed chunk before sending the next: only a body
/// streamed in both directions can pass.
async fn assert_streams_both_ways(server: &TestServer, http2: bool) {
    let (tx, body) = ChannelBody::new();
    let request = Request::builder()
        .method(Method::POST)
        .uri(server.url("/upload"))
        .body(body)
        .unwrap();
    let client = streaming_client(http2);
    let sending = tokio::spawn(async move { client.request(request).await.unwrap() });
    let chunks: Vec<Bytes> = (0u8..5)
        .map(|i| Bytes::from(vec![i; 1000 + i as usize]))
        .collect();
    tx.send(chunks[0].clone()).await.unwrap();
    let response = sending.await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-inner"], "stream");
    let mut body = response.into_body();
    let mut received = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            tx.send(chunk.clone()).await.unwrap();
        }
        // Read until this chunk is back whole (a transport may split it, never merge it ahead).
        let mut got = Vec::new();
        while got.len() < chunk.len() {
            let frame = body.frame().await.unwrap().unwrap();
            got.extend_from_slice(&frame.into_data().unwrap());
        }
        assert_eq!(got, chunk.to_vec(), "chunk {i}, http2 {http2}");
        received.extend_from_slice(&got);
    }
    drop(tx);
    while let Some(frame) = body.frame().await {
        let frame = frame.unwrap();
        assert!(
            frame.data_ref().is_none_or(|data| data.is_empty()),
            "no data after the request's: {frame:?}"
        );
    }
    assert_eq!(received, chunks.concat());
}

#[tokio::test]
async fn streaming_bodies_pass_through_hyper_over_http1_and_http2() {
    let server = serve_hyper(HealthLayer::new().layer(stream_echo())).await;
    assert_streams_both_ways(&server, false).await;
    assert_streams_both_ways(&server, true).await;
}

#[tokio::test]
async fn streaming_bodies_pass_through_axum() {
    let app = Router::new()
        .route(
            "/upload",
            axum_post(|body: axum::body::Body| async move {
                ([("x-inner", "stream")], axum::body::Body::new(body))
            }),
        )
        .layer(HealthLayer::new());
    let server = serve_axum(app).await;
    assert_streams_both_ways(&server, false).await;
    assert_streams_both_ways(&server, true).await;
}

#[tokio::test]
async fn only_exact_health_paths_are_answered() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = inspecting_server(calls.clone()).await;
    for path in [
        "/health",
        "/health/live",
        "/health/ready",
        "/health/startup",
        "/health/ready?verbose=1",
    ] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/health+json")
        );
        assert_eq!(reply.json()["status"], "pass", "{path}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let misses = [
        "/health/",
        "/HEALTH",
        "/Health/ready",
        "/healthz",
        "/health/ready/",
        "/health/live/",
        "/health/readyz",
        "/health/ready/db/",
        "/health/ready/a/b",
        "//health",
        "/api/health",
        "/",
    ];
    for path in misses {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::IM_A_TEAPOT, "{path}");
        let seen = reply.json();
        assert!(seen["uri"].as_str().unwrap().ends_with(path), "{path}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), misses.len());
}

#[tokio::test]
async fn named_check_paths_are_health_paths() {
    let health = Health::new();
    health.register(Check::new("db", || async { true }));
    let calls = Arc::new(AtomicUsize::new(0));
    let server = serve_hyper(
        HealthLayer::new()
            .health(health.clone())
            .layer(inspecting(calls.clone())),
    )
    .await;
    let known = get(&server, "/health/ready/db").await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.json()["checks"]["db"][0]["status"], "pass");
    let unknown = get(&server, "/health/ready/nope").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["status"], "fail");
    // `db` is a readiness check, not a liveness one.
    assert_eq!(
        get(&server, "/health/live/db").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn prefix_moves_every_default_path() {
    let health = Health::new();
    health.register(Check::new("db", || async { true }));
    health.set_lifecycle(tower_health::Lifecycle::Working);
    let calls = Arc::new(AtomicUsize::new(0));
    let server = serve_hyper(
        HealthLayer::new()
            .health(health)
            .prefix("/healthz/")
            .layer(inspecting(calls.clone())),
    )
    .await;
    for path in [
        "/healthz",
        "/healthz/live",
        "/healthz/ready",
        "/healthz/startup",
        "/healthz/ready/db",
    ] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.json()["status"], "pass", "{path}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    for path in ["/health", "/health/ready", "/healthz/", "/healthz/ready/"] {
        assert_eq!(
            get(&server, path).await.status,
            StatusCode::IM_A_TEAPOT,
            "{path}"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

async fn head_matches_get(server: &TestServer, path: &str) {
    for client in [http1_client(), http2_client()] {
        let get = |method| {
            Request::builder()
                .method(method)
                .uri(server.url(path))
                .body(Full::new(Bytes::new()))
                .unwrap()
        };
        let full = send_with(&client, get(Method::GET)).await;
        let head = send_with(&client, get(Method::HEAD)).await;
        assert!(!full.body.is_empty());
        assert!(head.body.is_empty(), "{path}: HEAD has no body");
        assert_eq!(head.status, full.status, "{path}");
        assert_eq!(
            head.header("content-length"),
            Some(full.body.len().to_string().as_str()),
            "{path}: HEAD announces the GET body's length"
        );
        for name in ["content-type", "cache-control"] {
            assert_eq!(head.header(name), full.header(name), "{path} {name}");
        }
    }
}

#[tokio::test]
async fn head_answers_like_get_without_a_body_on_hyper() {
    let health = Health::new();
    health.register(Check::new("db", || async { true }));
    health.register(Check::new("cache", || async { false }).liveness());
    let server = serve_hyper(
        HealthLayer::new()
            .health(health)
            .layer(common::echo_service()),
    )
    .await;
    // Passing, failing (state unknown, failing check) and unknown-check answers alike.
    for path in [
        "/health/ready",
        "/health/live",
        "/health",
        "/health/ready/db",
        "/health/ready/nope",
    ] {
        head_matches_get(&server, path).await;
    }
}

#[tokio::test]
async fn head_answers_like_get_without_a_body_on_axum() {
    let app = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(HealthLayer::new());
    let server = serve_axum(app).await;
    for path in ["/health/ready", "/health/live", "/health"] {
        head_matches_get(&server, path).await;
    }
}

#[tokio::test]
async fn other_methods_get_405_and_never_reach_the_inner_service() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = inspecting_server(calls.clone()).await;
    for method in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        for path in ["/health", "/health/ready", "/health/live/anything"] {
            let reply = request(&server, method.clone(), path).await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method} {path}");
            assert!(reply.body.is_empty());
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn health_answers_are_not_cached() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp); // readiness fails
    let server = serve_hyper(
        HealthLayer::new()
            .health(health)
            .layer(common::echo_service()),
    )
    .await;
    for (path, status) in [
        ("/health/live", 200),
        ("/health/ready", 503),
        ("/health/ready/nope", 404),
    ] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
    }
    let not_allowed = request(&server, Method::POST, "/health").await;
    assert_eq!(not_allowed.header("cache-control"), Some("no-store"));
}

/// Waits until `entered` reports `count` calls inside the gated service.
async fn wait_entered(entered: &mut tokio::sync::mpsc::UnboundedReceiver<String>, path: &str) {
    assert_eq!(entered.recv().await.as_deref(), Some(path));
}

fn post(server: &TestServer, path: &str, body: &'static str) -> tokio::task::JoinHandle<String> {
    let request = Request::builder()
        .method(Method::POST)
        .uri(server.url(path))
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    tokio::spawn(async move {
        let reply = send_with(&http1_client(), request).await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.text().to_owned()
    })
}

#[tokio::test]
async fn health_is_answered_while_a_concurrency_limit_is_full() {
    let (gated, mut entered) = Gated::new();
    let limited = tower::limit::ConcurrencyLimit::new(gated.clone(), 1);
    let server = serve_hyper(HealthLayer::new().layer(limited.clone())).await;

    let first = post(&server, "/work", "one");
    wait_entered(&mut entered, "/work").await;
    // The limit is reached: nothing else may enter the inner service now.
    let mut probe = limited.clone();
    assert!(
        ServiceExt::<Request<Full<Bytes>>>::ready(&mut probe)
            .now_or_never()
            .is_none()
    );
    drop(probe);
    let second = post(&server, "/work", "two");

    for path in ["/health/ready", "/health/live", "/health"] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.json()["status"], "pass");
    }
    assert_eq!(gated.entered(), 1, "the queued request is still waiting");

    gated.open();
    assert_eq!(first.await.unwrap(), "/work one");
    assert_eq!(second.await.unwrap(), "/work two");
    assert_eq!(gated.entered(), 2);
}

#[tokio::test]
async fn health_is_answered_while_a_buffer_is_full() {
    let (gated, mut entered) = Gated::new();
    let buffer =
        tower::buffer::Buffer::new(tower::limit::ConcurrencyLimit::new(gated.clone(), 1), 1);
    let server = serve_hyper(
        ServiceBuilder::new()
            .layer(HealthLayer::new())
            .service(buffer.clone()),
    )
    .await;

    let first = post(&server, "/work", "one");
    wait_entered(&mut entered, "/work").await;
    // The buffer's worker holds the second request (the inner service is at its limit) and the
    // third takes the buffer's only slot: the buffer is full.
    let second = post(&server, "/work", "two");
    let third = post(&server, "/work", "three");
    let mut full = false;
    for _ in 0..1000 {
        if buffer.clone().ready().now_or_never().is_none() {
            full = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(full, "the buffer never filled up");
    let fourth = post(&server, "/work", "four");

    for client in [http1_client(), http2_client()] {
        let request = Request::builder()
            .uri(server.url("/health/ready"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let reply = send_with(&client, request).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json()["status"], "pass");
    }
    assert_eq!(gated.entered(), 1);

    gated.open();
    assert_eq!(first.await.unwrap(), "/work one");
    assert_eq!(second.await.unwrap(), "/work two");
    assert_eq!(third.await.unwrap(), "/work three");
    assert_eq!(fourth.await.unwrap(), "/work four");
}

#[tokio::test]
async fn a_not_ready_inner_service_is_not_called_for_health_in_process() {
    let (gated, mut entered) = Gated::new();
    let mut service =
        HealthLayer::new().layer(tower::limit::ConcurrencyLimit::new(gated.clone(), 1));
    // Fill the limit with one pass-through request.
    let stuck = ServiceExt::<Request<Full<Bytes>>>::ready(&mut service)
        .await
        .unwrap()
        .call(Request::new(Full::new(Bytes::from_static(b"x"))));
    let stuck = tokio::spawn(stuck);
    assert_eq!(entered.recv().await.as_deref(), Some("/"));
    // The same service stays ready and answers health at once.
    let response = ServiceExt::<Request<Full<Bytes>>>::ready(&mut service)
        .await
        .unwrap()
        .call(
            Request::builder()
                .uri("/health/ready")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    gated.open();
    let response = stuck.await.unwrap().unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"/ x");
}
