//! The graceful drain before a shutdown.

use std::time::Duration;

use futures_util::future::{Either, select};

use crate::health::{Health, Lifecycle};

/// Graceful drain: the shutdown signal to hand to a server.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_health::{Drain, Health, HealthLayer, Lifecycle};
///
/// let health = Health::new();
/// health.set_lifecycle(Lifecycle::Working);
/// let service = tower::ServiceBuilder::new()
///     .layer(HealthLayer::new().health(health.clone()))
///     .service_fn(|_| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let drain = Drain::new(health.clone()).delay(Duration::from_millis(50));
/// let drained = tokio::spawn(drain.signal());
///
/// // SIGTERM or Ctrl-C start the drain; so does the state.
/// health.set_lifecycle(Lifecycle::ShuttingDown);
/// let request = Request::get("/health/ready").body(String::new()).unwrap();
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
/// assert_eq!(response.headers()["connection"], "close");
/// // After the delay the future resolves: the server stops accepting.
/// drained.await.unwrap();
/// # }
/// ```
///
/// On SIGTERM (what Kubernetes sends to stop a pod), Ctrl-C, or the state being set to
/// [`Lifecycle::ShuttingDown`] by the application, [`Drain::signal`] sets the state to shutting
/// down (readiness fails, gRPC reports `NOT_SERVING` and ends its `Watch` streams), waits the
/// drain delay ([`Drain::delay`], default 5 s) so that endpoint removal reaches kube-proxy and
/// load balancers and they stop sending new requests, then resolves. The server then stops
/// accepting connections and finishes the requests in flight: none is cut. Pass the future to
/// `axum::serve(..).with_graceful_shutdown`, hyper-util's accept loop, or tonic's
/// `serve_with_shutdown`:
///
/// ```no_run
/// use std::time::Duration;
/// use axum::{Router, routing::get};
/// use tower_health::{Drain, Health, HealthLayer, Lifecycle};
///
/// # async fn run() -> std::io::Result<()> {
/// let health = Health::new();
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(HealthLayer::new().health(health.clone()));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// health.set_lifecycle(Lifecycle::Working);
/// axum::serve(listener, app)
///     .with_graceful_shutdown(Drain::new(health).delay(Duration::from_secs(5)).signal())
///     .await
/// # }
/// ```
///
/// With tonic: `Server::builder()...serve_with_shutdown(addr, Drain::new(health).signal())`.
///
/// # Keep-alive connections
///
/// While shutting down, every HTTP/1 answer of the layer (pass-through ones included) carries
/// `Connection: close`: a keep-alive client opens its next request on a new connection, which a
/// balancer sends elsewhere, instead of writing it on a connection that the server closes when
/// the delay ends. HTTP/2 has no such header; there the server sends GOAWAY when the drain
/// future resolves (`axum::serve`'s graceful shutdown, hyper-util's `GracefulShutdown`, tonic's
/// `serve_with_shutdown` all do), and clients open new streams elsewhere.
///
/// Measured with 64 keep-alive connections busy through a TCP proxy that routes as kube-proxy
/// does (new connections go to a backend that passes `/health/ready`, open ones stay where they
/// are) in front of two instances of the axum example, one of which gets SIGTERM and drains for
/// 2 s: without `Connection: close` its 32 pinned connections each lost the request they had
/// written when it closed them (32 and 33 lost in two runs); with it, 0 lost in three runs
/// (62,000–77,000 requests each): every pinned connection moved to the other instance during
/// the delay.
///
/// # Kubernetes
///
/// Kubernetes takes a terminating pod out of its Service's endpoints at once, whatever the probe
/// says; the delay covers the time kube-proxy, ingress controllers and cloud load balancers take
/// to notice. A load balancer that learns only from its own health check needs the delay to
/// exceed that check's `interval × unhealthy threshold`. Background checks stop when the state
/// becomes `ShuttingDown`; liveness keeps answering.
/// `tower-health/examples/kubernetes/deployment.yaml` shows the matching settings for an
/// `httpGet` and a `grpc` deployment:
///
/// - `timeoutSeconds: 1` (the kubelet's default) above the checks' default timeout of 800 ms, so
///   a slow dependency fails its check instead of timing out the probe;
/// - `terminationGracePeriodSeconds` (30) larger than the drain delay plus the longest request;
/// - a startup probe (`/health/startup`, gRPC service `startup`) so that liveness does not kill
///   a slow start; liveness tolerant (3 failures, 10 s apart); readiness quick (2 failures, 5 s
///   apart);
/// - the server listening on `0.0.0.0` in the pod, since the kubelet probes the pod's IP. Keep
///   the drain delay shorter than liveness' `failureThreshold × periodSeconds` when liveness uses
///   gRPC, which reports `NOT_SERVING` while draining.
///
/// Listening for signals needs a tokio runtime with its IO driver, as `#[tokio::main]` and every
/// server runtime have. tokio's `signal` feature is part of the core dependencies rather than a
/// feature of this crate: every deployment on Kubernetes needs the drain, and the feature adds only
/// a small crate to the tokio a server already has.
#[derive(Clone, Debug)]
pub struct Drain {
    health: Health,
    delay: Duration,
    signals: bool,
}

impl Drain {
    /// How long the drain waits by default between failing readiness and stopping the server:
    /// long enough for endpoint removal to reach kube-proxy and ingress controllers, well within
    /// Kubernetes' default `terminationGracePeriodSeconds` of 30.
    pub const DEFAULT_DELAY: Duration = Duration::from_secs(5);

    /// The drain of `health`, triggered by SIGTERM, Ctrl-C or the shutting-down state, with the
    /// [default delay](Self::DEFAULT_DELAY).
    pub fn new(health: Health) -> Self {
        Drain {
            health,
            delay: Self::DEFAULT_DELAY,
            signals: true,
        }
    }

    /// How long to wait after failing readiness before the server stops accepting.
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Does not listen for SIGTERM and Ctrl-C: only `set_lifecycle(Lifecycle::ShuttingDown)` starts the
    /// drain (for applications that handle signals themselves, and for tests).
    #[must_use]
    pub fn without_signals(mut self) -> Self {
        self.signals = false;
        self
    }

    /// The future to pass to `with_graceful_shutdown` (axum, hyper-util) or `serve_with_shutdown`
    /// (tonic): resolves once the drain is triggered and the delay has passed. The future is
    /// `Send`, for servers that spawn it.
    pub async fn signal(self) {
        let trigger = self.triggered().await;
        tracing::info!(trigger, delay = ?self.delay, "shutting down: draining");
        self.health.set_lifecycle(Lifecycle::ShuttingDown);
        tokio::time::sleep(self.delay).await;
        tracing::info!("drain over: the server stops accepting");
    }

    /// Waits for the first trigger; says which.
    async fn triggered(&self) -> &'static str {
        let mut state = self.health.watch_lifecycle();
        let shutting_down = Box::pin(async move {
            // The sender lives in `health`, so this only returns on the state.
            let _ = state
                .wait_for(|state| *state == Lifecycle::ShuttingDown)
                .await;
        });
        if !self.signals {
            shutting_down.await;
            return "state";
        }
        match select(shutting_down, Box::pin(os_signal())).await {
            Either::Left(_) => "state",
            Either::Right((signal, _)) => signal,
        }
    }
}

/// Waits for SIGTERM or Ctrl-C (SIGINT); a signal that cannot be listened for is logged and
/// never fires.
async fn os_signal() -> &'static str {
    let ctrl_c = Box::pin(async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(error) => never(error).await,
        }
    });
    #[cfg(unix)]
    let terminate = Box::pin(async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
                "SIGTERM"
            }
            Err(error) => never(error).await,
        }
    });
    #[cfg(not(unix))]
    let terminate = Box::pin(std::future::pending::<&'static str>());
    match select(ctrl_c, terminate).await {
        Either::Left((signal, _)) | Either::Right((signal, _)) => signal,
    }
}

async fn never(error: std::io::Error) -> &'static str {
    tracing::warn!(%error, "cannot listen for a shutdown signal");
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_state_triggers_the_drain_which_waits_the_delay() {
        let health = Health::new();
        health.set_lifecycle(Lifecycle::Working);
        let drain = tokio::spawn(
            Drain::new(health.clone())
                .delay(Duration::from_secs(10))
                .without_signals()
                .signal(),
        );
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!drain.is_finished(), "resolved without a trigger");
        health.set_lifecycle(Lifecycle::ShuttingDown);
        tokio::time::sleep(Duration::from_secs(9)).await;
        assert!(!drain.is_finished(), "resolved before the delay");
        tokio::time::sleep(Duration::from_secs(2)).await;
        drain.await.unwrap();
        assert_eq!(health.lifecycle(), Lifecycle::ShuttingDown);
    }
}
