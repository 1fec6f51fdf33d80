//! Real servers on 127.0.0.1 for the probe's tests: services wrapped in tower-health (HTTP with
//! `HealthLayer`, gRPC with `GrpcHealth` or `HealthLayer::grpc`) and raw TCP servers that
//! misbehave on purpose. Shared by tests/probe.rs (the library) and tests/cli.rs (the binary).
//! Every server stops when its handle is dropped.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_health::grpc::GrpcHealth;
use tower_health::{Check, Health, HealthLayer, Lifecycle};
use tower_health_probe::Probe;

/// A bound on anything that could hang; never a timing assertion.
pub const HANG: Duration = Duration::from_secs(30);

/// A timeout short enough that waiting for it is cheap (only ever reached, never measured).
pub const SHORT: Duration = Duration::from_millis(300);

/// A server task on 127.0.0.1, stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `HOST:PORT`, for gRPC.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// The registry the servers answer from: the state is Working and one readiness check, `db`,
/// passes while `up` is true (not cached, so a flip shows at the next probe).
pub fn health(up: Arc<AtomicBool>) -> Health {
    let health = Health::new();
    health.register(
        Check::new("db", move || {
            let up = up.clone();
            async move { up.load(Ordering::SeqCst) }
        })
        .readiness()
        .cache(Duration::ZERO),
    );
    health.set_lifecycle(Lifecycle::Working);
    health
}

/// The User-Agents that reached `/agent`, in order.
pub type Agents = Arc<Mutex<Vec<String>>>;

/// An axum app behind `HealthLayer` (`/health/ready` follows `up`), with `/moved` (a 302 to a
/// port where nothing listens: a probe that followed it would fail), `/teapot` (418), and
/// `/agent`, which records the User-Agent and answers 200 only when it is the probe's default.
pub async fn http_app(up: Arc<AtomicBool>) -> (Server, Agents) {
    let agents: Agents = Arc::default();
    let seen = agents.clone();
    let nowhere = dead_addr().await;
    let app = Router::new()
        .route(
            "/moved",
            get(move || async move {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("http://{nowhere}/"))],
                )
            }),
        )
        .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT }))
        .route(
            "/agent",
            get(move |headers: HeaderMap| async move {
                let agent = headers
                    .get(header::USER_AGENT)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let status = if agent == Probe::DEFAULT_USER_AGENT {
                    StatusCode::OK
                } else {
                    StatusCode::BAD_REQUEST
                };
                seen.lock().unwrap().push(agent);
                status.into_response()
            }),
        )
        .layer(HealthLayer::new().health(health(up)));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (
        Server {
            addr,
            stop: Some(stop),
            task,
        },
        agents,
    )
}

/// Who answers the gRPC health protocol.
#[derive(Clone, Copy, Debug)]
pub enum Grpc {
    /// `GrpcHealth::new` added with `add_service`, HTTP/2 only.
    Service,
    /// `HealthLayer::grpc()` on a server that also accepts HTTP/1.1 (as for the kubelet's
    /// `httpGet`), which waits to hear the client before it speaks.
    Layer,
}

/// A tonic server answering `grpc.health.v1.Health` from [`health`]`(up)`.
pub async fn grpc_server(up: Arc<AtomicBool>, how: Grpc) -> Server {
    grpc_serving(health(up), how).await
}

/// A tonic server whose only check never finishes (its timeout is an hour away), so that no
/// `Check` call is answered in time.
pub async fn grpc_hanging() -> Server {
    let health = Health::new();
    health.register(
        Check::new("hang", std::future::pending::<bool>).timeout(Duration::from_secs(3600)),
    );
    health.set_lifecycle(Lifecycle::Working);
    grpc_serving(health, Grpc::Service).await
}

async fn grpc_serving(health: Health, how: Grpc) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(async move {
        let served = match how {
            Grpc::Service => {
                tonic::transport::Server::builder()
                    .add_service(GrpcHealth::new(health))
                    .serve_with_incoming_shutdown(incoming, stopped)
                    .await
            }
            Grpc::Layer => {
                tonic::transport::Server::builder()
                    .accept_http1(true)
                    .layer(HealthLayer::new().health(health).grpc())
                    // Never reached for the health protocol, which the layer answers; were it
                    // reached, every check name would be NOT_FOUND in this empty registry.
                    .add_service(GrpcHealth::new(Health::new()))
                    .serve_with_incoming_shutdown(incoming, stopped)
                    .await
            }
        };
        served.unwrap();
    });
    Server {
        addr,
        stop: Some(stop),
        task,
    }
}

/// An address where nothing listens: a port that was bound, then released.
pub async fn dead_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A raw TCP server that runs `each` on every connection it accepts.
async fn raw<F, Fut>(each: F) -> Server
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            connections.spawn(each(stream));
        }
    });
    Server {
        addr,
        stop: None,
        task,
    }
}

/// Reads until the end of an HTTP/1 request head (or the client goes).
async fn read_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

/// Accepts connections and never says a byte, holding them open until dropped.
pub async fn silent() -> Server {
    raw(|stream| async move {
        let _held = stream;
        std::future::pending::<()>().await;
    })
    .await
}

/// Reads the request, then closes the connection without answering.
pub async fn hangs_up() -> Server {
    raw(|mut stream| async move {
        read_head(&mut stream).await;
        drop(stream);
    })
    .await
}

/// Answers 200 with a body announced as 1 MiB, sends `sent` bytes of it, then holds the
/// connection without sending more.
pub async fn stalls_after(sent: usize) -> Server {
    raw(move |mut stream| async move {
        read_head(&mut stream).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1048576\r\n\r\n";
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(&vec![b'x'; sent]).await;
        let _ = stream.flush().await;
        let _held = stream;
        std::future::pending::<()>().await;
    })
    .await
}

/// Answers `status` with a chunked body that does not end: chunks until the client goes
/// (at most 1 GiB, so it stops by itself).
pub async fn endless(status: u16) -> Server {
    raw(move |mut stream| async move {
        read_head(&mut stream).await;
        let head = format!("HTTP/1.1 {status} Whatever\r\ntransfer-encoding: chunked\r\n\r\n");
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("4000\r\n{}\r\n", "y".repeat(0x4000));
        for _ in 0..(1 << 16) {
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await
}

/// Answers every connection with `reply`, verbatim, then closes it.
pub async fn replies(reply: &'static str) -> Server {
    raw(move |mut stream| async move {
        read_head(&mut stream).await;
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await
}
