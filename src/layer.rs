//! The [`HealthLayer`] and its [`HealthService`]: answer health paths, pass everything else on.
//!
//! ```
//! use axum::{Router, routing::get};
//! use tower_health::{Check, Health, HealthLayer, State};
//!
//! let health = Health::new();
//! health.register(Check::new("db", || async { Ok::<(), std::io::Error>(()) }));
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(HealthLayer::new().health(health.clone()));
//! health.set_state(State::Working);
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use futures_util::future::BoxFuture;
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::{HealthBody, Payload};
use crate::check::Probe;
use crate::endpoint::{Details, Endpoint, StatusCodes};
use crate::format::{Format, HealthJson};
use crate::health::{Health, State};
use crate::route::{
    BoxError, Handler, MethodDecision, PathPattern, Routes, health_request, method_response,
};

/// A [`Layer`] that answers health probes and passes every other request to the inner service.
///
/// By default it answers, under the prefix `/health`:
///
/// | path | checks | gated by |
/// |---|---|---|
/// | `/health` | all | working state, maintenance |
/// | `/health/live` | liveness | nothing |
/// | `/health/ready` | readiness | working state, maintenance |
/// | `/health/startup` | startup | working state reached once |
/// | `/health/{live,ready,startup}/{name}` | that check of that probe | nothing |
///
/// A layer built with `new()` alone owns a [`Health`] handle in the working state, so liveness and
/// readiness simply pass; [`HealthLayer::health`] hands it the application's handle instead.
#[derive(Clone)]
pub struct HealthLayer {
    health: Health,
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    prefix: String,
    default_endpoints: bool,
    format: Arc<dyn Format>,
    details: Details,
    codes: StatusCodes,
    quiet: bool,
    endpoints: Vec<Endpoint>,
    handlers: Vec<(PathPattern, Arc<dyn Handler>)>,
    routes: OnceLock<Arc<Routes>>,
}

impl Default for HealthLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthLayer {
    /// The layer with its default endpoints and a [`Health`] handle of its own, working.
    pub fn new() -> Self {
        HealthLayer {
            health: Health::with_state(State::Working),
            config: Arc::new(Config {
                prefix: "/health".to_owned(),
                default_endpoints: true,
                format: Arc::new(HealthJson::new()),
                details: Details::Never,
                codes: StatusCodes::default(),
                quiet: false,
                endpoints: Vec::new(),
                handlers: Vec::new(),
                routes: OnceLock::new(),
            }),
        }
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
    /// When `prefix` is empty or `/`: the detailed endpoint would have no path, and the
    /// single-check endpoints would take over one-segment paths of the application.
    #[must_use]
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into().trim_end_matches('/').to_owned();
        assert!(
            !prefix.is_empty(),
            "the health prefix must not be empty or `/`: the default endpoints need a path of their own"
        );
        self.configure(|config| config.prefix = prefix)
    }

    /// Leaves out the default endpoints (keep only those added with [`HealthLayer::endpoint`]).
    #[must_use]
    pub fn without_default_endpoints(self) -> Self {
        self.configure(|config| config.default_endpoints = false)
    }

    /// The format of the default endpoints (default [`HealthJson`]).
    #[must_use]
    pub fn format(self, format: impl Format) -> Self {
        self.configure(|config| config.format = Arc::new(format))
    }

    /// The details policy of the default endpoints (default [`Details::Never`]).
    #[must_use]
    pub fn details(self, details: Details) -> Self {
        self.configure(|config| config.details = details)
    }

    /// The status codes of the default endpoints.
    #[must_use]
    pub fn status_codes(self, codes: StatusCodes) -> Self {
        self.configure(|config| config.codes = codes)
    }

    /// The status the default endpoints answer in maintenance mode (default 299).
    #[must_use]
    pub fn maintenance_status(self, status: StatusCode) -> Self {
        self.configure(|config| config.codes.maintenance = status)
    }

    /// Leaves 200 answers of the default endpoints out of the per-request log.
    #[must_use]
    pub fn no_log(self) -> Self {
        self.configure(|config| config.quiet = true)
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
    /// // Kubernetes and heartbeat paths side by side, next to the default `/health` endpoints.
    /// let layer = HealthLayer::new()
    ///     .endpoints(preset::Kubernetes::new())
    ///     .endpoints(preset::Heartbeat::new());
    /// ```
    #[must_use]
    pub fn endpoints(self, endpoints: impl IntoIterator<Item = Endpoint>) -> Self {
        self.configure(|config| config.endpoints.extend(endpoints))
    }

    /// Adds a handler of its own kind (such as a protocol) for `pattern`, replacing the one
    /// added before for the same pattern.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))] // used by protocol integrations
    pub(crate) fn handler(self, pattern: PathPattern, handler: Arc<dyn Handler>) -> Self {
        self.configure(|config| {
            config.handlers.retain(|(existing, _)| *existing != pattern);
            config.handlers.push((pattern, handler));
        })
    }

    /// The first path this layer answers, for logs that name one.
    #[allow(dead_code)] // used by the standalone listener
    pub(crate) fn first_path(&self) -> String {
        let config = &self.config;
        match config.endpoints.first().map(|endpoint| &endpoint.path) {
            Some(PathPattern::Exact(path)) => path.to_string(),
            Some(PathPattern::Named(prefix)) => format!("{prefix}/{{name}}"),
            None => config.prefix.clone(),
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
    fn default_endpoints(&self) -> Vec<Endpoint> {
        let prefix = &self.prefix;
        let mut endpoints = vec![Endpoint::service(prefix.clone())];
        for probe in Probe::ALL {
            endpoints.push(Endpoint::probe(
                format!("{prefix}/{}", probe.path_segment()),
                probe,
            ));
        }
        for probe in Probe::ALL {
            endpoints.push(
                Endpoint::named(format!("{prefix}/{}", probe.path_segment()))
                    .checks(crate::Checks::Probe(probe)),
            );
        }
        endpoints
            .into_iter()
            .map(|endpoint| {
                let endpoint = endpoint
                    .shared_format(self.format.clone())
                    .details(self.details.clone())
                    .status_codes(self.codes);
                if self.quiet {
                    endpoint.no_log()
                } else {
                    endpoint
                }
            })
            .collect()
    }

    fn build_routes(&self) -> Routes {
        let defaults = if self.default_endpoints {
            self.default_endpoints()
        } else {
            Vec::new()
        };
        let mut routes = Routes::default();
        for endpoint in self.endpoints.iter().cloned().chain(defaults) {
            routes.push(endpoint.path.clone(), Arc::new(endpoint));
        }
        for (pattern, handler) in &self.handlers {
            routes.push(pattern.clone(), handler.clone());
        }
        routes
    }
}

impl fmt::Debug for HealthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthLayer")
            .field("health", &self.health)
            .field("prefix", &self.config.prefix)
            .field("endpoints", &self.config.endpoints)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for HealthLayer {
    type Service = HealthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HealthService {
            inner,
            inner_ready: false,
            shared: Arc::new(Shared {
                health: self.health.clone(),
                routes: self.routes(),
            }),
        }
    }
}

/// The service [`HealthLayer`] makes: answers health paths, passes everything else on.
pub struct HealthService<S> {
    inner: S,
    inner_ready: bool,
    // One `Arc`, so the clone that servers make per request costs one reference count.
    shared: Arc<Shared>,
}

struct Shared {
    health: Health,
    routes: Arc<Routes>,
}

impl<S> HealthService<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone> Clone for HealthService<S> {
    fn clone(&self) -> Self {
        HealthService {
            inner: self.inner.clone(),
            // Readiness is not cloned with the service: the clone must ask for its own.
            inner_ready: false,
            shared: self.shared.clone(),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for HealthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthService")
            .field("inner", &self.inner)
            .field("health", &self.shared.health)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HealthService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<HealthBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, Request<ReqBody>>;

    /// Always ready: a health request must not wait on the application's backpressure. Pass-through
    /// requests wait for the inner service in their future when it was not ready here.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if !self.inner_ready {
            match self.inner.poll_ready(cx) {
                Poll::Ready(Ok(())) => self.inner_ready = true,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {}
            }
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if let Some((route, name)) = self.shared.routes.find(request.uri().path()) {
            let handler = route.handler.clone();
            let name = (!name.is_empty()).then(|| decode_name(name));
            // The path and start time are kept only when the answer may be logged.
            let log = tracing::enabled!(tracing::Level::DEBUG)
                .then(|| Box::new((Box::<str>::from(request.uri().path()), Instant::now())));
            let future = match handler.methods().decide(request.method()) {
                MethodDecision::Answer => handler
                    .clone()
                    .handle(self.shared.health.clone(), health_request(request, name)),
                MethodDecision::Options => Box::pin(std::future::ready(method_response(
                    StatusCode::OK,
                    handler.methods(),
                ))),
                MethodDecision::NotAllowed => Box::pin(std::future::ready(method_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    handler.methods(),
                ))),
            };
            return ResponseFuture {
                kind: Kind::Health {
                    future,
                    handler,
                    log,
                },
            };
        }
        if std::mem::take(&mut self.inner_ready) {
            ResponseFuture {
                kind: Kind::Inner {
                    future: self.inner.call(request),
                },
            }
        } else {
            // Not ready at poll_ready time: a clone waits for readiness in the future.
            let service = self.inner.clone();
            ResponseFuture {
                kind: Kind::WaitReady {
                    service,
                    request: Some(request),
                },
            }
        }
    }
}

/// The check name a path segment carries, percent-decoded (`my%20db` is `my db`). A decoding that
/// is not UTF-8 keeps its invalid bytes as U+FFFD, so it names no check that was registered with
/// valid text and answers as an unknown name.
fn decode_name(segment: &str) -> Box<str> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into()
}

pin_project! {
    /// The response future of [`HealthService`].
    pub struct ResponseFuture<S, R>
    where
        S: Service<R>,
    {
        #[pin]
        kind: Kind<S, R>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, R>
    where
        S: Service<R>,
    {
        Inner { #[pin] future: S::Future },
        WaitReady { service: S, request: Option<R> },
        Health {
            future: BoxFuture<'static, Response<Payload>>,
            handler: Arc<dyn Handler>,
            // The path and when the request came, where debug logging is on.
            log: Option<Box<(Box<str>, Instant)>>,
        },
    }
}

impl<S, R, ResBody> Future for ResponseFuture<S, R>
where
    S: Service<R, Response = Response<ResBody>>,
{
    type Output = Result<Response<HealthBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().kind.project() {
                KindProj::Inner { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(HealthBody::inner)));
                }
                KindProj::Health {
                    future,
                    handler,
                    log,
                } => {
                    let response = ready!(future.as_mut().poll(cx));
                    let status = response.status();
                    if let Some((path, started)) = log.as_deref() {
                        if !(handler.quiet_success() && status == StatusCode::OK) {
                            tracing::debug!(path = &**path, status = status.as_u16(), elapsed = ?started.elapsed(), "health request");
                        }
                    }
                    return Poll::Ready(Ok(response.map(HealthBody::health)));
                }
                KindProj::WaitReady { service, request } => {
                    ready!(service.poll_ready(cx))?;
                    let request = request
                        .take()
                        .expect("ResponseFuture polled after completion");
                    service.call(request)
                }
            };
            self.as_mut()
                .project()
                .kind
                .set(Kind::Inner { future: next });
        }
    }
}

impl<S, R> fmt::Debug for ResponseFuture<S, R>
where
    S: Service<R>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
