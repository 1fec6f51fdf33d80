//! Plain text `OK`, `ERROR` or `MAINTENANCE`, as pyramid_health answers.

use serde_json::Value;

use super::content_type::TEXT_PLAIN;
use super::{Answer, Format, Outcome, Rendered};
use crate::health::CheckRun;
use crate::health::Status;

/// The data key holding a check's own status string (see
/// [`PyramidHealth::report`](crate::preset::PyramidHealth::report)).
pub(crate) const STATUS_KEY: &str = "status";

/// One word: `MAINTENANCE` in maintenance mode, `OK` when the aggregate passes, `ERROR` otherwise.
///
/// It logs like pyramid_health: `Health response: MAINTENANCE` at INFO, and
/// `Health response: ERROR ([...])` at ERROR, listing every check's name, status string and
/// message, passing ones included. Nothing is logged for `OK`.
///
/// A check reports pyramid's `(name, status, message)` by returning
/// [`PyramidHealth::report`](crate::preset::PyramidHealth::report): the
/// check's name is the name, the status string is kept in its data, and only exactly `OK`
/// passes. Any other check result reads as `OK` when it passes and `ERROR` when not.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PlainText;

impl PlainText {
    /// The status string of a check: the one it reported, else `OK` or `ERROR`.
    pub(crate) fn status_of(check: &CheckRun) -> &str {
        match check.result.data.get(STATUS_KEY) {
            Some(Value::String(status)) => status,
            _ if check.status() == Status::Pass => "OK",
            _ => "ERROR",
        }
    }

    fn word(answer: &Answer<'_>) -> &'static str {
        match answer.outcome {
            Outcome::Maintenance => "MAINTENANCE",
            Outcome::Report(report) if report.status == Status::Pass => "OK",
            _ => "ERROR",
        }
    }
}

impl Format for PlainText {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        Rendered::new(answer.status_code, TEXT_PLAIN, Self::word(answer))
    }

    fn log(&self, answer: &Answer<'_>) {
        match answer.outcome {
            Outcome::Maintenance => tracing::info!("Health response: MAINTENANCE"),
            Outcome::Report(report) if report.status != Status::Pass => {
                let reports: Vec<String> = report
                    .checks
                    .iter()
                    .map(|check| {
                        format!(
                            "{{'name': {}, 'status': {}, 'message': {}}}",
                            python_str(&check.name),
                            python_str(Self::status_of(check)),
                            check
                                .result
                                .message
                                .as_deref()
                                .map_or("None".to_owned(), python_str),
                        )
                    })
                    .collect();
                tracing::error!("Health response: ERROR ([{}])", reports.join(", "));
            }
            _ => {}
        }
    }
}

/// A string as Python's `repr` writes it, so the log line reads as pyramid's does.
fn python_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_like_python() {
        assert_eq!(python_str("db"), "'db'");
        assert_eq!(python_str("it's"), "\"it's\"");
        assert_eq!(python_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(python_str("a\\b\n"), "'a\\\\b\\n'");
    }

    #[test]
    fn only_exactly_ok_passes() {
        assert_eq!(
            crate::preset::PyramidHealth::report("OK", None).status,
            Status::Pass
        );
        for status in ["ok", "NOK", "ERROR", ""] {
            assert_eq!(
                crate::preset::PyramidHealth::report(status, None).status,
                Status::Fail
            );
        }
    }
}
