//! Which paths an endpoint answers, and what a matching path names.
//!
//! Matching is on the exact path (the query is ignored). A named segment is one non-empty
//! segment; anything else, `/health/` and `/HEALTH` included, is not a health path and goes to
//! the inner service.

/// Which paths an endpoint answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathPattern {
    /// Exactly this path.
    Exact(Box<str>),
    /// This prefix, a slash, and one segment: the name of a check.
    PerCheck(Box<str>),
    /// This prefix, a slash, and a group's name, optionally followed by a slash and the name of
    /// one of its checks. Which groups exist is known only at request time.
    Groups(Box<str>),
}

/// What a matching path names beyond its pattern's prefix (still percent-encoded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Target<'p> {
    pub(crate) group: Option<&'p str>,
    pub(crate) check: Option<&'p str>,
}

impl PathPattern {
    /// The part every matching path starts with.
    pub(crate) fn prefix(&self) -> &str {
        match self {
            PathPattern::Exact(path) | PathPattern::PerCheck(path) | PathPattern::Groups(path) => {
                path
            }
        }
    }

    /// The pattern as written in docs and metrics labels: `/health`, `/healthz/{check}`,
    /// `/health/{group}`.
    pub(crate) fn template(&self) -> String {
        match self {
            PathPattern::Exact(path) => path.to_string(),
            PathPattern::PerCheck(prefix) => format!("{prefix}/{{check}}"),
            PathPattern::Groups(prefix) => format!("{prefix}/{{group}}"),
        }
    }

    /// What `path` names, or `None` when it does not match. A [`PathPattern::Groups`] match
    /// still needs its group to exist.
    pub(crate) fn matches<'p>(&self, path: &'p str) -> Option<Target<'p>> {
        match self {
            PathPattern::Exact(exact) => (path == &**exact).then_some(Target::default()),
            PathPattern::PerCheck(prefix) => {
                let check = segments(path, prefix)?;
                is_segment(check).then_some(Target {
                    group: None,
                    check: Some(check),
                })
            }
            PathPattern::Groups(prefix) => {
                let rest = segments(path, prefix)?;
                let (group, check) = match rest.split_once('/') {
                    Some((group, check)) => (group, Some(check)),
                    None => (rest, None),
                };
                (is_segment(group) && check.is_none_or(is_segment)).then_some(Target {
                    group: Some(group),
                    check,
                })
            }
        }
    }
}

/// What follows `{prefix}/` in `path`.
fn segments<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    path.strip_prefix(prefix)?.strip_prefix('/')
}

fn is_segment(segment: &str) -> bool {
    !segment.is_empty() && !segment.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_patterns_match_only_the_exact_path() {
        let pattern = PathPattern::Exact("/health".into());
        assert_eq!(pattern.matches("/health"), Some(Target::default()));
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
    fn per_check_patterns_take_one_non_empty_segment() {
        let pattern = PathPattern::PerCheck("/health/ready".into());
        assert_eq!(
            pattern.matches("/health/ready/db").and_then(|t| t.check),
            Some("db")
        );
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
    fn group_patterns_take_a_group_and_maybe_a_check() {
        let pattern = PathPattern::Groups("/health".into());
        let target = |group, check| {
            Some(Target {
                group: Some(group),
                check,
            })
        };
        assert_eq!(pattern.matches("/health/ready"), target("ready", None));
        assert_eq!(
            pattern.matches("/health/database/pg"),
            target("database", Some("pg"))
        );
        for miss in [
            "/health",
            "/health/",
            "/health/ready/",
            "/health//db",
            "/health/a/b/c",
            "/healthz/ready",
        ] {
            assert_eq!(pattern.matches(miss), None, "{miss}");
        }
    }
}
