//! Thresholds: how many failures (or how long a failure) before a check reports fail, and how
//! many passes before it recovers, so that one blip does not flip a probe.
//!
//! ```
//! use std::time::Duration;
//! use tower_health::Check;
//!
//! let check = Check::new("search", || async { true })
//!     .failure_threshold(3) // warn for the first two failures in a row, fail on the third
//!     .failure_duration(Duration::from_secs(20)) // ... and only once it has failed for 20 s
//!     .success_threshold(2); // once failing, pass again after two passes in a row
//! ```
//!
//! The first result of a check is reported as it is (there is no history to smooth: a check that
//! fails from the start fails at once). After that, a failing result is reported as
//! [`Status::Warn`], with a message saying so, until both the failure count and the failure
//! duration are reached; and once reported failing, a check keeps failing until it has had the
//! required number of consecutive non-failing results. Timeouts and panics are failures like any
//! other.

use std::time::Duration;

// Tokio's clock, so that failure durations pass when tests advance a paused clock.
use tokio::time::Instant;

use super::result::CheckResult;
use super::status::Status;

/// When a check's failures count, and when it recovers. The default reports every result as it
/// is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Thresholds {
    /// Consecutive failures before the check reports fail (at least 1; default 1).
    pub(crate) failures: u32,
    /// How long the check must have been failing before it reports fail (default zero).
    pub(crate) failure_duration: Duration,
    /// Consecutive non-failing results before a failing check reports its status again (at
    /// least 1; default 1).
    pub(crate) successes: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            failures: 1,
            failure_duration: Duration::ZERO,
            successes: 1,
        }
    }
}

/// The run history thresholds need: kept per check across runs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// `None` before the first result; then whether the check is reported failing.
    failing: Option<bool>,
    failures: u32,
    successes: u32,
    failing_since: Option<Instant>,
}

impl Counters {
    /// The result to report for `result`, a run that ended at `now`.
    pub(crate) fn apply(
        &mut self,
        thresholds: &Thresholds,
        mut result: CheckResult,
        now: Instant,
    ) -> CheckResult {
        let failed = result.status == Status::Fail;
        let Some(failing) = self.failing else {
            self.failing = Some(failed);
            if failed {
                self.failures = 1;
                self.failing_since = Some(now);
            }
            return result;
        };
        if failed {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            let since = *self.failing_since.get_or_insert(now);
            let lasted = now.saturating_duration_since(since);
            if failing
                || (self.failures >= thresholds.failures && lasted >= thresholds.failure_duration)
            {
                self.failing = Some(true);
            } else {
                result.status = Status::Warn;
                let why = format!(
                    "failing, not yet reported: {} of {} consecutive failures, failing for {:?} of {:?}",
                    self.failures, thresholds.failures, lasted, thresholds.failure_duration
                );
                result.message = Some(with_reason(result.message.take(), why));
            }
        } else {
            self.failures = 0;
            self.failing_since = None;
            if failing {
                self.successes = self.successes.saturating_add(1);
                if self.successes >= thresholds.successes {
                    self.failing = Some(false);
                    self.successes = 0;
                } else {
                    let why = format!(
                        "recovering: {} of {} consecutive passes",
                        self.successes, thresholds.successes
                    );
                    result.status = Status::Fail;
                    result.message = Some(with_reason(result.message.take(), why));
                }
            }
        }
        result
    }
}

fn with_reason(message: Option<String>, why: String) -> String {
    match message {
        Some(message) => format!("{message} ({why})"),
        None => why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(thresholds: Thresholds, runs: &[(Status, u64)]) -> Vec<Status> {
        let start = Instant::now();
        let mut counters = Counters::default();
        runs.iter()
            .map(|&(status, at)| {
                let now = start + Duration::from_secs(at);
                counters
                    .apply(&thresholds, CheckResult::new(status), now)
                    .status
            })
            .collect()
    }

    use Status::{Fail, Pass, Warn};

    #[test]
    fn defaults_report_every_result_as_it_is() {
        let runs = [(Pass, 0), (Fail, 1), (Pass, 2), (Warn, 3), (Fail, 4)];
        assert_eq!(
            statuses(Thresholds::default(), &runs),
            [Pass, Fail, Pass, Warn, Fail]
        );
    }

    #[test]
    fn duration_and_count_must_both_be_reached() {
        let thresholds = Thresholds {
            failures: 2,
            failure_duration: Duration::from_secs(10),
            successes: 1,
        };
        let runs = [(Pass, 0), (Fail, 1), (Fail, 2), (Fail, 10), (Fail, 11)];
        assert_eq!(statuses(thresholds, &runs), [Pass, Warn, Warn, Warn, Fail]);
    }

    #[test]
    fn the_first_result_is_not_smoothed() {
        let thresholds = Thresholds {
            failures: 3,
            failure_duration: Duration::ZERO,
            successes: 2,
        };
        let runs = [(Fail, 0), (Pass, 1), (Pass, 2), (Fail, 3)];
        assert_eq!(statuses(thresholds, &runs), [Fail, Fail, Pass, Warn]);
    }
}
