//! The audit trail, read: a clinic's entries for its admins (filtered,
//! newest first, a page at a time or as CSV), and a patient's own record of
//! their appointments and requests.
//!
//! The trail is written by `Change::audit` only; nothing here writes it.

use super::super::db::id_list;
use super::super::state::AppState;
use super::super::zones::{self, Clock};
use super::authz;
use crate::domain::audit::{action_label, changes, changes_text, csv_row, name_people, person_ids};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{AuditEntry, AuditFilter, AuditPage, Me, AUDIT_CSV_MAX, AUDIT_PAGE_SIZE};
use chrono::NaiveDate;
use serde_json::Value;
use sqlx::Row;
use std::collections::HashMap;

const MAX_SEARCH: usize = 100;

/// The clinic whose trail the caller asks for: one they administer (the
/// first of them when none is named); anyone else is refused.
fn admin_clinic(me: &Me, asked: Option<i64>) -> AppResult<(i64, Vec<(i64, String)>)> {
    let clinics = authz::clinics_where(me, |r| r == Role::Admin);
    let Some(first) = clinics.first().map(|c| c.0) else {
        return Err(AppError::forbidden(
            "Only clinic admins see the audit trail.",
        ));
    };
    match asked {
        None => Ok((first, clinics)),
        Some(c) if clinics.iter().any(|x| x.0 == c) => Ok((c, clinics)),
        Some(_) => Err(AppError::forbidden(
            "Only this clinic's admins see its audit trail.",
        )),
    }
}

/// A clinic's zone and date style.
async fn clinic_clock(state: &AppState, clinic_id: i64) -> AppResult<Clock> {
    let r = sqlx::query("SELECT time_zone, date_style FROM clinic WHERE id = $1")
        .bind(clinic_id)
        .fetch_one(&state.db.pool)
        .await?;
    Clock::new(
        &r.get::<String, _>("time_zone"),
        &r.get::<String, _>("date_style"),
    )
}

/// A value bound to the filter's query, in order.
enum Bind {
    Int(i64),
    Text(String),
}

/// Refuses what a filter cannot mean: dates out of range or reversed,
/// overlong searches, ids that are not positive.
fn check(f: &AuditFilter) -> AppResult<()> {
    for d in [f.from, f.to].into_iter().flatten() {
        crate::domain::validate::date_in_range(d).map_err(AppError::Validation)?;
    }
    if let (Some(a), Some(b)) = (f.from, f.to) {
        if b < a {
            return Err(AppError::validation(
                "The end of the date range is before its start.",
            ));
        }
    }
    if f.actor.chars().count() > MAX_SEARCH || f.patient.chars().count() > MAX_SEARCH {
        return Err(AppError::validation("Search for at most 100 characters."));
    }
    if f.action.len() > 64 {
        return Err(AppError::validation("Choose an action from the list."));
    }
    if f.appointment_id.is_some_and(|a| a <= 0) {
        return Err(AppError::validation("Enter an appointment number above 0."));
    }
    if f.before.is_some_and(|b| b <= 0) {
        return Err(AppError::validation(
            "There is no such page of the audit trail.",
        ));
    }
    Ok(())
}

/// The WHERE clause of a filter (parameters from $1, the clinic) and its
/// values (after `check`).
fn where_clause(f: &AuditFilter, clinic_id: i64, clock: Clock) -> AppResult<(String, Vec<Bind>)> {
    check(f)?;
    let mut sql = String::from("au.clinic_id = $1");
    let mut binds = vec![Bind::Int(clinic_id)];
    let push = |binds: &mut Vec<Bind>, b: Bind| {
        binds.push(b);
        binds.len()
    };
    let day_start = |d: NaiveDate| {
        crate::domain::recurrence::resolve_local(&clock.tz, d.and_time(chrono::NaiveTime::MIN))
            .map(|t| t.timestamp())
    };
    if let Some(t) = f.from.and_then(day_start) {
        let n = push(&mut binds, Bind::Int(t));
        sql += &format!(" AND au.at >= ${n}");
    }
    if let Some(t) = f.to.and_then(|d| d.succ_opt()).and_then(day_start) {
        let n = push(&mut binds, Bind::Int(t));
        sql += &format!(" AND au.at < ${n}");
    }
    if let Some(like) = like(&f.actor) {
        let n = push(&mut binds, Bind::Text(like));
        sql += &format!(
            " AND au.actor_id IN (SELECT u.id FROM app_user u \
             WHERE LOWER(u.name) LIKE ${n} OR LOWER(u.email) LIKE ${n})"
        );
    }
    if let Some(like) = like(&f.patient) {
        let n = push(&mut binds, Bind::Text(like));
        // The clinic's patients who match, then what is about them: their
        // appointments, their requests, their account.
        let who = format!(
            "SELECT u.id FROM app_user u JOIN membership m ON m.user_id = u.id \
             AND m.clinic_id = $1 AND m.role = 'patient' \
             WHERE LOWER(u.name) LIKE ${n} OR LOWER(u.email) LIKE ${n}"
        );
        sql += &format!(
            " AND ((au.entity = 'appointment' AND au.entity_id IN \
               (SELECT a.id FROM appointment a WHERE a.clinic_id = $1 AND a.patient_id IN ({who}))) \
             OR (au.entity = 'request' AND au.entity_id IN \
               (SELECT r.id FROM request r WHERE r.clinic_id = $1 AND r.requester_id IN ({who}))) \
             OR (au.entity = 'user' AND au.entity_id IN ({who})))"
        );
    }
    if let Some(a) = f.appointment_id {
        let n = push(&mut binds, Bind::Int(a));
        sql += &format!(
            " AND ((au.entity = 'appointment' AND au.entity_id = ${n}) \
             OR (au.entity = 'request' AND au.entity_id IN (SELECT r.id FROM request r \
             WHERE r.appointment_id = ${n} OR r.result_appointment_id = ${n})))"
        );
    }
    if !f.action.trim().is_empty() {
        let n = push(&mut binds, Bind::Text(f.action.trim().to_string()));
        sql += &format!(" AND au.action = ${n}");
    }
    if let Some(b) = f.before {
        let n = push(&mut binds, Bind::Int(b));
        sql += &format!(" AND au.id < ${n}");
    }
    Ok((sql, binds))
}

/// `%part%` of a search, lower-cased, without LIKE's own wildcards; None
/// when nothing is left to search for.
fn like(s: &str) -> Option<String> {
    let p = s.trim().to_lowercase().replace(['\\', '%', '_'], "");
    (!p.is_empty()).then(|| format!("%{p}%"))
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    at: i64,
    actor_name: Option<String>,
    actor_email: Option<String>,
    behalf_name: Option<String>,
    behalf_email: Option<String>,
    action: String,
    entity: String,
    entity_id: i64,
    before_json: Option<String>,
    after_json: Option<String>,
}

/// Entries matching the filter, newest first, at most `limit`.
async fn entries(
    state: &AppState,
    f: &AuditFilter,
    clinic_id: i64,
    clock: Clock,
    limit: i64,
) -> AppResult<Vec<AuditEntry>> {
    let (filter, binds) = where_clause(f, clinic_id, clock)?;
    let sql = format!(
        "SELECT au.id, au.at, ac.name AS actor_name, ac.email AS actor_email, \
         ob.name AS behalf_name, ob.email AS behalf_email, au.action, au.entity, au.entity_id, \
         au.before_json, au.after_json FROM audit au \
         LEFT JOIN app_user ac ON ac.id = au.actor_id \
         LEFT JOIN app_user ob ON ob.id = au.on_behalf_of_id \
         WHERE {filter} ORDER BY au.id DESC LIMIT {limit}"
    );
    let mut q = sqlx::query_as::<_, EntryRow>(&sql);
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind(i),
            Bind::Text(s) => q.bind(s),
        };
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let mut parsed: Vec<(EntryRow, Option<Value>, Option<Value>)> = rows
        .into_iter()
        .map(|mut r| {
            let (b, a) = (parse(r.before_json.take()), parse(r.after_json.take()));
            (r, b, a)
        })
        .collect();
    let names = people(state, &parsed).await?;
    let name = |id: i64| names.get(&id).cloned();
    for (_, b, a) in &mut parsed {
        for v in [b, a].into_iter().flatten() {
            name_people(v, &name);
        }
    }
    Ok(parsed
        .into_iter()
        .map(|(r, b, a)| entry(r, b, a, clock))
        .collect())
}

/// A stored before/after; one that is not JSON is shown as the text it is.
fn parse(s: Option<String>) -> Option<Value> {
    s.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s)))
}

/// The names of the people the entries' person fields refer to (one query).
async fn people(
    state: &AppState,
    parsed: &[(EntryRow, Option<Value>, Option<Value>)],
) -> AppResult<HashMap<i64, String>> {
    let mut ids = Vec::new();
    for (_, b, a) in parsed {
        for v in [b, a].into_iter().flatten() {
            person_ids(v, &mut ids);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Integers from stored JSON: safe to inline.
    let rows = sqlx::query(&format!(
        "SELECT id, name FROM app_user WHERE id IN ({})",
        id_list(&ids)
    ))
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<i64, _>("id"), r.get::<String, _>("name")))
        .collect())
}

fn person(name: Option<String>, email: Option<String>) -> Option<String> {
    match (name, email) {
        (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
        (Some(n), None) => Some(n),
        (None, Some(e)) => Some(e),
        (None, None) => None,
    }
}

fn entry(r: EntryRow, before: Option<Value>, after: Option<Value>, clock: Clock) -> AuditEntry {
    AuditEntry {
        id: r.id,
        at: clock.local(r.at),
        actor: person(r.actor_name, r.actor_email).unwrap_or_else(|| "System".into()),
        on_behalf_of: person(r.behalf_name, r.behalf_email),
        action_label: action_label(&r.action),
        action: r.action,
        entity: r.entity,
        entity_id: r.entity_id,
        changes: changes(before.as_ref(), after.as_ref(), &|t| clock.local(t)),
    }
}

/// One page of a clinic's trail (admins of that clinic only).
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn page(state: &AppState, me: &Me, f: AuditFilter) -> AppResult<AuditPage> {
    let (clinic_id, clinics) = admin_clinic(me, f.clinic_id)?;
    let clock = clinic_clock(state, clinic_id).await?;
    let mut rows = entries(state, &f, clinic_id, clock, AUDIT_PAGE_SIZE + 1).await?;
    let next_before = if rows.len() as i64 > AUDIT_PAGE_SIZE {
        rows.truncate(AUDIT_PAGE_SIZE as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT action FROM audit WHERE clinic_id = $1 ORDER BY action",
    )
    .bind(clinic_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(AuditPage {
        clinic_id,
        clinics,
        actions: actions
            .into_iter()
            .map(|a| {
                let label = action_label(&a);
                (a, label)
            })
            .collect(),
        rows,
        next_before,
    })
}

/// A download: its file name and its CSV text.
pub struct CsvFile {
    pub filename: String,
    pub body: String,
}

/// The filtered trail as CSV (the newest `AUDIT_CSV_MAX` entries).
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn csv(state: &AppState, me: &Me, f: AuditFilter) -> AppResult<CsvFile> {
    let (clinic_id, _) = admin_clinic(me, f.clinic_id)?;
    let clock = clinic_clock(state, clinic_id).await?;
    let f = AuditFilter { before: None, ..f };
    let rows = entries(state, &f, clinic_id, clock, AUDIT_CSV_MAX).await?;
    let mut body = csv_row(&[
        "id",
        "time",
        "actor",
        "on behalf of",
        "action",
        "entity",
        "entity id",
        "changes",
    ]);
    for r in rows {
        body.push_str(&csv_row(&[
            r.id.to_string(),
            r.at,
            r.actor,
            r.on_behalf_of.unwrap_or_default(),
            r.action,
            r.entity,
            r.entity_id.to_string(),
            changes_text(&r.changes),
        ]));
    }
    let slug: String = sqlx::query_scalar("SELECT slug FROM clinic WHERE id = $1")
        .bind(clinic_id)
        .fetch_one(&state.db.pool)
        .await?;
    let today = zones::local_input(state.now(), clock.tz);
    Ok(CsvFile {
        filename: format!(
            "audit-{}-{}.csv",
            file_safe(&slug),
            &today[..10.min(today.len())]
        ),
        body,
    })
}

/// Letters, digits and dashes only: a file name no header can misread.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[derive(sqlx::FromRow)]
struct MineRow {
    kind: String,
    id: i64,
    clinic: String,
    time_zone: String,
    date_style: String,
    service: Option<String>,
    provider: Option<String>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    status: String,
    detail: Option<String>,
    created_at: i64,
}

/// The caller's own record: every appointment they are the patient of and
/// every request they made, as CSV, times in each clinic's zone and style.
/// Nobody else's: both halves select by the caller's own id.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn my_record(state: &AppState, me: &Me) -> AppResult<CsvFile> {
    let rows = sqlx::query_as::<_, MineRow>(
        "SELECT * FROM (SELECT 'appointment' AS kind, a.id, c.name AS clinic, c.time_zone, c.date_style, \
         s.name AS service, p.name AS provider, a.starts_at, a.ends_at, a.status, \
         a.cancel_text AS detail, a.created_at \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id \
         JOIN service s ON s.id = a.service_id JOIN app_user p ON p.id = a.host_provider_id \
         WHERE a.patient_id = $1 \
         UNION ALL \
         SELECT 'request' AS kind, r.id, c.name AS clinic, c.time_zone, c.date_style, \
         s.name AS service, p.name AS provider, NULL AS starts_at, NULL AS ends_at, \
         r.kind || ': ' || r.status AS status, r.note AS detail, r.created_at \
         FROM request r JOIN clinic c ON c.id = r.clinic_id \
         LEFT JOIN service s ON s.id = r.service_id \
         LEFT JOIN app_user p ON p.id = r.target_provider_id \
         WHERE r.requester_id = $1) mine \
         ORDER BY mine.created_at, mine.kind, mine.id",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut body = csv_row(&[
        "record", "number", "clinic", "service", "provider", "starts", "ends", "status", "note",
        "created",
    ]);
    for r in rows {
        let clock = Clock::new(&r.time_zone, &r.date_style)?;
        let at = |t: Option<i64>| t.map(|t| clock.local(t)).unwrap_or_default();
        body.push_str(&csv_row(&[
            r.kind,
            r.id.to_string(),
            r.clinic,
            r.service.unwrap_or_default(),
            r.provider.unwrap_or_default(),
            at(r.starts_at),
            at(r.ends_at),
            r.status,
            r.detail.unwrap_or_default(),
            clock.local(r.created_at),
        ]));
    }
    Ok(CsvFile {
        filename: "my-appointments.csv".into(),
        body,
    })
}
