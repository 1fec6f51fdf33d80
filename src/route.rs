//! Routing: which request paths are health paths, which methods they take, and how an answer
//! becomes an HTTP response.
//!
//! Matching is on the exact path (the query is ignored). A [`PathPattern::Named`] path is its
//! prefix, a slash and one non-empty segment naming a check. Anything else, `/health/` and
//! `/HEALTH` included, is not a health path and goes to the inner service.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode, request};
use http_body_util::combinators::UnsyncBoxBody;

use crate::body::Payload;
use crate::format::Rendered;
use crate::health::Health;

/// The boxed error type of request bodies handed to health handlers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which paths an endpoint answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathPattern {
    /// Exactly this path.
    Exact(Box<str>),
    /// This prefix, a slash, and one non-empty segment: the name of a check.
    Named(Box<str>),
}

impl PathPattern {
    /// The part every matching path starts with.
    fn prefix(&self) -> &str {
        match self {
            PathPattern::Exact(path) | PathPattern::Named(path) => path,
        }
    }

    /// The name the path carries (empty for an exact match), or `None` when it does not match.
    pub(crate) fn matches<'p>(&self, path: &'p str) -> Option<&'p str> {
        match self {
            PathPattern::Exact(exact) => (path == &**exact).then_some(""),
            PathPattern::Named(prefix) => {
                let name = path.strip_prefix(&**prefix)?.strip_prefix('/')?;
                (!name.is_empty() && !name.contains('/')).then_some(name)
            }
        }
    }
}

/// Which methods an endpoint answers; others get 405 with `Allow`.
#[derive(Clone, Debug)]
pub struct Methods {
    allowed: Vec<Method>,
    any: bool,
    options: bool,
    allow: HeaderValue,
}

pub(crate) enum MethodDecision {
    Answer,
    Options,
    NotAllowed,
}

impl Methods {
    /// `GET` and `HEAD` (the default).
    pub fn get_head() -> Self {
        Self::only([Method::GET, Method::HEAD])
    }

    /// `GET` and `HEAD`, and `OPTIONS` answered with 200 and `Allow`.
    pub fn get_head_options() -> Self {
        let mut methods = Self::only([Method::GET, Method::HEAD, Method::OPTIONS]);
        methods.options = true;
        methods
    }

    /// Every method is answered like `GET` (`HEAD` still gets no body).
    pub fn any() -> Self {
        let mut methods = Self::get_head();
        methods.any = true;
        methods
    }

    /// Exactly these methods.
    pub fn only(methods: impl IntoIterator<Item = Method>) -> Self {
        let allowed: Vec<Method> = methods.into_iter().collect();
        let list = allowed
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        Methods {
            allow: HeaderValue::from_str(&list).unwrap_or(HeaderValue::from_static("GET, HEAD")),
            allowed,
            any: false,
            options: false,
        }
    }

    pub(crate) fn decide(&self, method: &Method) -> MethodDecision {
        if self.options && method == Method::OPTIONS {
            MethodDecision::Options
        } else if self.any || self.allowed.contains(method) {
            MethodDecision::Answer
        } else {
            MethodDecision::NotAllowed
        }
    }

    pub(crate) fn allow(&self) -> &HeaderValue {
        &self.allow
    }
}

/// A health request's body, boxed (it is read only where an endpoint needs it).
pub(crate) type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// A health request as a handler sees it: its head, the name from the path, and its body.
pub(crate) struct HealthRequest {
    pub(crate) parts: request::Parts,
    pub(crate) name: Option<Box<str>>,
    pub(crate) body: RequestBody,
}

/// Something that answers the requests of one path pattern.
pub(crate) trait Handler: Send + Sync + 'static {
    fn methods(&self) -> &Methods;

    /// Whether 200 answers skip the per-request log event.
    fn quiet_success(&self) -> bool {
        false
    }

    fn handle(
        self: Arc<Self>,
        health: Health,
        request: HealthRequest,
    ) -> BoxFuture<'static, Response<Payload>>;
}

pub(crate) struct Route {
    pub(crate) pattern: PathPattern,
    pub(crate) handler: Arc<dyn Handler>,
}

/// The health paths of one layer, in the order they were configured; the first match wins.
#[derive(Default)]
pub(crate) struct Routes {
    routes: Vec<Route>,
    /// The distinct first segments of the patterns: a path whose first segment is none of them
    /// (most application paths) is ruled out with a few short comparisons, however many presets
    /// the layer serves.
    first_segments: Vec<Box<str>>,
}

impl Routes {
    pub(crate) fn push(&mut self, pattern: PathPattern, handler: Arc<dyn Handler>) {
        let first = first_segment(pattern.prefix());
        if !self.first_segments.iter().any(|known| **known == *first) {
            self.first_segments.push(first.into());
        }
        self.routes.push(Route { pattern, handler });
    }

    pub(crate) fn find<'p>(&self, path: &'p str) -> Option<(&Route, &'p str)> {
        let first = first_segment(path);
        if !self.first_segments.iter().any(|known| **known == *first) {
            return None;
        }
        self.routes
            .iter()
            .find_map(|route| route.pattern.matches(path).map(|name| (route, name)))
    }
}

/// The first segment of a path: `/health/ready` → `health`. A path matches a pattern only if
/// their first segments are equal (a named pattern's prefix holds at least its first segment).
fn first_segment(path: &str) -> &str {
    let rest = path.strip_prefix('/').unwrap_or(path);
    rest.split_once('/').map_or(rest, |(first, _)| first)
}

/// Builds the HTTP response for `rendered`; `HEAD` keeps the headers and drops the body.
pub(crate) fn response(rendered: Rendered, head: bool) -> Response<Payload> {
    let Rendered {
        status,
        content_type,
        headers,
        body,
    } = rendered;
    let length = content_length(body.len());
    let mut response = Response::new(if head {
        Payload::empty()
    } else {
        Payload::full(body)
    });
    *response.status_mut() = status;
    let map = response.headers_mut();
    map.extend(headers);
    map.insert(header::CONTENT_TYPE, content_type);
    map.insert(header::CONTENT_LENGTH, length);
    map.insert(header::CACHE_CONTROL, NO_STORE.clone());
    response
}

/// Validated once rather than on every answer.
static NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// Bodies shorter than this (every health answer of a sane size) get a `Content-Length` value
/// from a static table instead of one allocated per answer.
const STATIC_LENGTHS: usize = 10_000;

/// The decimal digits of each length below [`STATIC_LENGTHS`], left-aligned.
static LENGTH_DIGITS: [[u8; 4]; STATIC_LENGTHS] = length_digits();

const fn length_digits() -> [[u8; 4]; STATIC_LENGTHS] {
    let mut table = [[0; 4]; STATIC_LENGTHS];
    let mut length = 0;
    while length < STATIC_LENGTHS {
        let mut width = 1;
        while width < 4 && length >= 10usize.pow(width as u32) {
            width += 1;
        }
        let mut rest = length;
        while width > 0 {
            width -= 1;
            table[length][width] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        length += 1;
    }
    table
}

fn content_length(length: usize) -> HeaderValue {
    let Some(digits) = LENGTH_DIGITS.get(length) else {
        return HeaderValue::from(length);
    };
    let width = digits.iter().take_while(|digit| **digit != 0).count();
    HeaderValue::from_maybe_shared(Bytes::from_static(&digits[..width]))
        .unwrap_or_else(|_| HeaderValue::from(length))
}

/// 405 for a method the endpoint does not take, or 200 for `OPTIONS` where it answers them.
pub(crate) fn method_response(status: StatusCode, methods: &Methods) -> Response<Payload> {
    let mut response = Response::new(Payload::empty());
    *response.status_mut() = status;
    let map = response.headers_mut();
    map.insert(header::ALLOW, methods.allow().clone());
    map.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    map.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Splits a request into what handlers need, boxing its body.
pub(crate) fn health_request<B>(request: Request<B>, name: Option<Box<str>>) -> HealthRequest
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    use bytes::Buf;
    use http_body_util::BodyExt;

    let (parts, body) = request.into_parts();
    let body = body
        .map_frame(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
        .map_err(Into::into)
        .boxed_unsync();
    HealthRequest { parts, name, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_patterns_match_only_the_exact_path() {
        let pattern = PathPattern::Exact("/health".into());
        assert_eq!(pattern.matches("/health"), Some(""));
        for miss in [
            "/health/",
            "/HEALTH",
            "//health",
            "/healthz",
            "/health/x",
            "",
        ] {
            assert_eq!(pattern.matches(miss), None, "{miss}");
        }
    }

    #[test]
    fn named_patterns_take_one_non_empty_segment() {
        let pattern = PathPattern::Named("/health/ready".into());
        assert_eq!(pattern.matches("/health/ready/db"), Some("db"));
        for miss in [
            "/health/ready",
            "/health/ready/",
            "/health/ready/db/",
            "/health/ready/a/b",
            "/health/readyz/db",
        ] {
            assert_eq!(pattern.matches(miss), None, "{miss}");
        }
    }

    #[test]
    fn routes_find_the_first_match_among_patterns_of_the_same_first_segment() {
        struct Unused;
        impl Handler for Unused {
            fn methods(&self) -> &Methods {
                unreachable!()
            }
            fn handle(
                self: Arc<Self>,
                _: Health,
                _: HealthRequest,
            ) -> BoxFuture<'static, Response<Payload>> {
                unreachable!()
            }
        }
        let mut routes = Routes::default();
        assert!(routes.find("/").is_none());
        routes.push(PathPattern::Exact("/health/live".into()), Arc::new(Unused));
        routes.push(PathPattern::Named("/health/ready".into()), Arc::new(Unused));
        routes.push(PathPattern::Exact("/livez".into()), Arc::new(Unused));
        routes.push(PathPattern::Named("/healthz".into()), Arc::new(Unused));
        routes.push(PathPattern::Exact("/hè".into()), Arc::new(Unused));
        assert_eq!(
            routes
                .first_segments
                .iter()
                .map(|s| &**s)
                .collect::<Vec<_>>(),
            ["health", "livez", "healthz", "hè"]
        );
        let found = |path| {
            routes
                .find(path)
                .map(|(route, name)| (route.pattern.prefix().to_owned(), name))
        };
        assert_eq!(found("/health/live"), Some(("/health/live".into(), "")));
        assert_eq!(
            found("/health/ready/db"),
            Some(("/health/ready".into(), "db"))
        );
        assert_eq!(found("/livez"), Some(("/livez".into(), "")));
        assert_eq!(found("/healthz/db"), Some(("/healthz".into(), "db")));
        assert_eq!(found("/hè"), Some(("/hè".into(), "")));
        for miss in [
            "/",
            "",
            "/orders",
            "/health",
            "/health/ready",
            "/hé/x",
            "/livez/x",
            "/healthz",
        ] {
            assert_eq!(found(miss), None, "{miss}");
        }
    }

    #[test]
    fn content_lengths_are_the_decimal_lengths() {
        for length in [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 123_456] {
            assert_eq!(content_length(length), length.to_string(), "{length}");
        }
        for length in 0..STATIC_LENGTHS {
            assert_eq!(content_length(length), HeaderValue::from(length));
        }
    }

    #[test]
    fn methods_decide_and_list_allow() {
        let methods = Methods::get_head();
        assert!(matches!(
            methods.decide(&Method::GET),
            MethodDecision::Answer
        ));
        assert!(matches!(
            methods.decide(&Method::POST),
            MethodDecision::NotAllowed
        ));
        assert!(matches!(
            methods.decide(&Method::OPTIONS),
            MethodDecision::NotAllowed
        ));
        assert_eq!(methods.allow(), "GET, HEAD");
        let options = Methods::get_head_options();
        assert!(matches!(
            options.decide(&Method::OPTIONS),
            MethodDecision::Options
        ));
        assert_eq!(options.allow(), "GET, HEAD, OPTIONS");
        assert!(matches!(
            Methods::any().decide(&Method::DELETE),
            MethodDecision::Answer
        ));
    }
}
