//! Ready-made endpoints answering exactly as other health-check packages do, path for path.
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
//!
//! Each preset is a builder that turns into the [`Endpoint`](crate::Endpoint)s of one package:
//! plain configuration of the same endpoints, formats and status mapping the default endpoints
//! use. Hand it to [`HealthLayer::with_endpoints`](crate::HealthLayer::with_endpoints) to answer
//! exactly the paths that package answers (every other path, `/health/ready` included, reaches
//! the application), or to [`HealthLayer::endpoints`](crate::HealthLayer::endpoints) to add
//! them next to the default `/health` endpoints. Presets coexist on one layer (say `/livez` and
//! `/.well-known/heartbeat/*` side by side), with or without the default endpoints; an endpoint
//! added at a default path (such as `/health`) replaces the default one. An application that
//! needs something slightly different builds the endpoint itself.
//!
//! | preset | answers as | paths |
//! |---|---|---|
//! | [`Kubernetes`] | the Kubernetes API server | `/livez`, `/readyz`, `/livez/NAME`, `/readyz/NAME` |
//! | [`Py12fCommon`] | py-12f-common | `/health` |
//! | [`PyramidHealth`] | pyramid_health | `/health` |
//! | [`OarepoHeartbeat`] | oarepo-heartbeat | `/.well-known/heartbeat/{readiness,liveliness,environ}` |
//! | [`FlaskHealthz`] | flask-healthz | `/healthz/NAME` |
//!
//! Each has a runnable example: `cargo run --example style_kubernetes` (and `style_lifecycle`
//! with `--features listener`, `style_maintenance`, `style_heartbeat`, `style_named`).
//!
//! # Coming from another health-check package
//!
//! | coming from | one line |
//! |---|---|
//! | Kubernetes API server `/livez`, `/readyz` | `HealthLayer::with_endpoints(preset::Kubernetes::new().exposure(Exposure::Messages))` |
//! | py-12f-common | `HealthLayer::with_endpoints(preset::Py12fCommon::new("orders"))` (on its own listener, see below) |
//! | pyramid_health | `HealthLayer::with_endpoints(preset::PyramidHealth::new())` |
//! | oarepo-heartbeat | `HealthLayer::with_endpoints(preset::OarepoHeartbeat::new())` |
//! | flask-healthz | `HealthLayer::with_endpoints(preset::FlaskHealthz::new().exposure(Exposure::Messages))` |
//!
//! (Add `.health(health.clone())` to serve your own [`Health`](crate::Health) handle.)
//!
//! Two defaults differ from the packages, and the one-liners above restore the packages'
//! behaviour where it matters:
//! - Check messages are withheld unless the application allows them (they can name hosts and
//!   credentials). The Kubernetes API server's `/readyz/NAME` and flask-healthz show them, hence
//!   `.exposure(Exposure::Messages)` above;
//!   [`ExposurePolicy::when`](crate::ExposurePolicy::when) shows them only to trusted requests.
//! - Check results are cached for one second
//!   ([`Health::DEFAULT_CACHE_TTL`](crate::Health::DEFAULT_CACHE_TTL)), so a probe storm runs
//!   each check once. The packages run every check on every request (pyramid_health's
//!   `?checks=all`, flask-healthz's `/healthz/NAME`);
//!   `health.set_default_cache_ttl(Duration::ZERO)` does the same, while concurrent requests
//!   still share one run.
//!
//! | package setting or behaviour | tower-health |
//! |---|---|
//! | **Kubernetes** check registered with `/livez` or `/readyz` | `Check::new(name, f).liveness()` / `.readiness()` |
//! | `?verbose`, `?exclude=NAME` | built in; [`Endpoint::verbose_param`](crate::Endpoint::verbose_param), [`Endpoint::exclude_param`](crate::Endpoint::exclude_param) |
//! | `reason withheld` on `/readyz`, reason on `/readyz/NAME` | always withheld on `/readyz`; [`Kubernetes::exposure`]`(Exposure::Messages)` shows it on `/readyz/NAME` (default: withheld) |
//! | **py-12f-common** `HEALTH_CHECK`, `HEALTH_CHECK_HOST`, `HEALTH_CHECK_PORT` | [`listener::ListenerConfig::from_env`](crate::listener::ListenerConfig::from_env) + [`listener::HealthListener::start`](crate::listener::HealthListener::start)`(&config, layer)` (feature `listener`); `false`, `0`, `no`, `off`, empty or unset: off |
//! | set the service state | `health.set_lifecycle(Lifecycle::WarmingUp / Working / ShuttingDown / Unknown)` |
//! | service name in `description` | [`Py12fCommon::new`]`("NAME")` |
//! | **pyramid_health** `healthcheck.url` | [`PyramidHealth::path`]`("/whatsup")` |
//! | `healthcheck.disablefile` | `health.set_maintenance_file(Some(path.into()))` (or `health.set_maintenance(true)`) |
//! | `healthcheck.maintenance_code`, `healthcheck.failure_code` | [`PyramidHealth::maintenance_status`]`(StatusCode)` (299), [`PyramidHealth::failure_status`]`(StatusCode)` (503) |
//! | `event.report(name, status, message)` in a `HealthCheckEvent` subscriber | a check returning [`PyramidHealth::report`]`(status, message)`: only exactly `"OK"` passes; a check returning anything else reads as `OK` or `ERROR` |
//! | `?checks=true` / `all` | built in ([`Endpoint::run_checks_when`](crate::Endpoint::run_checks_when)): the last `checks` of the query decides; a form-encoded body is read only when the query has none |
//! | **oarepo-heartbeat** readiness / liveliness probe `(name, ok, data)` | `Check::new(name, f).readiness()` / `.liveness()` returning `CheckResult::pass()` or `CheckResult::new(Status::Fail)` with `.data(key, value)` |
//! | environ, `libraries`, `python` | [`OarepoHeartbeat::environ`]`(format::Environ::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")))`: your crate and tower-health in `libraries`, `rust` with the architecture and OS; [`.library()`](crate::format::Environ::library), [`.section()`](crate::format::Environ::section), [`.contributor()`](crate::format::Environ::contributor) add yours. Off unless added |
//! | **flask-healthz** `HEALTHZ = {"live": "...", "ready": "..."}` | `health.register(Check::new("live", f))`; a check that could not be built: [`Check::unresolved`](crate::Check::unresolved)`("live", error)` (answers 500 "could not be imported") |
//! | `HealthError("message")` | the check returns `Err("message")` (503 with the message as `title` under [`FlaskHealthz::exposure`]`(Exposure::Messages)`, else the reason phrase) |
//! | blueprint `url_prefix` | [`FlaskHealthz::prefix`]`("/status")` |
//! | `no_log` | [`FlaskHealthz::no_log`]: 200 answers under the prefix are not logged; every other status (404, 503, maintenance) is |
//!
//! Differences on purpose: `HEALTH_CHECK=false` turns py-12f-common's listener off; a heartbeat
//! probe that panics answers JSON (`application/json`), not HTML; a check that panics answers
//! 500 in every style; the `Allow` header lists methods with a space after each comma.

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
