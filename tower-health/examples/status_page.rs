//! The status page (feature `ui`): an axum app whose checks run in the background, with the page
//! on its own port for everyone (names, no messages) and on an operator port that shows the
//! failure messages too. `POST /flip` on the app flips the `cache` check.
//!
//! ```text
//! cargo run --example status_page --features ui     # PORT 3020, OPERATOR_PORT 3021
//! open http://127.0.0.1:3020/health/ui
//! curl -X POST http://127.0.0.1:3020/flip
//! ```
//!
//! `CANARY_PORT` names the port a check's hostile message points its image at (the browser test
//! listens there: a page that ran the markup would request it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::{Router, routing::post};
use tower_health::{Check, CheckResult, Exposure, Health, HealthLayer, Lifecycle};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = |name: &str, default: u16| {
        std::env::var(name)
            .ok()
            .and_then(|port| port.parse().ok())
            .unwrap_or(default)
    };
    let (public_port, operator_port) = (port("PORT", 3020), port("OPERATOR_PORT", 3021));
    let canary = port("CANARY_PORT", 9);

    let health = Health::new();
    health.keep_history(20);
    let every = Duration::from_millis(200);
    health.register(
        Check::new("database", || async { true })
            .background(every)
            .component_type("datastore"),
    );
    let cache_up = Arc::new(AtomicBool::new(true));
    let up = cache_up.clone();
    health.register(
        Check::new("cache", move || {
            let up = up.load(Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(if up { 2 } else { 9 })).await;
                if up {
                    CheckResult::pass()
                } else {
                    CheckResult::fail("cache at 10.0.0.9:6379 refused the connection")
                }
            }
        })
        .background(every),
    );
    // A message that would load an image and rewrite the title if the page ran it.
    let hostile = format!(
        "<img src=\"http://127.0.0.1:{canary}/x\" onerror=\"document.title='pwned'\">\
         </script><script>document.title='pwned'</script>"
    );
    health.register(
        Check::new("payments", move || {
            let hostile = hostile.clone();
            async move { CheckResult::fail(hostile) }
        })
        .background(every)
        .non_critical(),
    );

    let flip = post(move || async move {
        let was = cache_up.fetch_xor(true, Ordering::SeqCst);
        if was {
            "cache is down\n"
        } else {
            "cache is up\n"
        }
    });
    let app = Router::new().route("/flip", flip).layer(
        HealthLayer::new()
            .health(health.clone())
            .status_page()
            .history(),
    );
    let operator = Router::new().layer(
        HealthLayer::new()
            .health(health.clone())
            .exposure(Exposure::Messages)
            .status_page(),
    );

    let public = tokio::net::TcpListener::bind(("127.0.0.1", public_port)).await?;
    let internal = tokio::net::TcpListener::bind(("127.0.0.1", operator_port)).await?;
    println!(
        "status page on http://{}/health/ui, with messages on http://{}/health/ui",
        public.local_addr()?,
        internal.local_addr()?
    );
    health.set_lifecycle(Lifecycle::Working);
    let operator_server = tokio::spawn(async move { axum::serve(internal, operator).await });
    axum::serve(public, app).await?;
    operator_server.abort();
    Ok(())
}
