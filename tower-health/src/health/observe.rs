//! The one hook through which something outside the core hears of runs and statuses as they
//! happen (the `metrics` facade), so that the core imports nothing of what listens.

use std::time::Duration;

use super::check::Check;
use super::stats::RunOutcome;
use super::status::{Status, Subject};

/// Told of every finished run and every recorded status of a handle, on the thread that
/// records it: an implementation must be quick and must not call back into the handle.
pub(crate) trait Observer: Send + Sync {
    /// A run of a check named `check` ended.
    fn run(&self, check: &str, outcome: RunOutcome, duration: Duration);
    /// The status recorded for `subject` changed; for a check, `checks` are the registered
    /// checks of its name (empty for a group or the service).
    fn status(&self, subject: &Subject, status: Status, checks: &[Check]);
}
