//! One appointment as the staff views show it (`BookingRow`): the columns
//! to select, how a row maps to what the viewer may do with it, and the
//! invited providers with their answers. Shared by the Bookings list,
//! Consultations and the Schedule.

use super::super::db::id_list;
use super::super::zones;
use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking::{self, CancelReason};
use crate::domain::datetime_style::DateStyle;
use crate::domain::modality::{Modality, Venue};
use crate::error::AppResult;
use crate::model::{BookingRow, Invitee, Me};
use crate::server::db::known;
use chrono::{DateTime, Datelike, TimeZone, Timelike};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

/// Columns for a [`Raw`] (read with `query_as`); `$1` must be bound to the
/// viewer's user id.
pub const COLUMNS: &str =
    "a.id, c.name AS clinic_name, c.time_zone, c.date_style, p.name AS patient, h.name AS practitioner, \
     s.name AS service, a.starts_at, a.ends_at, a.status, a.series_id, a.noshow_kind, \
     a.cancel_reason_code, a.host_provider_id AS host_id, \
     (SELECT x.status FROM participant x WHERE x.appointment_id = a.id AND x.provider_id = $1) \
     AS my_invitation, \
     a.clinic_id, a.location, a.video_url, a.meeting_id, a.passcode, a.pms_sync_state, c.pms_connector, \
     a.cancel_late, a.cancel_fee_cents, s.modality, c.address AS clinic_address, c.call_phone, \
     c.cancel_reason_required, a.proposal_deadline";

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

/// One appointment as selected by `COLUMNS`.
#[derive(Debug, sqlx::FromRow)]
pub struct Raw {
    pub id: i64,
    pub clinic_name: String,
    pub time_zone: String,
    pub date_style: String,
    pub patient: String,
    pub practitioner: String,
    pub service: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: String,
    pub series_id: Option<i64>,
    pub noshow_kind: Option<String>,
    pub cancel_reason_code: Option<String>,
    pub host_id: i64,
    pub my_invitation: Option<String>,
    pub clinic_id: i64,
    pub location: String,
    pub video_url: String,
    pub meeting_id: String,
    pub passcode: String,
    pub pms_sync_state: String,
    pub pms_connector: String,
    /// 1: cancelled late, with `cancel_fee_cents` charged (0: none).
    pub cancel_late: i64,
    pub cancel_fee_cents: i64,
    /// The service's modality code, and where the clinic holds in-person
    /// and phone appointments (see `domain::modality::Venue`).
    pub modality: String,
    pub clinic_address: String,
    pub call_phone: String,
    /// 1: the clinic requires a reason to cancel.
    pub cancel_reason_required: i64,
    /// When the patient must answer the clinic's open proposal, if any.
    pub proposal_deadline: Option<i64>,
}

pub fn map(r: Raw, v: &Viewing) -> AppResult<BookingRow> {
    let now = v.now;
    let host = r.host_id;
    let clinic_id = r.clinic_id;
    // Only the host, or an admin/scheduler for them, changes a meeting; an
    // invited provider may decline instead.
    let may_change = host == v.user_id || v.delegates.contains(&clinic_id);
    let tz_name = r.time_zone;
    let clock = zones::Clock::new(&tz_name, &r.date_style)?;
    let tz = clock.tz;
    let (start, end) = (r.starts_at, r.ends_at);
    let status_code = r.status;
    let status = known(
        AppointmentStatus::parse(&status_code),
        "appointment.status",
        &status_code,
    )?;
    let noshow = r.noshow_kind;
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
    let at = |ts: i64| {
        chrono::DateTime::from_timestamp(ts, 0)
            .unwrap_or_default()
            .with_timezone(&tz)
    };
    let (local, local_end) = (at(start), at(end));
    let modality = known(
        Modality::parse(&r.modality),
        "service.modality",
        &r.modality,
    )?;
    let place = Venue {
        modality,
        address: &r.clinic_address,
        call_phone: &r.call_phone,
        room: &r.location,
    }
    .place();
    Ok(BookingRow {
        modality,
        place,
        cancel_reason_required: r.cancel_reason_required == 1,
        id: r.id,
        clinic_name: r.clinic_name,
        patient: r.patient,
        practitioner: r.practitioner,
        service: r.service,
        when: when(clock.style, &local, &local_end),
        status_label,
        in_series: r.series_id.is_some(),
        cancel_blocked: blocked(booking::check_cancel),
        reschedule_blocked: blocked(booking::check_reschedule),
        noshow_blocked: blocked(booking::check_noshow),
        cancel_reason: r
            .cancel_reason_code
            .and_then(|c| CancelReason::from_code(&c))
            .map(|c| c.label().to_string()),
        my_invitation: r.my_invitation,
        host_id: host,
        status: status_code,
        participants: Vec::new(),
        location: r.location,
        video_url: r.video_url,
        meeting_id: r.meeting_id,
        passcode: r.passcode,
        start_date: format!(
            "{:04}-{:02}-{:02}",
            local.year(),
            local.month(),
            local.day()
        ),
        start_time: format!("{:02}:{:02}", local.hour(), local.minute()),
        time_label: clock.style.time(&local),
        minutes: (end - start) / 60,
        time_zone: tz_name,
        pms_sync: r.pms_sync_state,
        pms_manual_cancel: r.pms_connector == "manual_cancel",
        late_fee: (r.cancel_late == 1 && r.cancel_fee_cents > 0)
            .then(|| crate::model::money(r.cancel_fee_cents)),
        // Filled in by `attach_reminders` where a view shows them.
        confirmed: false,
        reminder: None,
        answer_by: r
            .proposal_deadline
            .filter(|_| status == AppointmentStatus::Pending)
            .map(|d| format!("Patient to answer by {}", clock.short(d))),
    })
}

/// "Fri 6 Mar 2026, 11:00–11:30" (or "Fri, Mar 6, 2026, 11:00 AM–11:30 AM"),
/// the same text as `Clock::local` and `Clock::time` give. The style
/// formats directly (no strftime): a clinic's week has thousands of rows.
fn when<Z: TimeZone>(style: DateStyle, start: &DateTime<Z>, end: &DateTime<Z>) -> String {
    format!("{}–{}", style.date_time(start, true), style.time(end))
}

/// Invited providers with their names and answers; add joins and a WHERE
/// clause, and read the rows with `group_invitees`.
pub const INVITEES: &str = "SELECT x.appointment_id, x.provider_id, u.name, x.status \
     FROM participant x JOIN app_user u ON u.id = x.provider_id";

/// `INVITEES` rows grouped by appointment id (kept in query order).
pub fn group_invitees(found: &[AnyRow], into: &mut HashMap<i64, Vec<Invitee>>) {
    for r in found {
        into.entry(r.get("appointment_id"))
            .or_default()
            .push(Invitee {
                provider_id: r.get("provider_id"),
                name: r.get("name"),
                status: r.get("status"),
            });
    }
}

/// Fills in each row's invited providers and their answers.
#[tracing::instrument(skip_all)]
pub async fn attach_participants(pool: &AnyPool, rows: &mut [BookingRow]) -> AppResult<()> {
    let mut by_id: HashMap<i64, Vec<Invitee>> = HashMap::new();
    for chunk in rows.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
        let found = sqlx::query(&format!(
            "{INVITEES} WHERE x.appointment_id IN ({}) ORDER BY u.name",
            id_list(&ids)
        ))
        .fetch_all(pool)
        .await?;
        group_invitees(&found, &mut by_id);
    }
    for row in rows {
        row.participants = by_id.remove(&row.id).unwrap_or_default();
    }
    Ok(())
}

/// Fills in each row's confirmation and what became of its reminders for
/// its current time (issue 15): the latest one sent, else one queued,
/// scheduled or skipped, in that order.
#[tracing::instrument(skip_all)]
pub async fn attach_reminders(pool: &AnyPool, rows: &mut [BookingRow]) -> AppResult<()> {
    for chunk in rows.chunks_mut(500) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
        let found = sqlx::query(&format!(
            "SELECT a.id, a.confirmed_at, c.time_zone, c.date_style, \
             (SELECT MAX(o.sent_at) FROM reminder r JOIN outbox o ON o.id = r.outbox_id \
              WHERE r.appointment_id = a.id AND r.for_start = a.starts_at AND o.status = 'sent') AS sent_at, \
             CAST((SELECT MIN(CASE r.status WHEN 'queued' THEN 1 WHEN 'scheduled' THEN 2 WHEN 'skipped' THEN 3 END) \
              FROM reminder r WHERE r.appointment_id = a.id AND r.for_start = a.starts_at) AS BIGINT) AS state \
             FROM appointment a JOIN clinic c ON c.id = a.clinic_id WHERE a.id IN ({})",
            id_list(&ids)
        ))
        .fetch_all(pool)
        .await?;
        let mut by_id: HashMap<i64, (bool, Option<String>)> = HashMap::new();
        for r in &found {
            let clock = zones::Clock::new(
                &r.get::<String, _>("time_zone"),
                &r.get::<String, _>("date_style"),
            )?;
            let sent = r.get::<Option<i64>, _>("sent_at").map(|t| clock.short(t));
            let label = crate::domain::reminder::staff_label(sent.as_deref(), r.get("state"));
            by_id.insert(
                r.get("id"),
                (r.get::<Option<i64>, _>("confirmed_at").is_some(), label),
            );
        }
        for row in chunk {
            if let Some((confirmed, label)) = by_id.remove(&row.id) {
                row.confirmed = confirmed;
                row.reminder = label;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_reads_like_the_zone_formatters() {
        for (tz, style) in [
            ("America/New_York", "en-US"),
            ("Australia/Sydney", "en-AU"),
            ("Europe/London", "24h"),
        ] {
            let clock = zones::Clock::new(tz, style).unwrap();
            for start in [1_772_550_000_i64, 1_773_000_000, 1_799_999_999] {
                let end = start + 1800;
                let at = |t: i64| {
                    DateTime::from_timestamp(t, 0)
                        .unwrap()
                        .with_timezone(&clock.tz)
                };
                assert_eq!(
                    when(clock.style, &at(start), &at(end)),
                    format!("{}–{}", clock.local(start), clock.time(end))
                );
            }
        }
    }
}
