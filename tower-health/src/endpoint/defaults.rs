//! The layer's own endpoints: `{prefix}` for the whole service, `{prefix}/{group}` for every
//! group and `{prefix}/{group}/{check}` for each of its checks.

use std::sync::Arc;

use http::HeaderMap;

use super::{Endpoint, ExposurePolicy, PathPattern, StatusCodes};
use crate::format::{Format, HealthJson};

/// How the default endpoints answer; set through the layer's builder.
#[derive(Clone)]
pub(crate) struct Defaults {
    pub(crate) enabled: bool,
    pub(crate) prefix: String,
    pub(crate) format: Arc<dyn Format>,
    pub(crate) details: ExposurePolicy,
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
            details: ExposurePolicy::default(),
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
        [service, groups]
            .into_iter()
            .map(|endpoint| Endpoint {
                format: self.format.clone(),
                details: self.details.clone(),
                codes: self.codes,
                warn_headers: self.warn_headers.clone(),
                no_log: self.no_log,
                ..endpoint
            })
            .collect()
    }
}
