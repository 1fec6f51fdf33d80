//! Running checks: execution, caching, resilience, status watches, logging, and the ready-made
//! checks against real servers (PostgreSQL and Redis where the test services run).

#[path = "../common/capture.rs"]
mod capture;
#[path = "../common/checks.rs"]
mod checks;
#[path = "../common/mod.rs"]
mod common;

mod check_runs;
mod checks_datastores;
mod checks_execution;
mod checks_network;
mod checks_remote;
mod checks_system;
mod logging;
mod manual;
#[cfg(feature = "metrics")]
mod metrics_facade;
mod resilience;
mod spans;
mod status_watch;
