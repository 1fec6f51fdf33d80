//! The status page (`{prefix}/ui`, feature `ui`, opt-in with
//! [`HealthLayer::status_page`](crate::HealthLayer::status_page)): the checks and their history
//! as one HTML answer, under the layer's exposure policy. Reading it runs no check.

use std::sync::Arc;
use std::time::SystemTime;

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use super::history::aggregate;
use super::request::HealthRequest;
use super::response::response;
use super::routes::{Answering, Handler};
use crate::endpoint::{ExposurePolicy, Methods, PathPattern};
use crate::format::content_type::HTML;
use crate::format::{CONTENT_SECURITY_POLICY, Page, Rendered, status_page};
use crate::health::{Check, Health, History, Status};

/// Answers the page.
pub(crate) struct PageHandler {
    pub(crate) path: PathPattern,
    methods: Methods,
    /// The layer's: who sees names and messages.
    exposure: ExposurePolicy,
}

impl PageHandler {
    /// The page at `{prefix}/ui`.
    pub(crate) fn new(prefix: &str, exposure: ExposurePolicy) -> Self {
        PageHandler {
            path: PathPattern::Exact(format!("{prefix}/ui").into()),
            methods: Methods::get_head(),
            exposure,
        }
    }
}

impl Handler for PageHandler {
    fn methods(&self) -> &Methods {
        &self.methods
    }

    fn reads_body(&self, _: &http::request::Parts) -> bool {
        false
    }

    fn handle(self: Arc<Self>, health: &Health, request: HealthRequest) -> Answering {
        let checks = health.registry().histories();
        // Each group its checks join, with the aggregate of their latest results.
        let mut names: Vec<&str> = checks
            .iter()
            .flat_map(|(check, _)| check.groups())
            .collect();
        names.sort_unstable();
        names.dedup();
        let groups: Vec<(Arc<str>, Option<Status>)> = names
            .into_iter()
            .map(|name| {
                let members: Vec<(Check, History)> = checks
                    .iter()
                    .filter(|(check, _)| check.groups().any(|group| group == name))
                    .cloned()
                    .collect();
                (Arc::from(name), aggregate(&members))
            })
            .collect();
        let html = status_page(&Page {
            status: aggregate(&checks),
            lifecycle: health.lifecycle(),
            maintenance: health.in_maintenance(),
            groups: &groups,
            checks: &checks,
            exposure: self.exposure.level_for(&request.parts),
            now: SystemTime::now(),
        });
        let mut rendered = Rendered::new(StatusCode::OK, HTML, html);
        for (name, value) in [
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ] {
            rendered
                .headers
                .insert(name, HeaderValue::from_static(value));
        }
        Answering::Ready(response(rendered, request.parts.method == Method::HEAD))
    }
}
