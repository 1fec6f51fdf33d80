//! py-12f-common's lifecycle endpoint.

use http::StatusCode;

use crate::endpoint::{Endpoint, StatusCodes};
use crate::format::LifecycleJson;
use crate::health::Gate;

/// py-12f-common's lifecycle endpoint: `GET`/`HEAD` `/health` answering the lifecycle
/// [`Lifecycle`](crate::Lifecycle) only (no checks run) as that package's JSON (`status`, `notes`,
/// `serviceId`, `description`): working 200 `pass`, warming up or shutting down 202 `warn`, no
/// information 503 `fail`.
///
/// Serve it on its own address with the standalone [`listener`](crate::listener) (feature
/// `listener`) like the package does, or on the application's port.
///
/// ```
/// use tower_health::{HealthLayer, preset::Py12fCommon};
///
/// let layer = HealthLayer::with_endpoints(Py12fCommon::new("orders"));
/// ```
#[derive(Clone, Debug)]
pub struct Py12fCommon {
    service: String,
    path: String,
}

impl Py12fCommon {
    /// The endpoint for the service named `service`, at `/health`.
    pub fn new(service: impl Into<String>) -> Self {
        Py12fCommon {
            service: service.into(),
            path: "/health".to_owned(),
        }
    }

    /// Serves it at `path` instead of `/health`.
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        vec![
            Endpoint::new(self.path)
                .without_checks()
                .gate(Gate::Strict)
                .maintenance(false)
                .status_codes(StatusCodes {
                    warn: StatusCode::ACCEPTED,
                    ..StatusCodes::default()
                })
                .format(LifecycleJson::new(&self.service)),
        ]
    }
}

super::into_endpoints!(Py12fCommon);
