//! A standalone health listener on an address of its own, for applications that do not want
//! health on their main port (py-12f-common's health check server).
//!
//! It serves a [`HealthLayer`] (so the same [`Health`] handle, registry and
//! state as the application's layer) over HTTP/1.1, answers 404 to every other path, and is
//! configured from the environment:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HEALTH_CHECK` | on, unless unset, empty, `false`, `0`, `no` or `off` (any case) | off |
//! | `HEALTH_CHECK_HOST` | the address to listen on | `127.0.0.1` |
//! | `HEALTH_CHECK_PORT` | the port | `8008` |
//!
//! While it is off, setting the lifecycle state logs the warning
//! `An attempt was made to set service state but health check is not running`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tower_health::listener::{HealthListener, ListenerConfig};
//! use tower_health::{Health, HealthLayer, Lifecycle, preset::Py12fCommon};
//!
//! let health = Health::new();
//! let layer = HealthLayer::with_endpoints(Py12fCommon::new("orders")).health(health.clone());
//! let listener = HealthListener::start(&ListenerConfig::from_env()?, layer).await?;
//! health.set_lifecycle(Lifecycle::Working);
//! // ... the application runs ...
//! health.set_lifecycle(Lifecycle::ShuttingDown);
//! listener.shutdown().await;
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Empty;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tower_layer::Layer;
use tower_service::Service;

use crate::Health;
use crate::http::HealthLayer;

/// The wait after a failed accept before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Where the standalone listener listens, and whether it runs at all.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListenerConfig {
    /// Whether it runs.
    pub enabled: bool,
    /// The host or address to listen on.
    pub host: String,
    /// The port (0 picks a free one).
    pub port: u16,
}

impl Default for ListenerConfig {
    /// Off, `127.0.0.1:8008`.
    fn default() -> Self {
        ListenerConfig {
            enabled: false,
            host: "127.0.0.1".to_owned(),
            port: 8008,
        }
    }
}

/// A `HEALTH_CHECK_PORT` that is not a port number.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    value: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HEALTH_CHECK_PORT is not a port number: {:?}",
            self.value
        )
    }
}

impl std::error::Error for ConfigError {}

impl ListenerConfig {
    /// Reads `HEALTH_CHECK`, `HEALTH_CHECK_HOST` and `HEALTH_CHECK_PORT` from the process
    /// environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the same variables from `vars` (name, value pairs); other names are ignored.
    ///
    /// ```
    /// use tower_health::listener::ListenerConfig;
    ///
    /// let config = ListenerConfig::from_vars([("HEALTH_CHECK", "1"), ("HEALTH_CHECK_PORT", "9000")])?;
    /// assert!(config.enabled);
    /// assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 9000));
    /// assert!(!ListenerConfig::from_vars([("HEALTH_CHECK", "off")])?.enabled);
    /// # Ok::<(), tower_health::listener::ConfigError>(())
    /// ```
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = ListenerConfig::default();
        for (name, value) in vars {
            let value = value.as_ref().trim();
            match name.as_ref() {
                "HEALTH_CHECK" => config.enabled = is_on(value),
                "HEALTH_CHECK_HOST" if !value.is_empty() => config.host = value.to_owned(),
                "HEALTH_CHECK_PORT" if !value.is_empty() => {
                    config.port = value.parse().map_err(|_| ConfigError {
                        value: value.to_owned(),
                    })?;
                }
                _ => {}
            }
        }
        Ok(config)
    }
}

fn is_on(value: &str) -> bool {
    !["", "false", "0", "no", "off"]
        .iter()
        .any(|off| value.eq_ignore_ascii_case(off))
}

/// A running (or, when configured off, absent) standalone listener; it stops when dropped or
/// shut down.
pub struct HealthListener {
    addr: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl HealthListener {
    /// How long a connection may take to send a request's headers before it is closed.
    pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Binds and starts serving `layer` when `config` is enabled, logging
    /// `Health check serving on HOST:PORT/PATH`; otherwise starts nothing. Must be called within
    /// a Tokio runtime.
    pub async fn start(config: &ListenerConfig, layer: HealthLayer) -> std::io::Result<Self> {
        let health = layer.handle().clone();
        if !config.enabled {
            warn_on_state_changes(&health);
            return Ok(HealthListener {
                addr: None,
                shutdown: None,
                task: None,
            });
        }
        let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
        let addr = listener.local_addr()?;
        tracing::info!(
            "Health check serving on {}:{}{}",
            config.host,
            addr.port(),
            layer.first_path()
        );
        let service = layer.layer(NotFound);
        let (shutdown, mut stop) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    accepted = listener.accept() => {
                        let stream = match accepted {
                            Ok((stream, _)) => stream,
                            Err(error) => {
                                // Out of file descriptors, say: retrying at once would spin.
                                tracing::debug!(%error, "health listener: accept failed");
                                tokio::time::sleep(ACCEPT_BACKOFF).await;
                                continue;
                            }
                        };
                        let service = TowerToHyperService::new(service.clone());
                        connections.spawn(async move {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .timer(TokioTimer::new())
                                .header_read_timeout(HealthListener::HEADER_READ_TIMEOUT)
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                    // Reap finished connections so the set does not grow.
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
            connections.abort_all();
            warn_on_state_changes(&health);
        });
        Ok(HealthListener {
            addr: Some(addr),
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// The address it listens on, `None` when configured off.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Whether it is serving.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|task| !task.is_finished())
    }

    /// Stops accepting, closes its connections and waits until it has stopped.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HealthListener {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl fmt::Debug for HealthListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthListener")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// What the listener answers for paths that are not health paths.
#[derive(Clone, Copy, Debug)]
struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<Empty<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<B>) -> Self::Future {
        let mut response = Response::new(Empty::new());
        *response.status_mut() = StatusCode::NOT_FOUND;
        ready(Ok(response))
    }
}

/// py-12f-common's warning when the application sets the lifecycle state while no listener
/// serves it (configured off, or stopped), logged for each change until the handle is gone.
fn warn_on_state_changes(health: &Health) {
    let mut states = health.watch_lifecycle();
    states.mark_unchanged();
    tokio::spawn(async move {
        while states.changed().await.is_ok() {
            tracing::warn!(
                "An attempt was made to set service state but health check is not running"
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_values_disable_it() {
        for off in ["", "false", "FALSE", "0", "no", "Off", " off "] {
            let config = ListenerConfig::from_vars([("HEALTH_CHECK", off)]).unwrap();
            assert!(!config.enabled, "{off:?}");
        }
        for on in ["1", "true", "yes", "on", "anything"] {
            let config = ListenerConfig::from_vars([("HEALTH_CHECK", on)]).unwrap();
            assert!(config.enabled, "{on:?}");
        }
        assert!(
            !ListenerConfig::from_vars(std::iter::empty::<(&str, &str)>())
                .unwrap()
                .enabled
        );
    }

    #[test]
    fn host_and_port_default_and_parse() {
        let config = ListenerConfig::from_vars([("HEALTH_CHECK", "1")]).unwrap();
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 8008));
        let config = ListenerConfig::from_vars([
            ("HEALTH_CHECK", "1"),
            ("HEALTH_CHECK_HOST", "0.0.0.0"),
            ("HEALTH_CHECK_PORT", "9100"),
            ("PATH", "/usr/bin"),
        ])
        .unwrap();
        assert_eq!((config.host.as_str(), config.port), ("0.0.0.0", 9100));
        let error = ListenerConfig::from_vars([("HEALTH_CHECK_PORT", "http")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "HEALTH_CHECK_PORT is not a port number: \"http\""
        );
    }
}
