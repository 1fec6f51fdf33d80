//! The TCP check against real listeners on 127.0.0.1.

use crate::checks;

use std::time::Duration;

use checks::{closed_port, full_listener, message, run};
use tower_health::checks::Tcp;
use tower_health::{RunEnd, Status};

const SHORT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn tcp_passes_when_the_port_accepts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let report = run(Tcp::new(addr.to_string()).into_check("port")).await;
    assert_eq!(report.status(), Status::Pass, "{report:?}");
    assert_eq!(report.component_type.as_deref(), Some("component"));
    assert_eq!(report.result.observed_unit.as_deref(), Some("ms"));
    assert!(report.result.observed_value.as_ref().unwrap().is_f64());
}

#[tokio::test]
async fn tcp_fails_when_nothing_listens() {
    let addr = closed_port().await;
    let report = run(Tcp::new(addr.to_string()).into_check("port")).await;
    assert_eq!(report.status(), Status::Fail);
    assert_eq!(report.end, RunEnd::Completed);
    let message = message(&report);
    assert!(
        message.starts_with(&format!("cannot connect to {addr}: ")),
        "{message}"
    );
    assert!(message.contains("refused"), "{message}");
}

#[tokio::test]
async fn tcp_times_out_when_the_connection_is_never_accepted() {
    let full = full_listener().await;
    let report = run(Tcp::new(full.addr.to_string())
        .into_check("port")
        .timeout(SHORT))
    .await;
    assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
    assert_eq!(report.status(), Status::Fail);
}

#[tokio::test]
async fn tcp_check_defaults() {
    let check = Tcp::new("127.0.0.1:1").into_check("port");
    assert!(
        format!("{check:?}").contains("timeout: Some(500ms)"),
        "{check:?}"
    );
}
