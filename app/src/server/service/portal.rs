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
