//! The disk space check: is there room left on the filesystem holding a path?

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tower_health::{Check, CheckResult, HealthCheck};

use crate::{Amount, Bad, OneAtATime, SYSTEM, Thresholds, ready_made};

/// Checks the space available (to the process, not only to root) on the filesystem holding a
/// path: warns below 10% and fails below 5% unless told otherwise.
///
/// Observes the available share in `percent`, with `bytes` and `totalBytes` as data. Component
/// type `system`, default timeout 250 ms. The filesystem is read with `fs4`'s `statvfs` (safe,
/// and portable to Windows).
///
/// ```
/// use tower_health::Health;
/// use tower_health_checks::{Amount, Disk};
///
/// Health::new().register(
///     Disk::new("/var/lib/orders")
///         .warn_below(Amount::Percent(15.0))
///         .fail_below(Amount::gib(1))
///         .into_check("disk"),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Disk {
    path: PathBuf,
    thresholds: Thresholds,
    statvfs: OneAtATime,
}

impl Disk {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

    /// A check of the filesystem holding `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Disk {
            path: path.into(),
            thresholds: Thresholds {
                bad: Bad::Below,
                warn: Some(Amount::Percent(10.0)),
                fail: Some(Amount::Percent(5.0)),
            },
            statvfs: OneAtATime::default(),
        }
    }

    /// Warns when less than `amount` is available (default 10%; `None` never warns).
    #[must_use]
    pub fn warn_below(mut self, amount: impl Into<Option<Amount>>) -> Self {
        self.thresholds.warn = amount.into();
        self
    }

    /// Fails when less than `amount` is available (default 5%; `None` never fails on space).
    #[must_use]
    pub fn fail_below(mut self, amount: impl Into<Option<Amount>>) -> Self {
        self.thresholds.fail = amount.into();
        self
    }

    /// The check named `name`, with component type `system` and a 250 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        ready_made(name, self, SYSTEM, Self::DEFAULT_TIMEOUT)
    }
}

impl HealthCheck for Disk {
    async fn check(&self) -> CheckResult {
        // statvfs is one quick system call, but may block on a network filesystem.
        let path = self.path.clone();
        let stats = self
            .statvfs
            .run("statvfs", move || fs4::statvfs(path))
            .await;
        match stats {
            Ok(Ok(stats)) => self.thresholds.result(
                &format!("space available on {}:", self.path.display()),
                stats.available_space(),
                stats.total_space(),
            ),
            Ok(Err(e)) => CheckResult::fail(format!(
                "cannot read the filesystem of {}: {e}",
                self.path.display()
            )),
            Err(why) => CheckResult::fail(format!(
                "cannot read the filesystem of {}: {why}",
                self.path.display()
            )),
        }
    }
}
