//! Reminders (issue 15, point 1): the clinic's settings (admins), and the
//! pages a reminder's Confirm and Cancel links open (`/r/<token>`, plain
//! server-rendered HTML with no script: see service/reminders.rs).

use crate::error::AppError;
use crate::model::ReminderSettingsView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// `clinic_id` none: the first clinic where the caller is admin (as the
/// Clinic settings page starts).
#[server(prefix = "/api", endpoint = "reminder_settings")]
pub async fn get_reminder_settings(
    #[server(default)] clinic_id: Option<i64>,
) -> Result<ReminderSettingsView, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::reminders::settings(&ctx::state()?, &s.me, clinic_id.unwrap_or(0)).await
    })
    .await
}

/// Saves the clinic's reminders: `on`, `email` and `sms` are checkboxes
/// (present when ticked); the offsets are minutes before the start, the
/// second blank for none.
#[server(prefix = "/api", endpoint = "save_reminder_settings")]
pub async fn save_reminder_settings(
    clinic_id: i64,
    #[server(default)] on: Option<String>,
    first_minutes: String,
    #[server(default)] second_minutes: String,
    #[server(default)] email: Option<String>,
    #[server(default)] sms: Option<String>,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let minutes = |v: &str, which: &str| {
            v.trim().parse::<i64>().map_err(|_| {
                AppError::validation(format!(
                    "Enter the {which} reminder's time before the start in whole minutes."
                ))
            })
        };
        let settings = crate::domain::reminder::ReminderSettings {
            on: on.is_some(),
            first_minutes: minutes(&first_minutes, "first")?,
            second_minutes: match second_minutes.trim() {
                "" => None,
                v => Some(minutes(v, "second")?),
            },
            email: email.is_some(),
            sms: sms.is_some(),
        };
        service::reminders::save_settings(&ctx::state()?, &s.me, clinic_id, settings).await
    })
    .await
}

/// The axum handlers of a reminder link's page (mounted by the server's
/// router at `/r/{token}`): GET shows, POST acts.
#[cfg(feature = "ssr")]
pub mod link {
    use crate::server::service::reminders::{self, LinkPage};
    use crate::server::state::AppState;
    use axum::extract::{Path, State};
    use axum::http::{header, StatusCode};
    use axum::response::{IntoResponse, Response};

    fn answer(page: crate::error::AppResult<LinkPage>) -> Response {
        match page {
            Ok(p) => (
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::OK),
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    // The page holds a one-time token: never cached.
                    (header::CACHE_CONTROL, "no-store"),
                ],
                p.html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e.message(), "reminder link");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong. Please try again.",
                )
                    .into_response()
            }
        }
    }

    pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
        answer(reminders::open_link(&state, &token).await)
    }

    pub async fn act(State(state): State<AppState>, Path(token): Path<String>) -> Response {
        answer(reminders::use_link(&state, &token).await)
    }
}
