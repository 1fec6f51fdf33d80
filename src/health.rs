//! The [`Health`] handle: the check registry, the lifecycle state and maintenance mode.
//!
//! ```
//! use tower_health::{Check, Health, State};
//!
//! let health = Health::new();
//! health.register(Check::new("cache", || async { true }).liveness());
//! health.set_state(State::Working);
//! assert_eq!(health.state(), State::Working);
//! health.deregister("cache");
//! assert!(health.checks().is_empty());
//! ```

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::changes::{Change, Changes, Subject};
use crate::check::Check;
use crate::check::Status;

/// The lifecycle state of the service, set by the application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum State {
    /// No information yet: the initial state of a [`Health`] handle.
    #[default]
    Unknown,
    /// Starting: alive, not ready.
    WarmingUp,
    /// Serving: ready when the readiness checks pass.
    Working,
    /// Draining before exit: alive, not ready.
    ShuttingDown,
}

impl State {
    /// A short lowercase description: `unknown`, `warming up`, `working`, `shutting down`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::WarmingUp => "warming up",
            State::Working => "working",
            State::ShuttingDown => "shutting down",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cheap, cloneable handle to the checks and state of one service.
///
/// Every clone sees the same registry and state; changes take effect on the next probe.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    checks: RwLock<Arc<[Check]>>,
    state: watch::Sender<State>,
    reached_working: AtomicBool,
    maintenance: AtomicBool,
    maintenance_file: RwLock<Option<PathBuf>>,
    default_timeout_micros: AtomicU64,
    default_cache_micros: AtomicU64,
    changes: Changes,
    /// Whether the application runs a server of its own for this handle (a standalone listener),
    /// and how many of those are running: setting the state with none running is a mistake.
    server_expected: AtomicBool,
    servers: AtomicUsize,
}

/// A handle that does not keep the registry alive (held by background tasks).
#[derive(Clone)]
pub(crate) struct WeakHealth(Weak<Inner>);

impl WeakHealth {
    pub(crate) fn upgrade(&self) -> Option<Health> {
        self.0.upgrade().map(|inner| Health { inner })
    }
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    /// The timeout of a check that sets none: below the kubelet's default probe timeout of one
    /// second, so a slow dependency fails its check instead of timing out the whole probe.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);

    /// An empty registry in the [`State::Unknown`] state.
    ///
    /// Readiness fails until the application calls `set_state(State::Working)`.
    pub fn new() -> Self {
        Self::with_state(State::Unknown)
    }

    /// A handle starting in `state` (without logging a change).
    pub(crate) fn with_state(state: State) -> Self {
        Health {
            inner: Arc::new(Inner {
                checks: RwLock::new(Arc::from(Vec::new())),
                state: watch::Sender::new(state),
                reached_working: AtomicBool::new(state == State::Working),
                maintenance: AtomicBool::new(false),
                maintenance_file: RwLock::new(None),
                default_timeout_micros: AtomicU64::new(Self::DEFAULT_TIMEOUT.as_micros() as u64),
                default_cache_micros: AtomicU64::new(Self::DEFAULT_CACHE_TTL.as_micros() as u64),
                changes: Changes::new(),
                server_expected: AtomicBool::new(false),
                servers: AtomicUsize::new(0),
            }),
        }
    }

    /// Adds a check. Checks with the same name may coexist; use [`Health::replace`] to swap one.
    ///
    /// A [background](Check::background) check's task starts here when called inside a tokio
    /// runtime, else at the first probe.
    pub fn register(&self, check: Check) {
        let started = check.clone();
        self.update_checks(|checks| checks.push(check));
        crate::background::start(self, &started);
    }

    /// Replaces every check named like `check` with it (or adds it when there is none).
    pub fn replace(&self, check: Check) {
        let started = check.clone();
        self.update_checks(
            |checks| match checks.iter().position(|c| c.name == check.name) {
                Some(first) => {
                    let name = check.name.clone();
                    checks[first] = check;
                    let mut index = 0;
                    checks.retain(|c| {
                        let keep = c.name != name || index == first;
                        index += 1;
                        keep
                    });
                }
                None => checks.push(check),
            },
        );
        crate::background::start(self, &started);
    }

    /// Removes every check named `name`; returns whether there was one.
    pub fn deregister(&self, name: &str) -> bool {
        let mut removed = false;
        self.update_checks(|checks| {
            let before = checks.len();
            checks.retain(|c| &*c.name != name);
            removed = checks.len() != before;
        });
        if removed {
            // A check registered under this name later starts afresh, without the old status.
            self.inner.changes.forget(&Subject::Check(name.into()));
        }
        removed
    }

    /// The registered checks, in registration order.
    pub fn checks(&self) -> Arc<[Check]> {
        self.inner
            .checks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn update_checks(&self, f: impl FnOnce(&mut Vec<Check>)) {
        let mut guard = self.inner.checks.write().unwrap_or_else(|e| e.into_inner());
        let mut checks = guard.to_vec();
        f(&mut checks);
        *guard = Arc::from(checks);
    }

    /// The current lifecycle state.
    pub fn state(&self) -> State {
        *self.inner.state.borrow()
    }

    /// Sets the lifecycle state; any transition is allowed and takes effect on the next probe.
    pub fn set_state(&self, state: State) {
        if state == State::Working {
            self.inner.reached_working.store(true, Ordering::Relaxed);
        }
        if self.inner.server_expected.load(Ordering::Relaxed)
            && self.inner.servers.load(Ordering::Relaxed) == 0
        {
            tracing::warn!(
                "An attempt was made to set service state but health check is not running"
            );
        }
        let old = self.inner.state.send_replace(state);
        if old != state {
            tracing::info!(from = %old, to = %state, "service state changed");
        }
    }

    /// A receiver that sees every state change.
    pub fn subscribe_state(&self) -> watch::Receiver<State> {
        self.inner.state.subscribe()
    }

    /// Whether the state has been [`State::Working`] at least once (the startup probe's gate).
    pub fn has_started(&self) -> bool {
        self.inner.reached_working.load(Ordering::Relaxed)
    }

    /// Switches maintenance mode on or off.
    pub fn set_maintenance(&self, on: bool) {
        self.inner.maintenance.store(on, Ordering::Relaxed);
    }

    /// Also be in maintenance while a file exists at `path` (looked at on every probe that
    /// honours maintenance); `None` stops looking.
    pub fn set_maintenance_file(&self, path: Option<PathBuf>) {
        *self
            .inner
            .maintenance_file
            .write()
            .unwrap_or_else(|e| e.into_inner()) = path;
    }

    /// Whether maintenance mode is on, by toggle or by file.
    pub fn in_maintenance(&self) -> bool {
        if self.inner.maintenance.load(Ordering::Relaxed) {
            return true;
        }
        let file = self
            .inner
            .maintenance_file
            .read()
            .unwrap_or_else(|e| e.into_inner());
        file.as_deref().is_some_and(|path| path.exists())
    }

    /// Sets the timeout of checks that set none.
    pub fn set_default_timeout(&self, timeout: Duration) {
        self.inner
            .default_timeout_micros
            .store(timeout.as_micros() as u64, Ordering::Relaxed);
    }

    /// The timeout of checks that set none.
    pub fn default_timeout(&self) -> Duration {
        Duration::from_micros(self.inner.default_timeout_micros.load(Ordering::Relaxed))
    }

    /// A receiver of every status change of the service, a probe or a check.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }

    /// A receiver of the latest status of `subject`, updated whenever a change is recorded
    /// (`None` until one is).
    pub fn watch(&self, subject: Subject) -> watch::Receiver<Option<Status>> {
        self.inner.changes.watch(subject)
    }

    /// The status last recorded for `subject` (by a probe, or by a run of the check), if any.
    pub fn last_status(&self, subject: &Subject) -> Option<Status> {
        self.inner.changes.last(subject)
    }

    /// Whether `other` is a clone of this handle (the same registry and state).
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn same_handle(&self, other: &Health) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn changes(&self) -> &Changes {
        &self.inner.changes
    }

    pub(crate) fn downgrade(&self) -> WeakHealth {
        WeakHealth(Arc::downgrade(&self.inner))
    }

    pub(crate) fn default_cache_micros(&self) -> &AtomicU64 {
        &self.inner.default_cache_micros
    }

    /// Marks that the application meant to serve this handle on a server of its own, so setting
    /// the state while none runs warns.
    #[cfg_attr(not(feature = "listener"), allow(dead_code))]
    pub(crate) fn expect_server(&self) {
        self.inner.server_expected.store(true, Ordering::Relaxed);
    }

    /// Counts a running server of this handle until the guard is dropped.
    #[cfg_attr(not(feature = "listener"), allow(dead_code))]
    pub(crate) fn serving(&self) -> Serving {
        self.expect_server();
        self.inner.servers.fetch_add(1, Ordering::Relaxed);
        Serving(self.clone())
    }
}

/// A running server of a [`Health`] handle, counted until dropped.
pub(crate) struct Serving(Health);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.inner.servers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Health")
            .field("state", &self.state())
            .field("checks", &self.checks().len())
            .field("maintenance", &self.in_maintenance())
            .finish()
    }
}
