//! Storage: one sqlx `Any` pool over SQLite (the embedded default) or
//! PostgreSQL, chosen by the URL.
//!
//! Queries are written once in the SQL both databases accept: `$n`
//! placeholders (SQLite reads them as numbered parameters), times as unix
//! seconds in BIGINT columns, `RETURNING` for new ids. The two differ only in
//! their migrations and in how a write transaction starts.

use crate::error::AppError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub kind: DbKind,
    /// SQLite's writers, queued in this process (see [`Db::write_turn`]).
    writers: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// This process's turn to write on SQLite; nothing on PostgreSQL. Writing
/// ends when it is dropped.
pub type WriteTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

pub type Tx = Transaction<'static, Any>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("postgres") {
            DbKind::Postgres
        } else if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else {
            return Err(sqlx::Error::Configuration(
                format!("unsupported DATABASE_URL scheme in {url:?}: use sqlite:// or postgres://")
                    .into(),
            ));
        };
        let url = if kind == DbKind::Sqlite && !url.contains("mode=") {
            // Create the file on first run.
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_string()
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // A pooled SQLite connection is a file handle in this process:
            // it cannot go stale the way a network connection can, and the
            // ping sqlx sends before handing one out is a round trip to its
            // worker thread, taken inside the write turn by every change.
            .test_before_acquire(kind == DbKind::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if kind == DbKind::Sqlite {
                        // WAL lets readers proceed while one writer commits;
                        // busy_timeout makes a second writer wait instead of
                        // failing; foreign keys are off by default in SQLite.
                        // Pages are read through a memory map: another
                        // connection's commit empties this one's page
                        // cache, and re-reading through the map costs no
                        // system call or copy.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
                             PRAGMA mmap_size = 268435456;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        Ok(Db {
            pool,
            kind,
            writers: Default::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.kind {
            DbKind::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            DbKind::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }

    /// Waits for this process's turn to write. SQLite has one writer at a
    /// time, and a connection that finds the lock taken sleeps in SQLite's
    /// busy handler (up to 100 ms a nap) rather than being woken when it is
    /// free: under concurrent writes one write in a hundred waited most of a
    /// second. Queued here instead (first come, first served), a writer
    /// starts the moment the previous one commits. Another process on the
    /// same file still meets `busy_timeout`. Take it before the connection
    /// and hold it until the commit; never while already holding it.
    pub async fn write_turn(&self) -> WriteTurn {
        match self.kind {
            DbKind::Sqlite => Some(self.writers.clone().lock_owned().await),
            DbKind::Postgres => None,
        }
    }

    /// Starts a write transaction. On SQLite this is `BEGIN IMMEDIATE`: the
    /// write lock is taken up front, so a transaction that reads, decides and
    /// then writes cannot be overtaken between its read and its write.
    /// Callers hold [`Db::write_turn`] first.
    pub async fn begin_write(&self) -> Result<Tx, AppError> {
        let tx = match self.kind {
            DbKind::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            DbKind::Postgres => self.pool.begin().await,
        };
        Ok(tx?)
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// Logs a database failure with its detail and returns the generic error.
/// Integer ids inlined into an `IN (...)` list. Only for ids that come from
/// the database or the session, never user text. `0`, which no row has,
/// keeps an empty list valid SQL. Inlining keeps one statement shape on both
/// databases (the Any driver has no array binds).
pub fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        "0".into()
    } else {
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    }
}

/// For `map_err` where `?` cannot convert (`?` itself goes through
/// `From<sqlx::Error> for AppError`, which also logs where it happened).
#[track_caller]
pub fn db_error(e: sqlx::Error) -> AppError {
    AppError::from(e)
}

/// A stored code (a status, a kind) as its enum. An unknown value is a
/// fault in the data: logged with the column and the place, and refused,
/// never read as some default that would act on the row.
#[track_caller]
pub fn known<T>(parsed: Option<T>, column: &'static str, text: &str) -> Result<T, AppError> {
    parsed.ok_or_else(|| {
        let at = std::panic::Location::caller();
        tracing::error!(column, value = text, at = %at, "unknown code in the database");
        AppError::internal()
    })
}

/// The schema's rules a user can run into. Each is known by its constraint
/// name on PostgreSQL and by what SQLite says when it is broken (SQLite
/// names the table and columns of a unique index, and a trigger's RAISE
/// says its own name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A provider's non-cancelled appointments never overlap.
    NoDoubleBooking,
    /// One pending Now request per patient and clinic.
    OnePendingNowRequest,
    /// One pending change request per appointment.
    OnePendingChange,
    /// One account per email address.
    UniqueEmail,
    /// One service of a name per clinic.
    UniqueServiceName,
    /// One un-revoked API client of a name per clinic (migration 0022).
    UniqueApiClientName,
}

impl Rule {
    /// (PostgreSQL constraint, SQLite message).
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Rule::NoDoubleBooking => (
                "appointment_no_double_booking",
                "appointment_no_double_booking",
            ),
            Rule::OnePendingNowRequest => (
                "request_one_pending_now",
                "UNIQUE constraint failed: request.requester_id, request.clinic_id",
            ),
            Rule::OnePendingChange => (
                "request_one_pending_change",
                "UNIQUE constraint failed: request.appointment_id",
            ),
            Rule::UniqueEmail => (
                "app_user_email_key",
                "UNIQUE constraint failed: app_user.email",
            ),
            Rule::UniqueServiceName => (
                "service_clinic_id_name_key",
                "UNIQUE constraint failed: service.clinic_id, service.name",
            ),
            Rule::UniqueApiClientName => (
                "api_client_active_name",
                "UNIQUE constraint failed: api_client.clinic_id, api_client.name",
            ),
        }
    }

    /// Whether `e` is this rule refusing a write.
    pub fn broken_by(self, e: &sqlx::Error) -> bool {
        let sqlx::Error::Database(d) = e else {
            return false;
        };
        let (pg, sqlite) = self.names();
        d.constraint() == Some(pg) || d.message().contains(sqlite)
    }
}

/// For `map_err` on a write that `rule` may refuse: that refusal becomes
/// `then()`, what the user is told; any other failure is logged and
/// hidden as `From<sqlx::Error>` does.
#[track_caller]
pub fn refused_by(e: sqlx::Error, rule: Rule, then: impl FnOnce() -> AppError) -> AppError {
    if rule.broken_by(&e) {
        then()
    } else {
        AppError::from(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::appointment::AppointmentStatus;

    #[test]
    fn an_unknown_stored_code_is_refused_not_defaulted() {
        assert_eq!(
            known(
                AppointmentStatus::parse("booked"),
                "appointment.status",
                "booked"
            ),
            Ok(AppointmentStatus::Booked)
        );
        assert_eq!(
            known(
                AppointmentStatus::parse("bookd"),
                "appointment.status",
                "bookd"
            ),
            Err(AppError::internal())
        );
    }
}
