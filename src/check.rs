//! Checks: what a check returns, which probes it belongs to, and how it is declared.
//!
//! ```
//! use std::time::Duration;
//! use tower_health::{Check, CheckResult, Health};
//!
//! let health = Health::new();
//! // A closure returning `Result<(), E: Display>`: `Ok` passes, `Err(e)` fails with `e`.
//! health.register(
//!     Check::new("postgres", || async { Ok::<(), std::io::Error>(()) })
//!         .readiness()
//!         .timeout(Duration::from_millis(300)),
//! );
//! // A closure returning a full result, with a measurement.
//! health.register(
//!     Check::new("queue", || async { CheckResult::warn("backlog is growing").observed(812, "jobs") })
//!         .non_critical(),
//! );
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{Map, Value};

/// The outcome of a check, a probe or the whole service.
///
/// Ordered from best to worst, so the aggregate of several statuses is their maximum.
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

/// One of the three Kubernetes probes a check can belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Probe {
    /// Is the process alive? Failing gets the container restarted: keep external systems out.
    Liveness,
    /// Can the process take traffic? Failing takes it out of the load balancer.
    Readiness,
    /// Has the process finished starting? Liveness and readiness wait for it.
    Startup,
}

impl Probe {
    /// All probes, in a fixed order.
    pub const ALL: [Probe; 3] = [Probe::Liveness, Probe::Readiness, Probe::Startup];

    /// The short name used in paths and gRPC service names: `live`, `ready`, `startup`.
    pub fn path_segment(self) -> &'static str {
        match self {
            Probe::Liveness => "live",
            Probe::Readiness => "ready",
            Probe::Startup => "startup",
        }
    }

    /// The long name: `liveness`, `readiness`, `startup`.
    pub fn name(self) -> &'static str {
        match self {
            Probe::Liveness => "liveness",
            Probe::Readiness => "readiness",
            Probe::Startup => "startup",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Probe::Liveness => 1,
            Probe::Readiness => 2,
            Probe::Startup => 4,
        }
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of probes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Probes(u8);

impl Probes {
    /// No probe.
    pub const NONE: Probes = Probes(0);

    /// Whether `probe` is in the set.
    pub fn contains(self, probe: Probe) -> bool {
        self.0 & probe.bit() != 0
    }

    /// The set with `probe` added.
    #[must_use]
    pub fn with(self, probe: Probe) -> Probes {
        Probes(self.0 | probe.bit())
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The probes in the set.
    pub fn iter(self) -> impl Iterator<Item = Probe> {
        Probe::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Probe> for Probes {
    fn from_iter<I: IntoIterator<Item = Probe>>(iter: I) -> Self {
        iter.into_iter().fold(Probes::NONE, Probes::with)
    }
}

/// What one run of a check found.
///
/// Only `status` is required; the rest feeds the response formats (health+json's
/// `observedValue`, `observedUnit`, `componentType`, `output`, and extra data for formats that
/// show it).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// Pass, warn or fail.
    pub status: Status,
    /// Why: shown only where the details policy allows, always logged.
    pub message: Option<String>,
    /// A measurement, such as a latency or a free byte count.
    pub observed_value: Option<Value>,
    /// The unit of `observed_value`.
    pub observed_unit: Option<String>,
    /// Overrides the check's component type for this result.
    pub component_type: Option<String>,
    /// Extra fields for formats that show them (heartbeat-style `checks` entries).
    pub data: Map<String, Value>,
}

impl CheckResult {
    /// A result with `status` and nothing else.
    pub fn new(status: Status) -> Self {
        CheckResult {
            status,
            message: None,
            observed_value: None,
            observed_unit: None,
            component_type: None,
            data: Map::new(),
        }
    }

    /// A passing result.
    pub fn pass() -> Self {
        Self::new(Status::Pass)
    }

    /// A degraded result with a message.
    pub fn warn(message: impl Into<String>) -> Self {
        Self::new(Status::Warn).message(message)
    }

    /// A failing result with a message.
    pub fn fail(message: impl Into<String>) -> Self {
        Self::new(Status::Fail).message(message)
    }

    /// Sets the message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the observed value and its unit.
    #[must_use]
    pub fn observed(mut self, value: impl Into<Value>, unit: impl Into<String>) -> Self {
        self.observed_value = Some(value.into());
        self.observed_unit = Some(unit.into());
        self
    }

    /// Sets the component type of this result (`datastore`, `system`, `component`, ...).
    #[must_use]
    pub fn component_type(mut self, component_type: impl Into<String>) -> Self {
        self.component_type = Some(component_type.into());
        self
    }

    /// Adds one extra data field.
    #[must_use]
    pub fn data(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }
}

impl From<Status> for CheckResult {
    fn from(status: Status) -> Self {
        CheckResult::new(status)
    }
}

/// What a check function may return.
///
/// Implemented for [`CheckResult`], [`Status`], `bool` (`true` passes), `()` (passes),
/// `Result<(), E>` and `Result<CheckResult, E>` where `E: Display` (`Err(e)` fails with `e` as the
/// message).
pub trait IntoCheckResult {
    /// Converts into a [`CheckResult`].
    fn into_check_result(self) -> CheckResult;
}

impl IntoCheckResult for CheckResult {
    fn into_check_result(self) -> CheckResult {
        self
    }
}

impl IntoCheckResult for Status {
    fn into_check_result(self) -> CheckResult {
        CheckResult::new(self)
    }
}

impl IntoCheckResult for bool {
    fn into_check_result(self) -> CheckResult {
        CheckResult::new(if self { Status::Pass } else { Status::Fail })
    }
}

impl IntoCheckResult for () {
    fn into_check_result(self) -> CheckResult {
        CheckResult::pass()
    }
}

impl<E: fmt::Display> IntoCheckResult for Result<(), E> {
    fn into_check_result(self) -> CheckResult {
        match self {
            Ok(()) => CheckResult::pass(),
            Err(e) => CheckResult::fail(e.to_string()),
        }
    }
}

impl<E: fmt::Display> IntoCheckResult for Result<CheckResult, E> {
    fn into_check_result(self) -> CheckResult {
        self.unwrap_or_else(|e| CheckResult::fail(e.to_string()))
    }
}

/// A check with state of its own, for when a closure is not enough.
///
/// ```
/// use tower_health::{Check, CheckResult, Health, HealthCheck};
///
/// struct Queue { limit: usize }
///
/// impl HealthCheck for Queue {
///     async fn check(&self) -> CheckResult {
///         let depth = 3; // ask the queue here
///         if depth > self.limit { CheckResult::warn("queue is deep") } else { CheckResult::pass() }
///     }
/// }
///
/// Health::new().register(Check::from_health_check("queue", Queue { limit: 100 }));
/// ```
pub trait HealthCheck: Send + Sync + 'static {
    /// Runs the check once.
    fn check(&self) -> impl Future<Output = CheckResult> + Send;
}

/// The object-safe form every check is stored as.
pub(crate) trait RunCheck: Send + Sync + 'static {
    fn run(self: Arc<Self>) -> BoxFuture<'static, CheckResult>;
}

impl<T: HealthCheck> RunCheck for T {
    fn run(self: Arc<Self>) -> BoxFuture<'static, CheckResult> {
        Box::pin(async move { self.check().await })
    }
}

struct FnCheck<F>(F);

impl<F, Fut> HealthCheck for FnCheck<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoCheckResult,
{
    fn check(&self) -> impl Future<Output = CheckResult> + Send {
        let fut = (self.0)();
        async move { fut.await.into_check_result() }
    }
}

/// A named check and how it is run: its probes, criticality, timeout and component type.
///
/// Register it with [`Health::register`](crate::Health::register). Clones share one cached
/// result, one run in flight and one background task.
#[derive(Clone)]
pub struct Check {
    pub(crate) name: Arc<str>,
    pub(crate) probes: Probes,
    pub(crate) critical: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) component_type: Option<Arc<str>>,
    pub(crate) runner: Arc<dyn RunCheck>,
    pub(crate) unresolved: bool,
    /// How results are produced and reused (cache, background, thresholds).
    pub(crate) policy: crate::run::Policy,
    /// Results and runs shared by every clone of this check.
    pub(crate) state: Arc<crate::run::CheckState>,
}

impl Check {
    /// A check that calls `f` on every run.
    ///
    /// `f` returns a future whose output is anything [`IntoCheckResult`] accepts. It belongs to
    /// the readiness probe unless a probe method says otherwise.
    pub fn new<F, Fut>(name: impl Into<Arc<str>>, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoCheckResult,
    {
        Self::from_health_check(name, FnCheck(f))
    }

    /// A check backed by a [`HealthCheck`] implementation.
    pub fn from_health_check(name: impl Into<Arc<str>>, check: impl HealthCheck) -> Self {
        Check {
            name: name.into(),
            probes: Probes::NONE,
            critical: true,
            timeout: None,
            component_type: None,
            runner: Arc::new(check),
            policy: crate::run::Policy::default(),
            state: Arc::default(),
            unresolved: false,
        }
    }

    /// A check that could not be built (its configuration was invalid, its client failed to
    /// construct): registered under `name` so a probe of it reports the error instead of finding
    /// no check. Every run fails with `error` as the message and ends as
    /// [`RunEnd::Unresolved`](crate::RunEnd::Unresolved), which
    /// [`StatusCodes::panicked`](crate::StatusCodes::panicked) maps to a server error.
    ///
    /// ```
    /// use tower_health::{Check, Health};
    ///
    /// let health = Health::new();
    /// match "not a url".parse::<http::Uri>() {
    ///     Ok(_uri) => health.register(Check::new("upstream", || async { true })),
    ///     Err(error) => health.register(Check::unresolved("upstream", error)),
    /// }
    /// ```
    pub fn unresolved(name: impl Into<Arc<str>>, error: impl fmt::Display) -> Self {
        let result = CheckResult::fail(error.to_string());
        Check {
            unresolved: true,
            ..Self::new(name, move || std::future::ready(result.clone()))
        }
    }

    /// The check's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The probes it belongs to (readiness when none was chosen).
    pub fn probes(&self) -> Probes {
        if self.probes.is_empty() {
            Probes::NONE.with(Probe::Readiness)
        } else {
            self.probes
        }
    }

    /// Whether its failure fails the aggregate (otherwise the aggregate only warns).
    pub fn is_critical(&self) -> bool {
        self.critical
    }

    /// Adds the check to `probe`. Calling none of the probe methods means readiness only.
    #[must_use]
    pub fn probe(mut self, probe: Probe) -> Self {
        self.probes = self.probes.with(probe);
        self
    }

    /// Adds the check to the liveness probe.
    #[must_use]
    pub fn liveness(self) -> Self {
        self.probe(Probe::Liveness)
    }

    /// Adds the check to the readiness probe.
    #[must_use]
    pub fn readiness(self) -> Self {
        self.probe(Probe::Readiness)
    }

    /// Adds the check to the startup probe.
    #[must_use]
    pub fn startup(self) -> Self {
        self.probe(Probe::Startup)
    }

    /// Makes a failure of this check degrade the aggregate to warn instead of failing it.
    #[must_use]
    pub fn non_critical(mut self) -> Self {
        self.critical = false;
        self
    }

    /// How long one run may take before it fails as timed out.
    ///
    /// Defaults to [`Health::DEFAULT_TIMEOUT`](crate::Health::DEFAULT_TIMEOUT) unless the
    /// [`Health`](crate::Health) handle sets another default.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The health+json `componentType` of this check (`datastore`, `system`, `component`, ...).
    #[must_use]
    pub fn component_type(mut self, component_type: impl Into<Arc<str>>) -> Self {
        self.component_type = Some(component_type.into());
        self
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("probes", &self.probes())
            .field("critical", &self.critical)
            .field("timeout", &self.timeout)
            .field("component_type", &self.component_type)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
