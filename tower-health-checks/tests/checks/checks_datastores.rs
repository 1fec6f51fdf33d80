//! The PostgreSQL and Redis checks against real servers.
//!
//! The tests that need a running server read its URL from `TOWER_HEALTH_TEST_POSTGRES_URL` or
//! `TOWER_HEALTH_TEST_REDIS_URL`, which `scripts/with-test-services.sh` sets:
//!
//! ```text
//! scripts/with-test-services.sh cargo test --all-features
//! ```
//!
//! Where a variable is not set they say so on stderr and return. The tests against a closed port
//! or a listener that never answers need no server and always run.

#![cfg(any(feature = "postgres", feature = "redis"))]

use std::io::Write;

/// The URL in `var`, or `None` after saying on stderr (past the test harness's capture) that
/// `test` did not run.
fn server_url(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "NOT RUN: {test}: {var} is not set; run \
                 `scripts/with-test-services.sh cargo test --all-features` to test against a \
                 real server"
            );
            None
        }
    }
}

/// `url` with its password replaced by `password`.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').unwrap();
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    format!("{scheme}://{user}:{password}@{host}")
}

/// The password in `url`.
fn password_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let userinfo = rest.split_once('@').unwrap().0;
    userinfo.split_once(':').unwrap().1.to_owned()
}

#[cfg(feature = "postgres")]
mod postgres {
    use std::time::Duration;

    use sqlx::postgres::PgPoolOptions;
    use tower_health::{RunEnd, Status};
    use tower_health_checks::Postgres;

    use super::{password_of, server_url, with_password};
    use crate::checks::{closed_port, message, rendered, run, silent_listener};

    const VAR: &str = "TOWER_HEALTH_TEST_POSTGRES_URL";

    fn lazy_pool(url: &str) -> sqlx::PgPool {
        PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(200))
            .connect_lazy(url)
            .unwrap()
    }

    #[tokio::test]
    async fn passes_against_a_real_server() {
        let Some(url) = server_url(VAR, "postgres::passes_against_a_real_server") else {
            return;
        };
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let report = run(Postgres::new(pool).into_check("postgres")).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("datastore"));
        assert_eq!(report.result.observed_unit.as_deref(), Some("ms"));
    }

    #[tokio::test]
    async fn fails_on_a_wrong_password_without_showing_either() {
        let Some(url) = server_url(VAR, "postgres::fails_on_a_wrong_password") else {
            return;
        };
        let wrong = "not-the-password-1234";
        let check = Postgres::new(lazy_pool(&with_password(&url, wrong))).into_check("postgres");
        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        let message = message(&report);
        assert!(
            message.contains("password authentication failed for user \"tower_health\""),
            "{message}"
        );
        assert!(!message.contains(wrong), "{message}");
        assert!(!message.contains(&password_of(&url)), "{message}");
        let body = rendered(check).await.to_string();
        assert!(body.contains("password authentication failed"), "{body}");
        assert!(!body.contains(wrong), "{body}");
    }

    #[tokio::test]
    async fn fails_when_nothing_listens_without_showing_the_password() {
        let addr = closed_port().await;
        let url = format!("postgres://tower_health:pg-secret-5678@{addr}/postgres");
        let report = run(Postgres::new(lazy_pool(&url)).into_check("postgres")).await;
        assert_eq!(report.status(), Status::Fail);
        // sqlx retries refused connections until the pool's acquire timeout.
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        let message = message(&report);
        assert!(message.starts_with("SELECT 1 failed: "), "{message}");
        assert!(!message.contains("pg-secret-5678"), "{message}");
    }

    #[tokio::test]
    async fn times_out_when_the_server_never_answers() {
        let silent = silent_listener().await;
        let url = format!("postgres://tower_health:pg-secret@{}/postgres", silent.addr);
        let pool = PgPoolOptions::new().connect_lazy(&url).unwrap();
        let report = run(Postgres::new(pool)
            .into_check("postgres")
            .timeout(Duration::from_millis(300)))
        .await;
        assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
        assert_eq!(report.status(), Status::Fail);
    }
}

#[cfg(feature = "redis")]
mod redis {
    use std::time::Duration;

    use redis::aio::{ConnectionManager, ConnectionManagerConfig};
    use tower_health::{RunEnd, Status};
    use tower_health_checks::Redis;

    use super::{password_of, server_url, with_password};
    use crate::checks::{closed_port, message, rendered, run, silent_listener};

    const VAR: &str = "TOWER_HEALTH_TEST_REDIS_URL";

    /// A connection manager that connects on first use and does not retry.
    fn lazy_manager(url: &str) -> ConnectionManager {
        let client = redis::Client::open(url).unwrap();
        ConnectionManager::new_lazy_with_config(
            client,
            ConnectionManagerConfig::new().set_number_of_retries(0),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn passes_against_a_real_server_through_either_connection() {
        let Some(url) = server_url(VAR, "redis::passes_against_a_real_server") else {
            return;
        };
        let client = redis::Client::open(url.as_str()).unwrap();
        let multiplexed = client.get_multiplexed_async_connection().await.unwrap();
        let report = run(Redis::new(multiplexed).into_check("redis")).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("datastore"));
        assert_eq!(report.result.observed_unit.as_deref(), Some("ms"));

        let manager = ConnectionManager::new(client).await.unwrap();
        let report = run(Redis::new(manager).into_check("redis")).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
    }

    #[tokio::test]
    async fn fails_on_a_wrong_password_without_showing_either() {
        let Some(url) = server_url(VAR, "redis::fails_on_a_wrong_password") else {
            return;
        };
        let wrong = "not-the-password-1234";
        let check = Redis::new(lazy_manager(&with_password(&url, wrong))).into_check("redis");
        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        let message = message(&report);
        assert!(message.starts_with("PING failed: "), "{message}");
        assert!(
            message.to_lowercase().contains("authentication failed"),
            "{message}"
        );
        assert!(!message.contains(wrong), "{message}");
        assert!(!message.contains(&password_of(&url)), "{message}");
        let body = rendered(check).await.to_string();
        assert!(body.contains("PING failed"), "{body}");
        assert!(!body.contains(wrong), "{body}");
    }

    #[tokio::test]
    async fn fails_when_nothing_listens_without_showing_the_password() {
        let addr = closed_port().await;
        let url = format!("redis://default:redis-secret-5678@{addr}/");
        let report = run(Redis::new(lazy_manager(&url)).into_check("redis")).await;
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(report.end, RunEnd::Completed, "{report:?}");
        let message = message(&report);
        assert!(message.starts_with("PING failed: "), "{message}");
        assert!(message.contains("refused"), "{message}");
        assert!(!message.contains("redis-secret-5678"), "{message}");
    }

    #[tokio::test]
    async fn times_out_when_the_server_never_answers() {
        let silent = silent_listener().await;
        let url = format!("redis://default:redis-secret@{}/", silent.addr);
        let report = run(Redis::new(lazy_manager(&url))
            .into_check("redis")
            .timeout(Duration::from_millis(300)))
        .await;
        assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
        assert_eq!(report.status(), Status::Fail);
    }
}
