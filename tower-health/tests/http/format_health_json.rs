//! The health+json format, the exposure policy and replacing the format.

use crate::common;

use std::time::{Duration, SystemTime};

use common::{TestServer, get, get_with_headers, serve_hyper};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tower::Layer;
use tower_health::format::{Answer, Format, HealthJson, Outcome, Rendered};
use tower_health::{
    Check, CheckResult, Endpoint, Exposure, ExposurePolicy, Health, HealthLayer, Lifecycle, Status,
};

const SECRET: &str = "postgres://admin:hunter2@db.internal:5432";

fn health() -> Health {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health
}

async fn server(health: &Health, layer: HealthLayer) -> TestServer {
    serve_hyper(layer.health(health.clone()).layer(common::echo_service())).await
}

fn assert_rfc3339_now(time: &Value) {
    let time = humantime::parse_rfc3339(time.as_str().expect("time is a string"))
        .unwrap_or_else(|e| panic!("{time} is not RFC 3339: {e}"));
    let now = SystemTime::now();
    let distance = now
        .duration_since(time)
        .or_else(|_| time.duration_since(now))
        .unwrap();
    assert!(distance < Duration::from_secs(3600), "{time:?} is not now");
}

#[tokio::test]
async fn health_json_has_the_drafts_fields() {
    let health = health();
    health.register(
        Check::new("db:responseTime", || async {
            CheckResult::pass().observed(12.5, "ms")
        })
        .component_type("datastore"),
    );
    health.register(
        Check::new("disk", || async {
            CheckResult::warn("volume nearly full")
                .observed(91, "percent")
                .component_type("system")
        })
        .component_type("ignored-by-the-result"),
    );
    health.register(Check::new("disk", || async { CheckResult::pass() }));
    let layer = HealthLayer::new().exposure(Exposure::Messages).format(
        HealthJson::new()
            .version("1")
            .release_id("1.2.3")
            .service_id("orders")
            .description("the orders service"),
    );
    let server = server(&health, layer).await;
    let reply = get(&server, "/health").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("application/health+json")
    );
    let body = reply.json();
    assert_eq!(body["status"], "warn");
    assert_eq!(body["version"], "1");
    assert_eq!(body["releaseId"], "1.2.3");
    assert_eq!(body["serviceId"], "orders");
    assert_eq!(body["description"], "the orders service");
    assert_eq!(body["output"], "disk");

    let checks = body["checks"].as_object().unwrap();
    assert_eq!(checks.len(), 2);
    let db = checks["db:responseTime"].as_array().unwrap();
    assert_eq!(db.len(), 1);
    assert_eq!(db[0]["componentType"], "datastore");
    assert_eq!(db[0]["observedValue"], 12.5);
    assert_eq!(db[0]["observedUnit"], "ms");
    assert_eq!(db[0]["status"], "pass");
    assert!(db[0].get("output").is_none(), "no output on pass");
    assert_rfc3339_now(&db[0]["time"]);

    // Checks sharing a name are all listed, in registration order.
    let disk = checks["disk"].as_array().unwrap();
    assert_eq!(disk.len(), 2);
    assert_eq!(
        disk[0]["componentType"], "system",
        "the result's own type wins"
    );
    assert_eq!(disk[0]["observedValue"], 91);
    assert_eq!(disk[0]["observedUnit"], "percent");
    assert_eq!(disk[0]["status"], "warn");
    assert_eq!(disk[0]["output"], "volume nearly full");
    assert_rfc3339_now(&disk[0]["time"]);
    // Absent fields are left out, not null.
    let keys: Vec<&str> = disk[1]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["status", "time"]);
}

#[tokio::test]
async fn a_passing_answer_has_no_output_and_no_service_fields_unless_set() {
    let health = health();
    health.register(Check::new("db", || async {
        CheckResult::pass().message("all good")
    }));
    let server = server(&health, HealthLayer::new().exposure(Exposure::Messages)).await;
    let body = get(&server, "/health/ready").await.json();
    assert_eq!(
        body,
        json!({
            "status": "pass",
            "checks": { "db": [{ "status": "pass", "time": body["checks"]["db"][0]["time"] }] }
        })
    );
}

fn failing(health: &Health) {
    health.register(Check::new("db", || async { Err::<(), _>(SECRET) }));
    health.register(Check::new("queue", || async { CheckResult::warn(SECRET) }).non_critical());
}

#[tokio::test]
async fn details_never_hides_every_message() {
    let health = health();
    failing(&health);
    // `Exposure::Names` is the default.
    let server = server(&health, HealthLayer::new()).await;
    for path in ["/health", "/health/ready", "/health/ready/db"] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !reply.text().contains("hunter2"),
            "{path}: {}",
            reply.text()
        );
        let body = reply.json();
        assert_eq!(
            body["checks"]["db"][0]["status"], "fail",
            "names and statuses show"
        );
        assert!(body["checks"]["db"][0].get("output").is_none());
    }
    let body = get(&server, "/health").await.json();
    assert_eq!(body["checks"]["queue"][0]["status"], "warn");
    assert!(body.get("output").is_none());
}

#[tokio::test]
async fn details_always_shows_messages_of_checks_not_passing() {
    let health = health();
    failing(&health);
    let server = server(&health, HealthLayer::new().exposure(Exposure::Messages)).await;
    let body = get(&server, "/health").await.json();
    assert_eq!(body["checks"]["db"][0]["output"], SECRET);
    assert_eq!(body["checks"]["queue"][0]["output"], SECRET);
    assert_eq!(body["output"], "db, queue");
}

#[tokio::test]
async fn details_when_shows_messages_to_requests_the_predicate_accepts() {
    let health = health();
    failing(&health);
    let details = ExposurePolicy::default().when(Exposure::Messages, |request| {
        request
            .headers
            .get("x-health-token")
            .is_some_and(|token| token == "let-me-see")
    });
    let server = server(&health, HealthLayer::new().exposure(details)).await;
    for (header, shown) in [
        (None, false),
        (Some(("x-health-token", "guess")), false),
        (Some(("x-other", "let-me-see")), false),
        (Some(("x-health-token", "let-me-see")), true),
    ] {
        let reply = get_with_headers(&server, "/health/ready", header.as_slice()).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.text().contains("hunter2"), shown, "{header:?}");
    }
}

#[tokio::test]
async fn details_are_set_per_endpoint() {
    let health = health();
    failing(&health);
    let layer = HealthLayer::new()
        .endpoint(Endpoint::new("/internal/health").exposure(Exposure::Messages))
        .endpoint(Endpoint::new("/public/health"));
    let server = server(&health, layer).await;
    assert!(
        get(&server, "/internal/health")
            .await
            .text()
            .contains("hunter2")
    );
    assert!(
        !get(&server, "/public/health")
            .await
            .text()
            .contains("hunter2")
    );
    assert!(!get(&server, "/health").await.text().contains("hunter2"));
}

#[tokio::test]
async fn a_closure_replaces_the_format() {
    let health = health();
    health.register(Check::new("db", || async { true }));
    let plain = |answer: &Answer<'_>| {
        let checks = answer.report().map_or(0, |report| report.checks.len());
        Rendered::new(
            answer.status_code,
            "text/plain; charset=utf-8",
            format!("{} ({checks} checks, {})", answer.status, answer.state),
        )
        .header(
            http::header::HeaderName::from_static("x-health"),
            http::HeaderValue::from_static("plain"),
        )
    };
    let server = server(&health, HealthLayer::new().format(plain)).await;
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "pass (1 checks, working)");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("x-health"), Some("plain"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    health.set_lifecycle(Lifecycle::WarmingUp);
    let reply = get(&server, "/health/ready").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.text(), "fail (1 checks, warming up)");

    let head = common::request(&server, Method::HEAD, "/health/ready").await;
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some("fail (1 checks, warming up)".len().to_string().as_str())
    );
}

/// A format of its own: a problem+json style answer with a status the format chooses.
struct Problem;

impl Format for Problem {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        let (status, title) = match answer.outcome {
            Outcome::Report(report) if report.status == Status::Fail => {
                (StatusCode::SERVICE_UNAVAILABLE, "down".to_owned())
            }
            Outcome::Report(_) => (StatusCode::OK, "OK".to_owned()),
            Outcome::Maintenance => (StatusCode::OK, "maintenance".to_owned()),
            Outcome::UnknownCheck(name) => (StatusCode::NOT_FOUND, format!("no {name}")),
            _ => unreachable!("no other outcome"),
        };
        Rendered::json(
            status,
            "application/problem+json",
            &json!({ "status": status.as_u16(), "title": title }),
        )
    }
}

#[tokio::test]
async fn a_format_of_its_own_on_one_endpoint() {
    let health = health();
    health.register(Check::new("db", || async { true }));
    let layer = HealthLayer::new().endpoint(Endpoint::new("/healthz").per_check().format(Problem));
    let server = server(&health, layer).await;
    let reply = get(&server, "/healthz/db").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.json(), json!({ "status": 200, "title": "OK" }));
    let missing = get(&server, "/healthz/cache").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json(),
        json!({ "status": 404, "title": "no cache" })
    );
    // The default endpoints keep health+json.
    assert_eq!(
        get(&server, "/health/ready/db")
            .await
            .header("content-type"),
        Some("application/health+json")
    );
}
