//! Background checks: a check that runs on its own interval, in a task of its own, so probes only
//! read its latest result and answer at once, however slow or hung the dependency.
//!
//! ```
//! use std::time::Duration;
//! use tower_health::{Check, Health};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let health = Health::new();
//! health.register(
//!     Check::new("postgres", || async { true })
//!         .background(Duration::from_secs(5))
//!         .initial_delay(Duration::from_millis(100)),
//! );
//! # }
//! ```
//!
//! Until its first run ends, a background check reports [`RunEnd::NotYetRun`]: status fail (warn
//! on the liveness probe, so a slow first run does not get the container restarted) with the
//! message [`NOT_YET_RUN`](crate::run::NOT_YET_RUN), shown where details are. Each run is bounded
//! by the check's timeout; a run that times out is reported as failed like any other.
//!
//! The task starts when the check is registered inside a tokio runtime (else at the first probe
//! that selects it), publishes each new status as a [`Change`](crate::Change) without waiting for
//! a probe, and stops when the check is deregistered or replaced, when the state becomes
//! [`State::ShuttingDown`] (a later probe restarts it if the state changes back), or when the last
//! [`Health`] handle is dropped: the task holds no handle of its own.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::{Either, select};
use tokio::sync::watch;

use crate::check::Check;
use crate::health::{Health, State, WeakHealth};
use crate::run::{CheckState, Run, RunEnd};

/// The shortest interval between background runs.
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

impl Check {
    /// Runs the check every `interval` (from the end of one run to the start of the next; at
    /// least [`MIN_INTERVAL`]) in a background task instead of on request. See the
    /// [module docs](crate::background).
    #[must_use]
    pub fn background(mut self, interval: Duration) -> Self {
        self.policy.background = Some(interval.max(MIN_INTERVAL));
        self
    }

    /// Waits `delay` before the first background run (default: none); no effect on a check that
    /// does not run in the background.
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.policy.initial_delay = delay;
        self
    }

    /// Whether the check runs in the background.
    pub fn is_background(&self) -> bool {
        self.policy.background.is_some()
    }
}

/// Starts the background task of `check` unless it runs already, the check is not a background
/// check, the service is shutting down or there is no tokio runtime here.
pub(crate) fn start(health: &Health, check: &Check) {
    let Some(interval) = check.policy.background else {
        return;
    };
    let mut slot = check.state.lock();
    if slot.task.as_ref().is_some_and(|task| !task.is_finished())
        || health.state() == State::ShuttingDown
    {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let task = Task {
        health: health.downgrade(),
        state: Arc::downgrade(&check.state),
        run: Run::of(check),
        interval,
        initial_delay: check.policy.initial_delay,
    };
    let lifecycle = health.subscribe_state();
    slot.task = Some(runtime.spawn(task.run(lifecycle)).abort_handle());
}

/// What the task holds: weak references only, so that dropping the registry or the check ends it.
struct Task {
    health: WeakHealth,
    state: Weak<CheckState>,
    run: Run,
    interval: Duration,
    initial_delay: Duration,
}

impl Task {
    async fn run(self, mut lifecycle: watch::Receiver<State>) {
        // Ends when the state becomes ShuttingDown or the last handle (the sender) is dropped.
        let stopped = lifecycle.wait_for(|state| *state == State::ShuttingDown);
        let work = Box::pin(self.work());
        let stopped = Box::pin(stopped);
        if let Either::Right(_) = select(work, stopped).await {
            tracing::debug!("background check stopped: shutting down");
        }
    }

    async fn work(self) {
        tokio::time::sleep(self.initial_delay).await;
        loop {
            // Upgraded only for a moment: the task must not keep the registry alive.
            {
                let (Some(health), Some(state)) = (self.health.upgrade(), self.state.upgrade())
                else {
                    return;
                };
                let registered = health
                    .checks()
                    .iter()
                    .any(|check| Arc::ptr_eq(&check.state, &state));
                if !registered {
                    return;
                }
            }
            let Some(taken) = self.run.run_and_store(&self.health, &self.state).await else {
                return;
            };
            if taken.end() == RunEnd::TimedOut {
                tracing::debug!(check = %self.run.name, "background check timed out");
            }
            tokio::time::sleep(self.interval).await;
        }
    }
}
