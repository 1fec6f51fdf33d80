//! Which request paths are health paths: the patterns of one layer, in order, the first match
//! winning.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use http::Response;

use super::body::Payload;
use super::request::HealthRequest;
use crate::endpoint::{Methods, PathPattern, Target};
use crate::health::Health;
use crate::metrics::RequestCounts;

/// A handler's answer: ready at once (a kept answer, a 405), or still to come.
pub(crate) enum Answering {
    Ready(Response<Payload>),
    Pending(BoxFuture<'static, Response<Payload>>),
}

/// Something that answers the requests of one path pattern.
pub(crate) trait Handler: Send + Sync + 'static {
    fn methods(&self) -> &Methods;

    /// Whether 200 answers skip the per-request log event.
    fn no_log(&self) -> bool {
        false
    }

    /// Whether the handler reads the body of a request with this head (else it is not boxed).
    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        let _ = parts;
        true
    }

    /// Where its answers are counted for metrics, if they are.
    fn requests(&self) -> Option<&RequestCounts> {
        None
    }

    fn handle(self: Arc<Self>, health: &Health, request: HealthRequest) -> Answering;
}

/// A route that answers a path, and what the path names.
pub(crate) struct Found<'r, 'p> {
    pub(crate) route: &'r Route,
    pub(crate) group: Option<Arc<str>>,
    pub(crate) check: Option<&'p str>,
}

pub(crate) struct Route {
    pub(crate) pattern: PathPattern,
    pub(crate) handler: Arc<dyn Handler>,
}

/// See the [module docs](self).
#[derive(Default)]
pub(crate) struct Routes {
    routes: Vec<Route>,
    /// The distinct first segments of the patterns: a path whose first segment is none of them
    /// (most application paths) is ruled out with a few short comparisons, however many presets
    /// the layer serves.
    first_segments: Vec<Box<str>>,
    /// The first bytes of those segments, one bit each: most application paths are ruled out by
    /// one bit test, before any segment is compared.
    first_bytes: [u64; 4],
}

impl Routes {
    pub(crate) fn push(&mut self, pattern: PathPattern, handler: Arc<dyn Handler>) {
        let first = first_segment(pattern.prefix());
        if !self.first_segments.iter().any(|known| **known == *first) {
            self.first_segments.push(first.into());
        }
        let (word, bit) = bit_of(first);
        self.first_bytes[word] |= bit;
        self.routes.push(Route { pattern, handler });
    }

    /// The route answering `path`, the group it names (a group pattern matches only a group
    /// that exists in `health`) and the check it names, still percent-encoded.
    pub(crate) fn find<'p>(&self, path: &'p str, health: &Health) -> Option<Found<'_, 'p>> {
        if !self.might_match(path) {
            return None;
        }
        let first = first_segment(path);
        if !self.first_segments.iter().any(|known| **known == *first) {
            return None;
        }
        self.routes.iter().find_map(|route| {
            let Target { group, check } = route.pattern.matches(path)?;
            // Group names match as written, like the fixed segments of a path.
            let group = match group {
                Some(name) => Some(health.registry().existing_group(name)?),
                None => None,
            };
            Some(Found {
                route,
                group,
                check,
            })
        })
    }

    /// Whether some pattern's first segment starts with the byte that `path`'s does.
    fn might_match(&self, path: &str) -> bool {
        let (word, bit) = bit_of(path.strip_prefix('/').unwrap_or(path));
        self.first_bytes[word] & bit != 0
    }
}

/// Where the first byte of the first segment of `text` (0 for an empty one) is in a 256-bit set.
fn bit_of(text: &str) -> (usize, u64) {
    let byte = text
        .bytes()
        .next()
        .filter(|&byte| byte != b'/')
        .unwrap_or(0);
    (usize::from(byte / 64), 1 << (byte % 64))
}

/// The first segment of a path: `/health/ready` → `health`. A path matches a pattern only if
/// their first segments are equal (a pattern's prefix holds at least its first segment).
fn first_segment(path: &str) -> &str {
    let rest = path.strip_prefix('/').unwrap_or(path);
    // A byte scan: on every pass-through request, and cheaper here than `split_once`'s searcher.
    match rest.bytes().position(|byte| byte == b'/') {
        Some(end) => &rest[..end],
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Check;

    struct Unused;

    impl Handler for Unused {
        fn methods(&self) -> &Methods {
            unreachable!()
        }
        fn handle(self: Arc<Self>, _: &Health, _: HealthRequest) -> Answering {
            unreachable!()
        }
    }

    #[test]
    fn routes_find_the_first_match_among_patterns_of_the_same_first_segment() {
        let health = Health::new();
        let mut routes = Routes::default();
        assert!(routes.find("/", &health).is_none());
        routes.push(PathPattern::Exact("/health/live".into()), Arc::new(Unused));
        routes.push(
            PathPattern::PerCheck("/health/ready".into()),
            Arc::new(Unused),
        );
        routes.push(PathPattern::Exact("/livez".into()), Arc::new(Unused));
        routes.push(PathPattern::PerCheck("/healthz".into()), Arc::new(Unused));
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
                .find(path, &health)
                .map(|found| (found.route.pattern.prefix().to_owned(), found.check))
        };
        assert_eq!(found("/health/live"), Some(("/health/live".into(), None)));
        assert_eq!(
            found("/health/ready/db"),
            Some(("/health/ready".into(), Some("db")))
        );
        assert_eq!(found("/livez"), Some(("/livez".into(), None)));
        assert_eq!(found("/healthz/db"), Some(("/healthz".into(), Some("db"))));
        assert_eq!(found("/hè"), Some(("/hè".into(), None)));
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
    fn the_first_byte_set_rules_out_only_paths_no_pattern_matches() {
        let health = Health::new();
        let mut routes = Routes::default();
        for prefix in ["/", "/health/live", "/ÿ/x"] {
            routes.push(PathPattern::Exact(prefix.into()), Arc::new(Unused));
        }
        let found = |path| {
            routes
                .find(path, &health)
                .map(|found| found.route.pattern.prefix())
        };
        assert_eq!(found("/"), Some("/"));
        assert_eq!(found("/health/live"), Some("/health/live"));
        assert_eq!(found("/ÿ/x"), Some("/ÿ/x"));
        for miss in ["//health/live", "/x", "/ÿ", "/Health/live", "/health//live"] {
            assert_eq!(found(miss), None, "{miss}");
        }
        let mut without_root = Routes::default();
        without_root.push(PathPattern::Exact("/health".into()), Arc::new(Unused));
        assert!(!without_root.might_match("/"));
        assert!(!without_root.might_match("//health"));
        assert!(!without_root.might_match("/orders"));
        assert!(without_root.might_match("/health"));
        assert!(without_root.might_match("/hello"));
    }

    #[test]
    fn group_routes_match_only_groups_that_exist() {
        let health = Health::new();
        let mut routes = Routes::default();
        routes.push(PathPattern::Groups("/health".into()), Arc::new(Unused));
        let found = |path| {
            routes
                .find(path, &health)
                .map(|found| (found.group.as_deref().map(str::to_owned), found.check))
        };
        for built_in in ["/health/live", "/health/ready", "/health/startup/db"] {
            assert!(found(built_in).is_some(), "{built_in}");
        }
        assert_eq!(found("/health/database"), None);
        health.register(Check::new("pg", || async { true }).group("database"));
        assert_eq!(
            found("/health/database/pg"),
            Some((Some("database".to_owned()), Some("pg")))
        );
        assert_eq!(
            found("/health/%72eady"),
            None,
            "group names are not decoded"
        );
        assert_eq!(found("/health/metrics"), None);
    }
}
