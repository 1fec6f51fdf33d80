//! The Kubernetes API server's `/livez` and `/readyz` text format.

use http::StatusCode;
use http::header::{HeaderName, HeaderValue};

use super::content_type::TEXT_PLAIN_UTF8;
use super::{Answer, Format, Outcome, Rendered};
use crate::health::Status;

/// What stands where a reason is not shown.
const WITHHELD: &str = "reason withheld";

/// The text the Kubernetes API server answers on `/livez` and `/readyz`.
///
/// An aggregate endpoint ([`KubernetesText::new`]) answers `ok`; with `?verbose` one line per
/// check (`[+]db ok`, `[+]db excluded: ok`, a `warn:` line for excludes that match nothing) and
/// `livez check passed`; on failure always the lines, `[-]db failed: reason withheld` and
/// `livez check failed`, whatever the exposure policy allows (the API server never shows
/// reasons there: they are logged). A single-check endpoint ([`KubernetesText::single`]) answers `ok` or
/// `internal server error: REASON`.
#[derive(Clone, Debug)]
pub(crate) struct KubernetesText {
    /// The name in the last line (`livez`), or `None` for a single-check endpoint.
    name: Option<String>,
}

impl KubernetesText {
    /// The format of an aggregate endpoint whose last line names `name` (`livez`, `readyz`).
    pub(crate) fn new(name: impl Into<String>) -> Self {
        KubernetesText {
            name: Some(name.into()),
        }
    }

    /// The format of a single-check endpoint (`/readyz/NAME`).
    pub(crate) fn single() -> Self {
        KubernetesText { name: None }
    }

    fn aggregate(name: &str, answer: &Answer<'_>) -> String {
        let mut lines = String::new();
        match answer.outcome {
            Outcome::Report(report) => {
                if let Some((Status::Fail, _)) = &report.gate {
                    lines += &format!("[-]state failed: {WITHHELD}\n");
                }
                for check in &report.checks {
                    if check.status() == Status::Fail {
                        lines += &format!("[-]{} failed: {WITHHELD}\n", check.name);
                    } else {
                        lines += &format!("[+]{} ok\n", check.name);
                    }
                }
                for excluded in &report.excluded {
                    lines += &format!("[+]{excluded} excluded: ok\n");
                }
                if !report.unknown_excludes.is_empty() {
                    let names: Vec<String> = report
                        .unknown_excludes
                        .iter()
                        .map(|name| format!("{name:?}"))
                        .collect();
                    lines += &format!(
                        "warn: some health checks cannot be excluded: no matches for {}\n",
                        names.join(", ")
                    );
                }
            }
            Outcome::Maintenance => {
                lines += &format!("[-]maintenance failed: {WITHHELD}\n");
            }
            Outcome::UnknownCheck(_) => return "404 page not found\n".to_owned(),
        }
        let failed =
            answer.status == Status::Fail || matches!(answer.outcome, Outcome::Maintenance);
        if failed {
            format!("{lines}{name} check failed\n")
        } else if answer.verbose {
            format!("{lines}{name} check passed\n")
        } else {
            "ok".to_owned()
        }
    }

    fn single_check(answer: &Answer<'_>) -> String {
        match answer.outcome {
            Outcome::Report(report) if report.status == Status::Fail => {
                let reasons = super::failure_messages(report);
                let reason = if answer.shows_messages() && !reasons.is_empty() {
                    reasons
                } else {
                    WITHHELD.to_owned()
                };
                format!("internal server error: {reason}\n")
            }
            Outcome::Report(_) => "ok".to_owned(),
            Outcome::Maintenance => "internal server error: maintenance mode is on\n".to_owned(),
            Outcome::UnknownCheck(_) => "404 page not found\n".to_owned(),
        }
    }
}

impl Format for KubernetesText {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        let body = match &self.name {
            Some(name) => Self::aggregate(name, answer),
            None => Self::single_check(answer),
        };
        text(answer.status_code, body)
    }
}

fn text(status: StatusCode, body: String) -> Rendered {
    Rendered::new(status, TEXT_PLAIN_UTF8, body).header(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    )
}
