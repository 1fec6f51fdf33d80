//! The TCP check: can a connection to `host:port` be opened?

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::{COMPONENT, elapsed_ms, ready_made};
use crate::health::{Check, CheckResult, HealthCheck};

/// Passes when a TCP connection to `host:port` opens; fails with the connection error.
///
/// The connection is closed at once. Observes the connect time in `ms`. Component type
/// `component`, default timeout 500 ms.
///
/// ```
/// use tower_health::{Health, checks::Tcp};
///
/// Health::new().register(Tcp::new("localhost:6379").into_check("cache-port").non_critical());
/// ```
#[derive(Clone, Debug)]
pub struct Tcp {
    address: Arc<str>,
}

impl Tcp {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

    /// A check connecting to `address`, a `host:port` (the host may be a name, resolved on
    /// every run, or an IP address).
    pub fn new(address: impl Into<Arc<str>>) -> Self {
        Tcp {
            address: address.into(),
        }
    }

    /// The check named `name`, with component type `component` and a 500 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        ready_made(name, self, COMPONENT, Self::DEFAULT_TIMEOUT).dependency()
    }
}

impl HealthCheck for Tcp {
    async fn check(&self) -> CheckResult {
        let started = Instant::now();
        match TcpStream::connect(&*self.address).await {
            Ok(_) => CheckResult::pass().observed(elapsed_ms(started), "ms"),
            Err(e) => CheckResult::fail(format!("cannot connect to {}: {e}", self.address)),
        }
    }
}
