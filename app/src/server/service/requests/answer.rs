//! Appointment requests and dispatch: patients ask for a session (Now or at
//! preferred times), providers and dispatchers accept or decline, and the
//! patient follows the answer on their dashboard.
//!
//! Accepting claims the request first (`UPDATE … WHERE status = 'pending'`),
//! then books the appointment under the provider's lock, all in one
//! transaction: of two people accepting one request exactly one claims it,
//! and of two requests accepted for one provider's time exactly one books.

use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking;
use crate::domain::form::{self, Answer};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::notify::NotifyEvent;
use crate::domain::request::{self as rules, RequestMode, RequestStatus};
use crate::domain::role::Role;
use crate::domain::validate;
use crate::error::{AppError, AppResult};
use crate::model::{
    AssignOptions, AssignProvider, BookingPageInfo, DispatchBoard, DispatchRow, Me, MyMeeting,
    MyRequest, PendingCounts, PublicProvider, PublicService, SlotDay, TimeChoice,
};
use crate::server::db::known;
use crate::server::db::{id_list, refused_by, Rule};
use crate::server::notify;
use crate::server::service::appointments::{find_conflict, insert_booked, Booked};
use crate::server::service::availability::{
    self, clinic_providers, clinic_zone, free_at, free_slots_of,
};
use crate::server::service::clinic_settings::{policy, questions};
use crate::server::service::{authz, Audit, Change};
use crate::server::state::AppState;
use crate::server::zones;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

const ALREADY_WAITING: &str =
    "You already have a Now request waiting at this clinic. It will be answered shortly.";

/// Possible Conflicting Sessions: sessions within this many seconds of a
/// requested time.
const CONFLICT_WINDOW: i64 = 2 * 3600;

/// The requests a user works on: all of a clinic's for its admins and
/// schedulers; for a provider, those addressed to them or to the host
/// group. `$1` is the user's id; the request table is `r`.
const WORKABLE: &str = "(r.clinic_id IN (SELECT clinic_id FROM membership WHERE user_id = $1 \
     AND role IN ('admin', 'scheduler')) OR (r.clinic_id IN (SELECT clinic_id FROM membership \
     WHERE user_id = $1 AND role = 'provider') AND (r.target_provider_id IS NULL OR r.target_provider_id = $1)))";

fn day_label(ts: i64, tz: chrono_tz::Tz) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&tz).format("%a %-d %b").to_string())
        .unwrap_or_default()
}

pub(in crate::server::service) fn parse_times(text: &str) -> Vec<i64> {
    serde_json::from_str(text).unwrap_or_default()
}

fn parse_answers(text: &str) -> Vec<Answer> {
    serde_json::from_str(text).unwrap_or_default()
}

// ---- The public booking page ----------------------------------------------

/// A clinic's booking page (public; `me` only says whether to offer
/// submitting or logging in).
#[tracing::instrument(skip_all)]
pub async fn booking_page(
    state: &AppState,
    me: Option<&Me>,
    slug: &str,
) -> AppResult<BookingPageInfo> {
    let mut conn = state.db.pool.acquire().await?;
    let c = sqlx::query_as::<_, PublicClinicRow>(
        "SELECT id, name, time_zone, phone, host_group_name FROM clinic WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found("There is no clinic at this address."))?;
    let clinic_id = c.id;
    let services = sqlx::query_as::<_, PublicServiceRow>(
        "SELECT id, name, description, duration_minutes, payment_required, price_cents FROM service \
         WHERE clinic_id = $1 AND active = 1 ORDER BY name",
    )
    .bind(clinic_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| PublicService {
        id: r.id,
        name: r.name,
        description: r.description,
        duration_minutes: r.duration_minutes,
        payment_required: r.payment_required == 1,
        price_cents: r.price_cents,
    })
    .collect();
    let now_ids = availability::available_now(&mut conn, clinic_id).await?;
    let providers: Vec<PublicProvider> = clinic_providers(&mut conn, clinic_id)
        .await?
        .into_iter()
        .map(|(id, name)| PublicProvider {
            id,
            name,
            available_now: now_ids.contains(&id),
        })
        .collect();
    Ok(BookingPageInfo {
        clinic_id,
        slug: slug.to_string(),
        name: c.name,
        time_zone: c.time_zone,
        phone: c.phone,
        host_group: c.host_group_name,
        services,
        available_now: !now_ids.is_empty(),
        providers,
        questions: questions(&mut conn, clinic_id).await?,
        logged_in: me.is_some(),
    })
}

/// A clinic as its public booking page shows it.
#[derive(sqlx::FromRow)]
struct PublicClinicRow {
    id: i64,
    name: String,
    time_zone: String,
    phone: String,
    host_group_name: String,
}

/// An active service on a booking page (`payment_required` stored as 0/1).
#[derive(sqlx::FromRow)]
struct PublicServiceRow {
    id: i64,
    name: String,
    description: String,
    duration_minutes: i64,
    payment_required: i64,
    price_cents: i64,
}

/// The active service of the clinic, or a specific message.
async fn active_service(
    conn: &mut AnyConnection,
    clinic_id: i64,
    service_id: i64,
) -> AppResult<(String, i64)> {
    let r =
        sqlx::query("SELECT clinic_id, active, name, duration_minutes FROM service WHERE id = $1")
            .bind(service_id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| AppError::validation("Choose a service."))?;
    if r.get::<i64, _>("clinic_id") != clinic_id {
        return Err(AppError::validation(
            "That service is not offered by this clinic.",
        ));
    }
    if r.get::<i64, _>("active") == 0 {
        return Err(AppError::validation(format!(
            "{} is no longer offered. Choose another service.",
            r.get::<String, _>("name")
        )));
    }
    Ok((r.get("name"), r.get("duration_minutes")))
}

async fn require_provider_of(
    conn: &mut AnyConnection,
    clinic_id: i64,
    provider_id: i64,
) -> AppResult<String> {
    clinic_providers(conn, clinic_id)
        .await?
        .into_iter()
        .find(|p| p.0 == provider_id)
        .map(|p| p.1)
        .ok_or_else(|| AppError::validation("Choose one of the clinic's providers."))
}

/// Free slots for a service up to the clinic's booking horizon, by local day: one
/// provider's, or (`provider_id` 0) any provider's.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn free_slots(
    state: &AppState,
    clinic_id: i64,
    service_id: i64,
    provider_id: i64,
) -> AppResult<Vec<SlotDay>> {
    let mut conn = state.db.pool.acquire().await?;
    let (tz, _) = clinic_zone(&mut conn, clinic_id).await?;
    let (_, minutes) = active_service(&mut conn, clinic_id, service_id).await?;
    let providers: Vec<i64> = if provider_id == 0 {
        clinic_providers(&mut conn, clinic_id)
            .await?
            .into_iter()
            .map(|p| p.0)
            .collect()
    } else {
        require_provider_of(&mut conn, clinic_id, provider_id).await?;
        vec![provider_id]
    };
    let now = state.clock.now().timestamp();
    let days = policy(&mut conn, clinic_id).await?.booking_horizon_days;
    let all = free_slots_of(
        &mut conn,
        clinic_id,
        &providers,
        tz,
        minutes as u32,
        days,
        now,
    )
    .await?;
    Ok(slot_days(&all, tz))
}

/// Slot starts grouped by local day, each labelled with its local time.
pub(in crate::server::service) fn slot_days(all: &[i64], tz: chrono_tz::Tz) -> Vec<SlotDay> {
    let mut days: Vec<SlotDay> = Vec::new();
    for &s in all {
        let label = day_label(s, tz);
        if days.last().map(|d| &d.label) != Some(&label) {
            days.push(SlotDay {
                label: label.clone(),
                slots: Vec::new(),
            });
        }
        if let Some(d) = days.last_mut() {
            d.slots.push(TimeChoice {
                start: s,
                label: zones::fmt_time(s, tz),
            });
        }
    }
    days
}

// ---- Requesting -----------------------------------------------------------

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
    let (tz, _) = clinic_zone(change.conn(), new.clinic_id).await?;
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
            Vec::new()
        }
        RequestMode::Scheduled => {
            let horizon = policy(change.conn(), new.clinic_id)
                .await?
                .booking_horizon_days;
            let times = rules::check_requested_times(&new.times, now, horizon)
                .map_err(AppError::Validation)?;
            let providers: Vec<i64> = match new.provider_id {
                Some(p) => vec![p],
                None => clinic_providers(change.conn(), new.clinic_id)
                    .await?
                    .into_iter()
                    .map(|p| p.0)
                    .collect(),
            };
            let free = free_at(
                change.conn(),
                new.clinic_id,
                &providers,
                &times,
                tz,
                minutes as u32,
            )
            .await?;
            for t in &times {
                if !free.values().any(|ts| ts.contains(t)) {
                    return Err(AppError::validation(format!(
                        "{} is not a free time{}. Choose from the free slots shown.",
                        zones::fmt_local(*t, tz),
                        if new.provider_id.is_some() {
                            " for this provider"
                        } else {
                            ""
                        }
                    )));
                }
            }
            times
        }
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

// ---- Queues ---------------------------------------------------------------

/// Pending requests the caller works on, by queue.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn pending_counts(state: &AppState, me: &Me) -> AppResult<PendingCounts> {
    if !me.is_staff() {
        return Err(AppError::forbidden(
            "Only clinic staff see the request queues.",
        ));
    }
    let rows = sqlx::query(&format!(
        "SELECT r.kind, COUNT(*) AS n FROM request r WHERE r.status = 'pending' AND {WORKABLE} \
         GROUP BY r.kind"
    ))
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut counts = PendingCounts::default();
    for r in rows {
        let n: i64 = r.get("n");
        match r.get::<String, _>("kind").as_str() {
            "new_session" => counts.dispatch += n,
            _ => counts.changes += n,
        }
    }
    Ok(counts)
}

/// The caller's own session requests, newest first, with the meeting each
/// became.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn my_requests(state: &AppState, me: &Me) -> AppResult<Vec<MyRequest>> {
    let rows = sqlx::query_as::<_, MyRequestRow>(
        "SELECT r.id, c.name AS clinic_name, c.slug AS clinic_slug, \
         COALESCE(s.name, '') AS service_name, COALESCE(r.mode, 'now') AS mode, r.status, r.note, \
         r.response, r.created_at, r.requested_times, c.time_zone, \
         COALESCE(t.name, c.host_group_name) AS request_to, rp.name AS responder, \
         a.id AS appointment_id, a.starts_at, a.status AS appointment_status, a.video_url, \
         a.meeting_id, a.passcode, h.name AS host_name \
         FROM request r JOIN clinic c ON c.id = r.clinic_id \
         LEFT JOIN service s ON s.id = r.service_id \
         LEFT JOIN app_user t ON t.id = r.target_provider_id \
         LEFT JOIN app_user rp ON rp.id = r.responder_id \
         LEFT JOIN appointment a ON a.id = r.result_appointment_id \
         LEFT JOIN app_user h ON h.id = a.host_provider_id \
         WHERE r.requester_id = $1 AND r.kind = 'new_session' ORDER BY r.created_at DESC, r.id DESC LIMIT 100",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    rows.into_iter()
        .map(|r| -> AppResult<MyRequest> {
            let tz = zones::parse(&r.time_zone);
            // The appointment's columns are NOT NULL: all there when its id is.
            let meeting = r.appointment_id.map(|id| -> AppResult<MyMeeting> {
                let starts = r.starts_at.unwrap_or_default();
                let status = r.appointment_status.as_deref().unwrap_or_default();
                Ok(MyMeeting {
                    appointment_id: id,
                    when: format!("{} ({})", zones::fmt_local(starts, tz), tz.name()),
                    provider: r.host_name.clone().unwrap_or_default(),
                    status: known(
                        AppointmentStatus::parse(status),
                        "appointment.status",
                        status,
                    )?,
                    video_url: r.video_url.clone().unwrap_or_default(),
                    meeting_id: r.meeting_id.clone().unwrap_or_default(),
                    passcode: r.passcode.clone().unwrap_or_default(),
                })
            });
            Ok(MyRequest {
                id: r.id,
                clinic_name: r.clinic_name,
                clinic_slug: r.clinic_slug,
                service_name: r.service_name,
                mode: known(RequestMode::parse(&r.mode), "request.mode", &r.mode)?,
                status: known(RequestStatus::parse(&r.status), "request.status", &r.status)?,
                note: r.note,
                response: r.response,
                created_at: r.created_at,
                times: parse_times(&r.requested_times)
                    .into_iter()
                    .map(|t| zones::fmt_local(t, tz))
                    .collect(),
                request_to: r.request_to,
                responder: r.responder,
                meeting: meeting.transpose()?,
            })
        })
        .collect()
}

/// A patient's session request with the appointment it became (its columns
/// NULL until then).
#[derive(sqlx::FromRow)]
struct MyRequestRow {
    id: i64,
    clinic_name: String,
    clinic_slug: String,
    service_name: String,
    mode: String,
    status: String,
    note: String,
    response: Option<String>,
    created_at: i64,
    requested_times: String,
    time_zone: String,
    request_to: String,
    responder: Option<String>,
    appointment_id: Option<i64>,
    starts_at: Option<i64>,
    appointment_status: Option<String>,
    video_url: Option<String>,
    meeting_id: Option<String>,
    passcode: Option<String>,
    host_name: Option<String>,
}

/// A pending session request on the Dispatch board.
#[derive(sqlx::FromRow)]
struct DispatchListRow {
    id: i64,
    clinic_id: i64,
    clinic_name: String,
    requestor: String,
    mode: String,
    patient_group_name: String,
    host_group_name: String,
    request_to: String,
    service_name: String,
    requested_times: String,
    note: String,
    form_answers: String,
    created_at: i64,
    time_zone: String,
}

/// The Dispatch board: pending session requests, oldest first.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn dispatch_board(
    state: &AppState,
    me: &Me,
    clinic_filter: i64,
) -> AppResult<DispatchBoard> {
    if clinic_filter != 0 {
        authz::require_staff(me, clinic_filter)?;
    } else if !me.is_staff() {
        return Err(AppError::forbidden(
            "Only clinic staff see the Dispatch board.",
        ));
    }
    let rows = sqlx::query_as::<_, DispatchListRow>(&format!(
        "SELECT r.id, r.clinic_id, c.name AS clinic_name, u.name AS requestor, \
         COALESCE(r.mode, 'now') AS mode, c.patient_group_name, c.host_group_name, \
         COALESCE(p.name, c.host_group_name) AS request_to, COALESCE(s.name, '') AS service_name, \
         r.requested_times, r.note, r.form_answers, r.created_at, c.time_zone \
         FROM request r JOIN clinic c ON c.id = r.clinic_id JOIN app_user u ON u.id = r.requester_id \
         LEFT JOIN service s ON s.id = r.service_id LEFT JOIN app_user p ON p.id = r.target_provider_id \
         WHERE r.status = 'pending' AND r.kind = 'new_session' AND {WORKABLE} \
         AND ($2 = 0 OR r.clinic_id = $2) ORDER BY r.created_at, r.id LIMIT 500"
    ))
    .bind(me.user_id)
    .bind(clinic_filter)
    .fetch_all(&state.db.pool)
    .await?;
    let rows = rows
        .into_iter()
        .map(|r| -> AppResult<DispatchRow> {
            let tz = zones::parse(&r.time_zone);
            Ok(DispatchRow {
                id: r.id,
                clinic_id: r.clinic_id,
                clinic_name: r.clinic_name,
                requestor: r.requestor,
                mode: known(RequestMode::parse(&r.mode), "request.mode", &r.mode)?,
                patient_group: r.patient_group_name,
                host_group: r.host_group_name,
                request_to: r.request_to,
                service_name: r.service_name,
                times: parse_times(&r.requested_times)
                    .into_iter()
                    .map(|t| zones::fmt_local(t, tz))
                    .collect(),
                note: r.note,
                answers: parse_answers(&r.form_answers),
                created_at: r.created_at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(DispatchBoard {
        now: state.clock.now().timestamp(),
        clinics: authz::clinics_where(me, Role::is_staff),
        rows,
    })
}

// ---- Answering --------------------------------------------------------------

/// A pending-or-not new-session request as the answering code needs it.
struct Loaded {
    clinic_id: i64,
    status: String,
    requester_id: i64,
    requester: String,
    service_id: i64,
    service_name: String,
    minutes: i64,
    mode: RequestMode,
    target: Option<i64>,
    request_to: String,
    times: Vec<i64>,
    note: String,
    answers: Vec<Answer>,
    tz: chrono_tz::Tz,
    version: i64,
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
    version: i64,
}

async fn load(conn: &mut AnyConnection, request_id: i64) -> AppResult<Loaded> {
    let r = sqlx::query_as::<_, LoadedRow>(
        "SELECT r.clinic_id, r.status, r.requester_id, u.name AS requester, r.service_id, \
         COALESCE(s.name, '') AS service_name, COALESCE(s.duration_minutes, 30) AS minutes, \
         COALESCE(r.mode, 'now') AS mode, r.target_provider_id, \
         COALESCE(p.name, c.host_group_name) AS request_to, r.requested_times, r.note, \
         r.form_answers, c.time_zone, r.version \
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
        version: r.version,
    })
}

/// Whether the caller works this request (see `WORKABLE`), and whether
/// they may pick any provider (dispatchers) or only themself.
fn may_work(me: &Me, req: &Loaded) -> AppResult<bool> {
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
async fn already_handled(
    conn: &mut AnyConnection,
    request_id: i64,
    tz: chrono_tz::Tz,
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
            at.map(|t| format!(" at {}", zones::fmt_time(t, tz)))
                .unwrap_or_default()
        ),
    }))
}

/// Possible Conflicting Sessions: each provider's sessions (hosted, or
/// invited and not declined) within `CONFLICT_WINDOW` of any anchor time,
/// described in the clinic's zone. Two queries for all providers.
async fn sessions_near(
    conn: &mut AnyConnection,
    clinic_id: i64,
    providers: &[i64],
    anchors: &[i64],
    tz: chrono_tz::Tz,
) -> AppResult<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    if anchors.is_empty() {
        return Ok(out);
    }
    let ids = id_list(providers);
    let select =
        "SELECT a.starts_at, a.ends_at, u.name AS patient, COALESCE(s.name, '') AS service";
    let from = "JOIN app_user u ON u.id = a.patient_id LEFT JOIN service s ON s.id = a.service_id";
    // One branch per anchor and kind, each a plain index range (an OR of
    // ranges would make SQLite scan every appointment of the providers).
    // The anchors are our own integers, not user text.
    let branches: Vec<String> = anchors
        .iter()
        .flat_map(|a| {
            let (lo, hi) = (a - CONFLICT_WINDOW, a + CONFLICT_WINDOW);
            let range = format!(
                "a.status <> 'cancelled' AND a.starts_at < {hi} AND a.starts_at > {} AND a.ends_at > {lo}",
                lo - booking::LONGEST_APPOINTMENT_SECS
            );
            [
                format!("{select}, a.host_provider_id AS provider_id FROM appointment a {from} WHERE a.host_provider_id IN ({ids}) AND {range}"),
                // Invitations are within the clinic: start from its
                // appointments in the range, not from every invitation.
                format!(
                    "{select}, x.provider_id FROM appointment a JOIN participant x ON x.appointment_id = a.id \
                     AND x.provider_id IN ({ids}) AND x.status <> 'declined' {from} \
                     WHERE a.clinic_id = {clinic_id} AND {range}"
                ),
            ]
        })
        .collect();
    let rows = sqlx::query(&format!("{} ORDER BY 1", branches.join(" UNION ALL ")))
        .fetch_all(conn)
        .await?;
    for r in rows {
        let (start, end): (i64, i64) = (r.get("starts_at"), r.get("ends_at"));
        let line = format!(
            "{}–{} {} ({})",
            zones::fmt_local(start, tz),
            zones::fmt_time(end, tz),
            r.get::<String, _>("service"),
            r.get::<String, _>("patient")
        );
        let list = out.entry(r.get("provider_id")).or_default();
        if !list.contains(&line) {
            list.push(line);
        }
    }
    Ok(out)
}

/// The Assign dialog: who is available, and what might conflict.
#[tracing::instrument(skip_all, fields(user = me.user_id, request_id = request_id))]
pub async fn assign_options(
    state: &AppState,
    me: &Me,
    request_id: i64,
) -> AppResult<AssignOptions> {
    let mut conn = state.db.pool.acquire().await?;
    let req = load(&mut conn, request_id).await?;
    let any_provider = may_work(me, &req)?;
    if req.status != "pending" {
        return Err(already_handled(&mut conn, request_id, req.tz).await?);
    }
    let tz = req.tz;
    let now = state.clock.now().timestamp();
    let on_now = availability::available_now(&mut conn, req.clinic_id).await?;
    let mut providers = Vec::new();
    let candidates: Vec<(i64, String)> = clinic_providers(&mut conn, req.clinic_id)
        .await?
        .into_iter()
        .filter(|p| any_provider || p.0 == me.user_id)
        .collect();
    // Around each requested time (or now, for a Now request).
    let anchors: Vec<i64> = if req.mode == RequestMode::Now {
        vec![now]
    } else {
        req.times.clone()
    };
    let ids: Vec<i64> = candidates.iter().map(|c| c.0).collect();
    let mut free = match req.mode {
        RequestMode::Scheduled => {
            free_at(
                &mut conn,
                req.clinic_id,
                &ids,
                &req.times,
                tz,
                req.minutes as u32,
            )
            .await?
        }
        RequestMode::Now => HashMap::new(),
    };
    let mut sessions = sessions_near(&mut conn, req.clinic_id, &ids, &anchors, tz).await?;
    for (id, name) in candidates {
        let (available, availability) = match req.mode {
            RequestMode::Now => {
                let on = on_now.contains(&id);
                let text = if on {
                    "Available now"
                } else {
                    "Not available now"
                };
                (on, text.to_string())
            }
            RequestMode::Scheduled => {
                let free: Vec<String> = free
                    .remove(&id)
                    .unwrap_or_default()
                    .iter()
                    .map(|t| zones::fmt_local(*t, tz))
                    .collect();
                if free.is_empty() {
                    (false, "Not free at the requested times".to_string())
                } else {
                    (true, format!("Free at {}", free.join("; ")))
                }
            }
        };
        let conflicts = sessions.remove(&id).unwrap_or_default();
        providers.push(AssignProvider {
            addressed: req.target == Some(id),
            id,
            name,
            available,
            availability,
            conflicts,
        });
    }
    // The addressed provider first, then the available ones.
    providers.sort_by_key(|p| (!p.addressed, !p.available));
    Ok(AssignOptions {
        request_id,
        mode: req.mode,
        requestor: req.requester,
        service_name: req.service_name,
        duration_minutes: req.minutes,
        time_zone: tz.name().to_string(),
        request_to: req.request_to,
        times: req
            .times
            .iter()
            .map(|t| TimeChoice {
                start: *t,
                label: zones::fmt_local(*t, tz),
            })
            .collect(),
        providers,
        note: req.note,
        answers: req.answers,
    })
}

/// Claims a pending request for an answer; says who beat us to it if
/// someone did. Holding the row from here to commit keeps others out.
async fn claim(
    change: &mut Change,
    request_id: i64,
    status: RequestStatus,
    response: &str,
    me: &Me,
    tz: chrono_tz::Tz,
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
        Err(already_handled(change.conn(), request_id, tz).await?)
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
        return Err(already_handled(change.conn(), request_id, req.tz).await?);
    }
    if !any_provider && provider_id != me.user_id {
        return Err(AppError::forbidden(
            "You can accept requests for yourself only.",
        ));
    }
    let on_behalf = authz::act_for_provider(me, req.clinic_id, provider_id)?;
    let provider_name = require_provider_of(change.conn(), req.clinic_id, provider_id).await?;
    let tz = req.tz;
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
    claim(
        &mut change,
        request_id,
        RequestStatus::Accepted,
        &response,
        me,
        tz,
    )
    .await?;
    change.lock_provider(provider_id).await?;
    if let Some(c) = find_conflict(change.tx_mut(), provider_id, start, end, &[], tz).await? {
        return Err(AppError::conflict(format!(
            "{provider_name} is already booked at that time: {c}."
        )));
    }
    let appointment_id = insert_booked(
        &mut change,
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

/// Declines a request with an optional response the requester sees.
#[tracing::instrument(skip_all, fields(user = me.user_id, request_id = request_id))]
pub async fn decline(state: &AppState, me: &Me, request_id: i64, response: &str) -> AppResult<()> {
    let response = check_response(response)?;
    let mut change = Change::begin(state).await?;
    let req = load(change.conn(), request_id).await?;
    may_work(me, &req)?;
    if req.status != "pending" {
        return Err(already_handled(change.conn(), request_id, req.tz).await?);
    }
    claim(
        &mut change,
        request_id,
        RequestStatus::Declined,
        &response,
        me,
        req.tz,
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
