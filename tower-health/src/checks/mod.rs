//! Ready-made checks for what services depend on.
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
//! | `Http`: GET a URL, pass on 2xx | `http-check` | `component` | 800 ms |
//! | `Upstream`: another service's health+json `status` | `http-check` | `component` | 800 ms |
//! | `Disk`: free space under a path | `disk` | `system` | 250 ms |
//! | `Memory`: the process against its cgroup limit or the machine | `memory` | `system` | 250 ms |
//! | `Postgres`: `SELECT 1` through an sqlx `PgPool` | `postgres` | `datastore` | 500 ms |
//! | `Redis`: `PING` through a redis async connection | `redis` | `datastore` | 500 ms |
//! | `TlsCert`: days until a certificate (PEM file or TLS handshake) expires | `tls-check` | `component` | 800 ms |
//! | `Dns`: a name resolves, optionally to expected addresses | `dns-check` | `component` | 800 ms |
//! | `Grpc`: another service's `grpc.health.v1` `Check` of a service | `grpc-check` | `component` | 800 ms |
//!
//! Messages say what failed without credentials: URLs are shown as scheme, host and path only
//! (no user names, passwords, query or fragment), whatever the details policy.
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

#[cfg(feature = "http-check")]
mod http;
#[cfg(feature = "http-check")]
pub use http::Http;

#[cfg(feature = "http-check")]
mod upstream;
#[cfg(feature = "http-check")]
pub use upstream::Upstream;

#[cfg(any(feature = "disk", feature = "memory"))]
mod threshold;
#[cfg(any(feature = "disk", feature = "memory"))]
pub use threshold::Amount;
#[cfg(any(feature = "disk", feature = "memory"))]
use threshold::{Bad, Thresholds};

#[cfg(feature = "disk")]
mod disk;
#[cfg(feature = "disk")]
pub use disk::Disk;

#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "memory")]
pub use memory::{Memory, MemoryLimit, MemoryUsage};

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
pub use postgres::Postgres;

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
pub use redis::Redis;

#[cfg(feature = "tls-check")]
mod tls;
#[cfg(feature = "tls-check")]
pub use tls::TlsCert;

#[cfg(feature = "dns-check")]
mod dns;
#[cfg(feature = "dns-check")]
pub use dns::Dns;

#[cfg(feature = "grpc-check")]
mod grpc;
#[cfg(feature = "grpc-check")]
pub use grpc::Grpc;

/// The health+json component type of datastores (PostgreSQL, Redis).
#[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
pub(crate) const DATASTORE: &str = "datastore";
/// The health+json component type of the machine's resources (disk, memory).
#[cfg_attr(not(any(feature = "disk", feature = "memory")), allow(dead_code))]
pub(crate) const SYSTEM: &str = "system";
/// The health+json component type of other services and endpoints.
pub(crate) const COMPONENT: &str = "component";

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

/// Runs blocking reads on tokio's blocking pool one at a time.
///
/// A timeout drops the future awaiting a read, not the thread doing it: a read stuck on a hung
/// mount would otherwise leave one more stuck thread per run until the pool is exhausted. While
/// the previous read is still pending, a run fails at once instead. Clones share the guard.
#[cfg(any(feature = "disk", feature = "memory"))]
#[derive(Clone, Debug, Default)]
struct OneAtATime(Arc<std::sync::atomic::AtomicBool>);

#[cfg(any(feature = "disk", feature = "memory"))]
impl OneAtATime {
    /// Runs `read` on the blocking pool unless the previous one is still pending; `what` names
    /// the read in the message of a failure.
    async fn run<T: Send + 'static>(
        &self,
        what: &str,
        read: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        use std::sync::atomic::Ordering;
        if self.0.swap(true, Ordering::AcqRel) {
            return Err(format!("still waiting for the previous {what} to return"));
        }
        /// Clears the flag when the read ends, panics, or never runs.
        struct Done(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let done = Done(self.0.clone());
        tokio::task::spawn_blocking(move || {
            let _done = done;
            read()
        })
        .await
        .map_err(|e| format!("the {what} stopped: {e}"))
    }
}

/// Milliseconds since `started`, to a tenth.
fn elapsed_ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
}

/// An error and its sources, `outer: inner: innermost`, credentials removed.
#[cfg_attr(
    not(any(feature = "http-check", feature = "postgres", feature = "redis")),
    allow(dead_code)
)]
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        // Some errors already repeat their source in their own message.
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    redact(&text)
}

/// `text` with every URL in it cut to its scheme, authority without user information
/// (`user:password@`) and path: the query and fragment, where tokens are passed, are removed.
///
/// Error messages of drivers and clients may repeat the URL they were given; a check's message
/// must never show credentials.
#[cfg_attr(
    not(any(feature = "http-check", feature = "postgres", feature = "redis")),
    allow(dead_code)
)]
fn redact(text: &str) -> String {
    let ends_at = |text: &str, stop: fn(char) -> bool| text.find(stop).unwrap_or(text.len());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The authority ends at the first '/', '?', '#' or whitespace; credentials end at its
        // last '@'.
        let end = ends_at(after, |c| matches!(c, '/' | '?' | '#') || c.is_whitespace());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &after[end..];
        let path = ends_at(rest, |c| matches!(c, '?' | '#') || c.is_whitespace());
        out.push_str(&rest[..path]);
        // The query and fragment run to the next whitespace.
        rest = &rest[path..];
        rest = &rest[ends_at(rest, char::is_whitespace)..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_credentials_from_every_url() {
        assert_eq!(
            redact("cannot reach postgres://app:s3cret@db:5432/orders?sslmode=require, retrying"),
            "cannot reach postgres://db:5432/orders retrying"
        );
        assert_eq!(
            redact("GET https://bot:pw@api.example/v1/status?token=t0k3n&x=1#frag failed"),
            "GET https://api.example/v1/status failed"
        );
        assert_eq!(redact("at http://h?token=t0k3n"), "at http://h");
        assert_eq!(
            redact("redis://:p@ss@cache:6379 and http://u:p@h/x"),
            "redis://cache:6379 and http://h/x"
        );
        assert_eq!(redact("no url here"), "no url here");
        assert_eq!(redact("http://host:80/a@b"), "http://host:80/a@b");
    }
}
