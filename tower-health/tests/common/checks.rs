//! Test support for the ready-made checks: running one check for real, and local listeners
//! that misbehave in the ways the checks must survive.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tower_health::{Check, CheckRun, Exposure, Health, HealthLayer, Lifecycle, Subject};

use crate::common::{TestServer, get, serve_axum};

/// Registers `check` alone and runs it through the library's evaluation (timeout included).
pub async fn run(check: Check) -> CheckRun {
    let name = check.name().to_owned();
    let health = Health::new();
    // Runs it every time: clones of a check share its cached result, and tests run a clone again
    // after changing what it checks.
    health.set_default_cache_ttl(Duration::ZERO);
    health.register(check);
    let mut report = health
        .evaluate(&Subject::check(name))
        .await
        .expect("the check is registered");
    assert_eq!(report.checks.len(), 1);
    report.checks.remove(0)
}

/// The message of a report, which every failing or warning check must have.
pub fn message(report: &CheckRun) -> &str {
    report
        .result
        .message
        .as_deref()
        .unwrap_or_else(|| panic!("no message in {report:?}"))
}

/// The health+json body a real `HealthLayer` showing all details serves for `check` alone.
pub async fn rendered(check: Check) -> serde_json::Value {
    let health = Health::new();
    health.register(check);
    health.set_lifecycle(Lifecycle::Working);
    let server = serve_axum(
        axum::Router::new().layer(
            HealthLayer::new()
                .health(health)
                .exposure(Exposure::Messages),
        ),
    )
    .await;
    let reply = get(&server, "/health").await;
    server.stop().await;
    reply.json()
}

/// A listener that accepts connections and never answers on them, until dropped.
pub struct Silent {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn silent_listener() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    Silent { addr, task }
}

/// An address of 127.0.0.1 that nothing listens on.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A listener whose accept queue is full and never drained: the kernel drops new connection
/// attempts, so connecting hangs (the SYN is retried) instead of being refused.
pub struct Full {
    pub addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _queued: Vec<TcpStream>,
}

pub async fn full_listener() -> Full {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    // With a backlog of 0 the queue holds one connection; fill it past that.
    for _ in 0..2 {
        if let Ok(Ok(stream)) = tokio::time::timeout(
            std::time::Duration::from_millis(500),
            TcpStream::connect(addr),
        )
        .await
        {
            queued.push(stream);
        }
    }
    Full {
        addr,
        _listener: listener,
        _queued: queued,
    }
}

/// `TestServer` re-exported for the check tests.
pub type Server = TestServer;
