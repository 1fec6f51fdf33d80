//! Exposure levels over real sockets: what each level shows in every format, and the
//! ready-made predicates that raise it.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::Layer;
use tower_health::authorize::IpNet;
use tower_health::{
    Check, Endpoint, Exposure, ExposurePolicy, Health, HealthLayer, StatusCodes, authorize, preset,
};

use crate::common::{
    Reply, TestServer, echo_service, get, get_with_headers, http1_client, send_with, serve_hyper,
};

/// Names and messages that must not leak below their level.
const FAILING: &str = "payments-postgres-eu1";
const PASSING: &str = "sessions-redis-eu1";
const MESSAGE: &str = "10.9.8.7:5432 refused for user billing";

fn health() -> Health {
    let health = Health::new();
    health.register(
        Check::new(FAILING, || async { Err::<(), _>(MESSAGE) })
            .liveness()
            .readiness(),
    );
    health.register(
        Check::new(PASSING, || async { true })
            .liveness()
            .readiness(),
    );
    health
}

/// Every preset's endpoints, as the presets make them.
fn presets() -> Vec<Endpoint> {
    [
        preset::Kubernetes::new().endpoints(),
        preset::FlaskHealthz::new().endpoints(),
        preset::OarepoHeartbeat::new().endpoints(),
        preset::PyramidHealth::new().path("/pyramid").endpoints(),
        preset::Py12fCommon::new("orders")
            .path("/py12f")
            .endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every preset's endpoints, each showing `details`.
fn every_format(details: ExposurePolicy) -> Vec<Endpoint> {
    presets()
        .into_iter()
        .map(|endpoint| endpoint.exposure(details.clone()))
        .collect()
}

/// A path of each format, the per-check ones naming a real check, with the parameters that
/// ask for the most.
fn paths() -> Vec<String> {
    let mut paths: Vec<String> = [
        "/livez?verbose",
        "/readyz?verbose&exclude=sessions-redis-eu1",
        "/readyz?exclude=nothing-of-that-name",
        "/.well-known/heartbeat/readiness",
        "/.well-known/heartbeat/liveliness",
        "/pyramid?checks=true",
        "/py12f",
        "/health",
        "/health/live",
    ]
    .map(str::to_owned)
    .to_vec();
    for name in [FAILING, PASSING] {
        paths.push(format!("/livez/{name}"));
        paths.push(format!("/readyz/{name}"));
        paths.push(format!("/healthz/{name}"));
        paths.push(format!("/health/live/{name}"));
    }
    paths
}

async fn server(details: ExposurePolicy) -> TestServer {
    // The default health+json endpoints too.
    let layer = HealthLayer::new()
        .endpoints(every_format(details.clone()))
        .exposure(details)
        .health(health());
    serve_hyper(layer.layer(echo_service())).await
}

/// The whole answer as text: status line, headers and body.
fn everything(reply: &Reply) -> String {
    let mut text = format!("{}\n", reply.status);
    for (name, value) in &reply.headers {
        text += &format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes()));
    }
    text + &String::from_utf8_lossy(&reply.body)
}

#[tokio::test]
async fn status_only_names_no_check_in_any_format() {
    let server = server(Exposure::StatusOnly.into()).await;
    for path in paths() {
        let reply = get(&server, &path).await;
        assert!(reply.header("x-inner").is_none(), "{path} is a health path");
        let text = everything(&reply);
        for secret in [FAILING, PASSING, "eu1", MESSAGE, "10.9.8.7"] {
            // The request itself names the check on per-check paths; the answer must not.
            assert!(!text.contains(secret), "{path} shows {secret:?}:\n{text}");
        }
    }
    // The status still tells: the failing check fails the probes.
    for path in [
        "/livez",
        "/readyz",
        "/health",
        "/.well-known/heartbeat/readiness",
    ] {
        assert!(get(&server, path).await.status.is_server_error(), "{path}");
    }
    assert_eq!(
        get(&server, &format!("/readyz/{PASSING}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_layers_exposure_and_codes_reach_every_endpoint_that_sets_none() {
    // Set on the layer only: presets and an added endpoint inherit it, one that sets its own
    // keeps its own.
    let mut codes = StatusCodes::default();
    codes.fail = StatusCode::INTERNAL_SERVER_ERROR;
    let layer = HealthLayer::new()
        .health(health())
        .exposure(Exposure::StatusOnly)
        .status_codes(codes)
        .endpoints(presets())
        .endpoint(Endpoint::new("/status"))
        .endpoint(Endpoint::new("/operator").exposure(Exposure::Names));
    let server = serve_hyper(layer.layer(echo_service())).await;
    for path in paths().into_iter().chain(["/status".to_owned()]) {
        let text = everything(&get(&server, &path).await);
        for secret in [FAILING, PASSING, "eu1", MESSAGE] {
            assert!(!text.contains(secret), "{path} shows {secret:?}:\n{text}");
        }
    }
    let status = get(&server, "/status").await;
    assert_eq!(
        status.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "the layer's codes"
    );
    let operator = get(&server, "/operator").await;
    assert!(everything(&operator).contains(FAILING), "its own exposure");
}

#[tokio::test]
async fn names_show_names_but_no_message_in_any_format() {
    let server = server(ExposurePolicy::default()).await;
    let mut named = Vec::new();
    for path in paths() {
        let text = everything(&get(&server, &path).await);
        assert!(!text.contains(MESSAGE), "{path} shows the message:\n{text}");
        assert!(
            !text.contains("10.9.8.7"),
            "{path} shows the address:\n{text}"
        );
        if text.contains(FAILING) {
            named.push(path);
        }
    }
    for path in [
        "/livez?verbose",
        "/.well-known/heartbeat/readiness",
        "/health",
    ] {
        assert!(
            named.iter().any(|p| p == path),
            "{path} names the checks: {named:?}"
        );
    }
}

#[tokio::test]
async fn messages_show_the_failing_check_message() {
    let server = server(Exposure::Messages.into()).await;
    for path in [
        "/health".to_owned(),
        "/.well-known/heartbeat/readiness".to_owned(),
        format!("/livez/{FAILING}"),
        format!("/healthz/{FAILING}"),
        format!("/health/live/{FAILING}"),
    ] {
        let text = everything(&get(&server, &path).await);
        assert!(text.contains(MESSAGE), "{path} shows the message:\n{text}");
    }
}

#[tokio::test]
async fn a_preset_s_own_details_cover_all_its_paths() {
    let layer =
        HealthLayer::with_endpoints(preset::Kubernetes::new().exposure(Exposure::StatusOnly))
            .health(health());
    let server = serve_hyper(layer.layer(echo_service())).await;
    for path in [
        "/livez?verbose",
        "/readyz?verbose",
        &format!("/livez/{FAILING}"),
    ] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(
            !everything(&reply).contains("eu1"),
            "{path}: {}",
            reply.text()
        );
    }
    // Messages show on the single-check paths only, as on the API server.
    let layer = HealthLayer::with_endpoints(preset::Kubernetes::new().exposure(Exposure::Messages))
        .health(health());
    let server = serve_hyper(layer.layer(echo_service())).await;
    assert!(
        get(&server, &format!("/livez/{FAILING}"))
            .await
            .text()
            .contains(MESSAGE)
    );
    let aggregate = get(&server, "/livez?verbose").await;
    assert!(
        aggregate
            .text()
            .contains(&format!("[-]{FAILING} failed: reason withheld"))
    );
}

#[tokio::test]
async fn a_bearer_token_raises_the_level_for_its_bearer_only() {
    let details = ExposurePolicy::new(Exposure::StatusOnly)
        .when(Exposure::Messages, authorize::bearer("operator-token-1"));
    let server = server(details).await;
    for (headers, level) in [
        (vec![], Exposure::StatusOnly),
        (
            vec![("authorization", "Bearer operator-token-2")],
            Exposure::StatusOnly,
        ),
        (
            vec![("authorization", "Bearer operator-token-")],
            Exposure::StatusOnly,
        ),
        (
            vec![("authorization", "Basic operator-token-1")],
            Exposure::StatusOnly,
        ),
        (vec![("x-token", "operator-token-1")], Exposure::StatusOnly),
        (
            vec![("authorization", "Bearer operator-token-1")],
            Exposure::Messages,
        ),
        (
            vec![("authorization", "bearer operator-token-1")],
            Exposure::Messages,
        ),
    ] {
        let reply = get_with_headers(&server, "/health", &headers).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        let text = everything(&reply);
        assert_eq!(
            text.contains(FAILING),
            level >= Exposure::Names,
            "{headers:?}"
        );
        assert_eq!(
            text.contains(MESSAGE),
            level >= Exposure::Messages,
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn a_proxy_header_raises_the_level_to_what_it_was_given() {
    let details = ExposurePolicy::new(Exposure::StatusOnly).when(
        Exposure::Names,
        authorize::header(
            http::HeaderName::from_static("x-client-verified"),
            "SUCCESS",
        ),
    );
    let server = server(details).await;
    for (headers, names) in [
        (vec![], false),
        (vec![("x-client-verified", "FAILED")], false),
        (vec![("x-client-verified", "SUCCESS")], true),
    ] {
        let text = everything(&get_with_headers(&server, "/livez?verbose", &headers).await);
        assert_eq!(text.contains(FAILING), names, "{headers:?}");
        assert!(!text.contains(MESSAGE), "only names were allowed");
    }
}

/// hyper-util serving `service`, with each connection's peer address inserted into its requests
/// (hyper puts none there itself).
async fn serve_with_peer(layer: HealthLayer) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = layer.layer(echo_service());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let service = tower::ServiceBuilder::new()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(peer);
                    request
                })
                .service(service.clone());
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                    .await;
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn the_peer_address_from_hyper_raises_the_level_inside_the_networks() {
    for (networks, shown) in [
        (["127.0.0.0/8", "::1/128"], true),
        (["10.0.0.0/8", "fd00::/8"], false),
    ] {
        let nets = networks.map(|network| network.parse::<IpNet>().unwrap());
        let details = ExposurePolicy::new(Exposure::StatusOnly)
            .when(Exposure::Messages, authorize::peer_in(nets));
        let layer = HealthLayer::new().health(health()).exposure(details);
        let (addr, task) = serve_with_peer(layer).await;
        let request = Request::get(format!("http://{addr}/health"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let text = everything(&send_with(&http1_client(), request).await);
        assert_eq!(text.contains(MESSAGE), shown, "{networks:?}:\n{text}");
        task.abort();
    }
}

#[tokio::test]
async fn without_a_peer_address_the_peer_predicate_accepts_nothing() {
    // serve_hyper puts no peer address into requests.
    let details = ExposurePolicy::new(Exposure::StatusOnly).when(
        Exposure::Messages,
        authorize::peer_in(["0.0.0.0/0", "::/0"].map(|net| net.parse::<IpNet>().unwrap())),
    );
    let server = serve_hyper(
        HealthLayer::new()
            .health(health())
            .exposure(details)
            .layer(echo_service()),
    )
    .await;
    assert!(!everything(&get(&server, "/health").await).contains(FAILING));
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn the_peer_address_from_axum_connect_info_raises_the_level_inside_the_networks() {
    for (network, shown) in [("127.0.0.1/32", true), ("192.168.0.0/16", false)] {
        let network = network.parse::<IpNet>().unwrap();
        let details = ExposurePolicy::new(Exposure::StatusOnly)
            .when(Exposure::Names, authorize::peer_in([network]));
        let router = axum::Router::new()
            .layer(HealthLayer::new().health(health()).exposure(details))
            .into_make_service_with_connect_info::<SocketAddr>();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let request = Request::get(format!("http://{addr}/health"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let text = everything(&send_with(&http1_client(), request).await);
        assert_eq!(text.contains(FAILING), shown, "{network}:\n{text}");
        assert!(!text.contains(MESSAGE));
        task.abort();
    }
}
