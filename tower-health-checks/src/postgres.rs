//! The PostgreSQL check: `SELECT 1` through the application's sqlx pool.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tower_health::{Check, CheckResult, HealthCheck};

use crate::{DATASTORE, elapsed_ms, error_chain, ready_made};

/// Runs `SELECT 1` through an sqlx [`PgPool`] the application already has: passes when it
/// answers, fails with the database's error otherwise (never with the connection string or
/// password).
///
/// A pool that cannot hand out a connection in time fails the check by its timeout, so a
/// probe never waits for the pool's own (much longer) acquire timeout. Observes the query's
/// round trip in `ms`. Component type `datastore`, default timeout 500 ms.
///
/// ```no_run
/// # async fn demo() -> Result<(), sqlx::Error> {
/// use tower_health::Health;
/// use tower_health_checks::Postgres;
///
/// let pool = sqlx::PgPool::connect_lazy("postgres://app@db/orders")?;
/// Health::new().register(Postgres::new(pool).into_check("postgres"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Postgres {
    pool: PgPool,
}

impl Postgres {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

    /// A check through `pool` (a clone shares the application's connections).
    pub fn new(pool: PgPool) -> Self {
        Postgres { pool }
    }

    /// The check named `name`, with component type `datastore` and a 500 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        ready_made(name, self, DATASTORE, Self::DEFAULT_TIMEOUT).dependency()
    }
}

impl HealthCheck for Postgres {
    async fn check(&self) -> CheckResult {
        let started = Instant::now();
        match sqlx::query("SELECT 1").execute(&self.pool).await {
            Ok(_) => CheckResult::pass().observed(elapsed_ms(started), "ms"),
            Err(e) => CheckResult::fail(format!("SELECT 1 failed: {}", error_chain(&e))),
        }
    }
}
