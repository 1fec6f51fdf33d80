//! The core: what a check is, the registry, groups, evaluation, caching, background runs,
//! thresholds and change events. It knows nothing of HTTP.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use tower_health::{Check, Health, Status, Subject};
//!
//! let health = Health::new();
//! health.register(Check::new("postgres", || async { true }).readiness().group("database"));
//! health.register(Check::new("cache", || async { false }).group("database").non_critical());
//! let report = health.evaluate(&Subject::group("database")).await.unwrap();
//! assert_eq!(report.status, Status::Warn);
//! assert_eq!(report.checks.len(), 2);
//! # }
//! ```

mod background;
mod changes;
mod check;
mod evaluate;
mod exposure;
mod handle;
mod history;
mod observe;
mod registry;
mod report;
mod result;
mod run;
mod state;
mod stats;
mod status;
mod thresholds;

pub use changes::Change;
pub use check::{Check, HealthCheck};
pub use exposure::Exposure;
pub use handle::Health;
pub use report::{CheckRun, Report, RunEnd};
pub use result::{CheckResult, IntoCheckResult};
pub use status::{Gate, Group, Lifecycle, Status, Subject};

pub(crate) use evaluate::Selection;
pub(crate) use history::{DEFAULT_LEN as HISTORY_LEN, Entry, History};
#[cfg(feature = "metrics")]
pub(crate) use observe::Observer;
pub(crate) use report::Validity;
pub(crate) use stats::{BUCKETS, CheckStats, RunOutcome, Stats};
