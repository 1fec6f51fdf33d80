//! Response formats: how an [`Answer`] becomes a status, a content type and a body.
//!
//! A format is any [`Format`], including a closure, so an application can replace the built-in
//! ones:
//!
//! ```
//! use http::StatusCode;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use http::{Request, Response};
//! use http_body_util::BodyExt;
//! use tower::ServiceExt;
//! use tower_health::format::{Answer, Rendered};
//! use tower_health::{Endpoint, Group, HealthLayer, Subject};
//!
//! let plain = |answer: &Answer<'_>| {
//!     Rendered::new(answer.status_code, "text/plain", answer.status.as_str().to_owned())
//! };
//! let layer = HealthLayer::new()
//!     .endpoint(Endpoint::new("/up").subject(Subject::group(Group::READY)).format(plain));
//! let service = tower::ServiceBuilder::new()
//!     .layer(layer)
//!     .service_fn(|_: Request<String>| async { Ok::<_, std::convert::Infallible>(Response::new(String::new())) });
//! let response = service.oneshot(Request::get("/up").body(String::new()).unwrap()).await.unwrap();
//! assert_eq!(response.headers()["content-type"], "text/plain");
//! assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "pass");
//! # }
//! ```
//!
//! | format | answers | chosen by |
//! |---|---|---|
//! | [`HealthJson`] | `application/health+json` (draft-inadarei-api-health-check-06): `status`, `checks`, `notes`, `output` and the service fields | the default of every endpoint |
//! | Kubernetes text | the API server's `ok` and `[+]NAME ok` lines | [`preset::Kubernetes`](crate::preset::Kubernetes) |
//! | problem+json | flask-healthz's answers | [`preset::FlaskHealthz`](crate::preset::FlaskHealthz) |
//! | heartbeat JSON, [`Environ`] | oarepo-heartbeat's `{"status": bool, "checks": {..}}` and its environ answer | [`preset::OarepoHeartbeat`](crate::preset::OarepoHeartbeat) |
//! | plain text | pyramid_health's `OK`, `ERROR`, `MAINTENANCE` | [`preset::PyramidHealth`](crate::preset::PyramidHealth) |
//! | lifecycle JSON | py-12f-common's state answer | [`preset::Py12fCommon`](crate::preset::Py12fCommon) |
//!
//! The formats of the presets answer as the packages they imitate do; they are chosen through
//! the presets. Every format writes what the request's exposure level allows
//! ([`Answer::exposure`]): the [`ExposurePolicy`](crate::ExposurePolicy) guide has what each one
//! shows at each level.
//!
//! health+json's service fields come from the format ([`HealthJson::version`],
//! [`release_id`](HealthJson::release_id), [`service_id`](HealthJson::service_id),
//! [`description`](HealthJson::description)), and [`HealthJson::durations`] adds each check's
//! last run duration. A [`Format`] written by the application may also log each answer
//! ([`Format::log`]) and says whether the same answer is always written the same
//! ([`Format::reusable`]), so that the layer can serve it again while nothing it is made of
//! changes.

pub(crate) mod content_type;
mod environ;
mod health_json;
mod heartbeat;
mod history;
mod kubernetes;
mod lifecycle;
#[cfg(feature = "ui")]
mod page;
mod plain;
mod problem;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

pub use environ::Environ;
pub use health_json::HealthJson;

pub(crate) use heartbeat::HeartbeatJson;
pub(crate) use history::history_json;
pub(crate) use kubernetes::KubernetesText;
pub(crate) use lifecycle::LifecycleJson;
#[cfg(feature = "ui")]
pub(crate) use page::{CONTENT_SECURITY_POLICY, Page, status_page};
pub(crate) use plain::{PlainText, STATUS_KEY};
pub(crate) use problem::ProblemJson;

use crate::health::{Exposure, Lifecycle, Report, Status};

/// What the endpoint found, for a format to write.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// The checks ran (or were gated by the lifecycle state).
    Report(&'a Report),
    /// Maintenance mode is on; no check ran.
    Maintenance,
    /// The request named a check that is not registered.
    UnknownCheck(&'a str),
}

/// Everything a format may use to write a response.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Answer<'a> {
    /// What was found.
    pub outcome: Outcome<'a>,
    /// The aggregate status (fail for an unknown check, warn for maintenance).
    pub status: Status,
    /// The HTTP status the endpoint's status mapping chose.
    pub status_code: StatusCode,
    /// The lifecycle state when the request came.
    pub state: Lifecycle,
    /// How much this request may see (the endpoint's [`ExposurePolicy`](crate::ExposurePolicy)). At
    /// [`Exposure::StatusOnly`] the report a format is given has no checks, excludes or
    /// other names in it already; at [`Exposure::Names`] a format leaves messages out.
    pub exposure: Exposure,
    /// Whether the request asked for a verbose answer.
    pub verbose: bool,
}

impl Answer<'_> {
    /// Whether check messages may be shown ([`Exposure::Messages`]).
    pub fn shows_messages(&self) -> bool {
        self.exposure >= Exposure::Messages
    }

    /// The report, when checks ran.
    pub fn report(&self) -> Option<&Report> {
        match self.outcome {
            Outcome::Report(report) => Some(report),
            _ => None,
        }
    }
}

/// The messages of the failing checks of `report`, joined by `; `.
pub(crate) fn failure_messages(report: &Report) -> String {
    let messages: Vec<&str> = report
        .checks
        .iter()
        .filter(|check| check.status() == Status::Fail)
        .filter_map(|check| check.result.message.as_deref())
        .collect();
    messages.join("; ")
}

/// A written response: status, content type, extra headers and body.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Rendered {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type`.
    pub content_type: HeaderValue,
    /// Headers besides `Content-Type`, `Content-Length` and `Cache-Control`.
    pub headers: HeaderMap,
    /// The body (left out for `HEAD`).
    pub body: Bytes,
}

impl Rendered {
    /// A response with no extra headers.
    pub fn new(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Rendered {
            status,
            content_type: HeaderValue::from_static(content_type),
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// A response whose body is `value` as JSON.
    pub fn json(status: StatusCode, content_type: &'static str, value: &serde_json::Value) -> Self {
        // Serializing a `Value` to memory cannot fail.
        Self::new(
            status,
            content_type,
            serde_json::to_vec(value).unwrap_or_default(),
        )
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }
}

/// Writes an [`Answer`] as a response, and logs it where a style calls for that.
pub trait Format: Send + Sync + 'static {
    /// Writes `answer`.
    fn render(&self, answer: &Answer<'_>) -> Rendered;

    /// Logs `answer`, once per request that is answered (not for 405 or `OPTIONS`).
    ///
    /// Logs nothing by default: status changes are already logged once each.
    fn log(&self, answer: &Answer<'_>) {
        let _ = answer;
    }

    /// Whether the same [`Answer`] is always written the same, so that a written answer may be
    /// served again while nothing it is made of changes (the default). A format that also writes
    /// what the answer does not hold (the time, a live figure) returns `false`.
    fn reusable(&self) -> bool {
        true
    }
}

impl<F> Format for F
where
    F: Fn(&Answer<'_>) -> Rendered + Send + Sync + 'static,
{
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        self(answer)
    }
}
