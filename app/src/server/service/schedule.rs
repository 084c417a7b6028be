//! The Schedule: a clinic's appointments for a week (a column per day) or a
//! day (a column per provider), in the clinic's zone, and what the create
//! form offers.

use super::super::db::{id_list, DbKind};
use super::super::state::AppState;
use super::super::zones;
use super::{authz, booking_rows};
use crate::domain::datetime_style::DateStyle;
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
use std::collections::HashMap;

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
struct StaffClinic {
    id: i64,
    name: String,
    tz: chrono_tz::Tz,
    /// How the clinic writes dates and times.
    style: DateStyle,
    /// The PMS connector (the cancel dialog warns about a manual one).
    pms_connector: String,
    /// Where in-person and phone appointments take place, and whether
    /// cancelling needs a reason (issue 12's modality).
    address: String,
    call_phone: String,
    cancel_reason_required: i64,
    /// Every clinic where the viewer is staff.
    clinics: Vec<(i64, String)>,
}

async fn staff_clinic(state: &AppState, me: &Me, clinic_id: Option<i64>) -> AppResult<StaffClinic> {
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
    let r = sqlx::query(
        "SELECT name, time_zone, date_style, pms_connector, address, call_phone, \
         cancel_reason_required FROM clinic WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&state.db.pool)
    .await?;
    let tz_name: String = r.get("time_zone");
    Ok(StaffClinic {
        id,
        name: r.get("name"),
        tz: zones::parse(&tz_name),
        style: zones::style(&r.get::<String, _>("date_style"))?,
        pms_connector: r.get("pms_connector"),
        address: r.get("address"),
        call_phone: r.get("call_phone"),
        cancel_reason_required: r.get("cancel_reason_required"),
        clinics,
    })
}

async fn members(state: &AppState, clinic_id: i64, role: Role) -> AppResult<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT u.id, u.name FROM membership m JOIN app_user u ON u.id = m.user_id \
         WHERE m.clinic_id = $1 AND m.role = $2 ORDER BY u.name, u.id",
    )
    .bind(clinic_id)
    .bind(role.as_str())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows.iter().map(|r| (r.get("id"), r.get("name"))).collect())
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

#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn view(state: &AppState, me: &Me, q: ScheduleQuery) -> AppResult<ScheduleView> {
    let clinic = staff_clinic(state, me, q.clinic_id).await?;
    let (clinic_id, tz) = (clinic.id, clinic.tz);
    let now = state.now();
    let today = local_date_today(now, tz);
    let date = q.date.unwrap_or(today);
    let delegate = authz::roles_in(me, clinic_id).any(Role::acts_for_providers);
    let all = members(state, clinic_id, Role::Provider).await?;
    let shown = shown_providers(me, delegate, &all, &q.providers);
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
    let range = (
        midnight(days[0]),
        midnight(days[days.len() - 1] + Duration::days(1)),
    );
    let rows = rows_shown(state, me, now, &clinic, range, &shown, &all, delegate).await?;
    let warnings = overlap_warnings(&rows);
    let mut columns = match q.mode {
        ScheduleMode::Week => week_columns(&days, rows, warnings, clinic.style),
        ScheduleMode::Day => day_columns(date, &shown, &all, &rows, &warnings),
    };
    for c in &mut columns {
        assign_column_lanes(c);
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
        clinic_name: clinic.name.clone(),
        time_zone: tz.name().to_string(),
        clinics: clinic.clinics.clone(),
        mode: q.mode,
        title: match q.mode {
            ScheduleMode::Week => format!("Week of {}", clinic.style.date(&days[0], true)),
            ScheduleMode::Day => clinic.style.long_date(&date),
        },
        date: fmt(date),
        prev: fmt(date - Duration::days(step)),
        next: fmt(date + Duration::days(step)),
        today: fmt(today),
        first_hour,
        last_hour,
        hour_labels: (first_hour..last_hour)
            .map(|h| clinic.style.hour(h))
            .collect(),
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

/// The providers whose appointments the view shows: admins and schedulers
/// pick among the clinic's (none picked: all of them); a provider sees
/// only their own.
fn shown_providers(me: &Me, delegate: bool, all: &[(i64, String)], picked: &[i64]) -> Vec<i64> {
    if !delegate {
        return vec![me.user_id];
    }
    let picked: Vec<i64> = all
        .iter()
        .map(|p| p.0)
        .filter(|id| picked.contains(id))
        .collect();
    if picked.is_empty() {
        all.iter().map(|p| p.0).collect()
    } else {
        picked
    }
}

/// The shown providers' appointments (hosted or invited to) in `[from, to)`.
#[allow(clippy::too_many_arguments)]
async fn rows_shown(
    state: &AppState,
    me: &Me,
    now: i64,
    clinic: &StaffClinic,
    (from, to): (i64, i64),
    shown: &[i64],
    all: &[(i64, String)],
    delegate: bool,
) -> AppResult<Vec<BookingRow>> {
    if shown.is_empty() {
        return Ok(Vec::new());
    }
    // The (clinic_id, starts_at) index serves the range.
    let ids = id_list(shown);
    // Everyone shown: the whole clinic, no per-row provider test.
    let who = if shown.len() == all.len() && delegate {
        String::new()
    } else {
        format!(
            " AND (a.host_provider_id IN ({ids}) OR EXISTS (SELECT 1 FROM participant x \
             WHERE x.appointment_id = a.id AND x.provider_id IN ({ids})))"
        )
    };
    let scope = Scope {
        clinic_id: clinic.id,
        from,
        to,
        who,
    };
    let names: HashMap<i64, String> = all.iter().cloned().collect();
    fetch_rows(state, me, now, clinic, &scope, names).await
}

/// A row as an item of a column (lanes are assigned afterwards).
fn place(row: BookingRow, invitation: Option<String>, warning: Option<String>) -> ScheduleItem {
    let start = start_minute(&row);
    ScheduleItem {
        start_minute: start,
        end_minute: (start + row.minutes.max(5)).min(24 * 60),
        lane: 0,
        lanes: 1,
        invitation,
        overlap_warning: warning,
        booking: row,
    }
}

/// The Week view: a column per day. Each appointment appears once in a
/// week, so rows are moved, not copied.
fn week_columns(
    days: &[NaiveDate],
    rows: Vec<BookingRow>,
    warnings: Vec<Option<String>>,
    style: DateStyle,
) -> Vec<ScheduleColumn> {
    let mut columns: Vec<ScheduleColumn> = days
        .iter()
        .map(|d| ScheduleColumn {
            label: style.date(d, false),
            date: d.format("%Y-%m-%d").to_string(),
            provider_id: None,
            items: Vec::new(),
        })
        .collect();
    for (r, w) in rows.into_iter().zip(warnings) {
        if let Some(c) = columns.iter_mut().find(|c| c.date == r.start_date) {
            let invitation = r.my_invitation.clone();
            c.items.push(place(r, invitation, w));
        }
    }
    columns
}

/// The Day view: a column per shown provider, with the appointments they
/// host and those they are invited to (an appointment can be in several).
fn day_columns(
    date: NaiveDate,
    shown: &[i64],
    all: &[(i64, String)],
    rows: &[BookingRow],
    warnings: &[Option<String>],
) -> Vec<ScheduleColumn> {
    shown
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
                    .zip(warnings)
                    .filter_map(|(r, w)| {
                        if r.host_id == *p {
                            Some(place(r.clone(), None, w.clone()))
                        } else {
                            r.participants
                                .iter()
                                .find(|x| x.provider_id == *p)
                                .map(|x| place(r.clone(), Some(x.status.clone()), w.clone()))
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Side by side lanes for a column's overlapping items.
fn assign_column_lanes(c: &mut ScheduleColumn) {
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

/// The appointments a view covers: a clinic, a time range, and optionally a
/// provider filter (SQL over `a`).
struct Scope {
    clinic_id: i64,
    from: i64,
    to: i64,
    who: String,
}

impl Scope {
    /// The WHERE clause with the clinic and range bound at `$n`, `$n+1`, `$n+2`.
    fn filter(&self, n: usize) -> String {
        format!(
            "a.clinic_id = ${n} AND a.starts_at >= ${} AND a.starts_at < ${} AND a.status <> 'cancelled'{}",
            n + 1,
            n + 2,
            self.who
        )
    }
}

/// The appointment's own columns and its patient's name (the few other
/// names are joined in Rust). Read by name from rows, and by position from
/// the JSON arrays: the order of `LEAN`.
#[derive(Debug, serde::Deserialize, sqlx::FromRow)]
struct Lean {
    id: i64,
    starts_at: i64,
    ends_at: i64,
    status: String,
    series_id: Option<i64>,
    noshow_kind: Option<String>,
    cancel_reason_code: Option<String>,
    host_id: i64,
    patient: String,
    service_id: i64,
    location: String,
    video_url: String,
    meeting_id: String,
    passcode: String,
    my_invitation: Option<String>,
    pms_sync_state: String,
}

/// `Lean`'s columns in its order: (expression, field).
const LEAN: [(&str, &str); 16] = [
    ("a.id", "id"),
    ("a.starts_at", "starts_at"),
    ("a.ends_at", "ends_at"),
    ("a.status", "status"),
    ("a.series_id", "series_id"),
    ("a.noshow_kind", "noshow_kind"),
    ("a.cancel_reason_code", "cancel_reason_code"),
    ("a.host_provider_id", "host_id"),
    ("p.name", "patient"),
    ("a.service_id", "service_id"),
    ("a.location", "location"),
    ("a.video_url", "video_url"),
    ("a.meeting_id", "meeting_id"),
    ("a.passcode", "passcode"),
    ("mine.status", "my_invitation"),
    ("a.pms_sync_state", "pms_sync_state"),
];

/// `LEAN`'s expressions, each named for its field when `named` (a JSON
/// array takes bare expressions).
fn lean_columns(named: bool) -> String {
    LEAN.iter()
        .map(|(e, n)| {
            if named {
                format!("{e} AS {n}")
            } else {
                e.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A clinic's appointments in a range, as `BookingRow`s with participants.
///
/// This is the Week view's hot path (a 50-provider clinic has ~1,700
/// appointments a week), shaped by measurement (`cargo bench --bench
/// schedule`):
/// - the patient's name is joined in the query (a lookup of ~1,400 ids
///   afterwards cost PostgreSQL 6 ms); the clinic, service and provider
///   names come from small lookups instead of per-row joins;
/// - on SQLite the rows come back as one JSON array, because decoding
///   thousands of rows through the Any driver one value at a time was the
///   slowest part; on PostgreSQL the opposite holds (`json_agg` cost more
///   than plain rows), so it reads rows.
async fn fetch_rows(
    state: &AppState,
    me: &Me,
    now: i64,
    clinic: &StaffClinic,
    scope: &Scope,
    mut names: HashMap<i64, String>,
) -> AppResult<Vec<BookingRow>> {
    let pool = &state.db.pool;
    let from = format!(
        "FROM appointment a JOIN app_user p ON p.id = a.patient_id \
         LEFT JOIN participant mine ON mine.appointment_id = a.id \
         AND mine.provider_id = $1 WHERE {}",
        scope.filter(2)
    );
    let lean: Vec<Lean> = match state.db.kind {
        DbKind::Sqlite => {
            let json: Option<String> = sqlx::query_scalar(&format!(
                "SELECT json_group_array(json_array({}) ORDER BY a.starts_at, a.id) {from}",
                lean_columns(false)
            ))
            .bind(me.user_id)
            .bind(scope.clinic_id)
            .bind(scope.from)
            .bind(scope.to)
            .fetch_one(pool)
            .await?;
            serde_json::from_str(json.as_deref().unwrap_or("[]")).map_err(|e| {
                tracing::error!(error = %e, "unreadable appointments aggregate");
                AppError::internal()
            })?
        }
        DbKind::Postgres => {
            sqlx::query_as::<_, Lean>(&format!(
                "SELECT {} {from} ORDER BY a.starts_at, a.id",
                lean_columns(true)
            ))
            .bind(me.user_id)
            .bind(scope.clinic_id)
            .bind(scope.from)
            .bind(scope.to)
            .fetch_all(pool)
            .await?
        }
    };
    if lean.is_empty() {
        return Ok(Vec::new());
    }
    add_host_names(pool, &lean, &mut names).await?;
    let services: HashMap<i64, (String, String)> =
        sqlx::query("SELECT id, name, modality FROM service WHERE clinic_id = $1")
            .bind(scope.clinic_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| (r.get("id"), (r.get("name"), r.get("modality"))))
            .collect();
    let found = sqlx::query(&format!(
        "{} JOIN appointment a ON a.id = x.appointment_id WHERE {} ORDER BY u.name",
        booking_rows::INVITEES,
        scope.filter(1)
    ))
    .bind(scope.clinic_id)
    .bind(scope.from)
    .bind(scope.to)
    .fetch_all(pool)
    .await?;
    let mut invitees = HashMap::new();
    booking_rows::group_invitees(&found, &mut invitees);
    let viewing = booking_rows::Viewing::new(me, now);
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    lean.into_iter()
        .map(|l| -> AppResult<BookingRow> {
            let participants = invitees.remove(&l.id).unwrap_or_default();
            let raw = booking_rows::Raw {
                id: l.id,
                clinic_name: clinic.name.clone(),
                time_zone: clinic.tz.name().to_string(),
                date_style: clinic.style.code().to_string(),
                patient: l.patient,
                practitioner: name(l.host_id),
                service: services
                    .get(&l.service_id)
                    .map(|s| s.0.clone())
                    .unwrap_or_default(),
                modality: services
                    .get(&l.service_id)
                    .map(|s| s.1.clone())
                    .unwrap_or_default(),
                clinic_address: clinic.address.clone(),
                call_phone: clinic.call_phone.clone(),
                cancel_reason_required: clinic.cancel_reason_required,
                starts_at: l.starts_at,
                ends_at: l.ends_at,
                status: l.status,
                series_id: l.series_id,
                noshow_kind: l.noshow_kind,
                cancel_reason_code: l.cancel_reason_code,
                host_id: l.host_id,
                my_invitation: l.my_invitation,
                clinic_id: scope.clinic_id,
                location: l.location,
                video_url: l.video_url,
                meeting_id: l.meeting_id,
                passcode: l.passcode,
                pms_sync_state: l.pms_sync_state,
                pms_connector: clinic.pms_connector.clone(),
                // The Schedule shows no cancelled meetings.
                cancel_late: 0,
                cancel_fee_cents: 0,
                // Nor a proposal's deadline (Consultations and Bookings do).
                proposal_deadline: None,
            };
            Ok(BookingRow {
                participants,
                ..booking_rows::map(raw, &viewing)?
            })
        })
        .collect()
}

/// Adds the names of hosts who are no longer among the clinic's providers
/// (whose names `names` already has), looked up by primary key.
async fn add_host_names(
    pool: &sqlx::AnyPool,
    lean: &[Lean],
    names: &mut HashMap<i64, String>,
) -> AppResult<()> {
    let mut wanted: Vec<i64> = lean
        .iter()
        .map(|l| l.host_id)
        .filter(|id| !names.contains_key(id))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    for chunk in wanted.chunks(1000) {
        let people = sqlx::query(&format!(
            "SELECT id, name FROM app_user WHERE id IN ({})",
            id_list(chunk)
        ))
        .fetch_all(pool)
        .await?;
        for r in &people {
            names.insert(r.get("id"), r.get("name"));
        }
    }
    Ok(())
}

/// For each row: a warning when one of its invited providers (who has not
/// declined) has another appointment among `rows` at an overlapping time.
fn overlap_warnings(rows: &[BookingRow]) -> Vec<Option<String>> {
    // (date, start, end) once per row: this runs over a whole clinic's week.
    let spans: Vec<(&str, i64, i64)> = rows
        .iter()
        .map(|r| {
            let s = start_minute(r);
            (r.start_date.as_str(), s, s + r.minutes)
        })
        .collect();
    let busy = |provider: i64, other: &BookingRow| {
        other.host_id == provider
            || other
                .participants
                .iter()
                .any(|x| x.provider_id == provider && x.status != "declined")
    };
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            if r.participants.is_empty() {
                return None;
            }
            let (d, s, e) = spans[i];
            let clashes: Vec<&str> = r
                .participants
                .iter()
                .filter(|x| x.status != "declined")
                .filter(|x| {
                    rows.iter().zip(&spans).any(|(o, &(od, os, oe))| {
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
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn create_options(
    state: &AppState,
    me: &Me,
    clinic_id: Option<i64>,
) -> AppResult<CreateOptions> {
    let StaffClinic {
        id: clinic_id, tz, ..
    } = staff_clinic(state, me, clinic_id).await?;
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
    .await?
    .iter()
    .map(|r| ServiceOption {
        id: r.get("id"),
        name: r.get("name"),
        duration_minutes: r.get("duration_minutes"),
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
