//! A health probe for images without curl: GET an HTTP health URL or call a gRPC health service,
//! and turn the answer into a process exit code.
//!
//! Docker's `HEALTHCHECK` and Kubernetes' `exec` probes run a program inside the image, and
//! distroless or scratch images have no curl. With this crate the application's own binary can
//! offer `myapp healthcheck`, or the image can carry the `tower-health-probe` binary of this
//! package, which is the same code. The server need not use tower-health: any HTTP health URL or
//! `grpc.health.v1` service will do.
//!
//! - **HTTP**, judged as the kubelet judges `httpGet`: `GET` over plain HTTP/1.1, healthy when
//!   200 <= status < 400 (redirects are not followed), at most [`Probe::BODY_LIMIT`] bytes of the
//!   body read, a `User-Agent` naming the probe, and a one-second timeout by default.
//! - **gRPC**: `grpc.health.v1.Health/Check` over plain HTTP/2, healthy only on `SERVING`.
//!
//! The [`Verdict`]s and their exit codes are those of grpc_health_probe:
//!
//! | code | verdict | when |
//! |---|---|---|
//! | 0 | [`Healthy`](Verdict::Healthy) | 200–399; `SERVING` |
//! | 1 | [`BadArguments`](Verdict::BadArguments) | unknown flag, bad duration, invalid URL or address |
//! | 2 | [`ConnectionFailed`](Verdict::ConnectionFailed) | refused, unreachable, or timed out: HTTP with no complete answer in time; gRPC with no connection in time |
//! | 3 | [`RequestFailed`](Verdict::RequestFailed) | HTTP: the connection closed or the answer was not HTTP; gRPC: the RPC failed (`NOT_FOUND`, `UNIMPLEMENTED`, ...) or did not finish within the RPC timeout |
//! | 4 | [`Unhealthy`](Verdict::Unhealthy) | answered, but a status outside 200–399, or not `SERVING` |
//!
//! A subcommand in the application's binary is a few lines with [`cli`], which takes
//! grpc_health_probe's flags (see [`Probe::from_args`]):
//!
//! ```no_run
//! use std::process::ExitCode;
//!
//! #[tokio::main]
//! async fn main() -> ExitCode {
//!     let mut args = std::env::args().skip(1);
//!     if args.next().as_deref() == Some("healthcheck") {
//!         // myapp healthcheck http://127.0.0.1:3000/health/ready
//!         // myapp healthcheck -addr 127.0.0.1:50051 -service readiness
//!         return tower_health_probe::cli(args).await;
//!     }
//!     // ... serve the application
//!     ExitCode::SUCCESS
//! }
//! ```
//!
//! Or build the probe in code:
//!
//! ```no_run
//! use std::time::Duration;
//! use tower_health_probe::{Probe, Verdict};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let outcome = Probe::grpc("127.0.0.1:50051")
//!         .service("readiness")
//!         .timeout(Duration::from_millis(500))
//!         .run()
//!         .await;
//!     if outcome.verdict() != Verdict::Healthy {
//!         eprintln!("{outcome}");
//!     }
//! }
//! ```
//!
//! The crate has no features. It needs a Tokio runtime (any flavour) with IO and time enabled,
//! and brings no TLS: the probe asks plain `http://` URLs and plain gRPC only (`https://` is a
//! bad argument), to stay small.
//!
//! # In an image
//!
//! ```text
//! cargo build --profile probe -p tower-health-probe         # target/probe/tower-health-probe, small
//! cargo install --path tower-health-probe --profile probe   # or install it
//! tower-health-probe http://127.0.0.1:3000/health/ready
//! tower-health-probe -addr 127.0.0.1:50051 -service readiness
//! ```
//!
//! The `probe` profile is the workspace's size-optimised build (`opt-level = "z"`, LTO, one
//! codegen unit, `panic = "abort"`, stripped). `examples/docker/Dockerfile` builds the example
//! app and the probe in a `rust` image and copies both onto `gcr.io/distroless/cc-debian12`,
//! with `HEALTHCHECK CMD ["/tower-health-probe", "http://127.0.0.1:3000/health/ready"]` (and,
//! commented, the same through the app's subcommand, and a gRPC one). For `distroless/static`
//! or `scratch`, build for the `x86_64-unknown-linux-musl` target.
//!
//! Docker and Kubernetes take every non-zero code as a failed check (Docker documents 1 as
//! "unhealthy" and reserves 2, but counts any non-zero code as a failure); the codes tell a
//! person reading the output what went wrong. The message goes to standard output when healthy
//! and to standard error otherwise. In Kubernetes, `httpGet` and `grpc` probes need no program
//! in the image; an `exec` probe with the same command (`command: ["/tower-health-probe",
//! "-addr", "127.0.0.1:50051", "-service", "liveness"]`) serves clusters or probe settings those
//! do not cover.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![deny(unreachable_pub)]

mod background;
mod cli;
mod duration;
mod grpc;
mod http;
mod outcome;
mod probe;
mod run;
mod target;

pub use cli::cli;
pub use outcome::{ProbeOutcome, Verdict};
pub use probe::Probe;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
