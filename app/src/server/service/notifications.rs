//! Account > Notifications (each care-team member's choice of email and SMS
//! per event; clinic admins edit their providers'), the admins' Outbox
//! page, and the dev Mailbox.

use super::super::db::id_list;
use super::super::state::AppState;
use super::super::zones;
use super::{authz, Audit, Change};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::notify::{Channel, NotifyEvent};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{
    MailboxMessage, Me, NotificationRow, NotificationSettings, OutboxEntry, OutboxView,
};
use serde_json::json;
use sqlx::Row;
use std::collections::HashSet;

/// Whose settings `me` may see and change: their own (staff only; patients
/// always get email), or, for a clinic admin, any provider of their clinics.
async fn may_edit(state: &AppState, me: &Me, user_id: i64) -> AppResult<()> {
    if !me.is_staff() {
        return Err(AppError::forbidden(
            "Notification settings are for clinic staff. Patients always receive email about their appointments.",
        ));
    }
    if user_id == me.user_id {
        return Ok(());
    }
    let admin_of = authz::clinics_where(me, |r| r == Role::Admin);
    if admin_of.is_empty() {
        return Err(AppError::forbidden(
            "Only a clinic admin can change another provider's notifications.",
        ));
    }
    let ids: Vec<i64> = admin_of.iter().map(|c| c.0).collect();
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM membership WHERE user_id = $1 AND role = 'provider' \
         AND clinic_id IN ({})",
        id_list(&ids)
    ))
    .bind(user_id)
    .fetch_one(&state.db.pool)
    .await?;
    if n == 0 {
        return Err(AppError::not_found(
            "That provider is not in one of your clinics.",
        ));
    }
    Ok(())
}

/// The providers an admin may pick (with themselves first); empty for
/// everyone else.
async fn choices(state: &AppState, me: &Me) -> AppResult<Vec<(i64, String)>> {
    let admin_of: Vec<i64> = authz::clinics_where(me, |r| r == Role::Admin)
        .iter()
        .map(|c| c.0)
        .collect();
    if admin_of.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT DISTINCT u.id, u.name FROM app_user u JOIN membership m ON m.user_id = u.id \
         WHERE m.role = 'provider' AND m.clinic_id IN ({}) AND u.id <> $1 ORDER BY u.name",
        id_list(&admin_of)
    ))
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = vec![(me.user_id, format!("{} (you)", me.name))];
    out.extend(
        rows.iter()
            .map(|r| (r.get::<i64, _>("id"), r.get::<String, _>("name"))),
    );
    Ok(out)
}

#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn settings(
    state: &AppState,
    me: &Me,
    user_id: Option<i64>,
) -> AppResult<NotificationSettings> {
    let user_id = user_id.filter(|id| *id > 0).unwrap_or(me.user_id);
    may_edit(state, me, user_id).await?;
    let u = sqlx::query("SELECT name, email, mobile FROM app_user WHERE id = $1")
        .bind(user_id)
        .fetch_one(&state.db.pool)
        .await?;
    let chosen: HashSet<(String, String)> =
        sqlx::query("SELECT event, channel FROM notification_preference WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&state.db.pool)
            .await?
            .iter()
            .map(|r| (r.get("event"), r.get("channel")))
            .collect();
    let on = |e: NotifyEvent, c: Channel| chosen.contains(&(e.as_str().into(), c.as_str().into()));
    Ok(NotificationSettings {
        user_id,
        name: u.get("name"),
        email: u.get("email"),
        mobile: u.get("mobile"),
        rows: NotifyEvent::ALL
            .into_iter()
            .map(|e| NotificationRow {
                event: e.as_str().into(),
                label: e.label().into(),
                email: on(e, Channel::Email),
                sms: on(e, Channel::Sms),
            })
            .collect(),
        choices: choices(state, me).await?,
    })
}

/// Replaces a user's choices. SMS needs a mobile number on the profile.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn save(
    state: &AppState,
    me: &Me,
    user_id: i64,
    picked: Vec<(NotifyEvent, Channel)>,
) -> AppResult<()> {
    may_edit(state, me, user_id).await?;
    let mut change = Change::begin(state).await?;
    let mobile: String = sqlx::query_scalar("SELECT mobile FROM app_user WHERE id = $1")
        .bind(user_id)
        .fetch_one(change.conn())
        .await?;
    if mobile.trim().is_empty() && picked.iter().any(|(_, c)| *c == Channel::Sms) {
        return Err(AppError::validation(
            "There is no mobile number on this profile, so SMS cannot be chosen. Add one first or choose email.",
        ));
    }
    let before: Vec<String> = sqlx::query(
        "SELECT event, channel FROM notification_preference WHERE user_id = $1 ORDER BY event, channel",
    )
    .bind(user_id)
    .fetch_all(change.conn())
    .await?
    .iter()
    .map(|r| {
        format!(
            "{}:{}",
            r.get::<String, _>("event"),
            r.get::<String, _>("channel")
        )
    })
    .collect();
    sqlx::query("DELETE FROM notification_preference WHERE user_id = $1")
        .bind(user_id)
        .execute(change.conn())
        .await?;
    for (e, c) in &picked {
        sqlx::query(
            "INSERT INTO notification_preference (user_id, event, channel) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(e.as_str())
        .bind(c.as_str())
        .execute(change.conn())
        .await?;
    }
    let after: Vec<String> = picked
        .iter()
        .map(|(e, c)| format!("{}:{}", e.as_str(), c.as_str()))
        .collect();
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: (user_id != me.user_id).then_some(user_id),
            clinic_id: None,
            action: "notification.settings",
            entity: "user",
            entity_id: user_id,
            before: Some(json!(before)),
            after: Some(json!(after)),
        })
        .await?;
    change
        .emit(LiveEvent {
            topic: topic::ACCOUNT.into(),
            action: "notifications".into(),
            entity_id: user_id,
            clinic_id: None,
            user_ids: vec![user_id, me.user_id],
            at_us: 0,
        })
        .await?;
    change.commit().await
}

const SHOWN: i64 = 200;

/// The Outbox page: a clinic's messages (admins), newest first, with the
/// counts per status.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn outbox(
    state: &AppState,
    me: &Me,
    clinic_id: Option<i64>,
    status: crate::model::OutboxFilter,
) -> AppResult<OutboxView> {
    let clinics = authz::clinics_where(me, |r| r == Role::Admin);
    let Some(first) = clinics.first() else {
        return Err(AppError::forbidden("Only clinic admins see the Outbox."));
    };
    let clinic_id = clinic_id
        .filter(|c| clinics.iter().any(|x| x.0 == *c))
        .unwrap_or(first.0);
    let status = match status {
        crate::model::OutboxFilter::All => None,
        crate::model::OutboxFilter::Pending => Some("pending"),
        crate::model::OutboxFilter::Sent => Some("sent"),
        crate::model::OutboxFilter::Failed => Some("failed"),
    };
    let r = sqlx::query("SELECT time_zone, date_style FROM clinic WHERE id = $1")
        .bind(clinic_id)
        .fetch_one(&state.db.pool)
        .await?;
    let clock = zones::Clock::new(
        &r.get::<String, _>("time_zone"),
        &r.get::<String, _>("date_style"),
    )?;
    let counts = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM outbox WHERE clinic_id = $1 GROUP BY status",
    )
    .bind(clinic_id)
    .fetch_all(&state.db.pool)
    .await?;
    let count = |s: &str| {
        counts
            .iter()
            .find(|r| r.get::<String, _>("status") == s)
            .map(|r| r.get::<i64, _>("n"))
            .unwrap_or(0)
    };
    let filter = if status.is_some() {
        "AND status = $2"
    } else {
        "AND $2 = $2"
    };
    let rows = sqlx::query_as::<_, OutboxListRow>(&format!(
        "SELECT id, created_at, channel, event, recipient, subject, status, attempts, last_error, \
         transport, sent_at, next_attempt_at FROM outbox WHERE clinic_id = $1 {filter} \
         ORDER BY id DESC LIMIT {SHOWN}"
    ))
    .bind(clinic_id)
    .bind(status.unwrap_or(""))
    .fetch_all(&state.db.pool)
    .await?;
    let label = |e: &str| {
        NotifyEvent::parse(e)
            .map(|e| e.label().to_string())
            .unwrap_or_else(|| e.to_string())
    };
    Ok(OutboxView {
        clinic_id,
        clinics,
        pending: count("pending"),
        sent: count("sent"),
        failed: count("failed"),
        rows: rows
            .into_iter()
            .map(|r| OutboxEntry {
                id: r.id,
                created: clock.local(r.created_at),
                channel: r.channel,
                event: label(&r.event),
                recipient: r.recipient,
                subject: r.subject,
                attempts: r.attempts,
                last_error: r.last_error,
                transport: r.transport.unwrap_or_default(),
                sent: r.sent_at.map(|t| clock.local(t)),
                next_attempt: (r.status == "pending").then(|| clock.local(r.next_attempt_at)),
                status: r.status,
            })
            .collect(),
    })
}

/// A message in a clinic's outbox list.
#[derive(sqlx::FromRow)]
struct OutboxListRow {
    id: i64,
    created_at: i64,
    channel: String,
    event: String,
    recipient: String,
    subject: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    transport: Option<String>,
    sent_at: Option<i64>,
    next_attempt_at: i64,
}

/// Puts a failed message back in the queue (admins of its clinic).
#[tracing::instrument(skip_all, fields(user = me.user_id, id = id))]
pub async fn retry(state: &AppState, me: &Me, id: i64) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    let clinic: Option<Option<i64>> =
        sqlx::query_scalar("SELECT clinic_id FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(change.conn())
            .await?;
    let clinic = clinic
        .flatten()
        .filter(|c| authz::roles_in(me, *c).any(|r| r == Role::Admin))
        .ok_or_else(|| AppError::not_found("That message does not exist."))?;
    // Due now, with a fresh set of attempts.
    let requeued = sqlx::query(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 \
         WHERE id = $2 AND status <> 'sent'",
    )
    .bind(change.now)
    .bind(id)
    .execute(change.conn())
    .await?
    .rows_affected();
    if requeued == 0 {
        return Err(AppError::conflict("That message was already sent."));
    }
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(clinic),
            action: "outbox.retry",
            entity: "outbox",
            entity_id: id,
            before: None,
            after: None,
        })
        .await?;
    change.commit().await?;
    state.outbox_wake.notify_one();
    Ok(())
}

/// The dev mailbox: messages kept instead of sent (no SMTP server or SMS
/// provider configured). Everyone sees what was addressed to them; clinic
/// admins and schedulers also see their clinics' messages, so a new user
/// can watch notifications happen.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn mailbox(state: &AppState, me: &Me) -> AppResult<Vec<MailboxMessage>> {
    let clinics: Vec<i64> = authz::clinics_where(me, Role::acts_for_providers)
        .iter()
        .map(|c| c.0)
        .collect();
    let rows = sqlx::query_as::<_, MailboxRow>(&format!(
        "SELECT o.id, o.channel, o.event, o.recipient, o.subject, o.body_text, o.body_html, \
         o.attachment, o.sent_at, COALESCE(c.time_zone, 'UTC') AS time_zone, \
         COALESCE(c.date_style, '24h') AS date_style, \
         u.name AS recipient_name, o.attachment_extra \
         FROM outbox o LEFT JOIN clinic c ON c.id = o.clinic_id \
         LEFT JOIN app_user u ON u.id = o.recipient_user_id \
         WHERE o.transport = 'mailbox' AND (o.recipient_user_id = $1 OR o.clinic_id IN ({})) \
         ORDER BY o.id DESC LIMIT {SHOWN}",
        id_list(&clinics)
    ))
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    rows.into_iter()
        .map(|r| -> AppResult<MailboxMessage> {
            let clock = zones::Clock::new(&r.time_zone, &r.date_style)?;
            Ok(MailboxMessage {
                id: r.id,
                channel: r.channel,
                event: NotifyEvent::parse(&r.event)
                    .map(|e| e.label().to_string())
                    .unwrap_or_default(),
                to: r.recipient,
                to_name: r.recipient_name.unwrap_or_default(),
                subject: r.subject,
                text: r.body_text,
                html: r.body_html,
                attachment: r.attachment,
                attachment_extra: r.attachment_extra,
                at: r.sent_at.map(|t| clock.local(t)).unwrap_or_default(),
            })
        })
        .collect()
}

/// A message kept in the dev mailbox, with its clinic's zone and its
/// recipient's name (when they have an account).
#[derive(sqlx::FromRow)]
struct MailboxRow {
    id: i64,
    channel: String,
    event: String,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: String,
    attachment: Option<String>,
    sent_at: Option<i64>,
    time_zone: String,
    date_style: String,
    recipient_name: Option<String>,
    attachment_extra: Option<String>,
}
