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
//! - `grpc` (feature `grpc`): the gRPC health protocol over the core;
//! - [`HealthLayer`], [`HealthService`], [`ResponseFuture`], [`HealthBody`]: the only code that
//!   sees HTTP requests: routing, parameters, responses, pass-through, gRPC health over the same
//!   port and the metrics endpoint ([`HealthLayer::metrics`]);
//! - [`preset`]: the endpoints of other health-check packages, path for path; `listener`
//!   (feature `listener`): a health server on an address of its own.
//!
//! Two more packages build on this one: tower-health-checks, the ready-made checks that need a
//! client crate (HTTP, upstream health, disk, memory, PostgreSQL, Redis, TLS certificates, DNS,
//! gRPC), each behind a feature; and tower-health-probe, a probe client and binary for images
//! without curl.

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
