//! The layer over real sockets: pass-through, hostile input, frameworks, routing, parameters,
//! lifecycle states over the wire, the health+json body, the standalone listener and property
//! tests of request handling.

#[path = "../common/bodies.rs"]
mod bodies;
#[path = "../common/mod.rs"]
mod common;
#[path = "../common/invariants.rs"]
mod invariants;

mod drain_close;
mod exposure;
mod format_health_json;
mod frameworks;
mod groups;
mod history;
mod hostile;
mod jsonrpsee;
mod layer_http;
mod lifecycle;
mod listener_timeouts;
mod load_balancers;
mod logging_locks;
mod maintenance_first;
mod metrics;
mod named_paths;
mod property;
mod subjects;
