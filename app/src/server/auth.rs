//! Passwords and login sessions.
//!
//! Passwords are hashed with Argon2id on the blocking thread pool (hashing is
//! deliberately slow and would stall the async workers). Session cookies carry
//! a random token; only its SHA-256 is stored, so a copy of the database does
//! not let anyone log in.

use super::db::{known, Db};
use crate::domain::live::Viewer;
use crate::domain::role::Role;
use crate::domain::session::{SessionCheck, SessionPolicy};
use crate::error::{AppError, AppResult};
use crate::model::{Me, Membership};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

pub const SESSION_COOKIE: &str = "slotwise_session";

/// A password hash. Never serialised, never sent to a browser.
pub struct PasswordHashString(pub String);

pub async fn hash_password(password: String) -> AppResult<PasswordHashString> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| PasswordHashString(h.to_string()))
    })
    .await
    .map_err(|_| AppError::internal())?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::internal()
    })
}

/// Verifies a password. With no stored hash (unknown account) it still does
/// the same work against a fixed hash, so response time does not reveal
/// which email addresses have accounts.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
        let ok = PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}

/// An Argon2id hash (default parameters) of a random string nobody knows.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(new_token().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// A resolved, valid login session (server-side only).
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub me: Me,
}

impl Session {
    pub fn viewer(&self) -> Viewer {
        Viewer {
            user_id: self.me.user_id,
            staff_clinics: self.me.staff_clinics(),
        }
    }
}

/// Starts a session for the user (inside the caller's transaction) and
/// returns the token for the cookie.
pub async fn create_session(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    now: i64,
    user_agent: &str,
) -> AppResult<String> {
    let token = new_token();
    let ua: String = user_agent.chars().take(200).collect();
    sqlx::query(
        "INSERT INTO user_session (token_hash, user_id, created_at, last_seen_at, user_agent) \
         VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(ua)
    .execute(conn)
    .await?;
    Ok(token)
}

pub async fn delete_session(db: &Db, token_hash: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM user_session WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Looks up a session by cookie token, applying the idle and absolute
/// timeouts. Expired sessions are deleted on sight.
pub async fn resolve_session(
    db: &Db,
    policy: &SessionPolicy,
    token: &str,
    now: i64,
) -> AppResult<Option<Session>> {
    let hash = token_hash(token);
    let row = sqlx::query_as::<_, SessionRow>(
        "SELECT s.user_id, s.created_at, s.last_seen_at, u.name, u.email \
         FROM user_session s JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user_id = row.user_id;
    match policy.check(row.created_at, row.last_seen_at, now) {
        SessionCheck::IdleExpired | SessionCheck::AbsoluteExpired => {
            delete_session(db, &hash).await?;
            Ok(None)
        }
        SessionCheck::Valid { touch } => {
            if touch {
                sqlx::query("UPDATE user_session SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(now)
                    .bind(&hash)
                    .execute(&db.pool)
                    .await?;
            }
            let memberships = load_memberships(db, user_id).await?;
            Ok(Some(Session {
                token_hash: hash,
                me: Me {
                    user_id,
                    name: row.name,
                    email: row.email,
                    memberships,
                },
            }))
        }
    }
}

/// A session with its user.
#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: i64,
    created_at: i64,
    last_seen_at: i64,
    name: String,
    email: String,
}

/// Whether a session still exists and is within its timeouts (read only).
pub async fn session_alive(db: &Db, policy: &SessionPolicy, token_hash: &str, now: i64) -> bool {
    let row =
        sqlx::query("SELECT created_at, last_seen_at FROM user_session WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&db.pool)
            .await;
    match row {
        Ok(Some(r)) => matches!(
            policy.check(r.get("created_at"), r.get("last_seen_at"), now),
            SessionCheck::Valid { .. }
        ),
        Ok(None) => false,
        // A database hiccup does not log anyone out.
        Err(_) => true,
    }
}

pub async fn load_memberships(db: &Db, user_id: i64) -> AppResult<Vec<Membership>> {
    let rows = sqlx::query_as::<_, MembershipRow>(
        "SELECT m.clinic_id, c.name AS clinic_name, m.role FROM membership m \
         JOIN clinic c ON c.id = m.clinic_id \
         WHERE m.user_id = $1 ORDER BY c.name, m.role",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    // An unknown role is an error, not a membership quietly dropped: the
    // user would lose (or keep) access without anyone being told.
    rows.into_iter()
        .map(|r| {
            Ok(Membership {
                clinic_id: r.clinic_id,
                clinic_name: r.clinic_name,
                role: known(Role::parse(&r.role), "membership.role", &r.role)?,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    clinic_id: i64,
    clinic_name: String,
    role: String,
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(token: &str, policy: &SessionPolicy, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        policy.absolute_secs,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Reads the session token from a `Cookie` header.
pub fn token_from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .map(str::trim)
        .find_map(|kv| kv.strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .filter(|t| !t.is_empty() && t.len() <= 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_token_is_found_among_others() {
        assert_eq!(
            token_from_cookie_header("a=1; slotwise_session=abc; b=2"),
            Some("abc")
        );
        assert_eq!(token_from_cookie_header("slotwise_session_x=abc"), None);
        assert_eq!(token_from_cookie_header("slotwise_session="), None);
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn cookie_flags() {
        let p = SessionPolicy::default();
        let c = session_cookie("t", &p, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"));
        assert!(!session_cookie("t", &p, false).contains("Secure"));
    }

    #[tokio::test]
    async fn passwords_verify_and_unknown_accounts_fail() {
        let h = hash_password("correct horse".into()).await.unwrap();
        assert!(verify_password("correct horse".into(), Some(h.0.clone())).await);
        assert!(!verify_password("wrong horse".into(), Some(h.0)).await);
        assert!(!verify_password("correct horse".into(), None).await);
    }
}
