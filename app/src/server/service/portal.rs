//! The patient's side of their appointments: what they see in the portal,
//! and what the clinic's policy lets them do with each.

use super::super::db::{refused_by, Rule};
use super::super::notify::{self, About, Notice, Span};
use super::super::state::AppState;
use super::super::zones;
use super::appointment_state::{
    cancel_appt, confirm_proposal, load_appt, move_appt, Actor, Appt, Cancellation, Told,
    TIME_TAKEN_FOR_PATIENT,
};
use super::availability::load_calendars;
use super::clinic_settings::{policy_from_row, POLICY_COLUMNS};
use super::requests::{parse_times, slot_days};
use super::{Audit, Change};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking::{self, CancelReason};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::modality::{Modality, Venue};
use crate::domain::notify::NotifyEvent;
use crate::domain::policy::{Decision, PatientChange, Policy};
use crate::domain::request::{ChangeAnswer, RequestKind};
use crate::error::{AppError, AppResult};
use crate::model::{ChangeOutcome, Me, MyAppointment, MyAppointmentTab, SlotDay};
use crate::server::db::known;
use serde_json::json;
use sqlx::Row;

/// The caller's own appointments as a patient, newest first within each
/// list (upcoming ones soonest first). Never anyone else's.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn my_appointments(state: &AppState, me: &Me) -> AppResult<Vec<MyAppointment>> {
    let now = state.clock.now().timestamp();
    let rows = sqlx::query_as::<_, MyApptRow>(
        "SELECT a.id, a.status, a.starts_at, a.ends_at, c.name AS clinic_name, \
         c.phone AS clinic_phone, c.slug, c.time_zone, c.date_style, COALESCE(s.name, '') AS service, \
         h.name AS provider, a.host_provider_id, a.video_url, a.meeting_id, a.passcode, a.location, \
         c.late_cancel_window_minutes, c.late_reschedule_window_minutes, c.late_change_needs_approval, \
         c.late_cancel_fee_cents, a.cancel_reason_code, a.cancel_text, a.cancel_message, \
         a.cancel_late, a.cancel_fee_cents, me.time_zone AS my_time_zone, \
         COALESCE(s.modality, 'video') AS modality, c.address, c.call_phone, \
         a.proposal_deadline, a.proposal_from_starts_at, c.proposal_on_expiry \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id JOIN app_user h ON h.id = a.host_provider_id \
         JOIN app_user me ON me.id = a.patient_id LEFT JOIN service s ON s.id = a.service_id \
         WHERE a.patient_id = $1 ORDER BY a.starts_at DESC LIMIT 500",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    let latest = latest_requests(state, me).await?;
    let mut out: Vec<(i64, MyAppointment)> = rows
        .into_iter()
        .map(|r| {
            let req = latest.get(&r.id);
            Ok((r.starts_at, my_appointment(r, req, now)?))
        })
        .collect::<AppResult<_>>()?;
    // What is still to come soonest first; the rest newest first.
    out.sort_by_key(|(starts, a)| match a.tab {
        MyAppointmentTab::Upcoming | MyAppointmentTab::Tentative => (0, *starts),
        _ => (1, -*starts),
    });
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

/// The latest change request of each of the caller's appointments.
async fn latest_requests(
    state: &AppState,
    me: &Me,
) -> AppResult<std::collections::HashMap<i64, LatestRequestRow>> {
    let mut latest: std::collections::HashMap<i64, LatestRequestRow> = Default::default();
    // Newest first, so the first one seen of an appointment is its latest.
    for r in sqlx::query_as::<_, LatestRequestRow>(
        "SELECT appointment_id, kind, status, outcome, response, response_message, original_start, \
         requested_times, within_policy_window FROM request WHERE requester_id = $1 \
         AND kind IN ('cancel', 'reschedule') ORDER BY created_at DESC, id DESC LIMIT 1000",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?
    {
        latest.entry(r.appointment_id).or_insert(r);
    }
    Ok(latest)
}

/// One appointment as the portal lists it: its tab, what the clinic's
/// policy lets the patient do with it now, and where its latest change
/// request stands.
fn my_appointment(
    r: MyApptRow,
    req: Option<&LatestRequestRow>,
    now: i64,
) -> AppResult<MyAppointment> {
    let status = known(
        AppointmentStatus::parse(&r.status),
        "appointment.status",
        &r.status,
    )?;
    let (starts, ends) = (r.starts_at, r.ends_at);
    // The clinic's style throughout, in its zone and in the patient's.
    let clock = zones::Clock::new(&r.time_zone, &r.date_style)?;
    let tz = clock.tz;
    let mine = zones::parse(&r.my_time_zone);
    let when = |z: chrono_tz::Tz| {
        let c = clock.in_zone(z);
        format!("{}–{} ({})", c.local(starts), c.time(ends), z.name())
    };
    let tab = tab_of(status, ends, now);
    let policy = Policy {
        cancel_window_minutes: r.late_cancel_window_minutes,
        reschedule_window_minutes: r.late_reschedule_window_minutes,
        needs_approval: r.late_change_needs_approval == 1,
        late_cancel_fee_cents: r.late_cancel_fee_cents,
        // Only the windows decide what this list offers.
        ..Policy::default()
    };
    let open = matches!(
        tab,
        MyAppointmentTab::Upcoming | MyAppointmentTab::Tentative
    );
    let decide = |c| open.then(|| policy.decide(c, starts, now).ok()).flatten();
    let reason = r
        .cancel_reason_code
        .as_deref()
        .and_then(CancelReason::from_code);
    let cancellation = (status == AppointmentStatus::Cancelled).then(|| {
        let mut parts = vec![reason
            .map(|x| x.label().to_string())
            .unwrap_or_else(|| "Cancelled".into())];
        parts.extend(r.cancel_text.clone().filter(|t| !t.is_empty()));
        parts.extend(r.cancel_message.clone().filter(|t| !t.is_empty()));
        if r.cancel_late == 1 && r.cancel_fee_cents > 0 {
            parts.push(format!(
                "Late cancellation fee {}",
                crate::model::money(r.cancel_fee_cents)
            ));
        }
        parts.join(" — ")
    });
    let rebook_link = reason
        .filter(|x| x.invites_rebooking())
        .map(|_| format!("/book/{}?provider={}", r.slug, r.host_provider_id));
    let answer = req.and_then(|q| ChangeAnswer::parse(q.outcome.as_deref()?).map(|a| (a, q)));
    let clinic_answer = answer.map(|(a, q)| {
        let mut parts = vec![a.outcome_label().to_string()];
        parts.extend(q.response.clone().filter(|t| !t.is_empty()));
        parts.extend(q.response_message.clone().filter(|t| !t.is_empty()));
        parts.join(" — ")
    });
    let proposed_instead_of = answer
        .filter(|(a, _)| *a == ChangeAnswer::Propose && status == AppointmentStatus::Pending)
        .and_then(|(_, q)| q.original_start)
        .map(|was| clock.local(was));
    let modality = known(
        Modality::parse(&r.modality),
        "service.modality",
        &r.modality,
    )?;
    // Where, in the clinic's words: its address (and room) for an in-person
    // appointment, the number to call for a phone one.
    let place = Venue {
        modality,
        address: &r.address,
        call_phone: &r.call_phone,
        room: &r.location,
    }
    .place();
    Ok(MyAppointment {
        id: r.id,
        modality,
        tab,
        status,
        clinic_name: r.clinic_name,
        clinic_phone: r.clinic_phone,
        service: r.service,
        provider: r.provider,
        when_clinic: when(tz),
        when_mine: (mine != tz).then(|| when(mine)),
        video_url: r.video_url,
        meeting_id: r.meeting_id,
        passcode: r.passcode,
        location: place,
        cancel: decide(PatientChange::Cancel),
        reschedule: decide(PatientChange::Reschedule),
        cancel_deadline: clock.local(starts - policy.cancel_window_minutes * 60),
        cancellation,
        rebook_link,
        pending_change: req.and_then(|q| pending_change(q, clock)),
        clinic_answer,
        proposed_instead_of,
        answer_by: super::proposals::answer_by(
            clock,
            status,
            r.proposal_deadline,
            r.proposal_from_starts_at,
            &r.proposal_on_expiry,
        )?,
    })
}

/// Which of the portal's lists an appointment is in.
fn tab_of(status: AppointmentStatus, ends: i64, now: i64) -> MyAppointmentTab {
    match status {
        AppointmentStatus::Cancelled => MyAppointmentTab::Cancelled,
        _ if ends <= now
            || matches!(
                status,
                AppointmentStatus::Fulfilled | AppointmentStatus::Noshow
            ) =>
        {
            MyAppointmentTab::Past
        }
        AppointmentStatus::Pending | AppointmentStatus::Proposed => MyAppointmentTab::Tentative,
        _ => MyAppointmentTab::Upcoming,
    }
}

/// What the patient asked for, while the clinic has not answered yet.
fn pending_change(q: &LatestRequestRow, clock: zones::Clock) -> Option<String> {
    if q.status != "pending" {
        return None;
    }
    let late = if q.within_policy_window == 1 {
        " It was sent inside the notice period."
    } else {
        ""
    };
    Some(match RequestKind::parse(&q.kind) {
        Some(RequestKind::Reschedule) => {
            let to = parse_times(&q.requested_times)
                .first()
                .map(|t| clock.local(*t))
                .unwrap_or_default();
            format!(
                "You asked to move this appointment to {to}. The clinic will answer soon.{late}"
            )
        }
        _ => format!("You asked to cancel this appointment. The clinic will answer soon.{late}"),
    })
}

/// A patient's own appointment with its clinic's policy and the patient's
/// zone.
#[derive(sqlx::FromRow)]
struct MyApptRow {
    id: i64,
    status: String,
    starts_at: i64,
    ends_at: i64,
    clinic_name: String,
    clinic_phone: String,
    slug: String,
    time_zone: String,
    date_style: String,
    service: String,
    provider: String,
    host_provider_id: i64,
    video_url: String,
    meeting_id: String,
    passcode: String,
    location: String,
    late_cancel_window_minutes: i64,
    late_reschedule_window_minutes: i64,
    late_change_needs_approval: i64,
    late_cancel_fee_cents: i64,
    cancel_reason_code: Option<String>,
    cancel_text: Option<String>,
    cancel_message: Option<String>,
    /// 1: cancelled late, with `cancel_fee_cents` charged.
    cancel_late: i64,
    cancel_fee_cents: i64,
    my_time_zone: String,
    modality: String,
    address: String,
    call_phone: String,
    proposal_deadline: Option<i64>,
    proposal_from_starts_at: Option<i64>,
    proposal_on_expiry: String,
}

/// A change request a patient made about one of their appointments.
#[derive(sqlx::FromRow)]
struct LatestRequestRow {
    appointment_id: i64,
    kind: String,
    status: String,
    outcome: Option<String>,
    response: Option<String>,
    response_message: Option<String>,
    original_start: Option<i64>,
    requested_times: String,
    within_policy_window: i64,
}

const ALREADY_ASKED: &str =
    "You have already asked the clinic to change this appointment. You will hear back soon.";

/// One of the caller's appointments, about to be changed by them, with the
/// clinic's policy and phone.
struct Mine {
    appt: Appt,
    policy: Policy,
    phone: String,
    service_minutes: i64,
}

/// Loads the caller's own appointment; someone else's looks exactly like a
/// missing one.
async fn load_mine(change: &mut Change, me: &Me, appointment_id: i64) -> AppResult<Mine> {
    let missing = || AppError::not_found("You have no such appointment.");
    let appt = load_appt(change.tx_mut(), appointment_id)
        .await?
        .filter(|a| a.patient == me.user_id)
        .ok_or_else(missing)?;
    let r = sqlx::query(&format!(
        "SELECT phone, {POLICY_COLUMNS} FROM clinic WHERE id = $1"
    ))
    .bind(appt.clinic_id)
    .fetch_one(change.conn())
    .await?;
    let service_minutes = (appt.ends_at - appt.starts_at) / 60;
    Ok(Mine {
        policy: policy_from_row(&r),
        phone: r.get("phone"),
        appt,
        service_minutes,
    })
}

async fn has_pending_change(change: &mut Change, appointment_id: i64) -> AppResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM request WHERE appointment_id = $1 AND status = 'pending' \
         AND kind IN ('cancel', 'reschedule')",
    )
    .bind(appointment_id)
    .fetch_one(change.conn())
    .await?;
    Ok(n > 0)
}

/// The policy's decision for the caller's change, or why they must call.
fn decide(m: &Mine, what: PatientChange, now: i64, send_anyway: bool) -> AppResult<Decision> {
    let decision = m
        .policy
        .decide(what, m.appt.starts_at, now)
        .map_err(AppError::Validation)?;
    if matches!(decision, Decision::InsideWindow { .. }) && !send_anyway {
        let verb = match what {
            PatientChange::Cancel => "cancel",
            PatientChange::Reschedule => "reschedule",
        };
        return Err(AppError::validation(format!(
            "This appointment is within the clinic's notice period. Please call {} to {verb} it, or send your request anyway.",
            if m.phone.is_empty() { "the clinic" } else { m.phone.as_str() }
        )));
    }
    Ok(decision)
}

/// Files a change request for the practice's Appointment Requests,
/// addressed to the host.
async fn file_request(
    change: &mut Change,
    me: &Me,
    m: &Mine,
    kind: RequestKind,
    requested: &[i64],
    note: &str,
    within: bool,
) -> AppResult<ChangeOutcome> {
    let request_id: i64 = sqlx::query_scalar(
        "INSERT INTO request (clinic_id, kind, status, requester_id, target_provider_id, appointment_id, \
         within_policy_window, requested_times, note, created_at) \
         VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(m.appt.clinic_id)
    .bind(kind.as_str())
    .bind(me.user_id)
    .bind(m.appt.host)
    .bind(m.appt.id)
    .bind(i64::from(within))
    .bind(serde_json::to_string(requested).unwrap_or_else(|_| "[]".into()))
    .bind(note)
    .bind(change.now)
    .fetch_one(change.conn())
    .await
    // The unique index backs up the check against a concurrent twin.
    .map_err(|e| refused_by(e, Rule::OnePendingChange, || AppError::conflict(ALREADY_ASKED)))?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(m.appt.clinic_id),
            action: "request.create",
            entity: "request",
            entity_id: request_id,
            before: None,
            after: Some(json!({ "kind": kind.as_str(), "appointment_id": m.appt.id,
                "requested_times": requested, "within_policy_window": within })),
        })
        .await?;
    change
        .emit(LiveEvent {
            topic: topic::REQUEST.into(),
            action: "created".into(),
            entity_id: request_id,
            clinic_id: Some(m.appt.clinic_id),
            user_ids: vec![me.user_id, m.appt.host],
            at_us: 0,
        })
        .await?;
    notify::request_event(
        change,
        NotifyEvent::ChangeRequestReceived,
        request_id,
        me.user_id,
        "",
        note,
    )
    .await?;
    Ok(ChangeOutcome::Requested {
        request_id,
        within_window: within,
    })
}

fn check_note(note: &str) -> AppResult<&str> {
    let note = note.trim();
    if note.chars().count() > 255 {
        return Err(AppError::validation(
            "The reason can be at most 255 characters.",
        ));
    }
    Ok(note)
}

/// A patient cancels their own appointment, as the clinic's policy allows:
/// directly, as a request for approval, or (inside the late-notice window,
/// only when `send_anyway`) as a request flagged as late.
#[tracing::instrument(skip_all, fields(user = me.user_id, appointment_id = appointment_id))]
pub async fn patient_cancel(
    state: &AppState,
    me: &Me,
    appointment_id: i64,
    reason: &str,
    send_anyway: bool,
) -> AppResult<ChangeOutcome> {
    let reason = check_note(reason)?;
    let mut change = Change::begin(state).await?;
    let outcome = cancel_in(&mut change, me, appointment_id, reason, send_anyway).await?;
    change.commit().await?;
    Ok(outcome)
}

/// The patient's cancel inside `change`, as the clinic's policy allows (the
/// portal's Cancel, and a reminder's Cancel link).
pub(super) async fn cancel_in(
    change: &mut Change,
    me: &Me,
    appointment_id: i64,
    reason: &str,
    send_anyway: bool,
) -> AppResult<ChangeOutcome> {
    let now = change.now;
    let m = load_mine(change, me, appointment_id).await?;
    booking::check_cancel(m.appt.status, m.appt.starts_at, now).map_err(AppError::Validation)?;
    if has_pending_change(change, appointment_id).await? {
        return Err(AppError::conflict(ALREADY_ASKED));
    }
    let decision = decide(&m, PatientChange::Cancel, now, send_anyway)?;
    if decision != Decision::Direct {
        let within = matches!(decision, Decision::InsideWindow { .. });
        return file_request(change, me, &m, RequestKind::Cancel, &[], reason, within).await;
    }
    let by = Actor {
        user_id: me.user_id,
        on_behalf_of: None,
    };
    let c = Cancellation {
        code: "pat",
        text: reason,
        message: "",
        late_fee_cents: None,
        scope: "this",
    };
    cancel_appt(change, &m.appt, c, by).await?;
    notify::appointment_changed(
        change,
        NotifyEvent::AppointmentCancelled,
        m.appt.id,
        me.user_id,
        None,
        "",
    )
    .await?;
    Ok(ChangeOutcome::Done)
}

/// A patient moves their own appointment to one of the same provider's free
/// slots for the same length, as the clinic's policy allows (like
/// [`patient_cancel`]).
#[tracing::instrument(skip_all, fields(user = me.user_id, appointment_id = appointment_id))]
pub async fn patient_reschedule(
    state: &AppState,
    me: &Me,
    appointment_id: i64,
    new_start: i64,
    note: &str,
    send_anyway: bool,
) -> AppResult<ChangeOutcome> {
    let note = check_note(note)?;
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let m = load_mine(&mut change, me, appointment_id).await?;
    booking::check_reschedule(m.appt.status, m.appt.starts_at, now)
        .map_err(AppError::Validation)?;
    if m.appt.status == AppointmentStatus::Pending {
        return Err(AppError::validation(
            "The clinic has proposed a new time for this appointment. Approve it or cancel the appointment.",
        ));
    }
    if has_pending_change(&mut change, appointment_id).await? {
        return Err(AppError::conflict(ALREADY_ASKED));
    }
    if new_start == m.appt.starts_at {
        return Err(AppError::validation(
            "That is the appointment's current time. Choose another time.",
        ));
    }
    let decision = decide(&m, PatientChange::Reschedule, now, send_anyway)?;
    // Only the times offered: the free times up to the clinic's booking
    // horizon (the calendar below covers no more, so a later time would
    // look free).
    m.policy
        .check_within_horizon(new_start, now)
        .map_err(AppError::Validation)?;
    let free =
        reschedule_calendar(change.conn(), &m.appt, m.policy.booking_horizon_days, now).await?;
    if !free.is_free(&m.appt.tz, new_start, m.service_minutes as u32) || new_start <= now {
        return Err(AppError::conflict(TIME_TAKEN_FOR_PATIENT));
    }
    let outcome = if decision == Decision::Direct {
        let by = Actor {
            user_id: me.user_id,
            on_behalf_of: None,
        };
        move_appt(
            &mut change,
            &m.appt,
            new_start,
            AppointmentStatus::Booked,
            by,
            Told::Patient,
        )
        .await?;
        notify::appointment_changed(
            &mut change,
            NotifyEvent::AppointmentRescheduled,
            m.appt.id,
            me.user_id,
            Some(m.appt.starts_at),
            "",
        )
        .await?;
        ChangeOutcome::Done
    } else {
        let within = matches!(decision, Decision::InsideWindow { .. });
        let kind = RequestKind::Reschedule;
        file_request(&mut change, me, &m, kind, &[new_start], note, within).await?
    };
    change.commit().await?;
    Ok(outcome)
}

/// The host's calendar for moving this appointment: its own time counts as
/// free, so a patient can move it by less than its length.
async fn reschedule_calendar(
    conn: &mut sqlx::AnyConnection,
    a: &Appt,
    horizon_days: u32,
    now: i64,
) -> AppResult<crate::domain::slots::Calendar> {
    let to = now.saturating_add(i64::from(horizon_days + 2) * 86_400);
    // Holds count as taken (a held time is not offered nor accepted).
    let mut cals = load_calendars(conn, a.clinic_id, &[a.host], (now - 86_400, to), now).await?;
    let mut cal = cals.remove(&a.host).unwrap_or_default();
    cal.busy
        .retain(|s| !(s.start == a.starts_at && s.end == a.ends_at));
    Ok(cal)
}

/// The times the caller can move their appointment to: the same
/// provider's free slots of the same length up to the clinic's booking
/// horizon, by day, in the clinic's zone.
#[tracing::instrument(skip_all, fields(user = me.user_id, appointment_id = appointment_id))]
pub async fn reschedule_slots(
    state: &AppState,
    me: &Me,
    appointment_id: i64,
) -> AppResult<Vec<SlotDay>> {
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let m = load_mine(&mut change, me, appointment_id).await?;
    booking::check_reschedule(m.appt.status, m.appt.starts_at, now)
        .map_err(AppError::Validation)?;
    let days = m.policy.booking_horizon_days;
    let cal = reschedule_calendar(change.conn(), &m.appt, days, now).await?;
    let tz = m.appt.tz;
    let today = chrono::DateTime::<chrono::Utc>::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    let slots: Vec<i64> = cal
        .free_slots(&tz, today, days, m.service_minutes as u32, now + 1)
        .into_iter()
        .filter(|s| *s != m.appt.starts_at)
        .collect();
    Ok(slot_days(&slots, m.appt.clock))
}

/// The patient answers the clinic's proposed time: approve (booked at the
/// new time) or cancel the appointment. Not a counter-proposal.
#[tracing::instrument(skip_all, fields(user = me.user_id, appointment_id = appointment_id))]
pub async fn answer_proposal(
    state: &AppState,
    me: &Me,
    appointment_id: i64,
    approve: bool,
) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let m = load_mine(&mut change, me, appointment_id).await?;
    let a = &m.appt;
    super::proposals::check_not_expired(&mut change, a).await?;
    match a.status {
        AppointmentStatus::Pending => {}
        AppointmentStatus::Cancelled => {
            return Err(AppError::conflict("This appointment is cancelled."))
        }
        _ => {
            return Err(AppError::conflict(
                "You have already answered this proposal.",
            ))
        }
    }
    if a.starts_at <= now {
        return Err(AppError::validation(
            "The proposed time has passed. Please contact the clinic.",
        ));
    }
    let by = Actor {
        user_id: me.user_id,
        on_behalf_of: None,
    };
    if approve {
        // Of two answers sent at once (two taps, two tabs), the later
        // finds the proposal already answered.
        confirm_proposal(&mut change, a, by)
            .await
            .map_err(|e| match e {
                AppError::Conflict(_) => {
                    AppError::conflict("You have already answered this proposal.")
                }
                e => e,
            })?;
    } else {
        let c = Cancellation {
            code: "pat",
            text: "The patient cancelled instead of accepting the proposed time.",
            message: "",
            late_fee_cents: None,
            scope: "this",
        };
        cancel_appt(&mut change, a, c, by).await?;
    }
    let mut n = Notice::new(
        NotifyEvent::ProposalAnswered,
        About::Appointment {
            id: a.id,
            span: Span::One,
        },
        me.user_id,
    );
    n.outcome = if approve {
        "approved".into()
    } else {
        "declined (the appointment is cancelled)".into()
    };
    notify::queue(&mut change, n).await?;
    change.commit().await
}
