//! Each provider's private calendar feed: an unguessable URL a calendar app
//! subscribes to, listing the appointments they host or are invited to.
//! Only a SHA-256 of the token is stored, so the URL is shown once when it
//! is made; making a new one (or revoking) ends the old one. The calendar
//! names itself and asks to be refreshed every 15 minutes; patient names
//! stay out of it unless the provider opts in (`domain::feed`).

use super::super::auth::{new_token, token_hash};
use super::super::notify::ics;
use super::super::state::AppState;
use super::super::zones;
use super::{authz, Audit, Change};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::feed;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::Me;
use crate::server::db::known;
use chrono::DateTime;

/// How far back and ahead the feed reaches.
const PAST_DAYS: i64 = 90;
const FUTURE_DAYS: i64 = 400;

fn providers_only(me: &Me) -> AppResult<()> {
    if authz::clinics_where(me, |r| r == Role::Provider).is_empty() {
        return Err(AppError::forbidden(
            "Calendar feeds are for providers: they list the appointments you host or are invited to.",
        ));
    }
    Ok(())
}

/// Whether the caller has a feed.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn exists(state: &AppState, me: &Me) -> AppResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM calendar_feed WHERE user_id = $1")
        .bind(me.user_id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(n > 0)
}

/// Makes a new feed URL path (`/calendar/<token>.ics`), ending any old one.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn create(state: &AppState, me: &Me) -> AppResult<String> {
    providers_only(me)?;
    let token = new_token();
    replace(state, me, Some(&token)).await?;
    Ok(format!("/calendar/{token}.ics"))
}

#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn revoke(state: &AppState, me: &Me) -> AppResult<()> {
    replace(state, me, None).await
}

/// Whether the caller's feed shows patient names in event titles.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn shows_patient_names(state: &AppState, me: &Me) -> AppResult<bool> {
    let on: i64 = sqlx::query_scalar("SELECT feed_patient_names FROM app_user WHERE id = $1")
        .bind(me.user_id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(on == 1)
}

/// The provider opts in to (or out of) patient names in their feed; it
/// applies to the feed link they have, on its next refresh.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn set_patient_names(state: &AppState, me: &Me, on: bool) -> AppResult<()> {
    providers_only(me)?;
    let mut change = Change::begin(state).await?;
    sqlx::query("UPDATE app_user SET feed_patient_names = $1 WHERE id = $2")
        .bind(i64::from(on))
        .bind(me.user_id)
        .execute(change.conn())
        .await?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: None,
            action: if on {
                "calendar_feed.patient_names_on"
            } else {
                "calendar_feed.patient_names_off"
            },
            entity: "user",
            entity_id: me.user_id,
            before: None,
            after: None,
        })
        .await?;
    change.commit().await
}

/// Ends the caller's feed and, with a token, starts a new one.
async fn replace(state: &AppState, me: &Me, token: Option<&str>) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    sqlx::query("DELETE FROM calendar_feed WHERE user_id = $1")
        .bind(me.user_id)
        .execute(change.conn())
        .await?;
    if let Some(token) = token {
        sqlx::query(
            "INSERT INTO calendar_feed (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash(token))
        .bind(me.user_id)
        .bind(change.now)
        .execute(change.conn())
        .await?;
    }
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: None,
            action: if token.is_some() {
                "calendar_feed.create"
            } else {
                "calendar_feed.revoke"
            },
            entity: "user",
            entity_id: me.user_id,
            before: None,
            after: None,
        })
        .await?;
    change.commit().await
}

/// An appointment in a provider's feed; `invited` is their participant
/// status when they are invited rather than the host.
#[derive(sqlx::FromRow)]
struct FeedRow {
    id: i64,
    starts_at: i64,
    ends_at: i64,
    status: String,
    location: String,
    video_url: String,
    clinic_name: String,
    slug: String,
    time_zone: String,
    service_name: String,
    patient_name: String,
    host_name: String,
    invited: Option<String>,
}

/// The feed for a token, or None for an unknown (or revoked) one.
#[tracing::instrument(skip_all)]
pub async fn feed(state: &AppState, token: &str) -> AppResult<Option<String>> {
    let well_formed = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Ok(None);
    }
    let user: Option<i64> =
        sqlx::query_scalar("SELECT user_id FROM calendar_feed WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(&state.db.pool)
            .await?;
    let Some(user) = user else {
        return Ok(None);
    };
    let now = state.now();
    let rows = sqlx::query_as::<_, FeedRow>(
        "SELECT a.id, a.starts_at, a.ends_at, a.status, a.location, a.video_url, \
         c.name AS clinic_name, c.slug, c.time_zone, s.name AS service_name, \
         p.name AS patient_name, h.name AS host_name, \
         (SELECT x.status FROM participant x WHERE x.appointment_id = a.id AND x.provider_id = $1) \
         AS invited \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id JOIN service s ON s.id = a.service_id \
         JOIN app_user p ON p.id = a.patient_id JOIN app_user h ON h.id = a.host_provider_id \
         WHERE (a.host_provider_id = $1 OR EXISTS (SELECT 1 FROM participant y \
         WHERE y.appointment_id = a.id AND y.provider_id = $1 AND y.status <> 'declined')) \
         AND a.starts_at >= $2 AND a.starts_at < $3 AND a.status <> 'cancelled' \
         ORDER BY a.starts_at",
    )
    .bind(user)
    .bind(now - PAST_DAYS * 86_400)
    .bind(now + FUTURE_DAYS * 86_400)
    .fetch_all(&state.db.pool)
    .await?;
    let (name, patient_names) = calendar_owner(state, user).await?;
    let ts = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or_default();
    let events: Vec<ics::Event> = rows
        .into_iter()
        .map(|r| -> AppResult<ics::Event> {
            let status = known(
                AppointmentStatus::parse(&r.status),
                "appointment.status",
                &r.status,
            )?;
            let (summary, description) = feed::event_text(
                &r.service_name,
                patient_names.then_some(r.patient_name.as_str()),
                &r.host_name,
                r.invited.is_some(),
                &r.video_url,
            );
            Ok(ics::Event {
                tz: zones::parse(&r.time_zone),
                uid: format!("appointment-{}@{}.slotwise", r.id, r.slug),
                sequence: 0,
                start: ts(r.starts_at),
                end: ts(r.ends_at),
                summary,
                description,
                status: match status {
                    AppointmentStatus::Pending | AppointmentStatus::Proposed => {
                        ics::Status::Tentative
                    }
                    // Cancelled ones are left out of the feed above.
                    AppointmentStatus::Booked
                    | AppointmentStatus::Fulfilled
                    | AppointmentStatus::Noshow
                    | AppointmentStatus::Cancelled => ics::Status::Confirmed,
                },
                location: r.location,
                url: r.video_url,
                rrule: None,
                occurrence: None,
                organizer: (r.clinic_name, "no-reply@slotwise.local".into()),
                attendees: Vec::new(),
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(Some(ics::feed(
        &name,
        feed::REFRESH_MINUTES,
        ts(now),
        &events,
    )))
}

/// The feed's calendar name ("Dr Lee — Northside Telehealth") and whether
/// its owner shows patient names.
async fn calendar_owner(state: &AppState, user: i64) -> AppResult<(String, bool)> {
    let (provider, patient_names): (String, i64) =
        sqlx::query_as("SELECT name, feed_patient_names FROM app_user WHERE id = $1")
            .bind(user)
            .fetch_one(&state.db.pool)
            .await?;
    let clinics: Vec<String> = sqlx::query_scalar(
        "SELECT c.name FROM membership m JOIN clinic c ON c.id = m.clinic_id \
         WHERE m.user_id = $1 AND m.role = 'provider' ORDER BY c.name",
    )
    .bind(user)
    .fetch_all(&state.db.pool)
    .await?;
    Ok((feed::calendar_name(&provider, &clinics), patient_names == 1))
}
