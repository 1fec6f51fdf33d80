//! Running checks: concurrency, timeouts, panics, clients that go away, the registry,
//! aggregation and status codes, through real servers.

use crate::common;

use common::{HANG, within};

use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get as axum_get;
use bytes::Bytes;
use common::{TestServer, get, http2_client, send_with, serve_axum, serve_hyper};
use http::{Request, StatusCode};
use http_body_util::Full;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tower::{Layer, ServiceExt};
use tower_health::{
    Check, CheckResult, Exposure, Health, HealthCheck, HealthLayer, Lifecycle, Status, StatusCodes,
};

/// Short, so that a hung check is stopped soon after its client went away.
const SHORT: Duration = Duration::from_millis(300);

fn working() -> Health {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    // These tests count runs and change outcomes between requests: every request runs its
    // checks (the cache has tests of its own, in resilience.rs).
    health.set_default_cache_ttl(Duration::ZERO);
    health
}

async fn server(health: &Health) -> TestServer {
    serve_hyper(
        HealthLayer::new()
            .health(health.clone())
            .exposure(Exposure::Messages)
            .layer(common::echo_service()),
    )
    .await
}

async fn axum_server(health: &Health) -> TestServer {
    let app = Router::new()
        .route("/", axum_get(|| async { "hello" }))
        .layer(
            HealthLayer::new()
                .health(health.clone())
                .exposure(Exposure::Messages),
        );
    serve_axum(app).await
}

#[tokio::test]
async fn checks_run_concurrently() {
    let health = working();
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    for name in ["first", "second"] {
        let events = events.clone();
        health.register(
            Check::new(name, move || {
                let events = events.clone();
                async move {
                    events.lock().unwrap().push(format!("start {name}"));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    events.lock().unwrap().push(format!("end {name}"));
                    true
                }
            })
            .timeout(Duration::from_secs(10)),
        );
    }
    let server = server(&health).await;
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::OK);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 4, "{events:?}");
    // Both started before either finished: they overlapped.
    assert!(
        events[..2].iter().all(|e| e.starts_with("start")),
        "{events:?}"
    );
    assert!(
        events[2..].iter().all(|e| e.starts_with("end")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_check_past_its_timeout_fails_as_timed_out_and_is_stopped() {
    let health = working();
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel::<&'static str>();
    health.register(
        Check::new("slow", move || {
            let guard = Guard(dropped_tx.clone(), "slow");
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }
        })
        .timeout(Duration::from_millis(50)),
    );
    health.register(Check::new("fast", || async { true }));
    for server in [server(&health).await, axum_server(&health).await] {
        let reply = get(&server, "/health/ready").await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        let body = reply.json();
        assert_eq!(body["status"], "fail");
        assert_eq!(body["checks"]["fast"][0]["status"], "pass");
        let slow = &body["checks"]["slow"][0];
        assert_eq!(slow["status"], "fail");
        assert!(
            slow["output"].as_str().unwrap().contains("timed out"),
            "{slow}"
        );
        // The timed-out run was dropped, not left running.
        assert_eq!(dropped.try_recv(), Ok("slow"));
    }
}

#[tokio::test]
async fn the_default_timeout_is_below_a_second_and_configurable() {
    assert!(Health::DEFAULT_TIMEOUT < Duration::from_secs(1));
    let health = working();
    assert_eq!(health.default_timeout(), Health::DEFAULT_TIMEOUT);
    health.set_default_timeout(Duration::from_millis(30));
    health.register(Check::new("hangs", std::future::pending::<()>));
    let server = server(&health).await;
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let output = reply.json()["checks"]["hangs"][0]["output"].clone();
    assert!(output.as_str().unwrap().contains("timed out"), "{output}");
}

fn explode(message: &str) -> bool {
    panic!("{message}")
}

#[tokio::test]
async fn a_panicking_check_fails_and_the_server_keeps_serving() {
    let health = working();
    health.register(Check::new("in-future", || async {
        explode("the pool is gone")
    }));
    health.register(Check::new("in-closure", || -> std::future::Ready<bool> {
        panic!("could not even start")
    }));
    health.register(Check::new("fine", || async { true }));
    for server in [server(&health).await, axum_server(&health).await] {
        for _ in 0..3 {
            let reply = get(&server, "/health/ready").await;
            assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
            let body = reply.json();
            for (name, message) in [
                ("in-future", "the pool is gone"),
                ("in-closure", "could not even start"),
            ] {
                let entry = &body["checks"][name][0];
                assert_eq!(entry["status"], "fail");
                let output = entry["output"].as_str().unwrap();
                assert!(output.contains("panicked"), "{output}");
                assert!(output.contains(message), "{output}");
            }
            assert_eq!(body["checks"]["fine"][0]["status"], "pass");
        }
        assert_eq!(get(&server, "/health/live").await.status, StatusCode::OK);
        assert_eq!(get(&server, "/").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn the_panic_status_code_is_configurable() {
    let health = working();
    health.register(Check::new("boom", || async { explode("boom") }));
    let mut codes = StatusCodes::default();
    codes.errored = Some(StatusCode::INTERNAL_SERVER_ERROR);
    let server = serve_hyper(
        HealthLayer::new()
            .health(health.clone())
            .status_codes(codes)
            .layer(common::echo_service()),
    )
    .await;
    assert_eq!(
        get(&server, "/health/ready").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

/// Reports on its channel when the check's run ends, by completion or by being dropped.
struct Guard(mpsc::UnboundedSender<&'static str>, &'static str);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

/// A check that reports its start, then waits forever, until its timeout stops it; its result
/// is kept for an hour, so the probe after the run reads it.
fn hanging_check(
    timeout: Duration,
) -> (
    Check,
    mpsc::UnboundedReceiver<()>,
    mpsc::UnboundedReceiver<&'static str>,
) {
    let (started_tx, started) = mpsc::unbounded_channel();
    let (ended_tx, ended) = mpsc::unbounded_channel();
    let check = Check::new("hangs", move || {
        let guard = Guard(ended_tx.clone(), "ended");
        let _ = started_tx.send(());
        async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }
    })
    .timeout(timeout)
    .cache(Duration::from_secs(3600));
    (check, started, ended)
}

/// Waits for the hung check's future to be dropped, failing instead of hanging when it is stuck.
async fn ended(ended: &mut mpsc::UnboundedReceiver<&'static str>) {
    let end = tokio::time::timeout(HANG, ended.recv()).await;
    assert_eq!(end, Ok(Some("ended")), "the check was left running");
}

/// Waits until no more than `before` tasks are alive on this runtime: whatever a request started
/// (its connection, the check's run) has ended.
async fn settled(before: usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    let settled = tokio::time::timeout(HANG, async {
        while metrics.num_alive_tasks() > before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "{} tasks still running, {before} before the request",
        metrics.num_alive_tasks()
    );
}

/// Asserts that `body` shows the hung check's run as timed out, and that nothing ran it again.
fn assert_read_the_timed_out_run(
    body: &serde_json::Value,
    started: &mut mpsc::UnboundedReceiver<()>,
) {
    let hangs = &body["checks"]["hangs"][0];
    assert_eq!(hangs["status"], "fail", "{body}");
    let output = hangs["output"].as_str().unwrap();
    assert!(output.contains("timed out"), "{output}");
    assert!(started.try_recv().is_err(), "the check ran again");
}

#[tokio::test]
async fn a_dropped_response_future_leaves_the_run_to_its_timeout_and_the_next_probe() {
    let health = working();
    let (check, mut started, mut ended_rx) = hanging_check(SHORT);
    health.register(check);
    let service = HealthLayer::new()
        .health(health.clone())
        .exposure(Exposure::Messages)
        .layer(tower::service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
        }));
    let request = || {
        Request::builder()
            .uri("/health/ready")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let mut response = Box::pin(service.clone().oneshot(request()));
    within(async {
        tokio::select! {
            _ = &mut response => panic!("answered while its check hangs"),
            _ = started.recv() => {}
        }
    })
    .await;
    drop(response);
    // The run is shared, not the requester's: it goes on until its timeout stops it.
    assert!(ended_rx.try_recv().is_err(), "cancelled with the response");
    ended(&mut ended_rx).await;
    settled(0).await;
    // The next probe reads what the run left.
    let response = within(service.oneshot(request())).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = within(http_body_util::BodyExt::collect(response.into_body()))
        .await
        .unwrap()
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_read_the_timed_out_run(&body, &mut started);
}

#[tokio::test]
async fn a_client_that_disconnects_over_http1_leaves_nothing_stuck() {
    let health = working();
    let (check, mut started, mut ended_rx) = hanging_check(SHORT);
    health.register(check);
    let server = server(&health).await;
    let idle = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /health/ready HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    within(started.recv()).await.unwrap();
    drop(stream);
    // The check's timeout stops it; the connection and the run end.
    ended(&mut ended_rx).await;
    settled(idle).await;
    // The server keeps answering, from the run the client left.
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_read_the_timed_out_run(&reply.json(), &mut started);
    health.deregister("hangs");
    assert_eq!(get(&server, "/health/ready").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_resets_an_http2_stream_leaves_nothing_stuck() {
    let health = working();
    let (check, mut started, mut ended_rx) = hanging_check(SHORT);
    health.register(check);
    let server = server(&health).await;
    let idle = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let client = http2_client();
    let request = Request::builder()
        .uri(server.url("/health/ready"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let pending = tokio::spawn(async move { client.request(request).await });
    within(started.recv()).await.unwrap();
    pending.abort();
    // The check's timeout stops it; the stream, the connection and the run end.
    ended(&mut ended_rx).await;
    settled(idle).await;
    // The server keeps answering, from the run the client left.
    let client = http2_client();
    let request = Request::builder()
        .uri(server.url("/health/ready"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = send_with(&client, request).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_read_the_timed_out_run(&reply.json(), &mut started);
    health.deregister("hangs");
    let request = Request::builder()
        .uri(server.url("/health/ready"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send_with(&client, request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn registration_removal_and_replacement_show_on_the_next_request() {
    let health = working();
    let server = server(&health).await;
    let checks = |reply: &common::Reply| {
        let mut names: Vec<String> = reply.json()["checks"]
            .as_object()
            .map(|checks| checks.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    };
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(checks(&reply).is_empty());

    health.register(Check::new("db", || async { Err::<(), _>("refused") }));
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(checks(&reply), ["db"]);
    assert_eq!(get(&server, "/health/ready/db").await.status, 503);

    // From another clone of the handle, in another task.
    let other = health.clone();
    tokio::spawn(async move { other.replace(Check::new("db", || async { Ok::<(), String>(()) })) })
        .await
        .unwrap();
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["checks"]["db"].as_array().unwrap().len(), 1);

    health.register(Check::new("cache", || async { true }).liveness());
    assert_eq!(checks(&get(&server, "/health/live").await), ["cache"]);
    assert_eq!(checks(&get(&server, "/health").await), ["cache", "db"]);

    assert!(health.deregister("db"));
    assert!(!health.deregister("db"));
    assert_eq!(checks(&get(&server, "/health").await), ["cache"]);
    assert_eq!(get(&server, "/health/ready/db").await.status, 404);
}

#[tokio::test]
async fn checks_run_once_per_request_and_only_for_their_probes() {
    let health = working();
    let runs: Vec<Arc<AtomicUsize>> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let counted = |runs: &Arc<AtomicUsize>| {
        let runs = runs.clone();
        move || {
            runs.fetch_add(1, Ordering::SeqCst);
            async { true }
        }
    };
    health.register(Check::new("ready", counted(&runs[0])));
    health.register(Check::new("live", counted(&runs[1])).liveness());
    health.register(Check::new("both", counted(&runs[2])).liveness().startup());
    let server = server(&health).await;
    let count = || {
        runs.iter()
            .map(|r| r.load(Ordering::SeqCst))
            .collect::<Vec<_>>()
    };
    get(&server, "/health/ready").await;
    assert_eq!(count(), [1, 0, 0]);
    get(&server, "/health/live").await;
    assert_eq!(count(), [1, 1, 1]);
    get(&server, "/health/startup").await;
    assert_eq!(count(), [1, 1, 2]);
    get(&server, "/health").await;
    assert_eq!(count(), [2, 2, 3]);
    get(&server, "/health/live/both").await;
    assert_eq!(count(), [2, 2, 4]);
}

#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection refused by db.internal:5432")
    }
}

struct Threshold {
    depth: Arc<AtomicUsize>,
}

impl HealthCheck for Threshold {
    async fn check(&self) -> CheckResult {
        let depth = self.depth.load(Ordering::SeqCst);
        if depth > 10 {
            CheckResult::warn("queue is deep").observed(depth, "jobs")
        } else {
            CheckResult::pass()
        }
    }
}

#[tokio::test]
async fn every_kind_of_check_result_is_understood() {
    let health = working();
    let depth = Arc::new(AtomicUsize::new(0));
    health.register(Check::new("result-err", || async { Err::<(), _>(Refused) }));
    health.register(Check::new("result-ok", || async { Ok::<(), Refused>(()) }));
    health.register(Check::new("bool", || async { false }));
    health.register(Check::new("status", || async { Status::Warn }));
    health.register(Check::new("unit", || async {}));
    health.register(Check::new("checked", || async {
        Ok::<_, Refused>(CheckResult::warn("slow"))
    }));
    health.register(Check::from_health_check(
        "stateful",
        Threshold {
            depth: depth.clone(),
        },
    ));
    let server = server(&health).await;
    let body = get(&server, "/health/ready").await.json();
    let entry = |name: &str| body["checks"][name][0].clone();
    assert_eq!(entry("result-err")["status"], "fail");
    assert_eq!(
        entry("result-err")["output"],
        "connection refused by db.internal:5432"
    );
    assert_eq!(entry("result-ok")["status"], "pass");
    assert_eq!(entry("bool")["status"], "fail");
    assert_eq!(entry("status")["status"], "warn");
    assert_eq!(entry("unit")["status"], "pass");
    assert_eq!(entry("checked")["status"], "warn");
    assert_eq!(entry("checked")["output"], "slow");
    assert_eq!(entry("stateful")["status"], "pass");

    depth.store(12, Ordering::SeqCst);
    let body = get(&server, "/health/ready/stateful").await.json();
    assert_eq!(body["status"], "warn");
    assert_eq!(body["checks"]["stateful"][0]["observedValue"], 12);
}

#[tokio::test]
async fn the_worst_status_wins_and_non_critical_failures_only_warn() {
    let health = working();
    let server = server(&health).await;
    let status = |reply: common::Reply| (reply.status, reply.json()["status"].clone());

    health.register(Check::new("ok", || async { true }));
    assert_eq!(
        status(get(&server, "/health/ready").await),
        (StatusCode::OK, "pass".into())
    );

    health.register(Check::new("optional", || async { false }).non_critical());
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.json()["checks"]["optional"][0]["status"], "fail");
    assert_eq!(status(reply), (StatusCode::OK, "warn".into()));

    health.register(Check::new("degraded", || async { Status::Warn }));
    assert_eq!(
        status(get(&server, "/health/ready").await),
        (StatusCode::OK, "warn".into())
    );

    health.register(Check::new("required", || async { false }));
    assert_eq!(
        status(get(&server, "/health/ready").await),
        (StatusCode::SERVICE_UNAVAILABLE, "fail".into())
    );
}

#[tokio::test]
async fn the_status_code_mapping_is_configurable() {
    let health = working();
    let mut codes = StatusCodes::default();
    codes.pass = StatusCode::ACCEPTED;
    codes.warn = StatusCode::from_u16(218).unwrap();
    codes.fail = StatusCode::INTERNAL_SERVER_ERROR;
    codes.unknown_check = StatusCode::GONE;
    let server = serve_hyper(
        HealthLayer::new()
            .health(health.clone())
            .status_codes(codes)
            .layer(common::echo_service()),
    )
    .await;
    assert_eq!(
        get(&server, "/health/ready").await.status,
        StatusCode::ACCEPTED
    );
    health.register(Check::new("degraded", || async { Status::Warn }));
    assert_eq!(get(&server, "/health/ready").await.status, 218);
    health.register(Check::new("down", || async { false }));
    assert_eq!(
        get(&server, "/health/ready").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        get(&server, "/health/ready/nope").await.status,
        StatusCode::GONE
    );
}
