//! The layer in a jsonrpsee server's HTTP middleware, over real sockets: health answered on the
//! JSON-RPC port, a JSON-RPC call over HTTP and one over a WebSocket passed through unchanged.

use std::net::SocketAddr;

use jsonrpsee::server::{RpcModule, Server, ServerHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_health::{Check, Health, HealthLayer, Lifecycle};

use crate::common::{http1_client, send_with};

/// As examples/jsonrpsee.rs serves it, on a free port.
async fn serve(health: &Health) -> (SocketAddr, ServerHandle) {
    let mut module = RpcModule::new(());
    module
        .register_method("say_hello", |_, _, _| "hello")
        .unwrap();
    let server = Server::builder()
        .set_http_middleware(
            tower::ServiceBuilder::new().layer(HealthLayer::new().health(health.clone())),
        )
        .build("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    (addr, server.start(module))
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"say_hello"}"#;

#[tokio::test]
async fn health_is_answered_and_json_rpc_passes_through_over_http_and_websocket() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = failing.clone();
    health.register(
        Check::new("ledger", move || {
            let failing = flag.load(std::sync::atomic::Ordering::SeqCst);
            async move { !failing }
        })
        .cache(std::time::Duration::ZERO),
    );
    let (addr, handle) = serve(&health).await;
    let client = http1_client();

    let get = |path: &str| {
        http::Request::get(format!("http://{addr}{path}"))
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap()
    };
    let ready = send_with(&client, get("/health/ready")).await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.header("content-type"),
        Some("application/health+json")
    );
    failing.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(send_with(&client, get("/health/ready")).await.status, 503);

    // A JSON-RPC call: jsonrpsee answers it, untouched by the layer.
    let call = http::Request::post(format!("http://{addr}/"))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            CALL.as_bytes(),
        )))
        .unwrap();
    let reply = send_with(&client, call).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["result"], "hello");

    // A WebSocket upgrade, then the same call over it.
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(
            format!(
                "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let head = read_head(&mut socket).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "jsonrpsee's own accept key: {head}"
    );
    socket.write_all(&masked_text_frame(CALL)).await.unwrap();
    let text = read_text_frame(&mut socket).await;
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["result"], "hello", "{text}");

    handle.stop().unwrap();
    handle.stopped().await;
}

/// The response head, up to the blank line.
async fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 4096, "an endless head");
        socket.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A client's text frame (clients mask what they send), payload under 126 bytes.
fn masked_text_frame(text: &str) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let payload = text.as_bytes();
    assert!(payload.len() < 126);
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// One unmasked text frame from the server, payload under 64 KiB.
async fn read_text_frame(socket: &mut TcpStream) -> String {
    let mut header = [0u8; 2];
    socket.read_exact(&mut header).await.unwrap();
    assert_eq!(header[0], 0x81, "a final text frame");
    let len = match header[1] & 0x7f {
        126 => {
            let mut extended = [0u8; 2];
            socket.read_exact(&mut extended).await.unwrap();
            usize::from(u16::from_be_bytes(extended))
        }
        127 => panic!("a frame over 64 KiB"),
        len => usize::from(len),
    };
    let mut payload = vec![0u8; len];
    socket.read_exact(&mut payload).await.unwrap();
    String::from_utf8(payload).unwrap()
}
