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
//! - [`health`], [`check`], [`run`]: the check registry, the checks, and running them;
//! - [`checks`]: ready-made checks (TCP, HTTP, upstream health, disk, memory, PostgreSQL, Redis);
//! - [`changes`]: status changes, logged once and published to subscribers;
//! - [`format`]: response formats;
//! - [`body`]: the response body that wraps the inner service's.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod body;
pub mod changes;
pub mod check;
pub mod checks;
pub mod endpoint;
pub mod format;
pub mod health;
pub mod layer;
pub mod route;
pub mod run;

pub use body::HealthBody;
pub use changes::{Change, Subject};
pub use check::{Check, CheckResult, HealthCheck, IntoCheckResult, Probe, Probes, Status};
pub use endpoint::{Details, Endpoint, RunChecks, StatusCodes};
pub use health::{Health, State};
pub use layer::{HealthLayer, HealthService, ResponseFuture};
pub use route::{Methods, PathPattern};
pub use run::{CheckReport, Checks, Gate, Report, RunEnd, Selection};
