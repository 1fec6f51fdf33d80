//! Change events are logged outside the library's locks: a tracing subscriber may read the
//! health handle it reports on.

use std::sync::mpsc;
use std::time::Duration;

use futures_util::FutureExt;
use tower_health::{Check, Group, Health, Lifecycle, Status, Subject};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// A subscriber layer that reads the handle on every event of the library.
struct ReadsHealth(Health);

impl<S: tracing::Subscriber> Layer<S> for ReadsHealth {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if !event.metadata().target().starts_with("tower_health") {
            return;
        }
        let health = &self.0;
        let _ = *health.watch(Subject::check("db").clone()).borrow();
        let _ = health.watch(Subject::group(Group::READY));
        // A cached result: answered at once, under the check's own lock.
        let cached = health.evaluate(&Subject::check("db")).now_or_never();
        assert!(cached.is_some(), "the cached result is read at once");
    }
}

#[test]
fn a_subscriber_that_reads_the_handle_does_not_deadlock() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.register(
        Check::new("db", || async { Err::<(), _>("refused") }).cache(Duration::from_secs(3600)),
    );
    let (done, finished) = mpsc::channel();
    let reader = health.clone();
    // On a thread of its own, so that a deadlock fails the test instead of hanging it.
    std::thread::spawn(move || {
        let subscriber = tracing_subscriber::registry().with(ReadsHealth(reader.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let report = runtime.block_on(reader.evaluate(&Subject::group(Group::READY)));
            done.send(report.unwrap().status).unwrap();
        });
    });
    let status = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("deadlocked: logging a change while holding a lock the subscriber needs");
    assert_eq!(status, Status::Fail);
    assert_eq!(
        *health.watch(Subject::check("db").clone()).borrow(),
        Some(Status::Fail)
    );
}
