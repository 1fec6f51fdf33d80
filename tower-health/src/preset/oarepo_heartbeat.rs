//! oarepo-heartbeat's endpoints.

use http::StatusCode;

use crate::endpoint::{Endpoint, StatusCodes};
use crate::format::{Environ, HeartbeatJson};
use crate::health::{Gate, Group, Subject};

/// oarepo-heartbeat's `/.well-known/heartbeat/readiness` (the `ready` group) and `/liveliness`
/// (the `live` group), any method, answering
/// `{"status": bool, "checks": {name: {...data, "status": bool}}}` with 200 when all are ok and
/// 500 otherwise; and `/environ` ([`Environ`], always 200) when the application adds it.
///
/// No lifecycle gate: like the package, only the checks count. A check's
/// [`data`](crate::CheckResult::data) is its entry; the boolean overwrites a `status` key, and
/// when two checks share a name the later one's entry is kept.
///
/// ```
/// use tower_health::format::Environ;
/// use tower_health::{HealthLayer, preset::OarepoHeartbeat};
///
/// let layer = HealthLayer::with_endpoints(
///     OarepoHeartbeat::new().environ(Environ::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct OarepoHeartbeat {
    prefix: String,
    environ: Option<Environ>,
}

impl Default for OarepoHeartbeat {
    fn default() -> Self {
        Self::new()
    }
}

impl OarepoHeartbeat {
    /// Readiness and liveliness under `/.well-known/heartbeat`, no environ.
    pub fn new() -> Self {
        OarepoHeartbeat {
            prefix: "/.well-known/heartbeat".to_owned(),
            environ: None,
        }
    }

    /// Serves under `prefix` instead.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().trim_end_matches('/').to_owned();
        self
    }

    /// Also serves `environ`, which exposes internals: only where the audience may see them.
    #[must_use]
    pub fn environ(mut self, environ: Environ) -> Self {
        self.environ = Some(environ);
        self
    }

    /// The endpoints.
    #[must_use]
    pub fn endpoints(self) -> Vec<Endpoint> {
        let codes = StatusCodes {
            fail: StatusCode::INTERNAL_SERVER_ERROR,
            errored: Some(StatusCode::INTERNAL_SERVER_ERROR),
            ..StatusCodes::default()
        };
        let prefix = &self.prefix;
        let ungated = |path: &str| {
            Endpoint::new(format!("{prefix}/{path}"))
                .gate(Gate::None)
                .maintenance(false)
                .any_method()
        };
        let mut endpoints: Vec<Endpoint> =
            [("readiness", Group::READY), ("liveliness", Group::LIVE)]
                .into_iter()
                .map(|(path, group)| {
                    ungated(path)
                        .subject(Subject::group(group))
                        .status_codes(codes)
                        .format(HeartbeatJson)
                })
                .collect();
        if let Some(environ) = self.environ {
            endpoints.push(ungated("environ").without_checks().format(environ));
        }
        endpoints
    }
}

super::into_endpoints!(OarepoHeartbeat);
