//! The [`HealthLayer`]: which endpoints a layer answers, and from which [`Health`] handle.

use std::fmt;
use std::sync::{Arc, OnceLock};

use tower_layer::{Layer, Stack};

use super::answer::EndpointHandler;
use super::history::HistoryHandler;
use super::metrics::MetricsHandler;
use super::routes::Routes;
use super::service::HealthService;
use crate::endpoint::{Defaults, Endpoint, ExposurePolicy, StatusCodes};
use crate::format::Format;
use crate::health::{HISTORY_LEN, Health};
use crate::metrics::RequestCounts;

/// A [`Layer`] that answers health probes and passes every other request to the inner service.
///
/// By default it answers, under the prefix `/health`:
///
/// | path | checks | gated by |
/// |---|---|---|
/// | `/health` | all | working state, maintenance |
/// | `/health/{group}` | the group's: `live`, `ready`, `startup` and every other group | the group's gate |
/// | `/health/{group}/{check}` | the checks of that name in the group | nothing |
///
/// A path under the prefix that names no group passes through to the inner service.
///
/// A layer built with `new()` alone owns a [`Health`] handle with no checks, whose gates step
/// aside until a state is set, so liveness and readiness simply pass; [`HealthLayer::health`]
/// hands it the application's handle instead.
///
/// What is set on the layer ([`exposure`](Self::exposure), [`format`](Self::format),
/// [`status_codes`](Self::status_codes), [`warn_header`](Self::warn_header),
/// [`no_log`](Self::no_log)) holds for every endpoint it serves, its default endpoints, the
/// presets' and those added with [`endpoint`](Self::endpoint), except where an endpoint sets
/// its own.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{Request, Response, StatusCode};
/// use tower::{ServiceBuilder, ServiceExt};
/// use tower_health::{Check, Health, HealthLayer};
///
/// let health = Health::new();
/// health.register(Check::new("postgres", || async { true }).readiness().group("database"));
/// let service = ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health))
///     .service_fn(|_: Request<String>| async { Ok::<_, std::convert::Infallible>(Response::new(String::from("app"))) });
/// for (path, status) in [
///     ("/health/ready", StatusCode::OK),
///     ("/health/database/postgres", StatusCode::OK),
///     ("/health/database/nope", StatusCode::NOT_FOUND),
/// ] {
///     let request = Request::get(path).body(String::new()).unwrap();
///     assert_eq!(service.clone().oneshot(request).await.unwrap().status(), status, "{path}");
/// }
/// // No group is named `orders`: the application answers.
/// let request = Request::get("/health/orders").body(String::new()).unwrap();
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// # }
/// ```
#[derive(Clone)]
pub struct HealthLayer {
    health: Health,
    config: Arc<Config>,
}

#[derive(Clone, Default)]
struct Config {
    defaults: Defaults,
    endpoints: Vec<Endpoint>,
    #[cfg(feature = "grpc")]
    grpc: Option<std::time::Duration>,
    metrics: bool,
    history: bool,
    #[cfg(feature = "ui")]
    page: bool,
    routes: OnceLock<Arc<Routes>>,
}

impl Default for HealthLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthLayer {
    /// The layer with its default endpoints and a [`Health`] handle of its own.
    pub fn new() -> Self {
        HealthLayer {
            health: Health::new(),
            config: Arc::default(),
        }
    }

    /// A layer answering exactly `endpoints` (such as a [preset](crate::preset)), without the
    /// default ones: every other path reaches the inner service.
    ///
    /// ```
    /// use tower_health::{HealthLayer, preset};
    ///
    /// let layer = HealthLayer::with_endpoints(preset::FlaskHealthz::new());
    /// ```
    pub fn with_endpoints(endpoints: impl IntoIterator<Item = Endpoint>) -> Self {
        Self::new().without_default_endpoints().endpoints(endpoints)
    }

    fn configure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        let config = Arc::make_mut(&mut self.config);
        f(config);
        config.routes = OnceLock::new();
        self
    }

    /// Serves the checks and state of `health`, the application's handle.
    #[must_use]
    pub fn health(mut self, health: Health) -> Self {
        self.health = health;
        self
    }

    /// The handle this layer serves.
    pub fn handle(&self) -> &Health {
        &self.health
    }

    /// Moves the default endpoints under `prefix` (default `/health`).
    ///
    /// # Panics
    ///
    /// When `prefix` is empty or `/`: the service endpoint would have no path, and the group
    /// endpoints would take over one-segment paths of the application.
    #[must_use]
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into().trim_end_matches('/').to_owned();
        assert!(
            !prefix.is_empty(),
            "the health prefix must not be empty or `/`: the default endpoints need a path of their own"
        );
        self.configure(|config| config.defaults.prefix = prefix)
    }

    /// Leaves out the default endpoints (keep only those added with [`HealthLayer::endpoint`]).
    #[must_use]
    pub fn without_default_endpoints(self) -> Self {
        self.configure(|config| config.defaults.enabled = false)
    }

    /// The response format (default [`HealthJson`](crate::format::HealthJson)) of every
    /// endpoint on this layer that does not set its own.
    #[must_use]
    pub fn format(self, format: impl Format) -> Self {
        self.configure(|config| config.defaults.format = Arc::new(format))
    }

    /// How much of the report each request sees (default
    /// [`Exposure::Names`](crate::Exposure::Names) for all; see [`ExposurePolicy`]), on every
    /// endpoint on this layer that does not set its own: the defaults, presets and added
    /// endpoints alike.
    #[must_use]
    pub fn exposure(self, exposure: impl Into<ExposurePolicy>) -> Self {
        let exposure = exposure.into();
        self.configure(|config| config.defaults.exposure = exposure)
    }

    /// The status codes of every endpoint on this layer that does not set its own (presets
    /// set their packages' codes).
    #[must_use]
    pub fn status_codes(self, codes: StatusCodes) -> Self {
        self.configure(|config| config.defaults.codes = codes)
    }

    /// Adds a header to the warn answers, such as `x-envoy-degraded` for Envoy (see
    /// [`Endpoint::warn_header`]), of every endpoint on this layer that sets no warn header of
    /// its own.
    #[must_use]
    pub fn warn_header(self, name: http::HeaderName, value: http::HeaderValue) -> Self {
        self.configure(|config| {
            config.defaults.warn_headers.append(name, value);
        })
    }

    /// Leaves 200 answers out of the per-request log, on every endpoint on this layer that does
    /// not set it itself.
    #[must_use]
    pub fn no_log(self) -> Self {
        self.configure(|config| config.defaults.no_log = true)
    }

    /// This layer around `layer`, as one layer: health requests are answered before they reach
    /// `layer`, every other request passes through it. An access log (tower-http's
    /// `TraceLayer`), a metrics layer or a rate limiter given here never sees a probe, wherever
    /// the application adds the pair; the health answers are the same.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use axum::{Router, body::Body, routing::get};
    /// use http::{Request, StatusCode};
    /// use tower::ServiceExt;
    /// use tower_health::HealthLayer;
    /// use tower_http::trace::TraceLayer;
    ///
    /// // Probes are answered outside the access log; `/` is traced.
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(HealthLayer::new().around(TraceLayer::new_for_http()));
    /// let probe = Request::get("/health/live").body(Body::empty()).unwrap();
    /// assert_eq!(app.oneshot(probe).await.unwrap().status(), StatusCode::OK);
    /// # }
    /// ```
    pub fn around<L>(self, layer: L) -> Stack<L, HealthLayer> {
        Stack::new(layer, self)
    }

    /// Adds an endpoint, matched after those added before it and before the defaults (so an
    /// endpoint at a default path, such as `/health`, replaces the default one).
    #[must_use]
    pub fn endpoint(self, endpoint: Endpoint) -> Self {
        self.configure(|config| config.endpoints.push(endpoint))
    }

    /// Adds several endpoints, such as a [preset](crate::preset), in order.
    ///
    /// ```
    /// use tower_health::{HealthLayer, preset};
    ///
    /// // Kubernetes paths next to the default `/health` endpoints.
    /// let layer = HealthLayer::new().endpoints(preset::Kubernetes::new());
    /// ```
    #[must_use]
    pub fn endpoints(self, endpoints: impl IntoIterator<Item = Endpoint>) -> Self {
        self.configure(|config| config.endpoints.extend(endpoints))
    }

    /// Also answers `{prefix}/history` (`/health/history` by default) with each check's recent
    /// history as JSON, and `{prefix}/history/{check}` with that of the checks of one name:
    /// per check its status, runs, `transitions` (how often the status changed: a flapping check
    /// has many), `since` and `secondsInStatus`, `lastPass`, `lastFailure`, and its last results
    /// (`status`, `time`, `durationMs`), oldest first. Reading it runs no check.
    ///
    /// The handle keeps the last 60 results of each check unless
    /// [`Health::keep_history`] set a length. The layer's [`exposure`](Self::exposure) decides
    /// what a request sees: below [`Exposure::Names`](crate::Exposure::Names) only the
    /// aggregate `status` of the latest results; below [`Exposure::Messages`](crate::Exposure::Messages)
    /// no message. Matched before the group endpoints, like [`metrics`](Self::metrics).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use http::Request;
    /// use http_body_util::BodyExt;
    /// use tower::ServiceExt;
    /// use tower_health::{Check, Health, HealthLayer};
    ///
    /// let health = Health::new();
    /// health.register(Check::new("db", || async { Err::<(), _>("connection refused") }));
    /// let service = tower::ServiceBuilder::new()
    ///     .layer(HealthLayer::new().health(health).history())
    ///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
    /// let get = |path: &str| Request::get(path).body(String::new()).unwrap();
    /// service.clone().oneshot(get("/health/ready")).await.unwrap();
    /// let body = service.oneshot(get("/health/history")).await.unwrap().into_body();
    /// let history: serde_json::Value =
    ///     serde_json::from_slice(&body.collect().await.unwrap().to_bytes()).unwrap();
    /// assert_eq!(history["checks"][0]["name"], "db");
    /// assert_eq!(history["checks"][0]["results"][0]["status"], "fail");
    /// // Names by default, never the message.
    /// assert!(history["checks"][0]["results"][0].get("message").is_none());
    /// # }
    /// ```
    #[must_use]
    pub fn history(self) -> Self {
        self.configure(|config| config.history = true)
    }

    /// Also answers `{prefix}/ui` (`/health/ui` by default) with a status page: the overall
    /// status and each group's, and for each check its status, a strip of its last results in
    /// colour, its durations as a line, how long it has been in its status and, where the
    /// exposure allows messages, its last failure. One HTML answer, rendered here: no script,
    /// no style sheet, nothing fetched; it sends `Content-Security-Policy: default-src 'none'`
    /// and reloads itself every 5 seconds. Every name and message is escaped. It keeps the
    /// history as [`history`](Self::history) does (without serving the JSON) and follows the
    /// layer's [`exposure`](Self::exposure): below names, the overall status alone.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use http::Request;
    /// use http_body_util::BodyExt;
    /// use tower::ServiceExt;
    /// use tower_health::{Check, Health, HealthLayer};
    ///
    /// let health = Health::new();
    /// health.register(Check::new("db", || async { true }));
    /// let service = tower::ServiceBuilder::new()
    ///     .layer(HealthLayer::new().health(health).status_page())
    ///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
    /// let get = |path: &str| Request::get(path).body(String::new()).unwrap();
    /// service.clone().oneshot(get("/health/ready")).await.unwrap();
    /// let page = service.oneshot(get("/health/ui")).await.unwrap();
    /// assert_eq!(page.headers()["content-security-policy"].to_str().unwrap().split(';').next(), Some("default-src 'none'"));
    /// let html = page.into_body().collect().await.unwrap().to_bytes();
    /// assert!(String::from_utf8_lossy(&html).contains("<title>Health: pass</title>"));
    /// # }
    /// ```
    #[cfg(feature = "ui")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ui")))]
    #[must_use]
    pub fn status_page(self) -> Self {
        self.configure(|config| config.page = true)
    }

    /// Also answers `{prefix}/metrics` (`/health/metrics` by default) with the health figures
    /// in the Prometheus text format, or in OpenMetrics when the `Accept` header prefers it (as
    /// Prometheus's scrapes do): each check's status in each of its groups, its runs by outcome
    /// and their durations, each group's and the service's status, and the requests each of
    /// this layer's health endpoints answered by status code. The README lists the families.
    ///
    /// The path is matched before the group endpoints: a group named `metrics` is then not
    /// answered at `{prefix}/metrics` (its checks still are, at `{prefix}/metrics/{check}`).
    /// Endpoints added with [`HealthLayer::endpoint`] are matched before it. A scrape runs no
    /// check: the statuses are those of the latest runs and evaluations.
    ///
    /// Check and group names are labels, so the layer's [`exposure`](Self::exposure) decides
    /// who sees them: a request below [`Exposure::Names`](crate::Exposure::Names) gets the
    /// service's status and the request counts only. A Prometheus scraping an endpoint that is
    /// status-only for strangers authenticates as an operator does (a bearer token in the
    /// scrape config's `authorization`, with [`authorize::bearer`](crate::authorize::bearer)) or
    /// scrapes from a network [`authorize::peer_in`](crate::authorize::peer_in) accepts.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use http::Request;
    /// use http_body_util::BodyExt;
    /// use tower::ServiceExt;
    /// use tower_health::{Check, Health, HealthLayer};
    ///
    /// let health = Health::new();
    /// health.register(Check::new("database", || async { true }));
    /// let service = tower::ServiceBuilder::new()
    ///     .layer(HealthLayer::new().health(health).metrics())
    ///     .service_fn(|_: Request<String>| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
    /// let get = |path| Request::get(path).body(String::new()).unwrap();
    /// service.clone().oneshot(get("/health/ready")).await.unwrap();
    /// let response = service.oneshot(get("/health/metrics")).await.unwrap();
    /// assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    /// let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    /// assert!(text.contains("tower_health_check_status{check=\"database\",group=\"ready\"} 0\n"));
    /// assert!(text.contains("tower_health_check_runs_total{check=\"database\",outcome=\"pass\"} 1\n"));
    /// assert!(text.contains("tower_health_requests_total{endpoint=\"/health/{group}\",code=\"200\"} 1\n"));
    /// # }
    /// ```
    #[must_use]
    pub fn metrics(self) -> Self {
        self.configure(|config| config.metrics = true)
    }

    /// Also answers the gRPC health protocol, `grpc.health.v1.Health` `Check`, `Watch` and `List`, from
    /// this layer's [`Health`] handle (see the [`grpc`](crate::grpc) module). Feature `grpc`.
    ///
    /// ```
    /// use tower_health::HealthLayer;
    ///
    /// let layer = HealthLayer::new().grpc();
    /// // tonic::transport::Server::builder().layer(layer) ...
    /// # drop(layer);
    /// ```
    #[cfg(feature = "grpc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "grpc")))]
    #[must_use]
    pub fn grpc(self) -> Self {
        self.grpc_watch_interval(crate::grpc::GrpcHealth::DEFAULT_WATCH_INTERVAL)
    }

    /// [`HealthLayer::grpc`] with open `Watch` streams re-evaluating every `interval`.
    #[cfg(feature = "grpc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "grpc")))]
    #[must_use]
    pub fn grpc_watch_interval(self, interval: std::time::Duration) -> Self {
        self.configure(|config| config.grpc = Some(interval))
    }

    /// The first path this layer answers, for logs that name one.
    #[cfg_attr(not(feature = "listener"), allow(dead_code))]
    pub(crate) fn first_path(&self) -> String {
        let config = &self.config;
        match config.endpoints.first() {
            Some(endpoint) => endpoint.path.template(),
            None => config.defaults.prefix.clone(),
        }
    }

    fn routes(&self) -> Arc<Routes> {
        self.config
            .routes
            .get_or_init(|| Arc::new(self.config.build_routes()))
            .clone()
    }
}

impl Config {
    /// Whether something this layer serves shows the checks' history.
    fn keeps_history(&self) -> bool {
        #[cfg(feature = "ui")]
        if self.page {
            return true;
        }
        self.history
    }

    fn build_routes(&self) -> Routes {
        // Answers are counted where something reads the counts: the metrics endpoint, or the
        // `metrics` facade.
        let counted = self.metrics || cfg!(feature = "metrics");
        let handler = |endpoint: Endpoint| {
            let counts = counted.then(|| Arc::new(RequestCounts::new(endpoint.path.template())));
            EndpointHandler::new(endpoint, counts)
        };
        let inherit = |endpoint: Endpoint| handler(endpoint.inherit(&self.defaults));
        let added: Vec<EndpointHandler> = self.endpoints.iter().cloned().map(inherit).collect();
        let defaults: Vec<EndpointHandler> =
            self.defaults.endpoints().into_iter().map(inherit).collect();
        let metrics = self.metrics.then(|| {
            let counts = added
                .iter()
                .chain(&defaults)
                .filter_map(|h| h.counts().cloned());
            MetricsHandler::new(
                &self.defaults.prefix,
                counts,
                self.defaults.exposure.clone(),
            )
        });
        let mut routes = Routes::default();
        for handler in added {
            routes.push(handler.endpoint().path.clone(), Arc::new(handler));
        }
        // Before the default endpoints, so that the group route does not take their paths.
        if let Some(metrics) = metrics {
            routes.push(metrics.path.clone(), Arc::new(metrics));
        }
        #[cfg(feature = "ui")]
        if self.page {
            let page = super::page::PageHandler::new(
                &self.defaults.prefix,
                self.defaults.exposure.clone(),
            );
            routes.push(page.path.clone(), Arc::new(page));
        }
        if self.history {
            let prefix = &self.defaults.prefix;
            for (pattern, handler) in HistoryHandler::routes(prefix, self.defaults.exposure.clone())
            {
                routes.push(pattern, handler);
            }
        }
        for handler in defaults {
            routes.push(handler.endpoint().path.clone(), Arc::new(handler));
        }
        #[cfg(feature = "grpc")]
        if let Some(interval) = self.grpc {
            let (pattern, handler) = super::grpc::route(interval);
            routes.push(pattern, handler);
        }
        routes
    }
}

impl fmt::Debug for HealthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthLayer")
            .field("health", &self.health)
            .field("prefix", &self.config.defaults.prefix)
            .field("endpoints", &self.config.endpoints)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for HealthLayer {
    type Service = HealthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        #[cfg(feature = "metrics")]
        crate::metrics::observe(&self.health);
        if self.config.keeps_history() && self.health.registry().history_len() == 0 {
            self.health.keep_history(HISTORY_LEN);
        }
        HealthService::new(inner, self.health.clone(), self.routes())
    }
}
