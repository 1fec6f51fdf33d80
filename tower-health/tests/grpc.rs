//! The gRPC health protocol over real tonic servers on 127.0.0.1, driven by tonic-health's
//! generated client: answered by the layer itself and by the service added with `add_service`.
#![cfg(feature = "grpc")]

mod common;
#[path = "../examples/support/greeter.rs"]
mod greeter;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Method, Request};
use http_body_util::Full;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tower_health::grpc::GrpcHealth;
use tower_health::{Check, CheckResult, Drain, Gate, Group, Health, HealthLayer, Lifecycle};

/// A bound on anything that could hang; never a timing assertion.
const BOUND: Duration = Duration::from_secs(20);
/// Short, so a Watch sees a check flip without waiting long.
const WATCH_INTERVAL: Duration = Duration::from_millis(50);

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Running {
    async fn client(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel().await)
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .expect("connect")
    }

    /// Waits for the server task to end by itself (after its shutdown signal resolved).
    async fn stopped(mut self) {
        tokio::time::timeout(BOUND, &mut self.task)
            .await
            .expect("the server did not stop")
            .unwrap()
            .unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts `serve` on a free port of 127.0.0.1; `stop` resolves when the `Running` is dropped.
async fn start<F, Fut>(serve: F) -> Running
where
    F: FnOnce(TcpIncoming, BoxFuture<'static, ()>) -> Fut,
    Fut: Future<Output = Result<(), tonic::transport::Error>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        TcpIncoming::from(listener),
        Box::pin(async move {
            let _ = stopped.await;
        }),
    ));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Who answers the protocol.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// The layer, with `HealthLayer::grpc`; the server has no health service of its own.
    Layer,
    /// `GrpcHealth` added with `add_service`, behind a layer that answers HTTP only.
    Service,
}

const MODES: [Mode; 2] = [Mode::Layer, Mode::Service];

async fn serve(health: Health, mode: Mode) -> Running {
    start(move |incoming, stop| async move {
        let builder = Server::builder().accept_http1(true);
        match mode {
            Mode::Layer => {
                builder
                    .layer(
                        HealthLayer::new()
                            .health(health)
                            .grpc_watch_interval(WATCH_INTERVAL),
                    )
                    .add_service(greeter::Greeter)
                    .serve_with_incoming_shutdown(incoming, stop)
                    .await
            }
            Mode::Service => {
                let grpc = GrpcHealth::new(health.clone()).watch_interval(WATCH_INTERVAL);
                builder
                    .layer(HealthLayer::new().health(health))
                    .add_service(grpc)
                    .add_service(greeter::Greeter)
                    .serve_with_incoming_shutdown(incoming, stop)
                    .await
            }
        }
    })
    .await
}

/// A check whose outcome the test flips; not cached, so the next evaluation sees a flip.
fn switch(name: &str) -> (Check, Arc<AtomicBool>) {
    let up = Arc::new(AtomicBool::new(true));
    let flag = up.clone();
    let check = Check::new(name, move || {
        let up = flag.load(Ordering::SeqCst);
        async move { up }
    })
    .cache(Duration::ZERO);
    (check, up)
}

fn working() -> Health {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health
}

async fn check(client: &mut HealthClient<Channel>, service: &str) -> ServingStatus {
    let request = HealthCheckRequest {
        service: service.into(),
    };
    let response = tokio::time::timeout(BOUND, client.check(request))
        .await
        .expect("Check hung")
        .unwrap_or_else(|status| panic!("Check {service:?} failed: {status:?}"));
    response.into_inner().status()
}

async fn watch(
    client: &mut HealthClient<Channel>,
    service: &str,
) -> tonic::Streaming<HealthCheckResponse> {
    let request = HealthCheckRequest {
        service: service.into(),
    };
    tokio::time::timeout(BOUND, client.watch(request))
        .await
        .expect("Watch hung")
        .expect("Watch failed")
        .into_inner()
}

/// The next message of a Watch stream; `None` when the server ended it.
async fn next(stream: &mut tonic::Streaming<HealthCheckResponse>) -> Option<ServingStatus> {
    tokio::time::timeout(BOUND, stream.message())
        .await
        .expect("no Watch message came")
        .expect("the Watch stream failed")
        .map(|response| response.status())
}

#[tokio::test]
async fn check_maps_service_names_to_probes_and_checks() {
    for mode in MODES {
        let health = working();
        let (db, db_up) = switch("db");
        health.register(db.readiness());
        health.register(Check::new("alive", || async { true }).liveness());
        health.register(Check::new("cache", || async {
            CheckResult::warn("90% full")
        }));
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;

        for service in [
            "",
            "readiness",
            "liveness",
            "startup",
            "db",
            "alive",
            "cache",
        ] {
            assert_eq!(
                check(&mut client, service).await,
                ServingStatus::Serving,
                "{mode:?} {service:?}"
            );
        }

        db_up.store(false, Ordering::SeqCst);
        for (service, expected) in [
            ("", ServingStatus::NotServing),
            ("readiness", ServingStatus::NotServing),
            ("db", ServingStatus::NotServing),
            ("liveness", ServingStatus::Serving),
            ("alive", ServingStatus::Serving),
        ] {
            assert_eq!(
                check(&mut client, service).await,
                expected,
                "{mode:?} {service:?}"
            );
        }

        let unknown = client
            .check(HealthCheckRequest {
                service: "nope".into(),
            })
            .await
            .expect_err("an unknown service must fail");
        assert_eq!(unknown.code(), Code::NotFound, "{mode:?}");

        // The application's own gRPC service still answers through the layer.
        let hello = greeter::say_hello(server.channel().await, "grpc").await;
        assert_eq!(hello.unwrap(), "hello, grpc", "{mode:?}");
    }
}

#[tokio::test]
async fn check_follows_the_lifecycle_state() {
    for mode in MODES {
        let health = Health::new();
        health.set_lifecycle(Lifecycle::WarmingUp);
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;
        assert_eq!(check(&mut client, "").await, ServingStatus::NotServing);
        assert_eq!(
            check(&mut client, "readiness").await,
            ServingStatus::NotServing
        );
        assert_eq!(
            check(&mut client, "startup").await,
            ServingStatus::NotServing
        );
        assert_eq!(check(&mut client, "liveness").await, ServingStatus::Serving);
        health.set_lifecycle(Lifecycle::Working);
        assert_eq!(check(&mut client, "startup").await, ServingStatus::Serving);
        assert_eq!(
            check(&mut client, "readiness").await,
            ServingStatus::Serving
        );
        health.set_lifecycle(Lifecycle::ShuttingDown);
        for service in ["", "readiness", "liveness", "startup"] {
            assert_eq!(
                check(&mut client, service).await,
                ServingStatus::NotServing,
                "{mode:?} {service:?} while shutting down"
            );
        }
    }
}

#[tokio::test]
async fn watch_pushes_state_changes_and_check_flips() {
    for mode in MODES {
        let health = working();
        let (db, db_up) = switch("db");
        health.register(db.readiness());
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;

        let mut all = watch(&mut client, "").await;
        let mut db_watch = watch(&mut client, "db").await;
        assert_eq!(next(&mut all).await, Some(ServingStatus::Serving));
        assert_eq!(next(&mut db_watch).await, Some(ServingStatus::Serving));

        // A state change is pushed; nothing probes in between.
        health.set_lifecycle(Lifecycle::WarmingUp);
        assert_eq!(next(&mut all).await, Some(ServingStatus::NotServing));
        health.set_lifecycle(Lifecycle::Working);
        assert_eq!(next(&mut all).await, Some(ServingStatus::Serving));

        // A check that flips is seen by the periodic re-evaluation, with nobody probing.
        db_up.store(false, Ordering::SeqCst);
        assert_eq!(next(&mut all).await, Some(ServingStatus::NotServing));
        assert_eq!(next(&mut db_watch).await, Some(ServingStatus::NotServing));
        db_up.store(true, Ordering::SeqCst);
        assert_eq!(next(&mut db_watch).await, Some(ServingStatus::Serving));
        assert_eq!(next(&mut all).await, Some(ServingStatus::Serving));
    }
}

#[tokio::test]
async fn watch_of_an_unknown_service_waits_for_it() {
    for mode in MODES {
        let health = working();
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;

        let mut later = watch(&mut client, "later").await;
        assert_eq!(next(&mut later).await, Some(ServingStatus::ServiceUnknown));

        let (check, up) = switch("later");
        up.store(false, Ordering::SeqCst);
        health.register(check);
        assert_eq!(next(&mut later).await, Some(ServingStatus::NotServing));
        up.store(true, Ordering::SeqCst);
        assert_eq!(next(&mut later).await, Some(ServingStatus::Serving));

        health.deregister("later");
        assert_eq!(next(&mut later).await, Some(ServingStatus::ServiceUnknown));
    }
}

#[tokio::test]
async fn watch_streams_end_on_drain_and_the_server_stops() {
    for mode in MODES {
        let health = working();
        health.register(Check::new("db", || async { true }));
        let drain = Drain::new(health.clone())
            .delay(Duration::from_millis(300))
            .without_signals();
        let grpc_health = health.clone();
        let server = start(move |incoming, _stop| async move {
            let signal = drain.signal();
            let mut builder = Server::builder();
            match mode {
                Mode::Layer => {
                    builder
                        .layer(HealthLayer::new().health(grpc_health).grpc())
                        .add_service(greeter::Greeter)
                        .serve_with_incoming_shutdown(incoming, signal)
                        .await
                }
                Mode::Service => {
                    builder
                        .add_service(GrpcHealth::new(grpc_health))
                        .serve_with_incoming_shutdown(incoming, signal)
                        .await
                }
            }
        })
        .await;
        let mut client = server.client().await;
        let mut all = watch(&mut client, "").await;
        let mut db = watch(&mut client, "db").await;
        assert_eq!(next(&mut all).await, Some(ServingStatus::Serving));
        assert_eq!(next(&mut db).await, Some(ServingStatus::Serving));

        health.set_lifecycle(Lifecycle::ShuttingDown);
        for stream in [&mut all, &mut db] {
            assert_eq!(
                next(stream).await,
                Some(ServingStatus::NotServing),
                "{mode:?}"
            );
            assert_eq!(next(stream).await, None, "{mode:?}: the stream did not end");
        }
        // Although the client keeps its connection, the server stops once the drain is over.
        server.stopped().await;
        drop(client);
    }
}

#[tokio::test]
async fn tonic_with_the_layer_answers_http_probes_over_http1_and_http2() {
    let health = working();
    health.register(Check::new("db", || async { true }).readiness());
    let server = serve(health, Mode::Layer).await;
    for client in [common::http1_client(), common::http2_client()] {
        let request = Request::get(format!("http://{}/health/ready", server.addr))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let reply = common::send_with(&client, request).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()["status"], "pass");
        assert_eq!(
            reply.header("content-type"),
            Some("application/health+json")
        );
    }
    // Other paths reach tonic's router (which knows no such gRPC method).
    let other = Request::get(format!("http://{}/other", server.addr))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = common::send_with(&common::http2_client(), other).await;
    assert_eq!(reply.header("grpc-status"), Some("12"));
}

#[tokio::test]
async fn grpc_paths_in_the_layer_take_post_only_and_unknown_methods_are_unimplemented() {
    let server = serve(working(), Mode::Layer).await;
    let get = Request::get(format!(
        "http://{}/grpc.health.v1.Health/Check",
        server.addr
    ))
    .body(Full::new(Bytes::new()))
    .unwrap();
    let reply = common::send_with(&common::http1_client(), get).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));

    let unknown = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{}/grpc.health.v1.Health/Nope", server.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = common::send_with(&common::http2_client(), unknown).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("grpc-status"), Some("12"));
}

/// In-process, on tokio's paused clock: many open Watch streams re-evaluate in one shared round
/// per interval, not one evaluation per stream.
#[tokio::test(start_paused = true)]
async fn many_watch_streams_share_one_re_evaluation_per_interval() {
    use futures_util::StreamExt;
    use tonic_health::pb::health_server::Health as _;

    const STREAMS: usize = 8;
    const ROUNDS: u32 = 20;
    let interval = Duration::from_secs(1);
    let health = working();
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    // Not cached: the count is of evaluations, which a cache would hide.
    health.register(
        Check::new("db", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { true }
        })
        .cache(Duration::ZERO),
    );
    let grpc = GrpcHealth::new(health).watch_interval(interval);
    for _ in 0..STREAMS {
        let request = tonic::Request::new(HealthCheckRequest { service: "".into() });
        let mut stream = grpc.watch(request).await.unwrap().into_inner();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.status(), ServingStatus::Serving);
        // Keep the stream polled, as a server would.
        tokio::spawn(async move { while stream.next().await.is_some() {} });
        // Streams opened at different times: evaluations of their own would not coincide, so
        // they could not share runs in flight and would show in the count.
        tokio::time::sleep(interval / STREAMS as u32).await;
    }
    let before = runs.load(Ordering::SeqCst);
    for _ in 0..ROUNDS {
        tokio::time::sleep(interval).await;
    }
    let during = runs.load(Ordering::SeqCst) - before;
    assert!(
        during >= ROUNDS as usize / 2,
        "only {during} runs: no periodic re-evaluation"
    );
    assert!(
        during <= 2 * ROUNDS as usize,
        "{during} runs in {ROUNDS} intervals for {STREAMS} streams"
    );
}

#[tokio::test]
async fn watch_of_a_check_sends_what_check_answers_not_the_raw_recorded_status() {
    for mode in MODES {
        let health = working();
        // A non-critical failure only warns: `Check` and HTTP say SERVING.
        let (db, db_up) = switch("db");
        health.register(db.non_critical());
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;
        let mut stream = watch(&mut client, "db").await;
        assert_eq!(
            next(&mut stream).await,
            Some(ServingStatus::Serving),
            "{mode:?}"
        );

        db_up.store(false, Ordering::SeqCst);
        // Each `Check` runs `db` (not cached) and records its own status, `Fail`, which wakes
        // the stream; the aggregate the stream must send is still SERVING.
        for _ in 0..2 {
            assert_eq!(
                check(&mut client, "db").await,
                ServingStatus::Serving,
                "{mode:?}"
            );
        }
        health.deregister("db");
        assert_eq!(
            next(&mut stream).await,
            Some(ServingStatus::ServiceUnknown),
            "{mode:?}: the stream sent a status `Check` never answered"
        );
    }
}

#[tokio::test]
async fn check_of_an_unknown_name_while_shutting_down_is_not_found() {
    for mode in MODES {
        let health = working();
        health.register(Check::new("db", || async { true }));
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;
        health.set_lifecycle(Lifecycle::ShuttingDown);
        assert_eq!(check(&mut client, "db").await, ServingStatus::NotServing);
        let request = HealthCheckRequest {
            service: "nope".into(),
        };
        let error = tokio::time::timeout(BOUND, client.check(request))
            .await
            .expect("Check hung")
            .expect_err("an unknown name must be an error");
        assert_eq!(error.code(), Code::NotFound, "{mode:?}");
    }
}

#[tokio::test]
async fn a_group_is_a_service_name_for_check_and_watch() {
    for mode in MODES {
        let health = Health::new();
        let (postgres, postgres_up) = switch("postgres");
        health.register(postgres.readiness().group("database"));
        health.register(
            Check::new("cache", || async { false })
                .group("database")
                .non_critical(),
        );
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;

        // Path names and the built-in long names both resolve to the built-in groups.
        for service in ["database", "ready", "readiness", "live", "liveness"] {
            assert_eq!(
                check(&mut client, service).await,
                ServingStatus::Serving,
                "{mode:?} {service:?}"
            );
        }
        let mut database = watch(&mut client, "database").await;
        assert_eq!(next(&mut database).await, Some(ServingStatus::Serving));

        postgres_up.store(false, Ordering::SeqCst);
        assert_eq!(
            check(&mut client, "database").await,
            ServingStatus::NotServing
        );
        assert_eq!(
            next(&mut database).await,
            Some(ServingStatus::NotServing),
            "{mode:?}"
        );
        // The non-critical check only warns its group, which still serves, on its own.
        assert_eq!(check(&mut client, "cache").await, ServingStatus::Serving);

        // A declared gate holds the group while warming up.
        health.add_group(Group::new("database").gate(Gate::Ready));
        postgres_up.store(true, Ordering::SeqCst);
        health.set_lifecycle(Lifecycle::WarmingUp);
        assert_eq!(
            check(&mut client, "database").await,
            ServingStatus::NotServing
        );
        health.set_lifecycle(Lifecycle::Working);
        assert_eq!(check(&mut client, "database").await, ServingStatus::Serving);
        assert_eq!(
            next(&mut database).await,
            Some(ServingStatus::Serving),
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn a_manual_check_is_a_service_name_for_check_and_watch() {
    for mode in MODES {
        let health = working();
        let consumer = tower_health::checks::Manual::new();
        health.register(consumer.clone().into_check("consumer").readiness());
        let mut recorded = health.watch(tower_health::Subject::check("consumer"));
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;

        // Not yet reported: it fails, and so does readiness.
        recorded.wait_for(Option::is_some).await.unwrap();
        assert_eq!(
            check(&mut client, "consumer").await,
            ServingStatus::NotServing
        );
        assert_eq!(
            check(&mut client, "readiness").await,
            ServingStatus::NotServing
        );
        let mut stream = watch(&mut client, "consumer").await;
        assert_eq!(next(&mut stream).await, Some(ServingStatus::NotServing));

        consumer.pass();
        assert_eq!(next(&mut stream).await, Some(ServingStatus::Serving));
        assert_eq!(check(&mut client, "consumer").await, ServingStatus::Serving);
        assert_eq!(
            check(&mut client, "readiness").await,
            ServingStatus::Serving
        );

        consumer.fail("broker connection lost");
        assert_eq!(next(&mut stream).await, Some(ServingStatus::NotServing));
        assert_eq!(
            check(&mut client, "consumer").await,
            ServingStatus::NotServing
        );
    }
}
/// `grpc.health.v1.HealthListRequest`, written by hand: tonic-health 0.14 has no `List`.
#[derive(Clone, PartialEq, prost::Message)]
struct HealthListRequest {}

/// `grpc.health.v1.HealthListResponse`.
#[derive(Clone, PartialEq, prost::Message)]
struct HealthListResponse {
    #[prost(map = "string, message", tag = "1")]
    statuses: std::collections::HashMap<String, HealthCheckResponse>,
}

/// Calls `List` as a generated client would: every listed name with its status, sorted.
async fn list(channel: Channel) -> Result<Vec<(String, ServingStatus)>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("channel ready");
    let path = http::uri::PathAndQuery::from_static("/grpc.health.v1.Health/List");
    let call = grpc.unary(
        tonic::Request::new(HealthListRequest {}),
        path,
        tonic_prost::ProstCodec::default(),
    );
    let response: tonic::Response<HealthListResponse> = tokio::time::timeout(BOUND, call)
        .await
        .expect("List hung")?;
    let mut statuses: Vec<_> = response
        .into_inner()
        .statuses
        .into_iter()
        .map(|(name, response)| {
            let status = response.status();
            (name, status)
        })
        .collect();
    statuses.sort();
    Ok(statuses)
}

#[tokio::test]
async fn list_answers_every_name_as_check_does() {
    for mode in MODES {
        let health = working();
        let (postgres, postgres_up) = switch("postgres");
        health.register(postgres.readiness().group("database"));
        health.register(Check::new("worker", || async { true }).liveness());
        let server = serve(health.clone(), mode).await;
        let mut client = server.client().await;

        let listed = list(server.channel().await).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "", "database", "live", "postgres", "ready", "startup", "worker"
            ],
            "{mode:?}"
        );
        for (name, status) in &listed {
            assert_eq!(*status, ServingStatus::Serving, "{mode:?} {name:?}");
        }

        // A failing check shows in every name it counts for, exactly as Check answers them.
        postgres_up.store(false, Ordering::SeqCst);
        let listed = list(server.channel().await).await.unwrap();
        for (name, status) in &listed {
            assert_eq!(*status, check(&mut client, name).await, "{mode:?} {name:?}");
        }
        let failing: Vec<&str> = listed
            .iter()
            .filter(|(_, status)| *status == ServingStatus::NotServing)
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(failing, ["", "database", "postgres", "ready"], "{mode:?}");

        // Shutting down, every service stops serving.
        health.set_lifecycle(Lifecycle::ShuttingDown);
        let listed = list(server.channel().await).await.unwrap();
        assert!(
            listed
                .iter()
                .all(|(_, status)| *status == ServingStatus::NotServing),
            "{mode:?} {listed:?}"
        );
    }
}

#[tokio::test]
async fn list_of_more_than_a_hundred_services_is_resource_exhausted() {
    for mode in MODES {
        let health = working();
        for index in 0..100 {
            health.register(Check::new(format!("check-{index}"), || async { true }));
        }
        let server = serve(health, mode).await;
        let error = list(server.channel().await).await.unwrap_err();
        assert_eq!(error.code(), Code::ResourceExhausted, "{mode:?}");
        // Check still answers each of them.
        let mut client = server.client().await;
        assert_eq!(check(&mut client, "check-99").await, ServingStatus::Serving);
    }
}

#[tokio::test]
async fn watch_streams_beyond_the_cap_are_resource_exhausted_until_one_closes() {
    let health = working();
    let grpc = GrpcHealth::new(health.clone()).max_watches(3);
    let server = start(move |incoming, stop| async move {
        Server::builder()
            .add_service(grpc)
            .serve_with_incoming_shutdown(incoming, stop)
            .await
    })
    .await;
    // Names that exist and names that do not count alike, over several connections.
    let mut first = server.client().await;
    let mut second = server.client().await;
    let mut open = vec![
        watch(&mut first, "").await,
        watch(&mut first, "no-such-name").await,
        watch(&mut second, "another-missing-name").await,
    ];
    for stream in &mut open {
        assert!(next(stream).await.is_some(), "each open stream answers");
    }
    for client in [&mut first, &mut second] {
        let request = HealthCheckRequest {
            service: "one-too-many".into(),
        };
        let refused = tokio::time::timeout(BOUND, client.watch(request))
            .await
            .expect("Watch hung")
            .expect_err("a fourth stream");
        assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    }
    // Closing one makes room for one.
    drop(open.pop());
    let mut admitted = None;
    for _ in 0..500 {
        let request = HealthCheckRequest {
            service: "later".into(),
        };
        match tokio::time::timeout(BOUND, second.watch(request))
            .await
            .expect("Watch hung")
        {
            Ok(stream) => {
                admitted = Some(stream.into_inner());
                break;
            }
            // The server sees the client's reset a moment after the drop.
            Err(status) if status.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(status) => panic!("{status:?}"),
        }
    }
    let mut admitted = admitted.expect("room after a stream closed");
    assert!(next(&mut admitted).await.is_some());
}
