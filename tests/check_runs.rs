//! How runs of checks end and what they publish: background and on-request runs alike, cache
//! freshness and failure durations on tokio's clock, and change events of checks sharing a name.

use std::future::Future;
use std::time::Duration;

use tower_health::{Check, Health, Probe, RunEnd, Selection, State, Status};

/// Generous: only catches hangs, never measures speed.
const HANG: Duration = Duration::from_secs(30);

async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, future)
        .await
        .expect("hung: did not finish")
}

fn working() -> Health {
    let health = Health::new();
    health.set_state(State::Working);
    health
}

#[tokio::test]
async fn an_unresolved_check_reports_unresolved_in_the_background_too() {
    let health = working();
    let mut changes = health.subscribe();
    health.register(Check::unresolved("upstream", "no such host: orders").background(HANG));
    health.register(Check::unresolved("pool", "no such pool: orders"));
    // The background run has ended once its change is published.
    within(changes.recv()).await.unwrap();
    let report = health.evaluate(&Selection::service()).await.unwrap();
    for check in &report.checks {
        assert_eq!(check.end, RunEnd::Unresolved, "{}", check.name);
        assert_eq!(check.status(), Status::Fail, "{}", check.name);
    }
    assert!(report.errored());
    let ready = health.evaluate(&Selection::probe(Probe::Readiness)).await;
    assert_eq!(ready.unwrap().status, Status::Fail);
}
