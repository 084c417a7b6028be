//! Reminders before each appointment, with confirm and cancel links
//! (issue 15, part 1). Scheduled when an appointment is created, re-timed
//! when it moves, dropped when it is cancelled; the timers put each one in
//! the outbox when it falls due, or skip it if its moment passed.
//!
//! A reminder is rendered when it falls due, from the appointment as it is
//! then. Its links (`/r/<token>`) are one-time tokens stored as SHA-256
//! hashes; opening one shows the appointment and a button, and only the
//! button's POST acts (mail scanners open links by themselves).

use super::super::auth::{new_token, token_hash};
use super::super::db::Tx;
use super::super::notify::reminder::{self as words, Button, Links, Shown};
use super::super::state::AppState;
use super::appointment_state::{audience, load_appt, After, Appt};
use super::{authz, clinic_settings, portal, Audit, Change};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::live::{topic, LiveEvent};
use crate::domain::modality::{Modality, Venue};
use crate::domain::notify::Channel;
use crate::domain::reminder::{cancel_link, CancelLink, ReminderSettings, GRACE_SECS};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{ChangeOutcome, Me, ReminderSettingsView};
use crate::server::db::known;
use serde_json::json;
use sqlx::{AnyConnection, Row};

/// Reminders claimed per transaction.
const BATCH: i64 = 50;

const SETTINGS: &str = "reminders_on, reminder_first_minutes, reminder_second_minutes, \
     reminder_email, reminder_sms";

fn settings_from(r: &sqlx::any::AnyRow) -> ReminderSettings {
    let second: i64 = r.get("reminder_second_minutes");
    ReminderSettings {
        on: r.get::<i64, _>("reminders_on") == 1,
        first_minutes: r.get("reminder_first_minutes"),
        second_minutes: (second > 0).then_some(second),
        email: r.get::<i64, _>("reminder_email") == 1,
        sms: r.get::<i64, _>("reminder_sms") == 1,
    }
}

pub(super) async fn settings_in(
    conn: &mut AnyConnection,
    clinic_id: i64,
) -> AppResult<ReminderSettings> {
    let r = sqlx::query(&format!("SELECT {SETTINGS} FROM clinic WHERE id = $1"))
        .bind(clinic_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("That clinic does not exist."))?;
    Ok(settings_from(&r))
}

/// A clinic's reminder settings (admins); `clinic_id` 0: the first clinic
/// where the caller is admin.
pub async fn settings(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
) -> AppResult<ReminderSettingsView> {
    let clinic_id = match clinic_id {
        0 => authz::clinics_where(me, |r| r == Role::Admin)
            .first()
            .map(|c| c.0)
            .ok_or_else(|| AppError::forbidden("Only a clinic admin can change its settings."))?,
        id => id,
    };
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(ReminderSettingsView {
        clinic_id,
        settings: settings_in(&mut conn, clinic_id).await?,
    })
}

/// Saves a clinic's reminder settings (admins). Reminders already
/// scheduled keep their times; new and moved appointments use these.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_settings(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    s: ReminderSettings,
) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    s.validate().map_err(AppError::Validation)?;
    let mut change = Change::begin(state).await?;
    let before = settings_in(change.conn(), clinic_id).await?;
    sqlx::query(
        "UPDATE clinic SET reminders_on = $1, reminder_first_minutes = $2, \
         reminder_second_minutes = $3, reminder_email = $4, reminder_sms = $5 WHERE id = $6",
    )
    .bind(i64::from(s.on))
    .bind(s.first_minutes)
    .bind(s.second_minutes.unwrap_or(0))
    .bind(i64::from(s.email))
    .bind(i64::from(s.sms))
    .bind(clinic_id)
    .execute(change.conn())
    .await?;
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "clinic.reminders",
            Some(json!(before)),
            json!(s),
        )
        .await?;
    change.commit().await
}

/// A new appointment: schedules its reminders.
pub(super) async fn after_create(change: &mut Change, appointment_id: i64) -> AppResult<()> {
    let (clinic_id, starts_at): (i64, i64) =
        sqlx::query_as("SELECT clinic_id, starts_at FROM appointment WHERE id = $1")
            .bind(appointment_id)
            .fetch_one(change.conn())
            .await?;
    let now = change.now;
    schedule(change.conn(), appointment_id, clinic_id, starts_at, now).await
}

/// Schedules the clinic's reminders whose moment is still ahead (`now`):
/// for a new appointment, one moved, and the demo's booked ones.
pub(crate) async fn schedule(
    conn: &mut AnyConnection,
    id: i64,
    clinic_id: i64,
    starts_at: i64,
    now: i64,
) -> AppResult<()> {
    let s = settings_in(conn, clinic_id).await?;
    for (nth, due) in s.due_times(starts_at, now) {
        sqlx::query(
            "INSERT INTO reminder (appointment_id, clinic_id, nth, for_start, due_at, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'scheduled', $6, $6)",
        )
        .bind(id)
        .bind(clinic_id)
        .bind(nth)
        .bind(starts_at)
        .bind(due)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// An appointment changed: re-times or drops its reminders. A new time
/// also clears the patient's confirmation, which was for the old one.
pub(super) async fn after_change(change: &mut Change, a: &Appt, after: After) -> AppResult<()> {
    match after {
        After::Moved {
            starts_at, status, ..
        } if starts_at != a.starts_at => {
            drop_scheduled(change, a.id).await?;
            sqlx::query("UPDATE appointment SET confirmed_at = NULL WHERE id = $1")
                .bind(a.id)
                .execute(change.conn())
                .await?;
            if matches!(
                status,
                AppointmentStatus::Booked | AppointmentStatus::Pending
            ) {
                let now = change.now;
                schedule(change.conn(), a.id, a.clinic_id, starts_at, now).await?;
            }
            Ok(())
        }
        After::Cancelled | After::NoShow => drop_scheduled(change, a.id).await,
        _ => Ok(()),
    }
}

async fn drop_scheduled(change: &mut Change, appointment_id: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE reminder SET status = 'dropped', updated_at = $1 \
         WHERE appointment_id = $2 AND status = 'scheduled'",
    )
    .bind(change.now)
    .bind(appointment_id)
    .execute(change.conn())
    .await?;
    Ok(())
}

/// Queues the reminders that fell due; returns how many went out.
pub async fn tick(state: &AppState) -> AppResult<usize> {
    let mut sent = 0;
    loop {
        // A read first: most passes find nothing and take no write turn.
        let now = state.now();
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM reminder WHERE status = 'scheduled' AND due_at <= $1 \
             ORDER BY due_at LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&state.db.pool)
        .await?;
        if due.is_none() {
            return Ok(sent);
        }
        let (claimed, queued) = tick_batch(state).await?;
        sent += queued;
        if claimed < BATCH as usize {
            return Ok(sent);
        }
    }
}

/// A claimed reminder.
#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    appointment_id: i64,
    clinic_id: i64,
    for_start: i64,
    due_at: i64,
}

/// One transaction: skips what is too late, claims a batch of due
/// reminders and queues each. Returns (claimed, queued).
async fn tick_batch(state: &AppState) -> AppResult<(usize, usize)> {
    let mut change = Change::begin(state).await?;
    let now = change.now;
    sqlx::query(
        "UPDATE reminder SET status = 'skipped', updated_at = $1 \
         WHERE status = 'scheduled' AND due_at < $2",
    )
    .bind(now)
    .bind(now - GRACE_SECS)
    .execute(change.conn())
    .await?;
    // Guarded on the status: on PostgreSQL a competing instance's claim of
    // the same rows waits for this one and then finds them taken.
    let claimed: Vec<Claimed> = sqlx::query_as(
        "UPDATE reminder SET status = 'queued', updated_at = $1 \
         WHERE status = 'scheduled' AND due_at <= $1 AND id IN (\
           SELECT id FROM reminder WHERE status = 'scheduled' AND due_at <= $1 \
           ORDER BY due_at, id LIMIT $2) \
         RETURNING id, appointment_id, clinic_id, for_start, due_at",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(change.conn())
    .await?;
    let mut queued = 0;
    for c in &claimed {
        let fate = send_one(&mut change, c).await?;
        if fate == "queued" {
            queued += 1;
        } else {
            sqlx::query("UPDATE reminder SET status = $1 WHERE id = $2")
                .bind(fate)
                .bind(c.id)
                .execute(change.conn())
                .await?;
        }
    }
    change.commit().await?;
    Ok((claimed.len(), queued))
}

/// Queues one claimed reminder; returns what became of it ("queued", or
/// "dropped"/"skipped" when it should not go out after all).
async fn send_one(change: &mut Change, c: &Claimed) -> AppResult<&'static str> {
    let (status, starts_at): (String, i64) =
        sqlx::query_as("SELECT status, starts_at FROM appointment WHERE id = $1")
            .bind(c.appointment_id)
            .fetch_one(change.conn())
            .await?;
    let status = known(
        AppointmentStatus::parse(&status),
        "appointment.status",
        &status,
    )?;
    let open = matches!(
        status,
        AppointmentStatus::Booked | AppointmentStatus::Pending
    );
    if !open || starts_at != c.for_start {
        return Ok("dropped");
    }
    if crate::domain::reminder::fate(c.due_at, starts_at, change.now)
        != crate::domain::reminder::Fate::Send
    {
        return Ok("skipped");
    }
    let s = settings_in(change.conn(), c.clinic_id).await?;
    let channels: Vec<Channel> = [(s.email, Channel::Email), (s.sms, Channel::Sms)]
        .into_iter()
        .filter_map(|(on, ch)| on.then_some(ch))
        .collect();
    let base = change.base_url().to_string();
    let links = Links {
        confirm: format!("{base}/r/{}", issue_link(change, c, "confirm").await?),
        cancel: format!("{base}/r/{}", issue_link(change, c, "cancel").await?),
    };
    let ids = words::queue(change, c.appointment_id, c.id, &links, &channels).await?;
    let Some(first) = ids.first() else {
        return Ok("skipped");
    };
    sqlx::query("UPDATE reminder SET outbox_id = $1 WHERE id = $2")
        .bind(first)
        .bind(c.id)
        .execute(change.conn())
        .await?;
    Ok("queued")
}

/// A new one-time link for the reminder's appointment; returns its token.
async fn issue_link(change: &mut Change, c: &Claimed, purpose: &str) -> AppResult<String> {
    let token = new_token();
    sqlx::query(
        "INSERT INTO reminder_link (token_hash, appointment_id, purpose, for_start, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $4)",
    )
    .bind(token_hash(&token))
    .bind(c.appointment_id)
    .bind(purpose)
    .bind(c.for_start)
    .bind(change.now)
    .execute(change.conn())
    .await?;
    Ok(token)
}

// ---------------------------------------------------------------------------
// The links' page.
// ---------------------------------------------------------------------------

/// A reminder link's page: its HTTP status and HTML.
#[derive(Debug, Clone)]
pub struct LinkPage {
    pub status: u16,
    pub html: String,
}

/// A stored link, found by its token's hash.
#[derive(sqlx::FromRow)]
struct LinkRow {
    appointment_id: i64,
    purpose: String,
    for_start: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

/// The appointment as a link's page shows it, with what decides its answer.
struct Seen {
    appt: Appt,
    shown: Shown,
    phone: String,
    confirmed: bool,
    patient_name: String,
    patient_email: String,
}

fn plausible(token: &str) -> bool {
    (20..=100).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn refusal(status: u16, title: &str, say: &str) -> LinkPage {
    LinkPage {
        status,
        html: words::page(title, None, say, None, None),
    }
}

const INVALID: &str = "This link is not valid. Use the link in your latest reminder, or sign in to your appointments.";

/// Why a stored link no longer works, if it does not.
fn stale(link: &LinkRow, now: i64) -> Option<LinkPage> {
    if link.used_at.is_some() {
        return Some(refusal(
            410,
            "Link already used",
            "This link has already been used. Your appointments are in the patient portal.",
        ));
    }
    if now >= link.expires_at {
        return Some(refusal(
            410,
            "Link expired",
            "This link has expired: the appointment it was for has started or passed.",
        ));
    }
    None
}

async fn find_link(conn: &mut AnyConnection, token: &str) -> AppResult<Option<LinkRow>> {
    if !plausible(token) {
        return Ok(None);
    }
    Ok(sqlx::query_as(
        "SELECT appointment_id, purpose, for_start, expires_at, used_at FROM reminder_link \
         WHERE token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(conn)
    .await?)
}

async fn seen(tx: &mut Tx, appointment_id: i64) -> AppResult<Seen> {
    let appt = load_appt(tx, appointment_id)
        .await?
        .ok_or_else(|| AppError::not_found(INVALID))?;
    let r = sqlx::query(
        "SELECT c.name AS clinic, c.phone, c.call_phone, c.address, h.name AS host, s.name AS service, \
         s.modality, a.location, a.confirmed_at, p.name AS patient_name, p.email AS patient_email \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id JOIN service s ON s.id = a.service_id \
         JOIN app_user h ON h.id = a.host_provider_id JOIN app_user p ON p.id = a.patient_id \
         WHERE a.id = $1",
    )
    .bind(appointment_id)
    .fetch_one(&mut **tx)
    .await?;
    let modality: String = r.get("modality");
    let (address, call_phone, room): (String, String, String) =
        (r.get("address"), r.get("call_phone"), r.get("location"));
    let place = Venue {
        modality: known(Modality::parse(&modality), "service.modality", &modality)?,
        address: &address,
        call_phone: &call_phone,
        room: &room,
    }
    .place();
    let phone: String = r.get("phone");
    Ok(Seen {
        shown: Shown {
            clinic: r.get("clinic"),
            when: format!(
                "{} {}",
                appt.clock.local(appt.starts_at),
                appt.clock.abbreviation(appt.starts_at)
            ),
            practitioner: r.get("host"),
            service: r.get("service"),
            place,
        },
        // The clinic's own number, else the one patients call for phone
        // appointments.
        phone: if phone.is_empty() { call_phone } else { phone },
        confirmed: r.get::<Option<i64>, _>("confirmed_at").is_some(),
        patient_name: r.get("patient_name"),
        patient_email: r.get("patient_email"),
        appt,
    })
}

/// What the page says about a link that works, and whether it offers its
/// button (false: nothing to do here, and the page says why).
fn offer(
    link: &LinkRow,
    s: &Seen,
    policy: &crate::domain::policy::Policy,
    now: i64,
) -> (LinkPage, bool) {
    let a = &s.appt;
    let ok = |title: &str, say: &str, label: Option<&str>, phone: Option<&str>| {
        let page = LinkPage {
            status: 200,
            html: words::page(
                title,
                Some(&s.shown),
                say,
                label.map(|label| Button { label }),
                phone,
            ),
        };
        (page, label.is_some())
    };
    if a.starts_at != link.for_start {
        let page = LinkPage {
            status: 409,
            html: words::page(
                "The appointment has moved",
                Some(&s.shown),
                "This link was for an earlier time of this appointment. Its time now is shown above; your next reminder will have new links.",
                None,
                None,
            ),
        };
        return (page, false);
    }
    if link.purpose == "confirm" {
        return match a.status {
            _ if s.confirmed => ok(
                "Appointment confirmed",
                "You have confirmed this appointment. Thank you.",
                None,
                None,
            ),
            AppointmentStatus::Booked => ok(
                "Confirm your appointment",
                "Will you come? Confirm to let the clinic know.",
                Some("Confirm appointment"),
                None,
            ),
            AppointmentStatus::Pending => ok(
                "Time proposed",
                "The clinic proposed this time. Approve or decline it in the patient portal.",
                None,
                None,
            ),
            _ => ok(
                "Appointment not open",
                "This appointment can no longer be confirmed.",
                None,
                None,
            ),
        };
    }
    match cancel_link(policy, a.status, a.starts_at, now) {
        CancelLink::Cancel => ok("Cancel your appointment", "Can't come? Cancel it here and the time goes to someone else.", Some("Cancel appointment"), None),
        CancelLink::Request => ok("Cancel your appointment", "The clinic approves cancellations: your request goes to them and they will confirm it.", Some("Ask to cancel"), None),
        CancelLink::Call { fee_cents } => {
            let fee = if fee_cents > 0 {
                format!(" A late cancellation may cost {}.", crate::model::money(fee_cents))
            } else {
                String::new()
            };
            ok("Please call the clinic", &format!("This appointment is within the clinic's notice period, so it cannot be cancelled online. Please call the clinic.{fee}"), None, Some(&s.phone))
        }
        CancelLink::Closed(why) => ok("Appointment not open", &why, None, None),
    }
}

/// Opening a link: shows the appointment and a button; changes nothing.
pub async fn open_link(state: &AppState, token: &str) -> AppResult<LinkPage> {
    let mut tx: Tx = state.db.pool.begin().await?;
    let Some(link) = find_link(&mut tx, token).await? else {
        return Ok(refusal(404, "Link not valid", INVALID));
    };
    if let Some(page) = stale(&link, state.now()) {
        return Ok(page);
    }
    let s = seen(&mut tx, link.appointment_id).await?;
    let policy = clinic_settings::policy(&mut tx, s.appt.clinic_id).await?;
    Ok(offer(&link, &s, &policy, state.now()).0)
}

/// The link's button: confirms or cancels, once. Anything refused changes
/// nothing (the link stays unused).
#[tracing::instrument(skip_all)]
pub async fn use_link(state: &AppState, token: &str) -> AppResult<LinkPage> {
    // An unknown token is answered without taking a write turn.
    let mut conn = state.db.pool.acquire().await?;
    if find_link(&mut conn, token).await?.is_none() {
        return Ok(refusal(404, "Link not valid", INVALID));
    }
    drop(conn);
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let Some(link) = find_link(change.conn(), token).await? else {
        return Ok(refusal(404, "Link not valid", INVALID));
    };
    if let Some(page) = stale(&link, now) {
        return Ok(page);
    }
    let s = seen(change.tx_mut(), link.appointment_id).await?;
    let policy = clinic_settings::policy(change.conn(), s.appt.clinic_id).await?;
    // Nothing to act on: the page says why (moved, not open, call us).
    let (page, acts) = offer(&link, &s, &policy, now);
    if !acts {
        return Ok(page);
    }
    // Of two uses at once, exactly one gets past this guard.
    let won = sqlx::query(
        "UPDATE reminder_link SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(token_hash(token))
    .execute(change.conn())
    .await?;
    if won.rows_affected() == 0 {
        return Ok(stale(
            &LinkRow {
                used_at: Some(now),
                ..link
            },
            now,
        )
        .unwrap_or_else(|| refusal(404, "Link not valid", INVALID)));
    }
    let done = match act(&mut change, &link, &s).await? {
        Ok(html) => html,
        // Refused (asked already, just changed): nothing is kept.
        Err(refused) => return Ok(refused),
    };
    change.commit().await?;
    Ok(LinkPage {
        status: 200,
        html: done,
    })
}

/// What the button does, inside `change`: the page to answer with, or a
/// refusal (the change is then dropped).
async fn act(change: &mut Change, link: &LinkRow, s: &Seen) -> AppResult<Result<String, LinkPage>> {
    let done = |title: &str, say: &str| Ok(words::page(title, Some(&s.shown), say, None, None));
    if link.purpose == "confirm" {
        confirm(change, s).await?;
        return Ok(done(
            "Appointment confirmed",
            "Thank you: the clinic sees that you are coming.",
        ));
    }
    let me = Me {
        user_id: s.appt.patient,
        name: s.patient_name.clone(),
        email: s.patient_email.clone(),
        memberships: Vec::new(),
    };
    Ok(
        match portal::cancel_in(change, &me, s.appt.id, "", false).await {
            Ok(ChangeOutcome::Done) => done(
                "Appointment cancelled",
                "Your appointment is cancelled. We have emailed you a confirmation.",
            ),
            Ok(ChangeOutcome::Requested { .. }) => done(
                "Cancellation requested",
                "Your request to cancel was sent to the clinic. They will confirm it by email.",
            ),
            Err(e) if e.status() < 500 => Err(refusal(409, "Not cancelled", e.message())),
            Err(e) => return Err(e),
        },
    )
}

/// Marks the appointment confirmed by its patient, for staff to see.
async fn confirm(change: &mut Change, s: &Seen) -> AppResult<()> {
    let a = &s.appt;
    sqlx::query(
        "UPDATE appointment SET confirmed_at = $1 WHERE id = $2 AND starts_at = $3 AND confirmed_at IS NULL",
    )
    .bind(change.now)
    .bind(a.id)
    .bind(a.starts_at)
    .execute(change.conn())
    .await?;
    change
        .audit(Audit {
            actor_id: Some(a.patient),
            on_behalf_of_id: None,
            clinic_id: Some(a.clinic_id),
            action: "appointment.confirm",
            entity: "appointment",
            entity_id: a.id,
            before: None,
            after: Some(json!({ "confirmed_for": a.starts_at, "via": "reminder" })),
        })
        .await?;
    let users = audience(change, a).await?;
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: "confirmed".into(),
            entity_id: a.id,
            clinic_id: Some(a.clinic_id),
            user_ids: users,
            at_us: 0,
        })
        .await
}
