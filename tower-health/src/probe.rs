//! A health probe for images without curl (feature `probe`): GET an HTTP health URL or call a gRPC
//! health service, and turn the answer into a process exit code.
//!
//! Docker's `HEALTHCHECK` and Kubernetes' `exec` probes run a program inside the image, and
//! distroless or scratch images have no curl. With this module the application's own binary can
//! offer `myapp healthcheck`, or the image can carry the `tower-health-probe` binary (the
//! `probe/` package of this repository), which is the same code.
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
//!         return tower_health::probe::cli(args).await;
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
//! use tower_health::probe::{Probe, Verdict};
//!
//! # async fn run() {
//! let outcome = Probe::grpc("127.0.0.1:50051")
//!     .service("readiness")
//!     .timeout(Duration::from_millis(500))
//!     .run()
//!     .await;
//! if outcome.verdict() != Verdict::Healthy {
//!     eprintln!("{outcome}");
//! }
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout, timeout_at};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// What a probe concluded, as grpc_health_probe's exit codes (the discriminants).
///
/// ```
/// use std::process::ExitCode;
/// use tower_health::probe::Verdict;
///
/// assert_eq!(Verdict::Unhealthy.code(), 4);
/// let _exit: ExitCode = Verdict::Healthy.into();
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

/// The result of [`Probe::run`]: a [`Verdict`] and a one-line message saying what was seen.
///
/// Its `Display` is the message.
///
/// ```
/// # async fn run() -> std::process::ExitCode {
/// use tower_health::probe::Probe;
///
/// let outcome = Probe::http("http://127.0.0.1:3000/health/ready").run().await;
/// outcome.report() // prints the message (stdout when healthy, else stderr), gives the exit code
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeOutcome {
    verdict: Verdict,
    message: String,
}

impl ProbeOutcome {
    fn new(verdict: Verdict, message: impl Into<String>) -> Self {
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

/// What a probe asks.
#[derive(Clone, Debug)]
enum Target {
    Http(String),
    Grpc { addr: String, service: String },
}

/// One health probe: an HTTP URL or a gRPC health service, with its timeouts.
///
/// ```
/// use std::time::Duration;
/// use tower_health::probe::Probe;
///
/// let http = Probe::http("http://127.0.0.1:3000/health/ready");
/// let grpc = Probe::grpc("127.0.0.1:50051")
///     .service("readiness")
///     .connect_timeout(Duration::from_millis(500))
///     .timeout(Duration::from_secs(2));
/// # drop((http, grpc));
/// ```
#[derive(Clone, Debug)]
pub struct Probe {
    target: Target,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
}

impl Probe {
    /// The default timeout and connect timeout: one second, as the kubelet's `timeoutSeconds`
    /// and grpc_health_probe's `-connect-timeout` and `-rpc-timeout`.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    /// How much of an HTTP body is read at most (10 KiB, as the kubelet): the probe stops reading
    /// there, so an endless body still gets a verdict.
    pub const BODY_LIMIT: usize = 10 * 1024;

    /// The `User-Agent` sent unless [`user_agent`](Self::user_agent) says otherwise:
    /// `tower-health-probe/VERSION`.
    pub const DEFAULT_USER_AGENT: &'static str =
        concat!("tower-health-probe/", env!("CARGO_PKG_VERSION"));

    fn new(target: Target) -> Self {
        Probe {
            target,
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_TIMEOUT,
            user_agent: Self::DEFAULT_USER_AGENT.to_owned(),
        }
    }

    /// A probe that GETs `url`, plain `http://` only (an invalid URL is
    /// [`BadArguments`](Verdict::BadArguments) when run).
    pub fn http(url: impl Into<String>) -> Self {
        Self::new(Target::Http(url.into()))
    }

    /// A probe that calls `grpc.health.v1.Health/Check` at `addr`, `HOST:PORT` (`:PORT` for
    /// 127.0.0.1), for the service `""` unless [`service`](Self::service) names one.
    pub fn grpc(addr: impl Into<String>) -> Self {
        Self::new(Target::Grpc {
            addr: addr.into(),
            service: String::new(),
        })
    }

    /// The gRPC service name to ask about (grpc_health_probe's `-service`); an HTTP probe ignores
    /// it.
    #[must_use]
    pub fn service(mut self, name: impl Into<String>) -> Self {
        if let Target::Grpc { service, .. } = &mut self.target {
            *service = name.into();
        }
        self
    }

    /// HTTP: the bound on the whole request, from connecting to the last byte read (the
    /// kubelet's `timeoutSeconds`). gRPC: the bound on the RPC once connected (`-rpc-timeout`),
    /// also sent to the server as the call's deadline. Default one second.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The bound on connecting (`-connect-timeout`): for HTTP the TCP connection (within the
    /// [`timeout`](Self::timeout)); for gRPC the TCP connection and the server's first HTTP/2
    /// frame, so a listener that accepts and never speaks fails to connect. Default one second.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` to send (grpc_health_probe's `-user-agent`), instead of
    /// [`DEFAULT_USER_AGENT`](Self::DEFAULT_USER_AGENT).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Runs the probe once. Needs a Tokio runtime (any flavour) with IO and time enabled.
    pub async fn run(&self) -> ProbeOutcome {
        match &self.target {
            Target::Http(url) => self.http_probe(url).await,
            Target::Grpc { addr, service } => self.grpc_probe(addr, service).await,
        }
    }

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
    /// use tower_health::probe::{Probe, Verdict};
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

    async fn http_probe(&self, url: &str) -> ProbeOutcome {
        let target = match HttpTarget::parse(url) {
            Ok(target) => target,
            Err(why) => return ProbeOutcome::new(Verdict::BadArguments, why),
        };
        let deadline = Instant::now() + self.timeout;
        let connect_by = deadline.min(Instant::now() + self.connect_timeout);
        let stream = match timeout_at(connect_by, TcpStream::connect(target.socket())).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return ProbeOutcome::new(
                    Verdict::ConnectionFailed,
                    format!("error: connecting to {}: {e}", target.authority),
                );
            }
            Err(_) => {
                return ProbeOutcome::new(
                    Verdict::ConnectionFailed,
                    format!(
                        "timeout: no connection to {} within {:?}",
                        target.authority,
                        self.timeout.min(self.connect_timeout)
                    ),
                );
            }
        };
        match timeout_at(deadline, self.get(&target, stream)).await {
            Ok(Ok(answer)) => answer.judge(url),
            Ok(Err(e)) => ProbeOutcome::new(
                Verdict::RequestFailed,
                format!("error: GET {url} got no HTTP answer: {}", error_chain(&e)),
            ),
            Err(_) => ProbeOutcome::new(
                Verdict::ConnectionFailed,
                format!(
                    "timeout: GET {url} got no complete answer within {:?}",
                    self.timeout
                ),
            ),
        }
    }

    /// One HTTP/1.1 GET on `stream`, reading at most [`Self::BODY_LIMIT`] bytes of the body.
    async fn get(&self, target: &HttpTarget, stream: TcpStream) -> Result<Answer, hyper::Error> {
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let _connection = Background::spawn(connection);
        let request = Request::get(target.path.as_str())
            .header(header::HOST, target.authority.as_str())
            .header(header::USER_AGENT, self.user_agent.as_str())
            .header(header::ACCEPT, "*/*")
            .header(header::CONNECTION, "close")
            .body(Empty::<Bytes>::new());
        let request = match request {
            Ok(request) => request,
            // Only a User-Agent that is no header value gets here.
            Err(_) => return Ok(Answer::Unsendable),
        };
        let response = sender.send_request(request).await?;
        let status = response.status();
        let mut body = response.into_body();
        let mut read = Vec::new();
        while read.len() < Self::BODY_LIMIT {
            let Some(frame) = body.frame().await else {
                break;
            };
            if let Ok(data) = frame?.into_data() {
                let room = Self::BODY_LIMIT - read.len();
                read.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        let cut = read.len() == Self::BODY_LIMIT && !hyper::body::Body::is_end_stream(&body);
        Ok(Answer::Status {
            status,
            body: read,
            cut,
        })
    }

    async fn grpc_probe(&self, addr: &str, service: &str) -> ProbeOutcome {
        let authority = match grpc_authority(addr) {
            Ok(authority) => authority,
            Err(why) => return ProbeOutcome::new(Verdict::BadArguments, why),
        };
        let (sender, _connection) =
            match timeout(self.connect_timeout, connect_h2(&authority)).await {
                Ok(Ok(connected)) => connected,
                Ok(Err(why)) => {
                    return ProbeOutcome::new(
                        Verdict::ConnectionFailed,
                        format!("error: failed to connect service at {authority:?}: {why}"),
                    );
                }
                Err(_) => {
                    return ProbeOutcome::new(
                        Verdict::ConnectionFailed,
                        format!(
                            "timeout: failed to connect service {authority:?} within {:?}",
                            self.connect_timeout
                        ),
                    );
                }
            };
        let origin = Uri::builder()
            .scheme("http")
            .authority(authority.as_str())
            .path_and_query("/")
            .build();
        let Ok(origin) = origin else {
            return ProbeOutcome::new(
                Verdict::BadArguments,
                format!("error: invalid address {addr:?}"),
            );
        };
        let mut client = HealthClient::with_origin(Http2(sender), origin);
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: service.to_owned(),
        });
        request.set_timeout(self.timeout);
        match self.user_agent.parse() {
            Ok(value) => {
                request.metadata_mut().insert("user-agent", value);
            }
            Err(_) => {
                return ProbeOutcome::new(
                    Verdict::BadArguments,
                    "error: the user agent is not a valid header value",
                );
            }
        }
        match timeout(self.timeout, client.check(request)).await {
            Ok(Ok(response)) => {
                let status = response.into_inner().status();
                if status == ServingStatus::Serving {
                    ProbeOutcome::new(Verdict::Healthy, "status: SERVING")
                } else {
                    ProbeOutcome::new(
                        Verdict::Unhealthy,
                        format!(
                            "service unhealthy (responded with {:?})",
                            status.as_str_name()
                        ),
                    )
                }
            }
            Ok(Err(status)) if status.code() == tonic::Code::Unimplemented => ProbeOutcome::new(
                Verdict::RequestFailed,
                format!(
                    "error: this server does not implement the grpc health protocol \
                     (grpc.health.v1.Health): {}",
                    status.message()
                ),
            ),
            Ok(Err(status)) => ProbeOutcome::new(
                Verdict::RequestFailed,
                format!(
                    "error: health rpc failed: code {:?}: {}",
                    status.code(),
                    status.message()
                ),
            ),
            Err(_) => ProbeOutcome::new(
                Verdict::RequestFailed,
                format!(
                    "timeout: health rpc did not complete within {:?}",
                    self.timeout
                ),
            ),
        }
    }
}

/// Parses grpc_health_probe-style arguments and runs the probe, printing its message (standard
/// output when healthy, standard error otherwise): the body of a `healthcheck` subcommand, and
/// the whole of the `tower-health-probe` binary. See [`Probe::from_args`] for the arguments.
///
/// ```no_run
/// # async fn run() -> std::process::ExitCode {
/// // myapp healthcheck -addr 127.0.0.1:50051 -service readiness
/// tower_health::probe::cli(std::env::args().skip(2)).await
/// # }
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

const USAGE: &str = "\
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
struct Args {
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
    fn parse<I, S>(args: I) -> Result<Probe, String>
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

/// A duration as Go writes it: `300ms`, `1.5s`, `1m30s`, `2h`; units ns, us (µs), ms, s, m, h.
fn parse_go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut seconds = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_end);
        if !number.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        seconds += value * scale;
        rest = tail;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// Where an HTTP probe connects and what it asks for.
struct HttpTarget {
    /// `host[:port]`, for the `Host` header and messages.
    authority: String,
    host: String,
    port: u16,
    path: String,
}

impl HttpTarget {
    fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("error: invalid URL {url:?}: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "error: {url:?}: https is not supported, only plain http:// URLs"
                ));
            }
            _ => return Err(format!("error: {url:?} is not an http:// URL")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("error: {url:?} has no host"))?;
        if authority.as_str().contains('@') {
            return Err("error: credentials in the URL are not supported".to_owned());
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(format!("error: {url:?} has no host"));
        }
        Ok(HttpTarget {
            authority: authority.as_str().to_owned(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: authority.port_u16().unwrap_or(80),
            path: uri
                .path_and_query()
                .map_or("/", |path| path.as_str())
                .to_owned(),
        })
    }

    fn socket(&self) -> (&str, u16) {
        (&self.host, self.port)
    }
}

/// What an HTTP server answered.
enum Answer {
    Status {
        status: StatusCode,
        body: Vec<u8>,
        cut: bool,
    },
    /// The request could not be built (a User-Agent that is no header value).
    Unsendable,
}

impl Answer {
    fn judge(self, url: &str) -> ProbeOutcome {
        let (status, body, cut) = match self {
            Answer::Status { status, body, cut } => (status, body, cut),
            Answer::Unsendable => {
                return ProbeOutcome::new(
                    Verdict::BadArguments,
                    "error: the user agent is not a valid header value",
                );
            }
        };
        let verdict = if (200..400).contains(&status.as_u16()) {
            Verdict::Healthy
        } else {
            Verdict::Unhealthy
        };
        let mut message = format!("GET {url}: {status}");
        let text = String::from_utf8_lossy(&body);
        let text = text.trim();
        if !text.is_empty() {
            message.push_str(": ");
            message.push_str(text);
            if cut {
                message.push_str(" (body cut at 10 KiB)");
            }
        }
        ProbeOutcome::new(verdict, message)
    }
}

/// `HOST:PORT` for gRPC, `:PORT` meaning 127.0.0.1.
fn grpc_authority(addr: &str) -> Result<String, String> {
    let authority = if addr.starts_with(':') {
        format!("127.0.0.1{addr}")
    } else {
        addr.to_owned()
    };
    match authority.parse::<http::uri::Authority>() {
        Ok(parsed) if parsed.port_u16().is_some() && !parsed.host().is_empty() => {
            if authority.contains('@') {
                Err(format!("error: invalid address {addr:?}: want HOST:PORT"))
            } else {
                Ok(authority)
            }
        }
        _ => Err(format!("error: invalid address {addr:?}: want HOST:PORT")),
    }
}

/// Connects over TCP and HTTP/2, and waits for the server's first bytes (its SETTINGS frame),
/// as grpc-go's clients do before they call it connected.
async fn connect_h2(
    authority: &str,
) -> Result<
    (
        hyper::client::conn::http2::SendRequest<tonic::body::Body>,
        Background,
    ),
    String,
> {
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .unwrap_or(80);
    let stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (heard, first_bytes) = oneshot::channel();
    let io = TokioIo::new(Heard {
        stream,
        heard: Some(heard),
    });
    let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .map_err(|e| error_chain(&e))?;
    let connection = Background::spawn(connection);
    first_bytes
        .await
        .map_err(|_| "the server closed the connection without answering".to_owned())?;
    Ok((sender, connection))
}

/// A connection's task, aborted when dropped so that nothing outlives the probe.
struct Background(JoinHandle<()>);

impl Background {
    fn spawn<F, E>(connection: F) -> Self
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        Background(tokio::spawn(async move {
            let _ = connection.await;
        }))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A TCP stream that says when the first bytes arrive.
struct Heard {
    stream: TcpStream,
    heard: Option<oneshot::Sender<()>>,
}

impl AsyncRead for Heard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            if let Some(heard) = self.heard.take() {
                let _ = heard.send(());
            }
        }
        polled
    }
}

impl AsyncWrite for Heard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// hyper's HTTP/2 sender as the tower service tonic's generated client calls.
struct Http2(hyper::client::conn::http2::SendRequest<tonic::body::Body>);

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<Incoming>, hyper::Error>> + Send>>;

impl tower_service::Service<Request<tonic::body::Body>> for Http2 {
    type Response = Response<Incoming>;
    type Error = hyper::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<tonic::body::Body>) -> Self::Future {
        Box::pin(self.0.send_request(request))
    }
}

/// An error and its sources, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("250us"), Some(Duration::from_micros(250)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        for bad in ["", "1", "s", "1x", "-1s", ".s", "1s2"] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
    }

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

    #[test]
    fn addresses_and_urls() {
        assert_eq!(grpc_authority(":50051").unwrap(), "127.0.0.1:50051");
        assert_eq!(grpc_authority("[::1]:7").unwrap(), "[::1]:7");
        assert!(grpc_authority("localhost").is_err());
        assert!(grpc_authority("a b:1").is_err());
        let target = HttpTarget::parse("http://[::1]:8080/health?x=1").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 8080));
        assert_eq!(target.path, "/health?x=1");
        assert_eq!(HttpTarget::parse("http://h").unwrap().path, "/");
        assert!(HttpTarget::parse("https://h/").is_err());
        assert!(HttpTarget::parse("http://u:p@h/").is_err());
        assert!(HttpTarget::parse("nonsense").is_err());
    }
}
