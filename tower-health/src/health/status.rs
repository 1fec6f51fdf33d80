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
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{Request, StatusCode};
/// use http_body_util::BodyExt;
/// use tower::ServiceExt;
/// use tower_health::{Health, HealthLayer, Lifecycle};
///
/// let health = Health::new();
/// let service = tower::ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health.clone()))
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let status = |path: &str| {
///     let request = Request::get(path).body(String::new()).unwrap();
///     let service = service.clone();
///     async move { service.oneshot(request).await.unwrap().status() }
/// };
/// let (ok, unavailable) = (StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE);
///
/// health.set_lifecycle(Lifecycle::WarmingUp); // first thing
/// assert_eq!(status("/health/live").await, ok);
/// assert_eq!(status("/health/ready").await, unavailable);
/// assert_eq!(status("/health/startup").await, unavailable);
///
/// health.set_lifecycle(Lifecycle::Working); // once it serves
/// assert_eq!(status("/health/ready").await, ok);
/// assert_eq!(status("/health/startup").await, ok);
///
/// health.set_maintenance(true); // readiness answers maintenance, without running checks
/// let request = Request::get("/health/ready").body(String::new()).unwrap();
/// let response = service.clone().oneshot(request).await.unwrap();
/// assert_eq!(response.status(), unavailable);
/// let body = response.into_body().collect().await.unwrap().to_bytes();
/// assert_eq!(body, r#"{"status":"fail","notes":["maintenance"]}"#);
/// assert_eq!(status("/health/live").await, ok);
/// health.set_maintenance(false);
///
/// health.set_lifecycle(Lifecycle::ShuttingDown); // graceful shutdown begins
/// assert_eq!(status("/health/ready").await, unavailable);
/// assert_eq!(status("/health/startup").await, ok); // working was reached
/// assert_eq!(status("/health/live").await, ok);
/// # }
/// ```
///
/// The application sets the state from any clone of the handle
/// ([`Health::set_lifecycle`](crate::Health::set_lifecycle)); it counts from the next request.
/// Every handle starts in [`Lifecycle::Unknown`]: the application has said nothing, so the gates
/// step aside and the checks alone decide (a `HealthLayer::new()` with nothing else answers 200
/// everywhere). An application that manages its lifecycle sets [`Lifecycle::WarmingUp`] first
/// thing and [`Lifecycle::Working`] once it serves.
///
/// | lifecycle | `/health/live` | `/health/ready`, `/health` | `/health/startup` |
/// |---|---|---|---|
/// | `Unknown` (initial, never set) | its checks | its checks | its checks |
/// | `WarmingUp` | its checks | fail | fail until working was reached once |
/// | `Working` | its checks | its checks | its checks |
/// | `ShuttingDown` | its checks | fail | its checks once working was reached, else fail |
///
/// Liveness never depends on the state: a warming-up or draining process is alive. A failed
/// gate is explained in `notes` (`"state is warming up"`). Set `ShuttingDown` when graceful
/// shutdown begins, so the load balancer stops sending traffic while in-flight requests finish;
/// [`Drain`](crate::Drain) does that on SIGTERM and waits the drain delay. Background checks
/// stop while the state is `ShuttingDown` (setting another state restarts them). The
/// [`Py12fCommon`](crate::preset::Py12fCommon) preset reports the state itself and answers
/// `Unknown` as that package does (503, "No information about the service"). A custom
/// [`Group`] or [`Endpoint`](crate::Endpoint) chooses its [`Gate`].
///
/// # Maintenance
///
/// [`Health::set_maintenance`](crate::Health::set_maintenance)`(true)`, or
/// [`Health::set_maintenance_file`](crate::Health::set_maintenance_file)`(Some(path))` and the
/// presence of that file (looked at on each request): readiness and the detailed endpoint answer
/// the maintenance status with `"notes": ["maintenance"]`, without running any check. It is 503
/// by default, so that every prober, the kubelet included, takes the instance out;
/// [`StatusCodes::maintenance`](crate::StatusCodes::maintenance) changes it (pyramid_health's
/// preset answers 299, and a 2xx maintenance code keeps `"status": "warn"`). Liveness and
/// startup are unaffected, and so is gRPC; a custom group answers maintenance when declared with
/// [`Group::maintenance`]`(true)`.
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
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{Request, StatusCode};
/// use http_body_util::BodyExt;
/// use tower::ServiceExt;
/// use tower_health::{Check, CheckResult, Gate, Group, Health, HealthLayer, Lifecycle};
///
/// let health = Health::new();
/// // In the readiness probe and in the `database` group.
/// health.register(
///     Check::new("postgres", || async { Ok::<(), std::io::Error>(()) })
///         .readiness()
///         .group("database"),
/// );
/// // In the `database` group only; its failure only makes the group warn.
/// health.register(
///     Check::new("cache", || async { CheckResult::warn("evicting") })
///         .group("database")
///         .non_critical(),
/// );
/// // A group of its own, gated like readiness.
/// health.add_group(Group::new("payments").gate(Gate::Ready).maintenance(true));
/// health.register(Check::new("ledger", || async { true }).group("payments"));
///
/// let service = tower::ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health.clone()))
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let get = |path: &str| {
///     let service = service.clone();
///     let request = Request::get(path).body(String::new()).unwrap();
///     async move {
///         let response = service.oneshot(request).await.unwrap();
///         let status = response.status();
///         let body = response.into_body().collect().await.unwrap().to_bytes();
///         (status, serde_json::from_slice::<serde_json::Value>(&body).unwrap())
///     }
/// };
///
/// let (status, body) = get("/health/database").await;
/// assert_eq!((status, &body["status"]), (StatusCode::OK, &"warn".into()));
/// assert!(body["checks"]["postgres"].is_array() && body["checks"]["cache"].is_array());
/// let (_, body) = get("/health/ready").await;
/// assert!(body["checks"].get("cache").is_none());
/// let (status, body) = get("/health/database/postgres").await;
/// assert_eq!((status, &body["status"]), (StatusCode::OK, &"pass".into()));
///
/// health.set_lifecycle(Lifecycle::WarmingUp);
/// assert_eq!(get("/health/payments").await.0, StatusCode::SERVICE_UNAVAILABLE);
/// assert_eq!(get("/health/database").await.0, StatusCode::OK); // ungated
/// # }
/// ```
///
/// A check belongs to one or more groups named by the application; liveness, readiness and
/// startup are simply the three built-in groups `live`, `ready` and `startup`, which carry their
/// gates. A check joins groups with [`Check::group`](crate::Check::group) (and
/// [`liveness`](crate::Check::liveness), [`readiness`](crate::Check::readiness),
/// [`startup`](crate::Check::startup)); a check that joins no group is in `ready`. Every group
/// is answered at `/health/{group}`, each of its checks at `/health/{group}/{check}`, and as the
/// gRPC service name `{group}` ([`grpc`](mod@crate::grpc)). `cargo run --example groups` serves
/// the `database` group above (on `127.0.0.1:$PORT`, default 3007).
///
/// | group | gate | maintenance mode |
/// |---|---|---|
/// | [`Group::LIVE`] `live` | none | ignored |
/// | [`Group::READY`] `ready` | [`Gate::Ready`]: the working state | answers it |
/// | [`Group::STARTUP`] `startup` | [`Gate::Started`]: working reached once | ignored |
/// | any other | none, unless declared | ignored, unless declared |
///
/// A custom group gets the same kinds of gate by declaring it with
/// [`Health::add_group`](crate::Health::add_group), as `payments` above; the built-in groups can
/// be redefined the same way. A group exists while it is declared or a registered check joins
/// it; the path of a group that does not exist passes through to the application. Group names
/// appear in paths as they are (they are not percent-decoded, unlike check names): give groups
/// names made of path-safe characters.
///
/// A group can also be served at a path of its own, with its own format and exposure (Spring
/// Boot's `additional-path`):
///
/// ```
/// use tower_health::{Endpoint, Exposure, Group, HealthLayer, Subject};
///
/// let layer = HealthLayer::new().endpoint(
///     Endpoint::new("/livez").subject(Subject::group(Group::LIVE)).exposure(Exposure::Messages),
/// );
/// ```
///
/// One type, [`Subject`], names what is evaluated everywhere: [`Subject::Service`] (every
/// check), [`Subject::group`], [`Subject::check`]. It is what an endpoint answers, what a change
/// event is about, what [`Health::watch`](crate::Health::watch) follows, what
/// [`Health::evaluate`](crate::Health::evaluate) runs, and what a gRPC service name resolves to
/// ([`Health::subject`](crate::Health::subject): `""` is the service; a group's name, or the long
/// names `liveness`, `readiness`, `startup`, is that group; any other name is the checks of that
/// name).
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
