//! Which request paths are health paths: the patterns of one layer, in order, the first match
//! winning.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use http::Response;

use super::body::Payload;
use super::metrics::RequestCounts;
use super::request::HealthRequest;
use crate::endpoint::{Methods, PathPattern, Target};
use crate::health::Health;

/// Something that answers the requests of one path pattern.
pub(crate) trait Handler: Send + Sync + 'static {
    fn methods(&self) -> &Methods;

    /// Whether 200 answers skip the per-request log event.
    fn no_log(&self) -> bool {
        false
    }

    /// Where its answers are counted for metrics, if they are.
    fn requests(&self) -> Option<&RequestCounts> {
        None
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

/// See the [module docs](self).
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

    /// The route answering `path` and what the path names; a group pattern matches only a
    /// group that exists in `health`.
    pub(crate) fn find<'p>(&self, path: &'p str, health: &Health) -> Option<(&Route, Target<'p>)> {
        let first = first_segment(path);
        if !self.first_segments.iter().any(|known| **known == *first) {
            return None;
        }
        self.routes.iter().find_map(|route| {
            let target = route.pattern.matches(path)?;
            // Group names match as written, like the fixed segments of a path.
            let group_exists = || {
                target
                    .group
                    .is_none_or(|group| health.registry().has_group(group))
            };
            (!matches!(route.pattern, PathPattern::Groups(_)) || group_exists())
                .then_some((route, target))
        })
    }
}

/// The first segment of a path: `/health/ready` → `health`. A path matches a pattern only if
/// their first segments are equal (a pattern's prefix holds at least its first segment).
fn first_segment(path: &str) -> &str {
    let rest = path.strip_prefix('/').unwrap_or(path);
    rest.split_once('/').map_or(rest, |(first, _)| first)
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
        fn handle(
            self: Arc<Self>,
            _: Health,
            _: HealthRequest,
        ) -> BoxFuture<'static, Response<Payload>> {
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
                .map(|(route, target)| (route.pattern.prefix().to_owned(), target.check))
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
    fn group_routes_match_only_groups_that_exist() {
        let health = Health::new();
        let mut routes = Routes::default();
        routes.push(PathPattern::Groups("/health".into()), Arc::new(Unused));
        let found = |path| routes.find(path, &health).map(|(_, target)| target);
        for built_in in ["/health/live", "/health/ready", "/health/startup/db"] {
            assert!(found(built_in).is_some(), "{built_in}");
        }
        assert_eq!(found("/health/database"), None);
        health.register(Check::new("pg", || async { true }).group("database"));
        assert_eq!(
            found("/health/database/pg").and_then(|t| t.check),
            Some("pg")
        );
        assert_eq!(
            found("/health/%72eady"),
            None,
            "group names are not decoded"
        );
        assert_eq!(found("/health/metrics"), None);
    }
}
