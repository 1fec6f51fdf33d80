//! Evaluating a selection: the subject's checks run at once (results at hand taken without
//! waiting), gated by the lifecycle state, added up into a [`Report`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::join_all;
use tokio::time::Instant;

use super::check::Check;
use super::registry::Registry;
use super::report::{CheckRun, Report, RunEnd};
use super::result::CheckResult;
use super::run::{joined, now_or_started};
use super::state::FinishedRun;
use super::status::{Gate, Group, Status, Subject};

/// What one evaluation runs: a subject, under a gate, and what one request adds (one check's
/// name, exclusions, whether checks run at all).
#[derive(Clone, Debug)]
pub(crate) struct Selection {
    pub(crate) subject: Subject,
    /// Only the checks of this name among the subject's.
    pub(crate) only: Option<Box<str>>,
    pub(crate) gate: Gate,
    /// Names not to run.
    pub(crate) exclude: Vec<String>,
    /// Whether checks run at all (when not, the report has none and only the gate counts).
    pub(crate) run_checks: bool,
}

impl Selection {
    /// `subject`, whole, under its own gate.
    pub(crate) fn of(registry: &Registry, subject: Subject) -> Self {
        let (gate, _) = registry.gate_of(&subject);
        Self::gated(subject, gate)
    }

    /// `subject`, whole, under `gate`.
    pub(crate) fn gated(subject: Subject, gate: Gate) -> Self {
        Selection {
            subject,
            only: None,
            gate,
            exclude: Vec::new(),
            run_checks: true,
        }
    }

    fn includes(&self, check: &Check) -> bool {
        let in_subject = match &self.subject {
            Subject::Service => true,
            Subject::Group(group) => check.in_group(group),
            Subject::Check(name) => check.name == *name,
        };
        in_subject && self.only.as_deref().is_none_or(|name| *check.name == *name)
    }

    /// Whether the selection names checks, so that finding none is an unknown name.
    fn names_checks(&self) -> bool {
        self.only.is_some() || matches!(self.subject, Subject::Check(_))
    }

    /// What the status of this selection is recorded as: the service or a group only when the
    /// selection is exactly that subject (every check of it, run, under its own gate); a part
    /// (a name, exclusions, no run) or another gate is recorded as nothing. The checks of a
    /// name are recorded by their runs.
    fn recorded_as(&self, registry: &Registry) -> Option<&Subject> {
        let whole = self.only.is_none() && self.exclude.is_empty() && self.run_checks;
        let recorded = matches!(self.subject, Subject::Service | Subject::Group(_));
        (whole && recorded && registry.gate_of(&self.subject).0 == self.gate)
            .then_some(&self.subject)
    }
}

/// Runs what `selection` selects and adds it up; `None` when it names checks and none is
/// registered. The one evaluation behind every endpoint and protocol.
pub(crate) async fn evaluate(registry: &Arc<Registry>, selection: &Selection) -> Option<Report> {
    let registered = registry.checks();
    let wanted = |check: &&Check| selection.includes(check);
    // Counted first: one allocation of the right size, none when nothing is selected.
    let mut selected: Vec<&Check> = Vec::with_capacity(registered.iter().filter(wanted).count());
    selected.extend(registered.iter().filter(wanted));
    if selection.names_checks() && selected.is_empty() {
        return None;
    }
    let is_excluded = |check: &Check| selection.exclude.iter().any(|name| **name == *check.name);
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
    let state = registry.lifecycle();
    let gate = selection.gate.verdict(state, registry.has_started());
    let (checks, fresh_until) = run_selected(registry, &to_run, &selection.subject).await;
    let status = checks
        .iter()
        .map(CheckRun::contribution)
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
        fresh_until,
    };
    if let Some(subject) = selection.recorded_as(registry) {
        registry
            .changes
            .record(subject.clone(), status, || report.not_passing());
    }
    Some(report)
}

/// The reports of `checks`, in order, and until when they are all fresh. Results at hand
/// (fresh in the cache, a background check's latest, or a run that completes at once) are
/// taken without a future each; the runs that wait are awaited together.
async fn run_selected(
    registry: &Arc<Registry>,
    checks: &[&Check],
    subject: &Subject,
) -> (Vec<CheckRun>, Option<Instant>) {
    let now = Instant::now();
    let mut fresh_until = None;
    let mut until = |check: &Check, run: &FinishedRun| {
        if !check.is_background() {
            let this = run.fresh_until(registry.cache_ttl(check));
            fresh_until = Some(fresh_until.map_or(this, |earliest: Instant| earliest.min(this)));
        }
    };
    let mut reports = Vec::with_capacity(checks.len());
    let (mut to_run, mut waiting) = (Vec::new(), Vec::new());
    for (index, check) in checks.iter().enumerate() {
        let run = if check.is_background() {
            background_result(check, subject)
        } else {
            match now_or_started(registry, check, now) {
                Ok(run) => run,
                Err(wait) => {
                    to_run.push(index);
                    waiting.push(wait);
                    continue;
                }
            }
        };
        until(check, &run);
        reports.push(check_report(check, &run));
    }
    if to_run.is_empty() {
        return (reports, fresh_until);
    }
    let runs = join_all(to_run.iter().zip(waiting).map(|(&index, wait)| async move {
        let check = checks[index];
        (index, joined(registry, check, wait).await)
    }))
    .await;
    let runs: Vec<CheckRun> = runs
        .into_iter()
        .map(|(index, run)| {
            until(checks[index], &run);
            check_report(checks[index], &run)
        })
        .collect();
    // Merged back into registration order.
    let (mut runs, mut at_hand) = (runs.into_iter(), reports.into_iter());
    let mut to_run = to_run.into_iter().peekable();
    let reports = (0..checks.len())
        .filter_map(|index| match to_run.next_if_eq(&index) {
            Some(_) => runs.next(),
            None => at_hand.next(),
        })
        .collect();
    (reports, fresh_until)
}

/// The latest result of a background check, or that it has none yet: never a run.
fn background_result(check: &Check, subject: &Subject) -> Arc<FinishedRun> {
    check
        .state
        .latest()
        .unwrap_or_else(|| Arc::new(not_yet_run(subject)))
}

fn check_report(check: &Check, run: &FinishedRun) -> CheckRun {
    CheckRun {
        component_type: run
            .result
            .component_type
            .as_deref()
            .map(Arc::from)
            .or_else(|| check.component_type.clone()),
        name: check.name.clone(),
        critical: check.critical,
        result: run.result.clone(),
        time: run.time,
        duration: run.duration,
        end: run.end,
    }
}

/// What a background check without a result yet reports: failing, except in the liveness
/// group, where it only warns (a slow first run must not get the container restarted).
fn not_yet_run(subject: &Subject) -> FinishedRun {
    let status = match subject {
        Subject::Group(group) if **group == *Group::LIVE => Status::Warn,
        _ => Status::Fail,
    };
    FinishedRun::new(
        CheckResult::new(status).message(NOT_YET_RUN),
        SystemTime::now(),
        Duration::ZERO,
        RunEnd::NotYetRun,
    )
}

/// The message of a background check that has no result yet.
pub(crate) const NOT_YET_RUN: &str = "not yet run";

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::{Check, Health, Subject};

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
            let report = health.evaluate(&Subject::Service).await.unwrap();
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

    #[tokio::test]
    async fn groups_select_their_checks_and_carry_their_gates() {
        let health = Health::new();
        health.register(
            Check::new("postgres", || async { true })
                .readiness()
                .group("database"),
        );
        health.register(
            Check::new("cache", || async { false })
                .group("database")
                .non_critical(),
        );
        health.register(Check::new("disk", || async { true }).liveness());
        let names = |report: &Report| -> Vec<String> {
            report.checks.iter().map(|c| c.name.to_string()).collect()
        };
        let database = health.evaluate(&Subject::group("database")).await.unwrap();
        assert_eq!(names(&database), ["postgres", "cache"]);
        assert_eq!(
            database.status,
            Status::Warn,
            "a non-critical failure warns"
        );
        let ready = health
            .evaluate(&Subject::group(Group::READY))
            .await
            .unwrap();
        assert_eq!(names(&ready), ["postgres"]);
        let live = health.evaluate(&Subject::group(Group::LIVE)).await.unwrap();
        assert_eq!(names(&live), ["disk"]);

        health.set_lifecycle(crate::Lifecycle::WarmingUp);
        let ready = health
            .evaluate(&Subject::group(Group::READY))
            .await
            .unwrap();
        assert_eq!(ready.status, Status::Fail, "readiness is gated");
        let database = health.evaluate(&Subject::group("database")).await.unwrap();
        assert_eq!(database.status, Status::Warn, "an undeclared group is not");
        health.add_group(crate::Group::new("database").gate(Gate::Ready));
        let database = health.evaluate(&Subject::group("database")).await.unwrap();
        assert_eq!(database.status, Status::Fail, "a declared gate applies");

        assert!(health.evaluate(&Subject::check("nope")).await.is_none());
        let cache = health.evaluate(&Subject::check("cache")).await.unwrap();
        assert_eq!(cache.status, Status::Warn, "a check of a name is ungated");
    }
}
