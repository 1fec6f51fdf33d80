//! oarepo-heartbeat's readiness and liveliness body.

use serde_json::{Map, Value};

use super::content_type::JSON;
use super::{Answer, Format, Outcome, Rendered};
use crate::health::Status;

/// `{"status": bool, "checks": {name: {...data, "status": bool}}}`, as oarepo-heartbeat answers.
///
/// A check is a heartbeat probe returning `(name, ok, data)`: its name, a result that passes or
/// fails, and the result's [`data`](crate::CheckResult::data). `ok` overwrites a `status` key in
/// the data; when two checks share a name the later one's entry is kept, while the top-level
/// status is still the AND of all. A check is ok unless it fails; the top-level status is ok
/// unless the aggregate fails. Where the exposure policy allows, a failing check's message is
/// added as `message` (unless its data has one).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HeartbeatJson;

impl HeartbeatJson {
    /// The body as a JSON value.
    pub(crate) fn to_value(answer: &Answer<'_>) -> Value {
        let mut checks = Map::new();
        if let Outcome::Report(report) = answer.outcome {
            for check in &report.checks {
                let ok = check.status() != Status::Fail;
                let mut entry = check.result.data.clone();
                if let Some(message) = &check.result.message {
                    if answer.shows_messages() && !ok && !entry.contains_key("message") {
                        entry.insert("message".into(), Value::String(message.clone()));
                    }
                }
                entry.insert("status".into(), Value::Bool(ok));
                checks.insert(check.name.to_string(), Value::Object(entry));
            }
        }
        let ok = answer.status != Status::Fail && matches!(answer.outcome, Outcome::Report(_));
        let mut body = Map::new();
        body.insert("status".into(), Value::Bool(ok));
        body.insert("checks".into(), Value::Object(checks));
        Value::Object(body)
    }
}

impl Format for HeartbeatJson {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        Rendered::json(answer.status_code, JSON, &Self::to_value(answer))
    }
}
