//! [`Probe`]: what to ask and how long to wait.

use std::time::Duration;

#[cfg(doc)]
use crate::outcome::Verdict;
use crate::target::Target;

/// One health probe: an HTTP URL or a gRPC health service, with its timeouts.
///
/// ```
/// use std::time::Duration;
/// use tower_health_probe::Probe;
///
/// let http = Probe::http("http://127.0.0.1:3000/health/ready");
/// let grpc = Probe::grpc("127.0.0.1:50051")
///     .service("readiness")
///     .connect_timeout(Duration::from_millis(500))
///     .timeout(Duration::from_secs(2));
/// ```
#[derive(Clone, Debug)]
pub struct Probe {
    pub(crate) target: Target,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) user_agent: String,
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
}
