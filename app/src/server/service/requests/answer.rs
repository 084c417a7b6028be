//! Answering a session request: accepting books the appointment for a
//! provider at one of the requested times; declining sends the response.
//!
//! Accepting claims the request first (`UPDATE … WHERE status = 'pending'`),
//! then books the appointment under the provider's lock, all in one
//! transaction: of two people accepting one request exactly one claims it,
//! and of two requests accepted for one provider's time exactly one books.

use super::{parse_answers, parse_times, require_provider_of};
use crate::domain::booking;
use crate::domain::form::Answer;
use crate::domain::live::{topic, LiveEvent};
use crate::domain::notify::NotifyEvent;
use crate::domain::request::{RequestMode, RequestStatus};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::Me;
use crate::server::db::known;
use crate::server::notify;
use crate::server::service::appointments::{find_conflict, insert_booked, Booked};
use crate::server::service::{authz, Audit, Change};
use crate::server::state::AppState;
use crate::server::zones;
use serde_json::json;
use sqlx::{AnyConnection, Row};

/// A pending-or-not new-session request as the answering code needs it.
pub(super) struct Loaded {
    pub(super) clinic_id: i64,
    pub(super) status: String,
    pub(super) requester_id: i64,
    pub(super) requester: String,
    pub(super) service_id: i64,
    pub(super) service_name: String,
    pub(super) minutes: i64,
    pub(super) mode: RequestMode,
    pub(super) target: Option<i64>,
    pub(super) request_to: String,
    pub(super) times: Vec<i64>,
    pub(super) note: String,
    pub(super) answers: Vec<Answer>,
    pub(super) tz: chrono_tz::Tz,
    /// The clinic's zone and date style, for the times shown.
    pub(super) clock: zones::Clock,
    pub(super) version: i64,
    /// When it was made (a Now request asks for then).
    pub(super) created_at: i64,
}

/// The columns `Loaded` is made from.
#[derive(sqlx::FromRow)]
struct LoadedRow {
    clinic_id: i64,
    status: String,
    requester_id: i64,
    requester: String,
    service_id: Option<i64>,
    service_name: String,
    minutes: i64,
    mode: String,
    target_provider_id: Option<i64>,
    request_to: String,
    requested_times: String,
    note: String,
    form_answers: String,
    time_zone: String,
    date_style: String,
    version: i64,
    created_at: i64,
}

pub(super) async fn load(conn: &mut AnyConnection, request_id: i64) -> AppResult<Loaded> {
    let r = sqlx::query_as::<_, LoadedRow>(
        "SELECT r.clinic_id, r.status, r.requester_id, u.name AS requester, r.service_id, \
         COALESCE(s.name, '') AS service_name, COALESCE(s.duration_minutes, 30) AS minutes, \
         COALESCE(r.mode, 'now') AS mode, r.target_provider_id, \
         COALESCE(p.name, c.host_group_name) AS request_to, r.requested_times, r.note, \
         r.form_answers, c.time_zone, c.date_style, r.version, r.created_at \
         FROM request r JOIN clinic c ON c.id = r.clinic_id JOIN app_user u ON u.id = r.requester_id \
         LEFT JOIN service s ON s.id = r.service_id LEFT JOIN app_user p ON p.id = r.target_provider_id \
         WHERE r.id = $1 AND r.kind = 'new_session'",
    )
    .bind(request_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found("That request does not exist."))?;
    Ok(Loaded {
        clinic_id: r.clinic_id,
        status: r.status,
        requester_id: r.requester_id,
        requester: r.requester,
        service_id: r.service_id.unwrap_or_default(),
        service_name: r.service_name,
        minutes: r.minutes,
        mode: known(RequestMode::parse(&r.mode), "request.mode", &r.mode)?,
        target: r.target_provider_id,
        request_to: r.request_to,
        times: parse_times(&r.requested_times),
        note: r.note,
        answers: parse_answers(&r.form_answers),
        tz: zones::parse(&r.time_zone),
        clock: zones::Clock::new(&r.time_zone, &r.date_style)?,
        version: r.version,
        created_at: r.created_at,
    })
}

/// Whether the caller works this request (see `WORKABLE`), and whether
/// they may pick any provider (dispatchers) or only themself.
pub(super) fn may_work(me: &Me, req: &Loaded) -> AppResult<bool> {
    let roles: Vec<Role> = authz::roles_in(me, req.clinic_id).collect();
    if roles.iter().any(|r| r.acts_for_providers()) {
        return Ok(true);
    }
    if roles.contains(&Role::Provider) && req.target.is_none_or(|t| t == me.user_id) {
        return Ok(false);
    }
    // Not revealing whether the request exists to those who may not see it.
    Err(AppError::not_found("That request does not exist."))
}

/// Says who handled a request that is no longer pending.
pub(super) async fn already_handled(
    conn: &mut AnyConnection,
    request_id: i64,
    clock: zones::Clock,
) -> AppResult<AppError> {
    let r = sqlx::query(
        "SELECT r.status, u.name, r.responded_at FROM request r LEFT JOIN app_user u ON u.id = r.responder_id WHERE r.id = $1",
    )
    .bind(request_id)
    .fetch_one(conn)
    .await?;
    let status: String = r.get("status");
    let who: Option<String> = r.get("name");
    let at: Option<i64> = r.get("responded_at");
    Ok(AppError::conflict(match status.as_str() {
        "withdrawn" => format!("Request #{request_id} was withdrawn by the patient."),
        s => format!(
            "Request #{request_id} was already {} by {}{}.",
            if s == "accepted" {
                "accepted"
            } else {
                "declined"
            },
            who.unwrap_or_else(|| "someone else".into()),
            at.map(|t| format!(" at {}", clock.time(t)))
                .unwrap_or_default()
        ),
    }))
}

/// Claims a pending request for an answer; says who beat us to it if
/// someone did. Holding the row from here to commit keeps others out.
async fn claim(
    change: &mut Change,
    request_id: i64,
    status: RequestStatus,
    response: &str,
    me: &Me,
    clock: zones::Clock,
) -> AppResult<()> {
    let now = change.now;
    let done = sqlx::query(
        "UPDATE request SET status = $1, response = $2, responder_id = $3, responded_at = $4, \
         version = version + 1 WHERE id = $5 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(if response.is_empty() {
        None
    } else {
        Some(response)
    })
    .bind(me.user_id)
    .bind(now)
    .bind(request_id)
    .execute(change.conn())
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(already_handled(change.conn(), request_id, clock).await?)
    }
}

fn check_response(response: &str) -> AppResult<String> {
    let r = response.trim();
    if r.chars().count() > 1000 {
        return Err(AppError::validation(
            "The response can be at most 1000 characters.",
        ));
    }
    Ok(r.to_string())
}

/// Accepts a request for a provider at one of the requested times (a Now
/// request starts at the next whole minute). Returns the appointment id.
#[tracing::instrument(skip_all, fields(user = me.user_id, request_id = request_id))]
pub async fn accept(
    state: &AppState,
    me: &Me,
    request_id: i64,
    provider_id: i64,
    start: Option<i64>,
    response: &str,
) -> AppResult<i64> {
    let response = check_response(response)?;
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let req = load(change.conn(), request_id).await?;
    let any_provider = may_work(me, &req)?;
    if req.status != "pending" {
        return Err(already_handled(change.conn(), request_id, req.clock).await?);
    }
    if !any_provider && provider_id != me.user_id {
        return Err(AppError::forbidden(
            "You can accept requests for yourself only.",
        ));
    }
    let on_behalf = authz::act_for_provider(me, req.clinic_id, provider_id)?;
    let provider_name = require_provider_of(change.conn(), req.clinic_id, provider_id).await?;
    let (start, end) = accepted_times(&req, start, now)?;
    claim(
        &mut change,
        request_id,
        RequestStatus::Accepted,
        &response,
        me,
        req.clock,
    )
    .await?;
    let appointment_id = book(
        &mut change,
        &req,
        request_id,
        provider_id,
        &provider_name,
        (start, end),
    )
    .await?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: on_behalf,
            clinic_id: Some(req.clinic_id),
            action: "request.accept",
            entity: "request",
            entity_id: request_id,
            before: Some(json!({ "status": "pending", "version": req.version })),
            after: Some(
                json!({ "status": "accepted", "provider": provider_id, "starts_at": start,
                "appointment_id": appointment_id, "response": response }),
            ),
        })
        .await?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: on_behalf,
            clinic_id: Some(req.clinic_id),
            action: "appointment.create",
            entity: "appointment",
            entity_id: appointment_id,
            before: None,
            after: Some(
                json!({ "starts_at": start, "ends_at": end, "host": provider_id,
                "patient": req.requester_id, "request_id": request_id }),
            ),
        })
        .await?;
    let audience = vec![req.requester_id, provider_id];
    change
        .emit(LiveEvent {
            topic: topic::REQUEST.into(),
            action: "accepted".into(),
            entity_id: request_id,
            clinic_id: Some(req.clinic_id),
            user_ids: audience.clone(),
            at_us: 0,
        })
        .await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: "created".into(),
            entity_id: appointment_id,
            clinic_id: Some(req.clinic_id),
            user_ids: audience,
            at_us: 0,
        })
        .await?;
    // The booking is the answer: one message with the calendar entry.
    notify::appointment_changed(
        &mut change,
        NotifyEvent::AppointmentCreated,
        appointment_id,
        me.user_id,
        None,
        &response,
    )
    .await?;
    change.commit().await?;
    Ok(appointment_id)
}

/// The accepted appointment's start and end: one of the requested times
/// (a Now request starts at the next whole minute), still to come, for a
/// request that names a service.
fn accepted_times(req: &Loaded, start: Option<i64>, now: i64) -> AppResult<(i64, i64)> {
    let start = match (req.mode, start) {
        (RequestMode::Now, _) => now + 60 - now.rem_euclid(60),
        (RequestMode::Scheduled, Some(t)) if req.times.contains(&t) => t,
        (RequestMode::Scheduled, Some(_)) => {
            return Err(AppError::validation("Choose one of the requested times."))
        }
        (RequestMode::Scheduled, None) => {
            return Err(AppError::validation("Choose one of the requested times."))
        }
    };
    let end = start + req.minutes * 60;
    booking::check_new_times(start, end, now).map_err(|_| {
        AppError::validation(
            "That requested time has passed. Choose another one, or decline with a note.",
        )
    })?;
    if req.service_id == 0 {
        return Err(AppError::validation(
            "This request has no service; decline it with a note instead.",
        ));
    }
    Ok((start, end))
}

/// Books the accepted appointment under the provider's lock and links the
/// request to it. Returns the appointment id.
async fn book(
    change: &mut Change,
    req: &Loaded,
    request_id: i64,
    provider_id: i64,
    provider_name: &str,
    (start, end): (i64, i64),
) -> AppResult<i64> {
    change.lock_provider(provider_id).await?;
    if let Some(c) = find_conflict(change.tx_mut(), provider_id, start, end, &[], req.clock).await?
    {
        return Err(AppError::conflict(format!(
            "{provider_name} is already booked at that time: {c}."
        )));
    }
    let appointment_id = insert_booked(
        change,
        Booked {
            clinic_id: req.clinic_id,
            service_id: req.service_id,
            provider_id,
            patient_id: req.requester_id,
            start,
            end,
            location: "",
            series_id: None,
        },
    )
    .await
    .map_err(|e| match e {
        // A time held through the FHIR API says so (it may free up soon).
        AppError::Conflict(m) if m == crate::server::service::fhir::holds::HELD => {
            AppError::Conflict(m)
        }
        AppError::Conflict(_) => AppError::conflict(format!(
            "{provider_name} was booked at that time a moment ago. Choose another time or provider."
        )),
        e => e,
    })?;
    sqlx::query("UPDATE request SET result_appointment_id = $1 WHERE id = $2")
        .bind(appointment_id)
        .bind(request_id)
        .execute(change.conn())
        .await?;
    Ok(appointment_id)
}

/// Declines a request with an optional response the requester sees.
#[tracing::instrument(skip_all, fields(user = me.user_id, request_id = request_id))]
pub async fn decline(state: &AppState, me: &Me, request_id: i64, response: &str) -> AppResult<()> {
    let response = check_response(response)?;
    let mut change = Change::begin(state).await?;
    let req = load(change.conn(), request_id).await?;
    may_work(me, &req)?;
    if req.status != "pending" {
        return Err(already_handled(change.conn(), request_id, req.clock).await?);
    }
    claim(
        &mut change,
        request_id,
        RequestStatus::Declined,
        &response,
        me,
        req.clock,
    )
    .await?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(req.clinic_id),
            action: "request.decline",
            entity: "request",
            entity_id: request_id,
            before: Some(json!({ "status": "pending", "version": req.version })),
            after: Some(json!({ "status": "declined", "response": response })),
        })
        .await?;
    let mut audience = vec![req.requester_id];
    audience.extend(req.target);
    change
        .emit(LiveEvent {
            topic: topic::REQUEST.into(),
            action: "declined".into(),
            entity_id: request_id,
            clinic_id: Some(req.clinic_id),
            user_ids: audience,
            at_us: 0,
        })
        .await?;
    notify::request_event(
        &mut change,
        NotifyEvent::RequestAnswered,
        request_id,
        me.user_id,
        "declined",
        &response,
    )
    .await?;
    change.commit().await
}
