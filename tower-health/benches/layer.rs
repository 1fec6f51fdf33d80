//! In-process benchmarks of `HealthLayer` (divan): the pass-through cost against the bare inner
//! service, readiness with five checks, and one detailed answer with 1 to 1,000 checks.
//!
//! ```text
//! cargo bench --bench layer                       # everything
//! cargo bench --bench layer -- pass_through       # one group
//! ```
//!
//! What each benchmark measures and the figures of a run are in BENCHMARKS.md.

use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use divan::{AllocProfiler, Bencher, black_box};
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::{Layer, Service};
use tower_health::{Check, Exposure, Health, HealthLayer, Lifecycle};

#[path = "../tests/common/in_process.rs"]
mod in_process;

use in_process::{App, serve};

// Counts allocations too: divan prints them beside each timing.
#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

fn request(path: &'static str) -> Request<Full<Bytes>> {
    Request::get(path).body(Full::default()).unwrap()
}

/// A layer serving `health`, as an application would configure it.
fn layer(health: &Health) -> HealthLayer {
    health.set_lifecycle(Lifecycle::Working);
    HealthLayer::new().health(health.clone())
}

/// Five trivially passing readiness checks.
fn five_checks(cache: Cache) -> Health {
    let health = Health::new();
    if let Cache::Off = cache {
        health.set_default_cache_ttl(Duration::ZERO);
    }
    for name in ["postgres", "redis", "kafka", "s3", "auth"] {
        health.register(Check::new(name, || async { true }).readiness());
    }
    health
}

/// Whether check results are cached between requests.
#[derive(Clone, Copy, Debug)]
enum Cache {
    /// The default: a result is reused for `Health::DEFAULT_CACHE_TTL` (1 s).
    Default,
    /// `set_default_cache_ttl(Duration::ZERO)`: every request runs the checks.
    Off,
}

/// A request that is not a health path: the cost the layer adds to every application request.
mod pass_through {
    use super::*;

    /// The inner service alone.
    #[divan::bench]
    fn bare(bencher: Bencher<'_, '_>) {
        let mut app = App;
        bencher
            .with_inputs(|| request("/orders/42"))
            .bench_local_values(|request| serve(&mut app, request));
    }

    /// The same service behind `HealthLayer` with its default endpoints and five checks.
    #[divan::bench]
    fn layered(bencher: Bencher<'_, '_>) {
        let mut service = layer(&five_checks(Cache::Default)).layer(App);
        bencher
            .with_inputs(|| request("/orders/42"))
            .bench_local_values(|request| serve(&mut service, request));
    }

    /// A path that shares the health prefix but is not a health path (the worst case of routing).
    #[divan::bench]
    fn layered_near_miss(bencher: Bencher<'_, '_>) {
        let mut service = layer(&five_checks(Cache::Default)).layer(App);
        bencher
            .with_inputs(|| request("/health/ready/a/b"))
            .bench_local_values(|request| serve(&mut service, request));
    }

    /// As servers built on hyper-util do: a clone of the service per request.
    #[divan::bench]
    fn layered_clone_per_request(bencher: Bencher<'_, '_>) {
        let service = layer(&five_checks(Cache::Default)).layer(App);
        bencher
            .with_inputs(|| request("/orders/42"))
            .bench_local_values(|request| serve(&mut service.clone(), request));
    }

    fn router() -> Router {
        Router::new().route("/orders/{id}", get(|| async { "order" }))
    }

    /// An axum router alone.
    #[divan::bench]
    fn axum_bare(bencher: Bencher<'_, '_>) {
        let mut router = router();
        bencher
            .with_inputs(|| request("/orders/42"))
            .bench_local_values(|request| serve(&mut router, request));
    }

    /// The same router wrapped by the layer.
    #[divan::bench]
    fn axum_layered(bencher: Bencher<'_, '_>) {
        let mut service = layer(&five_checks(Cache::Default)).layer(router());
        bencher
            .with_inputs(|| request("/orders/42"))
            .bench_local_values(|request| serve(&mut service, request));
    }
}

/// Health answers, driven to the end of the body on a current-thread tokio runtime.
mod answer {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    /// One answer to `request`, body included: polled once as a server would poll it (an answer
    /// ready when `call` returns needs nothing more), driven on `runtime` only when it waits.
    /// The request is built outside the timing, as the pass-through benchmarks build theirs.
    fn answer<S>(
        runtime: &tokio::runtime::Runtime,
        service: &mut S,
        request: Request<Full<Bytes>>,
    ) -> (StatusCode, Bytes)
    where
        S: Service<
                Request<Full<Bytes>>,
                Response = Response<tower_health::HealthBody<Full<Bytes>>>,
            >,
        S::Error: std::fmt::Debug,
    {
        let mut cx = Context::from_waker(Waker::noop());
        assert!(service.poll_ready(&mut cx).is_ready());
        let mut future = pin!(service.call(request));
        let response = match future.as_mut().poll(&mut cx) {
            Poll::Ready(response) => response,
            Poll::Pending => runtime.block_on(future),
        }
        .unwrap();
        let status = response.status();
        let mut body = pin!(response.into_body());
        let mut bytes = Bytes::new();
        loop {
            match body.as_mut().poll_frame(&mut cx) {
                Poll::Ready(Some(frame)) => {
                    if let Ok(data) = frame.unwrap().into_data() {
                        bytes = data;
                    }
                }
                Poll::Ready(None) => return (status, bytes),
                Poll::Pending => {
                    let rest = runtime.block_on(body.collect()).unwrap().to_bytes();
                    return (status, [bytes, rest].concat().into());
                }
            }
        }
    }

    /// Times answers to requests for `path` (built outside the timing), each asserted to have
    /// `status`, dropped inside the timing as a server drops them.
    fn answers<S>(bencher: Bencher<'_, '_>, service: &mut S, path: &'static str, status: StatusCode)
    where
        S: Service<
                Request<Full<Bytes>>,
                Response = Response<tower_health::HealthBody<Full<Bytes>>>,
            >,
        S::Error: std::fmt::Debug,
    {
        let runtime = runtime();
        let _context = runtime.enter();
        bencher
            .with_inputs(|| request(path))
            .bench_local_values(|request| {
                let (answered, body) = answer(&runtime, service, request);
                assert_eq!(answered, status);
                drop(black_box(body));
            });
    }

    /// Liveness with no liveness checks: the layer's own cost of a health answer.
    #[divan::bench]
    fn liveness(bencher: Bencher<'_, '_>) {
        let mut service = layer(&five_checks(Cache::Default)).layer(App);
        answers(bencher, &mut service, "/health/live", StatusCode::OK);
    }

    /// Readiness with five trivially passing checks: answered from their cached results (the
    /// default) and running them on every request (cache off).
    #[divan::bench(args = [Cache::Default, Cache::Off])]
    fn readiness_five_checks(bencher: Bencher<'_, '_>, cache: Cache) {
        let mut service = layer(&five_checks(cache)).layer(App);
        answers(bencher, &mut service, "/health/ready", StatusCode::OK);
    }

    /// Readiness from five cached results with the metrics endpoint on: each answer is also
    /// counted for `tower_health_requests_total`.
    #[divan::bench]
    fn readiness_five_checks_metrics_on(bencher: Bencher<'_, '_>) {
        let mut service = layer(&five_checks(Cache::Default)).metrics().layer(App);
        answers(bencher, &mut service, "/health/ready", StatusCode::OK);
    }

    /// One scrape of `/health/metrics` with five checks that have run.
    #[divan::bench]
    fn metrics_scrape_five_checks(bencher: Bencher<'_, '_>) {
        let mut service = layer(&five_checks(Cache::Default)).metrics().layer(App);
        answer(&runtime(), &mut service, request("/health/ready"));
        answers(bencher, &mut service, "/health/metrics", StatusCode::OK);
    }

    /// One detailed answer (`/health`, messages shown) with `n` checks that pass at once, cache
    /// off.
    #[divan::bench(args = [1, 10, 100, 1000])]
    fn detailed_checks_instant(bencher: Bencher<'_, '_>, n: usize) {
        detailed(bencher, n, None);
    }

    /// One detailed answer with `n` checks that each take 1 ms: concurrent, so about 1 ms for
    /// any `n`.
    #[divan::bench(args = [1, 10, 100, 1000], sample_count = 20)]
    fn detailed_checks_1ms(bencher: Bencher<'_, '_>, n: usize) {
        detailed(bencher, n, Some(Duration::from_millis(1)));
    }

    fn detailed(bencher: Bencher<'_, '_>, n: usize, wait: Option<Duration>) {
        let health = Health::new();
        // Every answer runs every check: the scaling of the runs, not of cached results.
        health.set_default_cache_ttl(Duration::ZERO);
        for i in 0..n {
            health.register(Check::new(format!("check-{i}"), move || async move {
                if let Some(wait) = wait {
                    tokio::time::sleep(wait).await;
                }
                true
            }));
        }
        let mut service = layer(&health).exposure(Exposure::Messages).layer(App);
        answers(bencher, &mut service, "/health", StatusCode::OK);
    }
}
