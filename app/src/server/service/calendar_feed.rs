//! Each provider's private calendar feed: an unguessable URL a calendar app
//! subscribes to, listing the appointments they host or are invited to.
//! Only a SHA-256 of the token is stored, so the URL is shown once when it
//! is made; making a new one (or revoking) ends the old one.

use super::super::auth::{new_token, token_hash};
use super::super::notify::ics;
use super::super::state::AppState;
use super::super::zones;
use super::{authz, Audit, Change};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::Me;
use chrono::DateTime;
use sqlx::Row;

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
pub async fn exists(state: &AppState, me: &Me) -> AppResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM calendar_feed WHERE user_id = $1")
        .bind(me.user_id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(n > 0)
}

/// Makes a new feed URL path (`/calendar/<token>.ics`), ending any old one.
pub async fn create(state: &AppState, me: &Me) -> AppResult<String> {
    providers_only(me)?;
    let token = new_token();
    replace(state, me, Some(&token)).await?;
    Ok(format!("/calendar/{token}.ics"))
}

pub async fn revoke(state: &AppState, me: &Me) -> AppResult<()> {
    replace(state, me, None).await
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

/// The feed for a token, or None for an unknown (or revoked) one.
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
    let rows = sqlx::query(
        "SELECT a.id, a.starts_at, a.ends_at, a.status, a.location, a.video_url, c.name, c.slug, \
         c.time_zone, s.name, p.name, h.name, \
         (SELECT x.status FROM participant x WHERE x.appointment_id = a.id AND x.provider_id = $1) \
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
    let ts = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or_default();
    let events: Vec<ics::Event> = rows
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let status: String = r.get(3);
            let slug: String = r.get(7);
            let clinic: String = r.get(6);
            let service: String = r.get(9);
            let patient: String = r.get(10);
            let host: String = r.get(11);
            let invited: Option<String> = r.get(12);
            let video: String = r.get(5);
            let mut description = format!("{service} with {patient}\nHost: {host}");
            if !video.is_empty() {
                description.push_str(&format!("\nJoin: {video}"));
            }
            ics::Event {
                tz: zones::parse(&r.get::<String, _>(8)),
                uid: format!("appointment-{id}@{slug}.slotwise"),
                sequence: 0,
                start: ts(r.get(1)),
                end: ts(r.get(2)),
                summary: format!(
                    "{service}: {patient}{}",
                    if invited.is_some() { " (invited)" } else { "" }
                ),
                description,
                location: r.get(4),
                url: video,
                status: match status.as_str() {
                    "pending" | "proposed" => ics::Status::Tentative,
                    _ => ics::Status::Confirmed,
                },
                rrule: None,
                occurrence: None,
                organizer: (clinic, "no-reply@slotwise.local".into()),
                attendees: Vec::new(),
            }
        })
        .collect();
    Ok(Some(ics::calendar(None, ts(now), &events)))
}
