//! The media types the formats answer with, in one place.

/// `application/health+json` (draft-inadarei-api-health-check-06).
pub(crate) const HEALTH_JSON: &str = "application/health+json";
/// `application/json`, as oarepo-heartbeat answers.
pub(crate) const JSON: &str = "application/json";
/// The status page.
#[cfg(feature = "ui")]
pub(crate) const HTML: &str = "text/html; charset=utf-8";
/// `application/json; charset=utf-8`, as py-12f-common answers.
pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";
/// `text/plain; charset=utf-8`, as the Kubernetes API server answers.
pub(crate) const TEXT_PLAIN_UTF8: &str = "text/plain; charset=utf-8";
/// `text/plain; charset=UTF-8`, as pyramid_health answers.
pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";
/// `application/problem+json` (RFC 9457), as flask-healthz answers.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";
/// The Prometheus text exposition format, version 0.0.4.
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// OpenMetrics 1.0.0 text.
pub(crate) const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
