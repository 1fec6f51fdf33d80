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
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

use crate::check::{Probe, Status};

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

const CHANNEL_CAPACITY: usize = 256;

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
        // Both locks are held (in the order `record` takes them), so no change is lost between
        // reading the last status and subscribing.
        let recorded = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        let last = recorded.get(&subject).copied();
        // Senders nobody listens to any more are dropped here rather than kept forever.
        watches.retain(|_, sender| sender.receiver_count() > 0);
        watches
            .entry(subject)
            .or_insert_with(|| watch::Sender::new(last))
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
    pub(crate) fn record(
        &self,
        subject: Subject,
        status: Status,
        message: impl FnOnce() -> Option<String>,
    ) {
        let old = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            let old = match last.get_mut(&subject) {
                Some(seen) if *seen == status => return,
                Some(seen) => Some(std::mem::replace(seen, status)),
                None => {
                    last.insert(subject.clone(), status);
                    None
                }
            };
            // Published under the `last` lock, so watches see changes in the order recorded.
            let watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(watch) = watches.get(&subject) {
                watch.send_replace(Some(status));
            }
            old
        };
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
