//! The gRPC check: another service's `grpc.health.v1.Health/Check` of a named service.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tower_health::{Check, CheckResult, HealthCheck};

use crate::{COMPONENT, elapsed_ms, error_chain, ready_made, redact};

/// Asks another service's gRPC health service (`grpc.health.v1.Health/Check`) about a service
/// name: passes on `SERVING`, fails on `NOT_SERVING` (or `UNKNOWN`), on `NOT_FOUND` (the server
/// does not know the service, which the message says), on any other error status and when the
/// server cannot be reached.
///
/// The service name is `""` (the server as a whole) unless [`service`](Self::service) names one.
/// The channel connects on the first run and is kept for the next ones, reconnecting when the
/// connection breaks; the default one speaks plain HTTP/2 to an `http://` URL, and
/// [`channel`](Self::channel) takes one of the application's (for TLS or other settings).
/// Observes the round trip in `ms`. Component type `component`, default timeout 800 ms.
///
/// ```
/// use tower_health::Health;
/// use tower_health_checks::Grpc;
///
/// Health::new().register(
///     Grpc::new("http://ledger.internal:50051")
///         .service("ledger.v1.Ledger")
///         .into_check("ledger"),
/// );
/// ```
#[derive(Clone)]
pub struct Grpc {
    endpoint: Result<Endpoint, String>,
    /// The URL as messages show it: without credentials.
    shown: Arc<str>,
    service: Arc<str>,
    /// Made on the first run (it needs the runtime), shared by clones made after it.
    channel: Arc<OnceLock<Channel>>,
}

impl Grpc {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);

    /// A check of the server at `url` (`http://host:port`; an invalid URL makes every run fail,
    /// saying so), asking about the service `""`.
    pub fn new(url: &str) -> Self {
        let shown: Arc<str> = redact(url).into();
        Grpc {
            endpoint: Endpoint::from_shared(url.to_owned())
                .map_err(|e| format!("invalid URL {shown}: {}", error_chain(&e))),
            shown,
            service: "".into(),
            channel: Arc::default(),
        }
    }

    /// Asks about `service` (such as `package.Service`) instead of the server as a whole.
    #[must_use]
    pub fn service(mut self, service: impl Into<Arc<str>>) -> Self {
        self.service = service.into();
        self
    }

    /// Sends the health calls over `channel` (built and configured by the application) instead of
    /// a plain HTTP/2 channel to the URL, which then only names the server in messages.
    #[must_use]
    pub fn channel(mut self, channel: Channel) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(channel);
        self.channel = Arc::new(cell);
        self
    }

    /// The check named `name`, with component type `component` and an 800 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        ready_made(name, self, COMPONENT, Self::DEFAULT_TIMEOUT).dependency()
    }

    fn channel_now(&self) -> Result<Channel, String> {
        if let Some(channel) = self.channel.get() {
            return Ok(channel.clone());
        }
        let endpoint = self.endpoint.as_ref().map_err(Clone::clone)?;
        Ok(self.channel.get_or_init(|| endpoint.connect_lazy()).clone())
    }
}

impl std::fmt::Debug for Grpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grpc")
            .field("url", &self.shown)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl HealthCheck for Grpc {
    async fn check(&self) -> CheckResult {
        let channel = match self.channel_now() {
            Ok(channel) => channel,
            Err(e) => return CheckResult::fail(e),
        };
        let service = &*self.service;
        let shown = &*self.shown;
        let started = Instant::now();
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await;
        let ms = elapsed_ms(started);
        let status = match answer {
            Ok(response) => response.into_inner().status(),
            Err(status) if status.code() == Code::NotFound => {
                return CheckResult::fail(format!(
                    "{shown} does not know the service {service:?} (NOT_FOUND)"
                ))
                .observed(ms, "ms");
            }
            Err(status) => {
                let mut why = format!("{:?}", status.code());
                if !status.message().is_empty() {
                    why.push_str(": ");
                    why.push_str(&redact(status.message()));
                }
                if let Some(source) = std::error::Error::source(&status) {
                    let chain = error_chain(source);
                    if !why.contains(&chain) {
                        why.push_str(": ");
                        why.push_str(&chain);
                    }
                }
                return CheckResult::fail(format!(
                    "health check of {service:?} at {shown} failed: {why}"
                ));
            }
        };
        let result = match status {
            ServingStatus::Serving => CheckResult::pass(),
            other => CheckResult::fail(format!(
                "{shown} reports the service {service:?} as {}",
                other.as_str_name()
            )),
        };
        result
            .observed(ms, "ms")
            .data("servingStatus", status.as_str_name())
    }
}
