//! Running checks: all selected checks at once, each under its timeout and isolated from panics,
//! each result reused for the check's cache time-to-live and each run shared by every request
//! that wants it meanwhile (single-flight).

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, join_all};
use tokio::task::AbortHandle;
// Tokio's clock, like the timeouts and intervals: tests that pause and advance it see results go
// stale (it is the system's monotonic clock otherwise).
use tokio::time::Instant;

use crate::changes::Subject;
use crate::check::{Check, CheckResult, Probe, RunCheck, Status};
use crate::health::{Health, State, WeakHealth};
use crate::thresholds::{Counters, Thresholds};

/// How a run of a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// The check returned a result.
    Completed,
    /// The check ran past its timeout and was stopped; the result fails.
    TimedOut,
    /// The check panicked; the result fails.
    Panicked,
    /// The check could not be resolved ([`Check::unresolved`]) and did not run; the result fails.
    Unresolved,
    /// A [background](Check::background) check has no result yet: it fails (warns for
    /// liveness) with the message [`NOT_YET_RUN`].
    NotYetRun,
}

/// The result of one check, with when and how it ran.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// The check's name.
    pub name: Arc<str>,
    /// The result's component type, else the check's.
    pub component_type: Option<Arc<str>>,
    /// Whether a failure fails the aggregate (otherwise it warns).
    pub critical: bool,
    /// What the check returned (or the failure standing in for a timeout or panic).
    pub result: CheckResult,
    /// When the run that produced the result started (an older run's when the result is cached).
    pub time: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// How it ended.
    pub end: RunEnd,
}

impl CheckReport {
    /// The check's own status.
    pub fn status(&self) -> Status {
        self.result.status
    }

    /// What this check adds to the aggregate: a non-critical failure only warns.
    pub fn contribution(&self) -> Status {
        match self.result.status {
            Status::Fail if !self.critical => Status::Warn,
            status => status,
        }
    }
}

/// The outcome of a probe: the checks it ran and the status they add up to.
#[derive(Clone, Debug)]
pub struct Report {
    /// The aggregate: the worst of the checks' contributions and the lifecycle gate.
    pub status: Status,
    /// Each check that ran, in registration order.
    pub checks: Vec<CheckReport>,
    /// Names the request excluded from the run.
    pub excluded: Vec<Arc<str>>,
    /// Names the request asked to exclude that matched no check.
    pub unknown_excludes: Vec<String>,
    /// The lifecycle gate's verdict when it is not passing, with the reason.
    pub gate: Option<(Status, String)>,
    /// The lifecycle state the gate judged (read once, so a format's notes match the status).
    pub state: State,
}

impl Report {
    /// Whether any check panicked.
    pub fn panicked(&self) -> bool {
        self.checks.iter().any(|c| c.end == RunEnd::Panicked)
    }

    /// Whether any check panicked or could not be resolved: an error rather than a failure.
    pub fn errored(&self) -> bool {
        self.checks
            .iter()
            .any(|c| matches!(c.end, RunEnd::Panicked | RunEnd::Unresolved))
    }

    /// The names of checks that are not passing, comma-separated (for logs and change events).
    pub fn not_passing(&self) -> Option<String> {
        let names: Vec<&str> = self
            .checks
            .iter()
            .filter(|c| c.status() != Status::Pass)
            .map(|c| &*c.name)
            .collect();
        let gate = self.gate.as_ref().map(|(_, why)| why.as_str());
        let parts: Vec<&str> = gate.into_iter().chain(names).collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// Which registered checks an evaluation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checks {
    /// Every check.
    All,
    /// The checks of one probe.
    Probe(Probe),
    /// None: the answer depends on the lifecycle state and maintenance only.
    None,
}

impl Checks {
    fn includes(self, check: &Check) -> bool {
        match self {
            Checks::All => true,
            Checks::Probe(probe) => check.probes().contains(probe),
            Checks::None => false,
        }
    }
}

/// How the lifecycle [`State`] gates a probe's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// The state does not matter (liveness).
    None,
    /// Fail unless the state is [`State::Working`] (readiness).
    Working,
    /// Fail until the state has been [`State::Working`] once (startup).
    Started,
    /// Working passes, warming up and shutting down warn, unknown fails (lifecycle style).
    Lifecycle,
}

impl Gate {
    fn verdict(self, state: State, health: &Health) -> Option<(Status, String)> {
        let status = match self {
            Gate::None => Status::Pass,
            Gate::Working if state == State::Working => Status::Pass,
            Gate::Working => Status::Fail,
            Gate::Started if health.has_started() => Status::Pass,
            Gate::Started => Status::Fail,
            Gate::Lifecycle => match state {
                State::Working => Status::Pass,
                State::WarmingUp | State::ShuttingDown => Status::Warn,
                State::Unknown => Status::Fail,
            },
        };
        (status != Status::Pass).then(|| (status, format!("state is {state}")))
    }
}

/// What to evaluate: the checks, the gate, and what one request adds (a name, exclusions).
#[derive(Clone, Debug)]
pub struct Selection {
    /// Which checks.
    pub checks: Checks,
    /// Only the checks of this name among them.
    pub name: Option<String>,
    /// How the lifecycle state gates the status.
    pub gate: Gate,
    /// Names not to run.
    pub exclude: Vec<String>,
    /// Whether checks run at all (when not, the report has none and only the gate counts).
    pub run_checks: bool,
}

impl Selection {
    /// Every check, gated like readiness: what the detailed endpoint and gRPC service `""` show.
    pub fn service() -> Self {
        Selection {
            checks: Checks::All,
            name: None,
            gate: Gate::Working,
            exclude: Vec::new(),
            run_checks: true,
        }
    }

    /// The checks of `probe`, gated as the probe is.
    pub fn probe(probe: Probe) -> Self {
        Selection {
            checks: Checks::Probe(probe),
            gate: probe_gate(probe),
            ..Self::service()
        }
    }

    /// The checks named `name`, ungated.
    pub fn check(name: impl Into<String>) -> Self {
        Selection {
            name: Some(name.into()),
            gate: Gate::None,
            ..Self::service()
        }
    }

    /// What the status of this selection is recorded as: the service or a probe only when the
    /// selection is exactly what that subject means (every check of it, run, under its own gate);
    /// a part (a name, exclusions, no run) or another gate is recorded as nothing.
    pub fn subject(&self) -> Option<Subject> {
        if self.name.is_some() || !self.exclude.is_empty() || !self.run_checks {
            return None;
        }
        match self.checks {
            Checks::All if self.gate == Gate::Working => Some(Subject::Service),
            Checks::Probe(probe) if self.gate == probe_gate(probe) => Some(Subject::Probe(probe)),
            _ => None,
        }
    }
}

/// How `probe` is gated by the lifecycle state.
fn probe_gate(probe: Probe) -> Gate {
    match probe {
        Probe::Liveness => Gate::None,
        Probe::Readiness => Gate::Working,
        Probe::Startup => Gate::Started,
    }
}

impl Health {
    /// Runs what `selection` selects and adds it up; `None` when it names no registered check.
    ///
    /// This is the one evaluation behind every endpoint and protocol.
    pub async fn evaluate(&self, selection: &Selection) -> Option<Report> {
        let registered = self.checks();
        let wanted = |check: &&Check| {
            selection.checks.includes(check)
                && selection
                    .name
                    .as_deref()
                    .is_none_or(|name| &*check.name == name)
        };
        // Counted first: one allocation of the right size, none when nothing is selected.
        let mut selected: Vec<&Check> =
            Vec::with_capacity(registered.iter().filter(wanted).count());
        selected.extend(registered.iter().filter(wanted));
        if selection.name.is_some() && selected.is_empty() {
            return None;
        }
        let is_excluded =
            |check: &Check| selection.exclude.iter().any(|name| **name == *check.name);
        let unknown_excludes = selection
            .exclude
            .iter()
            .filter(|name| !selected.iter().any(|check| *check.name == ***name))
            .cloned()
            .collect();
        let mut excluded: Vec<Arc<str>> = Vec::new();
        let mut to_run = Vec::with_capacity(selected.len());
        for check in selected {
            if is_excluded(check) {
                if !excluded.contains(&check.name) {
                    excluded.push(check.name.clone());
                }
            } else if selection.run_checks {
                to_run.push(check);
            }
        }
        let state = self.state();
        let gate = selection.gate.verdict(state, self);
        let checks = run_selected(self, &to_run, selection.checks).await;
        let status = checks
            .iter()
            .map(CheckReport::contribution)
            .chain(gate.as_ref().map(|(status, _)| *status))
            .max()
            .unwrap_or(Status::Pass);
        let report = Report {
            status,
            checks,
            excluded,
            unknown_excludes,
            gate,
            state,
        };
        if let Some(subject) = selection.subject() {
            self.changes()
                .record(subject, status, || report.not_passing());
        }
        Some(report)
    }
}

/// The reports of `checks`, in order. Results at hand (fresh in the cache, or a background
/// check's latest) are taken at once, without a future each; the checks that must run are
/// awaited together.
async fn run_selected(health: &Health, checks: &[&Check], selected: Checks) -> Vec<CheckReport> {
    let now = Instant::now();
    let mut reports = Vec::with_capacity(checks.len());
    let mut to_run = Vec::new();
    for (index, check) in checks.iter().enumerate() {
        match at_hand(health, check, selected, now) {
            Some(report) => reports.push(report),
            None => to_run.push(index),
        }
    }
    if to_run.is_empty() {
        return reports;
    }
    let runs = join_all(to_run.iter().map(|&index| async move {
        let check = checks[index];
        check_report(check, &*cached_or_shared_run(health, check).await)
    }))
    .await;
    // Merged back into registration order.
    let (mut runs, mut at_hand) = (runs.into_iter(), reports.into_iter());
    let mut to_run = to_run.into_iter().peekable();
    (0..checks.len())
        .filter_map(|index| match to_run.next_if_eq(&index) {
            Some(_) => runs.next(),
            None => at_hand.next(),
        })
        .collect()
}

/// The report of `check` when it needs no run: its background result, or its cached result while
/// fresh at `now`.
fn at_hand(health: &Health, check: &Check, selected: Checks, now: Instant) -> Option<CheckReport> {
    if check.policy.background.is_some() {
        crate::background::start(health, check);
        return Some(match check.state.latest() {
            Some(taken) => check_report(check, &taken),
            None => not_yet_run(check, selected),
        });
    }
    let latest = check
        .state
        .lock()
        .latest
        .clone()
        .filter(|latest| latest.fresh_at(now, cache_ttl(health, check)))?;
    Some(check_report(check, &latest))
}

fn cache_ttl(health: &Health, check: &Check) -> Duration {
    check
        .policy
        .cache
        .unwrap_or_else(|| health.default_cache_ttl())
}

/// A fresh cached result of `check`, or a run shared with every concurrent requester.
async fn cached_or_shared_run(health: &Health, check: &Check) -> Arc<Taken> {
    let ttl = cache_ttl(health, check);
    let run = {
        let mut slot = check.state.lock();
        if let Some(latest) = slot
            .latest
            .as_ref()
            .filter(|latest| latest.fresh_at(Instant::now(), ttl))
        {
            return latest.clone();
        }
        slot.in_flight
            .get_or_insert_with(|| shared_run(health, check))
            .clone()
    };
    run.await
}

/// Spawns one run of `check` that stores its own result, so requesters that go away do not
/// cancel it for the others; every requester awaits the returned future.
fn shared_run(health: &Health, check: &Check) -> SharedRun {
    let run = Run::of(check);
    let (health, state) = (health.downgrade(), Arc::downgrade(&check.state));
    let task = {
        let state = state.clone();
        tokio::spawn(async move { run.run_and_store(&health, &state).await })
    };
    async move {
        let why = match task.await {
            Ok(Some(taken)) => return taken,
            Ok(None) => "the check or its registry is gone".to_owned(),
            // Only a runtime shutting down cancels the task (panics are caught inside it).
            Err(error) => error.to_string(),
        };
        if let Some(state) = state.upgrade() {
            state.lock().in_flight = None;
        }
        Arc::new(Taken::new(
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
pub(crate) struct Run {
    pub(crate) name: Arc<str>,
    runner: Arc<dyn RunCheck>,
    timeout: Option<Duration>,
    thresholds: Thresholds,
    unresolved: bool,
}

impl Run {
    pub(crate) fn of(check: &Check) -> Self {
        Run {
            name: check.name.clone(),
            runner: check.runner.clone(),
            timeout: check.timeout,
            thresholds: check.policy.thresholds,
            unresolved: check.unresolved,
        }
    }

    /// Runs the check once and stores the result in `state`: how every run ends, on request or
    /// in the background. `None` when the registry or the check's state is gone.
    pub(crate) async fn run_and_store(
        &self,
        health: &WeakHealth,
        state: &Weak<CheckState>,
    ) -> Option<Arc<Taken>> {
        let timeout = match self.timeout {
            Some(timeout) => timeout,
            None => health.upgrade()?.default_timeout(),
        };
        let mut raw = execute(self.runner.clone(), timeout).await;
        if self.unresolved {
            raw.end = RunEnd::Unresolved;
        }
        let (health, state) = (health.upgrade()?, state.upgrade()?);
        Some(state.store(&health, self, raw))
    }
}

/// Runs `runner` once under `timeout`, turning a panic or a timeout into a failure.
async fn execute(runner: Arc<dyn RunCheck>, timeout: Duration) -> Taken {
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
    Taken::new(result, time, started.elapsed(), end)
}

fn check_report(check: &Check, taken: &Taken) -> CheckReport {
    CheckReport {
        component_type: taken
            .result
            .component_type
            .as_deref()
            .map(Arc::from)
            .or_else(|| check.component_type.clone()),
        name: check.name.clone(),
        critical: check.critical,
        result: taken.result.clone(),
        time: taken.time,
        duration: taken.duration,
        end: taken.end,
    }
}

/// A background check without a result yet: failing, except for liveness, where it only warns
/// (a slow first run must not get the container restarted).
fn not_yet_run(check: &Check, selected: Checks) -> CheckReport {
    let status = match selected {
        Checks::Probe(Probe::Liveness) => Status::Warn,
        _ => Status::Fail,
    };
    let taken = Taken::new(
        CheckResult::new(status).message(NOT_YET_RUN),
        SystemTime::now(),
        Duration::ZERO,
        RunEnd::NotYetRun,
    );
    check_report(check, &taken)
}

/// The message of a background check that has no result yet.
pub const NOT_YET_RUN: &str = "not yet run";

type SharedRun = Shared<BoxFuture<'static, Arc<Taken>>>;

/// One result of a check, as reported (thresholds applied), and when it was taken.
#[derive(Debug)]
pub(crate) struct Taken {
    result: CheckResult,
    time: SystemTime,
    taken: Instant,
    duration: Duration,
    end: RunEnd,
}

impl Taken {
    fn new(result: CheckResult, time: SystemTime, duration: Duration, end: RunEnd) -> Self {
        Taken {
            result,
            time,
            taken: Instant::now(),
            duration,
            end,
        }
    }

    pub(crate) fn end(&self) -> RunEnd {
        self.end
    }

    /// What the result adds to an aggregate: a non-critical failure only warns.
    fn contribution(&self, critical: bool) -> Status {
        match self.result.status {
            Status::Fail if !critical => Status::Warn,
            status => status,
        }
    }

    /// Whether the result is younger than `ttl` at `now` (a result taken after `now` is).
    fn fresh_at(&self, now: Instant, ttl: Duration) -> bool {
        now.saturating_duration_since(self.taken) < ttl
    }
}

/// How a check's results are produced and reused.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    /// The cache time-to-live; `None`: the handle's default.
    pub(crate) cache: Option<Duration>,
    /// Run on an interval in a task of its own instead of on request.
    pub(crate) background: Option<Duration>,
    /// The wait before the first background run.
    pub(crate) initial_delay: Duration,
    pub(crate) thresholds: Thresholds,
}

/// What a check keeps across requests, shared by its clones: the latest result, the run in
/// flight, the threshold counters and the background task.
#[derive(Default)]
pub(crate) struct CheckState {
    slot: Mutex<Slot>,
}

#[derive(Default)]
pub(crate) struct Slot {
    latest: Option<Arc<Taken>>,
    in_flight: Option<SharedRun>,
    counters: Counters,
    pub(crate) task: Option<AbortHandle>,
}

impl CheckState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn latest(&self) -> Option<Arc<Taken>> {
        self.lock().latest.clone()
    }

    /// Applies the thresholds to a finished run, keeps it as the latest result and records the
    /// status of its name. Nothing is logged under the check's lock.
    pub(crate) fn store(&self, health: &Health, run: &Run, raw: Taken) -> Arc<Taken> {
        let taken = {
            let mut slot = self.lock();
            let result = slot.counters.apply(&run.thresholds, raw.result, raw.taken);
            let taken = Arc::new(Taken { result, ..raw });
            slot.latest = Some(taken.clone());
            slot.in_flight = None;
            taken
        };
        let status = taken.result.status;
        if status != Status::Pass {
            // Not `message`: that name is the event's own message in tracing.
            let reason = taken.result.message.as_deref().unwrap_or("");
            tracing::debug!(check = %run.name, %status, reason, "check not passing");
        }
        record_name(health, &run.name);
        taken
    }
}

/// Records the status of the checks named `name`: the worst contribution among their latest
/// results, so that checks sharing a name do not flip it on every run. Nothing is recorded when
/// none of them is registered (any more) or has a result.
fn record_name(health: &Health, name: &Arc<str>) {
    // Computed under the changes' lock (which is taken before any check's, never after), so the
    // last status recorded is that of the latest results.
    health
        .changes()
        .record_current(Subject::Check(name.clone()), || {
            let (status, worst) = health
                .checks()
                .iter()
                .filter(|check| check.name == *name)
                .filter_map(|check| {
                    let latest = check.state.latest()?;
                    Some((latest.contribution(check.critical), latest))
                })
                .max_by_key(|(status, _)| *status)?;
            Some((status, move || worst.result.message.clone()))
        });
}

impl Drop for CheckState {
    fn drop(&mut self) {
        if let Some(task) = self.lock().task.take() {
            task.abort();
        }
    }
}

impl Health {
    /// How long a check's result is reused when the check sets no cache time-to-live: one
    /// second, below any probe period (the kubelet's `periodSeconds` is at least 1), so every
    /// probe sees a result at most a second old while a probe storm runs each check once a
    /// second at most.
    pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(1);

    /// Sets the cache time-to-live of checks that set none; zero turns caching off (concurrent
    /// requests still share a run in flight).
    pub fn set_default_cache_ttl(&self, ttl: Duration) {
        self.default_cache_micros()
            .store(ttl.as_micros() as u64, Ordering::Relaxed);
    }

    /// The cache time-to-live of checks that set none.
    pub fn default_cache_ttl(&self) -> Duration {
        Duration::from_micros(self.default_cache_micros().load(Ordering::Relaxed))
    }
}

impl Check {
    /// Reuses a result for `ttl` (instead of the handle's
    /// [default](Health::DEFAULT_CACHE_TTL)); zero runs the check on every request.
    ///
    /// Within `ttl`, probes answer from the result, with the time it was taken. Once it is stale,
    /// the next request starts one run and every request that comes meanwhile waits for that
    /// same run; a requester that goes away does not cancel it. Failures are cached like passes,
    /// so a failing dependency is not retried by every probe.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_health::Check;
    ///
    /// let check = Check::new("postgres", || async { true }).cache(Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn cache(mut self, ttl: Duration) -> Self {
        self.policy.cache = Some(ttl);
        self
    }
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

    use super::*;

    /// A check that counts its runs, cached for `ttl`.
    fn counted(name: &str, ttl: Duration) -> (Check, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let check = Check::new(name, move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { true }
        })
        .cache(ttl);
        (check, runs)
    }

    #[tokio::test]
    async fn cached_and_run_checks_are_reported_in_registration_order() {
        let health = Health::new();
        let long = Duration::from_secs(3600);
        let mut runs = Vec::new();
        for (name, ttl) in [
            ("a", long),
            ("b", Duration::ZERO),
            ("c", long),
            ("d", Duration::ZERO),
            ("e", long),
        ] {
            let (check, count) = counted(name, ttl);
            health.register(check);
            runs.push(count);
        }
        for _ in 0..3 {
            let report = health.evaluate(&Selection::service()).await.unwrap();
            let names: Vec<&str> = report.checks.iter().map(|c| &*c.name).collect();
            assert_eq!(names, ["a", "b", "c", "d", "e"]);
        }
        let runs: Vec<usize> = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
        assert_eq!(
            runs,
            [1, 3, 1, 3, 1],
            "cached checks ran once, the others every time"
        );
    }
}
