//! Signing in and out, registering, and what a visitor sees before
//! logging in (demo accounts, the clinics). Calls `service::accounts`
//! and `service::clinics`.

use crate::error::AppError;
use leptos::prelude::*;

use crate::model::{ClinicOption, DemoLogin, Me, Profile};
#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// The logged-in user, or None.
#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    Ok(ctx::session().map(|s| s.me))
}

/// Demo accounts, listed on the login page in demo mode only.
#[server(prefix = "/api", endpoint = "demo_logins")]
pub async fn demo_logins() -> Result<Vec<DemoLogin>, AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        Ok(if state.config.demo {
            crate::server::demo::demo_logins()
        } else {
            Vec::new()
        })
    })
    .await
}

/// Only same-site paths are followed after login (no open redirect).
#[cfg(any(feature = "ssr", test))]
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        String::new()
    }
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String, next: String) -> Result<(), AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        let ua = ctx::header(http::header::USER_AGENT).unwrap_or_default();
        let done =
            service::accounts::login(&state, &email, &password, &ctx::client_addr(), &ua).await?;
        let me = crate::server::auth::load_memberships(&state.db, done.user_id).await?;
        ctx::set_cookie(&crate::server::auth::session_cookie(
            &done.token,
            &state.config.session,
            ctx::secure_cookies(&state),
        ));
        let next = safe_next(&next);
        let home = crate::model::home_path(&me);
        leptos_axum::redirect(if next.is_empty() { home } else { &next });
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        if let Some(session) = ctx::session() {
            service::accounts::logout(&state, &session).await?;
        }
        ctx::set_cookie(&crate::server::auth::clear_cookie(ctx::secure_cookies(
            &state,
        )));
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "register")]
pub async fn register(
    name: String,
    email: String,
    password: String,
    clinic_id: i64,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        let ua = ctx::header(http::header::USER_AGENT).unwrap_or_default();
        let done = service::accounts::register_patient(
            &state,
            service::accounts::Registration {
                name,
                email,
                password,
                clinic_id,
            },
            &ctx::client_addr(),
            &ua,
        )
        .await?;
        ctx::set_cookie(&crate::server::auth::session_cookie(
            &done.token,
            &state.config.session,
            ctx::secure_cookies(&state),
        ));
        let next = safe_next(&next);
        leptos_axum::redirect(if next.is_empty() { "/portal" } else { &next });
        Ok(())
    })
    .await
}

/// Clinics and their services (public: the portal and registration list them).
#[server(prefix = "/api", endpoint = "clinics")]
pub async fn clinic_options() -> Result<Vec<ClinicOption>, AppError> {
    ctx::run(async { service::clinics::clinic_options(&ctx::state()?).await }).await
}

/// The caller's own profile (Account › Profile).
#[server(prefix = "/api", endpoint = "profile")]
pub async fn my_profile() -> Result<Profile, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::accounts::profile(&ctx::state()?, s.me.user_id).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "save_profile")]
pub async fn save_profile(name: String, mobile: String, time_zone: String) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let edit = service::accounts::ProfileEdit {
            name,
            mobile,
            time_zone,
        };
        service::accounts::update_profile(&ctx::state()?, &s, edit).await
    })
    .await
}

/// Sends a confirmation link to the new address; returns that address.
#[server(prefix = "/api", endpoint = "change_email")]
pub async fn change_email(new_email: String, password: String) -> Result<String, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::accounts::request_email_change(&ctx::state()?, &s, &new_email, &password).await
    })
    .await
}

/// The link sent to a new address, opened: returns the account's new email.
#[server(prefix = "/api", endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<String, AppError> {
    ctx::run(async { service::accounts::confirm_email(&ctx::state()?, &token).await }).await
}

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::accounts::change_password(&ctx::state()?, &s, &current_password, &new_password)
            .await
    })
    .await
}

/// "Forgot password?": the same answer whether or not the account exists.
#[server(prefix = "/api", endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        service::accounts::request_password_reset(&state, &email, &ctx::client_addr()).await
    })
    .await
}

/// Sets a new password with an emailed link; every session of the user ends.
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    ctx::run(async { service::accounts::reset_password(&ctx::state()?, &token, &password).await })
        .await
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next("/dispatch"), "/dispatch");
        assert_eq!(safe_next("https://evil.test"), "");
        assert_eq!(safe_next("//evil.test"), "");
        assert_eq!(safe_next("/\\evil.test"), "");
    }
}
