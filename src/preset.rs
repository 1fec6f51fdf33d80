//! Ready-made endpoints answering exactly as other health-check packages do.
//!
//! Each preset is a builder that turns into the [`Endpoint`]s of one style; hand it to
//! [`HealthLayer::endpoints`](crate::HealthLayer::endpoints). Presets are plain configuration of
//! the general mechanism (a path, a selection, a gate, status codes, a [format](crate::format)),
//! so several run side by side on one layer, with or without the default `/health` endpoints,
//! and an application that needs something slightly different builds the endpoint itself.
//!
//! | preset | style of | paths |
//! |---|---|---|
//! | [`Kubernetes`] | the Kubernetes API server | `/livez`, `/readyz`, `/livez/NAME`, `/readyz/NAME` |
//! | [`Lifecycle`] | py-12f-common | `/health` |
//! | [`Maintenance`] | pyramid_health | `/health` |
//! | [`Heartbeat`] | oarepo-heartbeat | `/.well-known/heartbeat/{readiness,liveliness,environ}` |
//! | [`Named`] | flask-healthz | `/healthz/NAME` |
//!
//! ```
//! use tower_health::{Health, HealthLayer, preset};
//!
//! let health = Health::new();
//! let layer = HealthLayer::new()
//!     .health(health.clone())
//!     .endpoints(preset::Kubernetes::new())
//!     .endpoints(preset::Heartbeat::new().environ(
//!         tower_health::format::Environ::new(tower_health::build_info!()),
//!     ));
//! ```

use http::StatusCode;

use crate::check::Probe;
use crate::endpoint::{Details, Endpoint, RunChecks, StatusCodes};
use crate::format::{
    Environ, HeartbeatJson, KubernetesText, LifecycleJson, PlainText, ProblemJson,
};
use crate::route::Methods;
use crate::run::{Checks, Gate};

macro_rules! into_endpoints {
    ($preset:ty) => {
        impl IntoIterator for $preset {
            type Item = Endpoint;
            type IntoIter = std::vec::IntoIter<Endpoint>;

            fn into_iter(self) -> Self::IntoIter {
                self.endpoints().into_iter()
            }
        }
    };
}

/// The Kubernetes API server's `/livez` and `/readyz`, with `?verbose` and `?exclude=NAME`, and
/// `/livez/NAME`, `/readyz/NAME` for one check. See [`KubernetesText`].
///
/// `/livez` runs the liveness checks, ungated; `/readyz` the readiness checks, gated by the
/// working state and by maintenance mode. Failures answer 500; the aggregate endpoints withhold
/// the reasons (they are logged). The single-check ones withhold them too unless
/// [`Kubernetes::details`] allows them: the Kubernetes API server shows them, so
/// `.details(Details::Always)` answers exactly as it does, to anyone who can reach the port.
///
/// ```
/// use tower_health::{HealthLayer, preset::Kubernetes};
///
/// let layer = HealthLayer::new().endpoints(Kubernetes::new());
/// ```
#[derive(Clone, Debug)]
pub struct Kubernetes {
    details: Details,
}

impl Default for Kubernetes {
    fn default() -> Self {
        Self::new()
    }
}

impl Kubernetes {
    /// The four paths, withholding reasons everywhere.
    pub fn new() -> Self {
        Kubernetes {
            details: Details::Never,
        }
    }

    /// Whether `/livez/NAME` and `/readyz/NAME` show the reason of a failure (default never;
    /// `Details::Always` is the Kubernetes API server's behaviour).
    #[must_use]
    pub fn details(mut self, details: Details) -> Self {
        self.details = details;
        self
    }

    /// The status codes: 500 for failures and maintenance.
    pub fn status_codes() -> StatusCodes {
        StatusCodes {
            fail: StatusCode::INTERNAL_SERVER_ERROR,
            maintenance: StatusCode::INTERNAL_SERVER_ERROR,
            panicked: Some(StatusCode::INTERNAL_SERVER_ERROR),
            ..StatusCodes::default()
        }
    }

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        let mut endpoints = Vec::new();
        for (probe, name) in [(Probe::Liveness, "livez"), (Probe::Readiness, "readyz")] {
            endpoints.push(
                Endpoint::probe(format!("/{name}"), probe)
                    .verbose_param("verbose")
                    .exclude_param("exclude")
                    .status_codes(Self::status_codes())
                    .format(KubernetesText::new(name)),
            );
        }
        for (probe, name) in [(Probe::Liveness, "livez"), (Probe::Readiness, "readyz")] {
            endpoints.push(
                Endpoint::named(format!("/{name}"))
                    .checks(Checks::Probe(probe))
                    .status_codes(Self::status_codes())
                    .details(self.details.clone())
                    .format(KubernetesText::single()),
            );
        }
        endpoints
    }
}

into_endpoints!(Kubernetes);

/// py-12f-common's lifecycle endpoint: `GET`/`HEAD` `/health` answering the lifecycle
/// [`State`](crate::State) only (no checks run) as [`LifecycleJson`]: working 200 `pass`,
/// warming up or shutting down 202 `warn`, no information 503 `fail`.
///
/// Serve it on its own address with the standalone listener (feature `listener`) like the
/// package does, or on the application's port.
///
/// ```
/// use tower_health::{HealthLayer, preset::Lifecycle};
///
/// let layer = HealthLayer::new().endpoints(Lifecycle::new("orders"));
/// ```
#[derive(Clone, Debug)]
pub struct Lifecycle {
    service: String,
    path: String,
}

impl Lifecycle {
    /// The endpoint for the service named `service`, at `/health`.
    pub fn new(service: impl Into<String>) -> Self {
        Lifecycle {
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
                .checks(Checks::None)
                .gate(Gate::Lifecycle)
                .status_codes(StatusCodes {
                    warn: StatusCode::ACCEPTED,
                    ..StatusCodes::default()
                })
                .format(LifecycleJson::new(&self.service)),
        ]
    }
}

into_endpoints!(Lifecycle);

/// pyramid_health's endpoint: any method on `/health`, answering [`PlainText`] `OK`, `ERROR` or
/// `MAINTENANCE`.
///
/// Maintenance mode wins over everything (set a file with
/// [`Health::set_maintenance_file`](crate::Health::set_maintenance_file), looked at on every
/// request); checks run only when `checks` is `true` or `all` in any case, in the query or a
/// form-encoded body, and otherwise are not called at all. A check that panics or cannot be
/// resolved answers 500. Report pyramid's status strings with [`PlainText::report`].
///
/// ```
/// use http::StatusCode;
/// use tower_health::{Health, HealthLayer, preset::Maintenance};
///
/// let health = Health::new();
/// health.set_maintenance_file(Some("/tmp/maintenance".into()));
/// let layer = HealthLayer::new()
///     .health(health)
///     .without_default_endpoints()
///     .endpoints(
///         Maintenance::new()
///             .path("/whatsup")
///             .maintenance_status(StatusCode::from_u16(288).unwrap())
///             .failure_status(StatusCode::INTERNAL_SERVER_ERROR),
///     );
/// ```
#[derive(Clone, Debug)]
pub struct Maintenance {
    path: String,
    maintenance_status: StatusCode,
    failure_status: StatusCode,
}

impl Default for Maintenance {
    fn default() -> Self {
        Self::new()
    }
}

impl Maintenance {
    /// `/health`, maintenance 299, failure 503.
    pub fn new() -> Self {
        Maintenance {
            path: "/health".to_owned(),
            maintenance_status: StatusCodes::default().maintenance,
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

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        vec![
            Endpoint::new(self.path)
                .methods(Methods::any())
                .maintenance(true)
                .run_checks(RunChecks::WhenParam {
                    param: "checks".to_owned(),
                    values: vec!["true".to_owned(), "all".to_owned()],
                })
                .status_codes(StatusCodes {
                    // Anything but `OK` fails, a non-critical failure included.
                    warn: self.failure_status,
                    fail: self.failure_status,
                    maintenance: self.maintenance_status,
                    panicked: Some(StatusCode::INTERNAL_SERVER_ERROR),
                    ..StatusCodes::default()
                })
                .format(PlainText),
        ]
    }
}

into_endpoints!(Maintenance);

/// oarepo-heartbeat's `/.well-known/heartbeat/readiness` (readiness checks) and `/liveliness`
/// (liveness checks) as [`HeartbeatJson`], 200 when all are ok and 500 otherwise, any method;
/// and `/environ` ([`Environ`], always 200) when the application adds it.
///
/// No lifecycle gate: like the package, only the checks count.
///
/// ```
/// use tower_health::format::Environ;
/// use tower_health::{HealthLayer, preset::Heartbeat};
///
/// let layer = HealthLayer::new()
///     .endpoints(Heartbeat::new().environ(Environ::new(tower_health::build_info!())));
/// ```
#[derive(Clone, Debug)]
pub struct Heartbeat {
    prefix: String,
    environ: Option<Environ>,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::new()
    }
}

impl Heartbeat {
    /// Readiness and liveliness under `/.well-known/heartbeat`, no environ.
    pub fn new() -> Self {
        Heartbeat {
            prefix: "/.well-known/heartbeat".to_owned(),
            environ: None,
        }
    }

    /// Serves under `prefix` instead.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().trim_end_matches('/').to_owned();
        self
    }

    /// Also serves `environ`, which exposes internals: only where the audience may see them.
    #[must_use]
    pub fn environ(mut self, environ: Environ) -> Self {
        self.environ = Some(environ);
        self
    }

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        let codes = StatusCodes {
            fail: StatusCode::INTERNAL_SERVER_ERROR,
            panicked: Some(StatusCode::INTERNAL_SERVER_ERROR),
            ..StatusCodes::default()
        };
        let prefix = &self.prefix;
        let mut endpoints: Vec<Endpoint> = [
            ("readiness", Probe::Readiness),
            ("liveliness", Probe::Liveness),
        ]
        .into_iter()
        .map(|(path, probe)| {
            Endpoint::new(format!("{prefix}/{path}"))
                .checks(Checks::Probe(probe))
                .methods(Methods::any())
                .status_codes(codes)
                .format(HeartbeatJson)
        })
        .collect();
        if let Some(environ) = self.environ {
            endpoints.push(
                Endpoint::new(format!("{prefix}/environ"))
                    .checks(Checks::None)
                    .methods(Methods::any())
                    .format(environ),
            );
        }
        endpoints
    }
}

into_endpoints!(Heartbeat);

/// flask-healthz's `/healthz/NAME`: the checks named `NAME`, looked up on every request, as
/// [`ProblemJson`]: 200, 503 with the check's message, 404 for an unknown name, 500 for a
/// check that panics or is [unresolved](crate::Check::unresolved). `GET`, `HEAD`, and `OPTIONS`
/// answered with `Allow`; other methods 405.
///
/// ```
/// use tower_health::{Check, Health, HealthLayer, preset::Named};
///
/// let health = Health::new();
/// health.register(Check::new("live", || async {}));
/// health.register(Check::new("ready", || async { Err::<(), _>("database is down") }));
/// let layer = HealthLayer::new().health(health).endpoints(Named::new().no_log());
/// ```
#[derive(Clone, Debug)]
pub struct Named {
    prefix: String,
    no_log: bool,
    details: Details,
}

impl Default for Named {
    fn default() -> Self {
        Self::new()
    }
}

impl Named {
    /// `/healthz/NAME`, withholding failure messages, logging every answer.
    pub fn new() -> Self {
        Named {
            prefix: "/healthz".to_owned(),
            no_log: false,
            details: Details::Never,
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

    /// Whether a failing check's message is the `title` (default never: the title is then the
    /// reason phrase; `Details::Always` is flask-healthz's behaviour).
    #[must_use]
    pub fn details(mut self, details: Details) -> Self {
        self.details = details;
        self
    }

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        let endpoint = Endpoint::named(self.prefix)
            .methods(Methods::get_head_options())
            .details(self.details)
            .status_codes(StatusCodes {
                panicked: Some(StatusCode::INTERNAL_SERVER_ERROR),
                ..StatusCodes::default()
            })
            .format(ProblemJson);
        vec![if self.no_log {
            endpoint.no_log()
        } else {
            endpoint
        }]
    }
}

into_endpoints!(Named);
