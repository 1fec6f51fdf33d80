//! The TLS certificate, DNS and gRPC checks against real servers on 127.0.0.1.
//!
//! The TLS tests make their certificates at run time (rcgen) and serve them with rustls; the
//! gRPC tests serve tower-health's own `grpc.health.v1` service with tonic. The DNS tests that
//! need a resolver read its address from `TOWER_HEALTH_TEST_DNS`, a dnsmasq that
//! `scripts/with-test-services.sh` starts:
//!
//! ```text
//! scripts/with-test-services.sh cargo test --all-features
//! ```
//!
//! Where it is not set they say so on stderr and return. The tests against a server that never
//! answers need nothing and always run.

#![cfg(any(feature = "tls", feature = "dns", feature = "grpc"))]

use std::time::Duration;

/// Short enough for a test, long enough for a real exchange on loopback.
const SHORT: Duration = Duration::from_millis(300);

#[cfg(feature = "tls")]
mod tls {
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    use rcgen::{CertificateParams, DnType, KeyPair};
    use time::OffsetDateTime;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::task::JoinHandle;
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::crypto::ring;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
    use tokio_rustls::rustls::sign::CertifiedKey;
    use tower_health::{RunEnd, Status};
    use tower_health_checks::TlsCert;

    use super::SHORT;
    use crate::checks::{closed_port, message, run, silent_listener};

    /// A certificate for `localhost` with common name `cn`, valid from `not_before` to
    /// `not_after` (offsets from now), and its key.
    struct Made {
        pem: String,
        der: Vec<u8>,
        key: Vec<u8>,
    }

    fn make(cn: &str, not_before: time::Duration, not_after: time::Duration) -> Made {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let now = OffsetDateTime::now_utc();
        params.not_before = now + not_before;
        params.not_after = now + not_after;
        let cert = params.self_signed(&key).unwrap();
        Made {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key: key.serialize_der(),
        }
    }

    /// Valid since yesterday, for `days` days and 12 hours more: `days` whole days left.
    fn valid_for(cn: &str, days: i64) -> Made {
        make(
            cn,
            -time::Duration::days(1),
            time::Duration::days(days) + time::Duration::hours(12),
        )
    }

    /// A PEM file holding `pems`, removed with the returned directory.
    fn pem_file(pems: &[&str]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        std::fs::write(&path, pems.concat()).unwrap();
        (dir, path)
    }

    /// Serves one certificate whatever the server name, recording the name each client sent.
    #[derive(Debug)]
    struct RecordingResolver {
        key: Arc<CertifiedKey>,
        names: Mutex<Vec<Option<String>>>,
    }

    impl ResolvesServerCert for RecordingResolver {
        fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            self.names
                .lock()
                .unwrap()
                .push(hello.server_name().map(str::to_owned));
            Some(self.key.clone())
        }
    }

    /// A TLS server on 127.0.0.1 presenting `made`, until dropped.
    struct TlsServer {
        port: u16,
        resolver: Arc<RecordingResolver>,
        task: JoinHandle<()>,
    }

    impl Drop for TlsServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl TlsServer {
        fn names(&self) -> Vec<Option<String>> {
            self.resolver.names.lock().unwrap().clone()
        }
    }

    async fn tls_server(made: &Made) -> TlsServer {
        let provider = Arc::new(ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key.clone()));
        let signing = provider.key_provider.load_private_key(key).unwrap();
        let resolver = Arc::new(RecordingResolver {
            key: Arc::new(CertifiedKey::new(vec![made.der.clone().into()], signing)),
            names: Mutex::default(),
        });
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(stream).await {
                        let mut byte = [0; 1];
                        let _ = tls.read(&mut byte).await;
                    }
                });
            }
        });
        TlsServer {
            port,
            resolver,
            task,
        }
    }

    #[tokio::test]
    async fn pem_file_passes_with_the_days_left() {
        let made = valid_for("app.test", 90);
        let (_dir, path) = pem_file(&[&made.pem]);
        let report = run(TlsCert::pem_file(&path).into_check("cert")).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("component"));
        assert_eq!(report.result.observed_value, Some(90.into()));
        assert_eq!(report.result.observed_unit.as_deref(), Some("days"));
        assert_eq!(report.result.data["subject"], "CN=app.test");
        assert!(
            report.result.data["notAfter"]
                .as_str()
                .unwrap()
                .ends_with('Z'),
            "{report:?}"
        );
    }

    #[tokio::test]
    async fn pem_file_warns_within_the_threshold_and_passes_below_a_smaller_one() {
        let made = valid_for("soon.test", 5);
        let (_dir, path) = pem_file(&[&made.pem]);
        let report = run(TlsCert::pem_file(&path).into_check("cert")).await;
        assert_eq!(report.status(), Status::Warn, "{report:?}");
        assert_eq!(report.result.observed_value, Some(5.into()));
        let message = message(&report);
        assert!(
            message.starts_with(&format!(
                "{}: certificate CN=soon.test expires in 5 days, on ",
                path.display()
            )),
            "{message}"
        );
        assert!(message.ends_with("(warns within 14 days)"), "{message}");

        let check = TlsCert::pem_file(&path)
            .warn_within_days(3)
            .into_check("cert");
        assert_eq!(run(check).await.status(), Status::Pass);
    }

    #[tokio::test]
    async fn pem_file_fails_once_expired() {
        let made = make(
            "old.test",
            -time::Duration::days(30),
            -(time::Duration::days(2) + time::Duration::hours(12)),
        );
        let (_dir, path) = pem_file(&[&made.pem]);
        let report = run(TlsCert::pem_file(&path).into_check("cert")).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        assert_eq!(report.result.observed_value, Some((-2).into()));
        let message = message(&report);
        assert!(
            message.contains("certificate CN=old.test expired 2 days ago, on "),
            "{message}"
        );
    }

    #[tokio::test]
    async fn pem_file_fails_while_not_yet_valid() {
        let made = make(
            "future.test",
            time::Duration::days(1),
            time::Duration::days(90),
        );
        let (_dir, path) = pem_file(&[&made.pem]);
        let report = run(TlsCert::pem_file(&path).into_check("cert")).await;
        assert_eq!(report.status(), Status::Fail);
        let message = message(&report);
        assert!(
            message.contains("certificate CN=future.test is not valid until "),
            "{message}"
        );
    }

    #[tokio::test]
    async fn pem_file_judges_the_certificate_that_expires_first() {
        let leaf = valid_for("leaf.test", 90);
        let intermediate = valid_for("intermediate.test", 6);
        let (_dir, path) = pem_file(&[&leaf.pem, &intermediate.pem]);
        let report = run(TlsCert::pem_file(&path).into_check("cert")).await;
        assert_eq!(report.status(), Status::Warn, "{report:?}");
        assert_eq!(report.result.observed_value, Some(6.into()));
        assert_eq!(report.result.data["subject"], "CN=intermediate.test");
    }

    #[tokio::test]
    async fn pem_file_fails_when_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let report = run(TlsCert::pem_file(&missing).into_check("cert")).await;
        assert_eq!(report.status(), Status::Fail);
        let message = message(&report).to_owned();
        assert!(
            message.starts_with(&format!("cannot read {}: ", missing.display())),
            "{message}"
        );

        // A key alone: PEM, but no certificate.
        let key_only = KeyPair::generate().unwrap().serialize_pem();
        let (_key_dir, path) = pem_file(&[&key_only]);
        let report = run(TlsCert::pem_file(&path).into_check("cert")).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(
            message_of(&report),
            format!("no certificate in {}", path.display())
        );

        // A certificate block whose contents are not a certificate.
        let (_bad_dir, path) = pem_file(&[
            "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n",
        ]);
        let report = run(TlsCert::pem_file(&path).into_check("cert")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(
            message_of(&report).starts_with(&format!("cannot parse {}: ", path.display())),
            "{report:?}"
        );
    }

    fn message_of(report: &tower_health::CheckRun) -> String {
        message(report).to_owned()
    }

    #[tokio::test]
    async fn remote_passes_and_sends_the_host_as_server_name() {
        let server = tls_server(&valid_for("localhost", 90)).await;
        let address = format!("localhost:{}", server.port);
        let check = TlsCert::remote(address.as_str()).into_check("cert");
        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.result.observed_value, Some(90.into()));
        assert_eq!(report.result.observed_unit.as_deref(), Some("days"));
        assert_eq!(report.result.data["subject"], "CN=localhost");
        assert_eq!(server.names(), [Some("localhost".to_owned())]);

        // Every run makes a handshake of its own.
        assert_eq!(run(check).await.status(), Status::Pass);
        assert_eq!(server.names().len(), 2);
    }

    #[tokio::test]
    async fn remote_by_ip_sends_no_server_name_unless_given_one() {
        let server = tls_server(&valid_for("api.test", 30)).await;
        let address = format!("127.0.0.1:{}", server.port);
        let report = run(TlsCert::remote(address.as_str()).into_check("cert")).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(server.names(), [None]);

        let check = TlsCert::remote(address.as_str())
            .server_name("api.test")
            .into_check("cert");
        assert_eq!(run(check).await.status(), Status::Pass);
        assert_eq!(server.names(), [None, Some("api.test".to_owned())]);
    }

    #[tokio::test]
    async fn remote_warns_near_expiry_and_fails_once_expired_or_not_yet_valid() {
        let soon = tls_server(&valid_for("localhost", 3)).await;
        let report =
            run(TlsCert::remote(format!("127.0.0.1:{}", soon.port)).into_check("cert")).await;
        assert_eq!(report.status(), Status::Warn, "{report:?}");
        assert_eq!(report.result.observed_value, Some(3.into()));
        assert!(
            message(&report).starts_with(&format!(
                "127.0.0.1:{}: certificate CN=localhost expires in 3 days, on ",
                soon.port
            )),
            "{report:?}"
        );

        let expired = tls_server(&make(
            "localhost",
            -time::Duration::days(400),
            -time::Duration::days(10) - time::Duration::hours(1),
        ))
        .await;
        let report =
            run(TlsCert::remote(format!("127.0.0.1:{}", expired.port)).into_check("cert")).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.result.observed_value, Some((-10).into()));
        assert!(
            message(&report).contains("certificate CN=localhost expired 10 days ago, on "),
            "{report:?}"
        );

        let future = tls_server(&make(
            "localhost",
            time::Duration::days(2),
            time::Duration::days(60),
        ))
        .await;
        let report =
            run(TlsCert::remote(format!("127.0.0.1:{}", future.port)).into_check("cert")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(
            message(&report).contains("is not valid until"),
            "{report:?}"
        );
    }

    #[tokio::test]
    async fn remote_fails_when_the_server_does_not_speak_tls_or_nothing_listens() {
        // A plain-text server: answers anything with an HTTP/1.1 error and closes.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let plain = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let report = run(TlsCert::remote(addr.to_string()).into_check("cert")).await;
        plain.abort();
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        assert!(
            message(&report).starts_with(&format!("TLS handshake with {addr} failed: ")),
            "{report:?}"
        );

        let closed = closed_port().await;
        let report = run(TlsCert::remote(closed.to_string()).into_check("cert")).await;
        assert_eq!(report.status(), Status::Fail);
        let message = message(&report);
        assert!(
            message.starts_with(&format!("cannot connect to {closed}: ")),
            "{message}"
        );
        assert!(message.contains("refused"), "{message}");
    }

    #[tokio::test]
    async fn remote_times_out_when_the_handshake_never_completes() {
        let silent = silent_listener().await;
        let report = run(TlsCert::remote(silent.addr.to_string())
            .into_check("cert")
            .timeout(SHORT))
        .await;
        assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
        assert_eq!(report.status(), Status::Fail);
    }

    #[tokio::test]
    async fn defaults() {
        let check = TlsCert::remote("127.0.0.1:1").into_check("cert");
        assert!(
            format!("{check:?}").contains("timeout: Some(800ms)"),
            "{check:?}"
        );
        assert_eq!(TlsCert::DEFAULT_WARN_DAYS, 14);
    }
}

#[cfg(feature = "dns")]
mod dns {
    use std::io::Write;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    use tokio::net::{TcpListener, UdpSocket};
    use tower_health::{RunEnd, Status};
    use tower_health_checks::Dns;

    use super::SHORT;
    use crate::checks::{message, run};

    const VAR: &str = "TOWER_HEALTH_TEST_DNS";
    const V4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));

    /// The dnsmasq of `scripts/with-test-services.sh`, or `None` after saying on stderr (past
    /// the test harness's capture) that `test` did not run.
    fn resolver(test: &str) -> Option<SocketAddr> {
        match std::env::var(VAR) {
            Ok(addr) if !addr.is_empty() => Some(addr.parse().expect("TOWER_HEALTH_TEST_DNS")),
            _ => {
                let _ = writeln!(
                    std::io::stderr(),
                    "NOT RUN: {test}: {VAR} is not set; run \
                     `scripts/with-test-services.sh cargo test --all-features` to test against \
                     a real resolver"
                );
                None
            }
        }
    }

    fn v6() -> IpAddr {
        "fd00::1:2:3".parse().unwrap()
    }

    #[tokio::test]
    async fn passes_when_the_name_resolves_with_its_addresses() {
        let Some(server) = resolver("dns::passes_when_the_name_resolves") else {
            return;
        };
        let check = Dns::new("test.internal")
            .nameserver(server)
            .into_check("dns");
        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("component"));
        assert_eq!(report.result.observed_unit.as_deref(), Some("ms"));
        let mut addresses: Vec<&str> = report.result.data["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        addresses.sort_unstable();
        assert_eq!(addresses, ["10.1.2.3", "fd00::1:2:3"]);
        // A second run resolves as well.
        assert_eq!(run(check).await.status(), Status::Pass);
    }

    #[tokio::test]
    async fn passes_with_the_expected_addresses() {
        let Some(server) = resolver("dns::passes_with_the_expected_addresses") else {
            return;
        };
        let check = Dns::new("test.internal.")
            .nameserver(server)
            .expect(V4)
            .expect(v6())
            .into_check("dns");
        let report = run(check).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
    }

    #[tokio::test]
    async fn fails_when_an_expected_address_is_missing() {
        let Some(server) = resolver("dns::fails_when_an_expected_address_is_missing") else {
            return;
        };
        let check = Dns::new("test.internal")
            .nameserver(server)
            .expect(V4)
            .expect("10.9.9.9".parse().unwrap())
            .into_check("dns");
        let report = run(check).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        let message = message(&report);
        assert!(
            message.starts_with("test.internal resolved to "),
            "{message}"
        );
        assert!(message.contains("10.1.2.3"), "{message}");
        assert!(
            message.ends_with(", without the expected 10.9.9.9"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn fails_on_a_name_that_does_not_exist() {
        let Some(server) = resolver("dns::fails_on_a_name_that_does_not_exist") else {
            return;
        };
        let report = run(Dns::new("missing.internal")
            .nameserver(server)
            .into_check("dns"))
        .await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        assert_eq!(
            message(&report),
            format!("missing.internal does not exist (NXDOMAIN from {server})")
        );
    }

    #[tokio::test]
    async fn fails_when_the_server_refuses_the_name() {
        let Some(server) = resolver("dns::fails_when_the_server_refuses_the_name") else {
            return;
        };
        // The test server has no upstream: it refuses names it does not know.
        let report = run(Dns::new("elsewhere.example")
            .nameserver(server)
            .into_check("dns"))
        .await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        assert_eq!(
            message(&report),
            format!(
                "cannot resolve elsewhere.example through {server}: answered REFUSED (Query Refused)"
            )
        );
    }

    #[tokio::test]
    async fn times_out_when_the_server_never_answers() {
        // A UDP socket that reads queries and never answers, and a TCP listener on the same port
        // that never accepts, held until the end of the test.
        let (udp, _tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let port = udp.local_addr().unwrap().port();
            if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)).await {
                break (udp, tcp);
            }
        };
        let server = udp.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let mut buf = [0; 512];
            while udp.recv_from(&mut buf).await.is_ok() {}
        });
        let report = run(Dns::new("test.internal")
            .nameserver(server)
            .into_check("dns")
            .timeout(SHORT))
        .await;
        reader.abort();
        assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
        assert_eq!(report.status(), Status::Fail);
    }

    #[tokio::test]
    async fn defaults() {
        let check = Dns::new("test.internal").into_check("dns");
        assert!(
            format!("{check:?}").contains("timeout: Some(800ms)"),
            "{check:?}"
        );
    }
}

#[cfg(feature = "grpc")]
mod grpc {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use tokio::net::TcpListener;
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;
    use tonic::transport::Server;
    use tower_health::grpc::GrpcHealth;
    use tower_health::{Check, CheckResult, Health, Lifecycle, RunEnd, Status};
    use tower_health_checks::Grpc;

    use super::SHORT;
    use crate::checks::{closed_port, message, run, silent_listener};

    /// A tonic server on 127.0.0.1 answering `grpc.health.v1` from a registry with the check
    /// `ledger`, which passes while `up` holds; counts the connections it accepts.
    struct GrpcServer {
        addr: SocketAddr,
        up: Arc<AtomicBool>,
        connections: Arc<AtomicUsize>,
        stop: Option<oneshot::Sender<()>>,
        task: JoinHandle<()>,
    }

    impl GrpcServer {
        fn url(&self) -> String {
            format!("http://{}", self.addr)
        }

        async fn stop(mut self) {
            let _ = self.stop.take().unwrap().send(());
            (&mut self.task).await.unwrap();
        }
    }

    impl Drop for GrpcServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn grpc_server() -> GrpcServer {
        let up = Arc::new(AtomicBool::new(true));
        let health = Health::new();
        let flag = up.clone();
        health.register(Check::new("ledger", move || {
            let up = flag.load(Ordering::SeqCst);
            async move {
                if up {
                    CheckResult::pass()
                } else {
                    CheckResult::fail("ledger is down")
                }
            }
        }));
        health.set_default_cache_ttl(std::time::Duration::ZERO);
        health.set_lifecycle(Lifecycle::Working);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let incoming = futures_util::stream::unfold(listener, move |listener| {
            let counted = counted.clone();
            async move {
                let accepted = listener.accept().await.map(|(stream, _)| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    stream
                });
                Some((accepted, listener))
            }
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            Server::builder()
                .add_service(GrpcHealth::new(health))
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        GrpcServer {
            addr,
            up,
            connections,
            stop: Some(stop),
            task,
        }
    }

    #[tokio::test]
    async fn passes_while_serving_and_fails_when_not_serving() {
        let server = grpc_server().await;
        let check = Grpc::new(&server.url())
            .service("ledger")
            .into_check("ledger");
        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("component"));
        assert_eq!(report.result.observed_unit.as_deref(), Some("ms"));
        assert_eq!(report.result.data["servingStatus"], "SERVING");

        server.up.store(false, Ordering::SeqCst);
        let report = run(check).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        assert_eq!(
            message(&report),
            format!(
                "{} reports the service \"ledger\" as NOT_SERVING",
                server.url()
            )
        );
        assert_eq!(report.result.data["servingStatus"], "NOT_SERVING");
        server.stop().await;
    }

    #[tokio::test]
    async fn asks_about_the_whole_server_by_default() {
        let server = grpc_server().await;
        let report = run(Grpc::new(&server.url()).into_check("upstream")).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        server.up.store(false, Ordering::SeqCst);
        let report = run(Grpc::new(&server.url()).into_check("upstream")).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(
            message(&report),
            format!("{} reports the service \"\" as NOT_SERVING", server.url())
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn fails_on_an_unknown_service() {
        let server = grpc_server().await;
        let report = run(Grpc::new(&server.url())
            .service("billing.v1.Billing")
            .into_check("billing"))
        .await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        assert_eq!(
            message(&report),
            format!(
                "{} does not know the service \"billing.v1.Billing\" (NOT_FOUND)",
                server.url()
            )
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn reuses_one_connection_across_runs() {
        let server = grpc_server().await;
        let check = Grpc::new(&server.url())
            .service("ledger")
            .into_check("ledger");
        for _ in 0..3 {
            assert_eq!(run(check.clone()).await.status(), Status::Pass);
        }
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
        server.stop().await;
    }

    #[tokio::test]
    async fn uses_the_channel_it_is_given() {
        let server = grpc_server().await;
        let channel = tonic::transport::Endpoint::from_shared(server.url())
            .unwrap()
            .connect_lazy();
        // The URL only names the server in messages: the channel decides where calls go.
        let check = Grpc::new("http://ledger.example:50051")
            .service("ledger")
            .channel(channel)
            .into_check("ledger");
        assert_eq!(run(check.clone()).await.status(), Status::Pass);
        server.up.store(false, Ordering::SeqCst);
        assert_eq!(
            message(&run(check).await),
            "http://ledger.example:50051 reports the service \"ledger\" as NOT_SERVING"
        );
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
        server.stop().await;
    }

    #[tokio::test]
    async fn fails_when_nothing_listens_and_on_an_invalid_url() {
        let closed = closed_port().await;
        let report = run(Grpc::new(&format!("http://{closed}"))
            .service("ledger")
            .into_check("ledger"))
        .await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        let message = message(&report).to_owned();
        assert!(
            message.starts_with(&format!(
                "health check of \"ledger\" at http://{closed} failed: Unavailable"
            )),
            "{message}"
        );
        assert!(message.contains("refused"), "{message}");

        let report = run(Grpc::new("http://exa mple:1").into_check("bad")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(
            crate::checks::message(&report).starts_with("invalid URL http://exa mple:1"),
            "{report:?}"
        );
    }

    #[tokio::test]
    async fn times_out_when_the_server_never_speaks_http2() {
        let silent = silent_listener().await;
        let report = run(Grpc::new(&format!("http://{}", silent.addr))
            .into_check("upstream")
            .timeout(SHORT))
        .await;
        assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
        assert_eq!(report.status(), Status::Fail);
    }

    #[tokio::test]
    async fn defaults() {
        let check = Grpc::new("http://127.0.0.1:1").into_check("upstream");
        assert!(
            format!("{check:?}").contains("timeout: Some(800ms)"),
            "{check:?}"
        );
    }
}
