//! The standalone listener closes connections that never finish sending their headers.

#![cfg(feature = "listener")]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_health::listener::{HealthListener, ListenerConfig};
use tower_health::{Health, HealthLayer};

#[tokio::test(start_paused = true)]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let config =
        ListenerConfig::from_vars([("HEALTH_CHECK", "1"), ("HEALTH_CHECK_PORT", "0")]).unwrap();
    let listener = HealthListener::start(&config, HealthLayer::new().health(Health::new()))
        .await
        .unwrap();
    let mut stream = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    // The paused clock jumps to the next timer while the test waits: the header timeout's,
    // long before this one's.
    let read = tokio::time::timeout(
        HealthListener::HEADER_READ_TIMEOUT * 10,
        stream.read_to_end(&mut reply),
    );
    read.await
        .expect("the connection was left open")
        .unwrap_or_default();
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408"),
        "{reply}"
    );
    listener.shutdown().await;
}
