//! flask-healthz's endpoints.

use http::{Method, StatusCode};

use crate::endpoint::{Endpoint, ExposurePolicy, StatusCodes};
use crate::format::ProblemJson;

/// flask-healthz's `/healthz/NAME`: the checks named `NAME`, looked up on every request, as
/// `application/problem+json` `{"status", "title"}`: 200 `OK`, 503 with the check's message,
/// 404 `The NAME check endpoint is not setup`, 500 for a check that panics or is
/// [unresolved](crate::Check::unresolved) (`The NAME check function could not be imported`).
/// `GET`, `HEAD`, and `OPTIONS` answered with `Allow`; other methods 405.
///
/// ```
/// use tower_health::{Check, Health, HealthLayer, preset::FlaskHealthz};
///
/// let health = Health::new();
/// health.register(Check::new("live", || async {}));
/// health.register(Check::new("ready", || async { Err::<(), _>("database is down") }));
/// let layer = HealthLayer::with_endpoints(FlaskHealthz::new().no_log()).health(health);
/// ```
#[derive(Clone, Debug)]
pub struct FlaskHealthz {
    prefix: String,
    no_log: bool,
    /// Unless set, the layer's.
    exposure: Option<ExposurePolicy>,
}

impl Default for FlaskHealthz {
    fn default() -> Self {
        Self::new()
    }
}

impl FlaskHealthz {
    /// `/healthz/NAME`, withholding failure messages, logging every answer.
    pub fn new() -> Self {
        FlaskHealthz {
            prefix: "/healthz".to_owned(),
            no_log: false,
            exposure: None,
        }
    }

    /// Serves under `prefix` instead (flask-healthz's blueprint `url_prefix`).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Leaves 200 answers out of the per-request log (flask-healthz's `no_log`);
    /// failures are still logged.
    #[must_use]
    pub fn no_log(mut self) -> Self {
        self.no_log = true;
        self
    }

    /// How much each request sees: at [`Exposure::Messages`](crate::Exposure::Messages) a
    /// failing check's message is the `title` (flask-healthz's behaviour); below, the title is
    /// the reason phrase (the default); at
    /// [`Exposure::StatusOnly`](crate::Exposure::StatusOnly) the title never names the check.
    /// Unless set here, the layer's [`exposure`](crate::HealthLayer::exposure).
    #[must_use]
    pub fn exposure(mut self, exposure: impl Into<ExposurePolicy>) -> Self {
        self.exposure = Some(exposure.into());
        self
    }

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        let mut endpoint = Endpoint::new(self.prefix)
            .per_check()
            .methods([Method::GET, Method::HEAD, Method::OPTIONS])
            .status_codes(StatusCodes {
                errored: Some(StatusCode::INTERNAL_SERVER_ERROR),
                ..StatusCodes::default()
            })
            .format(ProblemJson);
        if let Some(exposure) = self.exposure {
            endpoint = endpoint.exposure(exposure);
        }
        if self.no_log {
            endpoint = endpoint.no_log();
        }
        vec![endpoint]
    }
}

super::into_endpoints!(FlaskHealthz);
