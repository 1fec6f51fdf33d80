//! The DNS check: does a name resolve, to the addresses expected, within the timeout?

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hickory_resolver::ResolveError;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::xfer::Protocol;
use tower_health::{Check, CheckResult, HealthCheck};

use crate::{COMPONENT, elapsed_ms, error_chain, ready_made};

/// Looks a name up (A and AAAA records): passes when it resolves to at least one address, and to
/// every [expected](Self::expect) address when some are given; fails otherwise.
///
/// A name that does not exist (`NXDOMAIN`) fails saying so, as does a name with no address
/// records and a name missing an expected address (the message lists what it resolved to). A
/// server that does not answer fails by the check's timeout.
///
/// Resolves through the system's configuration (`/etc/resolv.conf` and the hosts file, read on
/// the first run), or only through the servers given with [`nameserver`](Self::nameserver).
/// Every run asks the servers again: answers are not cached between runs. Observes the lookup
/// time in `ms`; the addresses found are in the result's data as `addresses`. Component type
/// `component`, default timeout 800 ms.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use tower_health::Health;
/// use tower_health_checks::Dns;
///
/// Health::new().register(
///     Dns::new("db.internal")
///         .nameserver("127.0.0.1:53".parse().unwrap())
///         .expect(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)))
///         .into_check("db-dns")
///         .non_critical(),
/// );
/// ```
#[derive(Clone)]
pub struct Dns {
    name: Arc<str>,
    nameservers: Vec<SocketAddr>,
    expected: Vec<IpAddr>,
    /// Made on the first run, shared by clones made after it.
    resolver: Arc<OnceLock<Result<TokioResolver, String>>>,
}

impl Dns {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);

    /// A check resolving `name` (a trailing dot makes it fully qualified, so that the system's
    /// search domains are not tried).
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Dns {
            name: name.into(),
            nameservers: Vec::new(),
            expected: Vec::new(),
            resolver: Arc::default(),
        }
    }

    /// Asks the DNS server at `server` (over UDP, and TCP for truncated answers) instead of the
    /// system's configuration; call again to add more servers. The hosts file is then not read.
    #[must_use]
    pub fn nameserver(mut self, server: SocketAddr) -> Self {
        self.nameservers.push(server);
        self.resolver = Arc::default();
        self
    }

    /// Fails unless `address` is among the addresses the name resolves to; call again to expect
    /// more (each must be there).
    #[must_use]
    pub fn expect(mut self, address: IpAddr) -> Self {
        self.expected.push(address);
        self
    }

    /// The check named `name`, with component type `component` and an 800 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        ready_made(name, self, COMPONENT, Self::DEFAULT_TIMEOUT).dependency()
    }

    /// Where the name is looked up, as messages say it.
    fn asked(&self) -> String {
        match self.nameservers.as_slice() {
            [] => "the system resolver".to_owned(),
            servers => servers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn build_resolver(&self) -> Result<TokioResolver, String> {
        let provider = TokioConnectionProvider::default();
        let mut builder = if self.nameservers.is_empty() {
            TokioResolver::builder(provider)
                .map_err(|e| format!("cannot read the system's resolver configuration: {e}"))?
        } else {
            let mut config = ResolverConfig::new();
            for &server in &self.nameservers {
                config.add_name_server(NameServerConfig::new(server, Protocol::Udp));
                config.add_name_server(NameServerConfig::new(server, Protocol::Tcp));
            }
            let mut builder = TokioResolver::builder_with_config(config, provider);
            builder.options_mut().use_hosts_file = ResolveHosts::Never;
            builder
        };
        let options: &mut ResolverOpts = builder.options_mut();
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        // A health check asks every time; the cache is cleared before each lookup too.
        options.cache_size = 0;
        Ok(builder.build())
    }
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns")
            .field("name", &self.name)
            .field("nameservers", &self.nameservers)
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl HealthCheck for Dns {
    async fn check(&self) -> CheckResult {
        let resolver = match self.resolver.get_or_init(|| self.build_resolver()) {
            Ok(resolver) => resolver,
            Err(e) => return CheckResult::fail(e.clone()),
        };
        resolver.clear_cache();
        let name = &*self.name;
        let started = Instant::now();
        let lookup = resolver.lookup_ip(name).await;
        let ms = elapsed_ms(started);
        let found: Vec<IpAddr> = match lookup {
            Ok(lookup) => lookup.iter().collect(),
            Err(e) => match answered(&e) {
                Some(ResponseCode::NXDomain) => {
                    return CheckResult::fail(format!(
                        "{name} does not exist (NXDOMAIN from {})",
                        self.asked()
                    ))
                    .observed(ms, "ms");
                }
                Some(ResponseCode::NoError) => Vec::new(),
                Some(code) => {
                    return CheckResult::fail(format!(
                        "cannot resolve {name} through {}: answered {} ({code})",
                        self.asked(),
                        format!("{code:?}").to_uppercase()
                    ))
                    .observed(ms, "ms");
                }
                None => {
                    return CheckResult::fail(format!(
                        "cannot resolve {name} through {}: {}",
                        self.asked(),
                        error_chain(&e)
                    ));
                }
            },
        };
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        let missing: Vec<String> = self
            .expected
            .iter()
            .filter(|expected| !found.contains(expected))
            .map(ToString::to_string)
            .collect();
        let result = if found.is_empty() {
            CheckResult::fail(format!(
                "{name} has no A or AAAA records (asked {})",
                self.asked()
            ))
        } else if !missing.is_empty() {
            CheckResult::fail(format!(
                "{name} resolved to {}, without the expected {}",
                shown.join(", "),
                missing.join(", ")
            ))
        } else {
            CheckResult::pass()
        };
        result.observed(ms, "ms").data("addresses", shown)
    }
}

/// The response code of an answer without records (`NXDOMAIN`, `NOERROR` without addresses,
/// `REFUSED`, `SERVFAIL` ...); `None` for other errors.
fn answered(error: &ResolveError) -> Option<ResponseCode> {
    match error.proto()?.kind() {
        ProtoErrorKind::NoRecordsFound { response_code, .. } => Some(*response_code),
        _ => None,
    }
}
