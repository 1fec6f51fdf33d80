//! The upstream check: another service's health+json endpoint as one component.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::Connect;
use serde_json::Value;
use tower_health::{Check, CheckResult, HealthCheck, Status};

use crate::http::Target;
use crate::{COMPONENT, ready_made, redact};

/// The most of an upstream's body read; a health+json document is far smaller.
const BODY_LIMIT: usize = 64 * 1024;
/// The most of an upstream's `output` repeated in a message.
const OUTPUT_LIMIT: usize = 200;

/// GETs another service's `application/health+json` endpoint (another tower-health service, or
/// any that speaks the format) and takes its `status` as this check's.
///
/// `pass`/`ok`/`up` pass, `warn` warns, `fail`/`error`/`down` fail, whatever the HTTP status: a
/// 503 answering `fail` fails with the upstream's `output` when it shows one, a 200 answering
/// `warn` warns. A body without a status falls back to the HTTP status (2xx passes). Observes
/// the latency in `ms`. Component type `component`, default timeout 800 ms.
///
/// ```
/// use tower_health::Health;
/// use tower_health_checks::Upstream;
///
/// Health::new().register(
///     Upstream::new("http://inventory.internal/health/ready").into_check("inventory"),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Upstream {
    target: Target,
}

impl Upstream {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);

    /// A check reading the health+json document at `url`.
    pub fn new(url: &str) -> Self {
        Upstream {
            target: Target::new(url),
        }
    }

    /// Uses `client` instead of the default plain-HTTP one, for TLS or custom connection
    /// settings.
    #[must_use]
    pub fn client<C>(mut self, client: Client<C, Empty<Bytes>>) -> Self
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        self.target = self.target.client(client);
        self
    }

    /// The check named `name`, with component type `component` and an 800 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        ready_made(name, self, COMPONENT, Self::DEFAULT_TIMEOUT).dependency()
    }
}

impl HealthCheck for Upstream {
    async fn check(&self) -> CheckResult {
        let fetched = match self.target.get(BODY_LIMIT).await {
            Ok(fetched) => fetched,
            Err(failed) => return failed,
        };
        let shown = self.target.shown();
        let body: Option<Value> = serde_json::from_slice(&fetched.body).ok();
        let reported = body.as_ref().and_then(|body| body.get("status")?.as_str());
        let result = match reported.map(health_status) {
            Some(Some(Status::Pass)) => CheckResult::pass(),
            Some(Some(status)) => {
                let output = body
                    .as_ref()
                    .and_then(|body| body.get("output")?.as_str())
                    .map(|output| format!(": {}", truncate(&redact(output), OUTPUT_LIMIT)))
                    .unwrap_or_default();
                CheckResult::new(status).message(format!(
                    "{shown} reports {} ({}){output}",
                    status.as_str(),
                    fetched.status
                ))
            }
            Some(None) => CheckResult::fail(format!(
                "{shown} reports an unknown status {:?} ({})",
                truncate(reported.unwrap_or_default(), OUTPUT_LIMIT),
                fetched.status
            )),
            None if fetched.status.is_success() => CheckResult::pass(),
            None => CheckResult::fail(format!(
                "{shown} answered {} without a health status",
                fetched.status
            )),
        };
        result
            .observed(fetched.latency_ms, "ms")
            .data("statusCode", fetched.status.as_u16())
    }
}

/// The status a health+json `status` value stands for.
fn health_status(status: &str) -> Option<Status> {
    match status.to_ascii_lowercase().as_str() {
        "pass" | "ok" | "up" => Some(Status::Pass),
        "warn" => Some(Status::Warn),
        "fail" | "error" | "down" => Some(Status::Fail),
        _ => None,
    }
}

/// At most `limit` characters of `text`, with an ellipsis when cut.
fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
