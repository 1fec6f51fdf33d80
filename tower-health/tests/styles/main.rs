//! The presets over real sockets, written from the reference packages' request/response pairs,
//! and the Kubernetes drain.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/styles.rs"]
mod styles;

mod kubernetes;
mod one_liners;
mod style_heartbeat;
mod style_kubernetes;
mod style_lifecycle;
mod style_maintenance;
mod style_named;
mod style_side_by_side;
