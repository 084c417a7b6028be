//! The Bookings list: every appointment the caller may see, filtered by
//! status, date range and patient name, a page at a time.

use super::super::db::db_error;
use super::super::state::AppState;
use super::super::zones;
use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking::{self, CancelReason};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{BookingPage, BookingRow, BookingStatusFilter, Me};
use chrono::NaiveDate;
use sqlx::Row;

pub const PAGE_SIZE: i64 = 20;
const MAX_SEARCH: usize = 100;

#[derive(Debug, Clone, Default)]
pub struct BookingQuery {
    pub status: BookingStatusFilter,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub search: String,
    pub page: i64,
}

pub async fn list(state: &AppState, me: &Me, q: BookingQuery) -> AppResult<BookingPage> {
    let staff: Vec<(i64, Role)> = me
        .memberships
        .iter()
        .filter(|m| m.role.is_staff())
        .map(|m| (m.clinic_id, m.role))
        .collect();
    if staff.is_empty() {
        return Err(AppError::forbidden(
            "Only clinic staff see the Bookings list.",
        ));
    }
    if q.search.chars().count() > MAX_SEARCH {
        return Err(AppError::validation("Search for at most 100 characters."));
    }
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if t < f {
            return Err(AppError::validation(
                "The end of the date range is before its start.",
            ));
        }
    }
    let now = state.now();
    // Dates are read in the zone of the caller's first clinic.
    let tz_name: String = sqlx::query_scalar("SELECT time_zone FROM clinic WHERE id = $1")
        .bind(staff[0].0)
        .fetch_one(&state.db.pool)
        .await
        .map_err(db_error)?;
    let tz = zones::parse(&tz_name);
    let day_start = |d: NaiveDate| {
        crate::domain::recurrence::resolve_local(&tz, d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .map(|t| t.timestamp())
    };
    let from = q.from.and_then(day_start).unwrap_or(i64::MIN / 2);
    let to =
        q.to.and_then(|d| d.succ_opt())
            .and_then(day_start)
            .unwrap_or(i64::MAX / 2);
    let status_sql = match q.status {
        BookingStatusFilter::Upcoming => "a.status = 'booked' AND a.ends_at > $2",
        BookingStatusFilter::Active => {
            "a.status IN ('booked', 'pending', 'proposed') AND a.ends_at > $2"
        }
        BookingStatusFilter::Tentative => "a.status IN ('pending', 'proposed') AND a.ends_at > $2",
        BookingStatusFilter::Past => {
            "a.status IN ('booked', 'fulfilled', 'pending', 'proposed') AND a.ends_at <= $2"
        }
        BookingStatusFilter::Cancelled => "a.status = 'cancelled' AND $2 = $2",
        BookingStatusFilter::NoShow => "a.status = 'noshow' AND $2 = $2",
    };
    // Admins and schedulers see their clinics' bookings; providers see the
    // ones they host or are invited to.
    let visible = "((a.clinic_id IN (SELECT clinic_id FROM membership WHERE user_id = $1 AND role IN ('admin', 'scheduler'))) \
         OR (a.host_provider_id = $1) \
         OR EXISTS (SELECT 1 FROM participant x WHERE x.appointment_id = a.id AND x.provider_id = $1))";
    let filter = format!(
        "FROM appointment a JOIN clinic c ON c.id = a.clinic_id JOIN app_user p ON p.id = a.patient_id \
         JOIN app_user h ON h.id = a.host_provider_id JOIN service s ON s.id = a.service_id \
         WHERE {visible} AND {status_sql} AND a.starts_at >= $3 AND a.starts_at < $4 \
         AND ($5 = '' OR LOWER(p.name) LIKE $6)"
    );
    let search = q.search.trim().to_lowercase();
    let like = format!("%{}%", search.replace(['\\', '%', '_'], ""));
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {filter}"))
        .bind(me.user_id)
        .bind(now)
        .bind(from)
        .bind(to)
        .bind(&search)
        .bind(&like)
        .fetch_one(&state.db.pool)
        .await
        .map_err(db_error)?;
    let page = q.page.max(0);
    let order = match q.status {
        BookingStatusFilter::Upcoming
        | BookingStatusFilter::Active
        | BookingStatusFilter::Tentative => "a.starts_at ASC",
        _ => "a.starts_at DESC",
    };
    let rows = sqlx::query(&format!(
        "SELECT a.id, c.name, c.time_zone, p.name, h.name, s.name, a.starts_at, a.ends_at, a.status, \
         a.series_id, a.noshow_kind, a.cancel_reason_code, a.host_provider_id, \
         (SELECT x.status FROM participant x WHERE x.appointment_id = a.id AND x.provider_id = $1), \
         a.clinic_id {filter} ORDER BY {order}, a.id LIMIT $7 OFFSET $8"
    ))
    .bind(me.user_id)
    .bind(now)
    .bind(from)
    .bind(to)
    .bind(&search)
    .bind(&like)
    .bind(PAGE_SIZE)
    .bind(page * PAGE_SIZE)
    .fetch_all(&state.db.pool)
    .await
    .map_err(db_error)?;
    // Clinics where the caller acts for every provider.
    let delegates: Vec<i64> = staff
        .iter()
        .filter(|(_, role)| role.acts_for_providers())
        .map(|(c, _)| *c)
        .collect();
    let rows = rows
        .into_iter()
        .map(|r| {
            // Only the host, or an admin/scheduler for them, changes a
            // meeting; an invited provider may decline instead.
            let host: i64 = r.get(12);
            let my_invitation: Option<String> = r.get(13);
            let clinic_id: i64 = r.get(14);
            let may_change = host == me.user_id || delegates.contains(&clinic_id);
            let not_host = || {
                "Only the host can cancel or reschedule this meeting. You can decline your invitation."
                    .to_string()
            };
            let tz_name: String = r.get(2);
            let tz = zones::parse(&tz_name);
            let (start, end): (i64, i64) = (r.get(6), r.get(7));
            let status = AppointmentStatus::parse(r.get::<String, _>(8).as_str())
                .unwrap_or(AppointmentStatus::Booked);
            let noshow: Option<String> = r.get(10);
            let status_label = match status {
                AppointmentStatus::Cancelled => "Cancelled".to_string(),
                AppointmentStatus::Noshow => noshow.as_deref().unwrap_or("fta").to_uppercase(),
                AppointmentStatus::Pending | AppointmentStatus::Proposed => "Tentative".into(),
                _ if end <= now => "Past".into(),
                _ if start <= now => "In progress".into(),
                _ => "Upcoming".into(),
            };
            BookingRow {
                id: r.get(0),
                clinic_name: r.get(1),
                time_zone: tz_name,
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
                cancel_blocked: if may_change {
                    booking::check_cancel(status, start, now).err()
                } else {
                    Some(not_host())
                },
                noshow_blocked: if may_change {
                    booking::check_noshow(status, start, now).err()
                } else {
                    Some(not_host())
                },
                cancel_reason: r
                    .get::<Option<String>, _>(11)
                    .and_then(|c| CancelReason::from_code(&c))
                    .map(|c| c.label().to_string()),
                my_invitation,
            }
        })
        .collect();
    Ok(BookingPage {
        rows,
        total,
        page,
        page_size: PAGE_SIZE,
    })
}
