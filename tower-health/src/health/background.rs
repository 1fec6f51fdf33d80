//! Background checks: a check that runs on its own interval, in a task of its own (see
//! [`Check::background`](crate::Check::background)).
//!
//! Tasks are started on write paths only (registering a check, setting the state); answering a
//! probe reads the latest result and never starts work.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::{Either, select};
use tokio::sync::watch;

use super::check::Check;
use super::registry::Registry;
use super::report::RunEnd;
use super::run::Runner;
use super::state::CheckState;
use super::status::Lifecycle;

/// Starts the background task of `check` unless it runs already, the check is not a background
/// check, the service is shutting down or there is no tokio runtime here.
pub(crate) fn start(registry: &Arc<Registry>, check: &Check) {
    if !check.is_background() {
        return;
    }
    let mut inner = check.state.lock();
    if inner.task.as_ref().is_some_and(|task| !task.is_finished())
        || registry.lifecycle() == Lifecycle::ShuttingDown
    {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let task = Task {
        registry: Arc::downgrade(registry),
        state: Arc::downgrade(&check.state),
        runner: Runner::of(check),
        interval: check.policy.background,
        wake: check.policy.wake.clone(),
        initial_delay: check.policy.initial_delay,
    };
    let lifecycle = registry.watch_lifecycle();
    inner.task = Some(runtime.spawn(task.run(lifecycle)).abort_handle());
}

/// Starts every background task that is not running.
pub(crate) fn start_all(registry: &Arc<Registry>) {
    for check in registry.checks().iter() {
        if check.is_background() && !check.state.has_task() {
            start(registry, check);
        }
    }
}

/// What the task holds: weak references only, so that dropping the registry or the check ends it.
struct Task {
    registry: Weak<Registry>,
    state: Weak<CheckState>,
    runner: Runner,
    interval: Option<Duration>,
    wake: Option<watch::Receiver<()>>,
    initial_delay: Duration,
}

impl Task {
    async fn run(self, mut lifecycle: watch::Receiver<Lifecycle>) {
        // Ends when the state becomes ShuttingDown or the last handle (the sender) is dropped.
        let stopped = lifecycle.wait_for(|state| *state == Lifecycle::ShuttingDown);
        let work = Box::pin(self.work());
        let stopped = Box::pin(stopped);
        if let Either::Right(_) = select(work, stopped).await {
            tracing::debug!("background check stopped: shutting down");
        }
    }

    async fn work(mut self) {
        tokio::time::sleep(self.initial_delay).await;
        loop {
            // Upgraded only for a moment: the task must not keep the registry alive.
            {
                let (Some(registry), Some(state)) = (self.registry.upgrade(), self.state.upgrade())
                else {
                    return;
                };
                if !registry.is_registered(&state) {
                    return;
                }
            }
            let Some(run) = self
                .runner
                .run_and_store(&self.registry, &self.state, None)
                .await
            else {
                return;
            };
            if run.end == RunEnd::TimedOut {
                tracing::debug!(check = %self.runner.name, "background check timed out");
            }
            if !self.until_next_run().await {
                return;
            }
        }
    }

    /// Waits for the interval to pass or a wake-up, whichever comes first (a wake-up sent
    /// during the run counts); `false` when neither can come any more.
    async fn until_next_run(&mut self) -> bool {
        loop {
            let Some(wake) = &mut self.wake else {
                let Some(interval) = self.interval else {
                    return false;
                };
                tokio::time::sleep(interval).await;
                return true;
            };
            let woken = match self.interval {
                Some(interval) => tokio::time::timeout(interval, wake.changed())
                    .await
                    .unwrap_or(Ok(())),
                None => wake.changed().await,
            };
            if woken.is_ok() {
                return true;
            }
            // The sender is gone: only the interval is left.
            self.wake = None;
        }
    }
}
