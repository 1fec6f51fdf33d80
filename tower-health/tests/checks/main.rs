//! Running checks: execution, caching, resilience, status watches, logging, and the core's
//! ready-made checks (manual reports, TCP); the others are tested in tower-health-checks.

#[path = "../common/capture.rs"]
mod capture;
#[path = "../common/checks.rs"]
mod checks;
#[path = "../common/mod.rs"]
mod common;

mod check_runs;
mod checks_execution;
mod checks_network;
mod logging;
mod manual;
#[cfg(feature = "metrics")]
mod metrics_facade;
mod resilience;
mod spans;
mod status_watch;
