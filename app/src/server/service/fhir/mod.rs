//! The FHIR API's queries (issue 16, part 1): who is calling and what they
//! may see, the resources as plain rows for `domain::fhir::resources`, and
//! free times from the booking page's engine (`availability::free_slots_of`,
//! never a second one). Holds and booking are in `holds`.
//!
//! What each caller sees: an API client its one clinic (everything in it);
//! a session user the clinics' public directory (clinics, services,
//! providers, free times: what every booking page shows anyone), every
//! appointment and patient of the clinics where they are staff, and their
//! own appointments and Patient record.

pub mod holds;

use super::api_clients::ApiCaller;
use super::availability::{clinic_zone, free_slots_of};
use super::clinic_settings::policy;
use crate::domain::appointment::AppointmentStatus;
use crate::domain::fhir::resources::{self as res, Clinic, FreeSlot, Person, Service};
use crate::domain::fhir::{bounds_in, Bounds, DateParam, Refusal, MAX_MATCHES};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::model::Me;
use crate::server::db::id_list;
use crate::server::notify::pms::{AppointmentRow, APPOINTMENT_SELECT};
use crate::server::state::AppState;
use serde_json::Value;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

pub type FhirResult<T> = Result<T, Refusal>;

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        let status = e.status();
        Refusal::new(status, Refusal::code_for(status), e.message())
    }
}

impl From<sqlx::Error> for Refusal {
    #[track_caller]
    fn from(e: sqlx::Error) -> Self {
        AppError::from(e).into()
    }
}

/// Who is calling the API.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A logged-in user (browser session).
    User(Me),
    /// An API client's bearer token.
    Client(ApiCaller),
}

impl Caller {
    /// The clinics whose appointments and patients the caller sees whole.
    fn staff_clinics(&self) -> Vec<i64> {
        match self {
            Caller::User(me) => me
                .memberships
                .iter()
                .filter(|m| m.role.is_staff())
                .map(|m| m.clinic_id)
                .collect(),
            Caller::Client(c) => vec![c.clinic_id],
        }
    }

    /// The caller's own patient id (a session user's).
    fn own_id(&self) -> Option<i64> {
        match self {
            Caller::User(me) => Some(me.user_id),
            Caller::Client(_) => None,
        }
    }

    /// The one clinic a client is limited to (None: the public directory).
    fn directory_clinic(&self) -> Option<i64> {
        match self {
            Caller::User(_) => None,
            Caller::Client(c) => Some(c.clinic_id),
        }
    }
}

/// "That does not exist" for whatever the caller may not see either: an
/// id of another clinic or patient reveals nothing.
pub fn not_found(kind: &str, id: &str) -> Refusal {
    Refusal::new(404, "not-found", format!("{kind}/{id} is not known."))
}

fn too_many() -> Refusal {
    Refusal::new(
        400,
        "too-costly",
        format!("More than {MAX_MATCHES} matches: narrow the search (e.g. by date)."),
    )
}

/// `AND column IN (…)` for a client limited to one clinic, else nothing.
fn clinic_clause(caller: &Caller, column: &str) -> String {
    caller
        .directory_clinic()
        .map(|c| format!(" AND {column} = {c}"))
        .unwrap_or_default()
}

/// What an appointment search asks for (ids already checked).
#[derive(Debug, Default, Clone)]
pub struct AppointmentQuery {
    pub id: Option<i64>,
    pub patient: Option<i64>,
    pub practitioner: Option<i64>,
    /// `date`: dates without a time are each clinic's own days.
    pub dates: Vec<DateParam>,
    pub statuses: Vec<AppointmentStatus>,
}

/// The `date` condition on `a.starts_at`. Dates without a time name days
/// of the appointment's clinic, so the bounds are worked out per zone
/// (clinics grouped by zone; most installations have one or two).
async fn date_clause(conn: &mut AnyConnection, dates: &[DateParam]) -> FhirResult<String> {
    let bounds = |b: Bounds| {
        let mut c = String::new();
        if let Some(f) = b.from {
            c.push_str(&format!(" AND a.starts_at >= {f}"));
        }
        if let Some(t) = b.to {
            c.push_str(&format!(" AND a.starts_at < {t}"));
        }
        c
    };
    if !dates.iter().any(|d| d.dated) {
        return Ok(bounds(bounds_in(dates, &chrono::Utc)));
    }
    let mut zones: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, time_zone FROM clinic")
        .fetch_all(conn)
        .await?;
    for (id, zone) in rows {
        zones.entry(zone).or_default().push(id);
    }
    let each: Vec<String> = zones
        .iter()
        .map(|(zone, ids)| {
            let b = bounds_in(dates, &crate::server::zones::parse(zone));
            format!("(a.clinic_id IN ({}){})", id_list(ids), bounds(b))
        })
        .collect();
    Ok(format!(" AND ({})", each.join(" OR ")))
}

/// The zone of the service's clinic (UTC for a service not known: the
/// search then finds nothing anyway).
pub async fn service_zone(state: &AppState, service_id: i64) -> FhirResult<chrono_tz::Tz> {
    let zone: Option<String> = sqlx::query_scalar(
        "SELECT c.time_zone FROM service s JOIN clinic c ON c.id = s.clinic_id WHERE s.id = $1",
    )
    .bind(service_id)
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(zone.map_or(chrono_tz::UTC, |z| crate::server::zones::parse(&z)))
}

/// Appointments the caller may see that match `q`, as FHIR resources.
/// Every value put into the SQL is a parsed number or one of our own
/// status codes, never the caller's text.
#[tracing::instrument(skip_all)]
pub async fn appointments(
    state: &AppState,
    caller: &Caller,
    q: &AppointmentQuery,
) -> FhirResult<Vec<Value>> {
    let mut cond = format!("(a.clinic_id IN ({})", id_list(&caller.staff_clinics()));
    if let Some(me) = caller.own_id() {
        cond.push_str(&format!(" OR a.patient_id = {me}"));
    }
    cond.push(')');
    let mut add = |c: String| cond.push_str(&format!(" AND {c}"));
    if let Some(id) = q.id {
        add(format!("a.id = {id}"));
    }
    if let Some(p) = q.patient {
        add(format!("a.patient_id = {p}"));
    }
    if let Some(p) = q.practitioner {
        add(format!("a.host_provider_id = {p}"));
    }
    if !q.statuses.is_empty() {
        let codes: Vec<String> = q
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        add(format!("a.status IN ({})", codes.join(",")));
    }
    let mut conn = state.db.pool.acquire().await?;
    cond.push_str(&date_clause(&mut conn, &q.dates).await?);
    let rows = sqlx::query_as::<_, AppointmentRow>(&format!(
        "{APPOINTMENT_SELECT} WHERE {cond} ORDER BY a.starts_at, a.id LIMIT {}",
        MAX_MATCHES + 1
    ))
    .fetch_all(&mut *conn)
    .await?;
    if rows.len() > MAX_MATCHES {
        return Err(too_many());
    }
    let now = state.now();
    rows.into_iter()
        .map(|r| appointment_resource(r, now))
        .collect()
}

fn appointment_resource(r: AppointmentRow, now: i64) -> FhirResult<Value> {
    let (service_id, clinic_id) = (r.service_id, r.clinic_id);
    let a = r.appointment()?;
    Ok(res::appointment(&a, service_id, clinic_id, now))
}

/// One appointment the caller may see, or a live hold the caller made
/// (`hold-<n>`, what `$hold` answered).
pub async fn appointment(state: &AppState, caller: &Caller, id: &str) -> FhirResult<Value> {
    if let Some(n) = id.strip_prefix("hold-") {
        let n =
            crate::domain::fhir::numeric_ids(n, 1).ok_or_else(|| not_found("Appointment", id))?;
        return holds::read(state, caller, n[0]).await;
    }
    let Some(n) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return Err(not_found("Appointment", id));
    };
    let q = AppointmentQuery {
        id: Some(n),
        ..Default::default()
    };
    appointments(state, caller, &q)
        .await?
        .pop()
        .ok_or_else(|| not_found("Appointment", id))
}

/// Patients the caller may see (`id`: just that one): the patients of the
/// clinics where they are staff, and themself.
#[tracing::instrument(skip_all)]
pub async fn patients(
    state: &AppState,
    caller: &Caller,
    id: Option<i64>,
) -> FhirResult<Vec<Value>> {
    let mut cond = format!("(m.clinic_id IN ({})", id_list(&caller.staff_clinics()));
    if let Some(me) = caller.own_id() {
        cond.push_str(&format!(" OR u.id = {me}"));
    }
    cond.push(')');
    if let Some(id) = id {
        cond.push_str(&format!(" AND u.id = {id}"));
    }
    let rows: Vec<(i64, String, String)> = sqlx::query_as(&format!(
        "SELECT DISTINCT u.id, u.name, u.email FROM app_user u JOIN membership m \
         ON m.user_id = u.id AND m.role = 'patient' WHERE {cond} ORDER BY u.id LIMIT {}",
        MAX_MATCHES + 1
    ))
    .fetch_all(&state.db.pool)
    .await?;
    if rows.len() > MAX_MATCHES {
        return Err(too_many());
    }
    Ok(rows
        .into_iter()
        .map(|(id, name, email)| res::patient(&Person { id, name, email }))
        .collect())
}

/// The patient `id`, if the caller may see them, as a Person.
pub(crate) async fn visible_patient(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> FhirResult<Person> {
    let r = patients(state, caller, Some(id)).await?;
    let p = r
        .first()
        .ok_or_else(|| not_found("Patient", &id.to_string()))?;
    Ok(Person {
        id,
        name: p["name"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        email: String::new(),
    })
}

/// Clinics (Locations) the caller sees.
pub async fn locations(
    state: &AppState,
    caller: &Caller,
    id: Option<i64>,
) -> FhirResult<Vec<Value>> {
    let mut cond = format!("1 = 1{}", clinic_clause(caller, "id"));
    if let Some(id) = id {
        cond.push_str(&format!(" AND id = {id}"));
    }
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(&format!(
        "SELECT id, name, address, phone FROM clinic WHERE {cond} ORDER BY id"
    ))
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, address, phone)| {
            res::location(&Clinic {
                id,
                name,
                address,
                phone,
            })
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: i64,
    clinic_id: i64,
    name: String,
    description: String,
    duration_minutes: i64,
    modality: String,
    active: i64,
}

impl ServiceRow {
    fn service(self) -> Service {
        Service {
            id: self.id,
            clinic_id: self.clinic_id,
            name: self.name,
            description: self.description,
            minutes: self.duration_minutes,
            modality: self.modality,
            active: self.active == 1,
        }
    }
}

/// Services: `id` one (active or not), else the active ones, of the
/// clinics the caller sees (`clinic`: of that one).
pub(crate) async fn services(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: Option<i64>,
    clinic: Option<i64>,
) -> FhirResult<Vec<Service>> {
    let mut cond = format!("1 = 1{}", clinic_clause(caller, "clinic_id"));
    match id {
        Some(id) => cond.push_str(&format!(" AND id = {id}")),
        None => cond.push_str(" AND active = 1"),
    }
    if let Some(c) = clinic {
        cond.push_str(&format!(" AND clinic_id = {c}"));
    }
    Ok(sqlx::query_as::<_, ServiceRow>(&format!(
        "SELECT id, clinic_id, name, description, duration_minutes, modality, active FROM service \
         WHERE {cond} ORDER BY clinic_id, name, id"
    ))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(ServiceRow::service)
    .collect())
}

pub async fn healthcare_services(
    state: &AppState,
    caller: &Caller,
    id: Option<i64>,
) -> FhirResult<Vec<Value>> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(services(&mut conn, caller, id, None)
        .await?
        .iter()
        .map(res::healthcare_service)
        .collect())
}

/// Providers at the clinics the caller sees: (clinic, provider).
async fn roles(
    conn: &mut AnyConnection,
    caller: &Caller,
    clinic: Option<i64>,
    provider: Option<i64>,
) -> FhirResult<Vec<(i64, Person)>> {
    let mut cond = format!(
        "m.role = 'provider'{}",
        clinic_clause(caller, "m.clinic_id")
    );
    if let Some(c) = clinic {
        cond.push_str(&format!(" AND m.clinic_id = {c}"));
    }
    if let Some(p) = provider {
        cond.push_str(&format!(" AND u.id = {p}"));
    }
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(&format!(
        "SELECT m.clinic_id, u.id, u.name FROM membership m JOIN app_user u ON u.id = m.user_id \
         WHERE {cond} ORDER BY m.clinic_id, u.name, u.id"
    ))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(c, id, name)| {
            (
                c,
                Person {
                    id,
                    name,
                    email: String::new(),
                },
            )
        })
        .collect())
}

/// Practitioners (each once, whatever the clinics they work at).
pub async fn practitioners(
    state: &AppState,
    caller: &Caller,
    id: Option<i64>,
) -> FhirResult<Vec<Value>> {
    let mut conn = state.db.pool.acquire().await?;
    let mut people: Vec<Person> = roles(&mut conn, caller, None, id)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    people.sort_by_key(|p| p.id);
    people.dedup_by_key(|p| p.id);
    Ok(people.iter().map(res::practitioner).collect())
}

/// Which of Schedule and PractitionerRole (they share ids and scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calendar {
    Schedule,
    PractitionerRole,
}

/// Each provider's calendar at each clinic (`at`: one (clinic, provider)).
pub async fn calendars(
    state: &AppState,
    caller: &Caller,
    kind: Calendar,
    at: Option<(i64, i64)>,
    provider: Option<i64>,
) -> FhirResult<Vec<Value>> {
    let mut conn = state.db.pool.acquire().await?;
    let provider = at.map(|a| a.1).or(provider);
    let rs = roles(&mut conn, caller, at.map(|a| a.0), provider).await?;
    let now = state.now();
    let mut out = Vec::with_capacity(rs.len());
    for (clinic, p) in rs {
        let offered = services(&mut conn, caller, None, Some(clinic)).await?;
        out.push(match kind {
            Calendar::PractitionerRole => res::practitioner_role(clinic, &p, &offered),
            Calendar::Schedule => {
                let horizon = policy(&mut conn, clinic).await?.horizon_end(now);
                res::schedule(clinic, &p, &offered, (now, horizon))
            }
        });
    }
    Ok(out)
}

/// Where free times are wanted: a service, maybe one provider, a range.
#[derive(Debug, Clone, Copy)]
pub struct SlotQuery {
    pub service_id: i64,
    /// (clinic, provider) of a Schedule, or a practitioner's id.
    pub schedule: Option<(i64, i64)>,
    pub provider: Option<i64>,
    pub start: Bounds,
}

/// Free times from the booking page's engine, per provider, within the
/// clinic's booking horizon and `q.start`; with the service's name.
#[tracing::instrument(skip_all)]
pub async fn free_slots(
    state: &AppState,
    caller: &Caller,
    q: &SlotQuery,
) -> FhirResult<(Vec<FreeSlot>, Service)> {
    let mut conn = state.db.pool.acquire().await?;
    let service = services(&mut conn, caller, Some(q.service_id), None)
        .await?
        .pop()
        .filter(|s| s.active)
        .ok_or_else(|| not_found("HealthcareService", &q.service_id.to_string()))?;
    let clinic = service.clinic_id;
    if q.schedule.is_some_and(|(c, _)| c != clinic) {
        return Ok((Vec::new(), service));
    }
    let provider = q.schedule.map(|s| s.1).or(q.provider);
    let providers = roles(&mut conn, caller, Some(clinic), provider).await?;
    let (tz, _) = clinic_zone(&mut conn, clinic).await?;
    let days = policy(&mut conn, clinic).await?.booking_horizon_days;
    let now = state.now();
    let minutes = service.minutes;
    let mut out = Vec::new();
    for (_, p) in providers {
        for start in
            free_slots_of(&mut conn, clinic, &[p.id], tz, minutes as u32, days, now).await?
        {
            if q.start.contains(start) {
                out.push(FreeSlot {
                    clinic_id: clinic,
                    provider_id: p.id,
                    service_id: service.id,
                    start,
                    end: start + minutes * 60,
                });
            }
        }
    }
    if out.len() > MAX_MATCHES {
        return Err(too_many());
    }
    out.sort_by_key(|s| (s.start, s.provider_id));
    Ok((out, service))
}

/// The provider's name, if they are a provider of the clinic.
pub(crate) async fn provider_of(
    conn: &mut AnyConnection,
    caller: &Caller,
    clinic_id: i64,
    provider_id: i64,
) -> FhirResult<Person> {
    roles(conn, caller, Some(clinic_id), Some(provider_id))
        .await?
        .pop()
        .map(|(_, p)| p)
        .ok_or_else(|| {
            Refusal::new(
                422,
                "business-rule",
                format!(
                    "Practitioner/{provider_id} does not see patients for this service's clinic."
                ),
            )
        })
}

/// Whether `user_id` may be booked as a patient by a staff caller or client.
pub(crate) async fn is_patient_of(
    conn: &mut AnyConnection,
    user_id: i64,
    clinic_id: i64,
) -> FhirResult<bool> {
    Ok(super::authz::holds_role(conn, user_id, clinic_id, Role::Patient).await?)
}
