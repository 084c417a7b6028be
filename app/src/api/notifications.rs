//! Server functions for Account > Notifications, the Outbox and the dev
//! Mailbox.

use crate::error::AppError;
use crate::model::{MailboxMessage, NotificationSettings, NotifyChoice, OutboxFilter, OutboxView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// `user_id` none: the caller's own settings.
#[server(prefix = "/api", endpoint = "notification_settings")]
pub async fn get_notification_settings(
    #[server(default)] user_id: Option<i64>,
) -> Result<NotificationSettings, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::notifications::settings(&ctx::state()?, &s.me, user_id).await
    })
    .await
}

/// `choices`: every ticked event and channel (none: no notifications).
#[server(prefix = "/api", endpoint = "save_notification_settings")]
pub async fn save_notification_settings(
    user_id: i64,
    #[server(default)] choices: Vec<NotifyChoice>,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let mut picked = Vec::with_capacity(choices.len());
        for c in choices {
            if !picked.contains(&(c.event, c.channel)) {
                picked.push((c.event, c.channel));
            }
        }
        service::notifications::save(&ctx::state()?, &s.me, user_id, picked).await
    })
    .await
}

/// `clinic_id` none: the first of the caller's clinics.
#[server(prefix = "/api", endpoint = "outbox")]
pub async fn outbox(
    #[server(default)] clinic_id: Option<i64>,
    #[server(default)] status: OutboxFilter,
) -> Result<OutboxView, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::notifications::outbox(&ctx::state()?, &s.me, clinic_id, status).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "retry_message")]
pub async fn retry_message(id: i64) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::notifications::retry(&ctx::state()?, &s.me, id).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "mailbox")]
pub async fn mailbox() -> Result<Vec<MailboxMessage>, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::notifications::mailbox(&ctx::state()?, &s.me).await
    })
    .await
}

/// Whether the caller has a calendar feed.
#[server(prefix = "/api", endpoint = "calendar_feed_status")]
pub async fn calendar_feed_status() -> Result<bool, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::calendar_feed::exists(&ctx::state()?, &s.me).await
    })
    .await
}

/// A new private feed URL (shown once), ending any earlier one.
#[server(prefix = "/api", endpoint = "create_calendar_feed")]
pub async fn create_calendar_feed() -> Result<String, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let state = ctx::state()?;
        let path = service::calendar_feed::create(&state, &s.me).await?;
        let base = state
            .config
            .public_url
            .clone()
            .or_else(|| ctx::header(http::header::HOST).map(|h| format!("http://{h}")))
            .unwrap_or_default();
        Ok(format!("{base}{path}"))
    })
    .await
}

#[server(prefix = "/api", endpoint = "revoke_calendar_feed")]
pub async fn revoke_calendar_feed() -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::calendar_feed::revoke(&ctx::state()?, &s.me).await
    })
    .await
}

/// Whether the caller's calendar feed shows patient names in event titles.
#[server(prefix = "/api", endpoint = "calendar_feed_names")]
pub async fn calendar_feed_names() -> Result<bool, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::calendar_feed::shows_patient_names(&ctx::state()?, &s.me).await
    })
    .await
}

/// Opts in to (or out of) patient names in the caller's calendar feed.
#[server(prefix = "/api", endpoint = "set_calendar_feed_names")]
pub async fn set_calendar_feed_names(on: bool) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::calendar_feed::set_patient_names(&ctx::state()?, &s.me, on).await
    })
    .await
}
