//! The gRPC health protocol, `grpc.health.v1.Health`, answered from the same registry as the
//! HTTP paths (feature `grpc`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tonic::transport::{Channel, Server, server::TcpIncoming};
//! use tonic_health::pb::health_check_response::ServingStatus;
//! use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
//! use tower_health::{Check, Health, HealthLayer, grpc::GrpcHealth};
//!
//! let health = Health::new();
//! health.register(Check::new("db", || async { true }).readiness());
//! health.register(Check::new("search", || async { false }).group("search"));
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let server = Server::builder()
//!     .accept_http1(true) // the kubelet's httpGet probes speak HTTP/1.1
//!     .layer(HealthLayer::new().health(health.clone())) // the HTTP paths
//!     .add_service(GrpcHealth::new(health)) // grpc.health.v1
//!     .serve_with_incoming(TcpIncoming::from(listener));
//! tokio::spawn(server);
//!
//! let channel = Channel::from_shared(format!("http://{addr}"))?.connect().await?;
//! let mut client = HealthClient::new(channel);
//! let status = |service: &str| HealthCheckRequest { service: service.into() };
//! for (service, expected) in [
//!     ("", ServingStatus::NotServing), // every check: `search` fails
//!     ("readiness", ServingStatus::Serving),
//!     ("search", ServingStatus::NotServing), // the group, not the check of that name
//!     ("db", ServingStatus::Serving),
//! ] {
//!     let answer = client.check(status(service)).await?.into_inner();
//!     assert_eq!(answer.status, expected as i32, "{service:?}");
//! }
//! let unknown = client.check(status("nope")).await.unwrap_err();
//! assert_eq!(unknown.code(), tonic::Code::NotFound);
//! # Ok(()) }
//! ```
//!
//! [`GrpcHealth`] answers the protocol's three methods, `Check`, `Watch` and `List`, from a
//! [`Health`] handle, with tonic-health's generated protobuf types and server (and, for `List`,
//! which tonic-health 0.14 lacks, messages derived with prost as in the current `health.proto`).
//! Either the application adds it to a tonic server as a service of its own, as above, or the
//! layer answers the protocol itself: [`HealthLayer::grpc`](crate::HealthLayer::grpc) routes
//! `/grpc.health.v1.Health/*` to the same implementation, before the application's services.
//!
//! ```no_run
//! use tonic::service::Routes;
//! use tower_health::{Health, HealthLayer};
//!
//! // `services`: the application's own gRPC services (`Routes::new(greeter)`, ...).
//! async fn serve(health: Health, services: Routes) -> Result<(), tonic::transport::Error> {
//!     tonic::transport::Server::builder()
//!         .accept_http1(true)
//!         // The HTTP paths and, with `grpc()`, grpc.health.v1 on the same port.
//!         .layer(HealthLayer::new().health(health).grpc())
//!         .add_routes(services)
//!         .serve("0.0.0.0:50051".parse().unwrap())
//!         .await
//! }
//! ```
//!
//! A tonic server answers the HTTP paths over HTTP/2, and over HTTP/1.1 (what the kubelet's
//! `httpGet` probes speak) with `accept_http1(true)`. `cargo run --example tonic --features grpc`
//! serves both on `127.0.0.1:50051`.
//!
//! # Service names
//!
//! Names resolve by one rule, [`Health::subject`]:
//!
//! | service name | reports |
//! |---|---|
//! | `""` | every check, gated by the working state (like `/health`) |
//! | a group's name (`live`, `ready`, `startup`, `database`, ...) or `liveness`, `readiness`, `startup` | that group, under its gate |
//! | any other name | the checks of that name, ungated (like `/health/{group}/{check}`) |
//!
//! Group names come first: a check named like a group cannot be asked for on its own over gRPC
//! (it still counts in its groups); give checks names no group has.
//!
//! # Statuses
//!
//! Pass and warn are `SERVING`, fail is `NOT_SERVING` (gRPC has no degraded status). `Check` of
//! a name that matches nothing fails with `NOT_FOUND`; `Watch` of one sends `SERVICE_UNKNOWN`,
//! keeps the stream open and sends the real status once a check of that name is registered.
//! `List` (gRFC A90) answers every name `Check` knows (`""`, every group by its own name, every
//! check) with what `Check` answers for it, or `RESOURCE_EXHAUSTED` when there are more than 100.
//!
//! While the state is [`Lifecycle::ShuttingDown`] every service is `NOT_SERVING` (liveness
//! included) and `Watch` streams end after saying so, so that they do not hold up a graceful
//! shutdown. Maintenance mode is an HTTP answer only: gRPC keeps reporting the checks.
//!
//! # Watch
//!
//! `Watch` sends the current status at once, then every change without the client polling, each
//! message evaluated exactly as `Check` evaluates it (cheap: results are cached). It looks again
//! when something may have changed: a change recorded by any evaluation (an HTTP probe, a gRPC
//! `Check`), a state change, and a re-evaluation of the watched services every
//! [watch interval](GrpcHealth::watch_interval) (5 s by default; on the layer,
//! [`HealthLayer::grpc_watch_interval`](crate::HealthLayer::grpc_watch_interval)) while any
//! `Watch` is open: one round for all streams, so that many watchers do not multiply the load on
//! dependencies.
//!
//! At most [`GrpcHealth::max_watches`] streams are open at once on a service and its clones
//! ([`GrpcHealth::DEFAULT_MAX_WATCHES`], 1,024, by default, the layer's too); one more is refused
//! with `RESOURCE_EXHAUSTED` until another closes, for names that exist or not. For another cap,
//! add `GrpcHealth::new(health).max_watches(n)` as a service instead of
//! [`HealthLayer::grpc`](crate::HealthLayer::grpc).
//!
//! Load balancers that health-check over gRPC (Envoy's `grpc_health_check`) are in the
//! [load balancers](crate::HealthLayer#load-balancers) guide.

mod list;
mod watch;

use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use tonic::codegen::{Body, StdError};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health as HealthRpc, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::health::{Health, Lifecycle, Status, Subject, Validity};
use watch::{Rounds, Watcher};

/// The path prefix of the protocol's methods.
pub(crate) const SERVICE_PATH: &str = "/grpc.health.v1.Health";

/// The `grpc.health.v1.Health` service, answered from a [`Health`] handle: a tonic service of
/// its own, ready for `add_service`.
///
/// ```
/// use tower_health::{Health, grpc::GrpcHealth};
/// use std::time::Duration;
///
/// let health = Health::new();
/// let service = GrpcHealth::new(health).watch_interval(Duration::from_secs(2));
/// // tonic::transport::Server::builder().add_service(service) ...
/// # fn named<S: tonic::server::NamedService>(_: &S) -> &'static str { S::NAME }
/// # assert_eq!(named(&service), "grpc.health.v1.Health");
/// ```
#[derive(Clone)]
pub struct GrpcHealth {
    health: Health,
    interval: Duration,
    max_watches: usize,
    rounds: Arc<Rounds>,
    /// `Check`'s answers, kept while nothing they were made of changes.
    kept: Arc<Mutex<Vec<Kept>>>,
}

/// A `Check` answer and what it holds for: the registry's generation, and until when the
/// results it was made of are fresh.
struct Kept {
    subject: Subject,
    validity: Validity,
    status: ServingStatus,
}

/// How many services' answers are kept; beyond it the oldest goes (a client asking for many
/// names evaluates them as before).
const KEPT: usize = 16;

impl GrpcHealth {
    /// How often open `Watch` streams re-evaluate their services when nothing else does.
    pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(5);

    /// How many `Watch` streams may be open at once by default: enough for every client of a
    /// large deployment, few enough that a client opening streams in a loop holds a few MiB.
    pub const DEFAULT_MAX_WATCHES: usize = 1024;

    /// The service for `health`, re-evaluating watched services every
    /// [`DEFAULT_WATCH_INTERVAL`](Self::DEFAULT_WATCH_INTERVAL).
    pub fn new(health: Health) -> Self {
        #[cfg(feature = "metrics")]
        crate::metrics::observe(&health);
        GrpcHealth {
            health,
            interval: Self::DEFAULT_WATCH_INTERVAL,
            max_watches: Self::DEFAULT_MAX_WATCHES,
            rounds: Arc::default(),
            kept: Arc::default(),
        }
    }

    /// How often open `Watch` streams re-evaluate their services (one round for all streams), so
    /// that a check that flips is reported even when nothing else runs it. A zero interval is
    /// taken as one millisecond.
    #[must_use]
    pub fn watch_interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How many `Watch` streams may be open at once on this service and its clones (default
    /// [`DEFAULT_MAX_WATCHES`](Self::DEFAULT_MAX_WATCHES)), whatever they watch, names that
    /// exist or not; one more is refused with `RESOURCE_EXHAUSTED` until another closes.
    #[must_use]
    pub fn max_watches(mut self, max: usize) -> Self {
        self.max_watches = max;
        self
    }

    /// The handle this service answers from.
    pub fn handle(&self) -> &Health {
        &self.health
    }

    /// The status of `subject` now, evaluated; `None` when it names no check.
    /// Kept, like the HTTP answers, while the registry's generation holds and its results
    /// are fresh: a `Check` then costs a lookup, not an evaluation.
    async fn status(&self, subject: &Subject) -> Option<ServingStatus> {
        let generation = self.health.registry().generation();
        if let Some(status) = self.kept_status(subject, generation) {
            return Some(status);
        }
        if self.health.lifecycle() == Lifecycle::ShuttingDown {
            return status_of(&self.health, subject).await;
        }
        let report = self.health.evaluate(subject).await?;
        let status = serving(report.status);
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|kept| kept.subject != *subject);
        if kept.len() >= KEPT {
            kept.remove(0);
        }
        kept.push(Kept {
            subject: subject.clone(),
            validity: Validity::new(generation, &report),
            status,
        });
        Some(status)
    }

    fn kept_status(&self, subject: &Subject, generation: u64) -> Option<ServingStatus> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let kept = kept.iter().find(|kept| kept.subject == *subject)?;
        kept.validity.holds(generation).then_some(kept.status)
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

/// The status of `subject` now, evaluated; `None` when it names no check. The one evaluation
/// behind `Check` and every `Watch` message.
async fn status_of(health: &Health, subject: &Subject) -> Option<ServingStatus> {
    if health.lifecycle() == Lifecycle::ShuttingDown {
        let known = match subject {
            Subject::Check(name) => health.checks().iter().any(|check| check.name() == &**name),
            Subject::Service | Subject::Group(_) => true,
        };
        return known.then_some(ServingStatus::NotServing);
    }
    let report = health.evaluate(subject).await?;
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
        match self.status(&self.health.subject(&name)).await {
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
        let subject = self.health.subject(&request.into_inner().service);
        let watching = self
            .rounds
            .watch(&subject, self.max_watches)
            .ok_or_else(|| {
                tonic::Status::resource_exhausted(format!(
                    "{} Watch streams are open, the most this server allows",
                    self.max_watches
                ))
            })?;
        let watcher = Watcher::new(self.clone(), subject, watching);
        let stream = stream::unfold(watcher, |mut watcher| async move {
            let status = watcher.next().await?;
            Some((Ok(response(status)), watcher))
        });
        Ok(tonic::Response::new(Box::pin(stream)))
    }
}

impl tonic::server::NamedService for GrpcHealth {
    const NAME: &'static str = "grpc.health.v1.Health";
}

/// `List` here; `Check`, `Watch` and unknown methods by tonic-health's generated server.
impl<B> tower_service::Service<http::Request<B>> for GrpcHealth
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() == list::LIST_PATH {
            let list = list::List(self.clone());
            return Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
                Ok(grpc.unary(list, request).await)
            });
        }
        HealthServer::new(self.clone()).call(request)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
