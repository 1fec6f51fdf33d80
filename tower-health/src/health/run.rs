//! Running one check: under its timeout, isolated from panics, each result reused for the
//! check's cache time-to-live. A run that completes at once (its first poll is ready) is run
//! inline, in the requester's own poll; one that waits goes on in a task of its own, shared by
//! every request that wants it meanwhile (single-flight).

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::Instrument;

use super::check::{Check, RunCheck};
use super::registry::Registry;
use super::report::RunEnd;
use super::result::CheckResult;
use super::state::{CheckState, FinishedRun, Flight, SharedRun};
use super::stats::RunOutcome;
use super::status::{Status, Subject};
use super::thresholds::Thresholds;

/// A result of `check` without waiting, when there is one: fresh in the cache, or a run started
/// here that completed at once. Otherwise a run is under way (started here or by another
/// requester) and [`joined`] waits for it.
pub(crate) fn now_or_started(
    registry: &Arc<Registry>,
    check: &Check,
    now: Instant,
) -> Result<Arc<FinishedRun>, Waiting> {
    let ttl = registry.cache_ttl(check);
    let before = {
        let mut inner = check.state.lock();
        if let Some(latest) = inner
            .latest
            .as_ref()
            .filter(|latest| latest.fresh_at(now, ttl))
        {
            return Ok(latest.clone());
        }
        let before = inner.latest.clone();
        if inner.in_flight.is_some() {
            return Err(Waiting { before });
        }
        // Claimed under the lock: concurrent requesters join this run instead of starting one.
        inner.in_flight = Some(Flight::Starting);
        before
    };
    let claim = Claim(&check.state);
    let run = start(registry, check).ok_or(Waiting { before });
    drop(claim);
    run
}

/// A run under way, and the result before it.
pub(crate) struct Waiting {
    before: Option<Arc<FinishedRun>>,
}

/// Releases a claim left behind: only an unexpected panic between claiming and starting does.
struct Claim<'a>(&'a CheckState);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        if matches!(inner.in_flight, Some(Flight::Starting)) {
            inner.in_flight = None;
        }
    }
}

/// The result of the run of `check` that was under way, once it ends.
pub(crate) async fn joined(
    registry: &Arc<Registry>,
    check: &Check,
    waiting: Waiting,
) -> Arc<FinishedRun> {
    let mut before = waiting.before;
    loop {
        let flight = {
            let inner = check.state.lock();
            match &inner.in_flight {
                Some(Flight::Shared(run)) => Some(run.clone()),
                // Another requester is polling it for the first time, for a moment.
                Some(Flight::Starting) => None,
                None => match (&inner.latest, &before) {
                    (Some(latest), Some(before)) if Arc::ptr_eq(latest, before) => None,
                    (Some(latest), _) => return latest.clone(),
                    (None, _) => None,
                },
            }
        };
        if let Some(run) = flight {
            return run.await;
        }
        let in_flight = check.state.lock().in_flight.is_some();
        if !in_flight {
            // Nothing under way and no newer result (the run was cancelled): run it again.
            match now_or_started(registry, check, Instant::now()) {
                Ok(run) => return run,
                Err(waiting) => before = waiting.before,
            }
            continue;
        }
        tokio::task::yield_now().await;
    }
}

/// Runs `check`, claimed by this requester: inline up to its first poll, finished at once when
/// that completes it; otherwise in a task of its own, shared as the check's run in flight.
fn start(registry: &Arc<Registry>, check: &Check) -> Option<Arc<FinishedRun>> {
    let timeout = check.timeout.unwrap_or_else(|| registry.default_timeout());
    let slot = match registry.run_slots() {
        None => None,
        Some(slots) => match slots.clone().try_acquire_owned() {
            Ok(slot) => Some(slot),
            Err(_) => {
                // Every slot is taken: the run waits for one in its task.
                let runner = Runner::of(check);
                let span = runner.span(tracing::Span::current().id());
                let run =
                    execute(check.runner.clone(), timeout, Some(slots)).instrument(span.clone());
                share(registry, check, runner, span, run.boxed());
                return None;
            }
        },
    };
    let span = run_span(&check.name, Groups(check), tracing::Span::current().id());
    let begun = Begun::now(timeout);
    let mut future = None;
    let first = span.in_scope(|| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            let future = future.insert(check.runner.clone().run());
            future
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
        }))
    });
    let raw = match first {
        Ok(Poll::Ready(result)) => begun.ended(result, RunEnd::Completed),
        Err(panic) => begun.panicked(&*panic),
        Ok(Poll::Pending) => {
            let future = future.expect("polled above");
            let run = begun.complete(future, slot).instrument(span.clone());
            share(registry, check, Runner::of(check), span, run.boxed());
            return None;
        }
    };
    drop(slot);
    let (finish, state) = (Finish::of(check), &check.state);
    Some(finish.store(registry, state, &span, raw))
}

/// Spawns `run` of `check`, which stores its own result, so requesters that go away do not
/// cancel it for the others; it becomes the check's run in flight.
fn share(
    registry: &Arc<Registry>,
    check: &Check,
    runner: Runner,
    span: tracing::Span,
    run: BoxFuture<'static, FinishedRun>,
) {
    let (registry, state) = (Arc::downgrade(registry), Arc::downgrade(&check.state));
    // Spawned under the lock, so that the task stores its result only once it is shared.
    let mut inner = check.state.lock();
    let task = {
        let state = state.clone();
        tokio::spawn(async move {
            let raw = run.await;
            let (registry, state) = (registry.upgrade()?, state.upgrade()?);
            Some(runner.finish().store(&registry, &state, &span, raw))
        })
    };
    let shared: SharedRun = async move {
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
    .shared();
    inner.in_flight = Some(Flight::Shared(shared));
}

/// The comma-separated groups of a check, written only if a span records them.
struct Groups<'a>(&'a Check);

impl fmt::Display for Groups<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.groups().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(group)?;
        }
        Ok(())
    }
}

/// The span of one run: a child of `parent` (the requester's span) or a root. Spawned runs do
/// not inherit the requester's span, so it is given explicitly (requesters that join the run
/// later share it).
fn run_span(name: &str, groups: impl fmt::Display, parent: Option<tracing::Id>) -> tracing::Span {
    tracing::info_span!(
        parent: parent,
        "health_check",
        check = %name,
        groups = %groups,
        outcome = tracing::field::Empty,
        duration_seconds = tracing::field::Empty,
    )
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
            groups: Groups(check).to_string().into(),
            runner: check.runner.clone(),
            timeout: check.timeout,
            thresholds: check.policy.thresholds,
            unresolved: check.unresolved,
        }
    }

    fn span(&self, parent: Option<tracing::Id>) -> tracing::Span {
        run_span(&self.name, &self.groups, parent)
    }

    fn finish(&self) -> Finish<'_> {
        Finish {
            name: &self.name,
            thresholds: &self.thresholds,
            unresolved: self.unresolved,
        }
    }

    /// Runs the check once and stores the result (see [`Finish::store`]): how a background run
    /// ends. The run is a span, a child of `parent` or a root. `None` when the registry or the
    /// check's state is gone.
    pub(crate) async fn run_and_store(
        &self,
        registry: &Weak<Registry>,
        state: &Weak<CheckState>,
        parent: Option<tracing::Id>,
    ) -> Option<Arc<FinishedRun>> {
        let span = self.span(parent);
        let timeout = match self.timeout {
            Some(timeout) => timeout,
            None => registry.upgrade()?.default_timeout(),
        };
        let slots = registry.upgrade()?.run_slots();
        let raw = execute(self.runner.clone(), timeout, slots)
            .instrument(span.clone())
            .await;
        let (registry, state) = (registry.upgrade()?, state.upgrade()?);
        Some(self.finish().store(&registry, &state, &span, raw))
    }
}

/// What storing a run's result needs of its check.
struct Finish<'a> {
    name: &'a Arc<str>,
    thresholds: &'a Thresholds,
    unresolved: bool,
}

impl<'a> Finish<'a> {
    fn of(check: &'a Check) -> Self {
        Finish {
            name: &check.name,
            thresholds: &check.policy.thresholds,
            unresolved: check.unresolved,
        }
    }

    /// Stores the result of a run that just ended in `state`, and records the status of its
    /// name and the run's counts: how every run ends, inline, in a task or in the background.
    fn store(
        &self,
        registry: &Registry,
        state: &CheckState,
        span: &tracing::Span,
        mut raw: FinishedRun,
    ) -> Arc<FinishedRun> {
        if self.unresolved {
            raw.end = RunEnd::Unresolved;
        }
        let run = state.store(self.thresholds, raw, registry.history_len());
        registry.changed();
        let outcome = RunOutcome::of(run.end, run.result.status);
        span.record("outcome", outcome.as_str());
        span.record("duration_seconds", run.duration.as_secs_f64());
        let _entered = span.enter();
        state.stats.record(outcome, run.duration);
        if let Some(observer) = registry.changes.observer() {
            observer.run(self.name, outcome, run.duration);
        }
        self.log_slowness(registry, state, run.duration);
        let status = run.result.status;
        if status != Status::Pass {
            // Not `message`: that name is the event's own message in tracing.
            let reason = run.result.message.as_deref().unwrap_or("");
            tracing::debug!(check = %self.name, %status, reason, "check not passing");
        }
        record_name(registry, self.name);
        run
    }

    /// A WARN when a run newly takes longer than the slow threshold, an INFO when a run is fast
    /// again.
    fn log_slowness(&self, registry: &Registry, state: &CheckState, duration: Duration) {
        let slow = registry
            .slow_threshold()
            .is_some_and(|threshold| duration > threshold);
        match state.stats.became_slow(slow) {
            Some(true) => tracing::warn!(check = %self.name, ?duration, "health check is slow"),
            Some(false) => {
                tracing::info!(check = %self.name, ?duration, "health check is fast again")
            }
            None => {}
        }
    }
}

/// When a run began, and the time it has.
struct Begun {
    time: SystemTime,
    started: Instant,
    timeout: Duration,
}

impl Begun {
    fn now(timeout: Duration) -> Self {
        Begun {
            time: SystemTime::now(),
            started: Instant::now(),
            timeout,
        }
    }

    fn ended(&self, result: CheckResult, end: RunEnd) -> FinishedRun {
        FinishedRun::new(result, self.time, self.started.elapsed(), end)
    }

    fn panicked(&self, panic: &(dyn Any + Send)) -> FinishedRun {
        let message = format!("check panicked: {}", panic_message(panic));
        self.ended(CheckResult::fail(message), RunEnd::Panicked)
    }

    /// Polls `future` to its end, holding `slot`, until the run's time is up.
    async fn complete(
        self,
        future: BoxFuture<'static, CheckResult>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> FinishedRun {
        let deadline = self.started + self.timeout;
        let raw = match tokio::time::timeout_at(deadline, AssertUnwindSafe(future).catch_unwind())
            .await
        {
            Ok(Ok(result)) => self.ended(result, RunEnd::Completed),
            Ok(Err(panic)) => self.panicked(&*panic),
            Err(_) => {
                let message = format!("check timed out after {:?}", self.timeout);
                self.ended(CheckResult::fail(message), RunEnd::TimedOut)
            }
        };
        drop(slot);
        raw
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
    let begun = Begun::now(timeout);
    let slot = match slots {
        None => None,
        // The semaphore is never closed, so acquiring fails never.
        Some(slots) => match tokio::time::timeout(timeout, slots.acquire_owned()).await {
            Ok(slot) => slot.ok(),
            Err(_) => {
                let message =
                    format!("check timed out after {timeout:?} waiting for a free run slot");
                return begun.ended(CheckResult::fail(message), RunEnd::TimedOut);
            }
        },
    };
    begun.complete(runner.run(), slot).await
}

/// Records the status of the checks named `name`: the worst contribution among their latest
/// results, so that checks sharing a name do not flip it on every run. Nothing is recorded when
/// none of them is registered (any more) or has a result.
fn record_name(registry: &Registry, name: &Arc<str>) {
    let by_name = registry.checks_by_name();
    let Some(named) = by_name.get(name) else {
        return;
    };
    let worst = || {
        named
            .checks
            .iter()
            .filter_map(|check| {
                let latest = check.state.latest()?;
                Some((latest.contribution(check.critical), latest))
            })
            .max_by_key(|(status, _)| *status)
    };
    // Most runs leave their name's status as it was: told without the changes' lock. A run that
    // changes it takes the lock and computes it again there.
    match worst() {
        None => return,
        Some((status, _)) if named.recorded.is(status) => return,
        Some(_) => {}
    }
    // Computed under the changes' lock (which is taken before any check's, never after), so the
    // last status recorded is that of the latest results.
    registry
        .changes
        .record_current(Subject::Check(name.clone()), || {
            let (status, worst) = worst()?;
            named.recorded.set(status);
            if let Some(observer) = registry.changes.observer() {
                observer.status(&Subject::Check(name.clone()), status, &named.checks);
            }
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
    use std::sync::atomic::{AtomicUsize, Ordering};

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

    /// A check that counts its runs and answers at once, cached for `ttl`; panics when `panics`.
    fn instant(name: &str, ttl: Duration, panics: bool) -> (Check, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let check = Check::new(name, move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                assert!(!panics, "broken on purpose");
                true
            }
        })
        .cache(ttl);
        (check, runs)
    }

    #[test]
    fn checks_that_complete_at_once_are_answered_in_the_first_poll_without_a_runtime() {
        let health = Health::new();
        let runs: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                let (check, runs) = instant(name, Duration::ZERO, false);
                health.register(check);
                runs
            })
            .collect();
        for round in 1..=2 {
            // No tokio runtime here: a run that had to be spawned would panic.
            let report = health
                .evaluate(&Subject::Service)
                .now_or_never()
                .expect("ready in the first poll")
                .unwrap();
            assert_eq!(report.status, Status::Pass);
            assert!(report.checks.iter().all(|c| c.end == RunEnd::Completed));
            for runs in &runs {
                assert_eq!(
                    runs.load(Ordering::SeqCst),
                    round,
                    "cache off: run every time"
                );
            }
        }
    }

    #[test]
    fn a_check_that_panics_at_once_fails_and_is_run_again_next_time() {
        let health = Health::new();
        let (check, runs) = instant("broken", Duration::ZERO, true);
        health.register(check);
        for round in 1..=2 {
            // Ready in the first poll again: the panic left no run claimed behind.
            let report = health
                .evaluate(&Subject::Service)
                .now_or_never()
                .expect("ready in the first poll")
                .unwrap();
            assert_eq!(report.status, Status::Fail);
            let broken = &report.checks[0];
            assert_eq!(broken.end, RunEnd::Panicked);
            assert_eq!(
                broken.result.message.as_deref(),
                Some("check panicked: broken on purpose")
            );
            assert_eq!(runs.load(Ordering::SeqCst), round);
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
