//! The waitlist (issue 15, part 2): patients waiting for a time; a time
//! that frees up is offered to them, and a claim books it through the same
//! guarded path as any booking.
//!
//! Locking: everything that creates, claims or ends offers of one time
//! holds that provider's lock (`Change::lock_provider`) before touching
//! the offers, so offers of one time are changed by one transaction at a
//! time, on every instance, and never in an order that could deadlock.

use super::super::db::known;
use super::super::notify;
use super::super::notify::render::esc;
use super::super::state::AppState;
use super::super::zones::Clock;
use super::appointment_state::{Actor, After, Appt};
use super::appointments::{insert_booked, Booked};
use super::fhir::holds;
use super::{authz, Audit, Change, OutboxMessage};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::booking;
use crate::domain::live::{topic, LiveEvent};
use crate::domain::notify::NotifyEvent;
use crate::domain::role::Role;
use crate::domain::waitlist::{
    check_claim_minutes, check_join, freed_times, Became, DayParts, Freed, Held, OfferMode, Wish,
    ALREADY_CLAIMED, TAKEN, WINDOW_ENDED,
};
use crate::error::{AppError, AppResult};
use crate::model::{
    Me, MyWaitlist, OfferChoice, WaitlistBoard, WaitlistChoices, WaitlistEntryView,
    WaitlistOfferView, WAITLIST_TOPIC,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::AnyConnection;

/// A clinic's waitlist settings, zone and style.
#[derive(Debug, Clone, Copy)]
struct Setup {
    mode: OfferMode,
    claim_minutes: i64,
    clock: Clock,
    horizon_days: u32,
}

/// The clinic's offer mode and claim window, for its settings page.
pub(super) async fn settings(
    conn: &mut AnyConnection,
    clinic_id: i64,
) -> AppResult<(OfferMode, i64)> {
    let s = setup(conn, clinic_id).await?;
    Ok((s.mode, s.claim_minutes))
}

async fn setup(conn: &mut AnyConnection, clinic_id: i64) -> AppResult<Setup> {
    let row: Option<(String, i64, String, String, i64)> = sqlx::query_as(
        "SELECT waitlist_mode, waitlist_claim_minutes, time_zone, date_style, booking_horizon_days \
         FROM clinic WHERE id = $1",
    )
    .bind(clinic_id)
    .fetch_optional(conn)
    .await?;
    let (mode, claim_minutes, tz, style, horizon) =
        row.ok_or_else(|| AppError::not_found("That clinic does not exist."))?;
    Ok(Setup {
        mode: known(OfferMode::parse(&mode), "clinic.waitlist_mode", &mode)?,
        claim_minutes,
        clock: Clock::new(&tz, &style)?,
        horizon_days: u32::try_from(horizon).unwrap_or(90),
    })
}

fn became(after: After) -> Became {
    match after {
        After::Moved {
            starts_at,
            ends_at,
            status,
        } => Became::Moved {
            starts_at,
            ends_at,
            status,
        },
        After::Cancelled => Became::Cancelled,
        After::NoShow => Became::NoShow,
        After::ProposalApproved => Became::ProposalApproved,
    }
}

/// An appointment changed: a time it freed is offered to the waitlist
/// (inside the change's transaction, so an offer exists only if the
/// change commits).
pub(super) async fn after_change(change: &mut Change, a: &Appt, after: After) -> AppResult<()> {
    // Declining a proposal also gives up the time it replaced.
    let original = if a.status == AppointmentStatus::Pending && after == After::Cancelled {
        proposal_original(change, a).await?
    } else {
        None
    };
    let held = Held {
        status: a.status,
        starts_at: a.starts_at,
        ends_at: a.ends_at,
    };
    for (starts_at, ends_at) in freed_times(held, became(after), original, change.now) {
        let freed = Freed {
            provider_id: a.host,
            service_id: a.service_id,
            starts_at,
            ends_at,
        };
        // The patient who gave the time up is not offered it back.
        offer_freed(change, a.clinic_id, freed, Some(a.patient)).await?;
    }
    Ok(())
}

/// The time a Tentative appointment had before the clinic proposed its
/// present one (recorded on the request the proposal answered).
async fn proposal_original(change: &mut Change, a: &Appt) -> AppResult<Option<(i64, i64)>> {
    let start: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT original_start FROM request WHERE appointment_id = $1 AND outcome = 'propose' \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(a.id)
    .fetch_optional(change.conn())
    .await?;
    Ok(start.flatten().map(|s| (s, s + (a.ends_at - a.starts_at))))
}

/// What a patient hears when the time of their offer is held through the
/// FHIR API (`Appointment/$hold`) as they claim it: the hold lapses within
/// minutes unless it is booked, so the offer stays theirs to claim again.
pub const HELD_FOR_BOOKING: &str = "Someone else is booking this time at this moment. \
Your offer is still open: if their booking is not completed, the time comes back within a few \
minutes, so try again then, before your time to claim ends.";

/// Whether the waitlist may offer or book a time.
#[derive(Debug, PartialEq, Eq)]
enum TimeIs {
    Free,
    /// An appointment of the provider covers part of it.
    Booked,
    /// A live `$hold` covers part of it (it may lapse and free the time).
    Held,
}

/// Whether the time is free of the provider's appointments and of live
/// holds (`holds::is_held`, the same check as every booking path). The
/// caller holds the provider's lock.
async fn time_is(change: &mut Change, f: &Freed) -> AppResult<TimeIs> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM appointment WHERE host_provider_id = $1 AND status <> 'cancelled' \
         AND starts_at < $3 AND $2 < ends_at AND starts_at > $4",
    )
    .bind(f.provider_id)
    .bind(f.starts_at)
    .bind(f.ends_at)
    .bind(f.starts_at - booking::LONGEST_APPOINTMENT_SECS)
    .fetch_one(change.conn())
    .await?;
    if n > 0 {
        return Ok(TimeIs::Booked);
    }
    if holds::is_held(change, f.provider_id, f.starts_at, f.ends_at).await? {
        return Ok(TimeIs::Held);
    }
    Ok(TimeIs::Free)
}

/// A waiting entry as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
struct EntryRow {
    id: i64,
    patient_id: i64,
    service_id: i64,
    provider_id: Option<i64>,
    date_from: String,
    date_to: String,
    morning: i64,
    afternoon: i64,
    evening: i64,
}

impl EntryRow {
    fn wish(&self) -> Option<Wish> {
        Some(Wish {
            service_id: self.service_id,
            provider_id: self.provider_id,
            from: NaiveDate::parse_from_str(&self.date_from, "%Y-%m-%d").ok()?,
            to: NaiveDate::parse_from_str(&self.date_to, "%Y-%m-%d").ok()?,
            parts: DayParts {
                morning: self.morning == 1,
                afternoon: self.afternoon == 1,
                evening: self.evening == 1,
            },
        })
    }
}

/// Offers a freed time to the waitlist as the clinic's mode says: the
/// first matching entry in order of joining that was not offered this time
/// yet, or every matching one. Nothing when the time has passed, is not
/// free (booked, or held through the API: a patient is not offered a time
/// their claim would be refused), or is being offered already. Returns
/// the offers made.
async fn offer_freed(
    change: &mut Change,
    clinic_id: i64,
    f: Freed,
    skip_patient: Option<i64>,
) -> AppResult<usize> {
    if f.starts_at <= change.now {
        return Ok(0);
    }
    change.lock_provider(f.provider_id).await?;
    let s = setup(change.conn(), clinic_id).await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM waitlist_offer WHERE provider_id = $1 AND starts_at = $2 AND status = 'open'",
    )
    .bind(f.provider_id)
    .bind(f.starts_at)
    .fetch_one(change.conn())
    .await?;
    if open > 0 || time_is(change, &f).await? != TimeIs::Free {
        return Ok(0);
    }
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT e.id, e.patient_id, e.service_id, e.provider_id, e.date_from, e.date_to, e.morning, \
         e.afternoon, e.evening FROM waitlist_entry e \
         WHERE e.clinic_id = $1 AND e.service_id = $2 AND e.status = 'waiting' \
         AND (e.provider_id IS NULL OR e.provider_id = $3) AND e.patient_id <> $4 \
         AND NOT EXISTS (SELECT 1 FROM waitlist_offer o WHERE o.entry_id = e.id \
         AND o.provider_id = $3 AND o.starts_at = $5) \
         ORDER BY e.created_at, e.id LIMIT 500",
    )
    .bind(clinic_id)
    .bind(f.service_id)
    .bind(f.provider_id)
    .bind(skip_patient.unwrap_or(0))
    .bind(f.starts_at)
    .fetch_all(change.conn())
    .await?;
    let mut chosen = rows
        .into_iter()
        .filter(|e| e.wish().is_some_and(|w| w.matches(&f, &s.clock.tz)));
    let chosen: Vec<EntryRow> = match s.mode {
        OfferMode::InTurn => chosen.next().into_iter().collect(),
        OfferMode::AllAtOnce => chosen.collect(),
    };
    for e in &chosen {
        create_offer(change, clinic_id, e, f, s).await?;
    }
    Ok(chosen.len())
}

/// Writes one offer, tells the patient (email, a text when they have a
/// mobile, and live to their portal) and the clinic's staff (live).
async fn create_offer(
    change: &mut Change,
    clinic_id: i64,
    e: &EntryRow,
    f: Freed,
    s: Setup,
) -> AppResult<i64> {
    let expires_at = change.now + s.claim_minutes * 60;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO waitlist_offer (entry_id, clinic_id, patient_id, provider_id, service_id, starts_at, \
         ends_at, offered_at, expires_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open') \
         RETURNING id",
    )
    .bind(e.id)
    .bind(clinic_id)
    .bind(e.patient_id)
    .bind(f.provider_id)
    .bind(f.service_id)
    .bind(f.starts_at)
    .bind(f.ends_at)
    .bind(change.now)
    .bind(expires_at)
    .fetch_one(change.conn())
    .await?;
    notify_offer(change, id, s.clock).await?;
    emit(change, clinic_id, "offered", id, vec![e.patient_id]).await?;
    Ok(id)
}

async fn emit(
    change: &mut Change,
    clinic_id: i64,
    action: &str,
    id: i64,
    users: Vec<i64>,
) -> AppResult<()> {
    change
        .emit(LiveEvent {
            topic: WAITLIST_TOPIC.into(),
            action: action.into(),
            entity_id: id,
            clinic_id: Some(clinic_id),
            user_ids: users,
            at_us: 0,
        })
        .await
}

/// What an offer message says.
#[derive(Debug, Clone)]
pub(crate) struct OfferWords {
    pub clinic: String,
    pub patient: String,
    pub service: String,
    pub provider: String,
    pub when: String,
    pub claim_by: String,
    pub portal: String,
}

/// (subject, plain text, HTML, SMS) of an offer.
pub(crate) fn offer_message(w: &OfferWords) -> (String, String, String, String) {
    let subject = format!("A time is free at {}: {}", w.clinic, w.when);
    let intro = "A time you are waiting for has become free.";
    let claim = format!("Claim it by {} in your portal", w.claim_by);
    let after = "If someone else claims it first, it is theirs and you stay on the waitlist.";
    let text = format!(
        "Hello {},\n\n{intro}\n\nService: {}\nWith: {}\nWhen: {}\n\n{claim}: {}\n{after}\n\n{}\n",
        w.patient, w.service, w.provider, w.when, w.portal, w.clinic
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;color:#1f2933\">\
         <p>Hello {},</p><p>{}</p><table><tr><th style=\"text-align:left\">Service</th><td>{}</td></tr>\
         <tr><th style=\"text-align:left\">With</th><td>{}</td></tr>\
         <tr><th style=\"text-align:left\">When</th><td>{}</td></tr></table>\
         <p><a href=\"{}\">{}</a></p><p>{}</p><p style=\"color:#52606d\">{}</p></body></html>",
        esc(&w.patient),
        esc(intro),
        esc(&w.service),
        esc(&w.provider),
        esc(&w.when),
        esc(&w.portal),
        esc(&claim),
        esc(after),
        esc(&w.clinic)
    );
    let sms = format!(
        "{}: {} with {} on {} is free. Claim by {}: {}",
        w.clinic, w.service, w.provider, w.when, w.claim_by, w.portal
    );
    (subject, text, html, sms)
}

/// "3:30 PM" when the window ends on the day of `now`, else date and time.
fn claim_by(clock: Clock, expires_at: i64, now: i64) -> String {
    let day = |t: i64| {
        DateTime::<Utc>::from_timestamp(t, 0).map(|d| d.with_timezone(&clock.tz).date_naive())
    };
    if day(expires_at) == day(now) {
        clock.time(expires_at)
    } else {
        clock.short(expires_at)
    }
}

/// Queues the offer's email (and text) to the patient.
async fn notify_offer(change: &mut Change, offer_id: i64, clock: Clock) -> AppResult<()> {
    #[derive(sqlx::FromRow)]
    struct Row {
        patient_id: i64,
        clinic_id: i64,
        clinic: String,
        patient: String,
        email: String,
        mobile: String,
        service: String,
        provider: String,
        starts_at: i64,
        expires_at: i64,
    }
    let r: Row = sqlx::query_as(
        "SELECT o.patient_id, o.clinic_id, c.name AS clinic, p.name AS patient, p.email, p.mobile, \
         s.name AS service, h.name AS provider, o.starts_at, o.expires_at \
         FROM waitlist_offer o JOIN clinic c ON c.id = o.clinic_id JOIN app_user p ON p.id = o.patient_id \
         JOIN service s ON s.id = o.service_id JOIN app_user h ON h.id = o.provider_id WHERE o.id = $1",
    )
    .bind(offer_id)
    .fetch_one(change.conn())
    .await?;
    let words = OfferWords {
        clinic: r.clinic,
        patient: r.patient,
        service: r.service,
        provider: r.provider,
        when: format!(
            "{} {}",
            clock.local(r.starts_at),
            clock.abbreviation(r.starts_at)
        ),
        claim_by: claim_by(clock, r.expires_at, change.now),
        portal: format!("{}/portal", change.base_url()),
    };
    let (subject, text, html, sms) = offer_message(&words);
    let mut out = vec![("email", r.email, text, html)];
    if !r.mobile.trim().is_empty() {
        out.push(("sms", r.mobile, sms, String::new()));
    }
    for (channel, to, body_text, body_html) in out {
        if to.trim().is_empty() {
            continue;
        }
        change
            .outbox(OutboxMessage {
                recipient_user_id: Some(r.patient_id),
                recipient: to,
                channel,
                event: "waitlist_offer".into(),
                subject: subject.clone(),
                body_text,
                body_html,
                attachment: None,
                attachment_extra: None,
                idempotency_key: format!("waitlist_offer/{offer_id}/{channel}"),
                clinic_id: Some(r.clinic_id),
                appointment_id: None,
            })
            .await?;
    }
    Ok(())
}

/// Ends offers whose claim window ended and, for a clinic that offers in
/// turn, offers each such time to the next matching patient (if it is
/// still free and to come). Several instances may run this at once: the
/// providers' locks are taken first (in order), then each offer is ended
/// by a guarded UPDATE, so one instance ends it and moves it on.
pub async fn tick(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now().timestamp();
    let providers: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT provider_id FROM waitlist_offer WHERE status = 'open' AND expires_at <= $1 \
         ORDER BY provider_id LIMIT 50",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    let mut moved = 0;
    for provider in providers {
        let mut change = Change::begin(state).await?;
        change.lock_provider(provider).await?;
        moved += expire_for(&mut change, provider).await?;
        change.commit().await?;
    }
    Ok(moved)
}

/// Ends one provider's due offers and moves them on; returns how many.
async fn expire_for(change: &mut Change, provider: i64) -> AppResult<usize> {
    let ended: Vec<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "UPDATE waitlist_offer SET status = 'expired', closed_at = $1 \
         WHERE provider_id = $2 AND status = 'open' AND expires_at <= $1 \
         RETURNING id, clinic_id, patient_id, service_id, starts_at, ends_at",
    )
    .bind(change.now)
    .bind(provider)
    .fetch_all(change.conn())
    .await?;
    for (id, clinic_id, patient, service_id, starts_at, ends_at) in &ended {
        emit(change, *clinic_id, "expired", *id, vec![*patient]).await?;
        let s = setup(change.conn(), *clinic_id).await?;
        if s.mode == OfferMode::InTurn {
            let f = Freed {
                provider_id: provider,
                service_id: *service_id,
                starts_at: *starts_at,
                ends_at: *ends_at,
            };
            offer_freed(change, *clinic_id, f, None).await?;
        }
    }
    Ok(ended.len())
}

/// Ends waiting entries whose last date has passed in their clinic's zone
/// (nothing can be offered to them any more): each becomes `expired`, its
/// open offers are withdrawn, and the patient's and staff's lists update.
/// Each is ended by a guarded UPDATE, so of several instances one does it.
pub async fn end_past(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now().timestamp();
    // No clinic's today is later than today at UTC+14: the candidates end
    // before that date; each is then judged in its own clinic's zone.
    let latest = DateTime::<Utc>::from_timestamp(now + 14 * 3600, 0).unwrap_or_default();
    let due: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT e.id, e.date_to, c.time_zone, c.date_style FROM waitlist_entry e \
         JOIN clinic c ON c.id = e.clinic_id WHERE e.status = 'waiting' AND e.date_to < $1 \
         ORDER BY e.date_to, e.id LIMIT 200",
    )
    .bind(latest.format("%Y-%m-%d").to_string())
    .fetch_all(&state.db.pool)
    .await?;
    let mut ended = 0;
    for (id, date_to, tz, style) in due {
        let clock = Clock::new(&tz, &style)?;
        if date_to < today(clock, now).format("%Y-%m-%d").to_string() {
            ended += end_entry(state, id).await?;
        }
    }
    Ok(ended)
}

/// Ends one entry past its dates, unless it was ended meanwhile (by
/// another instance, the patient or staff); returns 1 if this did.
async fn end_entry(state: &AppState, id: i64) -> AppResult<usize> {
    let mut change = Change::begin(state).await?;
    let row: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE waitlist_entry SET status = 'expired', closed_at = $1 \
         WHERE id = $2 AND status = 'waiting' RETURNING clinic_id, patient_id",
    )
    .bind(change.now)
    .bind(id)
    .fetch_optional(change.conn())
    .await?;
    let Some((clinic_id, patient)) = row else {
        return Ok(0);
    };
    sqlx::query(
        "UPDATE waitlist_offer SET status = 'withdrawn', closed_at = $1 WHERE entry_id = $2 AND status = 'open'",
    )
    .bind(change.now)
    .bind(id)
    .execute(change.conn())
    .await?;
    change
        .audit(Audit {
            actor_id: None,
            on_behalf_of_id: None,
            clinic_id: Some(clinic_id),
            action: "waitlist.expire",
            entity: "waitlist",
            entity_id: id,
            before: None,
            after: Some(json!({ "status": "expired" })),
        })
        .await?;
    emit(&mut change, clinic_id, "ended", id, vec![patient]).await?;
    change.commit().await?;
    Ok(1)
}

/// What a patient asks for when joining.
pub use crate::model::WaitlistJoin as Join;

const ALREADY_WAITING: &str =
    "You are already on this waitlist for this service and provider. Leave it first to change your dates.";

fn parse_date(s: &str, which: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::validation(format!("Enter the {which} date as YYYY-MM-DD.")))
}

/// Today in the clinic's zone.
fn today(clock: Clock, now: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&clock.tz)
        .date_naive()
}

/// The patient joins a clinic's waitlist (and becomes one of its
/// patients, as a request would make them). Returns the entry.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = j.clinic_id))]
pub async fn join(state: &AppState, me: &Me, j: Join) -> AppResult<i64> {
    let (from, to) = (
        parse_date(&j.date_from, "first")?,
        parse_date(&j.date_to, "last")?,
    );
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let s = setup(change.conn(), j.clinic_id).await?;
    check_join(from, to, j.parts, today(s.clock, now), s.horizon_days)
        .map_err(AppError::Validation)?;
    let service: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM service WHERE id = $1 AND clinic_id = $2 AND active = 1",
    )
    .bind(j.service_id)
    .bind(j.clinic_id)
    .fetch_one(change.conn())
    .await?;
    if service == 0 {
        return Err(AppError::validation(
            "Choose one of this clinic's services.",
        ));
    }
    if let Some(p) = j.provider_id {
        if !authz::holds_role(change.conn(), p, j.clinic_id, Role::Provider).await? {
            return Err(AppError::validation(
                "Choose one of this clinic's providers, or any provider.",
            ));
        }
    }
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM waitlist_entry WHERE clinic_id = $1 AND patient_id = $2 AND service_id = $3 \
         AND COALESCE(provider_id, 0) = $4 AND status = 'waiting'",
    )
    .bind(j.clinic_id)
    .bind(me.user_id)
    .bind(j.service_id)
    .bind(j.provider_id.unwrap_or(0))
    .fetch_one(change.conn())
    .await?;
    if waiting > 0 {
        return Err(AppError::conflict(ALREADY_WAITING));
    }
    sqlx::query(
        "INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, 'patient', $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(me.user_id)
    .bind(j.clinic_id)
    .bind(now)
    .execute(change.conn())
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO waitlist_entry (clinic_id, patient_id, service_id, provider_id, date_from, date_to, \
         morning, afternoon, evening, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'waiting', $10) RETURNING id",
    )
    .bind(j.clinic_id)
    .bind(me.user_id)
    .bind(j.service_id)
    .bind(j.provider_id)
    .bind(from.format("%Y-%m-%d").to_string())
    .bind(to.format("%Y-%m-%d").to_string())
    .bind(i64::from(j.parts.morning))
    .bind(i64::from(j.parts.afternoon))
    .bind(i64::from(j.parts.evening))
    .bind(now)
    .fetch_one(change.conn())
    .await
    .map_err(|e| match &e {
        // Two joins at once on PostgreSQL: the index refuses the second.
        sqlx::Error::Database(d) if d.is_unique_violation() => AppError::conflict(ALREADY_WAITING),
        _ => AppError::from(e),
    })?;
    audit(
        &mut change,
        me,
        j.clinic_id,
        "waitlist.join",
        id,
        json!({ "service": j.service_id,
        "provider": j.provider_id, "from": j.date_from, "to": j.date_to }),
    )
    .await?;
    emit(&mut change, j.clinic_id, "joined", id, vec![me.user_id]).await?;
    change.commit().await?;
    Ok(id)
}

async fn audit(
    change: &mut Change,
    me: &Me,
    clinic_id: i64,
    action: &str,
    id: i64,
    after: serde_json::Value,
) -> AppResult<()> {
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(clinic_id),
            action,
            entity: "waitlist",
            entity_id: id,
            before: None,
            after: Some(after),
        })
        .await
}

/// Ends a waiting entry: the patient leaves (their own only) or staff of
/// its clinic (admin, scheduler) remove it. Its open offers are withdrawn.
#[tracing::instrument(skip_all, fields(user = me.user_id, entry = entry_id))]
pub async fn remove(state: &AppState, me: &Me, entry_id: i64) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    let row: Option<(i64, i64, String)> =
        sqlx::query_as("SELECT clinic_id, patient_id, status FROM waitlist_entry WHERE id = $1")
            .bind(entry_id)
            .fetch_optional(change.conn())
            .await?;
    let (clinic_id, patient, status) = match row {
        Some(r) if r.1 == me.user_id || authz::require_role(me, r.0, STAFF).is_ok() => r,
        _ => return Err(AppError::not_found("There is no such waitlist entry.")),
    };
    if status != "waiting" {
        return Err(AppError::conflict(
            "This entry is no longer on the waitlist.",
        ));
    }
    sqlx::query(
        "UPDATE waitlist_entry SET status = 'removed', closed_at = $1 WHERE id = $2 AND status = 'waiting'",
    )
    .bind(change.now)
    .bind(entry_id)
    .execute(change.conn())
    .await?;
    sqlx::query(
        "UPDATE waitlist_offer SET status = 'withdrawn', closed_at = $1 WHERE entry_id = $2 AND status = 'open'",
    )
    .bind(change.now)
    .bind(entry_id)
    .execute(change.conn())
    .await?;
    let action = if patient == me.user_id {
        "waitlist.leave"
    } else {
        "waitlist.remove"
    };
    audit(
        &mut change,
        me,
        clinic_id,
        action,
        entry_id,
        json!({ "status": "removed" }),
    )
    .await?;
    emit(&mut change, clinic_id, "removed", entry_id, vec![patient]).await?;
    change.commit().await
}

/// Who runs a clinic's waitlist.
const STAFF: &[Role] = &[Role::Admin, Role::Scheduler];

/// An offer as a claim reads it.
#[derive(sqlx::FromRow)]
struct OfferRow {
    id: i64,
    entry_id: i64,
    clinic_id: i64,
    patient_id: i64,
    provider_id: i64,
    service_id: i64,
    starts_at: i64,
    ends_at: i64,
    expires_at: i64,
    status: String,
}

/// The patient claims an offer: it books the time through the same
/// guarded path as any booking. Of simultaneous claims of one time exactly
/// one books; the others are told it was taken. Returns the appointment.
#[tracing::instrument(skip_all, fields(user = me.user_id, offer = offer_id))]
pub async fn claim(state: &AppState, me: &Me, offer_id: i64) -> AppResult<i64> {
    let provider: Option<i64> = sqlx::query_scalar(
        "SELECT provider_id FROM waitlist_offer WHERE id = $1 AND patient_id = $2",
    )
    .bind(offer_id)
    .bind(me.user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    // Another patient's offer is as good as none.
    let provider = provider.ok_or_else(|| AppError::not_found("There is no such offer."))?;
    let mut change = Change::begin(state).await?;
    // Every claim of this time waits here for the one before it.
    change.lock_provider(provider).await?;
    let o: OfferRow = sqlx::query_as(
        "SELECT id, entry_id, clinic_id, patient_id, provider_id, service_id, starts_at, ends_at, \
         expires_at, status FROM waitlist_offer WHERE id = $1",
    )
    .bind(offer_id)
    .fetch_one(change.conn())
    .await?;
    match o.status.as_str() {
        "open" if o.expires_at > change.now && o.starts_at > change.now => {}
        "open" | "expired" => return Err(AppError::conflict(WINDOW_ENDED)),
        "claimed" => return Err(AppError::conflict(ALREADY_CLAIMED)),
        "taken" => return Err(AppError::conflict(TAKEN)),
        _ => return Err(AppError::conflict("This offer was withdrawn.")),
    }
    let f = Freed {
        provider_id: o.provider_id,
        service_id: o.service_id,
        starts_at: o.starts_at,
        ends_at: o.ends_at,
    };
    match time_is(&mut change, &f).await? {
        TimeIs::Free => {}
        TimeIs::Booked => {
            // Booked meanwhile (not through the waitlist): every offer of it
            // ends, and that is written even though this claim fails.
            close_others(&mut change, &o, None).await?;
            change.commit().await?;
            return Err(AppError::conflict(TAKEN));
        }
        // Held: nothing is written (the change rolls back), the offer stays
        // open, as the hold may lapse unbooked.
        TimeIs::Held => return Err(AppError::conflict(HELD_FOR_BOOKING)),
    }
    let booked = Booked {
        clinic_id: o.clinic_id,
        service_id: o.service_id,
        provider_id: o.provider_id,
        patient_id: o.patient_id,
        start: o.starts_at,
        end: o.ends_at,
        location: "",
        series_id: None,
    };
    let id = insert_booked(&mut change, booked)
        .await
        .map_err(|e| match e {
            AppError::Conflict(m) if m == holds::HELD => AppError::conflict(HELD_FOR_BOOKING),
            AppError::Conflict(_) => AppError::conflict(TAKEN),
            e => e,
        })?;
    close_others(&mut change, &o, Some(id)).await?;
    booked_tail(&mut change, me, &o, id).await?;
    change.commit().await?;
    Ok(id)
}

/// Marks the claimed offer (when `booked`) and ends every other open offer
/// of the same time ('taken') and of the same entry ('withdrawn').
async fn close_others(change: &mut Change, o: &OfferRow, booked: Option<i64>) -> AppResult<()> {
    let now = change.now;
    if let Some(appointment) = booked {
        sqlx::query(
            "UPDATE waitlist_offer SET status = 'claimed', appointment_id = $1, closed_at = $2 WHERE id = $3",
        )
        .bind(appointment)
        .bind(now)
        .bind(o.id)
        .execute(change.conn())
        .await?;
        sqlx::query("UPDATE waitlist_entry SET status = 'booked', closed_at = $1 WHERE id = $2")
            .bind(now)
            .bind(o.entry_id)
            .execute(change.conn())
            .await?;
        sqlx::query(
            "UPDATE waitlist_offer SET status = 'withdrawn', closed_at = $1 WHERE entry_id = $2 AND status = 'open'",
        )
        .bind(now)
        .bind(o.entry_id)
        .execute(change.conn())
        .await?;
    }
    let taken: Vec<(i64, i64)> = sqlx::query_as(
        "UPDATE waitlist_offer SET status = 'taken', closed_at = $1 \
         WHERE provider_id = $2 AND starts_at = $3 AND status = 'open' RETURNING id, patient_id",
    )
    .bind(now)
    .bind(o.provider_id)
    .bind(o.starts_at)
    .fetch_all(change.conn())
    .await?;
    for (id, patient) in taken {
        emit(change, o.clinic_id, "taken", id, vec![patient]).await?;
    }
    Ok(())
}

/// What follows a claim's booking, as after any booking: its audit entry,
/// the live event that puts it on the Schedule, the confirmation.
async fn booked_tail(change: &mut Change, me: &Me, o: &OfferRow, id: i64) -> AppResult<()> {
    let by = Actor {
        user_id: me.user_id,
        on_behalf_of: None,
    };
    change
        .audit(Audit {
            actor_id: Some(by.user_id),
            on_behalf_of_id: by.on_behalf_of,
            clinic_id: Some(o.clinic_id),
            action: "appointment.create",
            entity: "appointment",
            entity_id: id,
            before: None,
            after: Some(json!({ "starts_at": o.starts_at, "ends_at": o.ends_at,
                "host": o.provider_id, "patient": o.patient_id, "waitlist_offer": o.id })),
        })
        .await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: "created".into(),
            entity_id: id,
            clinic_id: Some(o.clinic_id),
            user_ids: vec![o.patient_id, o.provider_id],
            at_us: 0,
        })
        .await?;
    emit(change, o.clinic_id, "claimed", o.id, vec![o.patient_id]).await?;
    notify::appointment_changed(
        change,
        NotifyEvent::AppointmentCreated,
        id,
        me.user_id,
        None,
        "",
    )
    .await
}

/// An entry as the lists show it.
#[derive(sqlx::FromRow)]
struct EntryViewRow {
    id: i64,
    clinic: String,
    time_zone: String,
    date_style: String,
    patient: String,
    service_id: i64,
    service: String,
    provider_id: Option<i64>,
    provider: Option<String>,
    date_from: String,
    date_to: String,
    morning: i64,
    afternoon: i64,
    evening: i64,
    created_at: i64,
    status: String,
}

const ENTRY_VIEW: &str = "SELECT e.id, c.name AS clinic, c.time_zone, c.date_style, p.name AS patient, \
     e.service_id, s.name AS service, e.provider_id, h.name AS provider, e.date_from, e.date_to, \
     e.morning, e.afternoon, e.evening, e.created_at, e.status \
     FROM waitlist_entry e JOIN clinic c ON c.id = e.clinic_id JOIN app_user p ON p.id = e.patient_id \
     JOIN service s ON s.id = e.service_id LEFT JOIN app_user h ON h.id = e.provider_id";

/// An entry as listed. One whose last date has passed is never offered a
/// time again: it is shown as ended (the timers mark it `expired` soon
/// after midnight; until then it is judged by its date here), or left out
/// where only waiting ones belong (`waiting_only`: the staff queue).
fn entry_view(
    r: EntryViewRow,
    now: i64,
    waiting_only: bool,
) -> AppResult<Option<WaitlistEntryView>> {
    let clock = Clock::new(&r.time_zone, &r.date_style)?;
    let past = r.date_to < today(clock, now).format("%Y-%m-%d").to_string();
    if waiting_only && (past || r.status != "waiting") {
        return Ok(None);
    }
    let date = |d: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| clock.style.date(&d, true))
            .unwrap_or_else(|_| d.to_string())
    };
    let parts = DayParts {
        morning: r.morning == 1,
        afternoon: r.afternoon == 1,
        evening: r.evening == 1,
    };
    Ok(Some(WaitlistEntryView {
        id: r.id,
        clinic_name: r.clinic,
        patient: r.patient,
        service: r.service,
        provider: r.provider.unwrap_or_else(|| "Any provider".into()),
        dates: format!("{} – {}", date(&r.date_from), date(&r.date_to)),
        times_of_day: parts.label(),
        joined: clock.local(r.created_at),
        service_id: r.service_id,
        provider_id: r.provider_id,
        ended: (past || r.status != "waiting")
            .then(|| format!("No time came up by {}.", date(&r.date_to))),
    }))
}

/// An offer as the lists show it.
#[derive(sqlx::FromRow)]
struct OfferViewRow {
    id: i64,
    clinic: String,
    time_zone: String,
    date_style: String,
    patient: String,
    service: String,
    provider: String,
    starts_at: i64,
    ends_at: i64,
    expires_at: i64,
    status: String,
}

const OFFER_VIEW: &str = "SELECT o.id, c.name AS clinic, c.time_zone, c.date_style, p.name AS patient, \
     s.name AS service, h.name AS provider, o.starts_at, o.ends_at, o.expires_at, o.status \
     FROM waitlist_offer o JOIN clinic c ON c.id = o.clinic_id JOIN app_user p ON p.id = o.patient_id \
     JOIN service s ON s.id = o.service_id JOIN app_user h ON h.id = o.provider_id";

fn offer_view(r: OfferViewRow, now: i64) -> AppResult<WaitlistOfferView> {
    let clock = Clock::new(&r.time_zone, &r.date_style)?;
    Ok(WaitlistOfferView {
        id: r.id,
        clinic_name: r.clinic,
        patient: r.patient,
        service: r.service,
        provider: r.provider,
        when: format!("{}–{}", clock.local(r.starts_at), clock.time(r.ends_at)),
        claim_by: claim_by(clock, r.expires_at, now),
        status: r.status,
    })
}

/// The caller's waiting entries and open offers (their own only).
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn mine(state: &AppState, me: &Me) -> AppResult<MyWaitlist> {
    let now = state.clock.now().timestamp();
    // Waiting entries, and for two weeks those that ran out of dates, so a
    // patient sees why one is gone (and that they may join again).
    let entries: Vec<EntryViewRow> = sqlx::query_as(&format!(
        "{ENTRY_VIEW} WHERE e.patient_id = $1 AND (e.status = 'waiting' \
         OR (e.status = 'expired' AND e.closed_at > $2)) ORDER BY e.created_at, e.id LIMIT 100"
    ))
    .bind(me.user_id)
    .bind(now - ENDED_SHOWN_DAYS * 86_400)
    .fetch_all(&state.db.pool)
    .await?;
    let offers: Vec<OfferViewRow> = sqlx::query_as(&format!(
        "{OFFER_VIEW} WHERE o.patient_id = $1 AND o.status = 'open' AND o.expires_at > $2 \
         ORDER BY o.starts_at LIMIT 100"
    ))
    .bind(me.user_id)
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(MyWaitlist {
        entries: entries
            .into_iter()
            .filter_map(|r| entry_view(r, now, false).transpose())
            .collect::<AppResult<_>>()?,
        offers: offers
            .into_iter()
            .map(|r| offer_view(r, now))
            .collect::<AppResult<_>>()?,
    })
}

/// How long an entry that ran out of dates stays listed as ended.
const ENDED_SHOWN_DAYS: i64 = 14;

/// What a patient may wait for at a clinic: its active services, its
/// providers, and the dates it takes bookings for.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn choices(state: &AppState, clinic_id: i64) -> AppResult<WaitlistChoices> {
    let mut conn = state.db.pool.acquire().await?;
    let s = setup(&mut conn, clinic_id).await?;
    let services: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, name FROM service WHERE clinic_id = $1 AND active = 1 ORDER BY name",
    )
    .bind(clinic_id)
    .fetch_all(&mut *conn)
    .await?;
    let providers = super::availability::clinic_providers(&mut conn, clinic_id).await?;
    let today = today(s.clock, state.clock.now().timestamp());
    let last = today + chrono::Days::new(u64::from(s.horizon_days));
    Ok(WaitlistChoices {
        clinic_id,
        services,
        providers,
        today: today.format("%Y-%m-%d").to_string(),
        last_day: last.format("%Y-%m-%d").to_string(),
    })
}

/// A clinic's waitlist for its admins and schedulers (the first such
/// clinic of the caller's when none is asked for).
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn board(state: &AppState, me: &Me, clinic_id: Option<i64>) -> AppResult<WaitlistBoard> {
    let clinics = authz::clinics_where(me, |r| STAFF.contains(&r));
    let clinic_id = match clinic_id {
        Some(c) => c,
        None => clinics.first().map(|c| c.0).ok_or_else(|| {
            AppError::forbidden("Only a clinic admin or scheduler can see the waitlist.")
        })?,
    };
    authz::require_role(me, clinic_id, STAFF)?;
    let now = state.clock.now().timestamp();
    let mut conn = state.db.pool.acquire().await?;
    let s = setup(&mut conn, clinic_id).await?;
    let entries: Vec<EntryViewRow> = sqlx::query_as(&format!(
        "{ENTRY_VIEW} WHERE e.clinic_id = $1 AND e.status = 'waiting' ORDER BY e.created_at, e.id LIMIT 500"
    ))
    .bind(clinic_id)
    .fetch_all(&mut *conn)
    .await?;
    let ended: Vec<EntryViewRow> = sqlx::query_as(&format!(
        "{ENTRY_VIEW} WHERE e.clinic_id = $1 AND e.status = 'expired' AND e.closed_at > $2 \
         ORDER BY e.closed_at DESC, e.id DESC LIMIT 100"
    ))
    .bind(clinic_id)
    .bind(now - 7 * 86_400)
    .fetch_all(&mut *conn)
    .await?;
    let offers: Vec<OfferViewRow> = sqlx::query_as(&format!(
        "{OFFER_VIEW} WHERE o.clinic_id = $1 AND (o.status = 'open' OR o.offered_at > $2) \
         ORDER BY o.offered_at DESC, o.id DESC LIMIT 100"
    ))
    .bind(clinic_id)
    .bind(now - 7 * 86_400)
    .fetch_all(&mut *conn)
    .await?;
    Ok(WaitlistBoard {
        clinic_id,
        clinics,
        mode: s.mode,
        claim_minutes: s.claim_minutes,
        can_edit_settings: authz::require_role(me, clinic_id, &[Role::Admin]).is_ok(),
        entries: entries
            .into_iter()
            .filter_map(|r| entry_view(r, now, true).transpose())
            .collect::<AppResult<_>>()?,
        ended: ended
            .into_iter()
            .filter_map(|r| entry_view(r, now, false).transpose())
            .collect::<AppResult<_>>()?,
        offers: offers
            .into_iter()
            .map(|r| offer_view(r, now))
            .collect::<AppResult<_>>()?,
    })
}

/// A waiting entry's row, for staff acting on it.
async fn staff_entry(
    conn: &mut AnyConnection,
    me: &Me,
    entry_id: i64,
) -> AppResult<(i64, EntryRow)> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT clinic_id, status FROM waitlist_entry WHERE id = $1")
            .bind(entry_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((clinic_id, status)) = row.filter(|r| authz::require_role(me, r.0, STAFF).is_ok())
    else {
        return Err(AppError::not_found("There is no such waitlist entry."));
    };
    if status != "waiting" {
        return Err(AppError::conflict(
            "This entry is no longer on the waitlist.",
        ));
    }
    let e: EntryRow = sqlx::query_as(
        "SELECT id, patient_id, service_id, provider_id, date_from, date_to, morning, afternoon, evening \
         FROM waitlist_entry WHERE id = $1",
    )
    .bind(entry_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((clinic_id, e))
}

/// The free times staff may offer an entry: its service's free slots with
/// its provider (or each provider) within its dates, up to 200.
#[tracing::instrument(skip_all, fields(user = me.user_id, entry = entry_id))]
pub async fn offer_times(state: &AppState, me: &Me, entry_id: i64) -> AppResult<Vec<OfferChoice>> {
    let mut conn = state.db.pool.acquire().await?;
    let (clinic_id, e) = staff_entry(&mut conn, me, entry_id).await?;
    let s = setup(&mut conn, clinic_id).await?;
    let minutes: i64 = sqlx::query_scalar("SELECT duration_minutes FROM service WHERE id = $1")
        .bind(e.service_id)
        .fetch_one(&mut *conn)
        .await?;
    let providers = super::availability::clinic_providers(&mut conn, clinic_id).await?;
    let now = state.clock.now().timestamp();
    let Some(wish) = e.wish() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (p, name) in providers
        .iter()
        .filter(|p| e.provider_id.is_none_or(|x| x == p.0))
    {
        let starts = super::availability::free_slots_of(
            &mut conn,
            clinic_id,
            &[*p],
            s.clock.tz,
            minutes as u32,
            s.horizon_days,
            now,
        )
        .await?;
        for start in starts {
            let f = Freed {
                provider_id: *p,
                service_id: e.service_id,
                starts_at: start,
                ends_at: start + minutes * 60,
            };
            if wish.matches(&f, &s.clock.tz) {
                out.push(OfferChoice {
                    provider_id: *p,
                    start,
                    label: format!("{} with {name}", s.clock.local(start)),
                });
            }
        }
    }
    out.sort_by_key(|c| (c.start, c.provider_id));
    out.truncate(200);
    Ok(out)
}

/// Staff offer one free time to one waiting patient, with the clinic's
/// claim window, whatever the mode.
#[tracing::instrument(skip_all, fields(user = me.user_id, entry = entry_id))]
pub async fn offer_manually(
    state: &AppState,
    me: &Me,
    entry_id: i64,
    provider_id: i64,
    start: i64,
) -> AppResult<i64> {
    let choices = offer_times(state, me, entry_id).await?;
    if !choices
        .iter()
        .any(|c| c.provider_id == provider_id && c.start == start)
    {
        return Err(AppError::conflict(
            "That time is not free for this patient's wish any more. Choose another.",
        ));
    }
    let mut change = Change::begin(state).await?;
    let (clinic_id, e) = staff_entry(change.conn(), me, entry_id).await?;
    let s = setup(change.conn(), clinic_id).await?;
    let minutes: i64 = sqlx::query_scalar("SELECT duration_minutes FROM service WHERE id = $1")
        .bind(e.service_id)
        .fetch_one(change.conn())
        .await?;
    let f = Freed {
        provider_id,
        service_id: e.service_id,
        starts_at: start,
        ends_at: start + minutes * 60,
    };
    change.lock_provider(provider_id).await?;
    let offered: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM waitlist_offer WHERE entry_id = $1 AND provider_id = $2 AND starts_at = $3",
    )
    .bind(entry_id)
    .bind(provider_id)
    .bind(start)
    .fetch_one(change.conn())
    .await?;
    if offered > 0 {
        return Err(AppError::conflict(
            "This patient has already been offered that time.",
        ));
    }
    match time_is(&mut change, &f).await? {
        TimeIs::Free => {}
        TimeIs::Booked => {
            return Err(AppError::conflict(
                "That time is not free any more. Choose another.",
            ))
        }
        TimeIs::Held => return Err(AppError::conflict(holds::HELD)),
    }
    let id = create_offer(&mut change, clinic_id, &e, f, s).await?;
    audit(
        &mut change,
        me,
        clinic_id,
        "waitlist.offer",
        id,
        json!({ "entry": entry_id,
        "provider": provider_id, "starts_at": start }),
    )
    .await?;
    change.commit().await?;
    Ok(id)
}

/// An admin sets how the clinic offers freed times and the claim window.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_settings(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    mode: OfferMode,
    claim_minutes: i64,
) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    check_claim_minutes(claim_minutes).map_err(AppError::Validation)?;
    let mut change = Change::begin(state).await?;
    sqlx::query("UPDATE clinic SET waitlist_mode = $1, waitlist_claim_minutes = $2 WHERE id = $3")
        .bind(mode.as_str())
        .bind(claim_minutes)
        .bind(clinic_id)
        .execute(change.conn())
        .await?;
    audit(
        &mut change,
        me,
        clinic_id,
        "waitlist.settings",
        clinic_id,
        json!({ "mode": mode.as_str(), "claim_minutes": claim_minutes }),
    )
    .await?;
    change.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_says_what_when_until_when_and_where_to_claim() {
        let w = OfferWords {
            clinic: "Northside".into(),
            patient: "Ann <A>".into(),
            service: "Video consultation".into(),
            provider: "Dr Lee".into(),
            when: "Tue, Mar 10, 2026, 9:00 AM EDT".into(),
            claim_by: "3:30 PM".into(),
            portal: "https://x.test/portal".into(),
        };
        let (subject, text, html, sms) = offer_message(&w);
        assert_eq!(
            subject,
            "A time is free at Northside: Tue, Mar 10, 2026, 9:00 AM EDT"
        );
        assert!(text.contains("Claim it by 3:30 PM in your portal: https://x.test/portal"));
        assert!(text.contains("With: Dr Lee"));
        assert!(html.contains("Ann &lt;A&gt;") && html.contains("href=\"https://x.test/portal\""));
        assert!(sms.contains("Claim by 3:30 PM") && sms.len() < 200);
    }

    #[test]
    fn the_claim_deadline_is_a_time_today_and_a_date_later() {
        let clock = Clock::new("America/New_York", "en-US").unwrap();
        let now = chrono::TimeZone::with_ymd_and_hms(&clock.tz, 2026, 3, 4, 15, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(claim_by(clock, now + 1800, now), "3:30 PM");
        assert!(claim_by(clock, now + 86_400, now).contains("Mar 5"));
    }
}
