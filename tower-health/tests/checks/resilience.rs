//! Cached single-flight checks, background checks, thresholds, change events and task lifetimes.

use crate::common;

use common::{HANG, within};

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::{TestServer, get, http2_client, send_with, serve_hyper};
use futures_util::FutureExt;
use futures_util::future::join_all;
use http::Request;
use http_body_util::Full;
use tokio::sync::{Notify, Semaphore};
use tower::ServiceBuilder;
use tower_health::{
    Check, Exposure, Group, Health, HealthLayer, Lifecycle, RunEnd, Status, Subject,
};

fn working() -> Health {
    let health = Health::new();
    health.set_lifecycle(Lifecycle::Working);
    health
}

async fn serve(health: &Health) -> TestServer {
    serve_hyper(
        ServiceBuilder::new()
            .layer(
                HealthLayer::new()
                    .health(health.clone())
                    .exposure(Exposure::Messages),
            )
            .service(common::echo_service()),
    )
    .await
}

/// A check whose results the test scripts; it passes once the script is used up.
fn scripted(name: &str, script: &[bool]) -> (Check, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
    let counter = runs.clone();
    let check = Check::new(name, move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let pass = script.lock().unwrap().pop_front().unwrap_or(true);
        async move {
            if pass {
                Ok(())
            } else {
                Err("connection refused")
            }
        }
    })
    .cache(Duration::ZERO);
    (check, runs)
}

async fn ready(health: &Health) -> Status {
    health
        .evaluate(&Subject::group(Group::READY))
        .await
        .expect("readiness selects no name")
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_storm_on_a_stale_cache_runs_the_check_once() {
    const STORM: usize = 1_000;
    let runs = Arc::new(AtomicUsize::new(0));
    let arrived = Arc::new(AtomicUsize::new(0));
    let expected = Arc::new(AtomicUsize::new(0));
    let check = {
        let (runs, arrived, expected) = (runs.clone(), arrived.clone(), expected.clone());
        Check::new("db", move || {
            runs.fetch_add(1, Ordering::SeqCst);
            let (arrived, expected) = (arrived.clone(), expected.clone());
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                // Holds the run until every request of the storm has reached the layer, so
                // that none of them can have found a fresh cache.
                while arrived.load(Ordering::SeqCst) < expected.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                true
            }
        })
        .cache(Duration::from_millis(100))
        .timeout(HANG)
    };
    let health = working();
    health.register(check);
    let counter = arrived.clone();
    let server = serve_hyper(
        ServiceBuilder::new()
            .map_request(move |request: Request<_>| {
                counter.fetch_add(1, Ordering::SeqCst);
                request
            })
            .layer(HealthLayer::new().health(health.clone()))
            .service(common::echo_service()),
    )
    .await;

    let warm = get(&server, "/health/ready").await;
    assert_eq!(warm.status, 200);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Let the cached result go stale.
    tokio::time::sleep(Duration::from_millis(150)).await;
    expected.store(1 + STORM, Ordering::SeqCst);

    // The server takes 200 streams per HTTP/2 connection: ten connections of 100.
    let clients: Vec<_> = (0..10).map(|_| http2_client()).collect();
    let url = server.url("/health/ready");
    let replies = within(join_all((0..STORM).map(|i| {
        let client = &clients[i % clients.len()];
        let request = Request::get(&url).body(Full::new(Bytes::new())).unwrap();
        send_with(client, request)
    })))
    .await;

    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "one warm-up run, one storm run"
    );
    let times: std::collections::HashSet<String> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, 200);
            reply.json()["checks"]["db"][0]["time"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        times.len(),
        1,
        "every request got the one result: {times:?}"
    );
    assert_ne!(
        times.iter().next().unwrap(),
        warm.json()["checks"]["db"][0]["time"].as_str().unwrap(),
        "the storm did not get the stale result"
    );
}

/// A check that counts its runs and finishes only when the test adds a permit.
fn gated(name: &str) -> (Check, Arc<AtomicUsize>, Arc<Semaphore>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let (counter, permits) = (runs.clone(), gate.clone());
    let check = Check::new(name, move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let permits = permits.clone();
        async move {
            permits.acquire().await.unwrap().forget();
            true
        }
    });
    (check, runs, gate)
}

#[tokio::test]
async fn concurrent_requests_share_one_run_even_without_a_cache() {
    let (check, runs, gate) = gated("db");
    let health = working();
    health.register(check.cache(Duration::ZERO));
    let requests = join_all((0..100).map(|_| ready(&health)));
    // `join!` polls the requests first: all of them wait on the run before it may finish.
    let (statuses, ()) = tokio::join!(requests, async { gate.add_permits(1) });
    assert!(statuses.iter().all(|status| *status == Status::Pass));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Without a cache, the next request runs the check again.
    gate.add_permits(1);
    assert_eq!(ready(&health).await, Status::Pass);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_requester_that_goes_away_does_not_cancel_the_run() {
    let (check, runs, gate) = gated("db");
    let health = working();
    health.register(check.cache(Duration::from_secs(3600)));
    let mut changes = common::subscribe_to(&health, Subject::check("db"));
    let mut first = Box::pin(ready(&health));
    assert!((&mut first).now_or_never().is_none(), "the run is gated");
    drop(first);
    gate.add_permits(1);
    let change = within(changes.recv()).await.unwrap();
    assert_eq!(
        change.new,
        Status::Pass,
        "the run finished with nobody waiting"
    );
    assert_eq!(ready(&health).await, Status::Pass);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the later request read the cache"
    );
}

#[tokio::test]
async fn failures_are_cached_like_passes_and_the_time_is_the_runs() {
    let (check, runs) = scripted("db", &[false, true]);
    let health = working();
    health.register(check.cache(Duration::from_secs(3600)));
    let first = health.evaluate(&Subject::Service).await.unwrap();
    let second = health.evaluate(&Subject::Service).await.unwrap();
    assert_eq!(first.status, Status::Fail);
    assert_eq!(second.status, Status::Fail);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(first.checks[0].time, second.checks[0].time);
}

#[tokio::test]
async fn the_default_cache_ttl_applies_and_zero_turns_it_off() {
    let health = working();
    assert_eq!(health.default_cache_ttl(), Health::DEFAULT_CACHE_TTL);
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    health.register(Check::new("db", move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { true }
    }));
    ready(&health).await;
    ready(&health).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "cached by default");
    health.set_default_cache_ttl(Duration::ZERO);
    ready(&health).await;
    ready(&health).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3, "runs on every request");
}

#[tokio::test]
async fn a_hung_background_check_does_not_hold_up_probes_and_times_out() {
    let started = Arc::new(Notify::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let check = {
        let (started, runs) = (started.clone(), runs.clone());
        Check::new("hung", move || {
            runs.fetch_add(1, Ordering::SeqCst);
            started.notify_one();
            std::future::pending::<bool>()
        })
        .background(Duration::from_millis(10))
        .timeout(Duration::from_secs(3))
    };
    let health = working();
    let mut changes = common::subscribe_to(&health, Subject::check("hung"));
    health.register(check);
    let server = serve(&health).await;

    within(started.notified()).await;
    let reply = within(get(&server, "/health/ready")).await;
    assert_eq!(reply.status, 503);
    let entry = &reply.json()["checks"]["hung"][0];
    assert_eq!(entry["status"], "fail");
    assert_eq!(entry["output"], "not yet run");
    assert_eq!(
        health
            .watch(Subject::check("hung").clone())
            .borrow()
            .clone(),
        None,
        "answered while the first run was still hung"
    );

    let change = within(changes.recv()).await.unwrap();
    assert_eq!((change.old, change.new), (None, Status::Fail));
    assert!(change.message.unwrap().contains("timed out"));
    // The next run hangs too; probes answer with the last result meanwhile.
    while runs.load(Ordering::SeqCst) < 2 {
        within(started.notified()).await;
    }
    let reply = within(get(&server, "/health/ready/hung")).await;
    assert_eq!(reply.status, 503);
    let output = reply.json()["checks"]["hung"][0]["output"].clone();
    assert!(output.as_str().unwrap().contains("timed out"), "{output}");
    let report = health.evaluate(&Subject::check("hung")).await.unwrap();
    assert_eq!(report.checks[0].end, RunEnd::TimedOut);
}

#[tokio::test]
async fn a_background_check_without_a_result_fails_readiness_and_warns_liveness() {
    let health = working();
    health.register(
        Check::new("slow", || async { true })
            .liveness()
            .readiness()
            .startup()
            .background(Duration::from_secs(3600))
            .initial_delay(Duration::from_secs(3600)),
    );
    for (probe, status) in [
        (Group::READY, Status::Fail),
        (Group::STARTUP, Status::Fail),
        (Group::LIVE, Status::Warn),
    ] {
        let report = health.evaluate(&Subject::group(probe)).await.unwrap();
        assert_eq!(report.status, status, "{probe}");
        assert_eq!(report.checks[0].end, RunEnd::NotYetRun);
        assert_eq!(
            report.checks[0].result.message.as_deref(),
            Some("not yet run")
        );
    }
}

#[tokio::test]
async fn background_checks_publish_changes_without_any_probe() {
    let (check, _runs) = scripted("db", &[true, false, false, true]);
    let health = working();
    let mut changes = common::subscribe_to(&health, Subject::check("db"));
    let mut watch = health.watch(Subject::check("db"));
    health.register(check.background(Duration::from_millis(1)));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let change = within(changes.recv()).await.unwrap();
        seen.push((change.old, change.new, change.message));
    }
    assert_eq!(
        seen,
        [
            (None, Status::Pass, None),
            (
                Some(Status::Pass),
                Status::Fail,
                Some("connection refused".into())
            ),
            (Some(Status::Fail), Status::Pass, None),
        ]
    );
    within(watch.wait_for(|status| *status == Some(Status::Pass)))
        .await
        .unwrap();
}

#[tokio::test]
async fn thresholds_smooth_failures_and_recovery() {
    let (check, _runs) = scripted(
        "db",
        &[
            true, false, false, false, false, true, true, false, true, true,
        ],
    );
    let health = working();
    health.register(check.failure_threshold(3).success_threshold(2));
    let server = serve(&health).await;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let reply = get(&server, "/health/ready").await;
        let entry = reply.json()["checks"]["db"][0].clone();
        seen.push((
            reply.status.as_u16(),
            entry["status"].as_str().unwrap().to_owned(),
        ));
        if entry["status"] == "warn" {
            let output = entry["output"].as_str().unwrap();
            assert!(output.starts_with("connection refused ("), "{output}");
            assert!(output.contains("of 3 consecutive failures"), "{output}");
        }
    }
    let expected = [
        (200, "pass"),
        (200, "warn"), // 1 of 3
        (200, "warn"), // 2 of 3
        (503, "fail"), // 3 of 3
        (503, "fail"),
        (503, "fail"), // recovering: 1 of 2 passes
        (200, "pass"), // 2 of 2
        (200, "warn"), // a blip
        (200, "pass"),
        (200, "pass"),
    ];
    let expected: Vec<(u16, String)> = expected
        .iter()
        .map(|(code, status)| (*code, status.to_string()))
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_failure_duration_holds_off_failing() {
    let (check, _runs) = scripted("db", &[true, false, false, false]);
    let health = working();
    health.register(check.failure_duration(Duration::from_secs(3600)));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(ready(&health).await);
    }
    assert_eq!(
        statuses,
        [Status::Pass, Status::Warn, Status::Warn, Status::Warn]
    );
}

#[tokio::test]
async fn subscriptions_see_each_change_once_in_order() {
    let (check, _runs) = scripted("db", &[true, true, false, false, true, true]);
    let health = working();
    health.register(check);
    let mut all = health.subscribe();
    let mut service = common::subscribe_to(&health, Subject::Service);
    let mut probe = common::subscribe_to(&health, Subject::group(Group::READY));
    let mut one = common::subscribe_to(&health, Subject::check("db"));
    for _ in 0..3 {
        health.evaluate(&Subject::Service).await;
        health.evaluate(&Subject::group(Group::READY)).await;
    }
    // Service and readiness ran alternately: pass pass | fail fail | pass pass.
    let expected = [
        (None, Status::Pass),
        (Some(Status::Pass), Status::Fail),
        (Some(Status::Fail), Status::Pass),
    ];
    for subscription in [&mut service, &mut probe] {
        for (old, new) in expected {
            let change = subscription.recv().now_or_never().unwrap().unwrap();
            assert_eq!((change.old, change.new), (old, new));
            if new == Status::Fail {
                assert_eq!(change.message.as_deref(), Some("db"));
            }
        }
        assert!(subscription.recv().now_or_never().is_none(), "no repeats");
    }
    let mut check_changes = Vec::new();
    while let Some(Ok(change)) = one.recv().now_or_never() {
        check_changes.push((change.old, change.new, change.message));
    }
    assert_eq!(
        check_changes,
        [
            (None, Status::Pass, None),
            (
                Some(Status::Pass),
                Status::Fail,
                Some("connection refused".to_owned())
            ),
            (Some(Status::Fail), Status::Pass, None),
        ]
    );
    let mut total = 0;
    while let Some(Ok(_)) = all.recv().now_or_never() {
        total += 1;
    }
    assert_eq!(total, 9, "three subjects, three changes each");
    assert_eq!(
        *health.watch(Subject::group(Group::READY)).borrow(),
        Some(Status::Pass)
    );
}

/// Counts live tasks of the current runtime; `current_thread` tests run no other tasks.
fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

async fn until(mut condition: impl FnMut() -> bool) {
    within(async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
}

/// A background check that holds `token` for as long as anything can still run it.
fn holding(name: &str, token: &Arc<()>) -> Check {
    let token = token.clone();
    Check::new(name, move || {
        let _held = &token;
        async { true }
    })
    .background(Duration::from_millis(1))
}

#[tokio::test]
async fn dropping_the_last_handle_ends_every_background_task() {
    let token = Arc::new(());
    let health = working();
    let mut changes = health.subscribe();
    for name in ["a", "b", "c"] {
        health.register(holding(name, &token));
    }
    let layer = HealthLayer::new().health(health.clone());
    assert_eq!(alive_tasks(), 3);
    // Runs happened: the tasks are live, not merely spawned.
    for _ in 0..3 {
        within(changes.recv()).await.unwrap();
    }
    drop(health);
    assert_eq!(alive_tasks(), 3, "the layer still holds a handle");
    drop(layer);
    until(|| alive_tasks() == 0).await;
    assert_eq!(Arc::strong_count(&token), 1, "no copy of the check is left");
}

#[tokio::test]
async fn deregistering_replacing_or_shutting_down_ends_the_task() {
    let token = Arc::new(());
    let health = working();
    health.register(holding("a", &token));
    health.register(holding("b", &token));
    assert_eq!(alive_tasks(), 2);
    health.deregister("a");
    until(|| alive_tasks() == 1).await;
    health.replace(holding("b", &token));
    until(|| alive_tasks() == 1).await;
    assert_eq!(Arc::strong_count(&token), 2, "the test's and the new b's");

    // A clone kept by the application does not keep the task of a deregistered check.
    let kept = holding("c", &token);
    health.register(kept.clone());
    until(|| alive_tasks() == 2).await;
    health.deregister("c");
    until(|| alive_tasks() == 1).await;
    drop(kept);

    health.set_lifecycle(Lifecycle::ShuttingDown);
    until(|| alive_tasks() == 0).await;
    // Back to work: the next probe restarts it.
    health.set_lifecycle(Lifecycle::Working);
    health.evaluate(&Subject::Service).await;
    assert_eq!(alive_tasks(), 1);
}
