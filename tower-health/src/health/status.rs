//! The vocabulary every other module speaks: statuses, lifecycle states, gates, groups and the
//! one name for what is evaluated.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// The outcome of a check, a group or the whole service.
///
/// Ordered from best to worst, so the aggregate of several statuses is their maximum. The three
/// levels are health+json's (and every prober's pass, degraded, fail), so a `match` on them is
/// exhaustive: no level will be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Healthy.
    Pass,
    /// Healthy with concerns (degraded).
    Warn,
    /// Unhealthy.
    Fail,
}

impl Status {
    /// The lowercase name used by health+json: `pass`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lifecycle state of the service, set by the application.
///
/// Every handle starts in [`Lifecycle::Unknown`]: the application has said nothing, so the gates
/// step aside and the checks alone decide. An application that manages its lifecycle sets
/// [`Lifecycle::WarmingUp`] first and [`Lifecycle::Working`] once it serves; from then on readiness
/// needs `Working` and startup needs `Working` reached once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lifecycle {
    /// No information: the initial state. Gates pass (only py-12f-common's lifecycle answer,
    /// [`Gate::Strict`], fails on it, as that package does).
    #[default]
    Unknown,
    /// Starting: alive, not ready.
    WarmingUp,
    /// Serving: ready when the readiness checks pass.
    Working,
    /// Draining before exit: alive, not ready.
    ShuttingDown,
}

impl Lifecycle {
    /// A short lowercase description: `unknown`, `warming up`, `working`, `shutting down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Unknown => "unknown",
            Lifecycle::WarmingUp => "warming up",
            Lifecycle::Working => "working",
            Lifecycle::ShuttingDown => "shutting down",
        }
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the service's [`Lifecycle`] gates a group's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gate {
    /// The lifecycle does not matter (liveness).
    None,
    /// Ready to serve: fail while warming up or shutting down (readiness).
    Ready,
    /// Fail until the lifecycle has been [`Lifecycle::Working`] once, or while warming up before
    /// that (startup).
    Started,
    /// Only [`Lifecycle::Working`] passes: warming up and shutting down warn, unknown fails
    /// (py-12f-common's lifecycle answer).
    Strict,
}

impl Gate {
    /// The gate's status in `state`, given whether the state has been working once, and why
    /// when it is not passing.
    pub(crate) fn verdict(self, state: Lifecycle, started: bool) -> Option<(Status, String)> {
        let status = match (self, state) {
            (Gate::None, _) => Status::Pass,
            (Gate::Ready, Lifecycle::WarmingUp | Lifecycle::ShuttingDown) => Status::Fail,
            (Gate::Ready, _) => Status::Pass,
            (Gate::Started, Lifecycle::Unknown) => Status::Pass,
            (Gate::Started, _) if started => Status::Pass,
            (Gate::Started, _) => Status::Fail,
            (Gate::Strict, Lifecycle::Working) => Status::Pass,
            (Gate::Strict, Lifecycle::WarmingUp | Lifecycle::ShuttingDown) => Status::Warn,
            (Gate::Strict, Lifecycle::Unknown) => Status::Fail,
        };
        (status != Status::Pass).then(|| (status, format!("state is {state}")))
    }
}

/// A named set of checks with a gate: the general mechanism of which the three probes are
/// instances.
///
/// A check joins groups with [`Check::group`](crate::Check::group) (readiness when it joins
/// none). The default endpoints answer every group at `/health/{group}` and each of its checks
/// at `/health/{group}/{check}`; gRPC answers it as the service name `{group}`. Three groups are
/// built in:
///
/// | group | gate | maintenance mode |
/// |---|---|---|
/// | [`Group::LIVE`] `live` | none | ignored |
/// | [`Group::READY`] `ready` | [`Gate::Ready`] | answers it |
/// | [`Group::STARTUP`] `startup` | [`Gate::Started`] | ignored |
///
/// Group names appear in paths as they are (they are not percent-decoded, unlike check names):
/// give groups names made of path-safe characters. Any other group is ungated until the application declares it with
/// [`Health::add_group`](crate::Health::add_group), which also redefines a built-in one.
///
/// ```
/// use tower_health::{Check, Gate, Group, Health};
///
/// let health = Health::new();
/// health.add_group(Group::new("payments").gate(Gate::Ready).maintenance(true));
/// health.register(Check::new("ledger", || async { true }).group("payments").readiness());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub(crate) name: Arc<str>,
    pub(crate) gate: Gate,
    pub(crate) maintenance: bool,
}

impl Group {
    /// The liveness group: is the process alive? Failing gets the container restarted, so keep
    /// external systems out of it.
    pub const LIVE: &'static str = "live";
    /// The readiness group: can the process take traffic? Failing takes it out of the load
    /// balancer.
    pub const READY: &'static str = "ready";
    /// The startup group: has the process finished starting?
    pub const STARTUP: &'static str = "startup";

    /// A group named `name`: ungated, ignoring maintenance mode.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Group {
            name: name.into(),
            gate: Gate::None,
            maintenance: false,
        }
    }

    /// How the lifecycle state gates the group's status.
    #[must_use]
    pub fn gate(mut self, gate: Gate) -> Self {
        self.gate = gate;
        self
    }

    /// Whether maintenance mode answers the group's endpoints (without running checks).
    #[must_use]
    pub fn maintenance(mut self, honour: bool) -> Self {
        self.maintenance = honour;
        self
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The three built-in groups.
    pub(crate) fn built_in() -> [Group; 3] {
        [
            Group::new(Group::LIVE),
            Group::new(Group::READY).gate(Gate::Ready).maintenance(true),
            Group::new(Group::STARTUP).gate(Gate::Started),
        ]
    }

    /// gRPC's long names of the built-in groups, kept as aliases.
    pub(crate) fn alias(name: &str) -> Option<&'static str> {
        match name {
            "liveness" => Some(Group::LIVE),
            "readiness" => Some(Group::READY),
            "startup" => Some(Group::STARTUP),
            _ => None,
        }
    }
}

/// What is evaluated: the whole service, a group, or the checks of one name.
///
/// The same value names an endpoint's checks, the subject of a [`Change`](crate::Change), a
/// [watch](crate::Health::watch) and a gRPC service (see [`Health::subject`](crate::Health::subject)
/// for how a gRPC name resolves).
///
/// | subject | checks | gated by |
/// |---|---|---|
/// | [`Subject::Service`] | every check | [`Gate::Ready`] and maintenance, like `/health` |
/// | [`Subject::Group`] | the group's | the group's gate and maintenance |
/// | [`Subject::Check`] | the checks of that name | nothing |
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Subject {
    /// Every check together.
    Service,
    /// The checks of one group.
    Group(Arc<str>),
    /// The checks of one name: after each run, the worst of what the latest results of the
    /// checks of that name add to an aggregate (a non-critical failure warns).
    Check(Arc<str>),
}

impl Subject {
    /// The group named `name`.
    pub fn group(name: impl Into<Arc<str>>) -> Self {
        Subject::Group(name.into())
    }

    /// The checks named `name`.
    pub fn check(name: impl Into<Arc<str>>) -> Self {
        Subject::Check(name.into())
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Service => f.write_str("service"),
            Subject::Group(name) => write!(f, "group {name}"),
            Subject::Check(name) => write!(f, "check {name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_step_aside_while_the_state_is_unknown() {
        use Lifecycle::*;
        let pass = |gate: Gate, state, started| gate.verdict(state, started).is_none();
        for state in [Unknown, WarmingUp, Working, ShuttingDown] {
            assert!(pass(Gate::None, state, false));
        }
        assert!(pass(Gate::Ready, Unknown, false));
        assert!(pass(Gate::Ready, Working, true));
        assert!(!pass(Gate::Ready, WarmingUp, false));
        assert!(!pass(Gate::Ready, ShuttingDown, true));
        assert!(pass(Gate::Started, Unknown, false));
        assert!(!pass(Gate::Started, WarmingUp, false));
        assert!(pass(Gate::Started, ShuttingDown, true));
        assert_eq!(
            Gate::Strict.verdict(Unknown, false).map(|(s, _)| s),
            Some(Status::Fail)
        );
        assert_eq!(
            Gate::Strict.verdict(WarmingUp, false),
            Some((Status::Warn, "state is warming up".into()))
        );
        assert!(pass(Gate::Strict, Working, true));
    }
}
