//! `Health::watch`: a subject's receiver sees every status an evaluation records for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tower_health::{Check, Health, Lifecycle, Status, Subject};

#[tokio::test]
async fn a_watch_sees_each_recorded_change_of_its_subject() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    // `db` flips between evaluations: each evaluation must run it.
    health.set_default_cache_ttl(Duration::ZERO);
    let up = Arc::new(AtomicBool::new(true));
    let flag = up.clone();
    health.register(Check::new("db", move || {
        let up = flag.load(Ordering::SeqCst);
        async move { up }
    }));

    health.evaluate(&Subject::Service).await.unwrap();
    // Subscribed after the first record: starts from it.
    let mut db = health.watch(Subject::check("db"));
    let mut service = health.watch(Subject::Service);
    assert_eq!(*db.borrow_and_update(), Some(Status::Pass));
    assert_eq!(*service.borrow_and_update(), Some(Status::Pass));

    up.store(false, Ordering::SeqCst);
    health.evaluate(&Subject::check("db")).await.unwrap();
    assert!(db.has_changed().unwrap(), "the check's watch was not told");
    assert_eq!(*db.borrow_and_update(), Some(Status::Fail));
    assert!(
        !service.has_changed().unwrap(),
        "the service was not evaluated"
    );

    health.evaluate(&Subject::Service).await.unwrap();
    assert_eq!(*service.borrow_and_update(), Some(Status::Fail));
    // The same status again is no change.
    health.evaluate(&Subject::check("db")).await.unwrap();
    assert!(!db.has_changed().unwrap());
}
