//! What an evaluation found: a [`Report`] of [`CheckRun`]s.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::result::CheckResult;
use super::status::{Lifecycle, Status};

/// How a run of a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunEnd {
    /// The check returned a result.
    Completed,
    /// The check ran past its timeout and was stopped; the result fails.
    TimedOut,
    /// The check panicked; the result fails.
    Panicked,
    /// The check could not be resolved ([`Check::unresolved`](crate::Check::unresolved)) and did not run; the result fails.
    Unresolved,
    /// A [background](crate::Check::background) check has no result yet: it fails (warns in
    /// the `live` group) with the message `not yet run`.
    NotYetRun,
}

/// The result of one check, with when and how it ran.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CheckRun {
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

impl CheckRun {
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
#[non_exhaustive]
pub struct Report {
    /// The aggregate: the worst of the checks' contributions and the lifecycle gate.
    pub status: Status,
    /// Each check that ran, in registration order.
    pub checks: Vec<CheckRun>,
    /// Names the request excluded from the run.
    pub excluded: Vec<Arc<str>>,
    /// Names the request asked to exclude that matched no check.
    pub unknown_excludes: Vec<String>,
    /// The lifecycle gate's verdict when it is not passing, with the reason.
    pub gate: Option<(Status, String)>,
    /// The lifecycle state the gate judged (read once, so a format's notes match the status).
    pub state: Lifecycle,
    /// Until when every result in the report is fresh (`None`: no result goes stale, as a
    /// background check's does not).
    pub(crate) fresh_until: Option<Instant>,
}

/// How long something made of a [`Report`] (a kept HTTP answer, a gRPC status) may be served
/// again: while the registry's generation is the one it was evaluated at, and its results are
/// fresh.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Validity {
    generation: u64,
    fresh_until: Option<Instant>,
}

impl Validity {
    /// For `report`, evaluated at `generation` (read before the evaluation started).
    pub(crate) fn new(generation: u64, report: &Report) -> Self {
        Validity {
            generation,
            fresh_until: report.fresh_until,
        }
    }

    /// Whether its results are still fresh.
    pub(crate) fn fresh(&self) -> bool {
        self.fresh_until.is_none_or(|until| Instant::now() < until)
    }

    /// Whether it may be served again now that the registry is at `generation`.
    pub(crate) fn holds(&self, generation: u64) -> bool {
        self.generation == generation && self.fresh()
    }
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

    /// The report without a name in it: its status, gate and state, no checks and no
    /// excludes.
    pub(crate) fn without_names(&self) -> Report {
        Report {
            status: self.status,
            checks: Vec::new(),
            excluded: Vec::new(),
            unknown_excludes: Vec::new(),
            gate: self.gate.clone(),
            state: self.state,
            fresh_until: self.fresh_until,
        }
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
