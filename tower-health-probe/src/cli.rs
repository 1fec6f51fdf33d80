//! The command line: grpc_health_probe's flags parsed into a [`Probe`], and [`cli`], which runs
//! it and gives the exit code.

use std::process::ExitCode;
use std::time::Duration;

use crate::duration::parse_go_duration;
use crate::outcome::{ProbeOutcome, Verdict};
use crate::probe::Probe;

/// Parses grpc_health_probe-style arguments and runs the probe, printing its message (standard
/// output when healthy, standard error otherwise): the body of a `healthcheck` subcommand, and
/// the whole of the `tower-health-probe` binary. See [`Probe::from_args`] for the arguments.
///
/// ```no_run
/// use std::process::ExitCode;
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> ExitCode {
///     // myapp healthcheck -addr 127.0.0.1:50051 -service readiness
///     tower_health_probe::cli(std::env::args().skip(2)).await
/// }
/// ```
pub async fn cli<I, S>(args: I) -> ExitCode
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let outcome = match Probe::from_args(args) {
        Ok(probe) => probe.run().await,
        Err(bad) => bad,
    };
    outcome.report()
}

/// What `-help` and every wrong argument print.
pub(crate) const USAGE: &str = "\
usage: tower-health-probe [flags] URL               GET an http:// URL
       tower-health-probe -addr HOST:PORT [flags]   call grpc.health.v1.Health/Check
flags:
  -timeout DURATION          HTTP: bound on the whole request (default 1s)
  -service NAME              gRPC: the service to ask about (default \"\")
  -rpc-timeout DURATION      gRPC: bound on the RPC (default 1s)
  -connect-timeout DURATION  bound on connecting (default 1s)
  -user-agent STRING         the User-Agent (default tower-health-probe/VERSION)
exit codes: 0 healthy, 1 bad arguments, 2 connection failed or timed out,
            3 the request failed, 4 answered but not healthy";

/// The parsed arguments, before they become a [`Probe`].
#[derive(Default)]
pub(crate) struct Args {
    url: Option<String>,
    addr: Option<String>,
    service: Option<String>,
    timeout: Option<Duration>,
    rpc_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
}

impl Args {
    /// The probe the arguments describe, or why not (empty: only the usage, for `-help`).
    pub(crate) fn parse<I, S>(args: I) -> Result<Probe, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut parsed = Args::default();
        let mut args = args.into_iter();
        let mut flags_end = false;
        while let Some(arg) = args.next() {
            let arg = arg.as_ref();
            if flags_end || !arg.starts_with('-') || arg == "-" {
                if parsed.url.is_some() {
                    return Err(format!("unexpected argument {arg:?}"));
                }
                parsed.url = Some(arg.to_owned());
                continue;
            }
            if arg == "--" {
                flags_end = true;
                continue;
            }
            let flag = arg.strip_prefix("--").unwrap_or(&arg[1..]);
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (flag, None),
            };
            match name {
                "h" | "help" => return Err(String::new()),
                "v" => continue,
                "tls" | "tls-no-verify" | "tls-ca-cert" | "tls-client-cert" | "tls-client-key"
                | "tls-server-name" | "alts" | "spiffe" => {
                    return Err(format!(
                        "-{name}: TLS is not supported, only plain connections"
                    ));
                }
                "addr" | "service" | "timeout" | "rpc-timeout" | "connect-timeout"
                | "user-agent" => {}
                _ => return Err(format!("flag provided but not defined: -{name}")),
            }
            let value = match inline.or_else(|| args.next().map(|a| a.as_ref().to_owned())) {
                Some(value) => value,
                None => return Err(format!("flag needs an argument: -{name}")),
            };
            match name {
                "addr" => parsed.addr = Some(value),
                "service" => parsed.service = Some(value),
                "user-agent" => parsed.user_agent = Some(value),
                "timeout" => parsed.timeout = Some(positive(name, &value)?),
                "rpc-timeout" => parsed.rpc_timeout = Some(positive(name, &value)?),
                _ => parsed.connect_timeout = Some(positive(name, &value)?),
            }
        }
        parsed.into_probe()
    }

    fn into_probe(self) -> Result<Probe, String> {
        let mut probe = match (self.url, self.addr) {
            (Some(_), Some(_)) => {
                return Err("give a URL (HTTP) or -addr (gRPC), not both".to_owned());
            }
            (None, None) => {
                return Err("nothing to probe: give a URL or -addr HOST:PORT".to_owned());
            }
            (Some(url), None) => {
                if self.service.is_some() {
                    return Err("-service applies to gRPC (-addr) only".to_owned());
                }
                if self.rpc_timeout.is_some() {
                    return Err("-rpc-timeout applies to gRPC (-addr); use -timeout".to_owned());
                }
                Probe::http(url).timeout(self.timeout.unwrap_or(Probe::DEFAULT_TIMEOUT))
            }
            (None, Some(addr)) => {
                if self.timeout.is_some() {
                    return Err("-timeout applies to HTTP (a URL); use -rpc-timeout".to_owned());
                }
                Probe::grpc(addr)
                    .service(self.service.unwrap_or_default())
                    .timeout(self.rpc_timeout.unwrap_or(Probe::DEFAULT_TIMEOUT))
            }
        };
        if let Some(connect_timeout) = self.connect_timeout {
            probe = probe.connect_timeout(connect_timeout);
        }
        if let Some(user_agent) = self.user_agent {
            probe = probe.user_agent(user_agent);
        }
        Ok(probe)
    }
}

/// A flag's duration, which must be above zero.
fn positive(flag: &str, value: &str) -> Result<Duration, String> {
    match parse_go_duration(value) {
        Some(duration) if !duration.is_zero() => Ok(duration),
        Some(_) => Err(format!("-{flag} must be greater than zero")),
        None => Err(format!(
            "invalid value {value:?} for flag -{flag}: a duration such as 1s or 500ms"
        )),
    }
}

impl Probe {
    /// Parses grpc_health_probe-style arguments (without the program name):
    ///
    /// ```text
    /// URL                    HTTP: GET this http:// URL
    ///   -timeout DURATION      bound on the whole request (default 1s)
    /// -addr HOST:PORT        gRPC: call grpc.health.v1.Health/Check at this address
    ///   -service NAME          the service to ask about (default "")
    ///   -rpc-timeout DURATION  bound on the RPC (default 1s)
    /// -connect-timeout DURATION  bound on connecting (default 1s)
    /// -user-agent STRING         the User-Agent (default tower-health-probe/VERSION)
    /// ```
    ///
    /// Flags take one dash or two, and their value after `=` or as the next argument; durations
    /// are Go's (`1s`, `500ms`, `1m30s`, `1.5s`). `-v` is accepted and changes nothing. A wrong
    /// argument, or `-h`/`-help`, gives a [`BadArguments`](Verdict::BadArguments) outcome
    /// whose message ends with the usage, as grpc_health_probe exits 1 for them.
    ///
    /// ```
    /// use tower_health_probe::{Probe, Verdict};
    ///
    /// assert!(Probe::from_args(["-addr", "127.0.0.1:50051", "-service=readiness"]).is_ok());
    /// assert!(Probe::from_args(["http://127.0.0.1:3000/health", "-timeout", "500ms"]).is_ok());
    /// let bad = Probe::from_args(["-addr"]).unwrap_err();
    /// assert_eq!(bad.verdict(), Verdict::BadArguments);
    /// ```
    pub fn from_args<I, S>(args: I) -> Result<Probe, ProbeOutcome>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Args::parse(args).map_err(|why| {
            ProbeOutcome::new(
                Verdict::BadArguments,
                if why.is_empty() {
                    USAGE.to_owned()
                } else {
                    format!("error: {why}\n{USAGE}")
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Verdict;
    use crate::target::Target;

    #[test]
    fn arguments() {
        let bad = |args: &[&str]| Probe::from_args(args).unwrap_err().verdict();
        assert_eq!(bad(&[]), Verdict::BadArguments);
        assert_eq!(bad(&["-help"]), Verdict::BadArguments);
        assert_eq!(bad(&["-addr", ":1", "http://x/"]), Verdict::BadArguments);
        assert_eq!(bad(&["http://x/", "-service", "a"]), Verdict::BadArguments);
        assert_eq!(bad(&["-addr=:1", "-timeout=1s"]), Verdict::BadArguments);
        assert_eq!(bad(&["-addr=:1", "-rpc-timeout=0s"]), Verdict::BadArguments);
        assert_eq!(bad(&["-addr=:1", "-tls"]), Verdict::BadArguments);
        assert_eq!(bad(&["-nope", "x"]), Verdict::BadArguments);
        assert_eq!(bad(&["a", "b"]), Verdict::BadArguments);
        let probe = Probe::from_args([
            "--addr",
            ":50051",
            "-service=readiness",
            "-rpc-timeout",
            "2s",
            "-connect-timeout=300ms",
            "-v",
        ])
        .unwrap();
        assert_eq!(probe.timeout, Duration::from_secs(2));
        assert_eq!(probe.connect_timeout, Duration::from_millis(300));
        assert!(matches!(
            probe.target,
            Target::Grpc { ref addr, ref service } if addr == ":50051" && service == "readiness"
        ));
    }
}
