//! What a health request carries: its head, the names in its path (percent-decoded), its query
//! parameters and, where an endpoint reads one, a small form-encoded body.

use bytes::{Buf, Bytes};
use http::{Request, request};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use std::sync::Arc;

use crate::endpoint::{Endpoint, RunChecks};

/// The boxed error type of request bodies handed to health handlers.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A health request's body, boxed (it is read only where an endpoint needs it).
pub(crate) type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// A health request as a handler sees it: its head, the names its path carries, and its body
/// where the handler reads it.
pub(crate) struct HealthRequest {
    pub(crate) parts: request::Parts,
    pub(crate) group: Option<Arc<str>>,
    pub(crate) check: Option<Box<str>>,
    pub(crate) body: Option<RequestBody>,
}

impl HealthRequest {
    /// Splits `request` into what handlers need, with the group and the (decoded) check its
    /// path names; boxes the body when `reads_body` says the handler reads it, and drops
    /// it unread otherwise.
    pub(crate) fn new<B>(
        request: Request<B>,
        group: Option<Arc<str>>,
        check: Option<Box<str>>,
        reads_body: impl FnOnce(&request::Parts) -> bool,
    ) -> Self
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let body = reads_body(&parts).then(|| {
            body.map_frame(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
                .map_err(Into::into)
                .boxed_unsync()
        });
        HealthRequest {
            parts,
            group,
            check,
            body,
        }
    }

    /// Whether the body is a form an endpoint may read parameters from.
    pub(crate) fn is_form(parts: &request::Parts) -> bool {
        parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"))
    }

    /// Reads the body as a form: at most [`MAX_FORM_BYTES`] within [`FORM_READ_TIMEOUT`], else
    /// `None` (a larger or slower body is ignored, not buffered or waited for).
    pub(crate) async fn read_form(self) -> Option<Vec<u8>> {
        let mut body = self.body?;
        let read = async move {
            let mut form = Vec::new();
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.ok()?.into_data() {
                    if form.len() + data.len() > MAX_FORM_BYTES {
                        return None;
                    }
                    form.extend_from_slice(&data);
                }
            }
            Some(form)
        };
        tokio::time::timeout(FORM_READ_TIMEOUT, read).await.ok()?
    }
}

/// A name a path segment carries, percent-decoded (`my%20db` is `my db`). A decoding that is
/// not UTF-8 keeps its invalid bytes as U+FFFD, so it names nothing that was registered with
/// valid text and answers as an unknown name.
pub(crate) fn decode(segment: &str) -> Box<str> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into()
}

/// At most this many parameters are read from a query or form; the rest are ignored (bounded
/// work per request).
const MAX_PARAMS: usize = 64;

/// The largest form body read for parameters.
const MAX_FORM_BYTES: usize = 8 * 1024;

/// How long a client may take to send a form body.
const FORM_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// What the parameters of one request ask of its endpoint.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) verbose: bool,
    /// What the last occurrence of the endpoint's run-checks parameter said; `None` when it did
    /// not occur.
    pub(crate) run_checks: Option<bool>,
    pub(crate) exclude: Vec<String>,
}

impl Params {
    /// Reads `name=value&...` pairs (a query string or a form body) for `endpoint`.
    pub(crate) fn read(&mut self, endpoint: &Endpoint, form: &[u8]) {
        for (key, value) in form_urlencoded::parse(form).take(MAX_PARAMS) {
            if endpoint.verbose_param.as_deref() == Some(&*key) {
                self.verbose = true;
            }
            if endpoint.exclude_param.as_deref() == Some(&*key) && !value.is_empty() {
                self.exclude.push(value.clone().into_owned());
            }
            if let RunChecks::WhenParam { param, values } = &endpoint.run_checks {
                if *param == key {
                    self.run_checks = Some(values.iter().any(|v| v.eq_ignore_ascii_case(&value)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(endpoint: &Endpoint, query: &str) -> Params {
        let mut params = Params::default();
        params.read(endpoint, query.as_bytes());
        params
    }

    #[test]
    fn the_last_run_checks_parameter_decides() {
        let endpoint = Endpoint::new("/health").run_checks_when("checks", ["true", "all"]);
        assert_eq!(params(&endpoint, "").run_checks, None);
        assert_eq!(params(&endpoint, "checks=ALL").run_checks, Some(true));
        assert_eq!(
            params(&endpoint, "checks=all&checks=1").run_checks,
            Some(false)
        );
        assert_eq!(
            params(&endpoint, "checks=1&checks=true").run_checks,
            Some(true)
        );
        assert_eq!(params(&endpoint, "other=all").run_checks, None);
    }

    #[test]
    fn verbose_and_excludes_are_read() {
        let endpoint = Endpoint::new("/livez")
            .verbose_param("verbose")
            .exclude_param("exclude");
        let read = params(&endpoint, "exclude=db&verbose&exclude=&exclude=cache");
        assert!(read.verbose);
        assert_eq!(read.exclude, ["db", "cache"]);
    }

    #[test]
    fn names_are_percent_decoded() {
        assert_eq!(&*decode("my%20db"), "my db");
        assert_eq!(&*decode("%FF"), "\u{FFFD}");
    }
}
