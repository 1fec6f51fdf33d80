//! The history endpoints (`{prefix}/history` and `{prefix}/history/{check}`, opt-in with
//! [`HealthLayer::history`](crate::HealthLayer::history)): what each check's recent runs were,
//! under the layer's exposure policy. Reading them runs no check.

use std::sync::Arc;
use std::time::SystemTime;

use http::{Method, StatusCode};

use super::request::HealthRequest;
use super::response::response;
use super::routes::{Answering, Handler};
use crate::endpoint::{ExposurePolicy, Methods, PathPattern};
use crate::format::content_type::JSON;
use crate::format::{Rendered, history_json};
use crate::health::{Check, Health, History, Status};

/// Answers the history of every check, or of the checks of one name.
pub(crate) struct HistoryHandler {
    methods: Methods,
    /// The layer's: who sees names and messages.
    exposure: ExposurePolicy,
}

impl HistoryHandler {
    /// The two routes under `prefix`: every check at `{prefix}/history`, one name's at
    /// `{prefix}/history/{check}`.
    pub(crate) fn routes(prefix: &str, exposure: ExposurePolicy) -> [(PathPattern, Arc<Self>); 2] {
        let path: Box<str> = format!("{prefix}/history").into();
        let handler = Arc::new(HistoryHandler {
            methods: Methods::get_head(),
            exposure,
        });
        [
            (PathPattern::Exact(path.clone()), handler.clone()),
            (PathPattern::PerCheck(path), handler),
        ]
    }
}

impl Handler for HistoryHandler {
    fn methods(&self) -> &Methods {
        &self.methods
    }

    fn reads_body(&self, _: &http::request::Parts) -> bool {
        false
    }

    fn handle(self: Arc<Self>, health: &Health, request: HealthRequest) -> Answering {
        let exposure = self.exposure.level_for(&request.parts);
        let head = request.parts.method == Method::HEAD;
        let mut checks = health.registry().histories();
        if let Some(name) = &request.check {
            checks.retain(|(check, _)| check.name() == &**name);
            if checks.is_empty() {
                let body = serde_json::json!({"status": null, "error": "no check of that name"});
                let rendered = Rendered::json(StatusCode::NOT_FOUND, JSON, &body);
                return Answering::Ready(response(rendered, head));
            }
        }
        let status = aggregate(&checks);
        let body = history_json(status, &checks, exposure, SystemTime::now());
        let rendered = Rendered::json(StatusCode::OK, JSON, &body);
        Answering::Ready(response(rendered, head))
    }
}

/// The aggregate of the latest results, as an evaluation of these checks would find it (a
/// non-critical failure warns); gates and maintenance are the probes' business.
pub(super) fn aggregate(checks: &[(Check, History)]) -> Option<Status> {
    checks
        .iter()
        .filter_map(|(check, history)| {
            let status = history.status()?;
            Some(match status {
                Status::Fail if !check.critical => Status::Warn,
                status => status,
            })
        })
        .max()
}
