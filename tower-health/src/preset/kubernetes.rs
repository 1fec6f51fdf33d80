//! The Kubernetes API server's `/livez` and `/readyz`.

use http::StatusCode;

use crate::endpoint::{Endpoint, ExposurePolicy, StatusCodes};
use crate::format::KubernetesText;
use crate::health::Exposure;
use crate::health::{Group, Subject};

/// The Kubernetes API server's `/livez` and `/readyz`, with `?verbose` and `?exclude=NAME`, and
/// `/livez/NAME`, `/readyz/NAME` for one check, in its text format (`ok`, `[+]db ok`,
/// `[-]db failed: reason withheld`, `livez check passed`).
///
/// `/livez` answers the `live` group, ungated; `/readyz` the `ready` group, gated by the
/// working state and by maintenance mode. Failures answer 500; the aggregate endpoints withhold
/// the reasons (they are logged). The single-check ones withhold them too unless
/// [`Kubernetes::exposure`] allows them: the Kubernetes API server shows them, so
/// `.exposure(Exposure::Messages)` answers exactly as it does, to anyone who can reach the port.
/// At [`Exposure::StatusOnly`] no `[+]NAME` line is written: a failing aggregate answers
/// `livez check failed` alone.
///
/// ```
/// use tower_health::{HealthLayer, preset::Kubernetes};
///
/// let layer = HealthLayer::with_endpoints(Kubernetes::new());
/// ```
#[derive(Clone, Debug)]
pub struct Kubernetes {
    details: ExposurePolicy,
}

impl Default for Kubernetes {
    fn default() -> Self {
        Self::new()
    }
}

impl Kubernetes {
    /// The four paths, withholding reasons everywhere.
    pub fn new() -> Self {
        Kubernetes {
            details: ExposurePolicy::default(),
        }
    }

    /// How much each request sees on all four paths (default [`Exposure::Names`]: the check
    /// lines without reasons). `Exposure::Messages` shows the reason on `/livez/NAME` and
    /// `/readyz/NAME`, the Kubernetes API server's behaviour; the aggregate paths withhold
    /// reasons at every level, as it does.
    #[must_use]
    pub fn exposure(mut self, details: impl Into<ExposurePolicy>) -> Self {
        self.details = details.into();
        self
    }

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        let codes = StatusCodes {
            fail: StatusCode::INTERNAL_SERVER_ERROR,
            maintenance: StatusCode::INTERNAL_SERVER_ERROR,
            errored: Some(StatusCode::INTERNAL_SERVER_ERROR),
            ..StatusCodes::default()
        };
        let paths = [(Group::LIVE, "livez"), (Group::READY, "readyz")];
        let aggregate = paths.map(|(group, name)| {
            Endpoint::new(format!("/{name}"))
                .subject(Subject::group(group))
                .verbose_param("verbose")
                .exclude_param("exclude")
                .status_codes(codes)
                // The API server never shows reasons on its aggregate endpoints.
                .exposure(self.details.clone().at_most(Exposure::Names))
                .format(KubernetesText::new(name))
        });
        let single = paths.map(|(group, name)| {
            Endpoint::new(format!("/{name}"))
                .subject(Subject::group(group))
                .per_check()
                .status_codes(codes)
                .exposure(self.details.clone())
                .format(KubernetesText::single())
        });
        aggregate.into_iter().chain(single).collect()
    }
}

super::into_endpoints!(Kubernetes);
