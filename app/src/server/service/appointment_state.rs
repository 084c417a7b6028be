//! The one owner of an appointment's state once it exists: moving it
//! (staff, a patient, a proposal), cancelling it, marking it FTA/DNA and
//! confirming a proposed time. Whoever acts (staff, the patient, an answer
//! to a request), each change is written here the same way: guarded by the
//! version read with it (a competing change makes this one a conflict, not
//! a silent overwrite), then the PMS sync, one audit entry and one live
//! event of the same shape. Creating appointments, and moving a whole
//! series, stay in `appointments`, which uses the loader and rules here.

use super::super::db::Tx;
use super::super::notify::pms;
use super::super::zones;
use super::appointments::{conflict_or_db, find_conflict};
use super::{Audit, Change};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking::{self, NoShowKind};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::pms::PmsAction;
use crate::error::{AppError, AppResult};
use crate::server::db::known;
use serde_json::json;

/// What the loser of two competing changes is told.
pub(super) const JUST_CHANGED: &str =
    "This appointment was just changed by someone else. Reload and try again.";

/// The appointment a change acts on.
#[derive(Debug, Clone)]
pub(super) struct Appt {
    pub id: i64,
    pub clinic_id: i64,
    pub service_id: i64,
    pub host: i64,
    pub patient: i64,
    pub status: AppointmentStatus,
    pub starts_at: i64,
    pub ends_at: i64,
    pub version: i64,
    pub location: String,
    pub series_id: Option<i64>,
    pub tz: chrono_tz::Tz,
    /// The clinic's zone and date style, for times shown about it.
    pub clock: zones::Clock,
}

/// An appointment row as stored, before its codes are decoded.
#[derive(sqlx::FromRow)]
struct ApptRow {
    id: i64,
    clinic_id: i64,
    service_id: i64,
    host_provider_id: i64,
    patient_id: i64,
    status: String,
    starts_at: i64,
    ends_at: i64,
    version: i64,
    time_zone: String,
    date_style: String,
    location: String,
    series_id: Option<i64>,
}

pub(super) async fn load_appt(tx: &mut Tx, id: i64) -> AppResult<Option<Appt>> {
    let row: Option<ApptRow> = sqlx::query_as(
        "SELECT a.id, a.clinic_id, a.service_id, a.host_provider_id, a.patient_id, a.status, a.starts_at, a.ends_at, \
         a.version, c.time_zone, c.date_style, a.location, a.series_id \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Appt {
        id: r.id,
        clinic_id: r.clinic_id,
        service_id: r.service_id,
        host: r.host_provider_id,
        patient: r.patient_id,
        status: known(
            AppointmentStatus::parse(&r.status),
            "appointment.status",
            &r.status,
        )?,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        version: r.version,
        tz: zones::parse(&r.time_zone),
        clock: zones::Clock::new(&r.time_zone, &r.date_style)?,
        location: r.location,
        series_id: r.series_id,
    }))
}

/// Everyone who sees the appointment change live: patient, host, invited.
pub(super) async fn audience(change: &mut Change, a: &Appt) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> =
        sqlx::query_scalar("SELECT provider_id FROM participant WHERE appointment_id = $1")
            .bind(a.id)
            .fetch_all(change.conn())
            .await?;
    ids.extend([a.patient, a.host]);
    Ok(ids)
}

/// Who changed an appointment, for its audit entry.
#[derive(Debug, Clone, Copy)]
pub(super) struct Actor {
    pub user_id: i64,
    pub on_behalf_of: Option<i64>,
}

impl Actor {
    /// The server itself, when time rather than a person changes an
    /// appointment (a proposal's deadline passing): recorded with no user
    /// (`audit.actor_id` and `cancelled_by` NULL). Not the proposer acting
    /// on behalf of someone: they did nothing; the `proposal.expire` audit
    /// entry names them. 0 is never a user's id.
    pub const SERVER: Actor = Actor {
        user_id: 0,
        on_behalf_of: None,
    };

    /// The user who acted; None for the server.
    pub fn user(self) -> Option<i64> {
        (self.user_id != 0).then_some(self.user_id)
    }
}

/// What became of an appointment after a change: what follows from it
/// (its reminders, a freed time for the waitlist, a proposal's deadline)
/// is decided from this and the appointment as it was (`Appt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// At a new time or status (`Pending` = a time the clinic proposed).
    Moved {
        starts_at: i64,
        ends_at: i64,
        status: AppointmentStatus,
    },
    Cancelled,
    NoShow,
    /// The patient approved the proposed time: booked where it was.
    ProposalApproved,
}

/// Who is told why a time is not free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Told {
    /// Staff see which appointment is in the way.
    Staff,
    /// A patient never sees another patient's name, appointment or time.
    Patient,
}

/// What a patient is told when the time they chose was taken.
pub(super) const TIME_TAKEN_FOR_PATIENT: &str =
    "That time is not free any more. Choose another of the times offered.";

/// Moves one appointment to `new_start`, keeping its length, and sets its
/// status (`booked`, or `pending` = Tentative for a proposal). The host must
/// be free then; invited providers are asked again.
pub(super) async fn move_appt(
    change: &mut Change,
    a: &Appt,
    new_start: i64,
    status: AppointmentStatus,
    by: Actor,
    told: Told,
) -> AppResult<()> {
    let new_end = new_start + (a.ends_at - a.starts_at);
    booking::check_new_times(new_start, new_end, change.now).map_err(AppError::Validation)?;
    change.lock_provider(a.host).await?;
    if let Some(c) = find_conflict(
        change.tx_mut(),
        a.host,
        new_start,
        new_end,
        &[a.id],
        a.clock,
    )
    .await?
    {
        return Err(AppError::conflict(match told {
            Told::Staff => {
                format!("That time is no longer free: the provider is booked then ({c}).")
            }
            Told::Patient => TIME_TAKEN_FOR_PATIENT.to_string(),
        }));
    }
    let to = Placement {
        starts_at: new_start,
        ends_at: new_end,
        status,
        location: a.location.clone(),
        series_id: a.series_id,
    };
    place_appt(change, a, &to, by).await
}

/// Where an appointment goes: its time, status, location and series.
#[derive(Debug, Clone)]
pub(super) struct Placement {
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: AppointmentStatus,
    pub location: String,
    pub series_id: Option<i64>,
}

/// Writes an appointment's new placement, as it was when loaded; the
/// caller has checked the host is free (under `Change::lock_provider`).
/// Invited providers are asked again.
pub(super) async fn place_appt(
    change: &mut Change,
    a: &Appt,
    to: &Placement,
    by: Actor,
) -> AppResult<()> {
    // The new time must not be held through the FHIR API's $hold: every
    // move, staff's or a patient's, is written here, under the lock.
    let moved = (to.starts_at, to.ends_at) != (a.starts_at, a.ends_at);
    if moved && super::fhir::holds::is_held(change, a.host, to.starts_at, to.ends_at).await? {
        return Err(AppError::conflict(super::fhir::holds::HELD));
    }
    let updated = sqlx::query(
        "UPDATE appointment SET starts_at = $1, ends_at = $2, status = $3, location = $4, series_id = $5, \
         updated_at = $6, version = version + 1 WHERE id = $7 AND version = $8",
    )
    .bind(to.starts_at)
    .bind(to.ends_at)
    .bind(to.status.as_str())
    .bind(&to.location)
    .bind(to.series_id)
    .bind(change.now)
    .bind(a.id)
    .bind(a.version)
    .execute(change.conn())
    .await
    .map_err(conflict_or_db)?;
    guarded(updated)?;
    sqlx::query("UPDATE participant SET status = 'needs-action' WHERE appointment_id = $1")
        .bind(a.id)
        .execute(change.conn())
        .await?;
    let what = Recorded {
        pms: PmsAction::Rescheduled,
        audit: "appointment.reschedule",
        before: json!({ "starts_at": a.starts_at, "ends_at": a.ends_at,
            "status": a.status.as_str(), "location": a.location, "series_id": a.series_id,
            "version": a.version }),
        after: json!({ "starts_at": to.starts_at, "ends_at": to.ends_at,
            "status": to.status.as_str(), "location": to.location, "series_id": to.series_id }),
        live: if to.status == AppointmentStatus::Pending {
            "proposed"
        } else {
            "rescheduled"
        },
        became: After::Moved {
            starts_at: to.starts_at,
            ends_at: to.ends_at,
            status: to.status,
        },
    };
    record(change, a, by, what).await
}

/// How a cancellation is recorded.
pub(super) struct Cancellation<'a> {
    /// FHIR cancellation-reason code.
    pub code: &'a str,
    pub text: &'a str,
    pub message: &'a str,
    /// The late-cancellation fee recorded (0: not late).
    pub late_fee_cents: Option<i64>,
    /// "this", or "series" when it is one of a series cancelled together.
    pub scope: &'static str,
}

/// Cancels one appointment, as it was when loaded: if someone changed or
/// cancelled it since, nothing is written and the caller is told.
pub(super) async fn cancel_appt(
    change: &mut Change,
    a: &Appt,
    c: Cancellation<'_>,
    by: Actor,
) -> AppResult<()> {
    let updated = sqlx::query(
        "UPDATE appointment SET status = 'cancelled', cancel_reason_code = NULLIF($1, ''), cancel_text = $2, \
         cancel_message = $3, cancelled_by = $4, cancelled_on_behalf_of = $5, cancelled_at = $6, \
         cancel_late = $7, cancel_fee_cents = $8, updated_at = $6, version = version + 1 \
         WHERE id = $9 AND version = $10 AND status <> 'cancelled'",
    )
    .bind(c.code)
    .bind(c.text)
    .bind(c.message)
    .bind(by.user())
    .bind(by.on_behalf_of)
    .bind(change.now)
    .bind(i64::from(c.late_fee_cents.is_some()))
    .bind(c.late_fee_cents.unwrap_or(0))
    .bind(a.id)
    .bind(a.version)
    .execute(change.conn())
    .await?;
    guarded(updated)?;
    let what = Recorded {
        pms: PmsAction::Cancelled,
        audit: "appointment.cancel",
        before: json!({ "status": a.status.as_str(), "version": a.version }),
        after: json!({ "status": "cancelled", "reason": c.code, "note": c.text,
            "late_fee_cents": c.late_fee_cents, "scope": c.scope }),
        live: "cancelled",
        became: After::Cancelled,
    };
    record(change, a, by, what).await
}

/// Marks a past appointment FTA or DNA (both FHIR `noshow`).
pub(super) async fn mark_noshow_appt(
    change: &mut Change,
    a: &Appt,
    kind: NoShowKind,
    by: Actor,
) -> AppResult<()> {
    let updated = sqlx::query(
        "UPDATE appointment SET status = 'noshow', noshow_kind = $1, updated_at = $2, version = version + 1 \
         WHERE id = $3 AND version = $4",
    )
    .bind(kind.as_str())
    .bind(change.now)
    .bind(a.id)
    .bind(a.version)
    .execute(change.conn())
    .await?;
    guarded(updated)?;
    let what = Recorded {
        pms: PmsAction::NoShow,
        audit: "appointment.noshow",
        before: json!({ "status": a.status.as_str(), "version": a.version }),
        after: json!({ "status": "noshow", "kind": kind.as_str() }),
        live: "noshow",
        became: After::NoShow,
    };
    record(change, a, by, what).await
}

/// The patient approves the time the clinic proposed: Tentative becomes
/// booked at that time.
pub(super) async fn confirm_proposal(change: &mut Change, a: &Appt, by: Actor) -> AppResult<()> {
    let updated = sqlx::query(
        "UPDATE appointment SET status = 'booked', updated_at = $1, version = version + 1 \
         WHERE id = $2 AND version = $3 AND status = 'pending'",
    )
    .bind(change.now)
    .bind(a.id)
    .bind(a.version)
    .execute(change.conn())
    .await?;
    guarded(updated)?;
    let what = Recorded {
        pms: PmsAction::Confirmed,
        audit: "appointment.proposal_approve",
        before: json!({ "status": "pending", "version": a.version }),
        after: json!({ "status": "booked", "starts_at": a.starts_at }),
        live: "proposal_approved",
        became: After::ProposalApproved,
    };
    record(change, a, by, what).await
}

/// A guarded UPDATE that changed no row lost to a competing change.
fn guarded(result: sqlx::any::AnyQueryResult) -> AppResult<()> {
    if result.rows_affected() == 0 {
        return Err(AppError::conflict(JUST_CHANGED));
    }
    Ok(())
}

/// What every change leaves behind, whoever made it.
struct Recorded {
    /// What the practice-management system is told.
    pms: PmsAction,
    /// The audit entry's action, and the appointment before and after.
    audit: &'static str,
    before: serde_json::Value,
    after: serde_json::Value,
    /// The live event's action, for everyone who sees the appointment.
    live: &'static str,
    /// What became of it, for what follows from the change.
    became: After,
}

/// The tail of every change, the same for all: the PMS sync, what follows
/// from it (reminders re-timed or dropped, a freed time offered to the
/// waitlist, a proposal's deadline set or cleared), one audit entry, one
/// live event to the appointment's audience.
async fn record(change: &mut Change, a: &Appt, by: Actor, r: Recorded) -> AppResult<()> {
    pms::sync(change, a.id, r.pms).await?;
    super::reminders::after_change(change, a, r.became).await?;
    super::proposals::after_change(change, a, r.became, by).await?;
    super::waitlist::after_change(change, a, r.became).await?;
    change
        .audit(Audit {
            actor_id: by.user(),
            on_behalf_of_id: by.on_behalf_of,
            clinic_id: Some(a.clinic_id),
            action: r.audit,
            entity: "appointment",
            entity_id: a.id,
            before: Some(r.before),
            after: Some(r.after),
        })
        .await?;
    let users = audience(change, a).await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: r.live.into(),
            entity_id: a.id,
            clinic_id: Some(a.clinic_id),
            user_ids: users,
            at_us: 0,
        })
        .await
}
