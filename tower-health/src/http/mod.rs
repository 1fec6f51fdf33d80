//! The HTTP-facing layer: the only code that sees an `http::Request`. The [`HealthLayer`] makes
//! a [`HealthService`], whose [`ResponseFuture`] yields a [`HealthBody`]: the inner service's
//! response untouched, or a health answer built from the routes, the request's parameters and
//! an endpoint's format.

mod answer;
mod body;
mod future;
#[cfg(feature = "grpc")]
mod grpc;
mod history;
mod layer;
mod metrics;
#[cfg(feature = "ui")]
mod page;
mod request;
mod response;
mod routes;
mod service;

pub use body::HealthBody;
pub use future::ResponseFuture;
pub use layer::HealthLayer;
pub use service::HealthService;
