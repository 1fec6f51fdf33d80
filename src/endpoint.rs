//! Endpoints: one health path and everything about how it answers.
//!
//! An [`Endpoint`] says which checks a path runs, how the lifecycle state and maintenance mode
//! gate it, which query parameters it reads, which methods it takes, how statuses map to HTTP
//! codes, whether check messages are shown, and the response format. The layer's default paths
//! and every preset are endpoints; an application can add its own.
//!
//! ```
//! use tower_health::{Checks, Details, Endpoint, Gate, HealthLayer, Probe};
//!
//! let layer = HealthLayer::new().endpoint(
//!     Endpoint::new("/status")
//!         .checks(Checks::Probe(Probe::Readiness))
//!         .gate(Gate::Working)
//!         .details(Details::when(|request| request.headers.contains_key("x-health-token")))
//!         .verbose_param("verbose"),
//! );
//! ```

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use http::{Method, Response, StatusCode, request};

use crate::body::Payload;
use crate::check::{Probe, Status};
use crate::format::{Answer, Format, HealthJson, Outcome};
use crate::health::Health;
use crate::route::{Handler, HealthRequest, Methods, PathPattern, response};
use crate::run::{Checks, Gate, Selection};

/// At most this many query parameters are read; the rest are ignored (bounded work per request).
pub const MAX_QUERY_PARAMS: usize = 64;

/// HTTP status codes for each kind of answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusCodes {
    /// Everything passes (default 200).
    pub pass: StatusCode,
    /// Degraded (default 200: still in rotation).
    pub warn: StatusCode,
    /// Failing (default 503).
    pub fail: StatusCode,
    /// Maintenance mode (default 299).
    pub maintenance: StatusCode,
    /// The path names a check that is not registered (default 404).
    pub unknown_check: StatusCode,
    /// A check panicked or could not be resolved ([`Check::unresolved`](crate::Check::unresolved));
    /// `None` (the default) treats it as `fail`.
    pub panicked: Option<StatusCode>,
}

impl Default for StatusCodes {
    fn default() -> Self {
        StatusCodes {
            pass: StatusCode::OK,
            warn: StatusCode::OK,
            fail: StatusCode::SERVICE_UNAVAILABLE,
            maintenance: StatusCode::from_u16(299).unwrap_or(StatusCode::OK),
            unknown_check: StatusCode::NOT_FOUND,
            panicked: None,
        }
    }
}

impl StatusCodes {
    fn for_status(&self, status: Status) -> StatusCode {
        match status {
            Status::Pass => self.pass,
            Status::Warn => self.warn,
            Status::Fail => self.fail,
        }
    }
}

/// Whether a response shows check messages (which can leak hostnames and connection strings).
///
/// Messages are always logged, whatever the policy. What each setting tells whoever can reach
/// the endpoint:
///
/// - [`Details::Never`] (the default on every endpoint): the aggregate status, and the name, status,
///   time and component type of each check. Names alone tell an attacker which dependencies the
///   service has (`postgres`, `redis`, `payments-api`); name checks accordingly where the
///   endpoint is public.
/// - [`Details::Always`]: also every message of a check that is not passing: error texts that
///   often carry hostnames, ports, IP addresses, user names, library versions and file paths, and
///   tell an attacker when a dependency is down or slow (the moment to strike). Only for
///   endpoints that nobody outside the cluster can reach.
/// - [`Details::When`]: messages only to requests the predicate accepts (a token header, a
///   client address on an internal network, a port of its own). A predicate
///   that trusts a header any client can set (`X-Forwarded-For`) exposes as much as `Always`.
///
/// ```
/// use tower_health::{Details, HealthLayer};
///
/// // Messages for requests that carry the operator token; names and statuses for the rest.
/// let token = std::env::var("HEALTH_TOKEN").unwrap_or_default();
/// let layer = HealthLayer::new().details(Details::when(move |request| {
///     !token.is_empty()
///         && request.headers.get("x-health-token").is_some_and(|value| value == token.as_str())
/// }));
/// ```
#[derive(Clone, Default)]
pub enum Details {
    /// Names and statuses only (the default).
    #[default]
    Never,
    /// Messages too: anyone who can reach the endpoint reads them.
    Always,
    /// Messages for requests the predicate accepts (a token header, an internal port).
    When(Arc<dyn Fn(&request::Parts) -> bool + Send + Sync>),
}

impl Details {
    /// Shows messages to requests `predicate` accepts.
    pub fn when(predicate: impl Fn(&request::Parts) -> bool + Send + Sync + 'static) -> Self {
        Details::When(Arc::new(predicate))
    }

    fn allows(&self, request: &request::Parts) -> bool {
        match self {
            Details::Never => false,
            Details::Always => true,
            Details::When(predicate) => predicate(request),
        }
    }
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Details::Never => f.write_str("Never"),
            Details::Always => f.write_str("Always"),
            Details::When(_) => f.write_str("When(..)"),
        }
    }
}

/// When an endpoint runs its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunChecks {
    /// On every request.
    Always,
    /// Only when the query parameter `param` has one of `values` (compared ignoring case);
    /// otherwise the answer passes without calling any check.
    WhenParam {
        /// The parameter's name.
        param: String,
        /// The values that run the checks.
        values: Vec<String>,
    },
}

/// One health path and how it answers. See the [module docs](self).
#[derive(Clone)]
pub struct Endpoint {
    pub(crate) path: PathPattern,
    methods: Methods,
    selection: Selection,
    maintenance: bool,
    run_checks: RunChecks,
    verbose_param: Option<String>,
    exclude_param: Option<String>,
    codes: StatusCodes,
    details: Details,
    format: Arc<dyn Format>,
    quiet: bool,
}

impl Endpoint {
    /// An endpoint at exactly `path` that runs every check, ignores the lifecycle state and
    /// answers `GET` and `HEAD` in health+json.
    pub fn new(path: impl Into<String>) -> Self {
        Endpoint {
            path: PathPattern::Exact(path.into().into_boxed_str()),
            methods: Methods::get_head(),
            selection: Selection {
                gate: Gate::None,
                ..Selection::service()
            },
            maintenance: false,
            run_checks: RunChecks::Always,
            verbose_param: None,
            exclude_param: None,
            codes: StatusCodes::default(),
            details: Details::Never,
            format: Arc::new(HealthJson::new()),
            quiet: false,
        }
    }

    /// An endpoint at `path` for the whole service: every check, gated by the working state,
    /// honouring maintenance (the layer's detailed `/health`). Its status changes are recorded as
    /// [`Subject::Service`](crate::Subject::Service).
    pub fn service(path: impl Into<String>) -> Self {
        Endpoint {
            selection: Selection::service(),
            ..Endpoint::new(path)
        }
        .maintenance(true)
    }

    /// An endpoint at `path` for `probe`, gated as the probe is: readiness needs the working
    /// state and honours maintenance, startup needs the working state once, liveness is ungated.
    pub fn probe(path: impl Into<String>, probe: Probe) -> Self {
        Endpoint {
            selection: Selection::probe(probe),
            ..Endpoint::new(path)
        }
        .maintenance(probe == Probe::Readiness)
    }

    /// An endpoint at `{prefix}/{name}` that runs the checks named `name` among those
    /// [`checks`](Self::checks) selects (all by default); an unknown name answers
    /// [`StatusCodes::unknown_check`].
    ///
    /// # Panics
    ///
    /// When `prefix` is empty or `/`: every one-segment path of the application would then be a
    /// health path.
    pub fn named(prefix: impl Into<String>) -> Self {
        let prefix: String = prefix.into();
        assert!(
            !prefix.trim_end_matches('/').is_empty(),
            "a named endpoint needs a prefix: without one, every one-segment path would be a health path"
        );
        Endpoint {
            path: PathPattern::Named(prefix.trim_end_matches('/').into()),
            ..Endpoint::new("")
        }
    }

    /// Which checks run.
    #[must_use]
    pub fn checks(mut self, checks: Checks) -> Self {
        self.selection.checks = checks;
        self
    }

    /// How the lifecycle state gates the status.
    #[must_use]
    pub fn gate(mut self, gate: Gate) -> Self {
        self.selection.gate = gate;
        self
    }

    /// Whether maintenance mode answers this endpoint (without running checks).
    #[must_use]
    pub fn maintenance(mut self, honour: bool) -> Self {
        self.maintenance = honour;
        self
    }

    /// When checks run.
    #[must_use]
    pub fn run_checks(mut self, run_checks: RunChecks) -> Self {
        self.run_checks = run_checks;
        self
    }

    /// A query parameter that asks for a verbose answer (`?verbose`).
    #[must_use]
    pub fn verbose_param(mut self, param: impl Into<String>) -> Self {
        self.verbose_param = Some(param.into());
        self
    }

    /// A repeatable query parameter naming checks not to run (`?exclude=db`).
    #[must_use]
    pub fn exclude_param(mut self, param: impl Into<String>) -> Self {
        self.exclude_param = Some(param.into());
        self
    }

    /// Which methods are answered.
    #[must_use]
    pub fn methods(mut self, methods: Methods) -> Self {
        self.methods = methods;
        self
    }

    /// The HTTP status codes.
    #[must_use]
    pub fn status_codes(mut self, codes: StatusCodes) -> Self {
        self.codes = codes;
        self
    }

    /// Whether check messages are shown.
    #[must_use]
    pub fn details(mut self, details: Details) -> Self {
        self.details = details;
        self
    }

    /// The response format.
    #[must_use]
    pub fn format(mut self, format: impl Format) -> Self {
        self.format = Arc::new(format);
        self
    }

    pub(crate) fn shared_format(mut self, format: Arc<dyn Format>) -> Self {
        self.format = format;
        self
    }

    /// Leaves 200 answers out of the per-request log; every other status is still logged.
    #[must_use]
    pub fn no_log(mut self) -> Self {
        self.quiet = true;
        self
    }

    async fn answer(&self, health: &Health, request: HealthRequest) -> Response<Payload> {
        let HealthRequest { parts, name, body } = request;
        let head = parts.method == Method::HEAD;
        let mut query = Query::parse(self, parts.uri.query());
        let show_details = self.details.allows(&parts);
        let answer = |outcome, status, status_code, state, verbose| {
            let answer = Answer {
                outcome,
                status,
                status_code,
                state,
                show_details,
                verbose,
            };
            self.format.log(&answer);
            response(self.format.render(&answer), head)
        };

        // Maintenance wins over everything: answered before waiting on a form body.
        if self.maintenance && health.in_maintenance() {
            return answer(
                Outcome::Maintenance,
                Status::Warn,
                self.codes.maintenance,
                health.state(),
                query.verbose,
            );
        }
        if !query.run_checks && is_form(&parts) {
            if let Some(form) = read_form(body).await {
                query.read_form(self, &form);
            }
        }
        let selection = Selection {
            name: name.as_deref().map(str::to_owned),
            exclude: query.exclude,
            run_checks: query.run_checks,
            ..self.selection.clone()
        };
        let Some(report) = health.evaluate(&selection).await else {
            let name = name.as_deref().unwrap_or_default();
            return answer(
                Outcome::UnknownCheck(name),
                Status::Fail,
                self.codes.unknown_check,
                health.state(),
                query.verbose,
            );
        };
        let status = report.status;
        let status_code = match self.codes.panicked {
            Some(code) if report.errored() => code,
            _ => self.codes.for_status(status),
        };
        answer(
            Outcome::Report(&report),
            status,
            status_code,
            report.state,
            query.verbose,
        )
    }
}

impl Handler for Endpoint {
    fn methods(&self) -> &Methods {
        &self.methods
    }

    fn quiet_success(&self) -> bool {
        self.quiet
    }

    fn handle(
        self: Arc<Self>,
        health: Health,
        request: HealthRequest,
    ) -> BoxFuture<'static, Response<Payload>> {
        Box::pin(async move { self.answer(&health, request).await })
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("path", &self.path)
            .field("selection", &self.selection)
            .field("maintenance", &self.maintenance)
            .field("codes", &self.codes)
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

/// The largest form body read for parameters; a larger one is ignored, not buffered.
pub const MAX_FORM_BYTES: usize = 8 * 1024;

/// How long a client may take to send a form body.
const FORM_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

fn is_form(parts: &request::Parts) -> bool {
    parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"))
}

async fn read_form(mut body: crate::route::RequestBody) -> Option<Vec<u8>> {
    use http_body_util::BodyExt;
    let read = async move {
        let mut form = Vec::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.ok()?.into_data() {
                if form.len() + data.len() > MAX_FORM_BYTES {
                    return None;
                }
                form.extend_from_slice(&data);
            }
        }
        Some(form)
    };
    tokio::time::timeout(FORM_READ_TIMEOUT, read).await.ok()?
}

/// What the query string asks of one request.
struct Query {
    verbose: bool,
    run_checks: bool,
    exclude: Vec<String>,
}

impl Query {
    fn parse(endpoint: &Endpoint, query: Option<&str>) -> Query {
        let mut parsed = Query {
            verbose: false,
            run_checks: endpoint.run_checks == RunChecks::Always,
            exclude: Vec::new(),
        };
        parsed.read_form(endpoint, query.unwrap_or("").as_bytes());
        parsed
    }

    /// Reads `name=value&...` pairs (a query string or a form body).
    fn read_form(&mut self, endpoint: &Endpoint, form: &[u8]) {
        let parsed = self;
        for (key, value) in form_urlencoded::parse(form).take(MAX_QUERY_PARAMS) {
            if endpoint.verbose_param.as_deref() == Some(&*key) {
                parsed.verbose = true;
            }
            if endpoint.exclude_param.as_deref() == Some(&*key) && !value.is_empty() {
                parsed.exclude.push(value.clone().into_owned());
            }
            if let RunChecks::WhenParam { param, values } = &endpoint.run_checks {
                if *param == key && values.iter().any(|v| v.eq_ignore_ascii_case(&value)) {
                    parsed.run_checks = true;
                }
            }
        }
    }
}
