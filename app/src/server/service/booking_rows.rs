//! One appointment as the staff views show it (`BookingRow`): the columns
//! to select, how a row maps to what the viewer may do with it, and the
//! invited providers with their answers. Shared by the Bookings list,
//! Consultations and the Schedule.

use super::super::db::db_error;
use super::super::zones;
use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking::{self, CancelReason};
use crate::error::AppResult;
use crate::model::{BookingRow, Invitee, Me};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// Columns for `map`; `$1` must be bound to the viewer's user id.
pub const COLUMNS: &str =
    "a.id, c.name, c.time_zone, p.name, h.name, s.name, a.starts_at, a.ends_at, \
     a.status, a.series_id, a.noshow_kind, a.cancel_reason_code, a.host_provider_id, \
     (SELECT x.status FROM participant x WHERE x.appointment_id = a.id AND x.provider_id = $1), \
     a.clinic_id, a.location, a.video_url, a.meeting_id, a.passcode";

/// The joins `COLUMNS` reads from.
pub const FROM: &str = "FROM appointment a JOIN clinic c ON c.id = a.clinic_id \
     JOIN app_user p ON p.id = a.patient_id JOIN app_user h ON h.id = a.host_provider_id \
     JOIN service s ON s.id = a.service_id";

const NOT_HOST: &str =
    "Only the host can cancel or reschedule this meeting. You can decline your invitation.";

/// What the viewer is and when "now" is.
pub struct Viewing {
    pub user_id: i64,
    pub now: i64,
    /// Clinics where the viewer acts for every provider (admin, scheduler).
    pub delegates: Vec<i64>,
}

impl Viewing {
    pub fn new(me: &Me, now: i64) -> Self {
        let mut delegates: Vec<i64> = me
            .memberships
            .iter()
            .filter(|m| m.role.acts_for_providers())
            .map(|m| m.clinic_id)
            .collect();
        delegates.dedup();
        Viewing {
            user_id: me.user_id,
            now,
            delegates,
        }
    }
}

pub fn map(r: &AnyRow, v: &Viewing) -> BookingRow {
    let now = v.now;
    let host: i64 = r.get(12);
    let clinic_id: i64 = r.get(14);
    // Only the host, or an admin/scheduler for them, changes a meeting; an
    // invited provider may decline instead.
    let may_change = host == v.user_id || v.delegates.contains(&clinic_id);
    let tz_name: String = r.get(2);
    let tz = zones::parse(&tz_name);
    let (start, end): (i64, i64) = (r.get(6), r.get(7));
    let status_code: String = r.get(8);
    let status = AppointmentStatus::parse(&status_code).unwrap_or(AppointmentStatus::Booked);
    let noshow: Option<String> = r.get(10);
    let status_label = match status {
        AppointmentStatus::Cancelled => "Cancelled".to_string(),
        AppointmentStatus::Noshow => noshow.as_deref().unwrap_or("fta").to_uppercase(),
        AppointmentStatus::Pending | AppointmentStatus::Proposed => "Tentative".into(),
        _ if end <= now => "Past".into(),
        _ if start <= now => "In progress".into(),
        _ => "Upcoming".into(),
    };
    let blocked = |rule: fn(AppointmentStatus, i64, i64) -> Result<(), String>| {
        if may_change {
            rule(status, start, now).err()
        } else {
            Some(NOT_HOST.to_string())
        }
    };
    let local = chrono::DateTime::from_timestamp(start, 0)
        .unwrap_or_default()
        .with_timezone(&tz);
    BookingRow {
        id: r.get(0),
        clinic_name: r.get(1),
        patient: r.get(3),
        practitioner: r.get(4),
        service: r.get(5),
        when: format!(
            "{}–{}",
            zones::fmt_local(start, tz),
            zones::fmt_time(end, tz)
        ),
        status_label,
        in_series: r.get::<Option<i64>, _>(9).is_some(),
        cancel_blocked: blocked(booking::check_cancel),
        reschedule_blocked: blocked(booking::check_reschedule),
        noshow_blocked: blocked(booking::check_noshow),
        cancel_reason: r
            .get::<Option<String>, _>(11)
            .and_then(|c| CancelReason::from_code(&c))
            .map(|c| c.label().to_string()),
        my_invitation: r.get(13),
        host_id: host,
        status: status_code,
        participants: Vec::new(),
        location: r.get(15),
        video_url: r.get(16),
        meeting_id: r.get(17),
        passcode: r.get(18),
        start_date: local.format("%Y-%m-%d").to_string(),
        start_time: local.format("%H:%M").to_string(),
        minutes: (end - start) / 60,
        time_zone: tz_name,
    }
}

/// Fills in each row's invited providers and their answers.
pub async fn attach_participants(pool: &AnyPool, rows: &mut [BookingRow]) -> AppResult<()> {
    use std::collections::HashMap;
    let mut by_id: HashMap<i64, Vec<Invitee>> = HashMap::new();
    for chunk in rows.chunks(500) {
        // Ids are integers from our own query, so inlining them is safe and
        // keeps one statement per chunk on both databases.
        let ids: Vec<String> = chunk.iter().map(|r| r.id.to_string()).collect();
        let found = sqlx::query(&format!(
            "SELECT x.appointment_id, x.provider_id, u.name, x.status FROM participant x \
             JOIN app_user u ON u.id = x.provider_id WHERE x.appointment_id IN ({}) \
             ORDER BY u.name",
            ids.join(",")
        ))
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
        for r in found {
            by_id.entry(r.get(0)).or_default().push(Invitee {
                provider_id: r.get(1),
                name: r.get(2),
                status: r.get(3),
            });
        }
    }
    for row in rows {
        row.participants = by_id.remove(&row.id).unwrap_or_default();
    }
    Ok(())
}
