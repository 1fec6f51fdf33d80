//! The [`Health`] handle: what the application holds to register checks, declare groups, set
//! the lifecycle state and maintenance mode, and observe changes.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use super::background;
use super::changes::Change;
use super::check::Check;
use super::evaluate::{Selection, evaluate};
use super::registry::Registry;
use super::report::Report;
use super::status::{Group, Lifecycle, Status, Subject};

/// A cheap, cloneable handle to the checks, groups and state of one service.
///
/// Every clone sees the same registry and state; changes take effect on the next probe.
///
/// ```
/// use tower_health::{Check, Health, Lifecycle};
///
/// let health = Health::new();
/// health.register(Check::new("cache", || async { true }).liveness());
/// health.set_lifecycle(Lifecycle::Working);
/// assert_eq!(health.lifecycle(), Lifecycle::Working);
/// health.deregister("cache");
/// assert!(health.checks().is_empty());
/// ```
///
/// | method | effect |
/// |---|---|
/// | [`register`](Self::register), [`replace`](Self::replace), [`deregister`](Self::deregister), [`checks`](Self::checks) | change or read the registry; the next request sees it |
/// | [`add_group`](Self::add_group) | declare a group's gate (or redefine a built-in one): the [groups](Group) guide |
/// | [`set_lifecycle`](Self::set_lifecycle), [`lifecycle`](Self::lifecycle), [`watch_lifecycle`](Self::watch_lifecycle) | the lifecycle state (initially `Unknown`: gates step aside): the [lifecycle](Lifecycle) guide |
/// | [`set_maintenance`](Self::set_maintenance), [`set_maintenance_file`](Self::set_maintenance_file), [`in_maintenance`](Self::in_maintenance) | [maintenance mode](Lifecycle#maintenance) |
/// | [`set_default_timeout`](Self::set_default_timeout), [`set_default_cache_ttl`](Self::set_default_cache_ttl) | defaults of checks that set none (800 ms, 1 s) |
/// | [`set_max_concurrent_runs`](Self::set_max_concurrent_runs), [`set_slow_threshold`](Self::set_slow_threshold) | at most N runs at once (no cap by default); the slow-run warning (10 s) |
/// | [`subscribe`](Self::subscribe), [`watch`](Self::watch) | status changes of the service, a group or a check: the [change events](Change) guide |
/// | [`evaluate`](Self::evaluate), [`subject`](Self::subject) | run checks the way an endpoint does, without HTTP; resolve a gRPC service name |
#[derive(Clone)]
pub struct Health {
    registry: Arc<Registry>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    /// The timeout of a check that sets none: below the kubelet's default probe timeout of one
    /// second, so a slow dependency fails its check instead of timing out the whole probe.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);

    /// How long a check's result is reused when the check sets no cache time-to-live: one
    /// second, below any probe period (the kubelet's `periodSeconds` is at least 1), so every
    /// probe sees a result at most a second old while a probe storm runs each check once a
    /// second at most.
    pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(1);

    /// How long a check's run may take before it is logged as slow, unless
    /// [`Health::set_slow_threshold`] says otherwise: ten seconds, Spring Boot's default for its
    /// slow health indicators.
    pub const DEFAULT_SLOW_THRESHOLD: Duration = Duration::from_secs(10);

    /// An empty registry in the [`Lifecycle::Unknown`] state, where the gates step aside: until the
    /// application sets a state, the checks alone decide every answer, so readiness passes as
    /// soon as the checks do (a bare layer works). To hold readiness until the application has
    /// started, set [`Lifecycle::WarmingUp`] first and [`Lifecycle::Working`] once it serves.
    pub fn new() -> Self {
        Health {
            registry: Arc::new(Registry::new(
                Self::DEFAULT_TIMEOUT,
                Self::DEFAULT_CACHE_TTL,
                Self::DEFAULT_SLOW_THRESHOLD,
            )),
        }
    }

    /// Adds a check. Checks with the same name may coexist; use [`Health::replace`] to swap one.
    ///
    /// A [background](Check::background) check's task starts here when called inside a tokio
    /// runtime.
    pub fn register(&self, check: Check) {
        warn_of_dependency_in_liveness(&check);
        let started = check.clone();
        self.registry.update_checks(|checks| checks.push(check));
        background::start(&self.registry, &started);
    }

    /// Replaces every check named like `check` with it (or adds it when there is none).
    pub fn replace(&self, check: Check) {
        warn_of_dependency_in_liveness(&check);
        let started = check.clone();
        self.registry.update_checks(|checks| {
            match checks.iter().position(|c| c.name == check.name) {
                Some(first) => {
                    let name = check.name.clone();
                    checks[first] = check;
                    let mut index = 0;
                    checks.retain(|c| {
                        let keep = c.name != name || index == first;
                        index += 1;
                        keep
                    });
                }
                None => checks.push(check),
            }
        });
        background::start(&self.registry, &started);
    }

    /// Removes every check named `name`; returns whether there was one.
    pub fn deregister(&self, name: &str) -> bool {
        let mut removed = false;
        self.registry.update_checks(|checks| {
            let before = checks.len();
            checks.retain(|c| &*c.name != name);
            removed = checks.len() != before;
        });
        if removed {
            // A check registered under this name later starts afresh, without the old status.
            self.registry.changes.forget(&Subject::Check(name.into()));
        }
        removed
    }

    /// The registered checks, in registration order.
    pub fn checks(&self) -> Arc<[Check]> {
        self.registry.checks()
    }

    /// Declares a group with its gate, replacing an earlier declaration of that name (the
    /// built-in groups can be redefined too). A group that checks join without a declaration
    /// is ungated.
    pub fn add_group(&self, group: Group) {
        self.registry.add_group(group);
    }

    /// The current lifecycle state.
    pub fn lifecycle(&self) -> Lifecycle {
        self.registry.lifecycle()
    }

    /// Sets the lifecycle state; any transition is allowed and takes effect on the next probe.
    ///
    /// Leaving [`Lifecycle::ShuttingDown`] restarts the background checks it stopped, as does any
    /// call inside a tokio runtime for background checks registered outside one.
    pub fn set_lifecycle(&self, state: Lifecycle) {
        let old = self.registry.replace_lifecycle(state);
        if old != state {
            tracing::info!(from = %old, to = %state, "service state changed");
        }
        if state != Lifecycle::ShuttingDown {
            background::start_all(&self.registry);
        }
    }

    /// A receiver that sees every state change.
    pub fn watch_lifecycle(&self) -> watch::Receiver<Lifecycle> {
        self.registry.watch_lifecycle()
    }

    /// Switches maintenance mode on or off.
    pub fn set_maintenance(&self, on: bool) {
        self.registry.set_maintenance(on);
    }

    /// Also be in maintenance while a file exists at `path` (looked at on every probe that
    /// honours maintenance); `None` stops looking.
    pub fn set_maintenance_file(&self, path: Option<PathBuf>) {
        self.registry.set_maintenance_file(path);
    }

    /// Whether maintenance mode is on, by toggle or by file.
    pub fn in_maintenance(&self) -> bool {
        self.registry.in_maintenance()
    }

    /// Sets the timeout of checks that set none.
    pub fn set_default_timeout(&self, timeout: Duration) {
        self.registry.set_default_timeout(timeout);
    }

    /// The timeout of checks that set none.
    pub fn default_timeout(&self) -> Duration {
        self.registry.default_timeout()
    }

    /// Sets the cache time-to-live of checks that set none; zero turns caching off (concurrent
    /// requests still share a run in flight).
    pub fn set_default_cache_ttl(&self, ttl: Duration) {
        self.registry.set_default_cache_ttl(ttl);
    }

    /// The cache time-to-live of checks that set none.
    pub fn default_cache_ttl(&self) -> Duration {
        self.registry.default_cache_ttl()
    }

    /// Runs at most `max` checks at once (at least one; `None`, the default, runs every check
    /// a probe needs at once), so that a registry of hundreds of checks does not open hundreds
    /// of connections at once. It counts every run: on request, in the background and of
    /// [manual](crate::checks::Manual) checks.
    ///
    /// A run waits for a free slot within its timeout: a check that cannot start before its
    /// timeout fails as timed out ([`RunEnd::TimedOut`](crate::RunEnd::TimedOut)), so a probe
    /// still answers within the longest timeout. Runs already waiting keep the cap they started
    /// under.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use tower_health::{Check, Health, Status, Subject};
    ///
    /// let health = Health::new();
    /// health.set_max_concurrent_runs(Some(1));
    /// health.register(
    ///     Check::new("slow", || async { tokio::time::sleep(Duration::from_secs(60)).await; true })
    ///         .timeout(Duration::from_millis(50)),
    /// );
    /// health.register(Check::new("quick", || async { true }).timeout(Duration::from_millis(50)));
    /// // One of the two holds the only slot until it times out, and the other waits past its
    /// // own timeout: both fail, and the probe still answers.
    /// let report = health.evaluate(&Subject::Service).await.unwrap();
    /// assert_eq!(report.status, Status::Fail);
    /// # }
    /// ```
    pub fn set_max_concurrent_runs(&self, max: Option<usize>) {
        self.registry.set_max_concurrent_runs(max);
    }

    /// Logs a WARN when a check's run takes longer than `threshold` (on request or in the
    /// background), once until a run of that check is fast again (then an INFO); `None` never
    /// does. Default [`Health::DEFAULT_SLOW_THRESHOLD`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_health::Health;
    ///
    /// let health = Health::new();
    /// health.set_slow_threshold(Some(Duration::from_millis(250)));
    /// assert_eq!(health.slow_threshold(), Some(Duration::from_millis(250)));
    /// health.set_slow_threshold(None);
    /// assert_eq!(health.slow_threshold(), None);
    /// ```
    pub fn set_slow_threshold(&self, threshold: Option<Duration>) {
        self.registry.set_slow_threshold(threshold);
    }

    /// How long a run may take before it is logged as slow; `None`: never.
    pub fn slow_threshold(&self) -> Option<Duration> {
        self.registry.slow_threshold()
    }

    /// A receiver of every status change: of the service and of each group when an evaluation
    /// of the whole subject sees it, of a check's name after each of its runs.
    ///
    /// It keeps the last 256 changes a slow subscriber has not read; past that it reports
    /// [`RecvError::Lagged`](broadcast::error::RecvError::Lagged) (read [`Health::watch`] for the
    /// latest status then).
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.registry.changes.subscribe()
    }

    /// A receiver of the latest status recorded for `subject` (`None` until one is), updated on
    /// every change.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use tower_health::{Check, Group, Health, Status, Subject};
    ///
    /// let health = Health::new();
    /// health.register(Check::new("db", || async { false }));
    /// let ready = health.watch(Subject::group(Group::READY));
    /// health.evaluate(&Subject::group(Group::READY)).await;
    /// assert_eq!(*ready.borrow(), Some(Status::Fail));
    /// # }
    /// ```
    pub fn watch(&self, subject: Subject) -> watch::Receiver<Option<Status>> {
        self.registry.changes.watch(subject)
    }

    /// Runs the checks of `subject` under its gate and adds them up, as an endpoint does;
    /// `None` when it names checks of a name that is not registered.
    pub async fn evaluate(&self, subject: &Subject) -> Option<Report> {
        evaluate(
            &self.registry,
            &Selection::of(&self.registry, subject.clone()),
        )
        .await
    }

    /// What a service name stands for, the one rule for gRPC names: `""` is
    /// [`Subject::Service`]; a group's name (a declared group, one that a registered check
    /// joins, or the built-in ones by their long names `liveness`, `readiness` and `startup`
    /// too) is [`Subject::Group`]; any other name is [`Subject::Check`].
    ///
    /// ```
    /// use tower_health::{Check, Health, Subject};
    ///
    /// let health = Health::new();
    /// health.register(Check::new("postgres", || async { true }).group("database"));
    /// assert_eq!(health.subject(""), Subject::Service);
    /// assert_eq!(health.subject("readiness"), Subject::group("ready"));
    /// assert_eq!(health.subject("database"), Subject::group("database"));
    /// assert_eq!(health.subject("postgres"), Subject::check("postgres"));
    /// ```
    pub fn subject(&self, name: &str) -> Subject {
        if name.is_empty() {
            Subject::Service
        } else if let Some(group) = Group::alias(name) {
            Subject::group(group)
        } else if self.registry.has_group(name) {
            Subject::group(name)
        } else {
            Subject::check(name)
        }
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Keeps each check's last `len` results (status, time, duration, message) in a ring, with
    /// counts since now: runs, status changes, when the current status began, the last pass and
    /// the last failure. `0` (the default) keeps nothing and records nothing. Reading the history
    /// ([`HealthLayer::history`](crate::HealthLayer::history) serves it) runs no check.
    ///
    /// A check keeps about 56 bytes per result besides its messages: some 3.4 KiB at 60.
    ///
    /// ```
    /// use tower_health::Health;
    ///
    /// let health = Health::new();
    /// health.keep_history(120);
    /// ```
    pub fn keep_history(&self, len: usize) {
        self.registry.set_history_len(len);
    }

    pub(crate) async fn evaluate_selection(&self, selection: &Selection) -> Option<Report> {
        evaluate(&self.registry, selection).await
    }

    /// Whether `other` is a clone of this handle (the same registry and state).
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn same_handle(&self, other: &Health) -> bool {
        Arc::ptr_eq(&self.registry, &other.registry)
    }
}

/// The warning of [`Check::dependency`], once per registration.
fn warn_of_dependency_in_liveness(check: &Check) {
    if check.is_dependency_in_liveness() {
        tracing::warn!(
            check = check.name(),
            "a check of another service is in the liveness group: when that service fails, \
             every instance restarts; put it in readiness, or say `liveness_on_purpose()`"
        );
    }
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Health")
            .field("lifecycle", &self.lifecycle())
            .field("checks", &self.checks().len())
            .field("maintenance", &self.in_maintenance())
            .finish()
    }
}
