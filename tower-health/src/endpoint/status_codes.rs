//! The HTTP status code of each kind of answer.

use http::StatusCode;

use crate::health::Status;

/// HTTP status codes for each kind of answer.
///
/// Start from the defaults (or a preset's codes) and set the fields that differ:
///
/// ```
/// use http::StatusCode;
/// use tower_health::{HealthLayer, StatusCodes};
///
/// let mut codes = StatusCodes::default();
/// codes.maintenance = StatusCode::SERVICE_UNAVAILABLE;
/// let layer = HealthLayer::new().status_codes(codes);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusCodes {
    /// Everything passes (default 200).
    pub pass: StatusCode,
    /// Degraded (default 200: still in rotation).
    pub warn: StatusCode,
    /// Failing (default 503).
    pub fail: StatusCode,
    /// Maintenance mode (default 503: out of rotation for every prober; the kubelet counts any
    /// code from 200 to 399 as success, so a 2xx here would keep the pod ready).
    pub maintenance: StatusCode,
    /// The path names a check that is not registered (default 404).
    pub unknown_check: StatusCode,
    /// A check panicked or could not be resolved ([`Check::unresolved`](crate::Check::unresolved)):
    /// an error rather than a failure. `None` (the default) treats it as `fail`.
    pub errored: Option<StatusCode>,
}

impl Default for StatusCodes {
    fn default() -> Self {
        StatusCodes {
            pass: StatusCode::OK,
            warn: StatusCode::OK,
            fail: StatusCode::SERVICE_UNAVAILABLE,
            maintenance: StatusCode::SERVICE_UNAVAILABLE,
            unknown_check: StatusCode::NOT_FOUND,
            errored: None,
        }
    }
}

impl StatusCodes {
    /// The codes Consul's HTTP check reads: 2xx passing, 429 warning, anything else critical.
    /// Warn answers 429 instead of 200, everything else as by default.
    ///
    /// ```
    /// use http::StatusCode;
    /// use tower_health::{HealthLayer, StatusCodes};
    ///
    /// assert_eq!(StatusCodes::consul().warn, StatusCode::TOO_MANY_REQUESTS);
    /// let layer = HealthLayer::new().status_codes(StatusCodes::consul());
    /// # drop(layer);
    /// ```
    pub fn consul() -> Self {
        StatusCodes {
            warn: StatusCode::TOO_MANY_REQUESTS,
            ..Self::default()
        }
    }

    pub(crate) fn for_status(&self, status: Status) -> StatusCode {
        match status {
            Status::Pass => self.pass,
            Status::Warn => self.warn,
            Status::Fail => self.fail,
        }
    }
}
