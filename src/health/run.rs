//! Running one check: under its timeout, isolated from panics, each result reused for the
//! check's cache time-to-live and each run shared by every request that wants it meanwhile
//! (single-flight).

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use tokio::sync::Semaphore;
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
        let slots = registry.upgrade()?.run_slots();
        let mut raw = execute(self.runner.clone(), timeout, slots)
            .instrument(span.clone())
            .await;
        if self.unresolved {
            raw.end = RunEnd::Unresolved;
        }
        let (registry, state) = (registry.upgrade()?, state.upgrade()?);
        let run = state.store(&self.thresholds, raw);
        registry.changed();
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

/// Runs `runner` once under `timeout`, turning a panic or a timeout into a failure. With `slots`,
/// the run first takes one of them, and the wait counts against the timeout so that a capped
/// probe stays bounded.
async fn execute(
    runner: Arc<dyn RunCheck>,
    timeout: Duration,
    slots: Option<Arc<Semaphore>>,
) -> FinishedRun {
    let time = SystemTime::now();
    let started = Instant::now();
    let started_running = AtomicBool::new(slots.is_none());
    let run = async {
        // The semaphore is never closed, so acquiring fails never.
        let _slot = match &slots {
            Some(slots) => slots.acquire().await.ok(),
            None => None,
        };
        started_running.store(true, Ordering::Relaxed);
        AssertUnwindSafe(runner.run()).catch_unwind().await
    };
    let (result, end) = match tokio::time::timeout(timeout, run).await {
        Ok(Ok(result)) => (result, RunEnd::Completed),
        Ok(Err(panic)) => (
            CheckResult::fail(format!("check panicked: {}", panic_message(&*panic))),
            RunEnd::Panicked,
        ),
        Err(_) if started_running.load(Ordering::Relaxed) => (
            CheckResult::fail(format!("check timed out after {timeout:?}")),
            RunEnd::TimedOut,
        ),
        Err(_) => (
            CheckResult::fail(format!(
                "check timed out after {timeout:?} waiting for a free run slot"
            )),
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::sync::watch;

    use super::*;
    use crate::{Check, Health, Report, RunEnd, Status, Subject};

    /// How many checks run at once, and the most that ever did.
    #[derive(Default)]
    struct Counts {
        running: AtomicUsize,
        peak: AtomicUsize,
    }

    /// A check that counts itself running until `release` turns true.
    fn counting(name: String, counts: &Arc<Counts>, release: &watch::Receiver<bool>) -> Check {
        let (counts, release) = (counts.clone(), release.clone());
        Check::new(name, move || {
            let (counts, mut release) = (counts.clone(), release.clone());
            async move {
                let now = counts.running.fetch_add(1, Ordering::SeqCst) + 1;
                counts.peak.fetch_max(now, Ordering::SeqCst);
                let _ = release.wait_for(|open| *open).await;
                counts.running.fetch_sub(1, Ordering::SeqCst);
                true
            }
        })
        .timeout(Duration::from_secs(60))
    }

    /// Forty counting checks of a handle capped at `cap`, and a probe of them all running.
    fn forty_probed(
        cap: Option<usize>,
    ) -> (
        Arc<Counts>,
        watch::Sender<bool>,
        tokio::task::JoinHandle<Report>,
    ) {
        let health = Health::new();
        health.set_max_concurrent_runs(cap);
        let counts = Arc::new(Counts::default());
        let (open, release) = watch::channel(false);
        for i in 0..40 {
            health.register(counting(format!("check-{i}"), &counts, &release));
        }
        let probe = tokio::spawn(async move { health.evaluate(&Subject::Service).await.unwrap() });
        (counts, open, probe)
    }

    async fn until_running(counts: &Counts, running: usize) {
        while counts.running.load(Ordering::SeqCst) < running {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn at_most_the_cap_runs_at_once_and_every_check_runs() {
        let (counts, open, probe) = forty_probed(Some(3));
        until_running(&counts, 3).await;
        // Every other run is queued: give them every chance to start anyway.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(counts.running.load(Ordering::SeqCst), 3);
        open.send_replace(true);
        let report = probe.await.unwrap();
        assert_eq!(report.status, Status::Pass);
        assert_eq!(report.checks.len(), 40);
        assert_eq!(counts.peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn without_a_cap_every_check_runs_at_once() {
        let (counts, open, probe) = forty_probed(None);
        until_running(&counts, 40).await;
        open.send_replace(true);
        assert_eq!(probe.await.unwrap().status, Status::Pass);
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_for_a_slot_counts_against_the_timeout() {
        let health = Health::new();
        health.set_max_concurrent_runs(Some(1));
        let (_open, release) = watch::channel(false);
        let counts = Arc::new(Counts::default());
        health.register(counting("holder".into(), &counts, &release));
        health.register(Check::new("waiter", || async { true }).timeout(Duration::from_secs(1)));
        let report = health.evaluate(&Subject::Service).await.unwrap();
        let waiter = report.checks.iter().find(|c| &*c.name == "waiter").unwrap();
        assert_eq!(waiter.end, RunEnd::TimedOut);
        assert_eq!(
            waiter.result.message.as_deref(),
            Some("check timed out after 1s waiting for a free run slot")
        );
        let holder = report.checks.iter().find(|c| &*c.name == "holder").unwrap();
        assert_eq!(
            holder.end,
            RunEnd::TimedOut,
            "it held the slot past its timeout"
        );
        assert_eq!(
            holder.result.message.as_deref(),
            Some("check timed out after 60s")
        );
    }
}
