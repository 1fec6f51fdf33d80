//! Ready-made checks that need no client crate: [`Manual`] and [`Tcp`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_health::checks::{Manual, Tcp};
//! use tower_health::{Health, HealthLayer, Status, Subject};
//!
//! let health = Health::new();
//! // A dependency's port, non-critical: its failure only makes readiness warn.
//! health.register(Tcp::new("127.0.0.1:1").into_check("cache-port").non_critical());
//! // What the application learns from real traffic, reported by its consumer loop.
//! let consumer = Manual::new().expire_after(Duration::from_secs(30));
//! health.register(consumer.clone().into_check("orders-consumer"));
//! let service = tower::ServiceBuilder::new()
//!     .layer(HealthLayer::new().health(health.clone()))
//!     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
//! let probe = || {
//!     let request = Request::get("/health/ready").body(String::new()).unwrap();
//!     let service = service.clone();
//!     async move { service.oneshot(request).await.unwrap().status() }
//! };
//!
//! // Not yet reported: fails.
//! assert_eq!(probe().await, StatusCode::SERVICE_UNAVAILABLE);
//! let mut reported = health.watch(Subject::check("orders-consumer"));
//! consumer.pass();
//! reported.wait_for(|status| *status == Some(Status::Pass)).await.unwrap();
//! assert_eq!(probe().await, StatusCode::OK);
//! # }
//! ```
//!
//! Each check is a plain value with a builder for its options. It implements [`HealthCheck`], and
//! `into_check(name)` turns it into a [`Check`] with a default timeout and health+json
//! `componentType`, registered like any other check and adjustable like any other
//! (`.timeout(..)`, `.liveness()`, `.non_critical()`, `.component_type(..)`).
//!
//! | check | options (defaults) | component type | default timeout | observed |
//! | --- | --- | --- | --- | --- |
//! | [`Manual::new()`](Manual::new): what the application last reported ([`pass()`](Manual::pass), [`warn(msg)`](Manual::warn), [`fail(msg)`](Manual::fail), [`report(result)`](Manual::report)), for health learned from real traffic; each report runs the check at once in the background (a change event without a probe); `not yet reported` fails | [`expire_after(ttl)`](Manual::expire_after) (never): fail with `not reported for TTL` when no report came for that long, a worker's heartbeat | `component` | 1 s | what the report carries |
//! | [`Tcp::new("host:port")`](Tcp::new): connects | | `component` | 500 ms | connect time, `ms` |
//!
//! They stay in the core because they need nothing beyond it: `Manual` reads what the application
//! reports, `Tcp` opens a connection with tokio. The checks built on a client crate or on system
//! access are in the [tower-health-checks](https://docs.rs/tower-health-checks) crate, each behind
//! a feature of its own, so that an application builds only the clients it uses:
//!
//! | check | feature | what it asks |
//! | --- | --- | --- |
//! | [`Http`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.Http.html) | `http` | GET a URL, pass on 2xx |
//! | [`Upstream`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.Upstream.html) | `upstream` | another service's health+json `status` |
//! | [`Disk`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.Disk.html) | `disk` | space available on the filesystem holding a path |
//! | [`Memory`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.Memory.html) | `memory` | resident memory against the cgroup limit, else the machine's memory |
//! | [`Postgres`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.Postgres.html) | `postgres` | `SELECT 1` through the application's sqlx `PgPool` |
//! | [`Redis`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.Redis.html) | `redis` | `PING` through a redis connection |
//! | [`TlsCert`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.TlsCert.html) | `tls` | a certificate's validity dates, of a PEM file or of what a server presents |
//! | [`Dns`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.Dns.html) | `dns` | an A and AAAA lookup, optionally of expected addresses |
//! | [`Grpc`](https://docs.rs/tower-health-checks/latest/tower_health_checks/struct.Grpc.html) | `grpc` | another service's `grpc.health.v1` `Check` |
//!
//! Messages say what failed and never show credentials: URLs are shown as scheme, host and
//! path (no user names, passwords, query or fragment), whatever the exposure level. The checks
//! of another service (`Tcp` and most of tower-health-checks') are marked as a
//! [dependency](Check::dependency): registering one in the liveness group logs a warning.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::health::{Check, HealthCheck};

mod manual;
mod tcp;
pub use manual::Manual;
pub use tcp::Tcp;

/// The health+json component type of other services and endpoints.
const COMPONENT: &str = "component";

/// The [`Check`] every ready-made check turns into: one place for the defaults they share.
fn ready_made(
    name: impl Into<Arc<str>>,
    check: impl HealthCheck,
    component_type: &'static str,
    timeout: Duration,
) -> Check {
    Check::from_health_check(name, check)
        .component_type(component_type)
        .timeout(timeout)
}

/// Milliseconds since `started`, to a tenth.
fn elapsed_ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
}
