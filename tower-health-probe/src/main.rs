//! `tower-health-probe`: a health probe for images without curl.
//!
//! ```text
//! tower-health-probe http://127.0.0.1:3000/health/ready
//! tower-health-probe -addr 127.0.0.1:50051 -service readiness
//! ```
//!
//! Exits 0 healthy, 1 bad arguments, 2 connection failed or timed out, 3 the request failed,
//! 4 answered but not healthy: grpc_health_probe's codes. The flags are grpc_health_probe's where
//! they apply; `tower-health-probe -help` lists them. All of it is the library's
//! [`tower_health_probe::cli`], so an application can offer the same as a subcommand.

#![deny(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(tower_health_probe::cli(std::env::args().skip(1))),
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            ExitCode::from(2)
        }
    }
}
