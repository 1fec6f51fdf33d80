//! Status changes of the service, its probes and its checks, published once each.
//!
//! Every evaluation records the statuses it saw; only a change becomes a [`Change`], which is
//! logged (WARN when something starts failing, INFO otherwise) and sent to subscribers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use tower_health::{Health, Subject};
//!
//! let health = Health::new();
//! let mut changes = health.subscribe();
//! // ... probes run ...
//! # drop(health);
//! while let Ok(change) = changes.recv().await {
//!     if change.subject == Subject::Service {
//!         println!("service went from {:?} to {}", change.old, change.new);
//!     }
//! }
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

use crate::check::{Probe, Status};
use crate::health::Health;

/// What a [`Change`] is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Every check together (the detailed endpoint).
    Service,
    /// One probe.
    Probe(Probe),
    /// One check, by name: after each run, the worst of what the latest results of the checks of
    /// that name add to an aggregate (a non-critical failure warns), so checks sharing a name
    /// publish one status.
    Check(Arc<str>),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Service => f.write_str("service"),
            Subject::Probe(probe) => write!(f, "{probe} probe"),
            Subject::Check(name) => write!(f, "check {name}"),
        }
    }
}

/// A change of status.
#[derive(Clone, Debug, PartialEq)]
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
struct Seen {
    status: Status,
    message: Option<String>,
}

/// How many changes the broadcast keeps for a subscriber that has not read them yet.
pub const CHANNEL_CAPACITY: usize = 256;

pub(crate) struct Changes {
    last: Mutex<HashMap<Subject, Seen>>,
    /// The status in `last` of the service and of each probe (0: none), written under the `last`
    /// lock: most answers record one of them, and an unchanged status is then seen without a
    /// lock or a hash.
    fixed: [AtomicU8; 4],
    sender: broadcast::Sender<Change>,
    watches: Mutex<HashMap<Subject, watch::Sender<Option<Status>>>>,
}

impl Changes {
    pub(crate) fn new() -> Self {
        Changes {
            last: Mutex::new(HashMap::new()),
            fixed: Default::default(),
            sender: broadcast::Sender::new(CHANNEL_CAPACITY),
            watches: Mutex::new(HashMap::new()),
        }
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

    /// The last status recorded for `subject`.
    pub(crate) fn last(&self, subject: &Subject) -> Option<Status> {
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
        if let Some(index) = fixed_index(subject) {
            self.fixed[index].store(0, Ordering::Release);
        }
    }

    /// Records `status` for `subject`; publishes and logs a [`Change`] when it differs.
    pub(crate) fn record(
        &self,
        subject: Subject,
        status: Status,
        message: impl FnOnce() -> Option<String>,
    ) {
        let fixed = fixed_index(&subject).map(|index| &self.fixed[index]);
        if fixed.is_some_and(|seen| seen.load(Ordering::Acquire) == encode(status)) {
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
            Seen {
                status,
                message: change.message.clone(),
            },
        );
        if let Some(index) = fixed_index(&change.subject) {
            self.fixed[index].store(encode(status), Ordering::Release);
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
        // Logged outside the locks: a slow log writer must not stall probes, and a subscriber
        // that reads the health handle must not deadlock.
        log(&change, before.as_deref());
    }
}

/// Where [`Changes::fixed`] keeps `subject`, if it is the service or a probe.
fn fixed_index(subject: &Subject) -> Option<usize> {
    match subject {
        Subject::Service => Some(0),
        Subject::Probe(Probe::Liveness) => Some(1),
        Subject::Probe(Probe::Readiness) => Some(2),
        Subject::Probe(Probe::Startup) => Some(3),
        Subject::Check(_) => None,
    }
}

fn encode(status: Status) -> u8 {
    status as u8 + 1
}

/// A receiver of the changes of one [`Subject`], from [`Health::subscribe_to`].
#[derive(Debug)]
pub struct Subscription {
    subject: Subject,
    receiver: broadcast::Receiver<Change>,
}

impl Subscription {
    /// The next change of the subject, in the order recorded.
    ///
    /// Fails with [`RecvError::Lagged`](broadcast::error::RecvError::Lagged) when more than
    /// [`CHANNEL_CAPACITY`] changes (of any subject) arrived since the last call and the oldest
    /// were dropped (read [`Health::watch`] for the latest status then), and with
    /// [`RecvError::Closed`](broadcast::error::RecvError::Closed) once every handle is dropped.
    pub async fn recv(&mut self) -> Result<Change, broadcast::error::RecvError> {
        loop {
            let change = self.receiver.recv().await?;
            if change.subject == self.subject {
                return Ok(change);
            }
        }
    }

    /// The subject this subscription follows.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }
}

impl Health {
    /// A receiver of the changes of `subject` only, with the old and new status and the message.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use tower_health::{Check, Health, Probe, Selection, State, Status, Subject};
    ///
    /// let health = Health::new();
    /// health.set_state(State::Working);
    /// health.register(Check::new("db", || async { false }));
    /// let mut ready = health.subscribe_to(Subject::Probe(Probe::Readiness));
    /// health.evaluate(&Selection::probe(Probe::Readiness)).await;
    /// let change = ready.recv().await.unwrap();
    /// assert_eq!((change.old, change.new), (None, Status::Fail));
    /// # }
    /// ```
    pub fn subscribe_to(&self, subject: Subject) -> Subscription {
        Subscription {
            subject,
            receiver: self.subscribe(),
        }
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
        let subject = Subject::Probe(Probe::Readiness);
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
