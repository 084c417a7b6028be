//! The Schedule: a clinic's appointments for a week (a column per day) or a
//! day (a column per provider), in the clinic's zone, and what the create
//! form offers.

use super::super::db::db_error;
use super::super::state::AppState;
use super::super::zones;
use super::{authz, booking_rows};
use crate::domain::recurrence::resolve_local;
use crate::domain::role::Role;
use crate::domain::schedule::{assign_lanes, grid_hours, week_start};
use crate::error::{AppError, AppResult};
use crate::model::{
    BookingRow, CreateOptions, Me, ProviderChoice, ScheduleColumn, ScheduleItem, ScheduleMode,
    ScheduleView, ServiceOption,
};
use chrono::{Duration, NaiveDate, NaiveTime};
use sqlx::Row;

#[derive(Debug, Clone, Default)]
pub struct ScheduleQuery {
    /// None: the viewer's first clinic.
    pub clinic_id: Option<i64>,
    pub mode: ScheduleMode,
    /// None: today in the clinic's zone.
    pub date: Option<NaiveDate>,
    /// Providers to show (admins and schedulers); empty means all.
    pub providers: Vec<i64>,
}

/// The clinic the viewer is looking at, checked to be one where they are staff.
async fn staff_clinic(
    state: &AppState,
    me: &Me,
    clinic_id: Option<i64>,
) -> AppResult<(i64, String, chrono_tz::Tz, Vec<(i64, String)>)> {
    let mut clinics: Vec<(i64, String)> = me
        .memberships
        .iter()
        .filter(|m| m.role.is_staff())
        .map(|m| (m.clinic_id, m.clinic_name.clone()))
        .collect();
    clinics.dedup();
    let Some(first) = clinics.first() else {
        return Err(AppError::forbidden("Only clinic staff see the Schedule."));
    };
    let id = clinic_id.unwrap_or(first.0);
    authz::require_staff(me, id)?;
    let r = sqlx::query("SELECT name, time_zone FROM clinic WHERE id = $1")
        .bind(id)
        .fetch_one(&state.db.pool)
        .await
        .map_err(db_error)?;
    let tz_name: String = r.get(1);
    Ok((id, r.get(0), zones::parse(&tz_name), clinics))
}

async fn members(state: &AppState, clinic_id: i64, role: Role) -> AppResult<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT u.id, u.name FROM membership m JOIN app_user u ON u.id = m.user_id \
         WHERE m.clinic_id = $1 AND m.role = $2 ORDER BY u.name, u.id",
    )
    .bind(clinic_id)
    .bind(role.as_str())
    .fetch_all(&state.db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

fn local_date_today(now: i64, tz: chrono_tz::Tz) -> NaiveDate {
    chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive()
}

/// Wall-clock minutes from midnight of a row's start ("09:30" → 570).
fn start_minute(row: &BookingRow) -> i64 {
    NaiveTime::parse_from_str(&row.start_time, "%H:%M")
        .map(|t| {
            use chrono::Timelike;
            i64::from(t.hour() * 60 + t.minute())
        })
        .unwrap_or(0)
}

pub async fn view(state: &AppState, me: &Me, q: ScheduleQuery) -> AppResult<ScheduleView> {
    let (clinic_id, clinic_name, tz, clinics) = staff_clinic(state, me, q.clinic_id).await?;
    let now = state.now();
    let today = local_date_today(now, tz);
    let date = q.date.unwrap_or(today);
    let delegate = authz::roles_in(me, clinic_id).any(Role::acts_for_providers);
    let all = members(state, clinic_id, Role::Provider).await?;
    let shown: Vec<i64> = if delegate {
        let picked: Vec<i64> = all
            .iter()
            .map(|p| p.0)
            .filter(|id| q.providers.contains(id))
            .collect();
        if picked.is_empty() {
            all.iter().map(|p| p.0).collect()
        } else {
            picked
        }
    } else {
        vec![me.user_id]
    };
    let days: Vec<NaiveDate> = match q.mode {
        ScheduleMode::Week => {
            let monday = week_start(date);
            (0..7).map(|i| monday + Duration::days(i)).collect()
        }
        ScheduleMode::Day => vec![date],
    };
    let midnight = |d: NaiveDate| {
        resolve_local(&tz, d.and_time(NaiveTime::MIN))
            .map(|t| t.timestamp())
            .unwrap_or(0)
    };
    let from = midnight(days[0]);
    let to = midnight(days[days.len() - 1] + Duration::days(1));

    let mut rows: Vec<BookingRow> = Vec::new();
    if !shown.is_empty() {
        // Provider ids are integers from the membership query, so inlining
        // them is safe; the (clinic_id, starts_at) index serves the range.
        let ids = shown
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT {} {} WHERE a.clinic_id = $2 AND a.starts_at >= $3 AND a.starts_at < $4 \
             AND a.status <> 'cancelled' AND (a.host_provider_id IN ({ids}) OR EXISTS \
             (SELECT 1 FROM participant x WHERE x.appointment_id = a.id AND x.provider_id IN ({ids}))) \
             ORDER BY a.starts_at, a.id",
            booking_rows::COLUMNS,
            booking_rows::FROM
        );
        let found = sqlx::query(&sql)
            .bind(me.user_id)
            .bind(clinic_id)
            .bind(from)
            .bind(to)
            .fetch_all(&state.db.pool)
            .await
            .map_err(db_error)?;
        let viewing = booking_rows::Viewing::new(me, now);
        rows = found
            .iter()
            .map(|r| booking_rows::map(r, &viewing))
            .collect();
        booking_rows::attach_participants(&state.db.pool, &mut rows).await?;
    }
    let warnings = overlap_warnings(&rows);

    let place = |row: &BookingRow, invitation: Option<String>, i: usize| {
        let start = start_minute(row);
        ScheduleItem {
            booking: row.clone(),
            start_minute: start,
            end_minute: (start + row.minutes.max(5)).min(24 * 60),
            lane: 0,
            lanes: 1,
            invitation,
            overlap_warning: warnings[i].clone(),
        }
    };
    let mut columns: Vec<ScheduleColumn> = match q.mode {
        ScheduleMode::Week => days
            .iter()
            .map(|d| {
                let key = d.format("%Y-%m-%d").to_string();
                ScheduleColumn {
                    label: d.format("%a %-d %b").to_string(),
                    items: rows
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.start_date == key)
                        .map(|(i, r)| place(r, r.my_invitation.clone(), i))
                        .collect(),
                    date: key,
                    provider_id: None,
                }
            })
            .collect(),
        ScheduleMode::Day => shown
            .iter()
            .map(|p| {
                let name = all
                    .iter()
                    .find(|(id, _)| id == p)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                ScheduleColumn {
                    label: name,
                    date: date.format("%Y-%m-%d").to_string(),
                    provider_id: Some(*p),
                    items: rows
                        .iter()
                        .enumerate()
                        .filter_map(|(i, r)| {
                            if r.host_id == *p {
                                Some(place(r, None, i))
                            } else {
                                r.participants
                                    .iter()
                                    .find(|x| x.provider_id == *p)
                                    .map(|x| place(r, Some(x.status.clone()), i))
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    for c in &mut columns {
        let spans: Vec<(i64, i64)> = c
            .items
            .iter()
            .map(|i| (i.start_minute, i.end_minute))
            .collect();
        for (item, (lane, lanes)) in c.items.iter_mut().zip(assign_lanes(&spans)) {
            item.lane = lane;
            item.lanes = lanes;
        }
    }
    let (first_hour, last_hour) = grid_hours(
        columns
            .iter()
            .flat_map(|c| c.items.iter().map(|i| (i.start_minute, i.end_minute))),
    );
    let step = match q.mode {
        ScheduleMode::Week => 7,
        ScheduleMode::Day => 1,
    };
    let fmt = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    Ok(ScheduleView {
        clinic_id,
        clinic_name,
        time_zone: tz.name().to_string(),
        clinics,
        mode: q.mode,
        title: match q.mode {
            ScheduleMode::Week => format!("Week of {}", days[0].format("%a %-d %b %Y")),
            ScheduleMode::Day => date.format("%A %-d %B %Y").to_string(),
        },
        date: fmt(date),
        prev: fmt(date - Duration::days(step)),
        next: fmt(date + Duration::days(step)),
        today: fmt(today),
        first_hour,
        last_hour,
        columns,
        providers: all
            .iter()
            .map(|(id, name)| ProviderChoice {
                id: *id,
                name: name.clone(),
                shown: shown.contains(id),
            })
            .collect(),
        choose_providers: delegate,
    })
}

/// For each row: a warning when one of its invited providers (who has not
/// declined) has another appointment among `rows` at an overlapping time.
fn overlap_warnings(rows: &[BookingRow]) -> Vec<Option<String>> {
    let busy = |provider: i64, other: &BookingRow| {
        other.host_id == provider
            || other
                .participants
                .iter()
                .any(|x| x.provider_id == provider && x.status != "declined")
    };
    let span = |r: &BookingRow| {
        (
            r.start_date.clone(),
            start_minute(r),
            start_minute(r) + r.minutes,
        )
    };
    rows.iter()
        .map(|r| {
            let (d, s, e) = span(r);
            let clashes: Vec<&str> = r
                .participants
                .iter()
                .filter(|x| x.status != "declined")
                .filter(|x| {
                    rows.iter().any(|o| {
                        let (od, os, oe) = span(o);
                        o.id != r.id && od == d && os < e && s < oe && busy(x.provider_id, o)
                    })
                })
                .map(|x| x.name.as_str())
                .collect();
            (!clashes.is_empty()).then(|| {
                format!(
                    "{} {} another appointment at this time.",
                    clashes.join(", "),
                    if clashes.len() == 1 { "has" } else { "have" }
                )
            })
        })
        .collect()
}

/// What the create form offers: the clinic's providers (or only the viewer,
/// when they book for themself), patients and active services.
pub async fn create_options(
    state: &AppState,
    me: &Me,
    clinic_id: Option<i64>,
) -> AppResult<CreateOptions> {
    let (clinic_id, _, tz, _) = staff_clinic(state, me, clinic_id).await?;
    let delegate = authz::roles_in(me, clinic_id).any(Role::acts_for_providers);
    let is_provider = authz::roles_in(me, clinic_id).any(|r| r == Role::Provider);
    if !delegate && !is_provider {
        return Err(AppError::forbidden(
            "Only providers, schedulers and admins create appointments.",
        ));
    }
    let services = sqlx::query(
        "SELECT id, name, duration_minutes FROM service WHERE clinic_id = $1 AND active = 1 ORDER BY name",
    )
    .bind(clinic_id)
    .fetch_all(&state.db.pool)
    .await
    .map_err(db_error)?
    .iter()
    .map(|r| ServiceOption {
        id: r.get(0),
        name: r.get(1),
        duration_minutes: r.get(2),
    })
    .collect();
    Ok(CreateOptions {
        clinic_id,
        time_zone: tz.name().to_string(),
        providers: members(state, clinic_id, Role::Provider).await?,
        patients: members(state, clinic_id, Role::Patient).await?,
        services,
        only_provider: (!delegate).then_some(me.user_id),
        today: local_date_today(state.now(), tz)
            .format("%Y-%m-%d")
            .to_string(),
    })
}
