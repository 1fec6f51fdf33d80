//! Ready-made endpoints answering exactly as other health-check packages do, path for path.
//!
//! Each preset is a builder that turns into the [`Endpoint`](crate::Endpoint)s of one package:
//! hand it to [`HealthLayer::with_endpoints`](crate::HealthLayer::with_endpoints) to answer
//! exactly the paths that package answers (every other path reaches the application), or to
//! [`HealthLayer::endpoints`](crate::HealthLayer::endpoints) to add them next to the default
//! `/health` endpoints. Presets are plain configuration of the general mechanism (a path, a
//! subject, a gate, status codes, a format), so several run side by side on one layer, and an
//! application that needs something slightly different builds the endpoint itself.
//!
//! | preset | answers as | paths |
//! |---|---|---|
//! | [`Kubernetes`] | the Kubernetes API server | `/livez`, `/readyz`, `/livez/NAME`, `/readyz/NAME` |
//! | [`Py12fCommon`] | py-12f-common | `/health` |
//! | [`PyramidHealth`] | pyramid_health | `/health` |
//! | [`OarepoHeartbeat`] | oarepo-heartbeat | `/.well-known/heartbeat/{readiness,liveliness,environ}` |
//! | [`FlaskHealthz`] | flask-healthz | `/healthz/NAME` |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use http::{Request, Response, StatusCode};
//! use tower::ServiceExt;
//! use tower_health::{Check, Health, HealthLayer, preset};
//!
//! let health = Health::new();
//! health.register(Check::new("db", || async { true }).liveness());
//! let layer = HealthLayer::with_endpoints(preset::Kubernetes::new())
//!     .endpoints(preset::FlaskHealthz::new())
//!     .health(health);
//! let service = tower::ServiceBuilder::new()
//!     .layer(layer)
//!     .service_fn(|_: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(Response::builder().status(418).body(String::new()).unwrap())
//!     });
//! for (path, status) in [("/livez", 200), ("/livez/db", 200), ("/healthz/db", 200), ("/health", 418)] {
//!     let request = Request::get(path).body(String::new()).unwrap();
//!     let response = service.clone().oneshot(request).await.unwrap();
//!     assert_eq!(response.status(), StatusCode::from_u16(status).unwrap(), "{path}");
//! }
//! # }
//! ```

/// Each preset is its endpoints.
macro_rules! into_endpoints {
    ($preset:ty) => {
        impl IntoIterator for $preset {
            type Item = crate::endpoint::Endpoint;
            type IntoIter = std::vec::IntoIter<crate::endpoint::Endpoint>;

            fn into_iter(self) -> Self::IntoIter {
                self.endpoints().into_iter()
            }
        }
    };
}
use into_endpoints;

mod flask_healthz;
mod kubernetes;
mod oarepo_heartbeat;
mod py12f_common;
mod pyramid_health;

pub use flask_healthz::FlaskHealthz;
pub use kubernetes::Kubernetes;
pub use oarepo_heartbeat::OarepoHeartbeat;
pub use py12f_common::Py12fCommon;
pub use pyramid_health::PyramidHealth;
