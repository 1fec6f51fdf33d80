//! `application/health+json`, as in draft-inadarei-api-health-check-06.

use serde_json::{Map, Value, json};

use super::{Answer, Format, Outcome, Rendered};
use crate::check::Status;
use crate::run::{CheckReport, Report};

/// The `application/health+json` media type.
pub const HEALTH_JSON: &str = "application/health+json";

/// The health+json format (the default).
///
/// `checks` is keyed by check name (name a check `db:responseTime` for a
/// `component:measurement` key); each entry is an array, so checks sharing a name all show.
/// `output` appears only on warn and fail, and only where the details policy allows.
///
/// ```
/// use tower_health::format::HealthJson;
/// use tower_health::HealthLayer;
///
/// let layer = HealthLayer::new().format(
///     HealthJson::new().service_id("orders").version("1").release_id(env!("CARGO_PKG_VERSION")),
/// );
/// ```
#[derive(Clone, Debug, Default)]
pub struct HealthJson {
    fields: Map<String, Value>,
}

impl HealthJson {
    /// The format with no service fields.
    pub fn new() -> Self {
        Self::default()
    }

    fn field(mut self, key: &str, value: impl Into<String>) -> Self {
        self.fields
            .insert(key.to_owned(), Value::String(value.into()));
        self
    }

    /// The public version of the service (`version`).
    #[must_use]
    pub fn version(self, version: impl Into<String>) -> Self {
        self.field("version", version)
    }

    /// The release of the implementation (`releaseId`).
    #[must_use]
    pub fn release_id(self, release_id: impl Into<String>) -> Self {
        self.field("releaseId", release_id)
    }

    /// The service's identifier (`serviceId`).
    #[must_use]
    pub fn service_id(self, service_id: impl Into<String>) -> Self {
        self.field("serviceId", service_id)
    }

    /// A human-friendly description of the service (`description`).
    #[must_use]
    pub fn description(self, description: impl Into<String>) -> Self {
        self.field("description", description)
    }

    /// The body as a JSON value.
    pub fn to_value(&self, answer: &Answer<'_>) -> Value {
        let mut body = Map::new();
        body.insert("status".into(), json!(answer.status.as_str()));
        body.extend(self.fields.clone());
        let mut notes = Vec::new();
        match answer.outcome {
            Outcome::Report(report) => {
                if let Some((_, why)) = &report.gate {
                    notes.push(Value::String(why.clone()));
                }
                if answer.show_details && report.status != Status::Pass {
                    if let Some(output) = report.not_passing() {
                        body.insert("output".into(), Value::String(output));
                    }
                }
                if !report.checks.is_empty() {
                    body.insert(
                        "checks".into(),
                        Value::Object(checks(report, answer.show_details)),
                    );
                }
            }
            Outcome::Maintenance => notes.push(json!("maintenance")),
            Outcome::UnknownCheck(name) => {
                body.insert(
                    "output".into(),
                    Value::String(format!("no check named {name:?}")),
                );
            }
        }
        if !notes.is_empty() {
            body.insert("notes".into(), Value::Array(notes));
        }
        Value::Object(body)
    }
}

fn checks(report: &Report, show_details: bool) -> Map<String, Value> {
    let mut checks = Map::new();
    for check in &report.checks {
        let entry = check_entry(check, show_details);
        if let Value::Array(entries) = checks
            .entry(check.name.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            entries.push(entry);
        }
    }
    checks
}

fn check_entry(check: &CheckReport, show_details: bool) -> Value {
    let mut entry = Map::new();
    if let Some(component_type) = &check.component_type {
        entry.insert("componentType".into(), json!(&**component_type));
    }
    if let Some(value) = &check.result.observed_value {
        entry.insert("observedValue".into(), value.clone());
    }
    if let Some(unit) = &check.result.observed_unit {
        entry.insert("observedUnit".into(), json!(unit));
    }
    entry.insert("status".into(), json!(check.status().as_str()));
    entry.insert(
        "time".into(),
        json!(humantime::format_rfc3339_millis(check.time).to_string()),
    );
    if show_details && check.status() != Status::Pass {
        if let Some(message) = &check.result.message {
            entry.insert("output".into(), json!(message));
        }
    }
    Value::Object(entry)
}

impl Format for HealthJson {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        Rendered::json(answer.status_code, HEALTH_JSON, &self.to_value(answer))
    }
}
