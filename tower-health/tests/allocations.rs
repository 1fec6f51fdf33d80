//! The pass-through path adds no heap allocation: a counting global allocator compares the bare
//! inner service with the same service behind `HealthLayer`, request by request.

// A counting global allocator implements `GlobalAlloc`, which is `unsafe` by definition.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::task::{Context, Waker};

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::{Layer, Service};
use tower_health::{Check, Health, HealthLayer, Lifecycle};

#[path = "common/in_process.rs"]
mod in_process;

use in_process::{App, now, serve};

/// Counts the allocations made by the current thread, so tests running in parallel on other
/// threads do not disturb the count.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the allocator may run while the thread-local is being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const REQUESTS: usize = 1_000;

fn requests(path: &str) -> Vec<Request<Full<Bytes>>> {
    (0..REQUESTS)
        .map(|_| {
            Request::get(path)
                .body(Full::new(Bytes::from_static(b"")))
                .unwrap()
        })
        .collect()
}

/// Allocations made while `service` answers every request (poll_ready, call, poll to the end).
/// The requests are built and the response vector reserved before counting starts.
fn allocations_per_request<S, B>(service: &mut S, requests: Vec<Request<Full<Bytes>>>) -> f64
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible>,
{
    let n = requests.len();
    let mut responses = Vec::with_capacity(n);
    let before = allocations();
    for request in requests {
        responses.push(serve(service, request));
    }
    let after = allocations();
    assert!(responses.iter().all(|r| r.status() == StatusCode::OK));
    (after - before) as f64 / n as f64
}

fn layer_with_checks() -> HealthLayer {
    let health = Health::new();
    for name in ["db", "cache", "queue"] {
        health.register(Check::new(name, || async { true }));
    }
    health.set_lifecycle(Lifecycle::Working);
    HealthLayer::new().health(health)
}

#[test]
fn pass_through_adds_no_allocation() {
    let bare = allocations_per_request(&mut App, requests("/orders/42"));
    let mut layered = layer_with_checks().layer(App);
    let through = allocations_per_request(&mut layered, requests("/orders/42"));
    assert_eq!(through, bare, "allocations per pass-through request");
    // Paths that look like health paths but are not go through just as cheaply.
    for path in ["/health/", "/healthz", "/health/ready/a/b", "/HEALTH"] {
        let through = allocations_per_request(&mut layered, requests(path));
        assert_eq!(through, bare, "allocations per request to {path}");
    }
}

#[test]
fn pass_through_on_a_clone_per_request_adds_no_allocation() {
    // Servers such as hyper-util's adapter clone the service for every request.
    let mut cx = Context::from_waker(Waker::noop());
    let count = |mut call: Box<dyn FnMut(Request<Full<Bytes>>) -> StatusCode>| {
        let requests = requests("/orders/42");
        let before = allocations();
        for request in requests {
            assert_eq!(call(request), StatusCode::OK);
        }
        allocations() - before
    };
    let bare = count(Box::new(|request| {
        let mut app = App.clone();
        assert!(app.poll_ready(&mut cx).is_ready());
        now(app.call(request)).unwrap().status()
    }));
    let mut cx = Context::from_waker(Waker::noop());
    let layered = layer_with_checks().layer(App);
    let through = count(Box::new(move |request| {
        let mut service = layered.clone();
        assert!(service.poll_ready(&mut cx).is_ready());
        now(service.call(request)).unwrap().status()
    }));
    assert_eq!(through, bare);
}

#[test]
fn axum_router_wrapped_by_the_layer_adds_no_allocation() {
    let router = || Router::new().route("/orders/{id}", get(|| async { "order" }));
    let mut bare = router();
    let mut layered = layer_with_checks().layer(router());
    // Warm up: the router builds some state on its first requests.
    let _ = allocations_per_request_router(&mut bare);
    let _ = allocations_per_request_router(&mut layered);
    let bare = allocations_per_request_router(&mut bare);
    let through = allocations_per_request_router(&mut layered);
    assert!(
        bare > 0.0,
        "the router itself allocates, so the count is live"
    );
    assert_eq!(through, bare);
}

fn allocations_per_request_router<S, B>(service: &mut S) -> f64
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible>,
    B: http_body::Body,
{
    allocations_per_request(service, requests("/orders/42"))
}

#[test]
fn health_answers_are_counted_too() {
    // The counter sees the health path's own allocations (a boxed future, the JSON body), so a
    // zero above is not a blind spot of the allocator.
    let bare = allocations_per_request(&mut App, requests("/health/live"));
    let mut layered = layer_with_checks().layer(App);
    let live = allocations_per_request(&mut layered, requests("/health/live"));
    assert!(live > bare, "{live} > {bare}");
    let response = now(layered.call(Request::get("/health/live").body(Full::default()).unwrap()));
    let body = now(response.unwrap().into_body().collect()).unwrap();
    assert_eq!(&body.to_bytes()[..], br#"{"status":"pass"}"#);
}

#[test]
fn keeping_a_passing_runs_history_allocates_nothing_per_run() {
    // Readiness with caching off runs the three checks on every request (they complete at once,
    // inline): the history records each run under the check's lock.
    let answers = |keep: usize| {
        let layer = layer_with_checks();
        layer
            .handle()
            .set_default_cache_ttl(std::time::Duration::ZERO);
        layer.handle().keep_history(keep);
        let mut service = layer.layer(App);
        // The first runs allocate each ring once, to its length; the count starts after them.
        allocations_per_request(&mut service, requests("/health/ready"));
        allocations_per_request(&mut service, requests("/health/ready"))
    };
    let off = answers(0);
    let on = answers(60);
    assert!(off > 0.0, "the counter sees the runs");
    assert_eq!(
        on, off,
        "allocations per uncached readiness answer, history on and off"
    );
}
