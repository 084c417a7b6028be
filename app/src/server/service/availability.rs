//! Availability: providers' weekly slots, time off and the "Available now"
//! toggle, and the free slots computed from them.

use super::super::db::{db_error, id_list};
use super::super::state::AppState;
use super::super::zones;
use super::{authz, Audit, Change};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::recurrence::entered_local;
use crate::domain::role::Role;
use crate::domain::slots::{weekday_label, Calendar, Span, WeeklyWindow};
use crate::error::{AppError, AppResult};
use crate::model::{AvailabilityView, Me, TimeOffRow, WindowRow};
use chrono::{NaiveDateTime, Utc};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// The clinic's zone and name.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn clinic_zone(
    conn: &mut AnyConnection,
    clinic_id: i64,
) -> AppResult<(chrono_tz::Tz, String)> {
    let r = sqlx::query("SELECT time_zone, name FROM clinic WHERE id = $1")
        .bind(clinic_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("That clinic does not exist."))?;
    Ok((
        zones::parse(&r.get::<String, _>("time_zone")),
        r.get("name"),
    ))
}

/// The clinic's zone and date style, for the times a page or message shows.
pub async fn clinic_clock(conn: &mut AnyConnection, clinic_id: i64) -> AppResult<zones::Clock> {
    let r = sqlx::query("SELECT time_zone, date_style FROM clinic WHERE id = $1")
        .bind(clinic_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("That clinic does not exist."))?;
    zones::Clock::new(
        &r.get::<String, _>("time_zone"),
        &r.get::<String, _>("date_style"),
    )
}

/// A weekly window of a provider at a clinic (`availability_rule`).
#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    provider_id: i64,
    weekday: i64,
    start_minute: i64,
    end_minute: i64,
}

impl RuleRow {
    fn window(&self) -> WeeklyWindow {
        WeeklyWindow {
            weekday: self.weekday as u8,
            start_minute: self.start_minute as u32,
            end_minute: self.end_minute as u32,
        }
    }
}

/// Bounds the index range scanned for bookings that reach into a window.
use crate::domain::booking::LONGEST_APPOINTMENT_SECS as LONGEST_APPOINTMENT;

/// Providers' calendars between two instants as every view that offers
/// free times must see them (the booking page, requested times, Dispatch,
/// the portal's reschedule choices): their weekly windows at the clinic,
/// their time off, their (non-cancelled) hosted appointments, and the
/// times held through the FHIR API's `$hold` that have not lapsed at
/// `now`. Time off and appointments anywhere count: a provider is one
/// person.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn load_calendars(
    conn: &mut AnyConnection,
    clinic_id: i64,
    providers: &[i64],
    (from, to): (i64, i64),
    now: i64,
) -> AppResult<HashMap<i64, Calendar>> {
    let mut cals = load_booked_calendars(conn, clinic_id, providers, from, to).await?;
    super::fhir::holds::add_held(conn, &mut cals, (from, to), now).await?;
    Ok(cals)
}

/// The calendars without holds. Two queries however many providers, so
/// the booking page's "any provider" stays one round trip per table.
async fn load_booked_calendars(
    conn: &mut AnyConnection,
    clinic_id: i64,
    providers: &[i64],
    from: i64,
    to: i64,
) -> AppResult<HashMap<i64, Calendar>> {
    let ids = id_list(providers);
    let mut windows: HashMap<i64, Vec<WeeklyWindow>> = HashMap::new();
    for r in sqlx::query_as::<_, RuleRow>(&format!(
        "SELECT id, provider_id, weekday, start_minute, end_minute FROM availability_rule \
         WHERE clinic_id = $1 AND provider_id IN ({ids})"
    ))
    .bind(clinic_id)
    .fetch_all(&mut *conn)
    .await?
    {
        windows.entry(r.provider_id).or_default().push(r.window());
    }
    let mut busy: HashMap<i64, Vec<Span>> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT provider_id, starts_at, ends_at FROM availability_exception \
         WHERE provider_id IN ({ids}) AND starts_at < $2 AND $1 < ends_at"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?
    {
        busy.entry(r.get("provider_id")).or_default().push(Span {
            start: r.get("starts_at"),
            end: r.get("ends_at"),
        });
    }
    // Bookings come back as one JSON array: thousands of rows one by one
    // through the SQLite driver cost more than the whole computation.
    let triple = match conn.backend_name() {
        "PostgreSQL" => "(json_agg(json_build_array(host_provider_id, starts_at, ends_at)))::text",
        _ => "json_group_array(json_array(host_provider_id, starts_at, ends_at))",
    };
    let json: Option<String> = sqlx::query_scalar(&format!(
        "SELECT {triple} FROM appointment WHERE host_provider_id IN ({ids}) AND status <> 'cancelled' \
         AND starts_at < $2 AND starts_at > $3 AND $1 < ends_at"
    ))
    .bind(from)
    .bind(to)
    .bind(from - LONGEST_APPOINTMENT)
    .fetch_one(conn)
    .await?;
    let booked: Vec<(i64, i64, i64)> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
        .map_err(|e| {
            tracing::error!(error = %e, "unreadable bookings aggregate");
            AppError::internal()
        })?;
    for (p, start, end) in booked {
        busy.entry(p).or_default().push(Span { start, end });
    }
    Ok(providers
        .iter()
        .map(|p| {
            (
                *p,
                Calendar::new(
                    windows.remove(p).unwrap_or_default(),
                    busy.remove(p).unwrap_or_default(),
                ),
            )
        })
        .collect())
}

/// For each provider, which of `times` they are free at for a session of
/// `minutes` (inside their slots, clear of time off, bookings and holds
/// live at `now`). Each time loads only the day around it, so far-apart
/// times stay cheap.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn free_at(
    conn: &mut AnyConnection,
    clinic_id: i64,
    providers: &[i64],
    times: &[i64],
    tz: chrono_tz::Tz,
    minutes: u32,
    now: i64,
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for t in times {
        let day = (t - 86_400, t + 86_400);
        let cals = load_calendars(&mut *conn, clinic_id, providers, day, now).await?;
        for (p, cal) in cals {
            if cal.is_free(&tz, *t, minutes) {
                out.entry(p).or_default().push(*t);
            }
        }
    }
    Ok(out)
}

/// The providers of a clinic (id, name), by name.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn clinic_providers(
    conn: &mut AnyConnection,
    clinic_id: i64,
) -> AppResult<Vec<(i64, String)>> {
    Ok(sqlx::query(
        "SELECT u.id, u.name FROM membership m JOIN app_user u ON u.id = m.user_id \
         WHERE m.clinic_id = $1 AND m.role = 'provider' ORDER BY u.name, u.id",
    )
    .bind(clinic_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.get("id"), r.get("name")))
    .collect())
}

/// Who may edit whose availability: the provider themself, or a clinic
/// admin or scheduler for any provider of the clinic.
async fn authorize(
    conn: &mut AnyConnection,
    me: &Me,
    clinic_id: i64,
    provider_id: i64,
) -> AppResult<Option<i64>> {
    let on_behalf = authz::act_for_provider(me, clinic_id, provider_id)?;
    if !authz::holds_role(conn, provider_id, clinic_id, Role::Provider).await? {
        return Err(AppError::validation("Choose a provider of this clinic."));
    }
    Ok(on_behalf)
}

/// The Availability page. `clinic_id` / `provider_id` 0 pick the first
/// clinic and the viewer themself (or the clinic's first provider).
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn view(
    state: &AppState,
    me: &Me,
    clinic_id: Option<i64>,
    provider_id: Option<i64>,
) -> AppResult<AvailabilityView> {
    // Clinics where the viewer may edit availability (theirs or others').
    let clinics = authz::clinics_where(me, |r| r == Role::Provider || r.acts_for_providers());
    let clinic_id = match clinic_id {
        Some(c) => c,
        None => clinics.first().map(|c| c.0).ok_or_else(|| {
            AppError::forbidden("Only clinic providers, schedulers and admins manage availability.")
        })?,
    };
    let mut conn = state.db.pool.acquire().await?;
    let (tz, clinic_name) = clinic_zone(&mut conn, clinic_id).await?;
    let clock = clinic_clock(&mut conn, clinic_id).await?;
    let acts_for_others = authz::roles_in(me, clinic_id).any(Role::acts_for_providers);
    let providers = if acts_for_others {
        clinic_providers(&mut conn, clinic_id).await?
    } else {
        vec![(me.user_id, me.name.clone())]
    };
    let provider_id = if let Some(provider_id) = provider_id {
        provider_id
    } else if providers.iter().any(|p| p.0 == me.user_id) {
        me.user_id
    } else {
        providers
            .first()
            .map(|p| p.0)
            .ok_or_else(|| AppError::not_found("This clinic has no providers yet."))?
    };
    authorize(&mut conn, me, clinic_id, provider_id).await?;
    let provider_name = providers
        .iter()
        .find(|p| p.0 == provider_id)
        .map(|p| p.1.clone())
        .unwrap_or_default();
    let windows = sqlx::query_as::<_, RuleRow>(
        "SELECT id, provider_id, weekday, start_minute, end_minute FROM availability_rule \
         WHERE provider_id = $1 AND clinic_id = $2 ORDER BY weekday, start_minute",
    )
    .bind(provider_id)
    .bind(clinic_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        let w = r.window();
        WindowRow {
            id: r.id,
            weekday: w.weekday,
            start_minute: w.start_minute,
            end_minute: w.end_minute,
        }
    })
    .collect();
    let now = state.clock.now().timestamp();
    let time_off = sqlx::query(
        "SELECT id, starts_at, ends_at, reason FROM availability_exception \
         WHERE provider_id = $1 AND clinic_id = $2 AND ends_at > $3 ORDER BY starts_at",
    )
    .bind(provider_id)
    .bind(clinic_id)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r: AnyRow| TimeOffRow {
        id: r.get("id"),
        label: format!(
            "{} – {}",
            clock.local(r.get("starts_at")),
            clock.local(r.get("ends_at"))
        ),
        reason: r.get("reason"),
    })
    .collect();
    let available_now: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(available_now), 0) FROM on_demand WHERE provider_id = $1 AND clinic_id = $2",
    )
    .bind(provider_id)
    .bind(clinic_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(AvailabilityView {
        clinic_id,
        clinic_name,
        time_zone: tz.name().to_string(),
        date_style: clock.style.code().to_string(),
        clinics,
        provider_id,
        provider_name,
        providers,
        windows,
        time_off,
        available_now: available_now == 1,
    })
}

async fn changed(
    change: &mut Change,
    clinic_id: i64,
    provider_id: i64,
    action: &str,
) -> AppResult<()> {
    change
        .emit(LiveEvent {
            topic: topic::AVAILABILITY.into(),
            action: action.into(),
            entity_id: provider_id,
            clinic_id: Some(clinic_id),
            user_ids: vec![provider_id],
            at_us: 0,
        })
        .await
}

fn audit<'a>(
    me: &Me,
    on_behalf: Option<i64>,
    clinic_id: i64,
    action: &'a str,
    entity: &'a str,
    id: i64,
    after: serde_json::Value,
) -> Audit<'a> {
    Audit {
        actor_id: Some(me.user_id),
        on_behalf_of_id: on_behalf,
        clinic_id: Some(clinic_id),
        action,
        entity,
        entity_id: id,
        before: None,
        after: Some(after),
    }
}

/// Adds a weekly slot. Slots of one weekday may not overlap (they would
/// mean the same thing twice and make removing one confusing).
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn add_window(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    provider_id: i64,
    w: WeeklyWindow,
) -> AppResult<i64> {
    let mut change = Change::begin(state).await?;
    let on_behalf = authorize(change.conn(), me, clinic_id, provider_id).await?;
    let clash = sqlx::query(
        "SELECT start_minute, end_minute FROM availability_rule WHERE provider_id = $1 AND clinic_id = $2 \
         AND weekday = $3 AND start_minute < $5 AND $4 < end_minute ORDER BY start_minute LIMIT 1",
    )
    .bind(provider_id)
    .bind(clinic_id)
    .bind(i64::from(w.weekday))
    .bind(i64::from(w.start_minute))
    .bind(i64::from(w.end_minute))
    .fetch_optional(change.conn())
    .await?;
    if let Some(r) = clash {
        let style = clinic_clock(change.conn(), clinic_id).await?.style;
        return Err(AppError::conflict(format!(
            "That overlaps the {} slot {}–{}. Remove or change that one first.",
            weekday_label(w.weekday),
            style.minutes(r.get::<i64, _>("start_minute") as u32),
            style.minutes(r.get::<i64, _>("end_minute") as u32)
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO availability_rule (provider_id, clinic_id, weekday, start_minute, end_minute) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(provider_id)
    .bind(clinic_id)
    .bind(i64::from(w.weekday))
    .bind(i64::from(w.start_minute))
    .bind(i64::from(w.end_minute))
    .fetch_one(change.conn())
    .await?;
    change
        .audit(audit(me, on_behalf, clinic_id, "availability.add", "availability_rule", id,
            json!({ "provider": provider_id, "weekday": w.weekday, "start": w.start_minute, "end": w.end_minute })))
        .await?;
    changed(&mut change, clinic_id, provider_id, "window_added").await?;
    change.commit().await?;
    Ok(id)
}

/// Which table a removal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Window,
    TimeOff,
}

/// Removes a weekly slot or a time-off entry.
#[tracing::instrument(skip_all, fields(user = me.user_id, id = id))]
pub async fn remove(state: &AppState, me: &Me, entry: Entry, id: i64) -> AppResult<()> {
    let (table, what) = match entry {
        Entry::Window => ("availability_rule", "slot"),
        Entry::TimeOff => ("availability_exception", "time off"),
    };
    let mut change = Change::begin(state).await?;
    let row = sqlx::query(&format!(
        "SELECT provider_id, clinic_id FROM {table} WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(change.conn())
    .await?
    .ok_or_else(|| {
        AppError::not_found(format!(
            "That {what} no longer exists; it may have been removed already."
        ))
    })?;
    let (provider_id, clinic_id): (i64, i64) = (row.get("provider_id"), row.get("clinic_id"));
    let on_behalf = authorize(change.conn(), me, clinic_id, provider_id).await?;
    sqlx::query(&format!("DELETE FROM {table} WHERE id = $1"))
        .bind(id)
        .execute(change.conn())
        .await?;
    change
        .audit(Audit {
            before: Some(json!({ "provider": provider_id })),
            after: None,
            ..audit(
                me,
                on_behalf,
                clinic_id,
                "availability.remove",
                table,
                id,
                json!(null),
            )
        })
        .await?;
    changed(&mut change, clinic_id, provider_id, "removed").await?;
    change.commit().await
}

/// Adds time off between two local times in the clinic's zone.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn add_time_off(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    provider_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    reason: &str,
) -> AppResult<i64> {
    let reason = reason.trim();
    if reason.chars().count() > 200 {
        return Err(AppError::validation(
            "The reason can be at most 200 characters.",
        ));
    }
    let mut change = Change::begin(state).await?;
    let on_behalf = authorize(change.conn(), me, clinic_id, provider_id).await?;
    let (tz, _) = clinic_zone(change.conn(), clinic_id).await?;
    let start = entered_local(&tz, from)
        .map_err(AppError::Validation)?
        .timestamp();
    let end = entered_local(&tz, to)
        .map_err(AppError::Validation)?
        .timestamp();
    if end <= start {
        return Err(AppError::validation(
            "The time off must end after it starts.",
        ));
    }
    if end <= change.now {
        return Err(AppError::validation("That time off is already over."));
    }
    if end - start > 366 * 86_400 {
        return Err(AppError::validation(
            "Time off can be at most a year at a time.",
        ));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO availability_exception (provider_id, clinic_id, starts_at, ends_at, reason) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(provider_id)
    .bind(clinic_id)
    .bind(start)
    .bind(end)
    .bind(reason)
    .fetch_one(change.conn())
    .await?;
    change
        .audit(audit(me, on_behalf, clinic_id, "availability.time_off", "availability_exception", id,
            json!({ "provider": provider_id, "starts_at": start, "ends_at": end, "reason": reason })))
        .await?;
    changed(&mut change, clinic_id, provider_id, "time_off_added").await?;
    change.commit().await?;
    Ok(id)
}

/// The on-demand "Available now" toggle.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn set_available_now(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    provider_id: i64,
    on: bool,
) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    let on_behalf = authorize(change.conn(), me, clinic_id, provider_id).await?;
    let now = change.now;
    sqlx::query(
        "INSERT INTO on_demand (provider_id, clinic_id, available_now, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (provider_id, clinic_id) DO UPDATE SET available_now = $3, updated_at = $4",
    )
    .bind(provider_id)
    .bind(clinic_id)
    .bind(i64::from(on))
    .bind(now)
    .execute(change.conn())
    .await?;
    change
        .audit(audit(
            me,
            on_behalf,
            clinic_id,
            "availability.now",
            "on_demand",
            provider_id,
            json!({ "available_now": on }),
        ))
        .await?;
    changed(&mut change, clinic_id, provider_id, "available_now").await?;
    change.commit().await
}

/// Providers of the clinic with "Available now" on.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn available_now(conn: &mut AnyConnection, clinic_id: i64) -> AppResult<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT o.provider_id FROM on_demand o JOIN membership m ON m.user_id = o.provider_id \
         AND m.clinic_id = o.clinic_id AND m.role = 'provider' WHERE o.clinic_id = $1 AND o.available_now = 1",
    )
    .bind(clinic_id)
    .fetch_all(conn)
    .await
    .map_err(db_error)
}

/// Free slot starts (any of `providers`) for a service over the next
/// `days` (the clinic's booking horizon), computed in the clinic's zone;
/// sorted, without duplicates.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn free_slots_of(
    conn: &mut AnyConnection,
    clinic_id: i64,
    providers: &[i64],
    tz: chrono_tz::Tz,
    minutes: u32,
    days: u32,
    now: i64,
) -> AppResult<Vec<i64>> {
    let today = chrono::DateTime::<Utc>::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    let to = now.saturating_add(i64::from(days + 2) * 86_400);
    let cals = load_calendars(conn, clinic_id, providers, (now - 86_400, to), now).await?;
    let mut all: Vec<i64> = cals
        .values()
        .flat_map(|c| c.free_slots(&tz, today, days, minutes, now + 1))
        .collect();
    all.sort_unstable();
    all.dedup();
    Ok(all)
}
