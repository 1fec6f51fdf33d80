//! The HTTP check: does a URL answer GET with a passing status, quickly enough?
//!
//! Also the client plumbing the `Upstream` check shares.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use tower_health::{Check, CheckResult, HealthCheck};

use crate::{COMPONENT, elapsed_ms, error_chain, ready_made, redact};

/// The client every check uses unless given one: plain HTTP, one idle connection per host.
fn default_client() -> Arc<dyn Get> {
    Arc::new(
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1)
            .build::<_, Empty<Bytes>>(HttpConnector::new()),
    )
}

/// What the checks need of a client: GET a URI, read at most `body_limit` bytes of the body.
trait Get: Send + Sync + 'static {
    fn get(&self, uri: Uri, body_limit: usize) -> BoxFuture<'static, Result<Fetched, String>>;
}

/// A response: its status and up to the body limit of its body.
pub(super) struct Fetched {
    pub(super) status: StatusCode,
    /// Read by the upstream check only; empty for a body limit of 0.
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(super) body: Bytes,
    pub(super) latency_ms: f64,
}

impl<C> Get for Client<C, Empty<Bytes>>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    fn get(&self, uri: Uri, body_limit: usize) -> BoxFuture<'static, Result<Fetched, String>> {
        let client = self.clone();
        Box::pin(async move {
            let request = Request::get(uri)
                .header(http::header::USER_AGENT, "tower-health")
                .body(Empty::new())
                .map_err(|e| error_chain(&e))?;
            let started = Instant::now();
            let response = client.request(request).await.map_err(|e| error_chain(&e))?;
            let latency_ms = elapsed_ms(started);
            let status = response.status();
            let body = if body_limit == 0 {
                Bytes::new()
            } else {
                Limited::new(response.into_body(), body_limit)
                    .collect()
                    .await
                    .map_err(|e| format!("reading the body: {}", redact(&e.to_string())))?
                    .to_bytes()
            };
            Ok(Fetched {
                status,
                body,
                latency_ms,
            })
        })
    }
}

/// A URL to GET and the client to GET it with.
#[derive(Clone)]
pub(super) struct Target {
    uri: Result<Uri, String>,
    /// The URL as messages show it: without credentials.
    shown: Arc<str>,
    client: Arc<dyn Get>,
}

impl Target {
    pub(super) fn new(url: &str) -> Self {
        let shown: Arc<str> = redact(url).into();
        Target {
            uri: url
                .parse::<Uri>()
                .map_err(|e| format!("invalid URL {shown}: {e}")),
            shown,
            client: default_client(),
        }
    }

    pub(super) fn client<C>(mut self, client: Client<C, Empty<Bytes>>) -> Self
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        self.client = Arc::new(client);
        self
    }

    /// The URL as messages show it.
    pub(super) fn shown(&self) -> &str {
        &self.shown
    }

    /// GETs the URL; a failure is a failing result that says why.
    pub(super) async fn get(&self, body_limit: usize) -> Result<Fetched, CheckResult> {
        let uri = self.uri.clone().map_err(CheckResult::fail)?;
        self.client
            .get(uri, body_limit)
            .await
            .map_err(|e| CheckResult::fail(format!("GET {} failed: {e}", self.shown)))
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Target").field(&self.shown).finish()
    }
}

/// GETs a URL: passes on a 2xx status (or the statuses chosen), fails otherwise with the status
/// in the message, and optionally warns when the answer is slow.
///
/// Observes the latency in `ms`. Component type `component`, default timeout 800 ms. The body
/// is not read. Credentials in the URL never appear in messages.
///
/// The default client speaks plain HTTP; for HTTPS give it a client with a TLS connector
/// (such as hyper-rustls's) with [`client`](Self::client).
///
/// ```
/// use std::time::Duration;
/// use tower_health::Health;
/// use tower_health_checks::Http;
///
/// Health::new().register(
///     Http::new("http://payments.internal/ping")
///         .pass_statuses([200, 204])
///         .warn_above(Duration::from_millis(250))
///         .into_check("payments")
///         .non_critical(),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Http {
    target: Target,
    pass: Option<Arc<[u16]>>,
    warn_above: Option<Duration>,
}

impl Http {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);

    /// A check GETting `url` (an invalid URL makes every run fail, saying so).
    pub fn new(url: &str) -> Self {
        Http {
            target: Target::new(url),
            pass: None,
            warn_above: None,
        }
    }

    /// Passes on these statuses only, instead of any 2xx.
    #[must_use]
    pub fn pass_statuses(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.pass = Some(statuses.into_iter().collect());
        self
    }

    /// Warns when the response takes longer than `latency` (the timeout still fails it).
    #[must_use]
    pub fn warn_above(mut self, latency: Duration) -> Self {
        self.warn_above = Some(latency);
        self
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

    fn passes(&self, status: StatusCode) -> bool {
        match &self.pass {
            Some(statuses) => statuses.contains(&status.as_u16()),
            None => status.is_success(),
        }
    }
}

impl HealthCheck for Http {
    async fn check(&self) -> CheckResult {
        let fetched = match self.target.get(0).await {
            Ok(fetched) => fetched,
            Err(failed) => return failed,
        };
        let latency = fetched.latency_ms;
        let result = if !self.passes(fetched.status) {
            CheckResult::fail(format!(
                "GET {} answered {}",
                self.target.shown(),
                fetched.status
            ))
        } else {
            match self.warn_above {
                Some(limit) if latency > limit.as_secs_f64() * 1000.0 => {
                    CheckResult::warn(format!(
                        "GET {} took {latency} ms, above the warn threshold of {limit:?}",
                        self.target.shown()
                    ))
                }
                _ => CheckResult::pass(),
            }
        };
        result
            .observed(latency, "ms")
            .data("statusCode", fetched.status.as_u16())
    }
}
