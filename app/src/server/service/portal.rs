//! The patient's side of their appointments: what they see in the portal,
//! and what the clinic's policy lets them do with each.

use super::super::db::db_error;
use super::super::state::AppState;
use super::super::zones;
use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking::CancelReason;
use crate::domain::policy::{PatientChange, Policy};
use crate::error::AppResult;
use crate::model::{Me, MyAppointment, MyAppointmentTab};
use sqlx::Row;

/// The caller's own appointments as a patient, newest first within each
/// list (upcoming ones soonest first). Never anyone else's.
pub async fn my_appointments(state: &AppState, me: &Me) -> AppResult<Vec<MyAppointment>> {
    let now = state.clock.now().timestamp();
    let rows = sqlx::query(
        "SELECT a.id, a.status, a.starts_at, a.ends_at, c.name, c.phone, c.slug, c.time_zone, \
         COALESCE(s.name, ''), h.name, a.host_provider_id, a.video_url, a.meeting_id, a.passcode, a.location, \
         c.late_cancel_window_minutes, c.late_reschedule_window_minutes, c.late_change_needs_approval, \
         c.late_cancel_fee_cents, a.cancel_reason_code, a.cancel_text, a.cancel_message, me.time_zone \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id JOIN app_user h ON h.id = a.host_provider_id \
         JOIN app_user me ON me.id = a.patient_id LEFT JOIN service s ON s.id = a.service_id \
         WHERE a.patient_id = $1 ORDER BY a.starts_at DESC LIMIT 500",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await
    .map_err(db_error)?;
    let mut out: Vec<(i64, MyAppointment)> = rows
        .into_iter()
        .map(|r| {
            let status = AppointmentStatus::parse(&r.get::<String, _>(1))
                .unwrap_or(AppointmentStatus::Booked);
            let (starts, ends): (i64, i64) = (r.get(2), r.get(3));
            let tz = zones::parse(&r.get::<String, _>(7));
            let mine = zones::parse(&r.get::<String, _>(22));
            let when = |z: chrono_tz::Tz| {
                format!(
                    "{}–{} ({})",
                    zones::fmt_local(starts, z),
                    zones::fmt_time(ends, z),
                    z.name()
                )
            };
            let tab = match status {
                AppointmentStatus::Cancelled => MyAppointmentTab::Cancelled,
                _ if ends <= now
                    || matches!(
                        status,
                        AppointmentStatus::Fulfilled | AppointmentStatus::Noshow
                    ) =>
                {
                    MyAppointmentTab::Past
                }
                AppointmentStatus::Pending | AppointmentStatus::Proposed => {
                    MyAppointmentTab::Tentative
                }
                _ => MyAppointmentTab::Upcoming,
            };
            let policy = Policy {
                cancel_window_minutes: r.get(15),
                reschedule_window_minutes: r.get(16),
                needs_approval: r.get::<i64, _>(17) == 1,
                late_cancel_fee_cents: r.get(18),
            };
            let open = matches!(
                tab,
                MyAppointmentTab::Upcoming | MyAppointmentTab::Tentative
            );
            let decide = |c| open.then(|| policy.decide(c, starts, now).ok()).flatten();
            let reason = r
                .get::<Option<String>, _>(19)
                .and_then(|c| CancelReason::from_code(&c));
            let cancellation = (status == AppointmentStatus::Cancelled).then(|| {
                let mut parts = vec![reason
                    .map(|x| x.label().to_string())
                    .unwrap_or_else(|| "Cancelled".into())];
                parts.extend(r.get::<Option<String>, _>(20).filter(|t| !t.is_empty()));
                parts.extend(r.get::<Option<String>, _>(21).filter(|t| !t.is_empty()));
                parts.join(" — ")
            });
            let rebook_link = reason.filter(|x| x.invites_rebooking()).map(|_| {
                format!(
                    "/book/{}?provider={}",
                    r.get::<String, _>(6),
                    r.get::<i64, _>(10)
                )
            });
            let appt = MyAppointment {
                id: r.get(0),
                tab,
                status,
                clinic_name: r.get(4),
                clinic_phone: r.get(5),
                service: r.get(8),
                provider: r.get(9),
                when_clinic: when(tz),
                when_mine: (mine != tz).then(|| when(mine)),
                video_url: r.get(11),
                meeting_id: r.get(12),
                passcode: r.get(13),
                location: r.get(14),
                cancel: decide(PatientChange::Cancel),
                reschedule: decide(PatientChange::Reschedule),
                cancel_deadline: zones::fmt_local(starts - policy.cancel_window_minutes * 60, tz),
                cancellation,
                rebook_link,
            };
            (starts, appt)
        })
        .collect();
    // What is still to come soonest first; the rest newest first.
    out.sort_by_key(|(starts, a)| match a.tab {
        MyAppointmentTab::Upcoming | MyAppointmentTab::Tentative => (0, *starts),
        _ => (1, -*starts),
    });
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

/// What a patient's cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Cancelled at once (outside the window, direct policy).
    Cancelled,
    /// Sent to the practice's Appointment Requests (needs approval, or
    /// inside the window and the patient chose to send it anyway).
    Requested {
        request_id: i64,
        within_window: bool,
    },
}

/// A patient cancels their own appointment, as the clinic's policy allows:
/// directly, as a request for approval, or (inside the late-notice window,
/// only when `send_anyway`) as a request flagged as late.
pub async fn patient_cancel(
    state: &AppState,
    me: &Me,
    appointment_id: i64,
    reason: &str,
    send_anyway: bool,
) -> AppResult<CancelOutcome> {
    use super::{Audit, Change};
    use crate::domain::booking;
    use crate::domain::live::{topic, LiveEvent};
    use crate::domain::policy::Decision;
    use crate::error::AppError;
    use serde_json::json;

    let reason = reason.trim();
    if reason.chars().count() > 255 {
        return Err(AppError::validation(
            "The reason can be at most 255 characters.",
        ));
    }
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let r = sqlx::query(
        "SELECT a.patient_id, a.status, a.starts_at, a.clinic_id, a.host_provider_id, a.version, c.phone, \
         c.late_cancel_window_minutes, c.late_reschedule_window_minutes, c.late_change_needs_approval, \
         c.late_cancel_fee_cents FROM appointment a JOIN clinic c ON c.id = a.clinic_id WHERE a.id = $1",
    )
    .bind(appointment_id)
    .fetch_optional(change.conn())
    .await
    .map_err(db_error)?;
    // Someone else's appointment looks exactly like a missing one.
    let Some(r) = r.filter(|r| r.get::<i64, _>(0) == me.user_id) else {
        return Err(AppError::not_found("You have no such appointment."));
    };
    let status =
        AppointmentStatus::parse(&r.get::<String, _>(1)).unwrap_or(AppointmentStatus::Booked);
    let starts: i64 = r.get(2);
    let (clinic_id, host, version): (i64, i64, i64) = (r.get(3), r.get(4), r.get(5));
    booking::check_cancel(status, starts, now).map_err(AppError::Validation)?;
    let policy = Policy {
        cancel_window_minutes: r.get(7),
        reschedule_window_minutes: r.get(8),
        needs_approval: r.get::<i64, _>(9) == 1,
        late_cancel_fee_cents: r.get(10),
    };
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM request WHERE appointment_id = $1 AND status = 'pending' AND kind IN ('cancel', 'reschedule')",
    )
    .bind(appointment_id)
    .fetch_one(change.conn())
    .await
    .map_err(db_error)?;
    if pending > 0 {
        return Err(AppError::conflict(
            "You have already asked the clinic to change this appointment. You will hear back soon.",
        ));
    }
    let decision = policy
        .decide(PatientChange::Cancel, starts, now)
        .map_err(AppError::Validation)?;
    let within = matches!(decision, Decision::InsideWindow { .. });
    if within && !send_anyway {
        let phone: String = r.get(6);
        return Err(AppError::validation(format!(
            "This appointment is within the clinic's notice period. Please call {} to cancel it, or send your request anyway.",
            if phone.is_empty() { "the clinic".to_string() } else { phone }
        )));
    }
    let audience = vec![me.user_id, host];
    let outcome = if decision == Decision::Direct {
        let done = sqlx::query(
            "UPDATE appointment SET status = 'cancelled', cancel_reason_code = 'pat', cancel_text = $1, \
             cancelled_by = $2, cancelled_at = $3, updated_at = $3, version = version + 1 \
             WHERE id = $4 AND status <> 'cancelled'",
        )
        .bind(reason)
        .bind(me.user_id)
        .bind(now)
        .bind(appointment_id)
        .execute(change.conn())
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(AppError::conflict("This appointment was just cancelled."));
        }
        change
            .audit(Audit {
                actor_id: Some(me.user_id),
                on_behalf_of_id: None,
                clinic_id: Some(clinic_id),
                action: "appointment.cancel",
                entity: "appointment",
                entity_id: appointment_id,
                before: Some(json!({ "status": status.as_str(), "version": version })),
                after: Some(json!({ "status": "cancelled", "reason": "pat", "by": "patient" })),
            })
            .await?;
        change
            .emit(LiveEvent {
                topic: topic::APPOINTMENT.into(),
                action: "cancelled".into(),
                entity_id: appointment_id,
                version: version + 1,
                clinic_id: Some(clinic_id),
                user_ids: audience,
                at_us: 0,
            })
            .await?;
        CancelOutcome::Cancelled
    } else {
        let request_id: i64 = sqlx::query_scalar(
            "INSERT INTO request (clinic_id, kind, status, requester_id, appointment_id, within_policy_window, note, created_at) \
             VALUES ($1, 'cancel', 'pending', $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(clinic_id)
        .bind(me.user_id)
        .bind(appointment_id)
        .bind(i64::from(within))
        .bind(reason)
        .bind(now)
        .fetch_one(change.conn())
        .await
        .map_err(|e| {
            // The unique index backs up the check above against a concurrent twin.
            if super::super::db::is_unique_violation(&e) {
                AppError::conflict("You have already asked the clinic to change this appointment. You will hear back soon.")
            } else {
                db_error(e)
            }
        })?;
        change
            .audit(Audit {
                actor_id: Some(me.user_id),
                on_behalf_of_id: None,
                clinic_id: Some(clinic_id),
                action: "request.create",
                entity: "request",
                entity_id: request_id,
                before: None,
                after: Some(json!({ "kind": "cancel", "appointment_id": appointment_id, "within_policy_window": within })),
            })
            .await?;
        change
            .emit(LiveEvent {
                topic: topic::REQUEST.into(),
                action: "created".into(),
                entity_id: request_id,
                version: 1,
                clinic_id: Some(clinic_id),
                user_ids: audience,
                at_us: 0,
            })
            .await?;
        CancelOutcome::Requested {
            request_id,
            within_window: within,
        }
    };
    change.commit().await?;
    Ok(outcome)
}
