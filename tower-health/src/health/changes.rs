//! Status changes of the service, its groups and its checks, published once each.
//!
//! Every complete evaluation records the status it saw; only a change becomes a [`Change`],
//! which is logged (WARN when something starts failing, INFO otherwise) and sent to
//! subscribers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use tower_health::{Check, Health, Status, Subject};
//!
//! let health = Health::new();
//! health.register(Check::new("db", || async { false }).group("database"));
//! let mut changes = health.subscribe();
//! health.evaluate(&Subject::group("database")).await;
//! // The run records the check's name first, then the evaluation its group.
//! let check = changes.recv().await.unwrap();
//! assert_eq!(check.subject, Subject::check("db"));
//! let group = changes.recv().await.unwrap();
//! assert_eq!(group.subject, Subject::group("database"));
//! assert_eq!((group.old, group.new), (None, Status::Fail));
//! # }
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio::sync::{broadcast, watch};

use super::observe::Observer;
use super::status::{Group, Status, Subject};

/// A change of status.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_health::{Check, Group, Health, HealthLayer, Status, Subject};
///
/// let health = Health::new();
/// health.register(Check::new("db", || async { Err::<(), _>("connection refused") }));
/// let mut changes = health.subscribe();
/// let ready = health.watch(Subject::group(Group::READY));
/// let service = tower::ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health))
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
///
/// let probe = Request::get("/health/ready").body(String::new()).unwrap();
/// assert_eq!(service.oneshot(probe).await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
/// // The run records the check's name first, then the evaluation its group.
/// let check = changes.recv().await.unwrap();
/// assert_eq!((check.subject, check.new), (Subject::check("db"), Status::Fail));
/// assert_eq!(check.message.as_deref(), Some("connection refused"));
/// let group = changes.recv().await.unwrap();
/// assert_eq!(group.subject, Subject::group(Group::READY));
/// assert_eq!((group.old, group.new), (None, Status::Fail));
/// assert_eq!(*ready.borrow(), Some(Status::Fail));
/// # }
/// ```
///
/// Every status change of the service, a group or a check is logged once (WARN when it starts
/// failing, INFO otherwise; see [logging](crate::HealthLayer#logging)) and published:
/// [`Health::subscribe`](crate::Health::subscribe) is a broadcast of every `Change { subject,
/// old, new, message }` in the order recorded, each once, and
/// [`Health::watch`](crate::Health::watch)`(subject)` the latest status of one subject.
///
/// Check changes are recorded when a run ends, so background checks publish without any probe;
/// service and group changes are recorded when something evaluates exactly them: all checks
/// gated by the working state for the service, a group's checks under its own gate for a group.
/// A request that evaluates a part (`?exclude=db`, a single check, checks not run, another gate)
/// records nothing, so it cannot flip what watches and gRPC `Watch` report. A subscriber that
/// falls more than 256 changes behind gets `Lagged` and should read the watch.
///
/// ```
/// use tower_health::{Group, Health, Subject};
///
/// async fn follow_readiness(health: Health) {
///     let ready = Subject::group(Group::READY);
///     let mut changes = health.subscribe();
///     while let Ok(change) = changes.recv().await {
///         if change.subject == ready {
///             println!("readiness {:?} -> {} ({:?})", change.old, change.new, change.message);
///         }
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Change {
    /// What changed.
    pub subject: Subject,
    /// The status before; `None` the first time the subject is seen.
    pub old: Option<Status>,
    /// The status now.
    pub new: Status,
    /// Why: the check's message, or the names of the checks that are not passing.
    pub message: Option<String>,
}

/// The last status recorded for a subject, and the message of the change into it.
struct Recorded {
    status: Status,
    message: Option<String>,
}

/// A subject's status as last recorded, read without the changes' lock; written under it.
#[derive(Default)]
pub(crate) struct Seen(AtomicU8);

impl Seen {
    /// Whether `status` is the one last recorded.
    pub(crate) fn is(&self, status: Status) -> bool {
        self.0.load(Ordering::Acquire) == status as u8 + 1
    }

    pub(crate) fn set(&self, status: Status) {
        self.0.store(status as u8 + 1, Ordering::Release);
    }

    fn clear(&self) {
        self.0.store(0, Ordering::Release);
    }
}

/// How many changes the broadcast keeps for a subscriber that has not read them yet.
pub(crate) const CHANNEL_CAPACITY: usize = 256;

pub(crate) struct Changes {
    last: Mutex<HashMap<Subject, Recorded>>,
    /// The status in `last` of the service and of each built-in group, written under the `last`
    /// lock: most answers record one of them, and an unchanged status is then seen without a
    /// lock or a hash.
    frequent: [Seen; 4],
    sender: broadcast::Sender<Change>,
    watches: Mutex<HashMap<Subject, watch::Sender<Option<Status>>>>,
    /// Told of every recorded status and every run, once something outside the core listens.
    observer: OnceLock<&'static dyn Observer>,
}

impl Changes {
    pub(crate) fn new() -> Self {
        Changes {
            last: Mutex::new(HashMap::new()),
            frequent: Default::default(),
            sender: broadcast::Sender::new(CHANNEL_CAPACITY),
            watches: Mutex::new(HashMap::new()),
            observer: OnceLock::new(),
        }
    }

    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    /// Lets `observer` hear of runs and statuses from now on; the first observer stays.
    pub(crate) fn observe(&self, observer: &'static dyn Observer) {
        let _ = self.observer.set(observer);
    }

    pub(crate) fn observer(&self) -> Option<&'static dyn Observer> {
        self.observer.get().copied()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// A receiver of the latest status of `subject` (`None` until one is recorded).
    pub(crate) fn watch(&self, subject: Subject) -> watch::Receiver<Option<Status>> {
        // Held while the watch is made, so that no change recorded meanwhile is missed.
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let current = last.get(&subject).map(|seen| seen.status);
        let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        // Senders nobody listens to any more are dropped here rather than kept forever.
        watches.retain(|_, sender| sender.receiver_count() > 0);
        watches
            .entry(subject)
            .or_insert_with(|| watch::Sender::new(current))
            .subscribe()
    }

    /// Every subject's last recorded status.
    pub(crate) fn recorded(&self) -> Vec<(Subject, Status)> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.iter()
            .map(|(subject, seen)| (subject.clone(), seen.status))
            .collect()
    }

    /// The last status recorded for `subject`.
    #[cfg(test)]
    fn last(&self, subject: &Subject) -> Option<Status> {
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(subject)
            .map(|seen| seen.status)
    }

    /// Forgets the status recorded for `subject`: its next one is a first (`old: None`).
    pub(crate) fn forget(&self, subject: &Subject) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.remove(subject);
        if let Some(index) = frequent_index(subject) {
            self.frequent[index].clear();
        }
    }

    /// Records `status` for `subject`; publishes and logs a [`Change`] when it differs.
    pub(crate) fn record(
        &self,
        subject: Subject,
        status: Status,
        message: impl FnOnce() -> Option<String>,
    ) {
        let frequent = frequent_index(&subject).map(|index| &self.frequent[index]);
        if frequent.is_some_and(|seen| seen.is(status)) {
            return;
        }
        self.record_current(subject, || Some((status, message)));
    }

    /// Like [`Changes::record`], with the status (and the message, should it have changed)
    /// computed under the lock, so that concurrent recorders of one subject publish statuses in
    /// the order they computed them; `None` records nothing.
    pub(crate) fn record_current<M: FnOnce() -> Option<String>>(
        &self,
        subject: Subject,
        current: impl FnOnce() -> Option<(Status, M)>,
    ) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let Some((status, message)) = current() else {
            return;
        };
        let (old, before) = match last.get(&subject) {
            Some(seen) if seen.status == status => return,
            Some(seen) => (Some(seen.status), seen.message.clone()),
            None => (None, None),
        };
        let change = Change {
            subject,
            old,
            new: status,
            message: message(),
        };
        last.insert(
            change.subject.clone(),
            Recorded {
                status,
                message: change.message.clone(),
            },
        );
        if let Some(index) = frequent_index(&change.subject) {
            self.frequent[index].set(status);
        }
        let watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(watch) = watches.get(&change.subject) {
            watch.send_replace(Some(status));
        }
        drop(watches);
        // Sent under the `last` lock, so subscribers see a subject's changes in the order they
        // were recorded (sending never blocks). No subscriber is fine: the change is logged.
        let _ = self.sender.send(change.clone());
        drop(last);
        if let (Some(observer), false) =
            (self.observer(), matches!(change.subject, Subject::Check(_)))
        {
            observer.status(&change.subject, status, &[]);
        }
        // Logged outside the locks: a slow log writer must not stall probes, and a subscriber
        // that reads the health handle must not deadlock.
        log(&change, before.as_deref());
    }
}

/// Where [`Changes::frequent`] keeps `subject`, if it is the service or a built-in group.
fn frequent_index(subject: &Subject) -> Option<usize> {
    match subject {
        Subject::Service => Some(0),
        Subject::Group(name) => match &**name {
            Group::LIVE => Some(1),
            Group::READY => Some(2),
            Group::STARTUP => Some(3),
            _ => None,
        },
        Subject::Check(_) => None,
    }
}

/// Logs `change` once; `before` is the message of the change into the old status, so that a
/// recovery names what recovered.
fn log(change: &Change, before: Option<&str>) {
    let Change {
        subject,
        old,
        new,
        message,
    } = change;
    let from = old.map_or("none", Status::as_str);
    // Not `message`: that name is the event's own message in tracing.
    let reason = message.as_deref();
    match (old, new) {
        (_, Status::Fail) => {
            tracing::warn!(%subject, from, to = %new, reason, "health changed")
        }
        (None, Status::Pass) => tracing::debug!(%subject, from, to = %new, "health changed"),
        _ => tracing::info!(%subject, from, to = %new, reason, was = before, "health changed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_see_every_change_and_only_changes() {
        let changes = Changes::new();
        let subject = Subject::group(Group::READY);
        let mut early = changes.watch(subject.clone());
        assert_eq!(*early.borrow_and_update(), None);

        changes.record(subject.clone(), Status::Pass, || None);
        assert!(early.has_changed().unwrap());
        assert_eq!(*early.borrow_and_update(), Some(Status::Pass));

        let mut late = changes.watch(subject.clone());
        assert_eq!(*late.borrow_and_update(), Some(Status::Pass));
        changes.record(subject.clone(), Status::Pass, || None);
        assert!(
            !early.has_changed().unwrap(),
            "the same status is no change"
        );

        changes.record(subject.clone(), Status::Fail, || Some("db".into()));
        for watch in [&mut early, &mut late] {
            assert!(watch.has_changed().unwrap());
            assert_eq!(*watch.borrow_and_update(), Some(Status::Fail));
        }
        // Other subjects' watches are untouched.
        let mut other = changes.watch(Subject::Service);
        changes.record(subject, Status::Pass, || None);
        assert!(!other.has_changed().unwrap());
        assert_eq!(*other.borrow_and_update(), None);
    }

    #[tokio::test]
    async fn changes_are_published_with_their_reason() {
        let changes = Changes::new();
        let mut receiver = changes.subscribe();
        let subject = Subject::Check("db".into());
        changes.record(subject.clone(), Status::Pass, || None);
        changes.record(subject.clone(), Status::Pass, || unreachable!("no change"));
        changes.record(subject.clone(), Status::Fail, || Some("refused".into()));
        let first = receiver.recv().await.unwrap();
        assert_eq!((first.old, first.new), (None, Status::Pass));
        let second = receiver.recv().await.unwrap();
        assert_eq!((second.old, second.new), (Some(Status::Pass), Status::Fail));
        assert_eq!(second.message.as_deref(), Some("refused"));
        assert!(receiver.try_recv().is_err());
        assert_eq!(changes.last(&subject), Some(Status::Fail));
    }
}
