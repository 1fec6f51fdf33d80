//! The health figures as metrics: what the core counts of each check's runs and the statuses it
//! records, with the requests each health endpoint answered, written in the Prometheus text
//! format or OpenMetrics (served by [`HealthLayer::metrics`](crate::HealthLayer::metrics)) and,
//! with the feature `metrics`, recorded through the `metrics` facade as they change.
//!
//! The core knows nothing of this module: it hands out its counts ([`Stats`]) and tells one
//! observer of each run and each recorded status (`Observer`, which the facade is).
//!
//! Labels are check and group names only, never messages, so the number of series is bounded
//! by the registry.

mod exposition;
#[cfg(feature = "metrics")]
mod facade;
mod requests;

pub(crate) use exposition::{Exposition, RequestSeries, write};
#[cfg(feature = "metrics")]
pub(crate) use facade::observe;
pub(crate) use requests::RequestCounts;

#[cfg(doc)]
use crate::health::Stats;
use crate::health::Status;

/// A status as a gauge's value: 0 pass, 1 warn, 2 fail, so the worst of several is their
/// maximum, as in an aggregate.
pub(crate) fn status_value(status: Status) -> u8 {
    status as u8
}
