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
use sqlx::Row;

/// What the loser of two competing changes is told.
pub(super) const JUST_CHANGED: &str =
    "This appointment was just changed by someone else. Reload and try again.";

/// The appointment a change acts on.
#[derive(Debug, Clone)]
pub(super) struct Appt {
    pub id: i64,
    pub clinic_id: i64,
    pub host: i64,
    pub patient: i64,
    pub status: AppointmentStatus,
    pub starts_at: i64,
    pub ends_at: i64,
    pub version: i64,
    pub location: String,
    pub series_id: Option<i64>,
    pub tz: chrono_tz::Tz,
}

pub(super) async fn load_appt(tx: &mut Tx, id: i64) -> AppResult<Option<Appt>> {
    let r = sqlx::query(
        "SELECT a.id, a.clinic_id, a.host_provider_id, a.patient_id, a.status, a.starts_at, a.ends_at, \
         a.version, c.time_zone, a.location, a.series_id \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    r.map(|r| -> AppResult<Appt> {
        let status: String = r.get(4);
        Ok(Appt {
            id: r.get(0),
            clinic_id: r.get(1),
            host: r.get(2),
            patient: r.get(3),
            status: known(
                AppointmentStatus::parse(&status),
                "appointment.status",
                &status,
            )?,
            starts_at: r.get(5),
            ends_at: r.get(6),
            version: r.get(7),
            tz: zones::parse(&r.get::<String, _>(8)),
            location: r.get(9),
            series_id: r.get(10),
        })
    })
    .transpose()
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
    if let Some(c) =
        find_conflict(change.tx_mut(), a.host, new_start, new_end, &[a.id], a.tz).await?
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
    if updated.rows_affected() == 0 {
        return Err(AppError::conflict(JUST_CHANGED));
    }
    sqlx::query("UPDATE participant SET status = 'needs-action' WHERE appointment_id = $1")
        .bind(a.id)
        .execute(change.conn())
        .await?;
    pms::sync(change, a.id, PmsAction::Rescheduled).await?;
    change
        .audit(Audit {
            actor_id: Some(by.user_id),
            on_behalf_of_id: by.on_behalf_of,
            clinic_id: Some(a.clinic_id),
            action: "appointment.reschedule",
            entity: "appointment",
            entity_id: a.id,
            before: Some(json!({ "starts_at": a.starts_at, "ends_at": a.ends_at,
                "status": a.status.as_str(), "location": a.location, "series_id": a.series_id,
                "version": a.version })),
            after: Some(json!({ "starts_at": to.starts_at, "ends_at": to.ends_at,
                "status": to.status.as_str(), "location": to.location, "series_id": to.series_id })),
        })
        .await?;
    let users = audience(change, a).await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: if to.status == AppointmentStatus::Pending {
                "proposed"
            } else {
                "rescheduled"
            }
            .into(),
            entity_id: a.id,
            clinic_id: Some(a.clinic_id),
            user_ids: users,
            at_us: 0,
        })
        .await
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
        "UPDATE appointment SET status = 'cancelled', cancel_reason_code = $1, cancel_text = $2, \
         cancel_message = $3, cancelled_by = $4, cancelled_on_behalf_of = $5, cancelled_at = $6, \
         cancel_late = $7, cancel_fee_cents = $8, updated_at = $6, version = version + 1 \
         WHERE id = $9 AND version = $10 AND status <> 'cancelled'",
    )
    .bind(c.code)
    .bind(c.text)
    .bind(c.message)
    .bind(by.user_id)
    .bind(by.on_behalf_of)
    .bind(change.now)
    .bind(i64::from(c.late_fee_cents.is_some()))
    .bind(c.late_fee_cents.unwrap_or(0))
    .bind(a.id)
    .bind(a.version)
    .execute(change.conn())
    .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::conflict(JUST_CHANGED));
    }
    pms::sync(change, a.id, PmsAction::Cancelled).await?;
    change
        .audit(Audit {
            actor_id: Some(by.user_id),
            on_behalf_of_id: by.on_behalf_of,
            clinic_id: Some(a.clinic_id),
            action: "appointment.cancel",
            entity: "appointment",
            entity_id: a.id,
            before: Some(json!({ "status": a.status.as_str(), "version": a.version })),
            after: Some(
                json!({ "status": "cancelled", "reason": c.code, "note": c.text,
                "late_fee_cents": c.late_fee_cents, "scope": c.scope }),
            ),
        })
        .await?;
    let users = audience(change, a).await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: "cancelled".into(),
            entity_id: a.id,
            clinic_id: Some(a.clinic_id),
            user_ids: users,
            at_us: 0,
        })
        .await
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
    if updated.rows_affected() == 0 {
        return Err(AppError::conflict(JUST_CHANGED));
    }
    pms::sync(change, a.id, PmsAction::NoShow).await?;
    change
        .audit(Audit {
            actor_id: Some(by.user_id),
            on_behalf_of_id: by.on_behalf_of,
            clinic_id: Some(a.clinic_id),
            action: "appointment.noshow",
            entity: "appointment",
            entity_id: a.id,
            before: Some(json!({ "status": a.status.as_str(), "version": a.version })),
            after: Some(json!({ "status": "noshow", "kind": kind.as_str() })),
        })
        .await?;
    let users = audience(change, a).await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: "noshow".into(),
            entity_id: a.id,
            clinic_id: Some(a.clinic_id),
            user_ids: users,
            at_us: 0,
        })
        .await
}

/// The patient approves the time the clinic proposed: Tentative becomes
/// booked at that time.
pub(super) async fn confirm_proposal(change: &mut Change, a: &Appt, by: Actor) -> AppResult<()> {
    let done = sqlx::query(
        "UPDATE appointment SET status = 'booked', updated_at = $1, version = version + 1 \
         WHERE id = $2 AND version = $3 AND status = 'pending'",
    )
    .bind(change.now)
    .bind(a.id)
    .bind(a.version)
    .execute(change.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::conflict(JUST_CHANGED));
    }
    pms::sync(change, a.id, PmsAction::Confirmed).await?;
    change
        .audit(Audit {
            actor_id: Some(by.user_id),
            on_behalf_of_id: by.on_behalf_of,
            clinic_id: Some(a.clinic_id),
            action: "appointment.proposal_approve",
            entity: "appointment",
            entity_id: a.id,
            before: Some(json!({ "status": "pending", "version": a.version })),
            after: Some(json!({ "status": "booked", "starts_at": a.starts_at })),
        })
        .await?;
    let users = audience(change, a).await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: "proposal_approved".into(),
            entity_id: a.id,
            clinic_id: Some(a.clinic_id),
            user_ids: users,
            at_us: 0,
        })
        .await
}
