//! Running one check: under its timeout, isolated from panics, each result reused for the
//! check's cache time-to-live and each run shared by every request that wants it meanwhile
//! (single-flight).

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use tokio::time::Instant;
use tracing::Instrument;

use super::check::{Check, RunCheck};
use super::metrics::Outcome;
use super::registry::Registry;
use super::report::RunEnd;
use super::result::CheckResult;
use super::state::{CheckState, FinishedRun, SharedRun};
use super::status::{Status, Subject};
use super::thresholds::Thresholds;

/// A fresh cached result of `check`, or a run shared with every concurrent requester.
pub(crate) async fn cached_or_shared(registry: &Arc<Registry>, check: &Check) -> Arc<FinishedRun> {
    let ttl = registry.cache_ttl(check);
    let run = {
        let mut inner = check.state.lock();
        if let Some(latest) = inner
            .latest
            .as_ref()
            .filter(|latest| latest.fresh_at(Instant::now(), ttl))
        {
            return latest.clone();
        }
        inner
            .in_flight
            .get_or_insert_with(|| shared_run(registry, check))
            .clone()
    };
    run.await
}

/// Spawns one run of `check` that stores its own result, so requesters that go away do not
/// cancel it for the others; every requester awaits the returned future.
fn shared_run(registry: &Arc<Registry>, check: &Check) -> SharedRun {
    let runner = Runner::of(check);
    let (registry, state) = (Arc::downgrade(registry), Arc::downgrade(&check.state));
    // The spawned task does not inherit the requester's span: the run's span is made its child
    // explicitly (requesters that join the run later share it).
    let parent = tracing::Span::current().id();
    let task = {
        let state = state.clone();
        tokio::spawn(async move { runner.run_and_store(&registry, &state, parent).await })
    };
    async move {
        let why = match task.await {
            Ok(Some(run)) => return run,
            Ok(None) => "the check or its registry is gone".to_owned(),
            // Only a runtime shutting down cancels the task (panics are caught inside it).
            Err(error) => error.to_string(),
        };
        if let Some(state) = state.upgrade() {
            state.lock().in_flight = None;
        }
        Arc::new(FinishedRun::new(
            CheckResult::fail(format!("check run was cancelled: {why}")),
            SystemTime::now(),
            Duration::ZERO,
            RunEnd::TimedOut,
        ))
    }
    .boxed()
    .shared()
}

/// What a run of a check needs, without the check itself: held by background tasks, which must
/// not keep the check alive.
pub(crate) struct Runner {
    pub(crate) name: Arc<str>,
    /// The check's groups, comma-separated, for its runs' spans.
    groups: Box<str>,
    runner: Arc<dyn RunCheck>,
    timeout: Option<Duration>,
    thresholds: Thresholds,
    unresolved: bool,
}

impl Runner {
    pub(crate) fn of(check: &Check) -> Self {
        Runner {
            name: check.name.clone(),
            groups: check.groups().collect::<Vec<_>>().join(",").into(),
            runner: check.runner.clone(),
            timeout: check.timeout,
            thresholds: check.policy.thresholds,
            unresolved: check.unresolved,
        }
    }

    /// Runs the check once, stores the result in `state` and records the status of its name and
    /// the run's figures: how every run ends, on request or in the background. The run is a
    /// span, a child of `parent` (the requester's span) or a root. `None` when the registry or
    /// the check's state is gone.
    pub(crate) async fn run_and_store(
        &self,
        registry: &Weak<Registry>,
        state: &Weak<CheckState>,
        parent: Option<tracing::Id>,
    ) -> Option<Arc<FinishedRun>> {
        let span = tracing::info_span!(
            parent: parent,
            "health_check",
            check = %self.name,
            groups = %self.groups,
            outcome = tracing::field::Empty,
            duration_seconds = tracing::field::Empty,
        );
        let timeout = match self.timeout {
            Some(timeout) => timeout,
            None => registry.upgrade()?.default_timeout(),
        };
        let mut raw = execute(self.runner.clone(), timeout)
            .instrument(span.clone())
            .await;
        if self.unresolved {
            raw.end = RunEnd::Unresolved;
        }
        let (registry, state) = (registry.upgrade()?, state.upgrade()?);
        let run = state.store(&self.thresholds, raw);
        let outcome = Outcome::of(&run);
        span.record("outcome", outcome.as_str());
        span.record("duration_seconds", run.duration.as_secs_f64());
        let _entered = span.enter();
        state.figures.record(outcome, run.duration);
        #[cfg(feature = "metrics")]
        super::metrics::facade::run(&self.name, outcome, run.duration);
        self.log_slowness(&registry, &state, run.duration);
        let status = run.result.status;
        if status != Status::Pass {
            // Not `message`: that name is the event's own message in tracing.
            let reason = run.result.message.as_deref().unwrap_or("");
            tracing::debug!(check = %self.name, %status, reason, "check not passing");
        }
        record_name(&registry, &self.name);
        Some(run)
    }

    /// A WARN when a run newly takes longer than the slow threshold, an INFO when a run is fast
    /// again.
    fn log_slowness(&self, registry: &Registry, state: &CheckState, duration: Duration) {
        let slow = registry
            .slow_threshold()
            .is_some_and(|threshold| duration > threshold);
        match state.figures.became_slow(slow) {
            Some(true) => tracing::warn!(check = %self.name, ?duration, "health check is slow"),
            Some(false) => {
                tracing::info!(check = %self.name, ?duration, "health check is fast again")
            }
            None => {}
        }
    }
}

/// Runs `runner` once under `timeout`, turning a panic or a timeout into a failure.
async fn execute(runner: Arc<dyn RunCheck>, timeout: Duration) -> FinishedRun {
    let time = SystemTime::now();
    let started = Instant::now();
    let run = AssertUnwindSafe(runner.run()).catch_unwind();
    let (result, end) = match tokio::time::timeout(timeout, run).await {
        Ok(Ok(result)) => (result, RunEnd::Completed),
        Ok(Err(panic)) => (
            CheckResult::fail(format!("check panicked: {}", panic_message(&*panic))),
            RunEnd::Panicked,
        ),
        Err(_) => (
            CheckResult::fail(format!("check timed out after {timeout:?}")),
            RunEnd::TimedOut,
        ),
    };
    FinishedRun::new(result, time, started.elapsed(), end)
}

/// Records the status of the checks named `name`: the worst contribution among their latest
/// results, so that checks sharing a name do not flip it on every run. Nothing is recorded when
/// none of them is registered (any more) or has a result.
fn record_name(registry: &Registry, name: &Arc<str>) {
    // Computed under the changes' lock (which is taken before any check's, never after), so the
    // last status recorded is that of the latest results.
    registry
        .changes
        .record_current(Subject::Check(name.clone()), || {
            let (status, worst) = registry
                .checks()
                .iter()
                .filter(|check| check.name == *name)
                .filter_map(|check| {
                    let latest = check.state.latest()?;
                    Some((latest.contribution(check.critical), latest))
                })
                .max_by_key(|(status, _)| *status)?;
            #[cfg(feature = "metrics")]
            super::metrics::facade::check_status(name, status, &registry.checks());
            Some((status, move || worst.result.message.clone()))
        });
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}
