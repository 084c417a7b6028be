//! Appointment Requests: patients' reschedule and cancellation requests as
//! the practice sees and answers them (Approve, Deny, Propose Changes,
//! Cancel, Update Appointment), and the appointment changes they share with
//! the patient's own portal actions.
//!
//! Answering claims the request first (`UPDATE … WHERE status = 'pending'`),
//! so of two staff answering one request exactly one does, and the other is
//! told it was just answered; the appointment then changes in the same
//! transaction, under the host's lock when it moves.

use super::super::notify::{self};
use super::super::state::AppState;
use super::super::zones;
use super::appointment_state::{
    cancel_appt, load_appt, move_appt, Actor, Appt, Cancellation, Told,
};
use super::requests::parse_times;
use super::{authz, Audit, Change};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::live::{topic, LiveEvent};
use crate::domain::notify::NotifyEvent;
use crate::domain::recurrence::entered_local;
use crate::domain::request::{check_response, ChangeAnswer, RequestKind, RequestStatus};
use crate::error::{AppError, AppResult};
use crate::model::{money, ChangeQueue, ChangeRequestRow, Me};
use crate::server::db::known;
use chrono::NaiveDateTime;
use serde_json::json;

/// The requests a user answers: all of a clinic's for its admins and
/// schedulers; a provider's own appointments' for a provider. `$1` is the
/// user's id; the request table is `r`, the appointment `a`.
const ANSWERABLE: &str = "(r.clinic_id IN (SELECT clinic_id FROM membership WHERE user_id = $1 \
     AND role IN ('admin', 'scheduler')) OR (a.host_provider_id = $1 AND r.clinic_id IN \
     (SELECT clinic_id FROM membership WHERE user_id = $1 AND role = 'provider')))";

/// The Appointment Requests queue: pending reschedule and cancellation
/// requests the caller may answer, oldest first.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn queue(state: &AppState, me: &Me) -> AppResult<ChangeQueue> {
    if !me.is_staff() {
        return Err(AppError::forbidden(
            "Only clinic staff see Appointment Requests.",
        ));
    }
    let rows = sqlx::query_as::<_, QueueRow>(&format!(
        "SELECT r.id, r.kind, c.name AS clinic_name, p.name AS patient, \
         COALESCE(s.name, '') AS service, h.name AS provider, a.starts_at, a.ends_at, \
         r.requested_times, r.within_policy_window, c.late_cancel_fee_cents, r.note, r.created_at, \
         c.time_zone, c.date_style \
         FROM request r JOIN appointment a ON a.id = r.appointment_id JOIN clinic c ON c.id = r.clinic_id \
         JOIN app_user p ON p.id = r.requester_id JOIN app_user h ON h.id = a.host_provider_id \
         LEFT JOIN service s ON s.id = a.service_id \
         WHERE r.status = 'pending' AND r.kind IN ('cancel', 'reschedule') AND {ANSWERABLE} \
         ORDER BY r.created_at, r.id LIMIT 500"
    ))
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    let rows = rows
        .into_iter()
        .map(|r| -> AppResult<ChangeRequestRow> {
            let kind = known(RequestKind::parse(&r.kind), "request.kind", &r.kind)?;
            let clock = zones::Clock::new(&r.time_zone, &r.date_style)?;
            let tz = clock.tz;
            let (starts, ends) = (r.starts_at, r.ends_at);
            let span = |s: i64| format!("{}–{}", clock.local(s), clock.time(s + (ends - starts)));
            let requested: Option<i64> = parse_times(&r.requested_times).first().copied();
            let within = r.within_policy_window == 1;
            let fee = r.late_cancel_fee_cents;
            Ok(ChangeRequestRow {
                id: r.id,
                kind,
                clinic_name: r.clinic_name,
                patient: r.patient,
                service: r.service,
                provider: r.provider,
                original: span(starts),
                requested: requested.map(span),
                within_window: within,
                fee: (within && kind == RequestKind::Cancel && fee > 0).then(|| money(fee)),
                note: r.note,
                created_at: r.created_at,
                default_start: zones::local_input(requested.unwrap_or(starts), tz),
                time_zone: tz.name().to_string(),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(ChangeQueue {
        rows,
        server_now: state.clock.now().timestamp(),
    })
}

/// A pending change request in the queue.
#[derive(sqlx::FromRow)]
struct QueueRow {
    id: i64,
    kind: String,
    clinic_name: String,
    patient: String,
    service: String,
    provider: String,
    starts_at: i64,
    ends_at: i64,
    requested_times: String,
    within_policy_window: i64,
    late_cancel_fee_cents: i64,
    note: String,
    created_at: i64,
    time_zone: String,
    date_style: String,
}

/// A change request as its answer reads it.
#[derive(sqlx::FromRow)]
struct AnsweredRow {
    clinic_id: i64,
    kind: String,
    status: String,
    appointment_id: i64,
    requested_times: String,
    within_policy_window: i64,
}

/// An answer to a change request, as the staff dialog submits it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub request_id: i64,
    pub answer: ChangeAnswer,
    pub reason: String,
    pub message: String,
    /// The new local start for Propose Changes and Update Appointment.
    pub start_local: Option<NaiveDateTime>,
}

/// Answers a pending change request; the appointment changes accordingly
/// in the same transaction.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn answer(state: &AppState, me: &Me, reply: Reply) -> AppResult<()> {
    let (reason, message) =
        check_response(&reply.reason, &reply.message).map_err(AppError::Validation)?;
    let mut change = Change::begin(state).await?;
    let req = load_answerable(&mut change, me, &reply).await?;
    let new_start = entered_start(&reply, &req.appt)?;
    let status = claim(&mut change, me, &reply, &req, &reason, &message).await?;
    apply(
        &mut change,
        &req,
        reply.answer,
        new_start,
        &reason,
        &message,
    )
    .await?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: req.by.on_behalf_of,
            clinic_id: Some(req.clinic_id),
            action: "request.answer",
            entity: "request",
            entity_id: reply.request_id,
            before: Some(json!({ "status": "pending" })),
            after: Some(
                json!({ "status": status.as_str(), "outcome": reply.answer.as_str(),
                "reason": reason, "new_start": new_start }),
            ),
        })
        .await?;
    change
        .emit(LiveEvent {
            topic: topic::REQUEST.into(),
            action: "answered".into(),
            entity_id: reply.request_id,
            clinic_id: Some(req.clinic_id),
            user_ids: vec![req.appt.patient, req.appt.host],
            at_us: 0,
        })
        .await?;
    tell(&mut change, me, &reply, &req, &message).await?;
    change.commit().await
}

/// A change request and its appointment, checked to be one the caller may
/// answer now.
struct Answering {
    clinic_id: i64,
    kind: RequestKind,
    /// The new start a reschedule request asks for.
    requested: Option<i64>,
    /// Made within the clinic's late-cancellation window.
    within_window: bool,
    appt: Appt,
    by: Actor,
}

async fn load_answerable(change: &mut Change, me: &Me, reply: &Reply) -> AppResult<Answering> {
    let r = sqlx::query_as::<_, AnsweredRow>(
        "SELECT clinic_id, kind, status, appointment_id, requested_times, within_policy_window \
         FROM request WHERE id = $1 AND kind IN ('cancel', 'reschedule')",
    )
    .bind(reply.request_id)
    .fetch_optional(change.conn())
    .await?;
    let missing = || AppError::not_found("That request does not exist.");
    let r = r.ok_or_else(missing)?;
    let clinic_id = r.clinic_id;
    if !authz::roles_in(me, clinic_id).any(crate::domain::role::Role::is_staff) {
        return Err(missing());
    }
    let kind = known(RequestKind::parse(&r.kind), "request.kind", &r.kind)?;
    let a = load_appt(change.tx_mut(), r.appointment_id)
        .await?
        .ok_or_else(missing)?;
    let on_behalf_of = authz::act_for_provider(me, clinic_id, a.host)?;
    if r.status != "pending" {
        return Err(AppError::conflict(
            "This request has already been answered.",
        ));
    }
    if a.status == AppointmentStatus::Cancelled && reply.answer != ChangeAnswer::Deny {
        return Err(AppError::validation(
            "This appointment is already cancelled. Deny the request to close it.",
        ));
    }
    if a.starts_at <= change.now && reply.answer != ChangeAnswer::Deny {
        return Err(AppError::validation(
            "This appointment has already started, so it can no longer be changed. Deny the request to close it.",
        ));
    }
    Ok(Answering {
        clinic_id,
        kind,
        requested: parse_times(&r.requested_times).first().copied(),
        within_window: r.within_policy_window == 1,
        appt: a,
        by: Actor {
            user_id: me.user_id,
            on_behalf_of,
        },
    })
}

/// The new start Propose Changes and Update Appointment enter, read in the
/// appointment's zone.
fn entered_start(reply: &Reply, a: &Appt) -> AppResult<Option<i64>> {
    match (reply.answer.needs_time(), reply.start_local) {
        (false, _) => Ok(None),
        (true, None) => Err(AppError::validation("Enter the new date and time.")),
        (true, Some(local)) => Ok(Some(
            entered_local(&a.tz, local)
                .map_err(AppError::Validation)?
                .timestamp(),
        )),
    }
}

/// Claims the request before the appointment changes, so a second answer
/// finds it answered. Returns the request's new status.
async fn claim(
    change: &mut Change,
    me: &Me,
    reply: &Reply,
    req: &Answering,
    reason: &str,
    message: &str,
) -> AppResult<RequestStatus> {
    let status = reply.answer.request_status(req.kind);
    let claimed = sqlx::query(
        "UPDATE request SET status = $1, outcome = $2, response = $3, response_message = $4, \
         responder_id = $5, responded_at = $6, original_start = $7, version = version + 1 \
         WHERE id = $8 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(reply.answer.as_str())
    .bind(reason)
    .bind(message)
    .bind(me.user_id)
    .bind(change.now)
    .bind(req.appt.starts_at)
    .bind(reply.request_id)
    .execute(change.conn())
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(AppError::conflict(
            "This request was just answered by someone else.",
        ));
    }
    Ok(status)
}

/// Changes the appointment as the answer says; a denial leaves it as it is.
async fn apply(
    change: &mut Change,
    req: &Answering,
    answer: ChangeAnswer,
    new_start: Option<i64>,
    reason: &str,
    message: &str,
) -> AppResult<()> {
    let a = &req.appt;
    match (answer, req.kind) {
        (ChangeAnswer::Deny, _) => Ok(()),
        (ChangeAnswer::Approve, RequestKind::Cancel) => {
            let c = Cancellation {
                code: "pat",
                text: reason,
                message,
                late_fee_cents: late_fee(change, req).await?,
                scope: "this",
            };
            cancel_appt(change, a, c, req.by).await
        }
        (ChangeAnswer::Approve, _) => {
            let to = req.requested.ok_or_else(|| {
                AppError::validation("This request names no new time. Use Propose Changes instead.")
            })?;
            move_appt(
                change,
                a,
                to,
                AppointmentStatus::Booked,
                req.by,
                Told::Staff,
            )
            .await
        }
        (ChangeAnswer::Cancel, kind) => {
            let c = Cancellation {
                code: if kind == RequestKind::Cancel {
                    "pat"
                } else {
                    "other"
                },
                text: reason,
                message,
                late_fee_cents: None,
                scope: "this",
            };
            cancel_appt(change, a, c, req.by).await
        }
        (ChangeAnswer::Propose, _) => {
            let to = new_start.unwrap_or(a.starts_at);
            move_appt(
                change,
                a,
                to,
                AppointmentStatus::Pending,
                req.by,
                Told::Staff,
            )
            .await
        }
        (ChangeAnswer::Update, _) => {
            let to = new_start.unwrap_or(a.starts_at);
            move_appt(
                change,
                a,
                to,
                AppointmentStatus::Booked,
                req.by,
                Told::Staff,
            )
            .await
        }
    }
}

/// The fee an approved cancellation records: the clinic's late-cancellation
/// fee when the request came within its window.
async fn late_fee(change: &mut Change, req: &Answering) -> AppResult<Option<i64>> {
    if !req.within_window {
        return Ok(None);
    }
    let cents: i64 = sqlx::query_scalar("SELECT late_cancel_fee_cents FROM clinic WHERE id = $1")
        .bind(req.clinic_id)
        .fetch_one(change.conn())
        .await?;
    Ok(Some(cents))
}

/// Notifies the patient (and the host): of the change itself, or for a
/// denial, of the answer to the request.
async fn tell(
    change: &mut Change,
    me: &Me,
    reply: &Reply,
    req: &Answering,
    message: &str,
) -> AppResult<()> {
    let moved_from = Some(req.appt.starts_at);
    let (event, previous_start) = match (reply.answer, req.kind) {
        (ChangeAnswer::Deny, _) => {
            return notify::request_event(
                change,
                NotifyEvent::RequestAnswered,
                reply.request_id,
                me.user_id,
                "denied",
                message,
            )
            .await;
        }
        (ChangeAnswer::Approve, RequestKind::Cancel) | (ChangeAnswer::Cancel, _) => {
            (NotifyEvent::AppointmentCancelled, None)
        }
        (ChangeAnswer::Propose, _) => (NotifyEvent::ProposalMade, moved_from),
        (ChangeAnswer::Approve | ChangeAnswer::Update, _) => {
            (NotifyEvent::AppointmentRescheduled, moved_from)
        }
    };
    notify::appointment_changed(
        change,
        event,
        req.appt.id,
        me.user_id,
        previous_start,
        message,
    )
    .await
}
