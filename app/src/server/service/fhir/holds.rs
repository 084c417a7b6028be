//! `$hold` and `$book` (issue 16, part 1), and what a hold means to every
//! other booking path: `is_held` is checked by `appointments::insert_booked`
//! (staff create, accepted requests, waitlist claims, `$book`) and by
//! moves (`appointment_state::move_appt`), under the provider's lock, and
//! `add_held` takes held times out of the free-slot engine. Holds lapse by
//! time (the app's clock); the timers delete old ones.

use super::super::api_clients::ApiCaller;
use super::super::appointments::{find_conflict, insert_booked, Booked};
use super::super::availability::clinic_clock;
use super::super::{Audit, Change};
use super::{free_slots, is_patient_of, not_found, provider_of, Caller, FhirResult, SlotQuery};
use crate::domain::fhir::resources::{self as res, FreeSlot, Person, Service};
use crate::domain::fhir::{numeric_ids, reference_id, Bounds, Inputs, Refusal, Wanted};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::notify::NotifyEvent;
use crate::domain::slots::{Calendar, Span};
use crate::error::AppResult;
use crate::server::notify::{self, About, Notice, Span as NoticeSpan};
use crate::server::service::authz;
use crate::server::state::AppState;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// How long `$hold` keeps a time: long enough for an integrator's user to
/// confirm (the IHE profile's "complete entering data for booking"),
/// short enough that an abandoned hold does not keep a free time from
/// patients on the booking page for long.
pub const HOLD_MINUTES: i64 = 5;
/// How long a lapsed hold is kept, so its `$book` still hears "expired"
/// (410) rather than "not known"; the timers delete it after that.
const KEEP_LAPSED_SECS: i64 = 3600;

/// What a `$book` or `$hold` that lost the race hears.
pub const TAKEN: &str = "This time was just taken by someone else. Find another time.";
/// What other booking paths hear about a time held through the API.
pub(in crate::server::service) const HELD: &str =
    "That time is being held for a booking in progress; it may free up in a few minutes.";
const NOT_OFFERED: &str = "This time is not free: it is taken or held, or is not one of the times \
offered. Find free times with Appointment/$find.";

/// Whether a hold that has not lapsed covers part of [start, end) of the
/// provider. The caller holds the provider's lock (`Change::lock_provider`).
pub(in crate::server::service) async fn is_held(
    change: &mut Change,
    provider_id: i64,
    start: i64,
    end: i64,
) -> AppResult<bool> {
    let now = change.now;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM fhir_hold WHERE provider_id = $1 AND expires_at > $2 \
         AND starts_at < $4 AND $3 < ends_at AND starts_at > $5",
    )
    .bind(provider_id)
    .bind(now)
    .bind(start)
    .bind(end)
    .bind(start - crate::domain::booking::LONGEST_APPOINTMENT_SECS)
    .fetch_one(change.conn())
    .await?;
    Ok(n > 0)
}

/// Adds the holds that have not lapsed at `now` to the providers' busy
/// times (the free-slot engine's calendars, between `from` and `to`).
pub(in crate::server::service) async fn add_held(
    conn: &mut AnyConnection,
    cals: &mut HashMap<i64, Calendar>,
    (from, to): (i64, i64),
    now: i64,
) -> AppResult<()> {
    let ids = crate::server::db::id_list(&cals.keys().copied().collect::<Vec<_>>());
    let rows = sqlx::query(&format!(
        "SELECT provider_id, starts_at, ends_at FROM fhir_hold WHERE provider_id IN ({ids}) \
         AND expires_at > $1 AND starts_at < $3 AND $2 < ends_at"
    ))
    .bind(now)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    for r in rows {
        if let Some(c) = cals.get_mut(&r.get::<i64, _>("provider_id")) {
            c.busy.push(Span {
                start: r.get("starts_at"),
                end: r.get("ends_at"),
            });
            // The engine reads busy times in order of start.
            c.busy.sort_by_key(|s| s.start);
        }
    }
    Ok(())
}

/// Deletes holds that lapsed more than an hour ago (they already block
/// nothing); returns how many.
pub async fn tick(state: &AppState) -> AppResult<usize> {
    let r = sqlx::query("DELETE FROM fhir_hold WHERE expires_at <= $1")
        .bind(state.now() - KEEP_LAPSED_SECS)
        .execute(&state.db.pool)
        .await?;
    Ok(r.rows_affected() as usize)
}

/// A time someone may hold or book: checked, named, and for whom.
struct Target {
    slot: FreeSlot,
    service: Service,
    provider: Person,
    patient: Person,
    /// The audited on-behalf-of (a staff member booking for a provider).
    on_behalf_of: Option<i64>,
}

/// Only a read-write token changes anything.
fn may_write(caller: &Caller) -> FhirResult<()> {
    match caller {
        Caller::Client(ApiCaller { scope, .. }) if !scope.allows_write() => Err(Refusal::new(
            403,
            "forbidden",
            "This API token may only read; holding and booking need a read-write token.",
        )),
        _ => Ok(()),
    }
}

/// Who the booking is for, as the caller may book: a client or a clinic's
/// staff for a patient of the clinic (staff as the app lets them act for
/// the provider), a patient for themself.
async fn patient_for(
    conn: &mut AnyConnection,
    caller: &Caller,
    w: &Wanted,
    clinic_id: i64,
) -> FhirResult<(i64, Option<i64>)> {
    let staff = match caller {
        Caller::Client(_) => None,
        Caller::User(me) if authz::require_staff(me, clinic_id).is_ok() => {
            Some(authz::act_for_provider(me, clinic_id, w.provider_id)?)
        }
        Caller::User(me) => {
            return match w.patient_id {
                None => Ok((me.user_id, None)),
                Some(p) if p == me.user_id => Ok((p, None)),
                Some(_) => Err(Refusal::new(
                    403,
                    "forbidden",
                    "A patient can book only for themself.",
                )),
            }
        }
    };
    let patient = w.patient_id.ok_or_else(|| {
        Refusal::new(
            400,
            "required",
            "The Appointment needs a Patient participant.",
        )
    })?;
    if !is_patient_of(conn, patient, clinic_id).await? {
        return Err(Refusal::new(
            422,
            "business-rule",
            format!("Patient/{patient} is not a patient of this clinic."),
        ));
    }
    Ok((patient, staff.flatten()))
}

/// Checks a wanted time for `caller`: allowed, a real provider and
/// patient, and one of the times the engine offers now.
async fn target(state: &AppState, caller: &Caller, w: &Wanted) -> FhirResult<Target> {
    may_write(caller)?;
    let q = SlotQuery {
        service_id: w.service_id,
        schedule: None,
        provider: Some(w.provider_id),
        start: Bounds {
            from: Some(w.start),
            to: Some(w.start + 1),
        },
    };
    let (slots, service) = free_slots(state, caller, &q).await?;
    let mut conn = state.db.pool.acquire().await?;
    let provider = provider_of(&mut conn, caller, service.clinic_id, w.provider_id).await?;
    let (patient_id, on_behalf_of) = patient_for(&mut conn, caller, w, service.clinic_id).await?;
    let patient_name: String = sqlx::query_scalar("SELECT name FROM app_user WHERE id = $1")
        .bind(patient_id)
        .fetch_one(&mut *conn)
        .await?;
    let slot = *slots
        .first()
        .ok_or_else(|| Refusal::new(409, "conflict", NOT_OFFERED))?;
    Ok(Target {
        slot,
        service,
        provider,
        patient: Person {
            id: patient_id,
            name: patient_name,
            email: String::new(),
        },
        on_behalf_of,
    })
}

/// The time must still be clear of appointments and holds; the caller
/// holds the provider's lock.
async fn still_free(change: &mut Change, s: &FreeSlot) -> FhirResult<()> {
    let clock = clinic_clock(change.conn(), s.clinic_id).await?;
    let booked = find_conflict(change.tx_mut(), s.provider_id, s.start, s.end, &[], clock).await?;
    if booked.is_some() || is_held(change, s.provider_id, s.start, s.end).await? {
        return Err(Refusal::new(409, "conflict", TAKEN));
    }
    Ok(())
}

fn actor(caller: &Caller) -> (Option<i64>, Value) {
    match caller {
        Caller::User(me) => (Some(me.user_id), Value::Null),
        Caller::Client(c) => (None, json!(c.client_id)),
    }
}

/// `Appointment/$hold`: reserves the time for `HOLD_MINUTES`.
#[tracing::instrument(skip_all)]
pub async fn hold(state: &AppState, caller: &Caller, inputs: &Inputs) -> FhirResult<Value> {
    let w = wanted(inputs)?;
    let t = target(state, caller, &w).await?;
    let mut change = Change::begin(state).await?;
    change.lock_provider(t.slot.provider_id).await?;
    still_free(&mut change, &t.slot).await?;
    let expires_at = change.now + HOLD_MINUTES * 60;
    let (user, client) = actor(caller);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO fhir_hold (clinic_id, service_id, provider_id, patient_id, starts_at, ends_at, \
         expires_at, held_by_user, held_by_client, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(t.slot.clinic_id)
    .bind(t.slot.service_id)
    .bind(t.slot.provider_id)
    .bind(t.patient.id)
    .bind(t.slot.start)
    .bind(t.slot.end)
    .bind(expires_at)
    .bind(user)
    .bind(client.as_i64())
    .bind(change.now)
    .fetch_one(change.conn())
    .await?;
    change
        .audit(Audit {
            actor_id: user,
            on_behalf_of_id: t.on_behalf_of,
            clinic_id: Some(t.slot.clinic_id),
            action: "appointment.hold",
            entity: "fhir_hold",
            entity_id: id,
            before: None,
            after: Some(json!({ "starts_at": t.slot.start, "ends_at": t.slot.end,
                "host": t.slot.provider_id, "patient": t.patient.id,
                "expires_at": expires_at, "api_client": client })),
        })
        .await?;
    change.commit().await?;
    Ok(res::held(
        id,
        &t.slot,
        &t.service.name,
        &t.provider,
        &t.patient,
        expires_at,
    ))
}

/// The Appointment `$hold` (or `$book` of a free time) is given.
fn wanted(inputs: &Inputs) -> FhirResult<Wanted> {
    let a = inputs.resource("appointment-resource").ok_or_else(|| {
        Refusal::new(
            400,
            "required",
            "Give the Appointment as the parameter 'appointment-resource'.",
        )
    })?;
    Wanted::from_appointment(a)
}

/// `Appointment/$book`: a hold (`appointment-reference` Appointment/hold-<n>,
/// or an appointment-resource with that id) or a free time; answers the
/// booked Appointment.
#[tracing::instrument(skip_all)]
pub async fn book(state: &AppState, caller: &Caller, inputs: &Inputs) -> FhirResult<Value> {
    may_write(caller)?;
    let reference = inputs
        .values
        .iter()
        .find(|(n, _)| n == "appointment-reference")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            inputs.resource("appointment-resource")?["id"]
                .as_str()
                .map(|id| format!("Appointment/{id}"))
        });
    let id = match reference {
        Some(r) => {
            let id = reference_id(&r, "Appointment")?;
            let hold = id
                .strip_prefix("hold-")
                .and_then(|n| numeric_ids(n, 1))
                .ok_or_else(|| not_found("Appointment", &id))?[0];
            book_hold(state, caller, hold).await?
        }
        None => book_free(state, caller, &wanted(inputs)?).await?,
    };
    super::appointment(state, caller, &id.to_string()).await
}

#[derive(sqlx::FromRow)]
struct HoldRow {
    clinic_id: i64,
    service_id: i64,
    provider_id: i64,
    patient_id: i64,
    starts_at: i64,
    ends_at: i64,
    expires_at: i64,
    held_by_user: Option<i64>,
    held_by_client: Option<i64>,
}

impl HoldRow {
    fn slot(&self) -> FreeSlot {
        FreeSlot {
            clinic_id: self.clinic_id,
            provider_id: self.provider_id,
            service_id: self.service_id,
            start: self.starts_at,
            end: self.ends_at,
        }
    }
}

/// The hold, if the caller made it (anyone else's is "not known").
async fn holders_hold(
    conn: &mut AnyConnection,
    caller: &Caller,
    hold_id: i64,
) -> FhirResult<HoldRow> {
    let h: Option<HoldRow> = sqlx::query_as(
        "SELECT clinic_id, service_id, provider_id, patient_id, starts_at, ends_at, expires_at, \
         held_by_user, held_by_client FROM fhir_hold WHERE id = $1",
    )
    .bind(hold_id)
    .fetch_optional(conn)
    .await?;
    let mine = |h: &HoldRow| match caller {
        Caller::User(me) => h.held_by_user == Some(me.user_id),
        Caller::Client(c) => h.held_by_client == Some(c.client_id),
    };
    h.filter(mine)
        .ok_or_else(|| not_found("Appointment", &format!("hold-{hold_id}")))
}

/// A lapsed hold is gone (410) until the timers delete it (then 404).
fn live(h: &HoldRow, now: i64) -> FhirResult<()> {
    if h.expires_at <= now {
        return Err(Refusal::new(
            410,
            "expired",
            format!(
                "This hold lapsed at {}; find and hold a time again.",
                crate::domain::fhir::instant(h.expires_at)
            ),
        ));
    }
    Ok(())
}

/// `GET Appointment/hold-<n>`: the caller's live hold, as `$hold` answered it.
pub async fn read(state: &AppState, caller: &Caller, hold_id: i64) -> FhirResult<Value> {
    let mut conn = state.db.pool.acquire().await?;
    let h = holders_hold(&mut conn, caller, hold_id).await?;
    live(&h, state.now())?;
    let (service, provider, patient): (String, String, String) = sqlx::query_as(
        "SELECT s.name, p.name, u.name FROM service s, app_user p, app_user u \
         WHERE s.id = $1 AND p.id = $2 AND u.id = $3",
    )
    .bind(h.service_id)
    .bind(h.provider_id)
    .bind(h.patient_id)
    .fetch_one(&mut *conn)
    .await?;
    let person = |id, name| Person {
        id,
        name,
        email: String::new(),
    };
    Ok(res::held(
        hold_id,
        &h.slot(),
        &service,
        &person(h.provider_id, provider),
        &person(h.patient_id, patient),
        h.expires_at,
    ))
}

/// Books a hold its holder made, unless it lapsed.
async fn book_hold(state: &AppState, caller: &Caller, hold_id: i64) -> FhirResult<i64> {
    let mut change = Change::begin(state).await?;
    let h = holders_hold(change.conn(), caller, hold_id).await?;
    change.lock_provider(h.provider_id).await?;
    live(&h, change.now)?;
    let gone = sqlx::query("DELETE FROM fhir_hold WHERE id = $1")
        .bind(hold_id)
        .execute(change.conn())
        .await?;
    if gone.rows_affected() == 0 {
        return Err(Refusal::new(
            409,
            "conflict",
            "This hold was booked already.",
        ));
    }
    let slot = h.slot();
    let on_behalf_of = match caller {
        Caller::User(me) if me.user_id != h.provider_id && me.user_id != h.patient_id => {
            Some(h.provider_id)
        }
        _ => None,
    };
    write_booking(change, caller, &slot, h.patient_id, on_behalf_of).await
}

/// Books a free time at once.
async fn book_free(state: &AppState, caller: &Caller, w: &Wanted) -> FhirResult<i64> {
    let t = target(state, caller, w).await?;
    let change = Change::begin(state).await?;
    write_booking(change, caller, &t.slot, t.patient.id, t.on_behalf_of).await
}

/// The booking itself, through the guarded insert every booking uses;
/// with its audit entry, live event and messages, in one transaction.
async fn write_booking(
    mut change: Change,
    caller: &Caller,
    s: &FreeSlot,
    patient_id: i64,
    on_behalf_of: Option<i64>,
) -> FhirResult<i64> {
    change.lock_provider(s.provider_id).await?;
    still_free(&mut change, s).await?;
    let booked = Booked {
        clinic_id: s.clinic_id,
        service_id: s.service_id,
        provider_id: s.provider_id,
        patient_id,
        start: s.start,
        end: s.end,
        location: "",
        series_id: None,
    };
    let id = insert_booked(&mut change, booked)
        .await
        .map_err(|e| match e {
            crate::error::AppError::Conflict(_) => Refusal::new(409, "conflict", TAKEN),
            e => e.into(),
        })?;
    let (user, client) = actor(caller);
    if user == Some(patient_id) {
        // Booking at a clinic makes the patient one of its patients, as a
        // request from its booking page does.
        sqlx::query(
            "INSERT INTO membership (user_id, clinic_id, role, created_at) \
             VALUES ($1, $2, 'patient', $3) ON CONFLICT DO NOTHING",
        )
        .bind(patient_id)
        .bind(s.clinic_id)
        .bind(change.now)
        .execute(change.conn())
        .await?;
    }
    change
        .audit(Audit {
            actor_id: user,
            on_behalf_of_id: on_behalf_of,
            clinic_id: Some(s.clinic_id),
            action: "appointment.create",
            entity: "appointment",
            entity_id: id,
            before: None,
            after: Some(
                json!({ "starts_at": s.start, "ends_at": s.end, "host": s.provider_id,
                "patient": patient_id, "via": "fhir", "api_client": client }),
            ),
        })
        .await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: "created".into(),
            entity_id: id,
            clinic_id: Some(s.clinic_id),
            user_ids: vec![patient_id, s.provider_id],
            at_us: 0,
        })
        .await?;
    // An API client is nobody the messages could leave out (0).
    let about = About::Appointment {
        id,
        span: NoticeSpan::One,
    };
    notify::queue(
        &mut change,
        Notice::new(NotifyEvent::AppointmentCreated, about, user.unwrap_or(0)),
    )
    .await?;
    change.commit().await?;
    Ok(id)
}

/// `Appointment/$find`: the free times as proposed Appointments.
pub async fn find(
    state: &AppState,
    caller: &Caller,
    q: &SlotQuery,
    patient: Option<i64>,
) -> FhirResult<Vec<Value>> {
    let patient = match patient {
        Some(p) => Some(super::visible_patient(state, caller, p).await?),
        None => None,
    };
    let (slots, service) = free_slots(state, caller, q).await?;
    let mut conn = state.db.pool.acquire().await?;
    let mut names: HashMap<i64, Person> = HashMap::new();
    let mut out = Vec::with_capacity(slots.len());
    for s in &slots {
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(s.provider_id) {
            e.insert(provider_of(&mut conn, caller, s.clinic_id, s.provider_id).await?);
        }
        out.push(res::proposed(
            s,
            &service.name,
            &names[&s.provider_id],
            patient.as_ref(),
        ));
    }
    Ok(out)
}
