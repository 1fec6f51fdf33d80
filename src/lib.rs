//! Health probes for any tower-based server: one [`HealthLayer`] answers liveness, readiness and
//! startup probes from a registry of async checks, and passes every other request to the inner
//! service unchanged.
//!
//! ```
//! use std::time::Duration;
//! use axum::{Router, routing::get};
//! use tower_health::{Check, Health, HealthLayer, State};
//!
//! let health = Health::new();
//! health.register(
//!     Check::new("postgres", || async { Ok::<(), std::io::Error>(()) /* ping the pool */ })
//!         .readiness()
//!         .timeout(Duration::from_millis(300)),
//! );
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(HealthLayer::new().health(health.clone()));
//! // ... once the server listens:
//! health.set_state(State::Working);
//! ```
//!
//! The crate is laid out by concern:
//! - [`layer`]: the [`HealthLayer`] and [`HealthService`], and the pass-through path;
//! - [`route`]: which paths are health paths and which methods they take;
//! - [`endpoint`]: what one health path runs and how it answers;
//! - [`health`], [`check`], [`run`]: the check registry, the checks, and running them (with a
//!   result cache and single-flight);
//! - [`background`], [`thresholds`]: checks that run on their own interval, and smoothing of
//!   failures;
//! - [`checks`]: ready-made checks (TCP, HTTP, upstream health, disk, memory, PostgreSQL, Redis);
//! - [`changes`]: status changes, logged once and published to subscribers;
//! - [`format`](mod@format): response formats;
//! - [`preset`]: ready-made endpoints answering as other health-check packages do;
//! - [`drain`]: the graceful drain before a shutdown;
//! - [`body`]: the response body that wraps the inner service's;
//! - `listener` (feature `listener`): a standalone health listener on an address of its own;
//! - `grpc` (feature `grpc`): the gRPC health protocol from the same registry.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod background;
pub mod body;
pub mod changes;
pub mod check;
pub mod checks;
pub mod drain;
pub mod endpoint;
pub mod format;
#[cfg(feature = "grpc")]
pub mod grpc;
pub mod health;
pub mod layer;
#[cfg(feature = "listener")]
pub mod listener;
pub mod preset;
#[cfg(feature = "probe")]
pub mod probe;
pub mod route;
pub mod run;
pub mod thresholds;

pub use body::HealthBody;
pub use changes::{Change, Subject, Subscription};
pub use check::{Check, CheckResult, HealthCheck, IntoCheckResult, Probe, Probes, Status};
pub use drain::Drain;
pub use endpoint::{Details, Endpoint, RunChecks, StatusCodes};
pub use health::{Health, State};
pub use layer::{HealthLayer, HealthService, ResponseFuture};
pub use route::{Methods, PathPattern};
pub use run::{CheckReport, Checks, Gate, NOT_YET_RUN, Report, RunEnd, Selection};
pub use thresholds::Thresholds;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
