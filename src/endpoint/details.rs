//! Whether an answer shows check messages.

use std::fmt;
use std::sync::Arc;

use http::request;

/// Whether a response shows check messages (which can leak hostnames and connection strings).
///
/// Messages are always logged, whatever the policy. What each setting tells whoever can reach
/// the endpoint:
///
/// - [`Details::Never`] (the default on every endpoint): the aggregate status, and the name, status,
///   time and component type of each check. Names alone tell an attacker which dependencies the
///   service has (`postgres`, `redis`, `payments-api`); name checks accordingly where the
///   endpoint is public.
/// - [`Details::Always`]: also every message of a check that is not passing: error texts that
///   often carry hostnames, ports, IP addresses, user names, library versions and file paths, and
///   tell an attacker when a dependency is down or slow (the moment to strike). Only for
///   endpoints that nobody outside the cluster can reach.
/// - [`Details::When`]: messages only to requests the predicate accepts (a token header, a
///   client address on an internal network, a port of its own). A predicate
///   that trusts a header any client can set (`X-Forwarded-For`) exposes as much as `Always`.
///
/// ```
/// use tower_health::{Details, HealthLayer};
///
/// // Messages for requests that carry the operator token; names and statuses for the rest.
/// let token = std::env::var("HEALTH_TOKEN").unwrap_or_default();
/// let layer = HealthLayer::new().details(Details::when(move |request| {
///     !token.is_empty()
///         && request.headers.get("x-health-token").is_some_and(|value| value == token.as_str())
/// }));
/// ```
#[derive(Clone, Default)]
pub enum Details {
    /// Names and statuses only (the default).
    #[default]
    Never,
    /// Messages too: anyone who can reach the endpoint reads them.
    Always,
    /// Messages for requests the predicate accepts (a token header, an internal port).
    When(Arc<dyn Fn(&request::Parts) -> bool + Send + Sync>),
}

impl Details {
    /// Shows messages to requests `predicate` accepts.
    pub fn when(predicate: impl Fn(&request::Parts) -> bool + Send + Sync + 'static) -> Self {
        Details::When(Arc::new(predicate))
    }

    pub(crate) fn allows(&self, request: &request::Parts) -> bool {
        match self {
            Details::Never => false,
            Details::Always => true,
            Details::When(predicate) => predicate(request),
        }
    }
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Details::Never => f.write_str("Never"),
            Details::Always => f.write_str("Always"),
            Details::When(_) => f.write_str("When(..)"),
        }
    }
}
