//! The `metrics` facade: the same figures, recorded as they change into whichever recorder the
//! application installed.

use std::time::Duration;

use super::status_value;
use crate::health::{Check, Health, Observer, RunOutcome, Status, Subject};

/// Records every run and status of the handles it observes.
struct Facade;

static FACADE: Facade = Facade;

/// Records `health`'s figures through the facade from now on (once per handle: the layer, the
/// gRPC service and the listener each call it for the handle they serve).
pub(crate) fn observe(health: &Health) {
    health.registry().changes.observe(&FACADE);
}

impl Observer for Facade {
    fn run(&self, check: &str, outcome: RunOutcome, duration: Duration) {
        let check = check.to_owned();
        metrics::counter!("tower_health_check_runs_total", "check" => check.clone(), "outcome" => outcome.as_str())
            .increment(1);
        metrics::histogram!("tower_health_check_duration_seconds", "check" => check)
            .record(duration.as_secs_f64());
    }

    fn status(&self, subject: &Subject, status: Status, checks: &[Check]) {
        let value = status_value(status);
        match subject {
            Subject::Service => metrics::gauge!("tower_health_service_status").set(value),
            Subject::Group(name) => {
                metrics::gauge!("tower_health_group_status", "group" => name.to_string()).set(value)
            }
            // The status of the checks of this name in each of their groups.
            Subject::Check(name) => {
                let mut groups: Vec<&str> = Vec::new();
                for group in checks.iter().flat_map(Check::groups) {
                    if !groups.contains(&group) {
                        groups.push(group);
                    }
                }
                for group in groups {
                    metrics::gauge!("tower_health_check_status", "check" => name.to_string(), "group" => group.to_owned())
                        .set(value);
                }
            }
        }
    }
}

pub(crate) fn request(endpoint: &str, code: u16) {
    metrics::counter!("tower_health_requests_total", "endpoint" => endpoint.to_owned(), "code" => code.to_string())
        .increment(1);
}
