//! The Kubernetes API server's `/livez` and `/readyz`.

use http::StatusCode;

use crate::endpoint::{Endpoint, ExposurePolicy, StatusCodes};
use crate::format::KubernetesText;
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
/// At [`Exposure::StatusOnly`](crate::Exposure::StatusOnly) no `[+]NAME` line is written: a failing aggregate answers
/// `livez check failed` alone.
///
/// ```
/// use tower_health::{HealthLayer, preset::Kubernetes};
///
/// let layer = HealthLayer::with_endpoints(Kubernetes::new());
/// ```
#[derive(Clone, Debug)]
pub struct Kubernetes {
    /// Unless set, the layer's.
    exposure: Option<ExposurePolicy>,
}

impl Default for Kubernetes {
    fn default() -> Self {
        Self::new()
    }
}

impl Kubernetes {
    /// The four paths, withholding reasons everywhere.
    pub fn new() -> Self {
        Kubernetes { exposure: None }
    }

    /// How much each request sees on all four paths (default [`Exposure::Names`](crate::Exposure::Names): the check
    /// lines without reasons). `Exposure::Messages` shows the reason on `/livez/NAME` and
    /// `/readyz/NAME`, the Kubernetes API server's behaviour; the aggregate paths withhold
    /// reasons at every level, as it does. Unless set here, the layer's
    /// [`exposure`](crate::HealthLayer::exposure).
    #[must_use]
    pub fn exposure(mut self, exposure: impl Into<ExposurePolicy>) -> Self {
        self.exposure = Some(exposure.into());
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
                .format(KubernetesText::new(name))
        });
        let single = paths.map(|(group, name)| {
            Endpoint::new(format!("/{name}"))
                .subject(Subject::group(group))
                .per_check()
                .format(KubernetesText::single())
        });
        let exposure = self.exposure;
        aggregate
            .into_iter()
            .chain(single)
            .map(|endpoint| {
                let endpoint = endpoint.status_codes(codes);
                match &exposure {
                    Some(exposure) => endpoint.exposure(exposure.clone()),
                    None => endpoint,
                }
            })
            .collect()
    }
}

super::into_endpoints!(Kubernetes);
