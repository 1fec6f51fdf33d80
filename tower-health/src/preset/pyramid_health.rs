//! pyramid_health's endpoint.

use http::StatusCode;

use crate::endpoint::{Endpoint, StatusCodes};
use crate::format::{PlainText, STATUS_KEY};
use crate::health::{CheckResult, Gate, Status};

/// pyramid_health's endpoint: any method on `/health`, answering plain text `OK`, `ERROR` or
/// `MAINTENANCE`.
///
/// Maintenance mode wins over everything (set a file with
/// [`Health::set_maintenance_file`](crate::Health::set_maintenance_file), looked at on every
/// request); checks run only when the last `checks` parameter of the query is `true` or `all`
/// in any case (a form-encoded body is read for it only when the query has none), and
/// otherwise are not called at all. A check that panics or cannot be resolved answers 500.
/// Report pyramid's status strings with [`PyramidHealth::report`]. It logs as pyramid does:
/// `Health response: MAINTENANCE` at INFO, `Health response: ERROR ([...])` at ERROR.
///
/// ```
/// use http::StatusCode;
/// use tower_health::{Health, HealthLayer, preset::PyramidHealth};
///
/// let health = Health::new();
/// health.set_maintenance_file(Some("/tmp/maintenance".into()));
/// let layer = HealthLayer::with_endpoints(
///     PyramidHealth::new()
///         .path("/whatsup")
///         .maintenance_status(StatusCode::from_u16(288).unwrap())
///         .failure_status(StatusCode::INTERNAL_SERVER_ERROR),
/// )
/// .health(health);
/// ```
#[derive(Clone, Debug)]
pub struct PyramidHealth {
    path: String,
    maintenance_status: StatusCode,
    failure_status: StatusCode,
}

impl Default for PyramidHealth {
    fn default() -> Self {
        Self::new()
    }
}

impl PyramidHealth {
    /// `/health`, maintenance 299, failure 503.
    pub fn new() -> Self {
        PyramidHealth {
            path: "/health".to_owned(),
            // pyramid_health's own: a 2xx, so only a prober expecting exactly 200 takes the
            // instance out.
            maintenance_status: StatusCode::from_u16(299).unwrap_or(StatusCode::OK),
            failure_status: StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The path (pyramid's `healthcheck.url`).
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The status in maintenance mode (pyramid's `healthcheck.maintenance_code`).
    #[must_use]
    pub fn maintenance_status(mut self, status: StatusCode) -> Self {
        self.maintenance_status = status;
        self
    }

    /// The status when a check fails (pyramid's `healthcheck.failure_code`).
    #[must_use]
    pub fn failure_status(mut self, status: StatusCode) -> Self {
        self.failure_status = status;
        self
    }

    /// A check result carrying pyramid's `(status, message)`: it passes only when `status` is
    /// exactly `OK` (so `ok` and `NOK` fail), and the `ERROR` log line shows the string.
    ///
    /// ```
    /// use tower_health::{Check, Health, preset::PyramidHealth};
    ///
    /// let health = Health::new();
    /// health.register(Check::new("cache", || async { PyramidHealth::report("NOK", Some("evicting")) }));
    /// ```
    pub fn report(status: impl Into<String>, message: Option<&str>) -> CheckResult {
        let status: String = status.into();
        let passes = status == "OK";
        let mut result = CheckResult::new(if passes { Status::Pass } else { Status::Fail })
            .data(STATUS_KEY, status);
        result.message = message.map(str::to_owned);
        result
    }

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        vec![
            Endpoint::new(self.path)
                .any_method()
                .gate(Gate::None)
                .maintenance(true)
                .run_checks_when("checks", ["true", "all"])
                .status_codes(StatusCodes {
                    // Anything but `OK` fails, a non-critical failure included.
                    warn: self.failure_status,
                    fail: self.failure_status,
                    maintenance: self.maintenance_status,
                    errored: Some(StatusCode::INTERNAL_SERVER_ERROR),
                    ..StatusCodes::default()
                })
                .format(PlainText),
        ]
    }
}

super::into_endpoints!(PyramidHealth);
