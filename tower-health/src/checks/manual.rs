//! The manual check: health the application learns itself and reports.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::{COMPONENT, ready_made};
use crate::health::{Check, CheckResult, HealthCheck};

/// A check the application reports to, for health learned from real traffic: a consumer loop
/// that lost its broker, a circuit breaker that opened, a worker's heartbeat.
///
/// Keep the handle (clones share the reports) and register
/// [`into_check`](Self::into_check): an ordinary [`Check`] whose run reads the last report, so
/// it takes part in groups, thresholds, change events and gRPC like any other. Each report
/// runs it at once in a background task of its own, so the new status is recorded and
/// published as a [`Change`](crate::Change) without waiting for a probe; probes read the
/// latest result and never wait. The task starts and stops as every
/// [background](crate::Check::background) check's does (it needs a tokio runtime where the
/// check is registered); a report made before it starts is its first result.
///
/// Until the first report it fails with `not yet reported`. With
/// [`expire_after`](Self::expire_after) it fails once no report has come for that long.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use tower_health::{Health, Status, Subject, checks::Manual};
///
/// let health = Health::new();
/// let consumer = Manual::new().expire_after(Duration::from_secs(30));
/// health.register(consumer.clone().into_check("orders-consumer").readiness());
/// let mut readiness = health.watch(Subject::check("orders-consumer"));
///
/// // In the consumer loop, after each batch:
/// consumer.pass();
/// readiness.wait_for(|status| *status == Some(Status::Pass)).await.unwrap();
/// // When the broker goes away:
/// consumer.fail("broker connection lost");
/// readiness.wait_for(|status| *status == Some(Status::Fail)).await.unwrap();
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Manual {
    shared: Arc<Shared>,
    expire_after: Option<Duration>,
}

#[derive(Debug)]
struct Shared {
    /// The last report and when it came.
    latest: Mutex<Option<(CheckResult, Instant)>>,
    /// Sent to on each report: wakes the background task of every check made from this handle.
    reported: watch::Sender<()>,
}

/// What a run of a manual check reads.
struct LastReport(Manual);

impl Default for Manual {
    fn default() -> Self {
        Self::new()
    }
}

impl Manual {
    /// The default timeout of [`into_check`](Self::into_check): a run only reads memory.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    /// A handle with no report yet, never expiring.
    pub fn new() -> Self {
        Manual {
            shared: Arc::new(Shared {
                latest: Mutex::new(None),
                reported: watch::Sender::new(()),
            }),
            expire_after: None,
        }
    }

    /// Fails the check when no report has come for `ttl` (a worker's heartbeat that stopped),
    /// with the message `not reported for TTL`: checked `ttl` after each run, so it fails no
    /// later than `ttl` after the last report plus that run's own delay.
    #[must_use]
    pub fn expire_after(mut self, ttl: Duration) -> Self {
        self.expire_after = Some(ttl);
        self
    }

    /// The check named `name`, with component type `component` and a 1 s timeout, running in
    /// the background on each report (and every `ttl` of [`expire_after`](Self::expire_after)).
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        let wake = self.shared.reported.subscribe();
        let expire_after = self.expire_after;
        let check = ready_made(name, LastReport(self), COMPONENT, Self::DEFAULT_TIMEOUT)
            .run_when_woken(wake);
        match expire_after {
            Some(ttl) => check.background(ttl),
            None => check,
        }
    }

    /// Reports that all is well.
    pub fn pass(&self) {
        self.report(CheckResult::pass());
    }

    /// Reports a degradation that does not fail the check (warn), with why.
    pub fn warn(&self, message: impl Into<String>) {
        self.report(CheckResult::warn(message));
    }

    /// Reports a failure, with why.
    pub fn fail(&self, message: impl Into<String>) {
        self.report(CheckResult::fail(message));
    }

    /// Reports `result`, which may carry a measurement
    /// ([`observed`](CheckResult::observed)) or data.
    pub fn report(&self, result: CheckResult) {
        *self.shared.latest.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((result, Instant::now()));
        self.shared.reported.send_replace(());
    }
}

impl HealthCheck for LastReport {
    async fn check(&self) -> CheckResult {
        let Manual {
            shared,
            expire_after,
        } = &self.0;
        let latest = shared.latest.lock().unwrap_or_else(|e| e.into_inner());
        match (&*latest, expire_after) {
            (None, _) => CheckResult::fail("not yet reported"),
            (Some((_, at)), Some(ttl)) if at.elapsed() >= *ttl => CheckResult::fail(format!(
                "not reported for {}",
                humantime::format_duration(*ttl)
            )),
            (Some((result, _)), _) => result.clone(),
        }
    }
}
