//! `application/problem+json` bodies `{"status", "title"}`, as flask-healthz answers.

use serde_json::json;

use super::content_type::PROBLEM_JSON;
use super::{Answer, Format, Outcome, Rendered};
use crate::health::RunEnd;
use crate::health::Status;

/// `{"status": CODE, "title": TEXT}` for a named check, as flask-healthz answers:
///
/// | outcome | title |
/// |---|---|
/// | passes | `OK` |
/// | fails | the check's message (`""` without one; the reason phrase where details are withheld) |
/// | no check of that name | `The NAME check endpoint is not setup` |
/// | [`Check::unresolved`](crate::Check::unresolved) | `The NAME check function could not be imported` |
/// | panicked | `Internal Server Error` |
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ProblemJson;

impl ProblemJson {
    fn title(answer: &Answer<'_>) -> String {
        let reason = || {
            answer
                .status_code
                .canonical_reason()
                .unwrap_or_default()
                .to_owned()
        };
        match answer.outcome {
            Outcome::UnknownCheck(name) => format!("The {name} check endpoint is not setup"),
            Outcome::Maintenance => "Maintenance".to_owned(),
            Outcome::Report(report) => {
                if let Some(check) = report.checks.iter().find(|c| c.end == RunEnd::Unresolved) {
                    return format!("The {} check function could not be imported", check.name);
                }
                if report.panicked() {
                    return reason();
                }
                if report.status != Status::Fail {
                    return "OK".to_owned();
                }
                if !answer.shows_messages() {
                    return reason();
                }
                super::failure_messages(report)
            }
        }
    }
}

impl Format for ProblemJson {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        let body = json!({
            "status": answer.status_code.as_u16(),
            "title": Self::title(answer),
        });
        Rendered::json(answer.status_code, PROBLEM_JSON, &body)
    }
}
