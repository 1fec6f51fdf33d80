//! How much of a report an answer shows: an [`Exposure`] level for every request, raised for
//! requests a predicate accepts.

use std::fmt;
use std::sync::Arc;

use http::request;

use crate::health::Exposure;

type Predicate = Arc<dyn Fn(&request::Parts) -> bool + Send + Sync>;

/// Who sees how much: an [`Exposure`] level for every request, raised for requests a predicate
/// accepts ([`ExposurePolicy::when`]). The default shows [`Exposure::Names`] to everyone; an
/// [`Exposure`] converts into an `ExposurePolicy` that shows that level to everyone.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use http::{Request, StatusCode};
/// use http_body_util::BodyExt;
/// use tower::ServiceExt;
/// use tower_health::{Check, ExposurePolicy, Exposure, Health, HealthLayer, authorize};
///
/// let health = Health::new();
/// health.register(Check::new("payments-db", || async { Err::<(), _>("10.0.0.7:5432 refused") }));
/// // The status for everyone, names and messages for requests bearing the operator token.
/// let details = ExposurePolicy::new(Exposure::StatusOnly)
///     .when(Exposure::Messages, authorize::bearer("s3cret-operator-token"));
/// let service = tower::ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health).exposure(details))
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
///
/// let anonymous = Request::get("/health").body(String::new()).unwrap();
/// let response = service.clone().oneshot(anonymous).await.unwrap();
/// assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
/// let body = response.into_body().collect().await.unwrap().to_bytes();
/// assert_eq!(body, r#"{"status":"fail"}"#);
///
/// let operator = Request::get("/health")
///     .header("authorization", "Bearer s3cret-operator-token")
///     .body(String::new())
///     .unwrap();
/// let body = service.oneshot(operator).await.unwrap().into_body().collect().await.unwrap();
/// let body = String::from_utf8(body.to_bytes().to_vec()).unwrap();
/// assert!(body.contains("payments-db") && body.contains("10.0.0.7:5432 refused"));
/// # }
/// ```
///
/// # Who sees what
///
/// Each endpoint shows each request one of three exposure levels; every level shows what the one
/// before it does, and more. Logs always have everything.
///
/// | level | shows | an attacker learns |
/// |---|---|---|
/// | [`Exposure::StatusOnly`] | the aggregate status (and so the HTTP code) and the lifecycle state's note | whether the service is up, nothing of what it depends on: no check name in any body or header, in any format |
/// | [`Exposure::Names`] (**default**) | also each check's name, status, time, component type and measurements (observed value and unit, a heartbeat check's data) | the service's dependencies and which one is down (`payments-postgres-eu1` says what to hit, and when) |
/// | [`Exposure::Messages`] | also the message of every check that is not passing | hostnames, ports, addresses, user names, versions and file paths from error texts |
///
/// Names are shown by default because probes, dashboards and the imitated packages read them,
/// and the kubelet never sees them anyway; messages are never shown unless allowed. An endpoint
/// that the internet can reach should be `StatusOnly`, raised for the requests you trust:
///
/// ```
/// use tower_health::authorize::{self, IpNet};
/// use tower_health::{ExposurePolicy, Exposure, HealthLayer};
///
/// let token = std::env::var("HEALTH_TOKEN").unwrap_or_default(); // empty: nobody is raised
/// let cluster: [IpNet; 2] = ["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()];
/// let layer = HealthLayer::new().exposure(
///     ExposurePolicy::new(Exposure::StatusOnly)
///         .when(Exposure::Names, authorize::peer_in(cluster))
///         .when(Exposure::Messages, authorize::bearer(token)),
/// );
/// ```
///
/// `ExposurePolicy::new(level)` is the level of every request; each `when(level, predicate)`
/// raises it for requests the predicate (any `Fn(&http::request::Parts) -> bool`) accepts, the
/// highest accepted winning; an `Exposure` alone (`exposure(Exposure::Messages)`) is that level
/// for all. The ready-made predicates ([`authorize`](crate::authorize)), and what each trusts:
///
/// | predicate | accepts | trusts |
/// |---|---|---|
/// | [`authorize::bearer`](crate::authorize::bearer)`(token)` | `Authorization: Bearer TOKEN`, compared in constant time (`subtle`); an empty token accepts nothing | whoever holds the token: serve it over TLS or an internal network, keep it out of URLs and logs |
/// | [`authorize::header`](crate::authorize::header)`(HeaderName, value)` | a header a proxy sets for clients it authenticated, compared in constant time | that every request comes through that proxy and the proxy strips the header from clients; combine with `peer_in(proxy addresses)` |
/// | [`authorize::peer_in`](crate::authorize::peer_in)`(networks)` | a peer address in one of the networks ([`IpNet`](crate::authorize::IpNet)s such as `10.0.0.0/8`, `::1/128`; IPv4-mapped IPv6 counts as IPv4) | the network; behind a proxy the peer is the proxy; `X-Forwarded-For` is never read. The peer comes from axum's `ConnectInfo<SocketAddr>` (`into_make_service_with_connect_info::<SocketAddr>()`, feature `axum`) or a `SocketAddr` the server inserted into the request's extensions (a hyper or hyper-util accept loop: neither inserts one on its own); without either nothing is accepted |
///
/// The layer's [`exposure`](crate::HealthLayer::exposure) (like its `format`, `status_codes`,
/// `warn_header` and `no_log`) is the default of every endpoint on it, the presets' and those
/// added with [`endpoint`](crate::HealthLayer::endpoint) included; an endpoint that sets its own
/// ([`Endpoint::exposure`](crate::Endpoint::exposure)) keeps its own
/// ([`Kubernetes`](crate::preset::Kubernetes) and [`FlaskHealthz`](crate::preset::FlaskHealthz)
/// have `exposure(..)` of their own too). What each format shows at each level:
///
/// | format (paths) | `StatusOnly` | `Names` adds | `Messages` adds |
/// |---|---|---|---|
/// | health+json (`/health`, `/health/{group}`, `/health/{group}/{check}`) | `status`, the gate's `notes` (`warming up`, `maintenance`); an unknown check's `output` repeats the name asked for | `checks` with each check's `status`, `time`, `componentType`, `observedValue`, `observedUnit` | each non-passing check's `output`; the top-level `output` listing the gate and the checks not passing |
/// | Kubernetes text (`/livez`, `/readyz`) | `ok`, or `[-]state failed: reason withheld` and `livez check failed` | a `[+]NAME ok` / `[-]NAME failed: reason withheld` line per check (on failure or `?verbose`), `excluded` and unknown-exclude lines | nothing more: the aggregate paths withhold reasons at every level, as the API server does |
/// | Kubernetes text (`/livez/NAME`) | `ok` or `internal server error: reason withheld` | nothing more | the reason |
/// | flask-healthz problem+json (`/healthz/NAME`) | `status` and `title` `OK` or the reason phrase | `The NAME check function could not be imported` for an unresolved check | the failure message as `title` |
/// | oarepo-heartbeat (`readiness`, `liveliness`) | `{"status": bool, "checks": {}}` | each check's entry: its data and `status` | a failing check's `message` |
/// | pyramid_health plain text | `OK`, `ERROR` or `MAINTENANCE` | nothing more | nothing more |
/// | py-12f-common lifecycle | the state's status and note; no checks at any level | nothing more | nothing more |
/// | gRPC `Check`/`Watch` | the serving status of the name asked for, at every level (exposure is an HTTP setting) | | |
/// | Prometheus text (`/health/metrics`, with [`metrics()`](crate::HealthLayer::metrics)) | `tower_health_service_status` and the request counts by endpoint path | every check's and group's series (their names are labels) | nothing more: no series carries a message |
///
/// At every level the status code of a per-check path (`/health/{group}/{check}`,
/// `/livez/NAME`, `/healthz/NAME`) tells whether a check of a guessed name exists (404 when
/// not): status-only keeps names out of answers, not out of guesses. Where that matters, serve
/// only aggregate endpoints
/// ([`without_default_endpoints()`](crate::HealthLayer::without_default_endpoints) and
/// `Endpoint::new(path).subject(..)`).
///
/// # What is off by default
///
/// Everything beyond names and statuses is off by default on every endpoint, built-in or added:
///
/// - **Check messages** (`Exposure::Messages`): error texts carry hostnames, ports, addresses,
///   user names, versions and paths, and tell an attacker when a dependency is down. Show them
///   with `ExposurePolicy::new(..).when(Exposure::Messages, authorize::bearer(..))` (or another
///   predicate) rather than to everyone. Messages are always logged.
/// - **Check names** (`Exposure::Names`, the default) list the service's dependencies. On a
///   public endpoint use `Exposure::StatusOnly`, raised for trusted requests.
/// - **Environment and build information** (an environ-style endpoint, health+json `version`,
///   `releaseId`, `serviceId`): off unless the application adds them; crate and compiler
///   versions tell an attacker which known vulnerabilities to try.
/// - **Work on request**: the cache and single-flight bound how often a public endpoint can make
///   the service run its checks (once per TTL per check; see
///   [`Check::cache`](crate::Check::cache)), and endpoints that run checks only on request
///   ([`Endpoint::run_checks_when`](crate::Endpoint::run_checks_when)) run none otherwise.
#[derive(Clone, Default)]
pub struct ExposurePolicy {
    level: Exposure,
    /// Higher levels and the requests they are for; the highest accepted wins.
    raised: Vec<(Exposure, Predicate)>,
}

impl ExposurePolicy {
    /// `level` for every request.
    pub fn new(level: Exposure) -> Self {
        ExposurePolicy {
            level,
            raised: Vec::new(),
        }
    }

    /// `level` for requests `predicate` accepts (a token, a trusted proxy's header, an
    /// internal network: see [`authorize`](crate::authorize)), where it is higher than what
    /// the request gets otherwise. The predicate sees the request's head, extensions included;
    /// one that trusts what any client can set (`X-Forwarded-For`) shows `level` to everyone.
    #[must_use]
    pub fn when(
        mut self,
        level: Exposure,
        predicate: impl Fn(&request::Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.raised.push((level, Arc::new(predicate)));
        self
    }

    /// The level `request` gets. Predicates that could not raise it are not asked.
    pub(crate) fn level_for(&self, request: &request::Parts) -> Exposure {
        self.raised
            .iter()
            .fold(self.level, |level, (raised, predicate)| {
                if *raised > level && predicate(request) {
                    *raised
                } else {
                    level
                }
            })
    }
}

impl From<Exposure> for ExposurePolicy {
    fn from(level: Exposure) -> Self {
        ExposurePolicy::new(level)
    }
}

impl fmt::Debug for ExposurePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raised: Vec<Exposure> = self.raised.iter().map(|(level, _)| *level).collect();
        f.debug_struct("ExposurePolicy")
            .field("level", &self.level)
            .field("raised_when_authorized", &raised)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(header: Option<&str>) -> request::Parts {
        let mut builder = http::Request::get("/health");
        if let Some(value) = header {
            builder = builder.header("x-level", value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_highest_accepted_level_wins() {
        let details = ExposurePolicy::new(Exposure::StatusOnly)
            .when(Exposure::Messages, |r| {
                r.headers.get("x-level").is_some_and(|v| v == "messages")
            })
            .when(Exposure::Names, |r| r.headers.contains_key("x-level"));
        assert_eq!(details.level_for(&request(None)), Exposure::StatusOnly);
        assert_eq!(details.level_for(&request(Some("names"))), Exposure::Names);
        assert_eq!(
            details.level_for(&request(Some("messages"))),
            Exposure::Messages
        );
    }

    #[test]
    fn a_predicate_never_lowers_the_level() {
        let details = ExposurePolicy::new(Exposure::Names).when(Exposure::StatusOnly, |_| true);
        assert_eq!(details.level_for(&request(None)), Exposure::Names);
        assert_eq!(
            ExposurePolicy::default().level_for(&request(None)),
            Exposure::Names
        );
    }
}
