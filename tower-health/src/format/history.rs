//! The checks' history as JSON (`{prefix}/history`, `{prefix}/history/{check}`), showing what
//! the exposure level allows: the aggregate alone below names, no message below messages.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::health_json::rfc3339;
use crate::health::{Check, Entry, Exposure, History, Status};

/// The body: `status` (the aggregate of the checks' latest results, `null` before any), and at
/// [`Exposure::Names`] and above `checks`, one object per check in `checks`.
pub(crate) fn history_json(
    status: Option<Status>,
    checks: &[(Check, History)],
    exposure: Exposure,
    now: SystemTime,
) -> Value {
    let mut body = Map::new();
    body.insert("status".into(), json!(status.map(Status::as_str)));
    if exposure >= Exposure::Names {
        let checks = checks
            .iter()
            .map(|(check, history)| check_json(check, history, exposure, now))
            .collect();
        body.insert("checks".into(), Value::Array(checks));
    }
    Value::Object(body)
}

fn check_json(check: &Check, history: &History, exposure: Exposure, now: SystemTime) -> Value {
    let time = |time: Option<SystemTime>| json!(time.as_ref().map(rfc3339));
    let in_status = history
        .since
        .and_then(|since| now.duration_since(since).ok())
        .map(|elapsed| elapsed.as_secs_f64());
    let mut body = json!({
        "name": check.name(),
        "status": history.status().map(Status::as_str),
        "critical": check.critical,
        "runs": history.runs,
        "transitions": history.transitions,
        "since": time(history.since),
        "secondsInStatus": in_status,
        "lastPass": time(history.last_pass),
        "lastFailure": time(history.last_fail),
        "results": history
            .entries()
            .map(|entry| entry_json(entry, exposure))
            .collect::<Vec<_>>(),
    });
    if exposure >= Exposure::Messages {
        body["lastFailureMessage"] = json!(history.last_failure_message());
    }
    body
}

fn entry_json(entry: &Entry, exposure: Exposure) -> Value {
    let mut body = json!({
        "status": entry.status.as_str(),
        "time": rfc3339(&entry.time),
        "durationMs": entry.duration.as_secs_f64() * 1000.0,
    });
    if exposure >= Exposure::Messages && entry.status != Status::Pass {
        body["message"] = json!(entry.message.as_deref());
    }
    body
}
