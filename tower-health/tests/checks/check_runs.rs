//! How runs of checks end and what they publish: background and on-request runs alike, cache
//! freshness and failure durations on tokio's clock, and change events of checks sharing a name.

use crate::common;

use common::{HANG, within};
use std::time::Duration;

use tower_health::{Check, Group, Health, Lifecycle, RunEnd, Status, Subject};

fn working() -> Health {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
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
    let report = health.evaluate(&Subject::Service).await.unwrap();
    for check in &report.checks {
        assert_eq!(check.end, RunEnd::Unresolved, "{}", check.name);
        assert_eq!(check.status(), Status::Fail, "{}", check.name);
    }
    assert!(report.errored());
    let ready = health.evaluate(&Subject::group(Group::READY)).await;
    assert_eq!(ready.unwrap().status, Status::Fail);
}

/// A check that fails after its first run, counting its runs.
fn failing_after_first(name: &str) -> (Check, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let check = Check::new(name, move || {
        let first = counter.fetch_add(1, Ordering::SeqCst) == 0;
        async move { first }
    });
    (check, runs)
}

#[tokio::test(start_paused = true)]
async fn cached_results_go_stale_on_tokios_clock() {
    use std::sync::atomic::Ordering;
    let health = working();
    let (check, runs) = failing_after_first("db");
    health.register(check.cache(Duration::from_secs(10)));
    let selection = Subject::check("db");
    health.evaluate(&selection).await.unwrap();
    health.evaluate(&selection).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1, "fresh: reused");
    tokio::time::advance(Duration::from_secs(11)).await;
    let report = health.evaluate(&selection).await.unwrap();
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "stale once the clock moved on"
    );
    assert_eq!(report.status, Status::Fail);
}

#[tokio::test(start_paused = true)]
async fn failure_durations_pass_on_tokios_clock() {
    let health = working();
    let (check, _runs) = failing_after_first("db");
    health.register(
        check
            .cache(Duration::ZERO)
            .failure_duration(Duration::from_secs(60)),
    );
    let selection = Subject::check("db");
    let mut statuses = Vec::new();
    for advance in [0, 0, 61] {
        tokio::time::advance(Duration::from_secs(advance)).await;
        statuses.push(health.evaluate(&selection).await.unwrap().status);
    }
    assert_eq!(statuses, [Status::Pass, Status::Warn, Status::Fail]);
}

#[tokio::test]
async fn checks_sharing_a_name_publish_the_worst_once_not_each_run() {
    use tower_health::Subject;
    let health = working();
    health.register(Check::new("db", || async { true }).cache(Duration::ZERO));
    health.register(
        Check::new("db", || async { Err::<(), _>("replica down") }).cache(Duration::ZERO),
    );
    let mut changes = common::subscribe_to(&health, Subject::check("db"));
    let mut all = health.subscribe();
    health.evaluate(&Subject::check("db")).await.unwrap();
    // Whichever stored first, the first round ends on the worst.
    let mut last = within(changes.recv()).await.unwrap();
    while let Ok(Ok(change)) = tokio::time::timeout(Duration::ZERO, changes.recv()).await {
        last = change;
    }
    assert_eq!(last.new, Status::Fail);
    assert_eq!(last.message.as_deref(), Some("replica down"));
    while all.try_recv().is_ok() {}
    for _ in 0..3 {
        let report = health.evaluate(&Subject::check("db")).await.unwrap();
        assert_eq!(report.checks.len(), 2);
    }
    assert!(
        all.try_recv().is_err(),
        "no change: the worst of db stays fail"
    );
    assert_eq!(
        *health.watch(Subject::check("db").clone()).borrow(),
        Some(Status::Fail)
    );

    // A non-critical failure only warns, like in the aggregate.
    health.replace(
        Check::new("db", || async { false })
            .non_critical()
            .cache(Duration::ZERO),
    );
    health.evaluate(&Subject::check("db")).await.unwrap();
    assert_eq!(
        *health.watch(Subject::check("db").clone()).borrow(),
        Some(Status::Warn)
    );
}

#[tokio::test]
async fn a_check_registered_again_starts_without_the_old_status() {
    use tower_health::Subject;
    let health = working();
    let subject = Subject::check("db");
    let mut changes = common::subscribe_to(&health, subject.clone());
    health.register(Check::new("db", || async { false }));
    health.evaluate(&Subject::check("db")).await.unwrap();
    let first = within(changes.recv()).await.unwrap();
    assert_eq!((first.old, first.new), (None, Status::Fail));

    assert!(health.deregister("db"));
    assert_eq!(*health.watch(subject.clone()).borrow(), None);
    health.register(Check::new("db", || async { false }));
    health.evaluate(&Subject::check("db")).await.unwrap();
    let again = within(changes.recv()).await.unwrap();
    assert_eq!((again.old, again.new), (None, Status::Fail));
}
