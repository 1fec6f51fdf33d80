//! The layer's settings: its own endpoints (`{prefix}` for the whole service, `{prefix}/{group}`
//! for every group and `{prefix}/{group}/{check}` for each of its checks), and what every
//! endpoint on it inherits unless it sets its own.

use std::sync::Arc;

use http::HeaderMap;

use super::{Endpoint, ExposurePolicy, PathPattern, StatusCodes};
use crate::format::{Format, HealthJson};

/// The layer's settings, set through its builder: whether and where its default endpoints
/// answer, and the format, exposure, codes, warn headers and logging of every endpoint on it
/// that does not set its own.
#[derive(Clone)]
pub(crate) struct Defaults {
    pub(crate) enabled: bool,
    pub(crate) prefix: String,
    pub(crate) format: Arc<dyn Format>,
    pub(crate) exposure: ExposurePolicy,
    pub(crate) codes: StatusCodes,
    pub(crate) warn_headers: HeaderMap,
    pub(crate) no_log: bool,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            enabled: true,
            prefix: "/health".to_owned(),
            format: Arc::new(HealthJson::new()),
            exposure: ExposurePolicy::default(),
            codes: StatusCodes::default(),
            warn_headers: HeaderMap::new(),
            no_log: false,
        }
    }
}

impl Defaults {
    /// The endpoints, none when they are switched off.
    pub(crate) fn endpoints(&self) -> Vec<Endpoint> {
        if !self.enabled {
            return Vec::new();
        }
        let service = Endpoint::new(self.prefix.clone());
        let groups = Endpoint {
            path: PathPattern::Groups(self.prefix.clone().into_boxed_str()),
            ..Endpoint::new("")
        };
        vec![service, groups]
    }
}
