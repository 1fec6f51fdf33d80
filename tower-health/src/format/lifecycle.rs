//! py-12f-common's lifecycle body: the state as IETF health+json with a note.

use serde_json::json;

use super::content_type::JSON_UTF8;
use super::{Answer, Format, Rendered};
use crate::health::Lifecycle;

/// The lifecycle state as py-12f-common writes it:
/// `{"status", "notes": [..], "serviceId": "get-health", "description": "Returns the health of
/// the 'NAME' service"}`, with one note per state.
#[derive(Clone, Debug)]
pub(crate) struct LifecycleJson {
    description: String,
}

impl LifecycleJson {
    /// The format for the service named `service`.
    pub(crate) fn new(service: impl AsRef<str>) -> Self {
        LifecycleJson {
            description: format!("Returns the health of the '{}' service", service.as_ref()),
        }
    }

    /// The note for `state`.
    pub(crate) fn note(state: Lifecycle) -> &'static str {
        match state {
            Lifecycle::Working => "Service is running",
            Lifecycle::WarmingUp | Lifecycle::ShuttingDown => {
                "Service is not healthy, it is warming up or shutting down"
            }
            Lifecycle::Unknown => "No information about the service",
        }
    }
}

impl Format for LifecycleJson {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        let body = json!({
            "status": answer.status.as_str(),
            "notes": [Self::note(answer.state)],
            "serviceId": "get-health",
            "description": self.description,
        });
        Rendered::json(answer.status_code, JSON_UTF8, &body)
    }
}
