//! A patient sends a session request from a booking page (which makes them
//! one of the clinic's patients), or withdraws it while it is pending.

use super::{active_service, require_provider_of};
use crate::domain::form;
use crate::domain::live::{topic, LiveEvent};
use crate::domain::notify::NotifyEvent;
use crate::domain::request::{self as rules, RequestMode};
use crate::domain::validate;
use crate::error::{AppError, AppResult};
use crate::model::Me;
use crate::server::db::{refused_by, Rule};
use crate::server::notify;
use crate::server::service::availability::{self, clinic_providers, free_at};
use crate::server::service::clinic_settings::{policy, questions};
use crate::server::service::{Audit, Change};
use crate::server::state::AppState;
use crate::server::zones;
use serde_json::json;
use sqlx::Row;

const ALREADY_WAITING: &str =
    "You already have a Now request waiting at this clinic. It will be answered shortly.";

/// What the booking page submits.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub clinic_id: i64,
    pub service_id: i64,
    pub mode: RequestMode,
    /// A specific provider, or None for the clinic's host group.
    pub provider_id: Option<i64>,
    /// Preferred start times (Scheduled only), unix seconds.
    pub times: Vec<i64>,
    /// One answer per question of the clinic's form.
    pub answers: Vec<String>,
    pub note: String,
}

/// A patient asks for a session. Returns the request id.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn create(state: &AppState, me: &Me, new: NewRequest) -> AppResult<i64> {
    let note = validate::note(&new.note).map_err(AppError::Validation)?;
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let clock = availability::clinic_clock(change.conn(), new.clinic_id).await?;
    let (_, minutes) = active_service(change.conn(), new.clinic_id, new.service_id).await?;
    if let Some(p) = new.provider_id {
        require_provider_of(change.conn(), new.clinic_id, p).await?;
    }
    let answers = form::check_answers(
        &questions(change.conn(), new.clinic_id).await?,
        &new.answers,
    )
    .map_err(AppError::Validation)?;
    let times = match new.mode {
        RequestMode::Now => {
            check_now(&mut change, me, &new).await?;
            Vec::new()
        }
        RequestMode::Scheduled => free_requested_times(&mut change, &new, clock, minutes).await?,
    };
    // Requesting from a clinic makes the requester one of its patients.
    sqlx::query(
        "INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, 'patient', $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(me.user_id)
    .bind(new.clinic_id)
    .bind(now)
    .execute(change.conn())
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO request (clinic_id, kind, status, requester_id, service_id, mode, target_provider_id, \
         requested_times, form_answers, note, created_at) \
         VALUES ($1, 'new_session', 'pending', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(new.clinic_id)
    .bind(me.user_id)
    .bind(new.service_id)
    .bind(new.mode.as_str())
    .bind(new.provider_id)
    .bind(serde_json::to_string(&times).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&answers).unwrap_or_else(|_| "[]".into()))
    .bind(&note)
    .bind(now)
    .fetch_one(change.conn())
    .await
    // The unique index backs up the check above against a concurrent twin.
    .map_err(|e| refused_by(e, Rule::OnePendingNowRequest, || AppError::conflict(ALREADY_WAITING)))?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(new.clinic_id),
            action: "request.create",
            entity: "request",
            entity_id: id,
            before: None,
            after: Some(json!({ "kind": "new_session", "mode": new.mode.as_str(), "service_id": new.service_id,
                "provider": new.provider_id, "times": times })),
        })
        .await?;
    let mut audience = vec![me.user_id];
    audience.extend(new.provider_id);
    change
        .emit(LiveEvent {
            topic: topic::REQUEST.into(),
            action: "created".into(),
            entity_id: id,
            clinic_id: Some(new.clinic_id),
            user_ids: audience,
            at_us: 0,
        })
        .await?;
    notify::request_event(
        &mut change,
        NotifyEvent::RequestReceived,
        id,
        me.user_id,
        "",
        "",
    )
    .await?;
    change.commit().await?;
    Ok(id)
}

/// A Now request: none already waiting from this patient at this clinic,
/// and someone (the addressed provider, if any) available now.
async fn check_now(change: &mut Change, me: &Me, new: &NewRequest) -> AppResult<()> {
    if !new.times.is_empty() {
        return Err(AppError::validation(
            "A Now request has no preferred times.",
        ));
    }
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM request WHERE requester_id = $1 AND clinic_id = $2 \
         AND kind = 'new_session' AND mode = 'now' AND status = 'pending'",
    )
    .bind(me.user_id)
    .bind(new.clinic_id)
    .fetch_one(change.conn())
    .await?;
    if pending > 0 {
        return Err(AppError::conflict(ALREADY_WAITING));
    }
    let on = availability::available_now(change.conn(), new.clinic_id).await?;
    let someone = match new.provider_id {
        Some(p) => on.contains(&p),
        None => !on.is_empty(),
    };
    if !someone {
        return Err(AppError::conflict(
            "Nobody is available right now. Choose Scheduled and pick a time instead.",
        ));
    }
    Ok(())
}

/// A Scheduled request's preferred times, checked to be within the booking
/// horizon and free (for the addressed provider, or for any provider).
async fn free_requested_times(
    change: &mut Change,
    new: &NewRequest,
    clock: zones::Clock,
    minutes: i64,
) -> AppResult<Vec<i64>> {
    let tz = clock.tz;
    let horizon = policy(change.conn(), new.clinic_id)
        .await?
        .booking_horizon_days;
    let times = rules::check_requested_times(&new.times, change.now, horizon)
        .map_err(AppError::Validation)?;
    let providers: Vec<i64> = match new.provider_id {
        Some(p) => vec![p],
        None => clinic_providers(change.conn(), new.clinic_id)
            .await?
            .into_iter()
            .map(|p| p.0)
            .collect(),
    };
    let now = change.now;
    let free = free_at(
        change.conn(),
        new.clinic_id,
        &providers,
        &times,
        tz,
        minutes as u32,
        now,
    )
    .await?;
    for t in &times {
        if !free.values().any(|ts| ts.contains(t)) {
            return Err(AppError::validation(format!(
                "{} is not a free time{}. Choose from the free slots shown.",
                clock.local(*t),
                if new.provider_id.is_some() {
                    " for this provider"
                } else {
                    ""
                }
            )));
        }
    }
    Ok(times)
}

/// The requester takes back a pending request.
#[tracing::instrument(skip_all, fields(user = me.user_id, request_id = request_id))]
pub async fn withdraw(state: &AppState, me: &Me, request_id: i64) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    let r = sqlx::query("SELECT requester_id, clinic_id, status FROM request WHERE id = $1")
        .bind(request_id)
        .fetch_optional(change.conn())
        .await?;
    let Some(r) = r.filter(|r| r.get::<i64, _>("requester_id") == me.user_id) else {
        return Err(AppError::not_found("You have no such request."));
    };
    let clinic_id: i64 = r.get("clinic_id");
    if r.get::<String, _>("status") != "pending" {
        return Err(AppError::conflict(
            "This request has already been answered.",
        ));
    }
    let now = change.now;
    sqlx::query(
        "UPDATE request SET status = 'withdrawn', responded_at = $1, version = version + 1 \
         WHERE id = $2 AND status = 'pending'",
    )
    .bind(now)
    .bind(request_id)
    .execute(change.conn())
    .await?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(clinic_id),
            action: "request.withdraw",
            entity: "request",
            entity_id: request_id,
            before: Some(json!({ "status": "pending" })),
            after: Some(json!({ "status": "withdrawn" })),
        })
        .await?;
    change
        .emit(LiveEvent {
            topic: topic::REQUEST.into(),
            action: "withdrawn".into(),
            entity_id: request_id,
            clinic_id: Some(clinic_id),
            user_ids: vec![me.user_id],
            at_us: 0,
        })
        .await?;
    change.commit().await
}
