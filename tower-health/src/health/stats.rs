//! What the core counts of each check's runs: runs by outcome and a histogram of their
//! durations, kept in atomics beside the check's state (so a deregistered check's counts go
//! with it), and [`Stats`], every count of a handle at one moment with the statuses last
//! recorded for its checks, groups and the service. The metrics read them from here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::report::RunEnd;
use super::status::Status;

/// How a run ended, as the runs counter labels it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunOutcome {
    Pass,
    Warn,
    Fail,
    Timeout,
    Panic,
}

impl RunOutcome {
    pub(crate) const ALL: [RunOutcome; 5] = [
        RunOutcome::Pass,
        RunOutcome::Warn,
        RunOutcome::Fail,
        RunOutcome::Timeout,
        RunOutcome::Panic,
    ];

    /// A timeout or panic is named as such; any other run by its status (thresholds applied).
    pub(crate) fn of(end: RunEnd, status: Status) -> Self {
        match (end, status) {
            (RunEnd::TimedOut, _) => RunOutcome::Timeout,
            (RunEnd::Panicked, _) => RunOutcome::Panic,
            (_, Status::Pass) => RunOutcome::Pass,
            (_, Status::Warn) => RunOutcome::Warn,
            (_, Status::Fail) => RunOutcome::Fail,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Pass => "pass",
            RunOutcome::Warn => "warn",
            RunOutcome::Fail => "fail",
            RunOutcome::Timeout => "timeout",
            RunOutcome::Panic => "panic",
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
pub(crate) struct RunStats {
    runs: [AtomicU64; RunOutcome::ALL.len()],
    /// Runs per bucket, not cumulative (the last counts the runs above every bound).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    /// Whether the last run was slow, so a slow check warns once until it is fast again.
    slow: AtomicBool,
}

impl RunStats {
    pub(crate) fn record(&self, outcome: RunOutcome, duration: Duration) {
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

    pub(super) fn add_to(&self, totals: &mut CheckStats) {
        for (total, runs) in totals.runs.iter_mut().zip(&self.runs) {
            *total += runs.load(Ordering::Relaxed);
        }
        for (total, count) in totals.buckets.iter_mut().zip(&self.buckets) {
            *total += count.load(Ordering::Relaxed);
        }
        totals.sum_seconds += self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
    }
}

/// The counts of the checks of one name (checks sharing a name add up).
#[derive(Debug, Default)]
pub(crate) struct CheckStats {
    pub(crate) name: Arc<str>,
    /// The groups the checks of this name belong to, sorted.
    pub(crate) groups: Vec<Arc<str>>,
    /// The status recorded for the name (the worst contribution of its latest results).
    pub(crate) status: Option<Status>,
    pub(crate) runs: [u64; RunOutcome::ALL.len()],
    /// Runs per bucket, not cumulative.
    pub(crate) buckets: [u64; BUCKETS.len() + 1],
    pub(crate) sum_seconds: f64,
}

impl CheckStats {
    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// Every count of one handle at one moment, sorted by name.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) checks: Vec<CheckStats>,
    pub(crate) groups: Vec<(Arc<str>, Status)>,
    pub(crate) service: Option<Status>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_the_first_bucket_that_holds_them() {
        let stats = RunStats::default();
        for millis in [0, 1, 2, 100, 100_000] {
            stats.record(RunOutcome::Pass, Duration::from_millis(millis));
        }
        stats.record(RunOutcome::Timeout, Duration::from_millis(800));
        let mut totals = CheckStats::default();
        stats.add_to(&mut totals);
        assert_eq!(totals.runs, [5, 0, 0, 1, 0]);
        // 0 and 1 ms in ≤1 ms, 2 ms in ≤2.5 ms, 100 ms in ≤0.1 s, 800 ms in ≤1 s, 100 s above all.
        assert_eq!(totals.buckets, [2, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
        assert_eq!(totals.count(), 6);
        assert!((totals.sum_seconds - 100.903).abs() < 1e-9);
    }

    #[test]
    fn slowness_is_reported_once_per_change() {
        let stats = RunStats::default();
        assert_eq!(stats.became_slow(false), None);
        assert_eq!(stats.became_slow(true), Some(true));
        assert_eq!(stats.became_slow(true), None);
        assert_eq!(stats.became_slow(false), Some(false));
        assert_eq!(stats.became_slow(false), None);
    }
}
