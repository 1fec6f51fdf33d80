//! The `tower-health-probe` binary, run as a process against real servers on 127.0.0.1: every
//! exit code for HTTP and gRPC, where it prints, and its arguments.

mod probe_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use probe_support::{Grpc, HANG};
use tokio::process::Command;

/// What one run of the binary did.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}; stdout {:?}; stderr {:?}",
            self.code, self.stdout, self.stderr
        )
    }
}

async fn probe(args: &[&str]) -> Ran {
    let output = Command::new(env!("CARGO_BIN_EXE_tower-health-probe"))
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(HANG, output)
        .await
        .expect("the probe hung")
        .expect("the probe ran");
    Ran {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Runs the binary and asserts its exit code.
async fn exits(code: i32, args: &[&str]) -> Ran {
    let ran = probe(args).await;
    assert_eq!(ran.code, code, "{args:?}: {ran:?}");
    ran
}

/// Timeouts that only catch hangs, for verdicts that are not about time (a loaded machine never
/// turns them into a timeout); tests of timeouts give short ones instead.
const PATIENT_HTTP: [&str; 4] = ["-timeout", "30s", "-connect-timeout", "30s"];
const PATIENT_GRPC: [&str; 4] = ["-rpc-timeout", "30s", "-connect-timeout", "30s"];

/// [`exits`] with `patient` timeouts before `args`.
async fn exits_with(code: i32, patient: &[&str], args: &[&str]) -> Ran {
    exits(code, &[patient, args].concat()).await
}

fn up() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(true))
}

#[tokio::test]
async fn http_healthy_prints_to_stdout_and_exits_0() {
    let (server, agents) = probe_support::http_app(up()).await;
    let ran = exits_with(0, &PATIENT_HTTP, &[&server.url("/health/ready")]).await;
    assert!(ran.stdout.contains("200 OK"), "{ran:?}");
    assert!(ran.stderr.is_empty(), "{ran:?}");
    // A redirect counts healthy, and is not followed (its target refuses connections).
    exits_with(0, &PATIENT_HTTP, &[&server.url("/moved")]).await;
    // The server answers /agent with 200 only for the probe's own User-Agent.
    exits_with(0, &PATIENT_HTTP, &[&server.url("/agent")]).await;
    assert_eq!(
        agents.lock().unwrap().as_slice(),
        [tower_health_probe::Probe::DEFAULT_USER_AGENT]
    );
    exits_with(
        4,
        &PATIENT_HTTP,
        &[&server.url("/agent"), "-user-agent", "curl/8"],
    )
    .await;
}

#[tokio::test]
async fn http_unhealthy_prints_to_stderr_and_exits_4() {
    let flag = up();
    let (server, _) = probe_support::http_app(flag.clone()).await;
    flag.store(false, Ordering::SeqCst);
    let ran = exits_with(4, &PATIENT_HTTP, &[&server.url("/health/ready")]).await;
    assert!(ran.stderr.contains("503 Service Unavailable"), "{ran:?}");
    assert!(ran.stdout.is_empty(), "{ran:?}");
    exits_with(4, &PATIENT_HTTP, &[&server.url("/teapot")]).await;
}

#[tokio::test]
async fn http_refused_and_silent_servers_exit_2() {
    let dead = probe_support::dead_addr().await;
    let ran = exits(2, &[&format!("http://{dead}/health")]).await;
    assert!(ran.stderr.starts_with("error: connecting"), "{ran:?}");
    let silent = probe_support::silent().await;
    let ran = exits(2, &["-timeout", "300ms", &silent.url("/health")]).await;
    assert!(ran.stderr.starts_with("timeout"), "{ran:?}");
}

#[tokio::test]
async fn http_hang_up_without_an_answer_exits_3() {
    let server = probe_support::hangs_up().await;
    let ran = exits_with(3, &PATIENT_HTTP, &[&server.url("/health")]).await;
    assert!(ran.stderr.contains("no HTTP answer"), "{ran:?}");
}

#[tokio::test]
async fn http_endless_body_gets_a_verdict() {
    let server = probe_support::endless(200).await;
    exits_with(0, &PATIENT_HTTP, &[&server.url("/health")]).await;
    let server = probe_support::endless(503).await;
    exits_with(4, &PATIENT_HTTP, &[&server.url("/health")]).await;
}

#[tokio::test]
async fn grpc_exit_codes() {
    let flag = up();
    let service = probe_support::grpc_server(flag.clone(), Grpc::Service).await;
    let layer = probe_support::grpc_server(flag.clone(), Grpc::Layer).await;
    for server in [&service, &layer] {
        let addr = server.addr();
        let ran = exits_with(0, &PATIENT_GRPC, &["-addr", &addr]).await;
        assert_eq!(ran.stdout, "status: SERVING\n");
        let short_form = format!("-addr=:{}", server.addr.port());
        exits_with(0, &PATIENT_GRPC, &[&short_form, "-service=db"]).await;
        let ran = exits_with(
            3,
            &PATIENT_GRPC,
            &["-addr", &addr, "-service", "no-such-check"],
        )
        .await;
        assert!(ran.stderr.contains("NotFound"), "{ran:?}");
    }
    flag.store(false, Ordering::SeqCst);
    for server in [&service, &layer] {
        let addr = server.addr();
        let ran = exits_with(
            4,
            &PATIENT_GRPC,
            &["-addr", &addr, "-service", "readiness", "-v"],
        )
        .await;
        assert!(ran.stderr.contains("NOT_SERVING"), "{ran:?}");
        exits_with(0, &PATIENT_GRPC, &["-addr", &addr, "-service", "liveness"]).await;
    }
}

#[tokio::test]
async fn grpc_rpc_timeout_exits_3() {
    let server = probe_support::grpc_hanging().await;
    let ran = exits_with(
        3,
        &PATIENT_GRPC,
        &["-addr", &server.addr(), "-rpc-timeout", "300ms"],
    )
    .await;
    // The probe's own timeout, or tonic's server honouring the deadline sent with the call.
    assert!(ran.stderr.contains("imeout"), "{ran:?}");
}

#[tokio::test]
async fn grpc_refused_and_silent_servers_exit_2() {
    let dead = probe_support::dead_addr().await;
    exits(2, &["-addr", &dead.to_string()]).await;
    let silent = probe_support::silent().await;
    let ran = exits(2, &["-addr", &silent.addr(), "-connect-timeout=300ms"]).await;
    assert!(
        ran.stderr.starts_with("timeout: failed to connect"),
        "{ran:?}"
    );
}

#[tokio::test]
async fn bad_arguments_exit_1_with_the_usage() {
    for args in [
        &[][..],
        &["-help"],
        &["-nope"],
        &["-addr"],
        &["-addr", "127.0.0.1:1", "-rpc-timeout", "1"],
        &["-addr", "127.0.0.1:1", "-connect-timeout", "0s"],
        &["-addr", "127.0.0.1:1", "http://127.0.0.1:1/"],
        &["-addr", "127.0.0.1:1", "-tls"],
        &["http://127.0.0.1:1/", "-service", "x"],
        &["http://127.0.0.1:1/", "http://127.0.0.1:2/"],
    ] {
        let ran = exits(1, args).await;
        assert!(ran.stderr.contains("usage: tower-health-probe"), "{ran:?}");
        assert!(ran.stdout.is_empty(), "{ran:?}");
    }
    // Checked when run, without connecting anywhere.
    for args in [
        &["https://127.0.0.1:1/health"][..],
        &["not a url"],
        &["-addr", "no-port"],
    ] {
        exits(1, args).await;
    }
}
