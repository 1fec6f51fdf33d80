//! Endpoints: one health path and everything about how it answers.

mod defaults;
mod exposure;
mod methods;
mod path;
mod status_codes;

use std::fmt;
use std::sync::Arc;

use http::Method;
use http::header::{HeaderMap, HeaderName, HeaderValue};

pub use exposure::ExposurePolicy;
pub use status_codes::StatusCodes;

pub(crate) use defaults::Defaults;
pub(crate) use methods::{MethodDecision, Methods};
pub(crate) use path::{PathPattern, Target};

use crate::format::{Format, HealthJson};
use crate::health::{Gate, Subject};

/// When an endpoint runs its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RunChecks {
    /// On every request.
    Always,
    /// Never: the answer depends on the lifecycle state and maintenance only.
    Never,
    /// Only when the query parameter `param` has one of `values` (compared ignoring case); the
    /// last occurrence decides, and a form body is read only when the query does not name it.
    WhenParam { param: String, values: Vec<String> },
}

/// Endpoints: one health path and everything about how it answers.
///
/// An [`Endpoint`] says what a path evaluates (a [`Subject`]: the service, a group or the
/// checks of a name), how the lifecycle state and maintenance mode gate it (by default the
/// subject's own gate), which query parameters it reads, which methods it takes, how statuses
/// map to HTTP codes, how much of the report each request sees, and the response format. The layer's
/// default paths and every preset are endpoints; an application can add its own. The format,
/// exposure, status codes, warn headers and no-log that an endpoint does not set come from the
/// [`HealthLayer`](crate::HealthLayer) it is added to.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_health::{Check, ExposurePolicy, Endpoint, Exposure, Group, Health, HealthLayer, Subject};
///
/// let health = Health::new();
/// health.register(Check::new("db", || async { Err::<(), _>("connection refused") }).liveness());
/// // The liveness group at a path of its own: its status for all, messages for the operator.
/// let layer = HealthLayer::new().health(health).endpoint(
///     Endpoint::new("/livez")
///         .subject(Subject::group(Group::LIVE))
///         .exposure(ExposurePolicy::new(Exposure::StatusOnly).when(
///             Exposure::Messages,
///             tower_health::authorize::bearer("operator-token"),
///         )),
/// );
/// let service = tower::ServiceBuilder::new()
///     .layer(layer)
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let response = service.oneshot(Request::get("/livez").body(String::new()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
/// # }
/// ```
///
/// `Endpoint::new(path)` answers the whole service, gated like `/health`:
///
/// | method | default | effect |
/// |---|---|---|
/// | [`subject`](Self::subject) | [`Subject::Service`] | what it evaluates: the service, a group or the checks of a name; its gate and maintenance follow |
/// | [`per_check`](Self::per_check) | off | answer `{path}/{check}` (one check of the subject, ungated) instead of `{path}` |
/// | [`gate`](Self::gate) | the subject's | [`Gate::None`], [`Gate::Ready`], [`Gate::Started`], [`Gate::Strict`] |
/// | [`maintenance`](Self::maintenance) | the subject's | whether maintenance mode answers it |
/// | [`without_checks`](Self::without_checks) | checks run | answer from the gate and maintenance only |
/// | [`run_checks_when`](Self::run_checks_when) | checks run | run them only when the last `param` in the query (else in a form body) is one of `values` |
/// | [`verbose_param`](Self::verbose_param) / [`exclude_param`](Self::exclude_param) | none | query parameters for a verbose answer / checks to skip |
/// | [`methods`](Self::methods), [`any_method`](Self::any_method) | `GET`, `HEAD` | `OPTIONS` in the list is answered with `Allow` |
/// | [`status_codes`](Self::status_codes), [`warn_header`](Self::warn_header), [`exposure`](Self::exposure), [`format`](Self::format), [`no_log`](Self::no_log) | the layer's | per endpoint |
#[derive(Clone)]
pub struct Endpoint {
    pub(crate) path: PathPattern,
    pub(crate) subject: Subject,
    pub(crate) gate: Option<Gate>,
    pub(crate) maintenance: Option<bool>,
    pub(crate) run_checks: RunChecks,
    pub(crate) verbose_param: Option<String>,
    pub(crate) exclude_param: Option<String>,
    pub(crate) methods: Methods,
    pub(crate) codes: StatusCodes,
    pub(crate) warn_headers: HeaderMap,
    pub(crate) exposure: ExposurePolicy,
    pub(crate) format: Arc<dyn Format>,
    pub(crate) no_log: bool,
    /// The settings a layer passes down that this endpoint set itself.
    own: Own,
}

/// Which of the settings a [`HealthLayer`](crate::HealthLayer) passes down to its endpoints an
/// endpoint set itself, and so keeps.
#[derive(Clone, Copy, Debug, Default)]
struct Own {
    codes: bool,
    warn_headers: bool,
    exposure: bool,
    format: bool,
    no_log: bool,
}

impl Endpoint {
    /// An endpoint at exactly `path` for the whole service ([`Subject::Service`]: every check,
    /// gated by the working state, answered by maintenance mode), answering `GET` and `HEAD` in
    /// health+json.
    pub fn new(path: impl Into<String>) -> Self {
        Endpoint {
            path: PathPattern::Exact(path.into().into_boxed_str()),
            subject: Subject::Service,
            gate: None,
            maintenance: None,
            run_checks: RunChecks::Always,
            verbose_param: None,
            exclude_param: None,
            methods: Methods::get_head(),
            codes: StatusCodes::default(),
            warn_headers: HeaderMap::new(),
            exposure: ExposurePolicy::default(),
            format: Arc::new(HealthJson::new()),
            no_log: false,
            own: Own::default(),
        }
    }

    /// This endpoint with `layer`'s settings in place of those it did not set itself.
    pub(crate) fn inherit(mut self, layer: &Defaults) -> Self {
        let own = self.own;
        if !own.codes {
            self.codes = layer.codes;
        }
        if !own.warn_headers {
            self.warn_headers = layer.warn_headers.clone();
        }
        if !own.exposure {
            self.exposure = layer.exposure.clone();
        }
        if !own.format {
            self.format = layer.format.clone();
        }
        if !own.no_log {
            self.no_log = layer.no_log;
        }
        self
    }

    /// What the endpoint evaluates; its gate and maintenance follow the subject unless
    /// [`gate`](Self::gate) or [`maintenance`](Self::maintenance) say otherwise.
    #[must_use]
    pub fn subject(mut self, subject: Subject) -> Self {
        self.subject = subject;
        self
    }

    /// Answers `{path}/{check}` for each check of the subject instead of `{path}`: the checks of
    /// that name among the subject's, ungated (unless [`gate`](Self::gate) says otherwise); an
    /// unknown name answers [`StatusCodes::unknown_check`].
    ///
    /// # Panics
    ///
    /// When the path is empty or `/`: every one-segment path of the application would then be a
    /// health path.
    #[must_use]
    pub fn per_check(mut self) -> Self {
        let prefix = self.path.prefix().trim_end_matches('/');
        assert!(
            !prefix.is_empty(),
            "a per-check endpoint needs a prefix: without one, every one-segment path would be a health path"
        );
        self.path = PathPattern::PerCheck(prefix.into());
        self
    }

    /// How the lifecycle state gates the status, instead of the subject's gate.
    #[must_use]
    pub fn gate(mut self, gate: Gate) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Whether maintenance mode answers this endpoint (without running checks), instead of
    /// what the subject says.
    #[must_use]
    pub fn maintenance(mut self, honour: bool) -> Self {
        self.maintenance = Some(honour);
        self
    }

    /// Runs no check: the answer depends on the gate and maintenance only.
    #[must_use]
    pub fn without_checks(mut self) -> Self {
        self.run_checks = RunChecks::Never;
        self
    }

    /// Runs the checks only when the query parameter `param` has one of `values` (compared
    /// ignoring case; the last occurrence decides). A form-encoded body is read for it only
    /// when the query does not name `param`. Otherwise the answer passes without calling any
    /// check.
    #[must_use]
    pub fn run_checks_when<V: Into<String>>(
        mut self,
        param: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.run_checks = RunChecks::WhenParam {
            param: param.into(),
            values: values.into_iter().map(Into::into).collect(),
        };
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

    /// Exactly these methods are answered (default `GET` and `HEAD`); others get 405 with
    /// `Allow`. `OPTIONS` among them is answered with 200 and `Allow`.
    #[must_use]
    pub fn methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods = Methods::only(methods);
        self
    }

    /// Every method is answered like `GET` (`HEAD` still gets no body).
    #[must_use]
    pub fn any_method(mut self) -> Self {
        self.methods = Methods::any();
        self
    }

    /// The HTTP status codes.
    #[must_use]
    pub fn status_codes(mut self, codes: StatusCodes) -> Self {
        self.codes = codes;
        self.own.codes = true;
        self
    }

    /// Adds a header to the answers whose status is warn (a non-critical check failing), such as
    /// `x-envoy-degraded`, which makes Envoy's active HTTP health check mark the host degraded:
    /// still healthy, but used only when too few hosts are not degraded.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use http::{HeaderName, HeaderValue, Request};
    /// use tower::ServiceExt;
    /// use tower_health::{Check, Endpoint, Health, HealthLayer};
    ///
    /// let health = Health::new();
    /// health.register(Check::new("cache", || async { false }).non_critical());
    /// let layer = HealthLayer::new().health(health).endpoint(Endpoint::new("/envoy").warn_header(
    ///     HeaderName::from_static("x-envoy-degraded"),
    ///     HeaderValue::from_static("true"),
    /// ));
    /// let service = tower::ServiceBuilder::new()
    ///     .layer(layer)
    ///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
    /// let response = service.oneshot(Request::get("/envoy").body(String::new()).unwrap()).await.unwrap();
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["x-envoy-degraded"], "true");
    /// # }
    /// ```
    #[must_use]
    pub fn warn_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.warn_headers.append(name, value);
        self.own.warn_headers = true;
        self
    }

    /// How much of the report each request sees (default
    /// [`Exposure::Names`](crate::Exposure::Names) for all): an [`Exposure`](crate::Exposure),
    /// or [`ExposurePolicy`] raising it for requests a predicate accepts.
    #[must_use]
    pub fn exposure(mut self, exposure: impl Into<ExposurePolicy>) -> Self {
        self.exposure = exposure.into();
        self.own.exposure = true;
        self
    }

    /// The response format.
    #[must_use]
    pub fn format(self, format: impl Format) -> Self {
        self.shared_format(Arc::new(format))
    }

    pub(crate) fn shared_format(mut self, format: Arc<dyn Format>) -> Self {
        self.format = format;
        self.own.format = true;
        self
    }

    /// Leaves 200 answers out of the per-request log; every other status is still logged.
    #[must_use]
    pub fn no_log(mut self) -> Self {
        self.no_log = true;
        self.own.no_log = true;
        self
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("path", &self.path)
            .field("subject", &self.subject)
            .field("gate", &self.gate)
            .field("maintenance", &self.maintenance)
            .field("run_checks", &self.run_checks)
            .field("codes", &self.codes)
            .field("exposure", &self.exposure)
            .finish_non_exhaustive()
    }
}
