//! Logging in and out, and patient self-registration.

use super::super::auth::{create_session, hash_password, verify_password, Session};
use super::super::db::{refused_by, Rule};
use super::super::events::BusMessage;
use super::super::state::AppState;
use super::super::throttle;
use super::{Audit, Change};
use crate::domain::validate;
use crate::error::{AppError, AppResult};
use serde_json::json;
use sqlx::Row;

/// What a successful login or registration hands back: the cookie token.
pub struct LoggedIn {
    pub token: String,
    pub user_id: i64,
}

const BAD_CREDENTIALS: &str = "Email or password is incorrect.";

/// The failed-login limit per account, `factor` times it per address.
fn login_limit(state: &AppState, factor: i64) -> throttle::Limit {
    throttle::Limit {
        max: (state.config.login_max_failures as i64).saturating_mul(factor),
        window_secs: state.config.login_window_secs,
    }
}

fn wait_message(secs: i64) -> AppError {
    let mins = (secs + 59) / 60;
    AppError::RateLimited(format!(
        "Too many failed login attempts. Try again in {mins} minute{}.",
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
        return Err(wait_message(wait));
    }
    if let Err(wait) = throttle::reserve(&state.db, &address_key, address_limit, now).await? {
        throttle::release(&state.db, &account_key).await?;
        tracing::warn!(client = %client_addr, "login rate limited (address)");
        return Err(wait_message(wait));
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
