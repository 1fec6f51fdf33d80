//! The gRPC health protocol, `grpc.health.v1.Health`, answered from the same registry as the
//! HTTP paths (feature `grpc`).
//!
//! [`GrpcHealth`] answers the protocol's three methods, `Check`, `Watch` and `List`, from a
//! [`Health`] handle (`Check` and `Watch` through tonic-health's generated server). Add it to a
//! tonic server as a service, or let the layer answer the protocol itself with
//! [`HealthLayer::grpc`](crate::HealthLayer::grpc), which routes `/grpc.health.v1.Health/*` to the same implementation.
//!
//! Service names resolve by one rule, [`Health::subject`]: `""` is every check, gated by the
//! working state (like `/health`); a group's name is that group under its gate (the built-in
//! ones also by their long names `liveness`, `readiness` and `startup`); any other name is the
//! checks of that name, ungated (like `/health/{group}/{check}`). Group names come first: a
//! check named like a group cannot be asked for on its own over gRPC (it still counts in its
//! groups); give checks other names.
//!
//! Pass and warn are `SERVING`, fail is `NOT_SERVING`; a name that matches no check is
//! `NOT_FOUND` for `Check` and `SERVICE_UNKNOWN` for `Watch`. `List` answers every name `Check`
//! knows (`""`, every group by its own name, every check) with what `Check` would answer for it,
//! or `RESOURCE_EXHAUSTED` when there are more than 100 (gRFC A90). While the state is
//! [`Lifecycle::ShuttingDown`] every service is `NOT_SERVING` and `Watch` streams end after saying so,
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
//!     // .add_service(GrpcHealth::new(health.clone()))
//! #   .add_service(GrpcHealth::new(health.clone()))
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```

mod list;
mod watch;

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use tonic::codegen::{Body, StdError};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health as HealthRpc, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::health::{Health, Lifecycle, Status, Subject};
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
}

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
    async fn status(&self, subject: &Subject) -> Option<ServingStatus> {
        status_of(&self.health, subject).await
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
