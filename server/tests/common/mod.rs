//! Test support: a fresh database per test on SQLite or PostgreSQL, the app
//! state on top of it with a manual clock, and helpers to log in.
#![allow(dead_code)]

use app::model::Me;
use app::server::auth::Session;
use app::server::clock::ManualClock;
use app::server::config::Config;
use app::server::state::AppState;
use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one test body against both databases: `both_dbs!(name, body_fn);`
/// makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_dbs {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$body($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$body($crate::common::Backend::Postgres).await
            }
        }
    };
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique() -> String {
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        Utc::now().timestamp_subsec_micros()
    )
}

/// The PostgreSQL server the test command started.
pub fn pg_admin_url() -> String {
    std::env::var("SLOTWISE_TEST_PG_URL").expect(
        "SLOTWISE_TEST_PG_URL is not set: run server/scripts/test.sh, which starts PostgreSQL \
         and sets it (postgres://user:pass@host:port/postgres)",
    )
}

/// A new, empty database for one test; returns its URL.
pub async fn fresh_database(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("slotwise-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!(
                "sqlite://{}",
                dir.join(format!("t_{}.db", unique())).display()
            )
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = pg_admin_url();
            let name = format!("slotwise_t_{}", unique());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
    }
}

/// A fixed, ordinary "now" for tests: Wednesday 2026-03-04 15:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0).unwrap()
}

pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub url: String,
}

pub fn leptos_options() -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name("slotwise")
        .build()
}

pub async fn app_on(url: String, config: Config) -> TestApp {
    // Errors the service layer logs show up in a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let clock = ManualClock::new(t0());
    let config = Config {
        database_url: url.clone(),
        ..config
    };
    let state = AppState::new(config, clock.clone(), leptos_options())
        .await
        .expect("app state");
    TestApp { state, clock, url }
}

/// A fresh database with the demo data loaded.
pub async fn demo_app(backend: Backend) -> TestApp {
    let t = app_on(
        fresh_database(backend).await,
        Config {
            demo: true,
            ..Config::default()
        },
    )
    .await;
    assert!(app::server::demo::seed_if_empty(&t.state)
        .await
        .expect("seed"));
    t
}

impl TestApp {
    /// Logs in through the service layer and resolves the session, as the
    /// middleware would for a request carrying the cookie.
    pub async fn session(&self, email: &str) -> (String, Session) {
        let done = app::server::service::accounts::login(
            &self.state,
            email,
            app::server::demo::DEMO_PASSWORD,
            "test",
            "test",
        )
        .await
        .unwrap_or_else(|e| panic!("login {email}: {e:?}"));
        let s = app::server::auth::resolve_session(
            &self.state.db,
            &self.state.config.session,
            &done.token,
            self.state.now(),
        )
        .await
        .expect("resolve")
        .expect("session valid");
        (done.token, s)
    }

    pub async fn me(&self, email: &str) -> Me {
        self.session(email).await.1.me
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn id(&self, sql: &str) -> i64 {
        self.count(sql).await
    }
}
