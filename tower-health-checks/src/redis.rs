//! The Redis check: `PING` through the application's async connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::ConnectionLike;
use tower_health::{Check, CheckResult, HealthCheck};

use crate::{DATASTORE, elapsed_ms, error_chain, ready_made};

/// Sends `PING` through a `redis` async connection the application already has (a
/// `ConnectionManager` or a `MultiplexedConnection`; any clonable `ConnectionLike`): passes on
/// `PONG`, fails with the error otherwise (never with the URL or password).
///
/// Observes the round trip in `ms`. Component type `datastore`, default timeout 500 ms.
///
/// ```no_run
/// # async fn demo() -> redis::RedisResult<()> {
/// use tower_health::Health;
/// use tower_health_checks::Redis;
///
/// let client = redis::Client::open("redis://cache.internal/")?;
/// let connection = client.get_multiplexed_async_connection().await?;
/// Health::new().register(Redis::new(connection).into_check("redis"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Redis<C> {
    connection: C,
}

impl<C> std::fmt::Debug for Redis<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl<C> Redis<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

    /// A check through `connection` (each run uses a clone, which shares it).
    pub fn new(connection: C) -> Self {
        Redis { connection }
    }

    /// The check named `name`, with component type `datastore` and a 500 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        ready_made(name, self, DATASTORE, Self::DEFAULT_TIMEOUT).dependency()
    }
}

impl<C> HealthCheck for Redis<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn check(&self) -> CheckResult {
        let mut connection = self.connection.clone();
        let started = Instant::now();
        match redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
        {
            Ok(reply) if reply == "PONG" => CheckResult::pass().observed(elapsed_ms(started), "ms"),
            Ok(reply) => CheckResult::fail(format!(
                "PING answered {:?} instead of PONG",
                reply.chars().take(64).collect::<String>()
            )),
            Err(e) => CheckResult::fail(format!("PING failed: {}", error_chain(&e))),
        }
    }
}
