//! The lifecycle style (py-12f-common): the state as health+json, and the standalone listener.

use crate::common;
use crate::styles;

use http::Method;
use serde_json::json;
use tower_health::{Health, HealthLayer, Lifecycle, preset::Py12fCommon};

use common::{Reply, TestServer, get, request};

fn layer(health: &Health) -> HealthLayer {
    HealthLayer::new()
        .health(health.clone())
        .endpoints(Py12fCommon::new("orders"))
}

async fn server(health: &Health) -> TestServer {
    styles::serve_layer(layer(health)).await
}

fn assert_state_answer(reply: &Reply, status: u16, health_status: &str, note: &str) {
    assert_eq!(reply.status, status);
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        reply.json(),
        json!({
            "status": health_status,
            "notes": [note],
            "serviceId": "get-health",
            "description": "Returns the health of the 'orders' service",
        })
    );
}

const RUNNING: &str = "Service is running";
const NOT_HEALTHY: &str = "Service is not healthy, it is warming up or shutting down";
const NO_INFORMATION: &str = "No information about the service";

#[tokio::test]
async fn every_state_has_its_status_and_note() {
    let health = Health::new();
    let server = server(&health).await;
    assert_state_answer(&get(&server, "/health").await, 503, "fail", NO_INFORMATION);
    health.set_lifecycle(Lifecycle::WarmingUp);
    assert_state_answer(&get(&server, "/health").await, 202, "warn", NOT_HEALTHY);
    health.set_lifecycle(Lifecycle::Working);
    assert_state_answer(&get(&server, "/health").await, 200, "pass", RUNNING);
    health.set_lifecycle(Lifecycle::ShuttingDown);
    assert_state_answer(&get(&server, "/health").await, 202, "warn", NOT_HEALTHY);
    // Any transition is allowed, back to the start included.
    health.set_lifecycle(Lifecycle::Unknown);
    assert_state_answer(&get(&server, "/health").await, 503, "fail", NO_INFORMATION);
}

#[tokio::test]
async fn head_has_the_get_headers_and_no_body() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::WarmingUp);
    let server = server(&health).await;
    let got = get(&server, "/health").await;
    let head = request(&server, Method::HEAD, "/health").await;
    assert_eq!(head.status, 202);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(got.body.len().to_string().as_str())
    );
    assert_eq!(head.header("content-type"), got.header("content-type"));
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let health = Health::new();
    let server = server(&health).await;
    for method in [Method::POST, Method::PUT, Method::OPTIONS] {
        let reply = request(&server, method.clone(), "/health").await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(styles::allow(reply.header("allow")), ["GET", "HEAD"]);
    }
}

#[tokio::test]
async fn query_is_ignored_and_other_paths_are_not_served() {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    let server = server(&health).await;
    assert_state_answer(
        &get(&server, "/health?verbose=1").await,
        200,
        "pass",
        RUNNING,
    );
    for path in ["/health/", "/healthz", "/"] {
        let reply = get(&server, path).await;
        assert_eq!(reply.header("x-inner"), Some("yes"), "{path}");
    }
}

#[cfg(feature = "listener")]
mod listener {
    use super::*;
    use styles::Logs;
    use tower_health::listener::{HealthListener, ListenerConfig};

    const NOT_RUNNING: &str =
        "An attempt was made to set service state but health check is not running";

    fn config(health_check: &str) -> ListenerConfig {
        ListenerConfig::from_vars([("HEALTH_CHECK", health_check), ("HEALTH_CHECK_PORT", "0")])
            .unwrap()
    }

    async fn get_at(addr: std::net::SocketAddr, path: &str) -> Reply {
        let request = http::Request::get(format!("http://{addr}{path}"))
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        common::send_with(&common::http1_client(), request).await
    }

    #[tokio::test]
    async fn serves_the_same_registry_as_the_layer_on_its_own_address() {
        let (logs, _guard) = Logs::capture();
        let health = Health::new();
        let main = server(&health).await;
        let listener =
            HealthListener::start(&config("1"), layer(&health).without_default_endpoints())
                .await
                .unwrap();
        let addr = listener.local_addr().expect("listening");
        assert!(listener.is_running());
        assert_eq!(
            logs.lines_with("Health check serving on"),
            [format!(
                " INFO tower_health::listener: Health check serving on 127.0.0.1:{}/health",
                addr.port()
            )]
        );
        assert_state_answer(&get_at(addr, "/health").await, 503, "fail", NO_INFORMATION);
        health.set_lifecycle(Lifecycle::Working);
        assert_state_answer(&get_at(addr, "/health").await, 200, "pass", RUNNING);
        assert_state_answer(&get(&main, "/health").await, 200, "pass", RUNNING);
        // Its other paths are not found; HEAD and 405 as on the layer.
        assert_eq!(get_at(addr, "/").await.status, 404);
        assert_eq!(get_at(addr, "/health/").await.status, 404);
        assert!(logs.wait_for(NOT_RUNNING, 1).await.is_empty());

        listener.shutdown().await;
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "stopped with the app"
        );
        health.set_lifecycle(Lifecycle::ShuttingDown);
        assert_eq!(logs.wait_for(NOT_RUNNING, 1).await.len(), 1);
    }

    #[tokio::test]
    async fn dropping_the_listener_stops_it() {
        let health = Health::new();
        let listener = HealthListener::start(&config("yes"), layer(&health))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(get_at(addr, "/health").await.status, 503);
        drop(listener);
        // The task is aborted; the socket closes once the runtime drops it.
        let mut closed = false;
        for _ in 0..100 {
            tokio::task::yield_now().await;
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                closed = true;
                break;
            }
        }
        assert!(closed, "the listener still accepts after being dropped");
    }

    #[tokio::test]
    async fn disabled_means_no_listener_and_a_warning_on_set_state() {
        for off in ["", "false", "0", "no", "off", "OFF"] {
            let (logs, _guard) = Logs::capture();
            let health = Health::new();
            let listener = HealthListener::start(&config(off), layer(&health))
                .await
                .unwrap();
            assert_eq!(listener.local_addr(), None, "{off:?}");
            assert!(!listener.is_running());
            assert!(logs.lines_with("Health check serving on").is_empty());
            health.set_lifecycle(Lifecycle::Working);
            let warned = logs.wait_for(NOT_RUNNING, 1).await;
            assert_eq!(warned.len(), 1, "{off:?}: {}", logs.text());
            assert!(warned[0].contains("WARN"));
        }
        // Unset is off too.
        let config = ListenerConfig::from_vars(std::iter::empty::<(&str, &str)>()).unwrap();
        assert!(!config.enabled);
    }

    #[tokio::test]
    async fn a_layer_alone_never_warns() {
        let (logs, _guard) = Logs::capture();
        let health = Health::new();
        let _server = server(&health).await;
        health.set_lifecycle(Lifecycle::Working);
        assert!(logs.wait_for(NOT_RUNNING, 1).await.is_empty());
    }
}
