//! Checks: how a check is declared, which groups it belongs to, and how its results are
//! produced and reused (timeout, cache, background runs, thresholds).
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
//!         .group("database")
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
use tokio::sync::watch;

use super::result::{CheckResult, IntoCheckResult};
use super::state::CheckState;
use super::status::Group;
use super::thresholds::Thresholds;

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

/// A named check and how it is run: its groups, criticality, timeout, component type, cache,
/// background interval and thresholds.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::time::Duration;
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_health::{Check, Health, HealthLayer};
///
/// let runs = Arc::new(AtomicUsize::new(0));
/// let counted = runs.clone();
/// let health = Health::new();
/// health.register(
///     Check::new("postgres", move || {
///         counted.fetch_add(1, Ordering::SeqCst);
///         async { tokio::time::sleep(Duration::from_millis(20)).await; Ok::<(), std::io::Error>(()) }
///     })
///     .timeout(Duration::from_millis(300))
///     .cache(Duration::from_secs(2)),
/// );
/// let service = tower::ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health))
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let probe = || {
///     let request = Request::get("/health/ready").body(String::new()).unwrap();
///     let service = service.clone();
///     async move { service.oneshot(request).await.unwrap().status() }
/// };
///
/// // Three probes at once share one run; a probe within the TTL reuses its result.
/// let (a, b, c) = tokio::join!(probe(), probe(), probe());
/// assert_eq!([a, b, c], [StatusCode::OK; 3]);
/// assert_eq!(probe().await, StatusCode::OK);
/// assert_eq!(runs.load(Ordering::SeqCst), 1);
/// # }
/// ```
///
/// Register it with [`Health::register`](crate::Health::register). Clones share one cached
/// result, one run in flight and one background task.
///
/// `Check::new(name, || async { ... })` takes a closure returning anything [`IntoCheckResult`]
/// accepts: [`CheckResult`], [`Status`](crate::Status), `bool`, `()`, `Result<(), E: Display>`
/// (`Err(e)` fails with `e`) or `Result<CheckResult, E>`; [`Check::from_health_check`] takes a
/// [`HealthCheck`] for checks with state of their own, and the [`checks`](crate::checks) module
/// has ready-made ones.
///
/// | method | default | effect |
/// |---|---|---|
/// | [`group`](Self::group), [`liveness`](Self::liveness), [`readiness`](Self::readiness), [`startup`](Self::startup) | `ready` | the [groups](Group) it belongs to (combine them) |
/// | [`non_critical`](Self::non_critical) | critical | its failure makes the aggregate warn instead of fail |
/// | [`timeout`](Self::timeout) | the handle's default, 800 ms | past it the check fails with "timed out" |
/// | [`component_type`](Self::component_type) | none | health+json `componentType` |
/// | [`cache`](Self::cache), [`background`](Self::background), [`initial_delay`](Self::initial_delay) | 1 s cache, on request | see [caching](#caching-and-single-flight) and [background checks](#background-checks) |
/// | [`failure_threshold`](Self::failure_threshold), [`failure_duration`](Self::failure_duration), [`success_threshold`](Self::success_threshold) | 1, 0, 1 | see [thresholds](#thresholds) |
/// | [`dependency`](Self::dependency), [`liveness_on_purpose`](Self::liveness_on_purpose) | not a dependency | a check of another service warns when registered in liveness |
///
/// Checks run concurrently, each under its timeout; a check that panics fails with a message
/// saying so and the server keeps serving. The aggregate is the worst status.
///
/// # Caching and single-flight
///
/// Probes must not hammer the dependencies they check. Every check's result is reused for a
/// time-to-live: [`Health::DEFAULT_CACHE_TTL`](crate::Health::DEFAULT_CACHE_TTL) (1 s) unless
/// [`Health::set_default_cache_ttl`](crate::Health::set_default_cache_ttl) or
/// [`Check::cache`] says otherwise; zero turns the cache off. When the result is stale, the first
/// request starts **one** run (a spawned task, bounded by the check's timeout) and every request
/// that arrives meanwhile waits for that same run; a client that hangs up does not cancel it for
/// the others. Failures are cached like passes. The health+json `time` of a check is when the
/// run that produced the result started. However many probes, load balancers or attackers ask,
/// a check runs at most once per TTL (once per run in flight with a zero TTL).
///
/// # Background checks
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_health::{Check, Health, HealthLayer};
///
/// let health = Health::new();
/// // Runs every 10 s in a task of its own; probes only read its latest result.
/// health.register(
///     Check::new("search", || async { true })
///         .background(Duration::from_secs(10))
///         .initial_delay(Duration::from_secs(1)),
/// );
/// let service = tower::ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health))
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let request = Request::get("/health/ready").body(String::new()).unwrap();
/// // Not yet run: not ready before its dependency was checked.
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
/// # }
/// ```
///
/// A background check ([`Check::background`], [`Check::initial_delay`]) runs in a task of its
/// own, so a probe answers at once even while the dependency hangs; each run is bounded by the
/// check's timeout and a timed-out run is reported like any failure. Until its first run ends
/// it reports [`RunEnd::NotYetRun`](crate::RunEnd::NotYetRun) with the message `not yet run`:
/// status `fail` everywhere (so the pod is not ready before its dependencies were checked)
/// except in the `live` group, where it warns (so a slow first run does not restart the
/// container). In health+json the check's entry has `"status": "fail"` (or `"warn"`) and, where
/// details are shown, `"output": "not yet run"`; every other format gets the same status and
/// message through the [`Report`](crate::Report). The task starts on registration inside a
/// tokio runtime (else at the next `set_lifecycle` made inside one: answering a probe never
/// starts work), and stops when the check is deregistered or replaced, when the state becomes
/// [`Lifecycle::ShuttingDown`](crate::Lifecycle::ShuttingDown) (setting another state restarts
/// it), or when the last [`Health`](crate::Health) handle (layers and services included) is
/// dropped.
///
/// **At most N runs at once.**
/// [`Health::set_max_concurrent_runs`](crate::Health::set_max_concurrent_runs)`(Some(n))` caps
/// the check runs of a handle (on request, in the background and manual ones alike), so that a
/// registry of hundreds of checks does not open hundreds of connections at once; the others
/// queue. The wait for a slot counts against each check's timeout, so a probe still answers
/// within the longest timeout: a check that cannot start in time fails as timed out
/// (`check timed out after 1s waiting for a free run slot`). The default is no cap.
///
/// # Thresholds
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_health::{Check, Health, HealthLayer};
///
/// let up = Arc::new(AtomicBool::new(true));
/// let search = up.clone();
/// let health = Health::new();
/// health.register(
///     Check::new("search", move || std::future::ready(search.load(Ordering::SeqCst)))
///         .cache(Duration::ZERO) // every probe runs it, for this example
///         .failure_threshold(2), // warn on the first failure in a row, fail on the second
/// );
/// let service = tower::ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health))
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let probe = || {
///     let request = Request::get("/health/ready").body(String::new()).unwrap();
///     let service = service.clone();
///     async move { service.oneshot(request).await.unwrap().status() }
/// };
///
/// assert_eq!(probe().await, StatusCode::OK);
/// up.store(false, Ordering::SeqCst);
/// assert_eq!(probe().await, StatusCode::OK); // warn: 1 of 2 consecutive failures
/// assert_eq!(probe().await, StatusCode::SERVICE_UNAVAILABLE);
/// # }
/// ```
///
/// [`Check::failure_threshold`]`(n)` and [`Check::failure_duration`]`(d)` report a failing
/// check as `warn` (message: `... (failing, not yet reported: 1 of 3 consecutive failures,
/// ...)`) until it has failed `n` times in a row **and** for at least `d`;
/// [`Check::success_threshold`]`(m)` keeps a failing check failing (`recovering: 1 of 2
/// consecutive passes`) until it has passed `m` times in a row. The first result is reported as
/// it is. Thresholds count runs, so with a cache TTL of `t` they span at least `n × t`.
///
/// # Checks of other services
///
/// [`Check::dependency`] marks a check of another service (the ready-made TCP, HTTP, upstream,
/// PostgreSQL, Redis, DNS, gRPC and remote TLS checks mark themselves); registering one in the
/// liveness group logs a warning, since its failure would restart every instance, unless
/// [`Check::liveness_on_purpose`] says it is meant.
#[derive(Clone)]
pub struct Check {
    pub(crate) name: Arc<str>,
    /// Empty means [`Group::READY`].
    groups: Vec<Arc<str>>,
    pub(crate) critical: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) component_type: Option<Arc<str>>,
    pub(crate) runner: Arc<dyn RunCheck>,
    pub(crate) unresolved: bool,
    /// What it checks is another service (see [`Check::dependency`]), and whether it belongs to
    /// liveness all the same.
    pub(crate) dependency: bool,
    liveness_on_purpose: bool,
    pub(crate) policy: Policy,
    /// Results and runs shared by every clone of this check.
    pub(crate) state: Arc<CheckState>,
}

/// How a check's results are produced and reused.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    /// The cache time-to-live; `None`: the handle's default.
    pub(crate) cache: Option<Duration>,
    /// Run on an interval in a task of its own instead of on request.
    pub(crate) background: Option<Duration>,
    /// Also (or only) run in a task of its own whenever this is sent to (a manual check's
    /// report).
    pub(crate) wake: Option<watch::Receiver<()>>,
    /// The wait before the first background run.
    pub(crate) initial_delay: Duration,
    pub(crate) thresholds: Thresholds,
}

/// The shortest interval between background runs.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

impl Check {
    /// A check that calls `f` on every run.
    ///
    /// `f` returns a future whose output is anything [`IntoCheckResult`] accepts. It belongs to
    /// the readiness group unless a group method says otherwise.
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
            groups: Vec::new(),
            critical: true,
            timeout: None,
            component_type: None,
            runner: Arc::new(check),
            policy: Policy::default(),
            state: Arc::default(),
            unresolved: false,
            dependency: false,
            liveness_on_purpose: false,
        }
    }

    /// A check that could not be built (its configuration was invalid, its client failed to
    /// construct): registered under `name` so a probe of it reports the error instead of finding
    /// no check. Every run fails with `error` as the message and ends as
    /// [`RunEnd::Unresolved`](crate::RunEnd::Unresolved), which
    /// [`StatusCodes::errored`](crate::StatusCodes::errored) maps to a server error.
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

    /// The groups it belongs to ([`Group::READY`] when none was chosen).
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        let default: &[&str] = if self.groups.is_empty() {
            &[Group::READY]
        } else {
            &[]
        };
        default
            .iter()
            .copied()
            .chain(self.groups.iter().map(|group| &**group))
    }

    /// Whether it belongs to the group `name`.
    pub fn in_group(&self, name: &str) -> bool {
        if self.groups.is_empty() {
            name == Group::READY
        } else {
            self.groups.iter().any(|group| **group == *name)
        }
    }

    /// Its group named `name`, if it belongs to one (the default group is declared, not here).
    pub(crate) fn group_named(&self, name: &str) -> Option<&Arc<str>> {
        self.groups.iter().find(|group| ***group == *name)
    }

    /// Whether its failure fails the aggregate (otherwise the aggregate only warns).
    pub fn is_critical(&self) -> bool {
        self.critical
    }

    /// Adds the check to the group `name`. Calling none of the group methods means
    /// [`Group::READY`] only.
    #[must_use]
    pub fn group(mut self, name: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        if !self.groups.contains(&name) {
            self.groups.push(name);
        }
        self
    }

    /// Adds the check to the liveness group, [`Group::LIVE`].
    #[must_use]
    pub fn liveness(self) -> Self {
        self.group(Group::LIVE)
    }

    /// Adds the check to the readiness group, [`Group::READY`].
    #[must_use]
    pub fn readiness(self) -> Self {
        self.group(Group::READY)
    }

    /// Adds the check to the startup group, [`Group::STARTUP`].
    #[must_use]
    pub fn startup(self) -> Self {
        self.group(Group::STARTUP)
    }

    /// Makes a failure of this check degrade the aggregate to warn instead of failing it.
    #[must_use]
    pub fn non_critical(mut self) -> Self {
        self.critical = false;
        self
    }

    /// Marks what the check asks as another service: a datastore, a remote HTTP, gRPC or TCP
    /// service, DNS (the ready-made checks of such things mark themselves). Such a check in the
    /// liveness group restarts every instance whenever that service fails, which restarts
    /// nothing that would help: registering one there logs a warning, unless
    /// [`liveness_on_purpose`](Self::liveness_on_purpose) says it is meant.
    ///
    /// ```
    /// use tower_health::{Check, Health, checks::Tcp};
    ///
    /// let health = Health::new();
    /// // Readiness: an outage of the database takes instances out of rotation, no restarts.
    /// health.register(Tcp::new("db.internal:5432").into_check("database"));
    /// // A sidecar whose loss this instance cannot survive: restart it, on purpose.
    /// health.register(
    ///     Tcp::new("127.0.0.1:15000").into_check("sidecar").liveness().liveness_on_purpose(),
    /// );
    /// ```
    #[must_use]
    pub fn dependency(mut self) -> Self {
        self.dependency = true;
        self
    }

    /// Says that this [dependency](Self::dependency) belongs to the liveness group: registering
    /// it there does not warn.
    #[must_use]
    pub fn liveness_on_purpose(mut self) -> Self {
        self.liveness_on_purpose = true;
        self
    }

    /// Whether registering the check should warn that a dependency restarts instances.
    pub(crate) fn is_dependency_in_liveness(&self) -> bool {
        self.dependency && !self.liveness_on_purpose && self.groups().any(|g| g == Group::LIVE)
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

    /// Reuses a result for `ttl` (instead of the handle's
    /// [default](crate::Health::DEFAULT_CACHE_TTL)); zero runs the check on every request.
    ///
    /// Within `ttl`, probes answer from the result, with the time it was taken. Once it is stale,
    /// the next request starts one run and every request that comes meanwhile waits for that
    /// same run; a requester that goes away does not cancel it. Failures are cached like passes,
    /// so a failing dependency is not retried by every probe.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_health::Check;
    ///
    /// let check = Check::new("postgres", || async { true }).cache(Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn cache(mut self, ttl: Duration) -> Self {
        self.policy.cache = Some(ttl);
        self
    }

    /// Runs the check every `interval` (from the end of one run to the start of the next; at
    /// least a millisecond) in a background task instead of on request, so probes only read its
    /// latest result and answer at once, however slow or hung the dependency.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_health::{Check, Health};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let health = Health::new();
    /// health.register(
    ///     Check::new("postgres", || async { true })
    ///         .background(Duration::from_secs(5))
    ///         .initial_delay(Duration::from_millis(100)),
    /// );
    /// # }
    /// ```
    ///
    /// Until its first run ends, a background check reports
    /// [`RunEnd::NotYetRun`](crate::RunEnd::NotYetRun): fail (warn in the `live` group, so a
    /// slow first run does not get the container restarted) with the message `not yet run`.
    /// Each run is bounded by the check's timeout.
    ///
    /// The task starts when the check is registered inside a tokio runtime (else at the next
    /// [`Health::set_lifecycle`](crate::Health::set_lifecycle) made inside one; answering a probe never
    /// starts work), publishes each new status as a [`Change`](crate::Change) without waiting
    /// for a probe, and stops when the check is deregistered or replaced, when the state
    /// becomes [`Lifecycle::ShuttingDown`](crate::Lifecycle::ShuttingDown) (setting another state
    /// restarts it), or when the last [`Health`](crate::Health) handle is dropped.
    #[must_use]
    pub fn background(mut self, interval: Duration) -> Self {
        self.policy.background = Some(interval.max(MIN_INTERVAL));
        self
    }

    /// Waits `delay` before the first background run (default: none); no effect on a check that
    /// does not run in the background.
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.policy.initial_delay = delay;
        self
    }

    /// Runs the check in the background whenever `wake` is sent to, besides every
    /// [`background`](Self::background) interval if one is set.
    pub(crate) fn run_when_woken(mut self, wake: watch::Receiver<()>) -> Self {
        self.policy.wake = Some(wake);
        self
    }

    /// Whether the check runs in the background.
    pub fn is_background(&self) -> bool {
        self.policy.background.is_some() || self.policy.wake.is_some()
    }

    /// Reports fail only after `failures` consecutive failing runs (warn before that), so that
    /// one blip does not flip a probe. Values below 1 count as 1.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_health::Check;
    ///
    /// let check = Check::new("search", || async { true })
    ///     .failure_threshold(3) // warn for the first two failures in a row, fail on the third
    ///     .failure_duration(Duration::from_secs(20)) // ... and only once it has failed for 20 s
    ///     .success_threshold(2); // once failing, pass again after two passes in a row
    /// ```
    ///
    /// The first result of a check is reported as it is (there is no history to smooth). After
    /// that, a failing result is reported as warn, with a message saying so, until both the
    /// failure count and the failure duration are reached; and once reported failing, a check
    /// keeps failing until it has had the required number of consecutive non-failing results.
    /// Timeouts and panics are failures like any other.
    #[must_use]
    pub fn failure_threshold(mut self, failures: u32) -> Self {
        self.policy.thresholds.failures = failures.max(1);
        self
    }

    /// Reports fail only once the check has been failing for at least `duration` (warn before
    /// that). With [`Check::failure_threshold`] too, both must be reached.
    #[must_use]
    pub fn failure_duration(mut self, duration: Duration) -> Self {
        self.policy.thresholds.failure_duration = duration;
        self
    }

    /// Once failing, reports its status again only after `successes` consecutive non-failing
    /// runs (fail before that). Values below 1 count as 1.
    #[must_use]
    pub fn success_threshold(mut self, successes: u32) -> Self {
        self.policy.thresholds.successes = successes.max(1);
        self
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("groups", &self.groups().collect::<Vec<_>>())
            .field("critical", &self.critical)
            .field("timeout", &self.timeout)
            .field("component_type", &self.component_type)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
