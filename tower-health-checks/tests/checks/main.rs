//! The ready-made checks against real servers, files and the live system: PostgreSQL, Redis and
//! DNS where `scripts/with-test-services.sh` runs them. Each file tests the checks of its
//! features and compiles to nothing without them.

// The core's test support: running one check, rendering its health+json, misbehaving listeners.
#[path = "../../../tower-health/tests/common/checks.rs"]
mod checks;
#[path = "../../../tower-health/tests/common/mod.rs"]
mod common;

mod checks_datastores;
mod checks_http;
mod checks_remote;
mod checks_system;
