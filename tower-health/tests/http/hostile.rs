//! Hostile and malformed requests over real sockets: raw bytes written to a TCP connection, so
//! that nothing on the client side cleans them up. Each answer is either the inner service's echo
//! of exactly what was sent, or a well-formed health answer; never a panic or a hung connection.

use crate::common;

use common::within;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestServer, serve_hyper};
use http::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceBuilder;
use tower_health::{
    Check, Endpoint, Exposure, Gate, Group, Health, HealthLayer, Lifecycle, Subject,
};

struct Setup {
    server: TestServer,
    inner_calls: Arc<AtomicUsize>,
    check_runs: Arc<AtomicUsize>,
}

/// The default endpoints, `/k/ready` (readiness with `?exclude=`) and `/pyramid` (any method,
/// checks only on `checks=all`, also from a form body), over an echo inner service; the one
/// check, `db`, fails.
async fn setup() -> Setup {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.set_default_cache_ttl(Duration::ZERO);
    let check_runs = Arc::new(AtomicUsize::new(0));
    let runs = check_runs.clone();
    health.register(Check::new("db", move || {
        runs.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>("db is down") }
    }));
    let inner_calls = Arc::new(AtomicUsize::new(0));
    let calls = inner_calls.clone();
    let layer = HealthLayer::new()
        .health(health)
        .exposure(Exposure::Messages)
        .endpoint(
            Endpoint::new("/k/ready")
                .subject(Subject::group(Group::READY))
                .exclude_param("exclude"),
        )
        .endpoint(
            Endpoint::new("/pyramid")
                .any_method()
                .gate(Gate::None)
                .run_checks_when("checks", ["all"]),
        );
    let server = serve_hyper(
        ServiceBuilder::new()
            .layer(layer)
            .map_request(move |request: Request<_>| {
                calls.fetch_add(1, Ordering::SeqCst);
                request
            })
            .service(common::echo_service()),
    )
    .await;
    Setup {
        server,
        inner_calls,
        check_runs,
    }
}

/// A response read from raw bytes.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// Asserts the inner service answered, having seen exactly `method target HTTP/1.1 body`.
    fn assert_passed_through(&self, method: &str, target: &str, body: &str) {
        assert_eq!(self.header("x-inner"), Some("yes"), "{self:?}");
        assert_eq!(self.text(), format!("{method} {target} HTTP/1.1 {body}"));
    }

    /// Asserts a well-formed health answer.
    fn assert_health(&self) {
        assert_eq!(self.header("x-inner"), None, "{self:?}");
        assert_eq!(self.header("cache-control"), Some("no-store"), "{self:?}");
        if self.status != 405 {
            assert_eq!(
                self.header("content-type"),
                Some("application/health+json"),
                "{self:?}"
            );
            self.json();
        }
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

/// Reads one response: the head, then `Content-Length` bytes of body (`HEAD`: none).
async fn read_response(stream: &mut TcpStream, head_only: bool) -> Raw {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = within(stream.read(&mut chunk)).await.unwrap();
        assert!(read > 0, "connection closed before a response: {buffer:?}");
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    let length: usize = if head_only {
        0
    } else {
        headers["content-length"].parse().unwrap()
    };
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let read = within(stream.read(&mut chunk)).await.unwrap();
        assert!(read > 0, "connection closed mid-body");
        body.extend_from_slice(&chunk[..read]);
    }
    Raw {
        status,
        headers,
        body,
    }
}

/// Writes `request` as is on a new connection and reads the response.
async fn send(server: &TestServer, request: &[u8]) -> Raw {
    let mut stream = connect(server.addr).await;
    stream.write_all(request).await.unwrap();
    let head_only = request.starts_with(b"HEAD ");
    read_response(&mut stream, head_only).await
}

async fn send_get(server: &TestServer, target: &str) -> Raw {
    send(
        server,
        format!("GET {target} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
    )
    .await
}

#[tokio::test]
async fn only_exact_paths_are_health_paths() {
    let Setup {
        server,
        inner_calls,
        ..
    } = setup().await;
    for target in [
        "//health",
        "//health/ready",
        "/health/../health",
        "/health/./ready",
        "/HEALTH",
        "/Health/Ready",
        "/health/",
        "/health/ready/",
        "/health/ready/db/",
        "/health/ready//db",
        "/health/%72eady",
        "/health%2Fready",
        "/healthz",
        "/health;x=1",
        "*",
    ] {
        send_get(&server, target)
            .await
            .assert_passed_through("GET", target, "");
    }
    let passed = inner_calls.load(Ordering::SeqCst);
    for (target, status) in [
        ("/health", 503),
        ("/health/ready", 503),
        ("/health/ready?", 503),
        ("/health/live", 200),
        ("/health/startup", 200),
        ("/health/ready/db", 503),
        ("/health/ready/nope", 404),
        ("/health/ready/%zz", 404),
    ] {
        let reply = send_get(&server, target).await;
        reply.assert_health();
        assert_eq!(reply.status, status, "{target}");
    }
    assert_eq!(inner_calls.load(Ordering::SeqCst), passed);
}

#[tokio::test]
async fn absolute_form_targets_match_on_their_path() {
    let setup = setup().await;
    let reply = send(
        &setup.server,
        b"GET http://example.com/health/ready HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )
    .await;
    reply.assert_health();
    assert_eq!(reply.status, 503);
    send_get(&setup.server, "http://example.com/other?q=1")
        .await
        .assert_passed_through("GET", "http://example.com/other?q=1", "");
}

#[tokio::test]
async fn long_paths_and_query_strings() {
    let setup = setup().await;
    let name = "a".repeat(8_000);
    let reply = send_get(&setup.server, &format!("/health/ready/{name}")).await;
    reply.assert_health();
    assert_eq!(reply.status, 404);
    assert!(reply.json()["output"].as_str().unwrap().contains(&name));

    let long = format!("/{name}");
    send_get(&setup.server, &long)
        .await
        .assert_passed_through("GET", &long, "");

    let query = format!("/health/ready?q={}", "x".repeat(50_000));
    let reply = send_get(&setup.server, &query).await;
    reply.assert_health();
    assert_eq!(reply.status, 503);

    // Beyond what hyper reads for a request head: refused by the server, never reaches us.
    let calls = setup.inner_calls.load(Ordering::SeqCst);
    let huge = format!("/health/ready?q={}", "x".repeat(1 << 20));
    let reply = send_get(&setup.server, &huge).await;
    assert!(
        reply.status >= 400 && reply.status < 500,
        "{}",
        reply.status
    );
    assert_eq!(setup.inner_calls.load(Ordering::SeqCst), calls);
}

#[tokio::test]
async fn query_parameters_are_bounded_repeatable_and_decoded_leniently() {
    let setup = setup().await;
    let status = |reply: Raw| {
        reply.assert_health();
        reply.status
    };
    let many: String = (0..5_000).map(|i| format!("&p{i}=1")).collect();
    assert_eq!(
        status(send_get(&setup.server, &format!("/k/ready?exclude=db{many}")).await),
        200,
        "read before the bound"
    );
    let before: String = (0..100).map(|i| format!("p{i}=1&")).collect();
    assert_eq!(
        status(send_get(&setup.server, &format!("/k/ready?{before}exclude=db")).await),
        503,
        "ignored past the bound of tower_health::endpoint::MAX_QUERY_PARAMS"
    );
    for (query, expected) in [
        ("exclude=db&exclude=db&exclude=&&=&exclude&=x", 200),
        ("&&&&", 503),
        ("exclude=d%62", 200),
        ("exclude=%zz&exclude=%&exclude=%ff%fe&%=%&exclude=db%", 503),
        ("exclude=%ff%fe&exclude=db", 200),
    ] {
        let reply = send_get(&setup.server, &format!("/k/ready?{query}")).await;
        assert_eq!(status(reply), expected, "{query}");
    }
}

#[tokio::test]
async fn invalid_bytes_in_the_request_line_are_refused_by_the_server() {
    let setup = setup().await;
    for request in [
        &b"GET /health/ready\xff HTTP/1.1\r\nHost: test\r\n\r\n"[..],
        b"GET /health/ready?\xff\xfe HTTP/1.1\r\nHost: test\r\n\r\n",
        b"GET /health/ready HTTP/1.1\r\nHost: te\x00st\r\n\r\n",
        b"GET\t/health/ready HTTP/1.1\r\n\r\n",
    ] {
        let reply = send(&setup.server, request).await;
        assert_eq!(reply.status, 400, "{request:?}");
    }
    assert_eq!(setup.inner_calls.load(Ordering::SeqCst), 0);
    assert_eq!(setup.check_runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unusual_methods_get_405_on_health_paths_and_pass_through_elsewhere() {
    let setup = setup().await;
    for method in ["FOO", "get", "TRACE", "OPTIONS", "DELETE", "PROPFIND"] {
        let reply = send(
            &setup.server,
            format!("{method} /health/ready HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
        )
        .await;
        reply.assert_health();
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        send(
            &setup.server,
            format!("{method} /other HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
        )
        .await
        .assert_passed_through(method, "/other", "");
    }
    assert_eq!(setup.check_runs.load(Ordering::SeqCst), 0);
    let head = send(
        &setup.server,
        b"HEAD /health/ready HTTP/1.1\r\nHost: test\r\n\r\n",
    )
    .await;
    assert_eq!(head.status, 503);
    assert!(head.body.is_empty());
    assert_ne!(head.header("content-length"), Some("0"));
    send(
        &setup.server,
        b"POST /submit HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello",
    )
    .await
    .assert_passed_through("POST", "/submit", "hello");
}

/// Declares a body of 1 GiB, sends 64 KiB of it and stops: the answer must come anyway.
async fn huge_body(server: &TestServer, head: &str) -> Raw {
    let mut stream = connect(server.addr).await;
    stream
        .write_all(format!("{head}Content-Length: {}\r\n\r\n", 1u64 << 30).as_bytes())
        .await
        .unwrap();
    // The server may stop reading (and the write block) once it has answered.
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        stream.write_all(&vec![b'x'; 64 * 1024]),
    )
    .await;
    read_response(&mut stream, false).await
}

#[tokio::test]
async fn large_bodies_sent_to_health_paths_are_not_waited_for() {
    let setup = setup().await;
    let host = "Host: test\r\n";
    let reply = huge_body(
        &setup.server,
        &format!("GET /health/ready HTTP/1.1\r\n{host}"),
    )
    .await;
    reply.assert_health();
    assert_eq!(reply.status, 503);
    let reply = huge_body(
        &setup.server,
        &format!("POST /health/ready HTTP/1.1\r\n{host}"),
    )
    .await;
    assert_eq!(reply.status, 405);
    // A form endpoint reads at most 8 KiB: a larger form is ignored and the checks do not run.
    let runs = setup.check_runs.load(Ordering::SeqCst);
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let reply = huge_body(
        &setup.server,
        &format!("POST /pyramid HTTP/1.1\r\n{host}{form}"),
    )
    .await;
    reply.assert_health();
    assert_eq!(reply.status, 200);
    assert_eq!(setup.check_runs.load(Ordering::SeqCst), runs);
    // A small form is read.
    let reply = send(
        &setup.server,
        format!("POST /pyramid HTTP/1.1\r\n{host}{form}Content-Length: 10\r\n\r\nchecks=all")
            .as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 503);
    assert_eq!(setup.inner_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn many_slow_clients_do_not_hold_up_probes() {
    let setup = setup().await;
    let addr = setup.server.addr;
    // Half a request head, never finished.
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = connect(addr).await;
        stream
            .write_all(b"GET /health/ready HTTP/1.1\r\nHost: te")
            .await
            .unwrap();
        stalled.push(stream);
    }
    // A form whose body never comes, on an endpoint that reads forms.
    let mut waiting = Vec::new();
    for _ in 0..50 {
        let mut stream = connect(addr).await;
        stream
            .write_all(
                b"POST /pyramid HTTP/1.1\r\nHost: test\r\n\
                  Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nche",
            )
            .await
            .unwrap();
        waiting.push(stream);
    }
    let reply = send_get(&setup.server, "/health/live").await;
    reply.assert_health();
    assert_eq!(reply.status, 200);
    // Each stalled form gets its answer once the form read gives up.
    for mut stream in waiting {
        let reply = read_response(&mut stream, false).await;
        reply.assert_health();
        assert_eq!(reply.status, 200);
    }
    drop(stalled);
    assert_eq!(setup.check_runs.load(Ordering::SeqCst), 0);
    assert_eq!(setup.inner_calls.load(Ordering::SeqCst), 0);
}
