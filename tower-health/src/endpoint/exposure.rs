//! How much of a report an answer shows: an [`Exposure`] level for every request, raised for
//! requests a predicate accepts.

use std::fmt;
use std::sync::Arc;

use http::request;

use crate::health::Exposure;

type Predicate = Arc<dyn Fn(&request::Parts) -> bool + Send + Sync>;

/// Who sees how much: an [`Exposure`] level for every request, raised for requests a predicate
/// accepts ([`ExposurePolicy::when`]). The default shows [`Exposure::Names`] to everyone; an
/// [`Exposure`] converts into a `ExposurePolicy` that shows that level to everyone.
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
