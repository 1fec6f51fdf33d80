//! What a check returns: [`CheckResult`], and everything a check function may return instead.

use std::fmt;

use serde_json::{Map, Value};

use super::status::Status;

/// What one run of a check found.
///
/// Only `status` is required; the rest feeds the response formats (health+json's
/// `observedValue`, `observedUnit`, `componentType`, `output`, and extra data for formats that
/// show it).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CheckResult {
    /// Pass, warn or fail.
    pub status: Status,
    /// Why: shown only where the exposure policy allows, always logged.
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
