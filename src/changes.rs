//! Status changes of the service, its probes and its checks, published once each.
//!
//! Every evaluation records the statuses it saw for the service and its probes, and every run of a
//! check (on request or in the background) records the check's; only a change becomes a
//! [`Change`], which is logged (WARN when something starts failing, INFO otherwise) and sent to
//! subscribers: [`Health::subscribe`] (every change), [`Health::subscribe_to`] (one subject's
//! changes) and [`Health::watch`] (one subject's latest status). The gRPC Watch and the change log
//! lines read this one mechanism.
//!
//! The status of a check is recorded when a run ends, so a background check's changes arrive
//! without any probe; the service's and the probes' statuses are recorded when a request (or
//! [`Health::evaluate`]) evaluates them.
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
    /// One check, by name.
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

/// How many changes the broadcast keeps for a subscriber that has not read them yet.
pub const CHANNEL_CAPACITY: usize = 256;

pub(crate) struct Changes {
    last: Mutex<HashMap<Subject, Status>>,
    sender: broadcast::Sender<Change>,
    watches: Mutex<HashMap<Subject, watch::Sender<Option<Status>>>>,
}

impl Changes {
    pub(crate) fn new() -> Self {
        Changes {
            last: Mutex::new(HashMap::new()),
            sender: broadcast::Sender::new(CHANNEL_CAPACITY),
            watches: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// A receiver of the latest status of `subject` (`None` until one is recorded).
    pub(crate) fn watch(&self, subject: Subject) -> watch::Receiver<Option<Status>> {
        // Under the `last` lock, so that no change recorded meanwhile is missed.
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        // Senders nobody listens to any more are dropped here rather than kept forever.
        watches.retain(|_, sender| sender.receiver_count() > 0);
        let current = last.get(&subject).copied();
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
            .copied()
    }

    /// Records `status` for `subject`; publishes and logs a [`Change`] when it differs.
    ///
    /// Publishing happens under the lock, so subscribers see the changes of a subject in the
    /// order they were recorded, each once.
    pub(crate) fn record(
        &self,
        subject: Subject,
        status: Status,
        message: impl FnOnce() -> Option<String>,
    ) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let old = match last.get_mut(&subject) {
            Some(seen) if *seen == status => return,
            Some(seen) => Some(std::mem::replace(seen, status)),
            None => {
                last.insert(subject.clone(), status);
                None
            }
        };
        if let Some(watch) = self
            .watches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&subject)
        {
            watch.send_replace(Some(status));
        }
        let change = Change {
            subject,
            old,
            new: status,
            message: message(),
        };
        log(&change);
        // No subscriber is fine: the change was logged.
        let _ = self.sender.send(change);
    }
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

fn log(change: &Change) {
    let Change {
        subject,
        old,
        new,
        message,
    } = change;
    let old = old.map_or("none", Status::as_str);
    let message = message.as_deref().unwrap_or("");
    match (change.old, new) {
        (_, Status::Fail) => {
            tracing::warn!(%subject, from = old, to = %new, message, "health changed")
        }
        (None, Status::Pass) => tracing::debug!(%subject, from = old, to = %new, "health changed"),
        _ => tracing::info!(%subject, from = old, to = %new, message, "health changed"),
    }
}
