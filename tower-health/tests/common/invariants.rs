//! The invariant every request must keep, shared by the property test and the fuzz target: the
//! layer either hands the request to the inner service untouched, or answers it with a
//! well-formed health response; and which of the two is decided by the path alone.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use tower::{Layer, ServiceExt};
use tower_health::{Check, Exposure, Health, HealthLayer, Lifecycle};

/// What the inner service saw.
#[derive(Debug, PartialEq)]
pub struct Seen {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Whether `path` is one of the default layout's health paths.
pub fn is_health_path(path: &str) -> bool {
    const PROBES: [&str; 3] = ["live", "ready", "startup"];
    let Some(rest) = path.strip_prefix("/health") else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return false;
    };
    match rest.split_once('/') {
        None => PROBES.contains(&rest),
        Some((probe, name)) => PROBES.contains(&probe) && !name.is_empty() && !name.contains('/'),
    }
}

/// Sends one request through a layer with default endpoints over a recording inner service, and
/// panics if the invariant does not hold.
pub async fn assert_invariant(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health.register(Check::new("db", || async { true }).liveness().readiness());
    health.register(
        Check::new("search", || async { Err::<(), _>("no nodes") })
            .non_critical()
            .timeout(Duration::from_secs(5)),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let inner = tower::service_fn(move |request: Request<Full<Bytes>>| {
        let record = record.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            record.lock().unwrap().push(Seen {
                method: parts.method,
                uri: parts.uri,
                headers: parts.headers,
                body,
            });
            Ok::<_, Infallible>(
                Response::builder()
                    .header("x-inner", "yes")
                    .body(Full::new(Bytes::from_static(b"inner")))
                    .unwrap(),
            )
        }
    });
    let service = HealthLayer::new()
        .health(health)
        .exposure(Exposure::Messages)
        .layer(inner);
    let mut request = Request::builder()
        .method(method.clone())
        .uri(uri.clone())
        .body(Full::new(body.clone()))
        .unwrap();
    *request.headers_mut() = headers.clone();
    let health_path = is_health_path(uri.path());

    let response = service.oneshot(request).await.unwrap();
    let (parts, response_body) = response.into_parts();
    let response_body = response_body.collect().await.unwrap().to_bytes();
    let seen = std::mem::take(&mut *seen.lock().unwrap());

    if !health_path {
        assert_eq!(
            seen,
            [Seen {
                method,
                uri,
                headers,
                body
            }],
            "passed on untouched"
        );
        assert_eq!(parts.headers["x-inner"], "yes");
        assert_eq!(response_body, "inner");
        return;
    }
    assert!(
        seen.is_empty(),
        "a health request reached the inner service"
    );
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|value| value.to_str().expect("ASCII header"))
    };
    assert_eq!(header("cache-control"), Some("no-store"));
    let length: usize = header("content-length")
        .expect("Content-Length")
        .parse()
        .expect("a number");
    let allowed = ["GET", "HEAD"];
    if !allowed.contains(&method.as_str()) {
        assert_eq!(parts.status, 405);
        assert_eq!(header("allow"), Some("GET, HEAD"));
        assert_eq!(length, 0);
        assert!(response_body.is_empty());
        return;
    }
    assert!(
        [200, 404, 503].contains(&parts.status.as_u16()),
        "status {}",
        parts.status
    );
    assert_eq!(header("content-type"), Some("application/health+json"));
    if method == Method::HEAD {
        assert!(response_body.is_empty());
    } else {
        assert_eq!(length, response_body.len());
        let json: serde_json::Value = serde_json::from_slice(&response_body).expect("JSON body");
        let status = json["status"].as_str().expect("a status");
        assert!(["pass", "warn", "fail"].contains(&status), "{status}");
    }
}
