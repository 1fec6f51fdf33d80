//! The probe library against real servers on 127.0.0.1: services wrapped in tower-health over
//! HTTP and gRPC, and raw TCP servers that refuse, stay silent, hang up or send endless bodies.
//! Every exit code is reached for both protocols; the binary's own tests are in tests/cli.rs.

mod probe_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use probe_support::{Grpc, HANG, SHORT};
use tower_health_probe::{Probe, ProbeOutcome, Verdict};

async fn run(probe: Probe) -> ProbeOutcome {
    tokio::time::timeout(HANG * 2, probe.run())
        .await
        .expect("the probe hung")
}

/// `probe` with timeouts that only catch hangs, for verdicts that are not about time (a loaded
/// machine never turns them into a timeout); tests of timeouts set their own short ones.
fn patient(probe: Probe) -> Probe {
    probe.timeout(HANG).connect_timeout(HANG)
}

fn up() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(true))
}

#[tokio::test]
async fn http_healthy_then_unhealthy_as_the_check_flips() {
    let flag = up();
    let (server, _) = probe_support::http_app(flag.clone()).await;
    let outcome = run(patient(Probe::http(server.url("/health/ready")))).await;
    assert_eq!(outcome.verdict(), Verdict::Healthy, "{outcome}");
    assert_eq!(outcome.verdict().code(), 0);
    assert!(outcome.message().contains("200 OK"), "{outcome}");

    flag.store(false, Ordering::SeqCst);
    let outcome = run(patient(Probe::http(server.url("/health/ready")))).await;
    assert_eq!(outcome.verdict(), Verdict::Unhealthy, "{outcome}");
    assert_eq!(outcome.verdict().code(), 4);
    assert!(outcome.message().contains("503"), "{outcome}");
}

#[tokio::test]
async fn http_statuses_outside_200_to_399_are_unhealthy() {
    let (server, _) = probe_support::http_app(up()).await;
    for path in ["/teapot", "/no-such-route"] {
        let outcome = run(patient(Probe::http(server.url(path)))).await;
        assert_eq!(outcome.verdict(), Verdict::Unhealthy, "{path}: {outcome}");
    }
}

#[tokio::test]
async fn http_redirect_counts_healthy_and_is_not_followed() {
    let (server, _) = probe_support::http_app(up()).await;
    let outcome = run(patient(Probe::http(server.url("/moved")))).await;
    assert_eq!(outcome.verdict(), Verdict::Healthy, "{outcome}");
    assert!(outcome.message().contains("302"), "{outcome}");
}

#[tokio::test]
async fn http_sends_the_probe_user_agent() {
    let (server, agents) = probe_support::http_app(up()).await;
    let outcome = run(patient(Probe::http(server.url("/agent")))).await;
    assert_eq!(outcome.verdict(), Verdict::Healthy, "{outcome}");
    assert_eq!(
        agents.lock().unwrap().as_slice(),
        [format!("tower-health-probe/{}", env!("CARGO_PKG_VERSION"))]
    );

    let outcome = run(patient(
        Probe::http(server.url("/agent")).user_agent("myapp/2"),
    ))
    .await;
    assert_eq!(outcome.verdict(), Verdict::Unhealthy, "{outcome}");
    assert_eq!(agents.lock().unwrap().last().unwrap(), "myapp/2");
}

#[tokio::test]
async fn http_connection_refused_is_a_connection_failure() {
    let addr = probe_support::dead_addr().await;
    let outcome = run(patient(Probe::http(format!("http://{addr}/health")))).await;
    assert_eq!(outcome.verdict(), Verdict::ConnectionFailed, "{outcome}");
    assert_eq!(outcome.verdict().code(), 2);
}

#[tokio::test]
async fn http_silent_server_times_out_as_a_connection_failure() {
    let server = probe_support::silent().await;
    let outcome = run(Probe::http(server.url("/health")).timeout(SHORT)).await;
    assert_eq!(outcome.verdict(), Verdict::ConnectionFailed, "{outcome}");
    assert!(outcome.message().starts_with("timeout"), "{outcome}");
}

#[tokio::test]
async fn http_hang_up_without_an_answer_is_a_request_failure() {
    let server = probe_support::hangs_up().await;
    let outcome = run(patient(Probe::http(server.url("/health")))).await;
    assert_eq!(outcome.verdict(), Verdict::RequestFailed, "{outcome}");
    assert_eq!(outcome.verdict().code(), 3);
}

#[tokio::test]
async fn http_answer_that_is_not_http_is_a_request_failure() {
    let server = probe_support::replies("SSH-2.0-OpenSSH_9.2\r\n").await;
    let outcome = run(patient(Probe::http(server.url("/health")))).await;
    assert_eq!(outcome.verdict(), Verdict::RequestFailed, "{outcome}");
}

#[tokio::test]
async fn http_endless_body_still_gets_a_verdict() {
    for (status, verdict) in [(200, Verdict::Healthy), (500, Verdict::Unhealthy)] {
        let server = probe_support::endless(status).await;
        let outcome = run(patient(Probe::http(server.url("/health")))).await;
        assert_eq!(outcome.verdict(), verdict, "{outcome}");
        let message = outcome.message();
        let body = message
            .strip_suffix(" (body cut at 10 KiB)")
            .expect("the message says the body was cut")
            .matches('y')
            .count();
        assert_eq!(body, Probe::BODY_LIMIT, "the message holds what was read");
    }
}

#[tokio::test]
async fn http_reads_exactly_10_kib_of_the_body_and_no_more() {
    // The body stops arriving after 10 KiB: the probe has all it reads, and answers at once.
    let server = probe_support::stalls_after(Probe::BODY_LIMIT).await;
    let outcome = run(patient(Probe::http(server.url("/health")))).await;
    assert_eq!(outcome.verdict(), Verdict::Healthy, "{outcome}");
    // One byte short: the probe waits for the rest, until its timeout.
    let server = probe_support::stalls_after(Probe::BODY_LIMIT - 1).await;
    let outcome = run(Probe::http(server.url("/health")).timeout(SHORT)).await;
    assert_eq!(outcome.verdict(), Verdict::ConnectionFailed, "{outcome}");
}

#[tokio::test]
async fn http_bad_urls_are_bad_arguments() {
    for url in [
        "not a url",
        "https://127.0.0.1/health",
        "ftp://127.0.0.1/",
        "/health",
        "http://user:secret@127.0.0.1/",
    ] {
        let outcome = run(patient(Probe::http(url))).await;
        assert_eq!(outcome.verdict(), Verdict::BadArguments, "{url}: {outcome}");
        assert!(!outcome.message().contains("secret"), "{outcome}");
    }
}

#[tokio::test]
async fn grpc_serving_then_not_serving_as_the_check_flips() {
    for how in [Grpc::Service, Grpc::Layer] {
        let flag = up();
        let server = probe_support::grpc_server(flag.clone(), how).await;
        for service in ["", "readiness", "db"] {
            let outcome = run(patient(Probe::grpc(server.addr()).service(service))).await;
            assert_eq!(
                outcome.verdict(),
                Verdict::Healthy,
                "{how:?} {service:?}: {outcome}"
            );
            assert_eq!(outcome.message(), "status: SERVING");
        }
        flag.store(false, Ordering::SeqCst);
        for service in ["readiness", "db"] {
            let outcome = run(patient(Probe::grpc(server.addr()).service(service))).await;
            assert_eq!(
                outcome.verdict(),
                Verdict::Unhealthy,
                "{how:?} {service:?}: {outcome}"
            );
            assert!(outcome.message().contains("NOT_SERVING"), "{outcome}");
        }
        // Liveness has no check failing.
        let outcome = run(patient(Probe::grpc(server.addr()).service("liveness"))).await;
        assert_eq!(outcome.verdict(), Verdict::Healthy, "{how:?}: {outcome}");
    }
}

#[tokio::test]
async fn grpc_unknown_service_is_a_request_failure() {
    let server = probe_support::grpc_server(up(), Grpc::Service).await;
    let outcome = run(patient(Probe::grpc(server.addr()).service("no-such-check"))).await;
    assert_eq!(outcome.verdict(), Verdict::RequestFailed, "{outcome}");
    assert!(outcome.message().contains("NotFound"), "{outcome}");
}

#[tokio::test]
async fn grpc_rpc_that_does_not_finish_in_time_is_a_request_failure() {
    let server = probe_support::grpc_hanging().await;
    let outcome = run(patient(Probe::grpc(server.addr()).service("hang")).timeout(SHORT)).await;
    assert_eq!(outcome.verdict(), Verdict::RequestFailed, "{outcome}");
    // The deadline is also sent (grpc-timeout), so either the probe gives up or tonic's server
    // answers CANCELLED "Timeout expired" first; both are the RPC failing in time.
    assert!(outcome.message().contains("imeout"), "{outcome}");
}

#[tokio::test]
async fn grpc_to_a_server_without_the_protocol_is_a_request_failure() {
    // The axum app speaks HTTP/2 but has no gRPC: the call's path is a 404, which gRPC reads as
    // UNIMPLEMENTED.
    let (server, _) = probe_support::http_app(up()).await;
    let outcome = run(patient(Probe::grpc(server.addr()))).await;
    assert_eq!(outcome.verdict(), Verdict::RequestFailed, "{outcome}");
    assert!(
        outcome.message().contains("does not implement"),
        "{outcome}"
    );
}

#[tokio::test]
async fn grpc_connection_refused_is_a_connection_failure() {
    let addr = probe_support::dead_addr().await;
    let outcome = run(patient(Probe::grpc(addr.to_string()))).await;
    assert_eq!(outcome.verdict(), Verdict::ConnectionFailed, "{outcome}");
}

#[tokio::test]
async fn grpc_silent_server_fails_to_connect_in_time() {
    let server = probe_support::silent().await;
    let outcome = run(Probe::grpc(server.addr()).connect_timeout(SHORT)).await;
    assert_eq!(outcome.verdict(), Verdict::ConnectionFailed, "{outcome}");
    assert!(outcome.message().starts_with("timeout"), "{outcome}");
}

#[tokio::test]
async fn grpc_hang_up_before_speaking_is_a_connection_failure() {
    let server = probe_support::hangs_up().await;
    let outcome = run(patient(Probe::grpc(server.addr()))).await;
    assert_eq!(outcome.verdict(), Verdict::ConnectionFailed, "{outcome}");
}

#[tokio::test]
async fn grpc_bad_addresses_are_bad_arguments() {
    for addr in ["", "127.0.0.1", "not an address:1", "127.0.0.1:99999"] {
        let outcome = run(patient(Probe::grpc(addr))).await;
        assert_eq!(
            outcome.verdict(),
            Verdict::BadArguments,
            "{addr:?}: {outcome}"
        );
    }
}

#[tokio::test]
async fn subcommand_arguments_reach_the_same_verdicts() {
    // What `myapp healthcheck ARGS` runs: parsed arguments, then the probe.
    let flag = up();
    let (http, _) = probe_support::http_app(flag.clone()).await;
    let grpc = probe_support::grpc_server(flag.clone(), Grpc::Service).await;
    let verdict = |args: Vec<String>| async move {
        match Probe::from_args(&args) {
            Ok(probe) => run(patient(probe)).await.verdict(),
            Err(bad) => bad.verdict(),
        }
    };
    let ready = http.url("/health/ready");
    let addr = grpc.addr();
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(verdict(args(&[&ready])).await, Verdict::Healthy);
    assert_eq!(
        verdict(args(&["-timeout=2s", &ready, "-connect-timeout", "500ms"])).await,
        Verdict::Healthy
    );
    assert_eq!(
        verdict(args(&["-addr", &addr, "-service", "readiness"])).await,
        Verdict::Healthy
    );
    assert_eq!(
        verdict(args(&["-addr", &addr, "-service", "nope"])).await,
        Verdict::RequestFailed
    );
    assert_eq!(
        verdict(args(&["-addr", &addr, "-rpc-timeout", "1x"])).await,
        Verdict::BadArguments
    );
    flag.store(false, Ordering::SeqCst);
    assert_eq!(verdict(args(&[&ready])).await, Verdict::Unhealthy);
    assert_eq!(
        verdict(args(&[&format!("-addr={addr}"), "-service=db"])).await,
        Verdict::Unhealthy
    );
}

#[test]
fn verdicts_are_grpc_health_probe_exit_codes() {
    let codes = [
        Verdict::Healthy,
        Verdict::BadArguments,
        Verdict::ConnectionFailed,
        Verdict::RequestFailed,
        Verdict::Unhealthy,
    ]
    .map(Verdict::code);
    assert_eq!(codes, [0, 1, 2, 3, 4]);
    assert_eq!(Probe::DEFAULT_TIMEOUT, Duration::from_secs(1));
    assert_eq!(Probe::BODY_LIMIT, 10 * 1024);
}
