//! Ready-made checks for [tower-health](tower_health): HTTP endpoints, another service's health,
//! the disk, the process's memory, PostgreSQL, Redis, TLS certificates, DNS and gRPC health, each
//! behind a feature of its name with the client crate it needs.
//!
//! Each check is a plain value with a builder for its options. It implements
//! [`HealthCheck`](tower_health::HealthCheck), and `into_check(name)` turns it into a
//! [`Check`](tower_health::Check) with a sensible default timeout and health+json
//! `componentType`, registered like any other check (and adjustable like any other: probes,
//! criticality, another timeout). The checks that need no client crate, `Manual` and `Tcp`, are
//! in the core, in [`tower_health::checks`].
//!
//! | check | feature | options (defaults) | component type | default timeout | observed |
//! | --- | --- | --- | --- | --- | --- |
//! | [`Http`]`::new(url)`: GET, pass on 2xx, fail with the status | `http` | `pass_statuses([..])` (any 2xx), `warn_above(latency)` (off), `client(..)` (plain HTTP) | `component` | 800 ms | latency, `ms` |
//! | [`Upstream`]`::new(url)`: another service's health+json `status` (pass/warn/fail, whatever the HTTP code; the remote `output` in the message) | `upstream` | `client(..)` | `component` | 800 ms | latency, `ms` |
//! | [`Disk`]`::new(path)`: space available on the filesystem holding `path` | `disk` | `warn_below(Amount)` (10%), `fail_below(Amount)` (5%) | `system` | 250 ms | available, `percent` |
//! | [`Memory`]`::new()`: resident memory against the cgroup limit (v2 `memory.max`, v1 `memory.limit_in_bytes`), else the machine's memory; Linux | `memory` | `warn_above(Amount)` (80%), `fail_above(Amount)` (95%) | `system` | 250 ms | used, `percent` |
//! | [`Postgres`]`::new(pool)`: `SELECT 1` through the application's sqlx `PgPool` | `postgres` | | `datastore` | 500 ms | round trip, `ms` |
//! | [`Redis`]`::new(connection)`: `PING`, pass on `PONG`, through a redis `ConnectionManager` or `MultiplexedConnection` | `redis` | | `datastore` | 500 ms | round trip, `ms` |
//! | [`TlsCert::pem_file`]`(path)` / [`TlsCert::remote`]`("host:port")`: a certificate's validity dates, of a PEM file (the certificate in it that expires first) or of the one a server presents in a TLS handshake; fails when expired, not yet valid or unreadable | `tls` | `warn_within_days(n)` (14), `server_name(..)` (the host part) | `component` | 800 ms | whole days left, `days` |
//! | [`Dns`]`::new(name)`: A and AAAA lookup; fails on NXDOMAIN, no address, or an expected address missing | `dns` | `nameserver(addr)` (the system's configuration), `expect(ip)` (none) | `component` | 800 ms | lookup time, `ms` |
//! | [`Grpc`]`::new(url)`: another service's `grpc.health.v1` `Check`: `SERVING` passes; `NOT_SERVING`, `NOT_FOUND` and errors fail | `grpc` | `service(name)` (`""`), `channel(..)` (plain HTTP/2, connected on first use and kept) | `component` | 800 ms | round trip, `ms` |
//!
//! [`Amount`] is `Bytes(n)` (or `Amount::mib(n)`, `Amount::gib(n)`) or `Percent(p)` of the total;
//! `None` turns a threshold off.
//!
//! The checks that ask another service (all but `Disk`, `Memory` and a `TlsCert` of a PEM file)
//! are marked as a [dependency](tower_health::Check::dependency): registering one in the
//! liveness group warns, since its failure would restart every instance.
//!
//! No feature is on by default; `upstream` turns on `http`. `Amount`, the thresholds of the
//! disk and memory checks, comes with either of their features.
//!
//! Messages say what failed (`GET http://inventory/health answered 503 Service Unavailable`,
//! `SELECT 1 failed: ... password authentication failed for user "app"`) without credentials:
//! URLs are shown as scheme, host and path only (no user names, passwords, query or fragment),
//! whatever the exposure policy.
//!
//! # Clients
//!
//! The PostgreSQL check uses sqlx 0.8 (`postgres` and `runtime-tokio` only, no macros), the most
//! used async PostgreSQL pool in the ecosystem; the Redis check uses redis 1.x (its connection
//! type is part of the check's API, so the application must use redis 1.x too). Applications on
//! another driver or major version wrap their ping in `Check::new`. HTTPS URLs need a client
//! with a TLS connector (`.client(..)`).
//!
//! The TLS check's handshake (rustls, ring provider) **accepts any certificate**: it is about
//! expiry, not trust, so self-signed and privately issued certificates are checked like any
//! other (the server must still prove it holds the certificate's key). It sends the host part
//! of `host:port` as the server name (SNI), none for an IP address unless `server_name(..)`
//! gives one, and judges the end-entity certificate; a PEM file's every certificate counts,
//! since a chain with an expired intermediate is broken too. Results carry the certificate's
//! `subject` and `notAfter`. The DNS check uses hickory-resolver, so it can be pointed at one
//! server (`nameserver(addr)`, UDP and TCP, no hosts file); every run asks again (no cache), and
//! the addresses found are in the result's `addresses`. The gRPC check uses tonic's client and
//! tonic-health's generated types; for TLS give it a channel of your own (`channel(..)`).
//!
//! A database that is down often shows as `check timed out after 500ms` rather than the
//! driver's error: the drivers wait and retry longer than the check's timeout (sqlx's `acquire`
//! waits for a connection up to the pool's `acquire_timeout`, 30 s by default; redis's
//! `ConnectionManager` retries reconnecting with backoff). To see the driver's error instead,
//! keep its waits below the check's timeout:
//! `PgPoolOptions::new().acquire_timeout(Duration::from_millis(300))`, and
//! `ConnectionManagerConfig::new().set_number_of_retries(1).set_connection_timeout(Some(Duration::from_millis(300)))`
//! for redis.
//!
//! `cargo run -p tower-health-checks --example checks --features http,disk` serves an app with
//! three of them.
//!
//! # Example
//!
//! With `tower-health-checks = { version = "0.3", features = ["http", "disk"] }`:
//!
// The example needs `http` and `disk`: a doctest with both, shown uncompiled without.
#![cfg_attr(all(feature = "http", feature = "disk"), doc = "```")]
#![cfg_attr(not(all(feature = "http", feature = "disk")), doc = "```ignore")]
//! use std::time::Duration;
//!
//! use tower_health::Health;
//! use tower_health::checks::Tcp;
//! use tower_health_checks::{Amount, Disk, Http};
//!
//! let health = Health::new();
//! health.register(Tcp::new("db.internal:5432").into_check("database-port"));
//! health.register(
//!     Http::new("http://payments.internal/ping")
//!         .warn_above(Duration::from_millis(250))
//!         .into_check("payments")
//!         .non_critical(),
//! );
//! health.register(Disk::new("/var/lib/app").fail_below(Amount::gib(1)).into_check("disk"));
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![deny(unreachable_pub)]

#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use http::Http;

#[cfg(feature = "upstream")]
mod upstream;
#[cfg(feature = "upstream")]
#[cfg_attr(docsrs, doc(cfg(feature = "upstream")))]
pub use upstream::Upstream;

#[cfg(any(feature = "disk", feature = "memory"))]
mod threshold;
#[cfg(any(feature = "disk", feature = "memory"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "disk", feature = "memory"))))]
pub use threshold::Amount;
#[cfg(any(feature = "disk", feature = "memory"))]
use threshold::{Bad, Thresholds};

#[cfg(feature = "disk")]
mod disk;
#[cfg(feature = "disk")]
#[cfg_attr(docsrs, doc(cfg(feature = "disk")))]
pub use disk::Disk;

#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "memory")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory")))]
pub use memory::{Memory, MemoryLimit, MemoryUsage};

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::Postgres;

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::Redis;

#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::TlsCert;

#[cfg(feature = "dns")]
mod dns;
#[cfg(feature = "dns")]
#[cfg_attr(docsrs, doc(cfg(feature = "dns")))]
pub use dns::Dns;

#[cfg(feature = "grpc")]
mod grpc;
#[cfg(feature = "grpc")]
#[cfg_attr(docsrs, doc(cfg(feature = "grpc")))]
pub use grpc::Grpc;

/// The README's example, compiled as a doctest.
#[cfg(all(doctest, feature = "http", feature = "disk"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The health+json component type of datastores (PostgreSQL, Redis).
#[cfg(any(feature = "postgres", feature = "redis"))]
const DATASTORE: &str = "datastore";
/// The health+json component type of the machine's resources (disk, memory).
#[cfg(any(feature = "disk", feature = "memory"))]
const SYSTEM: &str = "system";
/// The health+json component type of other services and endpoints.
#[cfg(any(feature = "http", feature = "tls", feature = "dns", feature = "grpc"))]
const COMPONENT: &str = "component";

/// The [`Check`](tower_health::Check) every check here turns into: one place for the defaults
/// they share (the core's `Manual` and `Tcp` have the same few lines).
#[cfg(any(
    feature = "http",
    feature = "disk",
    feature = "memory",
    feature = "postgres",
    feature = "redis",
    feature = "tls",
    feature = "dns",
    feature = "grpc"
))]
fn ready_made(
    name: impl Into<std::sync::Arc<str>>,
    check: impl tower_health::HealthCheck,
    component_type: &'static str,
    timeout: std::time::Duration,
) -> tower_health::Check {
    tower_health::Check::from_health_check(name, check)
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
struct OneAtATime(std::sync::Arc<std::sync::atomic::AtomicBool>);

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
        struct Done(std::sync::Arc<std::sync::atomic::AtomicBool>);
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
#[cfg(any(
    feature = "http",
    feature = "postgres",
    feature = "redis",
    feature = "dns",
    feature = "grpc"
))]
fn elapsed_ms(started: std::time::Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
}

/// An error and its sources, `outer: inner: innermost`, credentials removed.
#[cfg(any(
    feature = "http",
    feature = "postgres",
    feature = "redis",
    feature = "tls",
    feature = "dns",
    feature = "grpc"
))]
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
#[cfg(any(
    feature = "http",
    feature = "postgres",
    feature = "redis",
    feature = "tls",
    feature = "dns",
    feature = "grpc"
))]
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

#[cfg(all(
    test,
    any(
        feature = "http",
        feature = "postgres",
        feature = "redis",
        feature = "tls",
        feature = "dns",
        feature = "grpc"
    )
))]
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
