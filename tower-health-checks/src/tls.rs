//! The TLS certificate check: how long until a certificate expires?

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{self, CryptoProvider};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, SignatureScheme};
use tower_health::{Check, CheckResult, HealthCheck};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

use crate::{COMPONENT, error_chain, ready_made};

const DAY: i64 = 24 * 60 * 60;

/// Checks the validity dates of a certificate: of a PEM file, or of the one a `host:port`
/// presents in a TLS handshake.
///
/// Passes while the certificate has more than the warn threshold left (14 days unless
/// [`warn_within_days`](Self::warn_within_days) says otherwise), warns within it, and fails once
/// the certificate has expired, while it is not yet valid, or when there is no certificate to
/// read (a missing or unparsable file, a failed connection or handshake). Observes the whole days
/// left in `days` (negative once expired); the result's data has the certificate's `subject`
/// and `notAfter` (RFC 3339). Component type `component`, default timeout 800 ms.
///
/// - [`pem_file`](Self::pem_file) reads every `CERTIFICATE` block of the file (a certificate,
///   a chain, a bundle) on every run and judges the one that expires first: a renewed file is
///   seen without a restart.
/// - [`remote`](Self::remote) connects, completes a handshake (TLS 1.2 or 1.3, with the host part
///   as the server name, SNI, unless [`server_name`](Self::server_name) says otherwise) and judges
///   the end-entity certificate the server presents. The handshake **accepts any certificate**:
///   the check is about expiry, not trust, so a self-signed or privately issued certificate is
///   checked like any other (the server must still prove it holds the certificate's key).
///
/// ```
/// use tower_health::Health;
/// use tower_health_checks::TlsCert;
///
/// let health = Health::new();
/// health.register(TlsCert::pem_file("/etc/ssl/app/fullchain.pem").into_check("app-cert"));
/// health.register(
///     TlsCert::remote("payments.internal:443")
///         .warn_within_days(30)
///         .into_check("payments-cert")
///         .non_critical(),
/// );
/// ```
#[derive(Clone)]
pub struct TlsCert {
    source: Source,
    warn_days: u32,
}

#[derive(Clone)]
enum Source {
    File(PathBuf),
    Remote {
        address: Arc<str>,
        server_name: Result<ServerName<'static>, String>,
        connector: TlsConnector,
    },
}

impl TlsCert {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);
    /// The default warn threshold, in days.
    pub const DEFAULT_WARN_DAYS: u32 = 14;

    /// A check of the certificates in the PEM file at `path`, read on every run.
    pub fn pem_file(path: impl AsRef<Path>) -> Self {
        TlsCert {
            source: Source::File(path.as_ref().to_owned()),
            warn_days: Self::DEFAULT_WARN_DAYS,
        }
    }

    /// A check of the certificate `address`, a `host:port` (`[v6]:port` for an IPv6 address),
    /// presents in a TLS handshake. The host is resolved on every run and is the server name
    /// sent (an IP address sends none).
    pub fn remote(address: impl Into<Arc<str>>) -> Self {
        let address = address.into();
        let server_name = server_name_of(host_of(&address));
        TlsCert {
            source: Source::Remote {
                address,
                server_name,
                connector: TlsConnector::from(any_certificate_config()),
            },
            warn_days: Self::DEFAULT_WARN_DAYS,
        }
    }

    /// Warns when the certificate expires within `days` days (14 by default; 0 never warns).
    #[must_use]
    pub fn warn_within_days(mut self, days: u32) -> Self {
        self.warn_days = days;
        self
    }

    /// Sends `name` as the server name (SNI) instead of the address's host part, for a server
    /// reached by IP address or through another name. No effect on a PEM file check.
    #[must_use]
    pub fn server_name(mut self, name: &str) -> Self {
        if let Source::Remote { server_name, .. } = &mut self.source {
            *server_name = server_name_of(name);
        }
        self
    }

    /// The check named `name`, with component type `component` and an 800 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        // A handshake asks another service; a PEM file does not.
        let remote = matches!(self.source, Source::Remote { .. });
        let check = ready_made(name, self, COMPONENT, Self::DEFAULT_TIMEOUT);
        if remote { check.dependency() } else { check }
    }

    /// The end-entity certificate `address` presents, in DER.
    async fn presented(
        address: &str,
        server_name: &Result<ServerName<'static>, String>,
        connector: &TlsConnector,
    ) -> Result<Vec<CertificateDer<'static>>, String> {
        let server_name = server_name.clone()?;
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| format!("cannot connect to {address}: {e}"))?;
        let tls = connector
            .connect(server_name, stream)
            .await
            .map_err(|e| format!("TLS handshake with {address} failed: {}", error_chain(&e)))?;
        let (_, connection) = tls.get_ref();
        match connection.peer_certificates() {
            Some([end_entity, ..]) => Ok(vec![end_entity.clone().into_owned()]),
            _ => Err(format!("{address} presented no certificate")),
        }
    }

    /// Judges the certificates in `ders` (of `what`, as messages say it) at `now`.
    fn judge(&self, what: &str, ders: &[Vec<u8>], now: i64) -> CheckResult {
        let mut soonest: Option<Dates> = None;
        for der in ders {
            let certificate = match x509_parser::parse_x509_certificate(der) {
                Ok((_, certificate)) => certificate,
                Err(e) => return CheckResult::fail(format!("cannot parse {what}: {e}")),
            };
            let dates = Dates::of(&certificate);
            if now < dates.not_before {
                return CheckResult::fail(format!(
                    "{what}: certificate {} is not valid until {}",
                    dates.subject,
                    date(dates.not_before)
                ))
                .data("subject", dates.subject)
                .data("notBefore", date(dates.not_before));
            }
            if soonest
                .as_ref()
                .is_none_or(|soonest| dates.not_after < soonest.not_after)
            {
                soonest = Some(dates);
            }
        }
        let Some(dates) = soonest else {
            return CheckResult::fail(format!("no certificate in {what}"));
        };
        let left = dates.not_after - now;
        // Whole days, towards zero: 2.5 days left is 2, expired 2.5 days ago is -2.
        let days = left / DAY;
        let until = date(dates.not_after);
        let result = if left <= 0 {
            CheckResult::fail(format!(
                "{what}: certificate {} expired {} days ago, on {until}",
                dates.subject, -days
            ))
        } else if left < i64::from(self.warn_days) * DAY {
            CheckResult::warn(format!(
                "{what}: certificate {} expires in {days} days, on {until} (warns within {} days)",
                dates.subject, self.warn_days
            ))
        } else {
            CheckResult::pass()
        };
        result
            .observed(days, "days")
            .data("subject", dates.subject)
            .data("notAfter", until)
    }
}

impl std::fmt::Debug for TlsCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("TlsCert");
        match &self.source {
            Source::File(path) => debug.field("pem_file", path),
            Source::Remote {
                address,
                server_name,
                ..
            } => debug
                .field("remote", address)
                .field("server_name", server_name),
        };
        debug.field("warn_days", &self.warn_days).finish()
    }
}

impl HealthCheck for TlsCert {
    async fn check(&self) -> CheckResult {
        let (what, ders) = match &self.source {
            Source::File(path) => {
                let what = path.display().to_string();
                match read_pem_certificates(path).await {
                    Ok(ders) => (what, ders),
                    Err(e) => return CheckResult::fail(e),
                }
            }
            Source::Remote {
                address,
                server_name,
                connector,
            } => match Self::presented(address, server_name, connector).await {
                Ok(ders) => (
                    address.to_string(),
                    ders.iter().map(|der| der.to_vec()).collect(),
                ),
                Err(e) => return CheckResult::fail(e),
            },
        };
        self.judge(&what, &ders, unix_now())
    }
}

/// The dates of one certificate.
struct Dates {
    subject: String,
    not_before: i64,
    not_after: i64,
}

impl Dates {
    fn of(certificate: &X509Certificate<'_>) -> Self {
        let validity = certificate.validity();
        let subject = certificate.subject().to_string();
        Dates {
            subject: if subject.is_empty() {
                "(no subject)".to_owned()
            } else {
                subject
            },
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        }
    }
}

/// The DER of every `CERTIFICATE` block in the PEM file at `path`.
async fn read_pem_certificates(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let shown = path.display();
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut ders = Vec::new();
    for block in Pem::iter_from_buffer(&bytes) {
        let block = block.map_err(|e| format!("cannot read PEM in {shown}: {e}"))?;
        if block.label == "CERTIFICATE" {
            ders.push(block.contents);
        }
    }
    Ok(ders)
}

/// The host part of `host:port`, `[v6]:port` or a bare host.
fn host_of(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(host, _)| host);
    }
    match address.rsplit_once(':') {
        // More than one colon and no brackets: a bare IPv6 address.
        Some((host, _)) if !host.contains(':') => host,
        _ => address,
    }
}

fn server_name_of(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_owned()).map_err(|e| format!("invalid server name {host:?}: {e}"))
}

/// Seconds since the Unix epoch, now.
fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A Unix time as RFC 3339, to the second.
fn date(unix: i64) -> String {
    match u64::try_from(unix) {
        Ok(secs) => {
            humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
        }
        Err(_) => format!("{unix} seconds after 1970-01-01T00:00:00Z"),
    }
}

/// A client configuration (ring provider, TLS 1.2 and 1.3) whose handshakes accept any
/// certificate.
fn any_certificate_config() -> Arc<ClientConfig> {
    let provider = Arc::new(crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Arc::new(config)
}

/// Accepts any certificate, but checks the handshake's signatures: the server must hold the
/// key of the certificate it presents.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_takes_the_host_part() {
        assert_eq!(host_of("example.com:443"), "example.com");
        assert_eq!(host_of("127.0.0.1:8443"), "127.0.0.1");
        assert_eq!(host_of("[::1]:443"), "::1");
        assert_eq!(host_of("example.com"), "example.com");
        assert_eq!(host_of("::1"), "::1");
    }

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(date(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(86_400 * 365), "1971-01-01T00:00:00Z");
    }
}
