//! The gRPC health protocol, `grpc.health.v1.Health`, answered from the same registry as the
//! HTTP paths (feature `grpc`).
//!
//! [`GrpcHealth`] implements tonic-health's generated server trait on a [`Health`] handle. Add it
//! to a tonic server as a service, or let the layer answer the protocol itself with
//! [`HealthLayer::grpc`], which routes `/grpc.health.v1.Health/*` to the same implementation.
//!
//! | service name | what it reports |
//! |---|---|
//! | `""` | every check, gated by the working state (like `/health`) |
//! | `"liveness"`, `"readiness"`, `"startup"` | that probe (like `/health/live` ...) |
//! | any other name | the checks of that name, ungated (like `/health/ready/{name}`) |
//!
//! The probe names come first: a check registered as `liveness`, `readiness` or `startup` cannot
//! be asked for on its own over gRPC (it still counts in its probes); give checks other names.
//!
//! Pass and warn are `SERVING`, fail is `NOT_SERVING`; a name that matches no check is
//! `NOT_FOUND` for `Check` and `SERVICE_UNKNOWN` for `Watch`. While the state is
//! [`State::ShuttingDown`] every service is `NOT_SERVING` and `Watch` streams end after saying so,
//! so they do not hold up a graceful shutdown. Maintenance mode is an HTTP answer only: gRPC keeps
//! reporting the checks.
//!
//! `Watch` sends the current status at once, then every change, each message evaluated exactly as
//! `Check` evaluates it (cheap: results are cached). It looks again when something may have
//! changed: a change recorded by any evaluation (an HTTP probe, a gRPC `Check`), state changes, and a re-evaluation of the watched services
//! every [watch interval](GrpcHealth::watch_interval) while any `Watch` is open, shared by all
//! streams so that many watchers do not multiply the checks' load.
//!
//! ```no_run
//! use tower_health::{Check, Health, HealthLayer, grpc::GrpcHealth};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let health = Health::new();
//! health.register(Check::new("db", || async { true }).readiness());
//! tonic::transport::Server::builder()
//!     .accept_http1(true) // the kubelet's httpGet probes speak HTTP/1.1
//!     // The layer answers the HTTP paths and, with `grpc()`, the gRPC protocol ...
//!     .layer(HealthLayer::new().health(health.clone()).grpc())
//!     // ... or, without `grpc()`, add the protocol as a service of its own:
//!     // .add_service(GrpcHealth::server(health.clone()))
//! #   .add_service(GrpcHealth::server(health.clone()))
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{BoxFuture, join_all};
use futures_util::stream::{self, BoxStream};
use http::{Method, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use pin_project_lite::pin_project;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health as HealthRpc, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tower_service::Service as _;

use crate::body::Payload;
use crate::changes::Subject;
use crate::check::{Probe, Status};
use crate::health::{Health, State};
use crate::layer::HealthLayer;
use crate::route::{Handler, HealthRequest, Methods, PathPattern};
use crate::run::Selection;

/// The path prefix of the protocol's methods.
const SERVICE_PATH: &str = "/grpc.health.v1.Health";

/// The `grpc.health.v1.Health` service, answered from a [`Health`] handle.
///
/// ```
/// use tower_health::{Health, grpc::GrpcHealth};
/// use std::time::Duration;
///
/// let health = Health::new();
/// let service = GrpcHealth::new(health).watch_interval(Duration::from_secs(2)).into_server();
/// // tonic::transport::Server::builder().add_service(service) ...
/// # drop(service);
/// ```
#[derive(Clone)]
pub struct GrpcHealth {
    health: Health,
    interval: Duration,
    rounds: Arc<Rounds>,
}

impl GrpcHealth {
    /// How often open `Watch` streams re-evaluate their services when nothing else does.
    pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(5);

    /// The service for `health`, re-evaluating watched services every
    /// [`DEFAULT_WATCH_INTERVAL`](Self::DEFAULT_WATCH_INTERVAL).
    pub fn new(health: Health) -> Self {
        GrpcHealth {
            health,
            interval: Self::DEFAULT_WATCH_INTERVAL,
            rounds: Arc::default(),
        }
    }

    /// The generated tonic server of [`GrpcHealth::new`], ready for `add_service`.
    pub fn server(health: Health) -> HealthServer<GrpcHealth> {
        Self::new(health).into_server()
    }

    /// How often open `Watch` streams re-evaluate their services (one round for all streams), so
    /// that a check that flips is reported even when nothing else runs it. A zero interval is
    /// taken as one millisecond.
    #[must_use]
    pub fn watch_interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The generated tonic server around `self`.
    pub fn into_server(self) -> HealthServer<GrpcHealth> {
        HealthServer::new(self)
    }

    /// The handle this service answers from.
    pub fn handle(&self) -> &Health {
        &self.health
    }

    /// The status of `service` now, evaluated; `None` when it names no check.
    async fn status(&self, service: &Service) -> Option<ServingStatus> {
        status_of(&self.health, service).await
    }
}

impl fmt::Debug for GrpcHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcHealth")
            .field("health", &self.health)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// The status of `service` now, evaluated; `None` when it names no check. The one evaluation
/// behind `Check` and every `Watch` message.
async fn status_of(health: &Health, service: &Service) -> Option<ServingStatus> {
    if health.state() == State::ShuttingDown {
        return service
            .is_known(health)
            .then_some(ServingStatus::NotServing);
    }
    let report = health.evaluate(&service.selection()).await?;
    Some(serving(report.status))
}

fn serving(status: Status) -> ServingStatus {
    match status {
        Status::Pass | Status::Warn => ServingStatus::Serving,
        Status::Fail => ServingStatus::NotServing,
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse {
        status: status as i32,
    }
}

#[tonic::async_trait]
impl HealthRpc for GrpcHealth {
    async fn check(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        let name = request.into_inner().service;
        match self.status(&Service::parse(&name)).await {
            Some(status) => Ok(tonic::Response::new(response(status))),
            None => Err(tonic::Status::not_found(format!(
                "unknown service {:?}",
                truncated(&name)
            ))),
        }
    }

    type WatchStream = BoxStream<'static, Result<HealthCheckResponse, tonic::Status>>;

    async fn watch(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        let watcher = Watcher::new(self.clone(), Service::parse(&request.into_inner().service));
        let stream = stream::unfold(watcher, |mut watcher| async move {
            let status = watcher.next().await?;
            Some((Ok(response(status)), watcher))
        });
        Ok(tonic::Response::new(Box::pin(stream)))
    }
}

/// At most this much of an unknown name is echoed back in an error.
fn truncated(name: &str) -> &str {
    let mut end = name.len().min(128);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// What a gRPC service name stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Service {
    All,
    Probe(Probe),
    Check(String),
}

impl Service {
    fn parse(name: &str) -> Self {
        match name {
            "" => Service::All,
            name => Probe::ALL
                .into_iter()
                .find(|probe| probe.name() == name)
                .map_or_else(|| Service::Check(name.to_owned()), Service::Probe),
        }
    }

    fn selection(&self) -> Selection {
        match self {
            Service::All => Selection::service(),
            Service::Probe(probe) => Selection::probe(*probe),
            Service::Check(name) => Selection::check(name.clone()),
        }
    }

    fn subject(&self) -> Subject {
        match self {
            Service::All => Subject::Service,
            Service::Probe(probe) => Subject::Probe(*probe),
            Service::Check(name) => Subject::Check(name.as_str().into()),
        }
    }

    fn is_known(&self, health: &Health) -> bool {
        match self {
            Service::Check(name) => health.checks().iter().any(|check| *check.name == **name),
            Service::All | Service::Probe(_) => true,
        }
    }
}

/// The re-evaluation rounds shared by the `Watch` streams of one [`GrpcHealth`].
#[derive(Default)]
struct Rounds {
    /// The services open streams watch, with how many streams watch each.
    watched: Mutex<HashMap<Service, usize>>,
    /// When the last round started; held while a round runs, so concurrent callers wait for it.
    last: tokio::sync::Mutex<Option<Instant>>,
    /// What the last round found for each watched service, for the streams it wakes.
    found: Mutex<HashMap<Service, Option<ServingStatus>>>,
    /// Bumped after each round, to wake streams whose service changed without a recorded change
    /// (a check registered or removed).
    done: watch::Sender<u64>,
}

impl Rounds {
    fn watch(self: &Arc<Self>, service: &Service) -> Watching {
        *self.lock().entry(service.clone()).or_default() += 1;
        Watching {
            rounds: self.clone(),
            service: service.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Service, usize>> {
        self.watched.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-evaluates every watched service, unless a round started at or after `since`, or the
    /// service is shutting down (when every status is known without running anything).
    async fn run(&self, health: &Health, since: Option<Instant>) {
        if health.state() == State::ShuttingDown {
            return;
        }
        let mut last = self.last.lock().await;
        if let (Some(last), Some(since)) = (*last, since) {
            if last >= since {
                return;
            }
        }
        *last = Some(Instant::now());
        let services: Vec<Service> = self.lock().keys().cloned().collect();
        let found = join_all(
            services
                .into_iter()
                .map(|service| async move { (status_of(health, &service).await, service) }),
        )
        .await;
        *self.found.lock().unwrap_or_else(|e| e.into_inner()) = found
            .into_iter()
            .map(|(status, service)| (service, status))
            .collect();
        self.done
            .send_modify(|round| *round = round.wrapping_add(1));
    }
}

/// Counts one stream as watching its service while it lives.
struct Watching {
    rounds: Arc<Rounds>,
    service: Service,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut watched = self.rounds.lock();
        if let Some(count) = watched.get_mut(&self.service) {
            *count -= 1;
            if *count == 0 {
                watched.remove(&self.service);
            }
        }
    }
}

/// One `Watch` stream: sends the current status, then each change, until shutdown.
struct Watcher {
    grpc: GrpcHealth,
    service: Service,
    recorded: watch::Receiver<Option<Status>>,
    state: watch::Receiver<State>,
    rounds: watch::Receiver<u64>,
    /// Woken by or after a round, which has evaluated the service already.
    after_round: bool,
    ticks: tokio::time::Interval,
    sent: Option<ServingStatus>,
    done: bool,
    _watching: Watching,
}

impl Watcher {
    fn new(grpc: GrpcHealth, service: Service) -> Self {
        // Subscribed before the first evaluation, so no change after it is missed.
        let recorded = grpc.health.watch(service.subject());
        let state = grpc.health.subscribe_state();
        let rounds = grpc.rounds.done.subscribe();
        let mut ticks = tokio::time::interval_at(Instant::now() + grpc.interval, grpc.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let watching = grpc.rounds.watch(&service);
        Watcher {
            grpc,
            service,
            recorded,
            state,
            rounds,
            after_round: false,
            ticks,
            sent: None,
            done: false,
            _watching: watching,
        }
    }

    /// The next status to send; `None` ends the stream.
    async fn next(&mut self) -> Option<ServingStatus> {
        loop {
            if self.done {
                return None;
            }
            let current = self.current().await;
            if current == ServingStatus::NotServing && self.shutting_down() {
                self.done = true;
            }
            if self.sent != Some(current) {
                self.sent = Some(current);
                return Some(current);
            }
            if !self.done {
                self.wait().await;
            }
        }
    }

    fn shutting_down(&mut self) -> bool {
        *self.state.borrow_and_update() == State::ShuttingDown
    }

    /// The status to report now, evaluated as `Check` evaluates it: a recorded change only says
    /// when to look again, not what to send.
    async fn current(&mut self) -> ServingStatus {
        if self.shutting_down() {
            return ServingStatus::NotServing;
        }
        let found = std::mem::take(&mut self.after_round)
            .then(|| {
                let found = self.grpc.rounds.found.lock();
                found
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&self.service)
                    .copied()
            })
            .flatten();
        let status = match found {
            Some(status) => status,
            None => self.grpc.status(&self.service).await,
        };
        // Marked seen after evaluating: a change this evaluation recorded itself (a check run
        // again when it is not cached) must not wake the stream into evaluating again.
        self.recorded.borrow_and_update();
        status.unwrap_or(ServingStatus::ServiceUnknown)
    }

    /// Waits until something may have changed the status.
    async fn wait(&mut self) {
        let health = &self.grpc.health;
        let rounds = &self.grpc.rounds;
        tokio::select! {
            changed = self.recorded.changed() => self.done |= changed.is_err(),
            changed = self.state.changed() => match changed {
                // A state change moves the gates: re-evaluate now (once for all streams).
                Ok(()) => {
                    rounds.run(health, Some(Instant::now())).await;
                    self.after_round = true;
                }
                Err(_) => self.done = true,
            },
            changed = self.rounds.changed() => match changed {
                Ok(()) => self.after_round = true,
                Err(_) => self.done = true,
            },
            _ = self.ticks.tick() => {
                // Skipped when another stream's round ran within most of the interval.
                let since = Instant::now().checked_sub(self.grpc.interval * 3 / 4);
                rounds.run(health, since).await;
                self.after_round = true;
            }
        }
    }
}

impl HealthLayer {
    /// Also answers the gRPC health protocol, `grpc.health.v1.Health` `Check` and `Watch`, from
    /// this layer's [`Health`] handle (see the [`grpc`](crate::grpc) module). Feature `grpc`.
    ///
    /// ```
    /// use tower_health::HealthLayer;
    ///
    /// let layer = HealthLayer::new().grpc();
    /// // tonic::transport::Server::builder().layer(layer) ...
    /// # drop(layer);
    /// ```
    #[must_use]
    pub fn grpc(self) -> Self {
        self.grpc_watch_interval(GrpcHealth::DEFAULT_WATCH_INTERVAL)
    }

    /// [`HealthLayer::grpc`] with open `Watch` streams re-evaluating every `interval`.
    #[must_use]
    pub fn grpc_watch_interval(self, interval: Duration) -> Self {
        let handler = GrpcHandler {
            methods: Methods::only([Method::POST]),
            interval,
            service: Mutex::new(None),
        };
        self.handler(PathPattern::Named(SERVICE_PATH.into()), Arc::new(handler))
    }
}

/// Answers `/grpc.health.v1.Health/{method}` in the layer with the generated server.
struct GrpcHandler {
    methods: Methods,
    interval: Duration,
    /// The service of the handle last served, so that its streams share their rounds.
    service: Mutex<Option<GrpcHealth>>,
}

impl GrpcHandler {
    fn service_for(&self, health: &Health) -> GrpcHealth {
        let mut current = self.service.lock().unwrap_or_else(|e| e.into_inner());
        match &*current {
            Some(service) if service.health.same_handle(health) => service.clone(),
            _ => {
                let service = GrpcHealth::new(health.clone()).watch_interval(self.interval);
                *current = Some(service.clone());
                service
            }
        }
    }
}

impl Handler for GrpcHandler {
    fn methods(&self) -> &Methods {
        &self.methods
    }

    fn handle(
        self: Arc<Self>,
        health: Health,
        request: HealthRequest,
    ) -> BoxFuture<'static, Response<Payload>> {
        let HealthRequest { parts, body, .. } = request;
        let mut server = self.service_for(&health).into_server();
        let call = server.call(http::Request::from_parts(parts, body));
        Box::pin(async move {
            let response = match call.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            response.map(|body| Payload::stream(GrpcBody { body, ended: false }.boxed_unsync()))
        })
    }
}

pin_project! {
    /// tonic's response body with its errors turned into trailers: a gRPC error belongs in
    /// `grpc-status`, and the layer's body cannot carry an error of tonic's type.
    struct GrpcBody {
        #[pin]
        body: tonic::body::Body,
        ended: bool,
    }
}

impl Body for GrpcBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        match ready!(this.body.poll_frame(cx)) {
            Some(Ok(frame)) => Poll::Ready(Some(Ok(frame))),
            Some(Err(status)) => {
                *this.ended = true;
                Poll::Ready(Some(Ok(Frame::trailers(trailers(&status)))))
            }
            None => {
                *this.ended = true;
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended {
            SizeHint::with_exact(0)
        } else {
            self.body.size_hint()
        }
    }
}

fn trailers(status: &tonic::Status) -> http::HeaderMap {
    let mut trailers = http::HeaderMap::new();
    if status.add_header(&mut trailers).is_err() {
        // Only the message or details can be unencodable; the code always is.
        trailers.clear();
        let _ = tonic::Status::new(status.code(), "").add_header(&mut trailers);
    }
    trailers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_map_to_selections() {
        assert_eq!(Service::parse(""), Service::All);
        assert_eq!(
            Service::parse("readiness"),
            Service::Probe(Probe::Readiness)
        );
        assert_eq!(Service::parse("liveness"), Service::Probe(Probe::Liveness));
        assert_eq!(Service::parse("startup"), Service::Probe(Probe::Startup));
        assert_eq!(Service::parse("ready"), Service::Check("ready".into()));
        assert_eq!(Service::parse("db").subject(), Subject::Check("db".into()));
    }

    #[test]
    fn warn_is_serving() {
        assert_eq!(serving(Status::Pass), ServingStatus::Serving);
        assert_eq!(serving(Status::Warn), ServingStatus::Serving);
        assert_eq!(serving(Status::Fail), ServingStatus::NotServing);
    }

    #[test]
    fn long_names_are_truncated_on_a_char_boundary() {
        let name = "é".repeat(100);
        let cut = truncated(&name);
        assert!(cut.len() <= 128 && name.starts_with(cut));
        assert_eq!(truncated("db"), "db");
    }

    #[tokio::test]
    async fn an_error_in_the_body_ends_in_trailers() {
        let failing = http_body_util::StreamBody::new(stream::iter([Err::<Frame<Bytes>, _>(
            tonic::Status::unavailable("gone"),
        )]));
        let body = GrpcBody {
            body: tonic::body::Body::new(failing),
            ended: false,
        };
        let collected = body.collect().await.unwrap();
        let trailers = collected.trailers().expect("trailers").clone();
        assert_eq!(trailers["grpc-status"], "14");
        assert_eq!(trailers["grpc-message"], "gone");
    }
}
