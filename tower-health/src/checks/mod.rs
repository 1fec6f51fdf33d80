//! Ready-made checks that need no client crate: [`Manual`] and [`Tcp`].
//!
//! Each check is a plain value with a builder for its options. It implements [`HealthCheck`], and
//! `into_check(name)` turns it into a [`Check`] with a sensible default timeout and health+json
//! `componentType`, registered like any other check (and adjustable like any other: probes,
//! criticality, another timeout).
//!
//! | check | feature | component type | default timeout |
//! | --- | --- | --- | --- |
//! | [`Manual`]: what the application last reported (`pass`, `warn`, `fail`), optionally expiring | none | `component` | 1 s |
//! | [`Tcp`]: connect to `host:port` | none | `component` | 500 ms |
//!
//! They stay in the core because they need nothing beyond it: `Manual` reads what the application
//! reports, `Tcp` opens a connection with tokio. The checks built on a client crate or on system
//! access (HTTP, upstream health, disk, memory, PostgreSQL, Redis, TLS certificates, DNS, gRPC)
//! are in the tower-health-checks crate, each behind a feature of its own, so that an application
//! builds only the clients it uses.
//!
//! ```
//! use std::time::Duration;
//! use tower_health::{Health, checks::Tcp};
//!
//! let health = Health::new();
//! health.register(
//!     Tcp::new("127.0.0.1:5432")
//!         .into_check("postgres-port")
//!         .timeout(Duration::from_millis(200)),
//! );
//! ```

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
