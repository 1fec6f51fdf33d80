//! Test support shared by the integration tests: real servers on 127.0.0.1 and a real client.
//!
//! Each test file includes this with `mod common;` and may use only part of it.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Generous: only catches hangs, never measures speed.
pub const HANG: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test if it hangs.
pub async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, future)
        .await
        .expect("hung: did not finish")
}

/// A server on 127.0.0.1 that stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.abort();
    }
}

/// Serves an axum router with `axum::serve` on a free port of 127.0.0.1.
pub async fn serve_axum(router: axum::Router) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    TestServer {
        addr,
        shutdown: Some(tx),
        task,
    }
}

/// Serves any tower service with hyper-util's auto (HTTP/1 and HTTP/2) connection builder.
pub async fn serve_hyper<S, B>(service: S) -> TestServer
where
    S: tower::Service<Request<hyper::body::Incoming>, Response = Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, mut rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let service = TowerToHyperService::new(service.clone());
                    connections.spawn(async move {
                        let _ = auto::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
        connections.abort_all();
    });
    TestServer {
        addr,
        shutdown: Some(tx),
        task,
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("body is UTF-8")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header is ASCII"))
    }
}

/// A hyper HTTP/1.1 client.
pub fn http1_client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A hyper HTTP/2 (prior knowledge) client.
pub fn http2_client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http()
}

/// Sends `request` with `client` and reads the whole response.
pub async fn send_with(
    client: &Client<HttpConnector, Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Reply {
    let response = client.request(request).await.expect("request failed");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body failed").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// Sends `method path` over HTTP/1.1 to `server`.
pub async fn request(server: &TestServer, method: Method, path: &str) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(server.url(path))
        .body(Full::new(Bytes::new()))
        .unwrap();
    send_with(&http1_client(), request).await
}

/// `GET path` over HTTP/1.1.
pub async fn get(server: &TestServer, path: &str) -> Reply {
    request(server, Method::GET, path).await
}

/// `GET path` over HTTP/1.1 with `headers`.
pub async fn get_with_headers(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::get(server.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send_with(
        &http1_client(),
        request.body(Full::new(Bytes::new())).unwrap(),
    )
    .await
}

/// An inner service that answers every request with what it saw, for pass-through assertions.
pub fn echo_service() -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|request: Request<hyper::body::Incoming>| async move {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let seen = format!(
            "{} {} {:?} {}",
            parts.method,
            parts.uri,
            parts.version,
            String::from_utf8_lossy(&body)
        );
        Ok::<_, Infallible>(
            Response::builder()
                .header("x-inner", "yes")
                .body(Full::new(Bytes::from(seen)))
                .unwrap(),
        )
    })
}

/// The changes of one subject, read from [`Health::subscribe`](tower_health::Health::subscribe).
pub struct SubjectChanges {
    subject: tower_health::Subject,
    receiver: tokio::sync::broadcast::Receiver<tower_health::Change>,
}

/// Follows the changes of `subject` from now on.
pub fn subscribe_to(
    health: &tower_health::Health,
    subject: tower_health::Subject,
) -> SubjectChanges {
    SubjectChanges {
        subject,
        receiver: health.subscribe(),
    }
}

impl SubjectChanges {
    /// The next change of the subject.
    pub async fn recv(
        &mut self,
    ) -> Result<tower_health::Change, tokio::sync::broadcast::error::RecvError> {
        loop {
            let change = self.receiver.recv().await?;
            if change.subject == self.subject {
                return Ok(change);
            }
        }
    }
}
