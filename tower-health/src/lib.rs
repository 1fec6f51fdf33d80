//! Health probes for any tower-based server: one [`HealthLayer`] answers liveness, readiness and
//! startup probes (and any other [`Group`] of checks) from a registry of async checks, and passes
//! every other request to the inner service unchanged.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use axum::{Router, body::Body, routing::get};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_health::{Check, Health, HealthLayer, Lifecycle};
//!
//! let health = Health::new();
//! health.register(
//!     Check::new("postgres", || async { Ok::<(), std::io::Error>(()) /* ping the pool */ })
//!         .readiness()
//!         .timeout(Duration::from_millis(300)),
//! );
//! health.set_lifecycle(Lifecycle::WarmingUp);
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(HealthLayer::new().health(health.clone()));
//! let ready = || Request::get("/health/ready").body(Body::empty()).unwrap();
//! assert_eq!(app.clone().oneshot(ready()).await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
//! // ... once the server listens:
//! health.set_lifecycle(Lifecycle::Working);
//! assert_eq!(app.oneshot(ready()).await.unwrap().status(), StatusCode::OK);
//! # }
//! ```
//!
//! A new [`Health`] starts in [`Lifecycle::Unknown`], where readiness passes on the checks alone
//! (so a bare `HealthLayer::new()` answers at once). To hold readiness until the application
//! has started, set [`Lifecycle::WarmingUp`] first, as above, and [`Lifecycle::Working`] once
//! it serves.
//!
//! Probes are correct (a warming-up process is alive but not ready), fast and bounded (every
//! check runs concurrently under a timeout below the kubelet's one second), safe to expose (check
//! messages, which can hold hostnames and connection strings, are hidden by default), quiet in
//! the logs (a failing dependency is logged once when it starts failing, not on every probe), and
//! they never wait on the application: a probe is answered even while the application's own
//! concurrency limit or buffer is full.
//!
//! # Guides
//!
//! - [Endpoints, settings, frameworks, load balancers, logging and hostile input](HealthLayer):
//!   which paths answer and how, the layer's settings, axum, hyper and tonic; keeping probes out
//!   of access logs: [`HealthLayer::around`]; metrics and traces: [`HealthLayer::metrics`].
//! - [Groups](Group): liveness, readiness, startup and groups of the application's own.
//! - [Lifecycle states and maintenance](Lifecycle), and [graceful drain](Drain) on Kubernetes.
//! - [Who sees what](ExposurePolicy): exposure levels, what each format shows, [`authorize`].
//! - [Checks](Check): caching, single-flight, background runs, thresholds; the handle: [`Health`];
//!   one endpoint: [`Endpoint`].
//! - [Change events](Change).
//! - [Ready-made checks](checks), and more in
//!   [tower-health-checks](https://docs.rs/tower-health-checks).
//! - [Formats](mod@format) and [presets](preset): coming from another health-check package.
//! - [gRPC health](mod@grpc) (feature `grpc`).
//! - A probe client and binary for images without curl:
//!   [tower-health-probe](https://docs.rs/tower-health-probe).
//!
//! # Layout
//!
//! The crate is laid out by layer, each using only those above it in this list:
//! - the core ([`Health`], [`Check`], [`Group`], [`Subject`], [`Report`], [`Change`]): checks,
//!   the registry, groups, evaluation with a result cache and single-flight, background runs,
//!   thresholds, change events and the counts of each check's runs; it knows no HTTP. Beside it
//!   and on it alone: [`checks`] (the ready-made checks that need no client crate) and
//!   [`Drain`];
//! - [`format`](mod@format): how an answer is written (health+json by default);
//! - [`Endpoint`], [`StatusCodes`], [`ExposurePolicy`], [`Exposure`]: what one health path answers and
//!   how, and who sees how much of it ([`authorize`]: ready-made predicates);
//! - metrics: the core's counts as Prometheus text and, with the feature `metrics`, through the
//!   `metrics` facade, hearing the core through one hook;
//! - [`grpc`](mod@grpc) (feature `grpc`): the gRPC health protocol over the core;
//! - [`HealthLayer`], [`HealthService`], [`ResponseFuture`], [`HealthBody`]: the only code that
//!   sees HTTP requests: routing, parameters, responses, pass-through, gRPC health over the same
//!   port and the metrics endpoint ([`HealthLayer::metrics`]);
//! - [`preset`]: the endpoints of other health-check packages, path for path; [`listener`]
//!   (feature `listener`): a health server on an address of its own.
//!
//! Two more packages build on this one: tower-health-checks, the ready-made checks that need a
//! client crate (HTTP, upstream health, disk, memory, PostgreSQL, Redis, TLS certificates, DNS,
//! gRPC), each behind a feature; and tower-health-probe, a probe client and binary for images
//! without curl.
//!
//! # Feature flags
//!
//! None is on by default.
//!
//! | feature | adds |
//! |---|---|
//! | `grpc` | the gRPC health protocol, `grpc.health.v1` (tonic 0.14): the [`grpc`](mod@grpc) module with [`GrpcHealth`](grpc::GrpcHealth), and [`HealthLayer::grpc`] |
//! | `listener` | the [`listener`] module: a health server on an address of its own ([`HealthListener`](listener::HealthListener)), configured from the environment ([`ListenerConfig`](listener::ListenerConfig): py-12f-common's `HEALTH_CHECK`, `HEALTH_CHECK_HOST`, `HEALTH_CHECK_PORT`) |
//! | `metrics` | the health figures also recorded through the `metrics` facade, for applications that already export metrics ([`HealthLayer::metrics`] has the families); the `/health/metrics` endpoint needs no feature |
//! | `axum` | [`authorize::peer_in`] reads the peer address from axum's `ConnectInfo<SocketAddr>` |
//!
//! # Production checklist
//!
//! - **Timeouts below the kubelet's.** A probe answers within the slowest check's timeout
//!   (default 800 ms, [`Health::set_default_timeout`], [`Check::timeout`]). Keep every timeout
//!   below the probe's `timeoutSeconds` (default 1 s), or the kubelet gives up first and counts a
//!   failure without a reason. Use [background checks](Check#background-checks) for
//!   dependencies that can be slower than that.
//! - **Cache TTL below `periodSeconds`.** With the default TTL of 1 s each probe sees a result at
//!   most a second old. A TTL longer than the probe period makes the probe see the same result
//!   several times and delays recovery by up to the TTL; thresholds then count runs, not probes.
//! - **Liveness must not depend on external systems.** A database outage that fails liveness
//!   restarts every pod at once and turns an outage into a crash loop. Put dependency checks in
//!   readiness (the default for a check); put only checks of the process itself (a deadlocked
//!   worker, an exhausted pool) in liveness. Registering a [dependency](Check::dependency) in
//!   liveness logs a warning.
//! - **Thresholds against flapping.** Use [`failure_threshold`](Check::failure_threshold) /
//!   [`failure_duration`](Check::failure_duration) and
//!   [`success_threshold`](Check::success_threshold) on checks of flaky dependencies rather than
//!   only the kubelet's `failureThreshold`, so that the service's own readiness, logs and change
//!   events agree.
//! - **Exposure.** Use [`Exposure::StatusOnly`] on anything reachable from outside the cluster,
//!   raised with [`ExposurePolicy::when`]`(level, authorize::bearer(..))` or
//!   [`authorize::peer_in`] for operators; never [`Exposure::Messages`] for everyone there.
//! - **Drain delay.** On SIGTERM, set [`Lifecycle::ShuttingDown`] first (readiness fails at
//!   once), keep serving for the drain delay, then stop accepting and exit ([`Drain`] does all
//!   three). Kubernetes takes a terminating pod out of its Service's endpoints at once, whatever
//!   the probe says; the delay (5 s by default) covers the time kube-proxy, ingress controllers
//!   and cloud load balancers take to notice. A load balancer that learns only from its own
//!   health check needs the delay to exceed that check's `interval × unhealthy threshold`. Keep
//!   `terminationGracePeriodSeconds` above the delay plus the longest request. Background checks
//!   stop when the state becomes `ShuttingDown`; liveness keeps answering.
//! - **Listen backlog.** `TcpListener::bind` listens with a backlog of 128 (tokio, like std). A
//!   burst of connections beyond it (many probes and clients at once after a restart) overflows
//!   the accept queue, and each dropped SYN costs its client a 1 s retransmission, longer than
//!   the kubelet's default probe timeout. Choose the backlog with `TcpSocket` (the kernel caps it
//!   at `net.core.somaxconn`):
//!
//!   ```no_run
//!   # async fn run() -> std::io::Result<()> {
//!   let socket = tokio::net::TcpSocket::new_v4()?;
//!   socket.set_reuseaddr(true)?;
//!   socket.bind("0.0.0.0:3000".parse().unwrap())?;
//!   let listener = socket.listen(4096)?; // then axum::serve(listener, app) or an accept loop
//!   # drop(listener); Ok(()) }
//!   ```
//!
//!   Measured, 1,000 connections opened at once by one asyncio client against the release build
//!   of the axum example did not overflow 128 (none took over 1 s, the slowest 0.73 s): one
//!   client does not open them fast enough; many sources at once do.
//! - **Header-read timeout.** `axum::serve` sets no timeout on reading a request head: a
//!   connection that sends `GET / HTTP/1.1` and never finishes its head stays open (measured:
//!   still open after 45 s against the axum example), holding its memory and a file descriptor.
//!   Serve with hyper-util's connection builder instead, which takes one:
//!
//!   ```no_run
//!   use std::time::Duration;
//!   use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
//!   use hyper_util::server::conn::auto::Builder;
//!   use hyper_util::service::TowerToHyperService;
//!
//!   async fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
//!       let mut builder = Builder::new(TokioExecutor::new());
//!       builder
//!           .http1()
//!           .timer(TokioTimer::new())
//!           .header_read_timeout(Duration::from_secs(5));
//!       loop {
//!           let (stream, _) = listener.accept().await?;
//!           let service = TowerToHyperService::new(app.clone());
//!           let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
//!           tokio::spawn(connection);
//!       }
//!   }
//!   ```
//!
//!   `tower-health/examples/hyper.rs` serves with both settings and hyper-util's
//!   `GracefulShutdown` (GOAWAY on HTTP/2 when the drain ends); the same unfinished head is
//!   closed there after 5.0 s (measured). For HTTP/2,
//!   `builder.http2().timer(..).keep_alive_interval(..)` closes dead connections.
//! - **Startup.** Set [`Lifecycle::Working`] once the service can serve; a startup probe
//!   (`/health/startup`) with a generous `failureThreshold` covers slow starts without a long
//!   `initialDelaySeconds`.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![deny(unreachable_pub)]

mod drain;
mod endpoint;
mod health;
mod http;
mod metrics;

pub mod authorize;
pub mod checks;
pub mod format;
#[cfg(feature = "grpc")]
#[cfg_attr(docsrs, doc(cfg(feature = "grpc")))]
pub mod grpc;
#[cfg(feature = "listener")]
#[cfg_attr(docsrs, doc(cfg(feature = "listener")))]
pub mod listener;
pub mod preset;

pub use drain::Drain;
pub use endpoint::{Endpoint, ExposurePolicy, StatusCodes};
pub use health::{
    Change, Check, CheckResult, CheckRun, Exposure, Gate, Group, Health, HealthCheck,
    IntoCheckResult, Lifecycle, Report, RunEnd, Status, Subject,
};
pub use http::{HealthBody, HealthLayer, HealthService, ResponseFuture};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
