//! What a probe concludes: a [`Verdict`] (the exit code) and the message that explains it.

use std::fmt;
use std::process::ExitCode;

/// What a probe concluded, as grpc_health_probe's exit codes (the discriminants).
///
/// ```
/// use std::process::ExitCode;
/// use tower_health_probe::Verdict;
///
/// assert_eq!(Verdict::Unhealthy.code(), 4);
/// let exit: ExitCode = Verdict::Healthy.into();
/// assert_eq!(exit, ExitCode::SUCCESS);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verdict {
    /// 0: HTTP 200–399, or gRPC `SERVING`.
    Healthy = 0,
    /// 1: the arguments were wrong (an unknown flag, a bad duration, an invalid URL or address).
    BadArguments = 1,
    /// 2: no connection (refused, unreachable, timed out), or no complete HTTP answer in time.
    ConnectionFailed = 2,
    /// 3: the request failed: no HTTP answer (closed, not HTTP), or a gRPC error or RPC timeout.
    RequestFailed = 3,
    /// 4: answered, but not healthy: HTTP status outside 200–399, or gRPC not `SERVING`.
    Unhealthy = 4,
}

impl Verdict {
    /// The process exit code: 0 to 4.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Verdict> for ExitCode {
    fn from(verdict: Verdict) -> Self {
        ExitCode::from(verdict.code())
    }
}

/// The result of [`Probe::run`](crate::Probe::run): a [`Verdict`] and a one-line message saying
/// what was seen.
///
/// Its `Display` is the message.
///
/// ```no_run
/// use std::process::ExitCode;
/// use tower_health_probe::Probe;
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> ExitCode {
///     let outcome = Probe::http("http://127.0.0.1:3000/health/ready").run().await;
///     // Prints the message (stdout when healthy, else stderr) and gives the exit code.
///     outcome.report()
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeOutcome {
    verdict: Verdict,
    message: String,
}

impl ProbeOutcome {
    pub(crate) fn new(verdict: Verdict, message: impl Into<String>) -> Self {
        ProbeOutcome {
            verdict,
            message: message.into(),
        }
    }

    /// What the probe concluded.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// What was seen: the status (and the start of the body) for HTTP, the serving status or the
    /// error for gRPC, or why the probe could not ask.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The verdict's process exit code.
    pub fn exit_code(&self) -> ExitCode {
        self.verdict.into()
    }

    /// Prints the message, to standard output when healthy and to standard error otherwise, and
    /// gives the exit code: what a `healthcheck` subcommand returns from `main`.
    pub fn report(&self) -> ExitCode {
        if self.verdict == Verdict::Healthy {
            println!("{}", self.message);
        } else {
            eprintln!("{}", self.message);
        }
        self.exit_code()
    }
}

impl fmt::Display for ProbeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An error and its sources, `: `-separated, for a message.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
