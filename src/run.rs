//! Running checks: all selected checks at once, each under its timeout and isolated from panics.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt;
use futures_util::future::join_all;

use crate::changes::Subject;
use crate::check::{Check, CheckResult, Probe, Status};
use crate::health::{Health, State};

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
    /// When the run started.
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
    fn verdict(self, health: &Health) -> Option<(Status, String)> {
        let state = health.state();
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
    /// Only the checks of this name among them (and no gate).
    pub name: Option<String>,
    /// How the lifecycle state gates the status.
    pub gate: Gate,
    /// Names not to run.
    pub exclude: Vec<String>,
    /// Whether checks run at all (when not, the report has none and only the gate counts).
    pub run_checks: bool,
    /// What the resulting status is published as.
    pub subject: Option<Subject>,
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
            subject: Some(Subject::Service),
        }
    }

    /// The checks of `probe`, gated as the probe is.
    pub fn probe(probe: Probe) -> Self {
        let gate = match probe {
            Probe::Liveness => Gate::None,
            Probe::Readiness => Gate::Working,
            Probe::Startup => Gate::Started,
        };
        Selection {
            checks: Checks::Probe(probe),
            gate,
            subject: Some(Subject::Probe(probe)),
            ..Self::service()
        }
    }

    /// The checks named `name`, ungated.
    pub fn check(name: impl Into<String>) -> Self {
        Selection {
            name: Some(name.into()),
            gate: Gate::None,
            subject: None,
            ..Self::service()
        }
    }
}

impl Health {
    /// Runs what `selection` selects and adds it up; `None` when it names no registered check.
    ///
    /// This is the one evaluation behind every endpoint and protocol.
    pub async fn evaluate(&self, selection: &Selection) -> Option<Report> {
        let registered = self.checks();
        let selected: Vec<&Check> = registered
            .iter()
            .filter(|check| selection.checks.includes(check))
            .filter(|check| {
                selection
                    .name
                    .as_deref()
                    .is_none_or(|name| &*check.name == name)
            })
            .collect();
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
        let mut to_run = Vec::new();
        for check in selected {
            if is_excluded(check) {
                if !excluded.contains(&check.name) {
                    excluded.push(check.name.clone());
                }
            } else if selection.run_checks {
                to_run.push(check.clone());
            }
        }
        let gate = if selection.name.is_some() {
            None
        } else {
            selection.gate.verdict(self)
        };
        let checks = run_checks(self, to_run).await;
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
        };
        if let Some(subject) = &selection.subject {
            self.changes()
                .record(subject.clone(), status, || report.not_passing());
        }
        Some(report)
    }
}

/// Runs `checks` concurrently and records each check's status change.
pub(crate) async fn run_checks(health: &Health, checks: Vec<Check>) -> Vec<CheckReport> {
    let default_timeout = health.default_timeout();
    let reports = join_all(
        checks
            .into_iter()
            .map(|check| run_one(check, default_timeout)),
    )
    .await;
    for report in &reports {
        if report.status() != Status::Pass {
            tracing::debug!(check = %report.name, status = %report.status(), reason = report.result.message.as_deref(), "check not passing");
        }
        health
            .changes()
            .record(Subject::Check(report.name.clone()), report.status(), || {
                report.result.message.clone()
            });
    }
    reports
}

async fn run_one(check: Check, default_timeout: Duration) -> CheckReport {
    let time = SystemTime::now();
    let started = Instant::now();
    let timeout = check.timeout.unwrap_or(default_timeout);
    let run = AssertUnwindSafe(check.runner.clone().run()).catch_unwind();
    let (result, end) = match tokio::time::timeout(timeout, run).await {
        Ok(Ok(result)) if check.unresolved => (result, RunEnd::Unresolved),
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
    CheckReport {
        component_type: result
            .component_type
            .as_deref()
            .map(Arc::from)
            .or_else(|| check.component_type.clone()),
        name: check.name,
        critical: check.critical,
        result,
        time,
        duration: started.elapsed(),
        end,
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}
