//! The metrics endpoint (`{prefix}/metrics`, opt-in with
//! [`HealthLayer::metrics`](crate::HealthLayer::metrics)): the figures of [`crate::metrics`]
//! over HTTP, under the layer's exposure policy like every other answer: a request that would
//! not be shown check names gets the service's status and the request counts only.

use std::sync::Arc;

use http::{Method, StatusCode, header};

use super::request::HealthRequest;
use super::response::response;
use super::routes::{Answering, Handler};
use crate::endpoint::{ExposurePolicy, Methods, PathPattern};
use crate::format::Rendered;
use crate::health::{Exposure, Health};
use crate::metrics::{Exposition, RequestCounts, RequestSeries, write};

/// Answers the counts of the handle and of the layer's endpoints in the Prometheus text format
/// or OpenMetrics, as the `Accept` header asks.
pub(crate) struct MetricsHandler {
    pub(crate) path: PathPattern,
    methods: Methods,
    /// This endpoint's own counts first, then the other endpoints'.
    requests: Vec<Arc<RequestCounts>>,
    /// The layer's: who sees check and group names.
    exposure: ExposurePolicy,
}

impl MetricsHandler {
    /// The endpoint at `{prefix}/metrics`, showing its own counts and `others`, and names to the
    /// requests `exposure` shows names.
    pub(crate) fn new(
        prefix: &str,
        others: impl IntoIterator<Item = Arc<RequestCounts>>,
        exposure: ExposurePolicy,
    ) -> Self {
        let path = PathPattern::Exact(format!("{prefix}/metrics").into());
        let own = Arc::new(RequestCounts::new(path.template()));
        MetricsHandler {
            path,
            methods: Methods::get_head(),
            requests: std::iter::once(own).chain(others).collect(),
            exposure,
        }
    }
}

impl Handler for MetricsHandler {
    fn methods(&self) -> &Methods {
        &self.methods
    }

    fn requests(&self) -> Option<&RequestCounts> {
        self.requests.first().map(|own| &**own)
    }

    fn handle(self: Arc<Self>, health: &Health, request: HealthRequest) -> Answering {
        let accept = request
            .parts
            .headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok());
        let exposition = Exposition::negotiate(accept);
        let mut stats = health.registry().stats();
        if self.exposure.level_for(&request.parts) < Exposure::Names {
            // Every series of a check or a group is labelled with its name.
            stats.checks.clear();
            stats.groups.clear();
        }
        let series: Vec<RequestSeries<'_>> = self
            .requests
            .iter()
            .flat_map(|counts| counts.series())
            .collect();
        let body = write(&stats, &series, exposition);
        let rendered = Rendered::new(StatusCode::OK, exposition.content_type(), body);
        let head = request.parts.method == Method::HEAD;
        Answering::Ready(response(rendered, head))
    }
}
