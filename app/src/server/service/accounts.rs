//! Logging in and out, patient self-registration, the user's own profile
//! (name, email confirmed by a link, mobile, time zone, password) and the
//! password reset by an emailed one-time link.

use super::super::auth::{
    create_session, hash_password, new_token, token_hash, verify_password, Session,
};
use super::super::db::{refused_by, Rule};
use super::super::events::BusMessage;
use super::super::notify::account::{self as mail, AccountMail, AccountNotice};
use super::super::state::AppState;
use super::super::throttle;
use super::{Audit, Change};
use crate::domain::validate;
use crate::error::{AppError, AppResult};
use crate::model::Profile;
use serde_json::json;
use sqlx::Row;

/// What a successful login or registration hands back: the cookie token.
pub struct LoggedIn {
    pub token: String,
    pub user_id: i64,
}

const BAD_CREDENTIALS: &str = "Email or password is incorrect.";

/// Failed logins in this process (a wrong email or password, and a wrong
/// current password), and logins refused by the rate limit: read by the
/// server's `/metrics`. Atomics, so counting costs nothing on the way.
pub static LOGIN_FAILURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static LOGIN_RATE_LIMITED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn count(counter: &std::sync::atomic::AtomicU64) {
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The failed-login limit per account, `factor` times it per address.
fn login_limit(state: &AppState, factor: i64) -> throttle::Limit {
    throttle::Limit {
        max: (state.config.login_max_failures as i64).saturating_mul(factor),
        window_secs: state.config.login_window_secs,
    }
}

/// "Too many <what>. Try again in N minutes."
fn wait_message(what: &str, secs: i64) -> AppError {
    let mins = (secs + 59) / 60;
    AppError::RateLimited(format!(
        "Too many {what}. Try again in {mins} minute{}.",
        if mins == 1 { "" } else { "s" }
    ))
}

#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client_addr: &str,
    user_agent: &str,
) -> AppResult<LoggedIn> {
    if email.trim().is_empty() {
        return Err(AppError::validation("Enter your email address."));
    }
    if password.is_empty() {
        return Err(AppError::validation("Enter your password."));
    }
    if password.len() > validate::MAX_PASSWORD || email.len() > validate::MAX_EMAIL {
        return Err(AppError::Unauthorized(BAD_CREDENTIALS.into()));
    }
    let email = email.trim().to_lowercase();
    let now = state.now();
    let (account_key, account_limit) = (format!("login-account:{email}"), login_limit(state, 1));
    // An address may try a few accounts (a shared clinic PC), not hundreds.
    let (address_key, address_limit) = (
        format!("login-address:{client_addr}"),
        login_limit(state, 4),
    );
    // Both places are reserved before the password is hashed, so parallel
    // guesses cannot all pass a check made before any of them is counted.
    if let Err(wait) = throttle::reserve(&state.db, &account_key, account_limit, now).await? {
        tracing::warn!(client = %client_addr, "login rate limited (account)");
        count(&LOGIN_RATE_LIMITED);
        return Err(wait_message("failed login attempts", wait));
    }
    if let Err(wait) = throttle::reserve(&state.db, &address_key, address_limit, now).await? {
        throttle::release(&state.db, &account_key).await?;
        tracing::warn!(client = %client_addr, "login rate limited (address)");
        count(&LOGIN_RATE_LIMITED);
        return Err(wait_message("failed login attempts", wait));
    }

    let row = sqlx::query("SELECT id, password_hash FROM app_user WHERE email = $1")
        .bind(&email)
        .fetch_optional(&state.db.pool)
        .await?;
    let (user_id, stored) = match row {
        Some(r) => (
            Some(r.get::<i64, _>("id")),
            Some(r.get::<String, _>("password_hash")),
        ),
        None => (None, None),
    };
    if !verify_password(password.to_string(), stored).await {
        // Both reservations stay: they are this failure.
        tracing::info!(client = %client_addr, "failed login");
        count(&LOGIN_FAILURES);
        return Err(AppError::Unauthorized(BAD_CREDENTIALS.into()));
    }
    let user_id = user_id.ok_or_else(AppError::internal)?;
    // The owner is in: the account's failures are forgotten, and this
    // attempt was not one for the address.
    throttle::clear(&state.db, &account_key).await?;
    throttle::release(&state.db, &address_key).await?;

    let mut change = Change::begin(state).await?;
    let now = change.now;
    let token = create_session(change.conn(), user_id, now, user_agent).await?;
    change
        .audit(Audit {
            actor_id: Some(user_id),
            on_behalf_of_id: None,
            clinic_id: None,
            action: "session.login",
            entity: "user",
            entity_id: user_id,
            before: None,
            after: None,
        })
        .await?;
    change.commit().await?;
    Ok(LoggedIn { token, user_id })
}

/// Ends the session and closes its live streams (on every instance).
#[tracing::instrument(skip_all)]
pub async fn logout(state: &AppState, session: &Session) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    sqlx::query("DELETE FROM user_session WHERE token_hash = $1")
        .bind(&session.token_hash)
        .execute(change.conn())
        .await?;
    change
        .audit(Audit {
            actor_id: Some(session.me.user_id),
            on_behalf_of_id: None,
            clinic_id: None,
            action: "session.logout",
            entity: "user",
            entity_id: session.me.user_id,
            before: None,
            after: None,
        })
        .await?;
    change.commit().await?;
    state
        .broadcast(BusMessage::SessionEnded {
            token_hash: session.token_hash.clone(),
        })
        .await;
    Ok(())
}

pub struct Registration {
    pub name: String,
    pub email: String,
    pub password: String,
    pub clinic_id: i64,
}

/// A patient creates their own account (and is logged in).
#[tracing::instrument(skip_all)]
pub async fn register_patient(
    state: &AppState,
    reg: Registration,
    client_addr: &str,
    user_agent: &str,
) -> AppResult<LoggedIn> {
    let name = validate::person_name(&reg.name).map_err(AppError::Validation)?;
    let email = validate::email(&reg.email).map_err(AppError::Validation)?;
    validate::new_password(&reg.password).map_err(AppError::Validation)?;
    // Every registration that gets as far as the (slow) hash counts.
    let limit = throttle::Limit {
        max: state.config.register_max_per_hour,
        window_secs: 3600,
    };
    let key = format!("register-address:{client_addr}");
    if let Err(wait) = throttle::reserve(&state.db, &key, limit, state.now()).await? {
        tracing::warn!(client = %client_addr, "registration rate limited");
        let mins = (wait + 59) / 60;
        return Err(AppError::RateLimited(format!(
            "Too many new accounts from this network. Try again in {mins} minute{}.",
            if mins == 1 { "" } else { "s" }
        )));
    }
    let hash = hash_password(reg.password).await?;

    let mut change = Change::begin(state).await?;
    let clinic: Option<String> = sqlx::query_scalar("SELECT name FROM clinic WHERE id = $1")
        .bind(reg.clinic_id)
        .fetch_optional(change.conn())
        .await?;
    if clinic.is_none() {
        return Err(AppError::validation(
            "Choose the clinic you want to book with.",
        ));
    }
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO app_user (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id",
    )
    .bind(&email)
    .bind(&name)
    .bind(&hash.0)
    .bind(change.now)
    .fetch_one(change.conn())
    .await;
    let user_id = match inserted {
        Ok(id) => id,
        Err(e) => {
            return Err(refused_by(e, Rule::UniqueEmail, || {
                AppError::conflict("An account with this email already exists. Log in instead.")
            }))
        }
    };
    sqlx::query(
        "INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, 'patient', $3)",
    )
    .bind(user_id)
    .bind(reg.clinic_id)
    .bind(change.now)
    .execute(change.conn())
    .await?;
    change
        .audit(Audit {
            actor_id: Some(user_id),
            on_behalf_of_id: None,
            clinic_id: Some(reg.clinic_id),
            action: "user.register",
            entity: "user",
            entity_id: user_id,
            before: None,
            after: Some(json!({ "name": name, "email": email, "role": "patient" })),
        })
        .await?;
    let now = change.now;
    let token = create_session(change.conn(), user_id, now, user_agent).await?;
    change.commit().await?;
    Ok(LoggedIn { token, user_id })
}

/// How long a password reset link works.
pub const RESET_VALID_SECS: i64 = 3600;
/// How long the link confirming a new email address works.
pub const EMAIL_CONFIRM_VALID_SECS: i64 = 24 * 3600;
/// Reset requests per address asked for, and per client address, per hour:
/// enough for someone who mistyped or lost the first email, too few to
/// flood a stranger's inbox or to probe addresses in bulk.
pub const RESET_MAX_PER_ACCOUNT: i64 = 3;
pub const RESET_MAX_PER_ADDRESS: i64 = 20;

/// What a one-time link is for (`account_token.purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    PasswordReset,
    EmailChange,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::EmailChange => "email_change",
        }
    }
    fn link_name(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password reset link",
            Purpose::EmailChange => "confirmation link",
        }
    }
}

/// The caller's profile, with a new address still waiting to be confirmed.
#[tracing::instrument(skip_all, fields(user = user_id))]
pub async fn profile(state: &AppState, user_id: i64) -> AppResult<Profile> {
    let (name, email, mobile, time_zone): (String, String, String, String) =
        sqlx::query_as("SELECT name, email, mobile, time_zone FROM app_user WHERE id = $1")
            .bind(user_id)
            .fetch_one(&state.db.pool)
            .await?;
    let pending_email: Option<String> = sqlx::query_scalar(
        "SELECT new_email FROM account_token WHERE user_id = $1 AND purpose = 'email_change' \
         AND used_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(state.now())
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(Profile {
        name,
        email,
        mobile,
        time_zone,
        pending_email,
    })
}

/// What the user may change on the profile form itself.
pub struct ProfileEdit {
    pub name: String,
    pub mobile: String,
    pub time_zone: String,
}

/// Saves name, mobile and time zone (each validated; nothing is saved if
/// one is wrong).
#[tracing::instrument(skip_all, fields(user = session.me.user_id))]
pub async fn update_profile(
    state: &AppState,
    session: &Session,
    edit: ProfileEdit,
) -> AppResult<()> {
    let name = validate::person_name(&edit.name).map_err(AppError::Validation)?;
    let mobile = validate::mobile(&edit.mobile).map_err(AppError::Validation)?;
    let time_zone = validate::time_zone(&edit.time_zone).map_err(AppError::Validation)?;
    let user_id = session.me.user_id;
    let mut change = Change::begin(state).await?;
    let (old_name, old_mobile, old_zone): (String, String, String) =
        sqlx::query_as("SELECT name, mobile, time_zone FROM app_user WHERE id = $1")
            .bind(user_id)
            .fetch_one(change.conn())
            .await?;
    sqlx::query("UPDATE app_user SET name = $1, mobile = $2, time_zone = $3 WHERE id = $4")
        .bind(&name)
        .bind(&mobile)
        .bind(&time_zone)
        .bind(user_id)
        .execute(change.conn())
        .await?;
    change
        .audit(Audit {
            actor_id: Some(user_id),
            on_behalf_of_id: None,
            clinic_id: None,
            action: "user.profile",
            entity: "user",
            entity_id: user_id,
            before: Some(json!({ "name": old_name, "mobile": old_mobile, "time_zone": old_zone })),
            after: Some(json!({ "name": name, "mobile": mobile, "time_zone": time_zone })),
        })
        .await?;
    change.commit().await
}

/// Checks the signed-in user's current password before a sensitive change.
/// Wrong guesses count with failed logins (the same per-account limit), so
/// a borrowed session cannot be used to guess the password either.
async fn check_current_password(
    state: &AppState,
    session: &Session,
    password: &str,
) -> AppResult<()> {
    if password.is_empty() {
        return Err(AppError::validation("Enter your current password."));
    }
    if password.len() > validate::MAX_PASSWORD {
        return Err(AppError::validation(
            "Your current password is not correct.",
        ));
    }
    let key = format!("login-account:{}", session.me.email.to_lowercase());
    if let Err(wait) =
        throttle::reserve(&state.db, &key, login_limit(state, 1), state.now()).await?
    {
        count(&LOGIN_RATE_LIMITED);
        return Err(wait_message("failed login attempts", wait));
    }
    let stored: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM app_user WHERE id = $1")
            .bind(session.me.user_id)
            .fetch_optional(&state.db.pool)
            .await?;
    if !verify_password(password.to_string(), stored).await {
        count(&LOGIN_FAILURES);
        return Err(AppError::validation(
            "Your current password is not correct.",
        ));
    }
    throttle::clear(&state.db, &key).await
}

/// Ends the user's sessions (all, or all but `keep`) inside the change;
/// returns the ended ones, whose live streams close after the commit.
async fn end_sessions(
    change: &mut Change,
    user_id: i64,
    keep: Option<&str>,
) -> AppResult<Vec<String>> {
    let keep = keep.unwrap_or("");
    let ended: Vec<String> = sqlx::query_scalar(
        "SELECT token_hash FROM user_session WHERE user_id = $1 AND token_hash <> $2",
    )
    .bind(user_id)
    .bind(keep)
    .fetch_all(change.conn())
    .await?;
    sqlx::query("DELETE FROM user_session WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(change.conn())
        .await?;
    Ok(ended)
}

async fn close_streams(state: &AppState, ended: Vec<String>) {
    for token_hash in ended {
        state
            .broadcast(BusMessage::SessionEnded { token_hash })
            .await;
    }
}

/// Changes the signed-in user's password: the current one is required;
/// every other session of the user ends, this one stays.
#[tracing::instrument(skip_all, fields(user = session.me.user_id))]
pub async fn change_password(
    state: &AppState,
    session: &Session,
    current: &str,
    new: &str,
) -> AppResult<()> {
    validate::new_password(new).map_err(AppError::Validation)?;
    if new == current {
        return Err(AppError::validation(
            "Choose a new password different from your current one.",
        ));
    }
    check_current_password(state, session, current).await?;
    let hash = hash_password(new.to_string()).await?;
    let user_id = session.me.user_id;
    let mut change = Change::begin(state).await?;
    sqlx::query("UPDATE app_user SET password_hash = $1 WHERE id = $2")
        .bind(&hash.0)
        .bind(user_id)
        .execute(change.conn())
        .await?;
    let ended = end_sessions(&mut change, user_id, Some(&session.token_hash)).await?;
    change
        .audit(password_audit("user.password_change", user_id, ended.len()))
        .await?;
    change.commit().await?;
    close_streams(state, ended).await;
    Ok(())
}

fn password_audit(action: &'static str, user_id: i64, ended: usize) -> Audit<'static> {
    Audit {
        actor_id: Some(user_id),
        on_behalf_of_id: None,
        clinic_id: None,
        action,
        entity: "user",
        entity_id: user_id,
        before: None,
        after: Some(json!({ "sessions_ended": ended })),
    }
}

/// Stores a new one-time token (its hash only) and returns the token.
async fn issue_token(
    change: &mut Change,
    user_id: i64,
    purpose: Purpose,
    new_email: &str,
    valid_secs: i64,
) -> AppResult<(String, String)> {
    let token = new_token();
    let hash = token_hash(&token);
    let now = change.now;
    sqlx::query(
        "INSERT INTO account_token (token_hash, user_id, purpose, new_email, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&hash)
    .bind(user_id)
    .bind(purpose.code())
    .bind(new_email)
    .bind(now)
    .bind(now + valid_secs)
    .execute(change.conn())
    .await?;
    Ok((token, hash))
}

/// Uses a one-time token inside the change that acts on it: the guarded
/// update lets exactly one of two concurrent uses through. Returns the
/// user and the token's new address, or why the link no longer works.
async fn use_token(change: &mut Change, token: &str, purpose: Purpose) -> AppResult<(i64, String)> {
    let what = purpose.link_name();
    let invalid = || AppError::Validation(format!("This {what} is not valid. Ask for a new one."));
    if token.is_empty() || token.len() > 100 {
        return Err(invalid());
    }
    let hash = token_hash(token);
    let now = change.now;
    let won: Option<(i64, String)> = sqlx::query_as(
        "UPDATE account_token SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 \
         AND used_at IS NULL AND expires_at > $1 RETURNING user_id, new_email",
    )
    .bind(now)
    .bind(&hash)
    .bind(purpose.code())
    .fetch_optional(change.conn())
    .await?;
    if let Some(w) = won {
        return Ok(w);
    }
    let used: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT used_at FROM account_token WHERE token_hash = $1 AND purpose = $2",
    )
    .bind(&hash)
    .bind(purpose.code())
    .fetch_optional(change.conn())
    .await?;
    Err(match used {
        None => invalid(),
        Some(Some(_)) => AppError::Conflict(format!(
            "This {what} has already been used. Ask for a new one if you need it."
        )),
        Some(None) => AppError::Validation(format!("This {what} has expired. Ask for a new one.")),
    })
}

/// "Forgot password?": emails a one-time reset link to the account with
/// this address, if there is one. The caller hears the same either way
/// (and the same limits apply to unknown addresses), so the form does not
/// tell who has an account.
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    state: &AppState,
    email: &str,
    client_addr: &str,
) -> AppResult<()> {
    let email = validate::email(email).map_err(AppError::Validation)?;
    let now = state.now();
    let per = |max| throttle::Limit {
        max,
        window_secs: 3600,
    };
    let address_key = format!("reset-address:{client_addr}");
    if let Err(wait) =
        throttle::reserve(&state.db, &address_key, per(RESET_MAX_PER_ADDRESS), now).await?
    {
        tracing::warn!(client = %client_addr, "password reset rate limited (address)");
        return Err(wait_message("password reset requests", wait));
    }
    let account_key = format!("reset-account:{email}");
    if let Err(wait) =
        throttle::reserve(&state.db, &account_key, per(RESET_MAX_PER_ACCOUNT), now).await?
    {
        tracing::warn!(client = %client_addr, "password reset rate limited (account)");
        return Err(wait_message("password reset requests", wait));
    }
    let user: Option<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM app_user WHERE email = $1")
            .bind(&email)
            .fetch_optional(&state.db.pool)
            .await?;
    let Some((user_id, name)) = user else {
        tracing::info!(client = %client_addr, "password reset asked for an unknown address");
        return Ok(());
    };
    let mut change = Change::begin(state).await?;
    let (token, hash) = issue_token(
        &mut change,
        user_id,
        Purpose::PasswordReset,
        "",
        RESET_VALID_SECS,
    )
    .await?;
    let path = format!("/reset-password?token={token}");
    mail::queue(
        &mut change,
        AccountNotice {
            kind: AccountMail::PasswordReset,
            user_id,
            name: &name,
            to: &email,
            path: &path,
            token_hash: &hash,
            valid_minutes: RESET_VALID_SECS / 60,
        },
    )
    .await?;
    change
        .audit(password_audit("user.password_reset_requested", user_id, 0))
        .await?;
    change.commit().await
}

/// Sets a new password with a reset link: the link is used up, every other
/// reset link of the user with it, and every session of the user ends.
#[tracing::instrument(skip_all)]
pub async fn reset_password(state: &AppState, token: &str, password: &str) -> AppResult<()> {
    validate::new_password(password).map_err(AppError::Validation)?;
    // Hashed before the transaction (it is slow); wasted only on a bad link.
    let hash = hash_password(password.to_string()).await?;
    let mut change = Change::begin(state).await?;
    let (user_id, _) = use_token(&mut change, token, Purpose::PasswordReset).await?;
    sqlx::query("UPDATE app_user SET password_hash = $1 WHERE id = $2")
        .bind(&hash.0)
        .bind(user_id)
        .execute(change.conn())
        .await?;
    sqlx::query(
        "UPDATE account_token SET used_at = $1 WHERE user_id = $2 \
         AND purpose = 'password_reset' AND used_at IS NULL",
    )
    .bind(change.now)
    .bind(user_id)
    .execute(change.conn())
    .await?;
    let ended = end_sessions(&mut change, user_id, None).await?;
    change
        .audit(password_audit("user.password_reset", user_id, ended.len()))
        .await?;
    let email: String = sqlx::query_scalar("SELECT email FROM app_user WHERE id = $1")
        .bind(user_id)
        .fetch_one(change.conn())
        .await?;
    change.commit().await?;
    close_streams(state, ended).await;
    // The owner proved themselves: earlier failed logins no longer count.
    throttle::clear(&state.db, &format!("login-account:{email}")).await
}

/// Asks to change the account's email: the current password is required,
/// and the new address changes nothing until the link sent to it is opened.
/// Returns the address the link went to.
#[tracing::instrument(skip_all, fields(user = session.me.user_id))]
pub async fn request_email_change(
    state: &AppState,
    session: &Session,
    new_email: &str,
    password: &str,
) -> AppResult<String> {
    let email = validate::email(new_email).map_err(AppError::Validation)?;
    if email == session.me.email.to_lowercase() {
        return Err(AppError::validation("That is already your email address."));
    }
    check_current_password(state, session, password).await?;
    let user_id = session.me.user_id;
    let mut change = Change::begin(state).await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM app_user WHERE email = $1")
        .bind(&email)
        .fetch_optional(change.conn())
        .await?;
    if taken.is_some() {
        return Err(AppError::conflict(
            "Another account already uses this email address.",
        ));
    }
    // Only the latest request stands: an earlier link stops working.
    sqlx::query(
        "UPDATE account_token SET used_at = $1 WHERE user_id = $2 \
         AND purpose = 'email_change' AND used_at IS NULL",
    )
    .bind(change.now)
    .bind(user_id)
    .execute(change.conn())
    .await?;
    let (token, hash) = issue_token(
        &mut change,
        user_id,
        Purpose::EmailChange,
        &email,
        EMAIL_CONFIRM_VALID_SECS,
    )
    .await?;
    let path = format!("/confirm-email?token={token}");
    mail::queue(
        &mut change,
        AccountNotice {
            kind: AccountMail::ConfirmEmail,
            user_id,
            name: &session.me.name,
            to: &email,
            path: &path,
            token_hash: &hash,
            valid_minutes: EMAIL_CONFIRM_VALID_SECS / 60,
        },
    )
    .await?;
    change.commit().await?;
    Ok(email)
}

/// Opens the link sent to a new address: the account's email becomes it.
/// Returns the new address.
#[tracing::instrument(skip_all)]
pub async fn confirm_email(state: &AppState, token: &str) -> AppResult<String> {
    let mut change = Change::begin(state).await?;
    let (user_id, email) = use_token(&mut change, token, Purpose::EmailChange).await?;
    let old: String = sqlx::query_scalar("SELECT email FROM app_user WHERE id = $1")
        .bind(user_id)
        .fetch_one(change.conn())
        .await?;
    let updated = sqlx::query("UPDATE app_user SET email = $1 WHERE id = $2")
        .bind(&email)
        .bind(user_id)
        .execute(change.conn())
        .await;
    if let Err(e) = updated {
        // Someone registered the address after the link was sent.
        return Err(refused_by(e, Rule::UniqueEmail, || {
            AppError::conflict("Another account now uses this email address.")
        }));
    }
    change
        .audit(Audit {
            actor_id: Some(user_id),
            on_behalf_of_id: None,
            clinic_id: None,
            action: "user.email_change",
            entity: "user",
            entity_id: user_id,
            before: Some(json!({ "email": old })),
            after: Some(json!({ "email": email })),
        })
        .await?;
    change.commit().await?;
    Ok(email)
}
