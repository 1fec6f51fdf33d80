//! The drain over real sockets: while shutting down, HTTP/1 answers carry `Connection: close`,
//! so keep-alive clients move off before the server stops, and none of their requests is lost.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get as axum_get;
use bytes::Bytes;
use common::{get, send_with, serve_hyper, within};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use tokio::net::TcpListener;
use tower::Layer;
use tower_health::{Drain, Health, HealthLayer, Lifecycle};

fn over_http2(server: &common::TestServer, path: &str) -> Request<Full<Bytes>> {
    Request::get(server.url(path))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

#[tokio::test]
async fn http1_answers_ask_to_close_only_while_shutting_down() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    let server = serve_hyper(
        HealthLayer::new()
            .health(health.clone())
            .layer(common::echo_service()),
    )
    .await;
    let http2 = common::http2_client();

    for path in ["/", "/health/live", "/health/ready"] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("connection"), None, "{path} while working");
    }

    health.set_lifecycle(Lifecycle::ShuttingDown);
    let reply = get(&server, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("x-inner"), Some("yes"), "still passed through");
    assert_eq!(reply.header("connection"), Some("close"));
    // Probes too: liveness still passes, readiness fails, both on closing connections.
    for (path, status) in [
        ("/health/live", StatusCode::OK),
        ("/health/ready", StatusCode::SERVICE_UNAVAILABLE),
    ] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.header("connection"), Some("close"), "{path}");
    }
    // HTTP/2 has no `Connection` header: the server's GOAWAY moves those clients.
    let reply = send_with(&http2, over_http2(&server, "/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("connection"), None);

    health.set_lifecycle(Lifecycle::Working);
    assert_eq!(get(&server, "/").await.header("connection"), None);
}

/// What one keep-alive client saw: answers before it was told to close, and failed requests.
#[derive(Debug, Default)]
struct Seen {
    answered: usize,
    told_to_close: bool,
    failed: Vec<String>,
}

/// Sends requests back to back over one pooled keep-alive client until an answer says
/// `Connection: close`, where a load balancer would move the client's traffic elsewhere, or a
/// request fails.
async fn keep_alive_client(url: String, answered: Arc<AtomicUsize>) -> Seen {
    let client = common::http1_client();
    let mut seen = Seen::default();
    loop {
        let request = Request::get(&url).body(Full::new(Bytes::new())).unwrap();
        match client.request(request).await {
            Ok(response) => {
                let close = response
                    .headers()
                    .get("connection")
                    .is_some_and(|v| v == "close");
                match response.into_body().collect().await {
                    Ok(_) => {
                        seen.answered += 1;
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(error) => {
                        seen.failed.push(error.to_string());
                        return seen;
                    }
                }
                if close {
                    seen.told_to_close = true;
                    return seen;
                }
            }
            Err(error) => {
                seen.failed.push(format!("{error:?}"));
                return seen;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_clients_lose_no_request_across_the_drain() {
    const CLIENTS: usize = 16;
    let health = Health::new();
    let app: Router = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(HealthLayer::new().health(health.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    health.set_lifecycle(Lifecycle::Working);
    let drain = Drain::new(health.clone())
        .without_signals()
        // A margin for noisy machines: every client needs one answer within it.
        .delay(Duration::from_secs(2));
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(drain.signal())
            .await
    });

    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(keep_alive_client(url.clone(), answered.clone())))
        .collect();
    // Under load on every connection before the drain starts.
    within(async {
        while answered.load(Ordering::SeqCst) < CLIENTS * 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    health.set_lifecycle(Lifecycle::ShuttingDown);

    for client in clients {
        let seen = within(client).await.unwrap();
        assert!(seen.failed.is_empty(), "lost requests: {seen:?}");
        assert!(seen.told_to_close, "{seen:?}");
    }
    within(server).await.unwrap().unwrap();
}
