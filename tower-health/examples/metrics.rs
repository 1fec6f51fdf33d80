//! Health as metrics: the layer's `/health/metrics` endpoint in the Prometheus text format
//! (OpenMetrics when the scraper asks), with a passing readiness check and a warning one.
//! `POST /toggle` flips the `database` check between passing and failing.
//!
//! ```text
//! cargo run --example metrics             # PORT defaults to 3008
//! curl -i http://127.0.0.1:3008/health/metrics
//! curl -i -X POST http://127.0.0.1:3008/toggle          # database now fails
//! ```
//!
//! A Prometheus scrape job for it:
//!
//! ```yaml
//! scrape_configs:
//!   - job_name: health
//!     metrics_path: /health/metrics
//!     static_configs: [{ targets: ["127.0.0.1:3008"] }]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::{Router, routing::get, routing::post};
use tower_health::{Check, CheckResult, Health, HealthLayer, Lifecycle};

#[path = "common/serve.rs"]
mod serve;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let health = Health::new();
    let database_up = Arc::new(AtomicBool::new(true));
    let up = database_up.clone();
    health.register(
        Check::new("database", move || {
            let up = up.load(Ordering::Relaxed);
            async move {
                if up {
                    Ok(())
                } else {
                    Err("connection refused")
                }
            }
        })
        .readiness()
        .timeout(Duration::from_millis(300))
        // Run every second whether or not probes come, so the figures follow the check (a
        // scrape only reads them; it runs nothing).
        .background(Duration::from_secs(1)),
    );
    health.register(
        Check::new("queue", || async {
            CheckResult::warn("backlog is growing").observed(812, "jobs")
        })
        .readiness()
        .non_critical()
        .background(Duration::from_secs(1)),
    );
    let toggle = move || async move {
        let was = database_up.fetch_xor(true, Ordering::Relaxed);
        if was {
            "database fails\n"
        } else {
            "database passes\n"
        }
    };
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/toggle", post(toggle))
        .layer(HealthLayer::new().health(health.clone()).metrics());
    health.set_lifecycle(Lifecycle::Working);
    let paths = ["/health/metrics", "/health/ready", "/health"];
    serve::serve(app, 3008, &paths).await
}
