//! The figures behind the metrics: per check, its runs by outcome and a histogram of their
//! durations, kept in atomics beside the check's state (so a deregistered check's series go
//! with it); the statuses of checks, groups and the service come from the change records.
//!
//! Labels are check and group names only, never messages, so the number of series is bounded
//! by the registry. With the feature `metrics` every figure is also recorded through the
//! `metrics` facade as it changes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::registry::Registry;
use super::report::RunEnd;
use super::state::FinishedRun;
use super::status::{Status, Subject};

/// How a run ended, as the runs counter labels it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pass,
    Warn,
    Fail,
    Timeout,
    Panic,
}

impl Outcome {
    pub(crate) const ALL: [Outcome; 5] = [
        Outcome::Pass,
        Outcome::Warn,
        Outcome::Fail,
        Outcome::Timeout,
        Outcome::Panic,
    ];

    /// A timeout or panic is named as such; any other run by its status (thresholds applied).
    pub(crate) fn of(run: &FinishedRun) -> Self {
        match (run.end, run.result.status) {
            (RunEnd::TimedOut, _) => Outcome::Timeout,
            (RunEnd::Panicked, _) => Outcome::Panic,
            (_, Status::Pass) => Outcome::Pass,
            (_, Status::Warn) => Outcome::Warn,
            (_, Status::Fail) => Outcome::Fail,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Fail => "fail",
            Outcome::Timeout => "timeout",
            Outcome::Panic => "panic",
        }
    }
}

/// The upper bounds (seconds) of the run duration histogram's buckets: from 1 ms (a local
/// check) to 10 s (past any sensible timeout).
pub(crate) const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The runs of one check: counters by outcome and the duration histogram.
#[derive(Debug, Default)]
pub(crate) struct RunFigures {
    runs: [AtomicU64; Outcome::ALL.len()],
    /// Runs per bucket, not cumulative (the last counts the runs above every bound).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    /// Whether the last run was slow, so a slow check warns once until it is fast again.
    slow: AtomicBool,
}

impl RunFigures {
    pub(crate) fn record(&self, outcome: Outcome, duration: Duration) {
        self.runs[outcome as usize].fetch_add(1, Ordering::Relaxed);
        let seconds = duration.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Notes whether the latest run was slow: `Some(slow)` when that changed (the time to log).
    pub(crate) fn became_slow(&self, slow: bool) -> Option<bool> {
        let was = self.slow.swap(slow, Ordering::Relaxed);
        (was != slow).then_some(slow)
    }

    fn add_to(&self, totals: &mut CheckFigures) {
        for (total, runs) in totals.runs.iter_mut().zip(&self.runs) {
            *total += runs.load(Ordering::Relaxed);
        }
        for (total, count) in totals.buckets.iter_mut().zip(&self.buckets) {
            *total += count.load(Ordering::Relaxed);
        }
        totals.sum_seconds += self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
    }
}

/// What the metrics show of the checks of one name (checks sharing a name add up).
#[derive(Debug, Default)]
pub(crate) struct CheckFigures {
    pub(crate) name: Arc<str>,
    /// The groups the checks of this name belong to, sorted.
    pub(crate) groups: Vec<Arc<str>>,
    /// The status recorded for the name (the worst contribution of its latest results).
    pub(crate) status: Option<Status>,
    pub(crate) runs: [u64; Outcome::ALL.len()],
    /// Runs per bucket, not cumulative.
    pub(crate) buckets: [u64; BUCKETS.len() + 1],
    pub(crate) sum_seconds: f64,
}

impl CheckFigures {
    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// Every figure of one handle at one moment, sorted by name.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub(crate) checks: Vec<CheckFigures>,
    pub(crate) groups: Vec<(Arc<str>, Status)>,
    pub(crate) service: Option<Status>,
}

impl Figures {
    /// The figures of the registered checks and of the recorded groups and service.
    pub(crate) fn of(registry: &Registry) -> Self {
        let mut checks: BTreeMap<Arc<str>, CheckFigures> = BTreeMap::new();
        for check in registry.checks().iter() {
            let figures = checks
                .entry(check.name.clone())
                .or_insert_with(|| CheckFigures {
                    name: check.name.clone(),
                    ..CheckFigures::default()
                });
            check.state.figures.add_to(figures);
            for group in check.groups() {
                if !figures.groups.iter().any(|known| **known == *group) {
                    figures.groups.push(group.into());
                }
            }
        }
        let mut figures = Figures::default();
        for (subject, status) in registry.changes.recorded() {
            match subject {
                Subject::Service => figures.service = Some(status),
                Subject::Group(name) => figures.groups.push((name, status)),
                Subject::Check(name) => {
                    if let Some(check) = checks.get_mut(&name) {
                        check.status = Some(status);
                    }
                }
            }
        }
        figures.groups.sort();
        figures.checks = checks.into_values().collect();
        for check in &mut figures.checks {
            check.groups.sort();
        }
        figures
    }
}

/// A status as a gauge's value: 0 pass, 1 warn, 2 fail, so the worst of several is their
/// maximum, as in an aggregate.
pub(crate) fn status_value(status: Status) -> u8 {
    status as u8
}

/// The `metrics` facade: the same figures, recorded as they change.
#[cfg(feature = "metrics")]
pub(crate) mod facade {
    use std::time::Duration;

    use super::{Outcome, status_value};
    use crate::health::check::Check;
    use crate::health::status::{Status, Subject};

    pub(crate) fn run(check: &str, outcome: Outcome, duration: Duration) {
        let check = check.to_owned();
        metrics::counter!("tower_health_check_runs_total", "check" => check.clone(), "outcome" => outcome.as_str())
            .increment(1);
        metrics::histogram!("tower_health_check_duration_seconds", "check" => check)
            .record(duration.as_secs_f64());
    }

    /// The status of the checks named `name` in each of their groups.
    pub(crate) fn check_status(name: &str, status: Status, checks: &[Check]) {
        let mut groups: Vec<&str> = Vec::new();
        for check in checks.iter().filter(|check| &*check.name == name) {
            for group in check.groups() {
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
        }
        for group in groups {
            metrics::gauge!("tower_health_check_status", "check" => name.to_owned(), "group" => group.to_owned())
                .set(status_value(status));
        }
    }

    /// A group's or the service's status (checks are recorded by [`check_status`]).
    pub(crate) fn subject_status(subject: &Subject, status: Status) {
        match subject {
            Subject::Service => {
                metrics::gauge!("tower_health_service_status").set(status_value(status))
            }
            Subject::Group(name) => {
                metrics::gauge!("tower_health_group_status", "group" => name.to_string())
                    .set(status_value(status))
            }
            Subject::Check(_) => {}
        }
    }

    pub(crate) fn request(endpoint: &str, code: u16) {
        metrics::counter!("tower_health_requests_total", "endpoint" => endpoint.to_owned(), "code" => code.to_string())
            .increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_the_first_bucket_that_holds_them() {
        let figures = RunFigures::default();
        for millis in [0, 1, 2, 100, 100_000] {
            figures.record(Outcome::Pass, Duration::from_millis(millis));
        }
        figures.record(Outcome::Timeout, Duration::from_millis(800));
        let mut totals = CheckFigures::default();
        figures.add_to(&mut totals);
        assert_eq!(totals.runs, [5, 0, 0, 1, 0]);
        // 0 and 1 ms in ≤1 ms, 2 ms in ≤2.5 ms, 100 ms in ≤0.1 s, 800 ms in ≤1 s, 100 s above all.
        assert_eq!(totals.buckets, [2, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
        assert_eq!(totals.count(), 6);
        assert!((totals.sum_seconds - 100.903).abs() < 1e-9);
    }

    #[test]
    fn slowness_is_reported_once_per_change() {
        let figures = RunFigures::default();
        assert_eq!(figures.became_slow(false), None);
        assert_eq!(figures.became_slow(true), Some(true));
        assert_eq!(figures.became_slow(true), None);
        assert_eq!(figures.became_slow(false), Some(false));
        assert_eq!(figures.became_slow(false), None);
    }
}
