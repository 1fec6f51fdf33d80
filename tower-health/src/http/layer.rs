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
///
/// A layer built with `new()` alone owns a [`Health`] handle with no checks whose state was
/// never set, so liveness and readiness simply pass; [`HealthLayer::health`] hands it the
/// application's handle instead.
///
/// # Endpoints
///
/// Under the prefix `/health` ([`prefix`](Self::prefix) moves them all):
///
/// | path | runs | gated by | maintenance |
/// |---|---|---|---|
/// | `/health` | every check | the working state | answers 503 |
/// | `/health/live` | the `live` group's checks | nothing | ignored |
/// | `/health/ready` | the `ready` group's checks | the working state | answers 503 |
/// | `/health/startup` | the `startup` group's checks | working reached once | ignored |
/// | `/health/{group}` | any other [group](crate::Group)'s checks | its declared gate (none by default) | as declared |
/// | `/health/{group}/{check}` | the checks of that group named `check` (404 if none) | nothing | ignored |
///
/// Matching is on the exact path, the query ignored: `/health/`, `/HEALTH`, `/healthz`,
/// `/health/ready/` and a path under the prefix that names no group (`/health/orders`) are not
/// health paths and reach the inner service (see [hostile input](#hostile-input)). Every answer
/// is `application/health+json` (draft-inadarei-api-health-check-06) with
/// `Cache-Control: no-store` and a `Content-Length`. `GET` and `HEAD` are answered (`HEAD`: the
/// same status and headers, no body); any other method gets `405` with `Allow: GET, HEAD` and
/// never reaches the inner service. Statuses map pass → 200, warn → 200, fail → 503 by default
/// ([`StatusCodes`]).
///
/// With [`Exposure::Messages`](crate::Exposure::Messages), an answer looks like:
///
/// ```json
/// {"status":"warn","output":"disk","checks":{
///   "postgres":[{"status":"pass","time":"2025-01-01T12:00:00.000Z"}],
///   "disk":[{"componentType":"system","observedValue":91,"observedUnit":"percent","status":"warn",
///            "time":"2025-01-01T12:00:00.000Z","output":"91% full"}]}}
/// ```
///
/// `output` appears only on warn and fail, and only at `Exposure::Messages` (see
/// [who sees what](ExposurePolicy)); absent fields are left out. The service fields come from
/// the format: `HealthLayer::new().format(HealthJson::new().version("1").release_id("1.2.3")
/// .service_id("orders").description("..."))` ([`HealthJson`](crate::format::HealthJson)).
/// Other paths, formats and exposure are [`Endpoint`]s of their own, added with
/// [`endpoint`](Self::endpoint); the [presets](crate::preset) answer as other packages do.
///
/// # Settings
///
/// `HealthLayer::new()` has the default endpoints; [`HealthLayer::with_endpoints`] has exactly
/// the endpoints given (such as a preset's) and no defaults.
///
/// | method | default | effect |
/// |---|---|---|
/// | [`health`](Self::health) | an own handle, no checks | serve the application's checks and state |
/// | [`prefix`](Self::prefix) | `/health` | where the default endpoints live |
/// | [`without_default_endpoints`](Self::without_default_endpoints) | defaults on | keep only endpoints added with `endpoint` |
/// | [`endpoint`](Self::endpoint), [`endpoints`](Self::endpoints) | none | add paths of its own (matched before the defaults, so one at a default path replaces it) |
/// | [`format`](Self::format) | [`HealthJson::new()`](crate::format::HealthJson::new) | the response writer; any `Fn(&Answer) -> Rendered` works ([`format`](crate::format)) |
/// | [`exposure`](Self::exposure) | [`Exposure::Names`](crate::Exposure::Names) for all | how much each request sees ([`ExposurePolicy`]) |
/// | [`status_codes`](Self::status_codes) | pass 200, warn 200, fail 503, maintenance 503, unknown check 404, errored = fail | status mapping ([`StatusCodes`]) |
/// | [`warn_header`](Self::warn_header) | none | a header on warn answers ([load balancers](#load-balancers)) |
/// | [`no_log`](Self::no_log) | off | leave 200 answers out of the per-request log ([logging](#logging)) |
/// | [`around`](Self::around) | | answer probes before another layer (an access log) sees them |
/// | [`grpc`](Self::grpc), [`grpc_watch_interval`](Self::grpc_watch_interval) (feature `grpc`) | off | also answer `grpc.health.v1.Health` ([`grpc`](mod@crate::grpc)) |
/// | [`metrics`](Self::metrics) | off | also answer `{prefix}/metrics` in the Prometheus text format |
///
/// What is set on the layer ([`exposure`](Self::exposure), [`format`](Self::format),
/// [`status_codes`](Self::status_codes), [`warn_header`](Self::warn_header),
/// [`no_log`](Self::no_log)) holds for every endpoint it serves, its default endpoints, the
/// presets' and those added with [`endpoint`](Self::endpoint), except where an endpoint sets
/// its own.
///
/// # Frameworks
///
/// The same layer value wraps any tower `Service` of HTTP requests, and answers health paths
/// even though no route exists for them:
///
/// - **axum**: `Router::layer(HealthLayer::new())`, also before `with_state`, around nested
///   routers and fallbacks.
/// - **hyper**: `ServiceBuilder::new().layer(HealthLayer::new()).service_fn(handler)` (or
///   `HealthLayer::new().layer(service)`), served with `TowerToHyperService` and hyper-util's
///   auto connection builder.
/// - **tonic**: `Server::builder().layer(HealthLayer::new())` answers the HTTP paths over
///   HTTP/2, and over HTTP/1.1 (what the kubelet's `httpGet` probes speak) with
///   `accept_http1(true)`; the [`grpc`](mod@crate::grpc) module has the gRPC health protocol.
///
/// The service is always ready: a probe is answered even while the application's own
/// concurrency limit or buffer is full; only pass-through requests wait for the inner service.
/// Each example listens on `127.0.0.1:$PORT` (`HOST` to change the address), prints what to try
/// and drains on SIGTERM: `cargo run --example axum` (axum 0.8, port 3000),
/// `cargo run --example hyper` (hyper 1 with hyper-util's auto builder, HTTP/1 and HTTP/2, port
/// 3001), `cargo run --example tonic --features grpc` (tonic 0.14, port 50051).
///
/// # Load balancers
///
/// Balancers that probe an HTTP path read only the status code and, for Envoy, one header; the
/// checks' warn (a non-critical check failing) needs saying in their terms. Both are opt-in:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{HeaderName, HeaderValue, Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_health::{Check, Endpoint, Health, HealthLayer, StatusCodes};
///
/// let health = Health::new();
/// health.register(Check::new("cache", || async { false }).non_critical());
/// let layer = HealthLayer::new()
///     .health(health)
///     // Envoy: warn answers 200 with `x-envoy-degraded`, and the host is marked degraded.
///     .warn_header(HeaderName::from_static("x-envoy-degraded"), HeaderValue::from_static("true"))
///     // Consul: 2xx passing, 429 warning, anything else critical.
///     .endpoint(Endpoint::new("/consul").status_codes(StatusCodes::consul()));
/// let service = tower::ServiceBuilder::new()
///     .layer(layer)
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let get = |path| Request::get(path).body(String::new()).unwrap();
///
/// let envoy = service.clone().oneshot(get("/health/ready")).await.unwrap();
/// assert_eq!(envoy.status(), StatusCode::OK);
/// assert_eq!(envoy.headers()["x-envoy-degraded"], "true");
/// let consul = service.oneshot(get("/consul")).await.unwrap();
/// assert_eq!(consul.status(), StatusCode::TOO_MANY_REQUESTS);
/// # }
/// ```
///
/// [`warn_header`](Self::warn_header) adds any header to warn answers
/// ([`Endpoint::warn_header`] for one endpoint); [`StatusCodes::consul()`] is the default codes
/// with warn as 429. `cargo run --example load_balancers --features grpc` serves both and gRPC
/// on one port.
///
/// | balancer | settings |
/// |---|---|
/// | Envoy, HTTP | `health_checks: [{http_health_check: {path: /health/ready}, interval, timeout, unhealthy_threshold, healthy_threshold}]`; 200 is healthy (`expected_statuses` default), 503 fails the host (`/failed_active_hc`), 200 with `x-envoy-degraded` marks it degraded (`/degraded_active_hc`: used only when too few hosts are not degraded). Set `no_traffic_interval` too: a cluster without traffic checks only every 60 s by default |
/// | Envoy, gRPC | `grpc_health_check: {service_name: ready}` (or `""`) on a cluster with `http2_protocol_options`; `SERVING` is healthy, anything else fails. gRPC has no degraded status: warn is `SERVING` |
/// | Consul | `check = { http = "http://127.0.0.1:3000/consul", interval = "5s", timeout = "1s" }` with `StatusCodes::consul()`; Consul's `success_before_passing` / `failures_before_critical` play the thresholds' part |
/// | AWS ALB/NLB, HAProxy, nginx | they read the status code: `/health/ready` as is (ALB matcher `200`, HAProxy `option httpchk GET /health/ready` + `http-check expect status 200`); warn stays 200, in rotation |
///
/// A real Envoy 1.40 health-checks the example over HTTP and gRPC in CI: both hosts healthy;
/// the non-critical check failing, the HTTP host `/degraded_active_hc` and the gRPC one healthy;
/// the critical check failing, both `/failed_active_hc`; both healthy again once the checks
/// recover.
///
/// # Logging
///
/// With `tracing`:
///
/// - each health request is one DEBUG event `health request` (target `tower_health::request`)
///   with `path`, `status` and `elapsed`;
/// - a change of outcome of the service, a group or a check is logged once as `health changed`
///   with `subject` (`service`, `group ready`, `check db`), `from` and `to`: at WARN when it
///   starts failing, with `reason` naming the failing checks (or the check's message); at INFO
///   when it recovers or degrades, with `was` naming what had failed. Repeated probes with the
///   same outcome log nothing more ([`Change`](crate::Change) has the same events in code);
/// - [`no_log`](Self::no_log) drops the per-request event of 200 answers; every other status
///   (503, 404, 405, a 299) is still logged, and so are changes.
///
/// `no_log` quiets the layer's own event; what floods logs is an access log outside it:
/// [`around`](Self::around) keeps probes out of it. Check runs, their spans and the slow-run
/// warning are under [`metrics`](Self::metrics).
///
/// # Hostile input
///
/// The layer compares the request path **byte for byte** with its configured paths: no
/// percent-decoding, no case folding, no dot-segment or slash normalisation, query ignored. Only
/// the check name of a named path (the last segment) is percent-decoded, so
/// `/health/ready/my%20db` and `/healthz/caf%C3%A9` ask for the checks `my db` and `café`; a
/// name that does not decode to UTF-8 (`/healthz/%FF`) or names no check answers as an unknown
/// name (404). So with the default prefix, exactly `/health`, `/health/{group}` for a group that
/// exists (its name as written, not decoded) and `/health/{group}/{name}` (one non-empty segment
/// each) are health paths; `//health`, `/health/../health`, `/health/./ready`, `/HEALTH`,
/// `/health/`, `/health/ready/`, `/health/%72eady` and `/health;x` are not, and reach the inner
/// service exactly as sent. An absolute-form target (`GET http://host/health/ready`, which
/// HTTP/1.1 servers must accept) is matched on its path, like axum and hyper route it, so it is
/// a health path; an authority-form or `*` target never is. A proxy in front that normalises
/// paths may turn a non-health path into a health path; that is the proxy's routing, and it does
/// not change what the layer does.
///
/// What else the layer guarantees, each tested over a real socket and by a property test over
/// generated requests:
///
/// - Query strings: at most 64 parameters are read, the rest ignored; repeated and empty
///   parameters are harmless; invalid percent escapes and invalid UTF-8 are decoded leniently
///   (replacement characters), never rejected with an error. Very long paths and queries are
///   bounded by the server's request-head limit (hyper refuses larger heads with a 4xx before
///   the layer sees them); invalid bytes in the request line are refused by the server with 400.
/// - Methods: any method other than those an endpoint takes (including extension methods and a
///   lowercase `get`) gets 405 with `Allow`, without running a check.
/// - Bodies: a health answer never waits for the request body. Only an endpoint that reads its
///   parameters from a form reads one, at most 8 KiB and for at most one second; a larger or
///   slower body is ignored, not buffered. Slow clients hold only their own connection.
/// - A health request never reaches the inner service, and a pass-through request reaches it
///   untouched (same method, URI, headers and body).
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
    /// assert_eq!(app.clone().oneshot(probe).await.unwrap().status(), StatusCode::OK);
    /// let page = Request::get("/").body(Body::empty()).unwrap();
    /// assert_eq!(app.oneshot(page).await.unwrap().status(), StatusCode::OK);
    /// # }
    /// ```
    ///
    /// [`no_log`](Self::no_log) quiets the layer's own event; what floods logs is an access log
    /// outside it. Without `around`, the order of the layers decides: in axum, each `.layer()`
    /// call wraps everything added before it, so the layer added **last** sees requests
    /// **first**.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use tower_health::HealthLayer;
    /// use tower_http::trace::TraceLayer;
    ///
    /// // Probes are answered before the trace layer: they never reach it (no spans, no log).
    /// let quiet: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(TraceLayer::new_for_http())
    ///     .layer(HealthLayer::new());
    ///
    /// // Probes pass through the trace layer first: they are traced like any request.
    /// let traced: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(HealthLayer::new())
    ///     .layer(TraceLayer::new_for_http());
    /// ```
    ///
    /// With `tower::ServiceBuilder` the order is the other way round: layers listed first are
    /// outermost, so
    /// `ServiceBuilder::new().layer(HealthLayer::new()).layer(TraceLayer::new_for_http())` keeps
    /// probes out of the trace.
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

    /// Also answers `{prefix}/metrics` (`/health/metrics` by default) with the health figures in
    /// the Prometheus text format.
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
    ///
    /// The answer is in the Prometheus text format (`text/plain; version=0.0.4`), or in
    /// OpenMetrics 1.0.0 (`application/openmetrics-text; version=1.0.0`, ending in `# EOF`) when
    /// the `Accept` header ranks it above the text format, as Prometheus's scrapes do. It needs no
    /// dependency of its own. A scrape only reads the figures: it runs no check, so statuses are
    /// those of the latest runs (on request or in the background) and evaluations (probes).
    ///
    /// The path is matched before the group endpoints, so a group named `metrics` is not answered
    /// at `{prefix}/metrics` (its checks still are, at `{prefix}/metrics/{check}`); an endpoint
    /// added with [`HealthLayer::endpoint`] at that path wins over both. `cargo run --example
    /// metrics` serves one (`POST /toggle` flips its `database` check).
    ///
    /// | family | type | labels | value |
    /// |---|---|---|---|
    /// | `tower_health_check_status` | gauge | `check`, `group` | the status recorded for the check's name (the worst contribution of its latest results): 0 pass, 1 warn, 2 fail; one series per group the check belongs to |
    /// | `tower_health_check_runs_total` | counter | `check`, `outcome` | runs by outcome: `pass`, `warn`, `fail` (thresholds applied), `timeout`, `panic` |
    /// | `tower_health_check_duration_seconds` | histogram | `check` | run durations, buckets 1 ms to 10 s |
    /// | `tower_health_group_status` | gauge | `group` | the group's status at its last complete evaluation, 0/1/2 |
    /// | `tower_health_service_status` | gauge | none | the service's (`/health`'s) status at its last complete evaluation, 0/1/2 |
    /// | `tower_health_requests_total` | counter | `endpoint`, `code` | answers of each of the layer's health endpoints by HTTP status code; `endpoint` is the path pattern (`/health`, `/health/{group}`, `/livez`, `/health/metrics`) |
    ///
    /// Statuses are numbers ordered like [`Status`](crate::Status), so `max by (group)` adds
    /// them up as an evaluation does, and an alert on `tower_health_check_status == 2` fires on a
    /// failing check. The Kubernetes API server's `kubernetes_healthcheck{name,type}` (1 healthy,
    /// 0 not) is `tower_health_check_status{check,group} == 0`, its `type` (`livez`, `readyz`,
    /// `healthz`) being the `group` here; `kubernetes_healthchecks_total{name,type,status}`
    /// counts probes per check, which is `tower_health_check_runs_total{check,outcome}` here:
    /// runs, not probes (a cached result answers many probes with one run), and without `group`
    /// (one run serves every group).
    ///
    /// # Who sees the names
    ///
    /// Check and group names are labels, so the layer's [`exposure`](Self::exposure) decides
    /// who sees them: a request below [`Exposure::Names`](crate::Exposure::Names) gets the
    /// service's status and the request counts only. A Prometheus scraping an endpoint that is
    /// status-only for strangers authenticates as an operator does (a bearer token in the
    /// scrape config's `authorization`, with [`authorize::bearer`](crate::authorize::bearer)) or
    /// scrapes from a network [`authorize::peer_in`](crate::authorize::peer_in) accepts.
    ///
    /// # Cardinality
    ///
    /// Labels are check and group names, endpoint path patterns, outcomes and status codes, never
    /// messages. With C check names, G groups and E endpoints: at most C×G status series, 5C run
    /// series, 15C histogram series (13 buckets, sum, count), G group series, one service series
    /// and about 3E request series (at most 16 codes per endpoint). A deregistered check's series
    /// disappear from the endpoint with it, and a group whose last check is deregistered leaves
    /// it.
    ///
    /// # The `metrics` facade
    ///
    /// With the feature `metrics`, the same families are also recorded through the
    /// [`metrics`](https://docs.rs/metrics/0.24) facade (0.24) as they change, once a
    /// `HealthLayer` or a [`GrpcHealth`](crate::grpc::GrpcHealth) serves the handle, so an
    /// application that already runs `metrics-exporter-prometheus` or an OpenTelemetry bridge
    /// sees them next to its own, with no endpoint of ours. `metrics` is the facade most Rust
    /// services record through and leaves the choice of exporter to the application;
    /// `prometheus-client` would impose its own registry and exposition, and `opentelemetry` its
    /// SDK and pipeline, on every user. A facade cannot remove a series, so a deregistered check's
    /// series stay until the exporter's idle timeout (`PrometheusBuilder::idle_timeout`) drops
    /// them.
    ///
    /// # Traces
    ///
    /// Each run of a check is an INFO span `health_check` with `check`, `groups`
    /// (comma-separated), `outcome` and `duration_seconds`; the check's own events nest in it. A
    /// run a request triggered is a child of that request's span (requests that join a run in
    /// flight share it; the run is a spawned task, so the parent is carried explicitly), and a
    /// background run is a root. The layer makes no span for a probe itself, so probes stay out
    /// of traces unless the application puts them behind a trace layer (see
    /// [`around`](Self::around)).
    ///
    /// A run that takes longer than [`Health::set_slow_threshold`]`(Some(duration))` (default
    /// 10 s, Spring Boot's slow-indicator threshold; `None` turns it off) logs one WARN
    /// `health check is slow` with `check` and `duration`, then nothing more for that check until
    /// a run is fast again (an INFO `health check is fast again`).
    ///
    /// [`HealthJson::durations`](crate::format::HealthJson::durations) adds each check's last run
    /// duration in seconds (`duration`) to its health+json entry, where the exposure policy
    /// allows.
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
