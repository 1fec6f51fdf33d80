//! examples/kubernetes/deployment.yaml fits the library: probe timeouts above the default check
//! timeout, a grace period above the drain delay, and probe paths and services the layer answers.

use crate::common;

use std::time::Duration;

use tower::ServiceBuilder;
use tower_health::{Check, Drain, Health, HealthLayer, Lifecycle};

const MANIFEST: &str = include_str!("../../examples/kubernetes/deployment.yaml");

/// The values of `key: value` lines (flow mappings included), in order.
fn values<'m>(key: &str) -> Vec<&'m str> {
    let needle = format!("{key}: ");
    MANIFEST
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.match_indices(&needle).map(move |(at, _)| &line[at..]))
        .map(|found| {
            found[needle.len()..]
                .split([',', '}', ' '])
                .next()
                .unwrap()
                .trim()
        })
        .collect()
}

fn seconds(key: &str) -> Vec<Duration> {
    values(key)
        .into_iter()
        .map(|v| Duration::from_secs(v.parse().unwrap_or_else(|_| panic!("{key}: {v}"))))
        .collect()
}

#[test]
fn probe_timeouts_exceed_the_default_check_timeout() {
    let timeouts = seconds("timeoutSeconds");
    assert_eq!(timeouts.len(), 6, "three probes in each of two deployments");
    for timeout in timeouts {
        assert!(timeout > Health::DEFAULT_TIMEOUT, "{timeout:?}");
    }
}

#[test]
fn the_grace_period_exceeds_the_drain_delay() {
    let grace = seconds("terminationGracePeriodSeconds");
    assert_eq!(grace.len(), 2);
    for grace in grace {
        assert!(grace > Drain::DEFAULT_DELAY, "{grace:?}");
    }
}

#[test]
fn grpc_probes_name_the_protocol_services() {
    assert_eq!(values("service"), ["startup", "liveness", "readiness"]);
}

#[tokio::test]
async fn the_http_probe_paths_are_answered_by_the_default_layer() {
    let paths = values("path");
    assert_eq!(paths, ["/health/startup", "/health/live", "/health/ready"]);
    let health = Health::new();
    health.register(Check::new("db", || async { true }));
    health.set_lifecycle(Lifecycle::Working);
    let server = common::serve_hyper(
        ServiceBuilder::new()
            .layer(HealthLayer::new().health(health))
            .service(common::echo_service()),
    )
    .await;
    for path in paths {
        let reply = common::get(&server, path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.header("x-inner"),
            None,
            "{path} reached the application"
        );
    }
}
