//! Attempt limits kept in the database, so every instance and a restart
//! share them: failed logins per account and per client address,
//! registrations per client address.
//!
//! An attempt *reserves* its place in one atomic statement before the slow
//! work (the deliberately expensive password hash), and the reservation is
//! kept (a failure) or released (a success) after it. Checking first and
//! counting afterwards let every guess that arrived while earlier ones were
//! hashing through: a burst of any size now gets at most `max` attempts in.
//!
//! A window starts with its first attempt and lasts `window_secs`; once it
//! has passed, the next attempt starts a new one.

use super::db::Db;
use crate::error::AppResult;

/// At most `max` attempts per `window_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: i64,
    pub window_secs: i64,
}

/// Reserves one attempt under `key`: `Ok(())` when it may go ahead, or the
/// seconds until the window reopens. Atomic on both databases: an upsert
/// that only counts while under the limit (SQLite runs one writer at a
/// time; PostgreSQL locks the key's row and re-checks the condition).
pub async fn reserve(db: &Db, key: &str, limit: Limit, now: i64) -> AppResult<Result<(), i64>> {
    let expired = now - limit.window_secs;
    let turn = db.write_turn().await;
    let counted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO attempt_throttle (key, window_start, used) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           used = CASE WHEN attempt_throttle.window_start <= $3 THEN 1 \
                       ELSE attempt_throttle.used + 1 END, \
           window_start = CASE WHEN attempt_throttle.window_start <= $3 THEN $2 \
                               ELSE attempt_throttle.window_start END \
         WHERE attempt_throttle.window_start <= $3 OR attempt_throttle.used < $4 \
         RETURNING used",
    )
    .bind(key)
    .bind(now)
    .bind(expired)
    .bind(limit.max)
    .fetch_optional(&db.pool)
    .await?;
    drop(turn);
    if counted.is_some() {
        return Ok(Ok(()));
    }
    let start: Option<i64> =
        sqlx::query_scalar("SELECT window_start FROM attempt_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&db.pool)
            .await?;
    Ok(Err(wait_secs(start.unwrap_or(now), limit, now)))
}

/// Gives back a reservation that turned out not to count (a successful
/// login is not a failure).
pub async fn release(db: &Db, key: &str) -> AppResult<()> {
    let _turn = db.write_turn().await;
    sqlx::query("UPDATE attempt_throttle SET used = used - 1 WHERE key = $1 AND used > 0")
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets every attempt under `key` (an account's failures after its
/// owner logs in).
pub async fn clear(db: &Db, key: &str) -> AppResult<()> {
    let _turn = db.write_turn().await;
    sqlx::query("DELETE FROM attempt_throttle WHERE key = $1")
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Seconds until a window that started at `start` reopens (at least 1: a
/// refused attempt is never told "try again in 0 minutes").
pub fn wait_secs(start: i64, limit: Limit, now: i64) -> i64 {
    start
        .saturating_add(limit.window_secs)
        .saturating_sub(now)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_runs_to_the_end_of_the_window_and_is_never_zero() {
        let limit = Limit {
            max: 5,
            window_secs: 900,
        };
        assert_eq!(wait_secs(1_000, limit, 1_000), 900);
        assert_eq!(wait_secs(1_000, limit, 1_899), 1);
        assert_eq!(wait_secs(1_000, limit, 1_900), 1);
        assert_eq!(wait_secs(i64::MAX, limit, 0), i64::MAX);
    }
}
