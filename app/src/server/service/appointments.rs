//! Appointments: create (single or recurring), cancel, decline an
//! invitation (through `service::dashboard`, which also accepts), mark
//! FTA/DNA. Every write checks the no-double-booking rule under the
//! provider's lock; the database constraint backs it up.

use super::super::db::{id_list, known, refused_by, Rule, Tx};
use super::super::notify::{self, pms, About, Notice, Span};
use super::super::state::AppState;
use super::super::zones;
use super::appointment_state::{
    cancel_appt, load_appt, mark_noshow_appt, place_appt, Actor, Appt, Cancellation, Placement,
    JUST_CHANGED,
};
use super::{authz, Audit, Change};
use crate::domain::booking::{self, CancelForm, NoShowKind};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::modality::Modality;
use crate::domain::notify::NotifyEvent;
use crate::domain::pms::PmsAction;
use crate::domain::recurrence::{entered_local, repeated_local_note, Weekly};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::Me;
use chrono::{DateTime, NaiveDateTime};
use serde_json::json;
use sqlx::Row;

/// What the create form submits (times are local to the clinic).
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub clinic_id: i64,
    pub provider_id: i64,
    pub patient_id: i64,
    pub service_id: i64,
    pub start_local: NaiveDateTime,
    /// Defaults to start + the service's duration.
    pub end_local: Option<NaiveDateTime>,
    pub location: String,
    pub invited: Vec<i64>,
    pub recurrence: Option<Weekly>,
}

/// The appointments created (one per occurrence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub ids: Vec<i64>,
    pub series_id: Option<i64>,
    /// Invited providers who are busy at some of the times (not a refusal).
    pub warnings: Vec<String>,
}

/// Maps the database's own double-booking guard to a readable conflict.
#[track_caller]
pub(super) fn conflict_or_db(e: sqlx::Error) -> AppError {
    refused_by(e, Rule::NoDoubleBooking, || {
        AppError::conflict("That time overlaps another appointment of this provider.")
    })
}

/// The first non-cancelled appointment of the provider overlapping
/// [start, end), described for the user, if any.
pub(super) async fn find_conflict(
    tx: &mut Tx,
    provider_id: i64,
    start: i64,
    end: i64,
    except: &[i64],
    clock: zones::Clock,
) -> AppResult<Option<String>> {
    let row = sqlx::query(&format!(
        "SELECT a.id, a.starts_at, a.ends_at, p.name FROM appointment a JOIN app_user p ON p.id = a.patient_id \
         WHERE a.host_provider_id = $1 AND a.status <> 'cancelled' AND a.starts_at < $3 AND $2 < a.ends_at \
         AND a.starts_at > $4 AND a.id NOT IN ({}) ORDER BY a.starts_at LIMIT 1",
        id_list(except)
    ))
    .bind(provider_id)
    .bind(start)
    .bind(end)
    // Bounds the index scan (see LONGEST_APPOINTMENT_SECS).
    .bind(start - booking::LONGEST_APPOINTMENT_SECS)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| {
        format!(
            "appointment #{} with {} on {}–{}",
            r.get::<i64, _>("id"),
            r.get::<String, _>("name"),
            clock.local(r.get("starts_at")),
            clock.time(r.get("ends_at"))
        )
    }))
}

/// Warnings for invited providers who already have a (non-cancelled)
/// appointment, hosted or accepted-or-pending invitation, overlapping
/// [start, end). Overlaps for invited providers are allowed, only shown.
async fn invited_overlaps(
    tx: &mut Tx,
    invited: &[i64],
    start: i64,
    end: i64,
    except: &[i64],
    clock: zones::Clock,
) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for p in invited {
        let row = sqlx::query(&format!(
            "SELECT u.name, a.starts_at FROM appointment a JOIN app_user u ON u.id = $1 \
             WHERE a.status <> 'cancelled' AND a.starts_at < $3 AND $2 < a.ends_at AND a.starts_at > $4 \
             AND a.id NOT IN ({}) \
             AND (a.host_provider_id = $1 OR EXISTS (SELECT 1 FROM participant x WHERE x.appointment_id = a.id \
             AND x.provider_id = $1 AND x.status <> 'declined')) ORDER BY a.starts_at LIMIT 1",
            id_list(except)
        ))
        .bind(*p)
        .bind(start)
        .bind(end)
        .bind(start - booking::LONGEST_APPOINTMENT_SECS)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = row {
            out.push(format!(
                "{} already has an appointment on {}.",
                r.get::<String, _>("name"),
                clock.local(r.get("starts_at"))
            ));
        }
    }
    Ok(out)
}

/// A join link, meeting ID and passcode for a new video meeting.
pub(super) fn meeting_details() -> (String, String, String) {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let meeting: u64 = rng.gen_range(100_000_000..1_000_000_000);
    let passcode: u32 = rng.gen_range(0..1_000_000);
    (
        format!("https://meet.slotwise.test/j/{meeting}"),
        meeting.to_string(),
        format!("{passcode:06}"),
    )
}

/// A booked appointment to insert (the caller has checked the times and
/// holds the provider's lock).
pub(super) struct Booked<'a> {
    pub clinic_id: i64,
    pub service_id: i64,
    pub provider_id: i64,
    pub patient_id: i64,
    pub start: i64,
    pub end: i64,
    pub location: &'a str,
    pub series_id: Option<i64>,
}

/// Inserts a booked appointment, with fresh meeting details when its
/// service is a video one (an in-person or phone appointment has no join
/// link or credentials); the database's double-booking guard turns into a
/// readable conflict.
pub(super) async fn insert_booked(change: &mut Change, b: Booked<'_>) -> AppResult<i64> {
    let modality: String = sqlx::query_scalar("SELECT modality FROM service WHERE id = $1")
        .bind(b.service_id)
        .fetch_one(change.conn())
        .await?;
    let modality = known(Modality::parse(&modality), "service.modality", &modality)?;
    let (url, meeting, passcode) = if modality.has_meeting_link() {
        meeting_details()
    } else {
        Default::default()
    };
    let now = change.now;
    // A time held through the FHIR API's $hold stays its holder's until it
    // lapses (the caller holds the provider's lock, as the hold did).
    if super::fhir::holds::is_held(change, b.provider_id, b.start, b.end).await? {
        return Err(AppError::conflict(super::fhir::holds::HELD));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO appointment (clinic_id, service_id, host_provider_id, patient_id, starts_at, ends_at, \
         status, video_url, meeting_id, passcode, location, series_id, original_start, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'booked', $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
    )
    .bind(b.clinic_id)
    .bind(b.service_id)
    .bind(b.provider_id)
    .bind(b.patient_id)
    .bind(b.start)
    .bind(b.end)
    .bind(url)
    .bind(meeting)
    .bind(passcode)
    .bind(b.location)
    .bind(b.series_id)
    .bind(b.series_id.map(|_| b.start))
    .bind(now)
    .fetch_one(change.conn())
    .await
    .map_err(conflict_or_db)?;
    pms::sync(change, id, PmsAction::Created).await?;
    super::reminders::after_create(change, id).await?;
    Ok(id)
}

/// What a new appointment is checked against before the write begins.
struct Setting {
    clock: zones::Clock,
    /// The service's length, in minutes.
    duration: i64,
}

/// The clinic's zone and the service's length, once the service, host and
/// patient are known to belong to the clinic: read in one statement before
/// the write turn (which it need not hold: a membership or service changed
/// a moment later is the same as the request arriving a moment earlier).
async fn setting(state: &AppState, new: &NewAppointment) -> AppResult<Setting> {
    #[derive(sqlx::FromRow)]
    struct Row {
        time_zone: String,
        date_style: String,
        duration_minutes: Option<i64>,
        host_is_provider: i64,
        patient_is_patient: i64,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT c.time_zone, c.date_style, s.duration_minutes, \
         (SELECT COUNT(*) FROM membership m WHERE m.user_id = $3 AND m.clinic_id = c.id \
          AND m.role = 'provider') AS host_is_provider, \
         (SELECT COUNT(*) FROM membership m WHERE m.user_id = $4 AND m.clinic_id = c.id \
          AND m.role = 'patient') AS patient_is_patient \
         FROM clinic c LEFT JOIN service s ON s.id = $2 AND s.clinic_id = c.id AND s.active = 1 \
         WHERE c.id = $1",
    )
    .bind(new.clinic_id)
    .bind(new.service_id)
    .bind(new.provider_id)
    .bind(new.patient_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let r = row.ok_or_else(|| AppError::not_found("That clinic does not exist."))?;
    let Some(duration) = r.duration_minutes else {
        return Err(AppError::validation("Choose one of the clinic's services."));
    };
    if r.host_is_provider == 0 {
        return Err(AppError::validation(
            "The host must be a provider of this clinic.",
        ));
    }
    if r.patient_is_patient == 0 {
        return Err(AppError::validation("Choose a patient of this clinic."));
    }
    Ok(Setting {
        clock: zones::Clock::new(&r.time_zone, &r.date_style)?,
        duration,
    })
}

/// Writes one new booked appointment with its invitations, audit entry
/// and live event; returns its id.
async fn book_one(
    change: &mut Change,
    b: Booked<'_>,
    invited: &[i64],
    by: Actor,
) -> AppResult<i64> {
    let (clinic_id, host, patient) = (b.clinic_id, b.provider_id, b.patient_id);
    let (start, end, series_id) = (b.start, b.end, b.series_id);
    let id = insert_booked(change, b).await?;
    for p in invited {
        sqlx::query("INSERT INTO participant (appointment_id, provider_id, status) VALUES ($1, $2, 'needs-action')")
            .bind(id)
            .bind(*p)
            .execute(change.conn())
            .await?;
    }
    change
        .audit(Audit {
            actor_id: Some(by.user_id),
            on_behalf_of_id: by.on_behalf_of,
            clinic_id: Some(clinic_id),
            action: "appointment.create",
            entity: "appointment",
            entity_id: id,
            before: None,
            after: Some(json!({ "starts_at": start, "ends_at": end, "host": host,
                "patient": patient, "invited": invited, "series_id": series_id })),
        })
        .await?;
    let mut audience = vec![patient, host];
    audience.extend(invited);
    change
        .emit(LiveEvent {
            topic: topic::APPOINTMENT.into(),
            action: "created".into(),
            entity_id: id,
            clinic_id: Some(clinic_id),
            user_ids: audience,
            at_us: 0,
        })
        .await?;
    Ok(id)
}

#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn create(state: &AppState, me: &Me, new: NewAppointment) -> AppResult<Created> {
    let on_behalf_of = authz::act_for_provider(me, new.clinic_id, new.provider_id)?;
    let location = new.location.trim().to_string();
    if location.chars().count() > 200 {
        return Err(AppError::validation(
            "The location can be at most 200 characters.",
        ));
    }
    let Setting { clock, duration } = setting(state, &new).await?;
    let tz = clock.tz;
    let mut invited = new.invited.clone();
    invited.sort_unstable();
    invited.dedup();
    invited.retain(|p| *p != new.provider_id);
    let mut conn = state.db.pool.acquire().await?;
    for p in &invited {
        if !authz::holds_role(&mut conn, *p, new.clinic_id, Role::Provider).await? {
            return Err(AppError::validation(
                "Invited providers must be providers of this clinic.",
            ));
        }
    }
    drop(conn);
    let mut change = Change::begin(state).await?;
    let now = change.now;

    // First occurrence, and the length every occurrence keeps.
    let start0 = entered_local(&tz, new.start_local)
        .map_err(AppError::Validation)?
        .timestamp();
    let end0 = match new.end_local {
        Some(e) => entered_local(&tz, e)
            .map_err(AppError::Validation)?
            .timestamp(),
        None => start0 + duration * 60,
    };
    booking::check_new_times(start0, end0, now).map_err(AppError::Validation)?;
    let length = end0 - start0;
    let starts: Vec<i64> = match &new.recurrence {
        None => vec![start0],
        Some(rule) => {
            rule.validate(new.start_local.date())
                .map_err(AppError::Validation)?;
            rule.expand(&tz, new.start_local)
                .iter()
                .map(DateTime::timestamp)
                .collect()
        }
    };

    change.lock_provider(new.provider_id).await?;
    for s in &starts {
        if let Some(c) =
            find_conflict(change.tx_mut(), new.provider_id, *s, s + length, &[], clock).await?
        {
            return Err(AppError::conflict(format!(
                "This provider is already booked at that time: {c}."
            )));
        }
    }
    let series_id = match &new.recurrence {
        None => None,
        Some(rule) => Some(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO series (clinic_id, host_provider_id, rrule, dtstart_local, time_zone, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(new.clinic_id)
            .bind(new.provider_id)
            .bind(rule.rrule())
            .bind(new.start_local.format("%Y%m%dT%H%M%S").to_string())
            .bind(tz.name())
            .bind(now)
            .fetch_one(change.conn())
            .await?,
        ),
    };
    let mut warnings: Vec<String> = starts
        .iter()
        .filter_map(|s| repeated_local_note(&tz, *s))
        .collect();
    for s in &starts {
        warnings
            .extend(invited_overlaps(change.tx_mut(), &invited, *s, s + length, &[], clock).await?);
    }
    let by = Actor {
        user_id: me.user_id,
        on_behalf_of,
    };
    let mut ids = Vec::with_capacity(starts.len());
    for s in &starts {
        let one = Booked {
            clinic_id: new.clinic_id,
            service_id: new.service_id,
            provider_id: new.provider_id,
            patient_id: new.patient_id,
            start: *s,
            end: s + length,
            location: &location,
            series_id,
        };
        ids.push(book_one(&mut change, one, &invited, by).await?);
    }
    // One message for a whole series (its calendar entry repeats).
    let span = match series_id {
        Some(_) => Span::Series { count: ids.len() },
        None => Span::One,
    };
    if let Some(first) = ids.first() {
        notify::queue(
            &mut change,
            Notice::new(
                NotifyEvent::AppointmentCreated,
                About::Appointment { id: *first, span },
                me.user_id,
            ),
        )
        .await?;
        if !invited.is_empty() {
            notify::queue(
                &mut change,
                Notice::new(
                    NotifyEvent::Invited,
                    About::Appointment { id: *first, span },
                    me.user_id,
                ),
            )
            .await?;
        }
    }
    change.commit().await?;
    Ok(Created {
        ids,
        series_id,
        warnings,
    })
}

/// Which meetings a cancel covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelScope {
    /// "Cancel This Meeting Only".
    ThisOnly,
    /// "Cancel All Meetings in This Series": every occurrence not yet started.
    AllInSeries,
}

/// The appointment, or the message for one that does not exist (or that
/// the caller may not know of).
async fn load(tx: &mut Tx, id: i64) -> AppResult<Appt> {
    load_appt(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("That appointment does not exist."))
}

/// Loads an appointment for a host action (cancel, reschedule, FTA/DNA) and
/// checks the caller may take it; returns it with the on-behalf-of id.
async fn load_for_host_action(tx: &mut Tx, me: &Me, id: i64) -> AppResult<(Appt, Option<i64>)> {
    let t = load(tx, id).await?;
    let invited = is_invited(tx, id, me.user_id).await?;
    let on_behalf = authorize_host_action(me, &t, invited)?;
    Ok((t, on_behalf))
}

/// Staff of another clinic learn nothing about the appointment (404); an
/// invited provider is told to decline instead; a patient may not use the
/// staff cancel.
fn authorize_host_action(me: &Me, t: &Appt, invited: bool) -> AppResult<Option<i64>> {
    if !authz::roles_in(me, t.clinic_id).any(Role::is_staff) {
        return Err(AppError::not_found("That appointment does not exist."));
    }
    match authz::act_for_provider(me, t.clinic_id, t.host) {
        Ok(on_behalf) => Ok(on_behalf),
        Err(_) if invited => Err(AppError::forbidden(
            "Only the host can cancel or reschedule this meeting. You can decline your invitation.",
        )),
        Err(e) => Err(e),
    }
}

async fn is_invited(tx: &mut Tx, appointment: i64, provider: i64) -> AppResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM participant WHERE appointment_id = $1 AND provider_id = $2",
    )
    .bind(appointment)
    .bind(provider)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// Cancels one meeting or the rest of its series. Returns the ids cancelled.
#[tracing::instrument(skip_all, fields(user = me.user_id, appointment_id = appointment_id))]
pub async fn cancel(
    state: &AppState,
    me: &Me,
    appointment_id: i64,
    scope: CancelScope,
    form: CancelForm,
) -> AppResult<Vec<i64>> {
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let (t, on_behalf) = load_for_host_action(change.tx_mut(), me, appointment_id).await?;
    booking::check_cancel(t.status, t.starts_at, now).map_err(AppError::Validation)?;
    // The clinic's own policy: whether a reason from the list is required.
    let reason_required: i64 =
        sqlx::query_scalar("SELECT cancel_reason_required FROM clinic WHERE id = $1")
            .bind(t.clinic_id)
            .fetch_one(change.conn())
            .await?;
    form.meets_policy(reason_required == 1)
        .map_err(AppError::Validation)?;

    let ids: Vec<i64> = match (scope, t.series_id) {
        (CancelScope::AllInSeries, Some(series)) => {
            sqlx::query_scalar(
                "SELECT id FROM appointment WHERE series_id = $1 AND status <> 'cancelled' \
             AND status <> 'noshow' AND starts_at > $2 ORDER BY starts_at",
            )
            .bind(series)
            .bind(now)
            .fetch_all(change.conn())
            .await?
        }
        _ => vec![appointment_id],
    };
    let by = Actor {
        user_id: me.user_id,
        on_behalf_of: on_behalf,
    };
    let mut cancelled = Vec::with_capacity(ids.len());
    for id in &ids {
        let Some(a) = load_appt(change.tx_mut(), *id).await? else {
            continue;
        };
        let c = Cancellation {
            // No reason (where the clinic allows it) is stored as NULL.
            code: form.reason.map_or("", |r| r.code()),
            text: &form.note,
            message: &form.message_to_patient,
            late_fee_cents: None,
            scope: if scope == CancelScope::AllInSeries {
                "series"
            } else {
                "this"
            },
        };
        match cancel_appt(&mut change, &a, c, by).await {
            Ok(()) => cancelled.push(*id),
            // Another meeting of the series that someone else changed
            // first keeps their change; the one asked for must not.
            Err(AppError::Conflict(_)) if *id != appointment_id => {}
            Err(e) => return Err(e),
        }
    }
    let ids = cancelled;
    close_change_requests(&mut change, &ids, by).await?;
    // One message for the meetings cancelled together.
    if let Some(first) = ids.first() {
        let span = if ids.len() > 1 {
            Span::FromHere { count: ids.len() }
        } else {
            Span::One
        };
        notify::queue(
            &mut change,
            Notice::new(
                NotifyEvent::AppointmentCancelled,
                About::Appointment { id: *first, span },
                me.user_id,
            ),
        )
        .await?;
    }
    change.commit().await?;
    Ok(ids)
}

/// An invited provider declines their invitation to this one meeting (see
/// `dashboard::answer_invitation` for accepting and for a whole series).
pub async fn decline(state: &AppState, me: &Me, appointment_id: i64) -> AppResult<()> {
    use crate::model::{InvitationAnswer, InvitationScope};
    let (answer, scope) = (InvitationAnswer::Decline, InvitationScope::This);
    super::dashboard::answer_invitation(state, me, appointment_id, answer, scope).await?;
    Ok(())
}

/// Marks a past appointment FTA or DNA (both FHIR `noshow`).
#[tracing::instrument(skip_all, fields(user = me.user_id, appointment_id = appointment_id))]
pub async fn mark_noshow(
    state: &AppState,
    me: &Me,
    appointment_id: i64,
    kind: NoShowKind,
) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let (t, on_behalf) = load_for_host_action(change.tx_mut(), me, appointment_id).await?;
    booking::check_noshow(t.status, t.starts_at, now).map_err(AppError::Validation)?;
    let by = Actor {
        user_id: me.user_id,
        on_behalf_of: on_behalf,
    };
    mark_noshow_appt(&mut change, &t, kind, by).await?;
    change.commit().await
}

/// Which meetings a staff reschedule moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RescheduleScope {
    /// "This event" only; it stays part of its series.
    ThisOnly,
    /// "This and all future events": the series is split here and the
    /// later part moves by the same local shift; earlier meetings stay.
    ThisAndFuture,
}

#[derive(Debug, Clone)]
pub struct Move {
    pub appointment_id: i64,
    /// The new start, local to the clinic; the length is kept.
    pub start_local: NaiveDateTime,
    pub location: String,
    pub scope: RescheduleScope,
}

/// What a reschedule did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub ids: Vec<i64>,
    /// The series the moved meetings now belong to (a new one after a split).
    pub series_id: Option<i64>,
    pub warnings: Vec<String>,
}

/// (id, old start, old end, version) of a meeting being moved.
type MoveTarget = (i64, i64, i64, i64);

fn local_of(ts: i64, tz: chrono_tz::Tz) -> NaiveDateTime {
    DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .naive_local()
}

/// Moves the rest of a series (`count` meetings from `t`'s) by `shift`:
/// the moved part becomes a series of its own, unless it is the whole
/// series (nothing earlier), which simply moves. Returns the moved part's
/// series.
async fn split_series(
    change: &mut Change,
    t: &Appt,
    series: i64,
    tz: chrono_tz::Tz,
    count: usize,
    shift: chrono::Duration,
    start_local: NaiveDateTime,
) -> AppResult<i64> {
    let rrule: String = sqlx::query_scalar("SELECT rrule FROM series WHERE id = $1")
        .bind(series)
        .fetch_one(change.conn())
        .await?;
    let rule = Weekly::parse_rrule(&rrule).ok_or_else(|| {
        tracing::error!(series, "unreadable series rule");
        AppError::internal()
    })?;
    let earlier: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM appointment WHERE series_id = $1 AND starts_at < $2",
    )
    .bind(series)
    .bind(t.starts_at)
    .fetch_one(change.conn())
    .await?;
    let (before, after) = rule.split(
        local_of(t.starts_at, tz).date(),
        count as u32,
        shift.num_days(),
    );
    let dtstart = start_local.format("%Y%m%dT%H%M%S").to_string();
    if earlier == 0 {
        sqlx::query("UPDATE series SET rrule = $1, dtstart_local = $2 WHERE id = $3")
            .bind(after.rrule())
            .bind(&dtstart)
            .bind(series)
            .execute(change.conn())
            .await?;
        return Ok(series);
    }
    sqlx::query("UPDATE series SET rrule = $1 WHERE id = $2")
        .bind(before.rrule())
        .bind(series)
        .execute(change.conn())
        .await?;
    let now = change.now;
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO series (clinic_id, host_provider_id, rrule, dtstart_local, time_zone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(t.clinic_id)
    .bind(t.host)
    .bind(after.rrule())
    .bind(&dtstart)
    .bind(tz.name())
    .bind(now)
    .fetch_one(change.conn())
    .await?)
}

/// A patient's pending change request (reschedule or cancel) about an
/// appointment the practice has just cancelled has nothing left to ask: it
/// is closed as withdrawn, so it leaves the Appointment Requests queue. The
/// patient hears of it once, in the cancellation itself.
async fn close_change_requests(change: &mut Change, ids: &[i64], by: Actor) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let closed: Vec<(i64, i64, i64)> = sqlx::query_as(&format!(
        "UPDATE request SET status = 'withdrawn', responder_id = $1, responded_at = $2, \
         response = 'The appointment was cancelled.', version = version + 1 \
         WHERE appointment_id IN ({}) AND kind IN ('reschedule', 'cancel') AND status = 'pending' \
         RETURNING id, clinic_id, requester_id",
        id_list(ids)
    ))
    .bind(by.user_id)
    .bind(change.now)
    .fetch_all(change.conn())
    .await?;
    for (id, clinic_id, patient) in closed {
        change
            .audit(Audit {
                actor_id: Some(by.user_id),
                on_behalf_of_id: by.on_behalf_of,
                clinic_id: Some(clinic_id),
                action: "request.withdraw",
                entity: "request",
                entity_id: id,
                before: Some(json!({ "status": "pending" })),
                after: Some(json!({ "status": "withdrawn", "why": "appointment cancelled" })),
            })
            .await?;
        change
            .emit(LiveEvent {
                topic: topic::REQUEST.into(),
                action: "withdrawn".into(),
                entity_id: id,
                clinic_id: Some(clinic_id),
                user_ids: vec![patient],
                at_us: 0,
            })
            .await?;
    }
    Ok(())
}

/// Moves a meeting (or it and the rest of its series) to a new local date
/// and time and location, keeping each meeting's length. The host's other
/// appointments must not overlap the new times; invited providers are asked
/// again (their answers reset), and their overlaps come back as warnings.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn reschedule(state: &AppState, me: &Me, mv: Move) -> AppResult<Moved> {
    let location = mv.location.trim().to_string();
    if location.chars().count() > 200 {
        return Err(AppError::validation(
            "The location can be at most 200 characters.",
        ));
    }
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let (t, on_behalf) = load_for_host_action(change.tx_mut(), me, mv.appointment_id).await?;
    booking::check_reschedule(t.status, t.starts_at, now).map_err(AppError::Validation)?;
    let clock = super::availability::clinic_clock(change.conn(), t.clinic_id).await?;
    let tz = clock.tz;
    // The same wall-clock shift applies to every moved meeting, so a series
    // keeps its local time across daylight-saving changes.
    let shift = mv.start_local - local_of(t.starts_at, tz);

    // (id, old start, old end, version) of every meeting that moves.
    let mut targets: Vec<MoveTarget> = match (mv.scope, t.series_id) {
        (RescheduleScope::ThisAndFuture, Some(series)) => sqlx::query(
            "SELECT id, starts_at, ends_at, version FROM appointment WHERE series_id = $1 \
             AND starts_at >= $2 AND status IN ('booked', 'pending', 'proposed') ORDER BY starts_at",
        )
        .bind(series)
        .bind(t.starts_at)
        .fetch_all(change.conn())
        .await?
        .iter()
        .map(|r| (r.get("id"), r.get("starts_at"), r.get("ends_at"), r.get("version")))
        .collect(),
        _ => vec![(mv.appointment_id, t.starts_at, t.ends_at, t.version)],
    };
    let ids: Vec<i64> = targets.iter().map(|x| x.0).collect();
    let mut new_times = Vec::with_capacity(targets.len());
    for (_, start, end, _) in &targets {
        let local = local_of(*start, tz) + shift;
        let new_start = entered_local(&tz, local)
            .map_err(AppError::Validation)?
            .timestamp();
        let new_end = new_start + (end - start);
        booking::check_new_times(new_start, new_end, now).map_err(AppError::Validation)?;
        new_times.push((new_start, new_end));
    }

    change.lock_provider(t.host).await?;
    for (s, e) in &new_times {
        if let Some(c) = find_conflict(change.tx_mut(), t.host, *s, *e, &ids, clock).await? {
            return Err(AppError::conflict(format!(
                "This provider is already booked at that time: {c}."
            )));
        }
    }
    let invited: Vec<i64> = sqlx::query_scalar(
        "SELECT provider_id FROM participant WHERE appointment_id = $1 ORDER BY provider_id",
    )
    .bind(mv.appointment_id)
    .fetch_all(change.conn())
    .await?;
    let mut warnings: Vec<String> = new_times
        .iter()
        .filter_map(|(s, _)| repeated_local_note(&tz, *s))
        .collect();
    for (s, e) in &new_times {
        warnings.extend(invited_overlaps(change.tx_mut(), &invited, *s, *e, &ids, clock).await?);
    }

    let series_id = match (mv.scope, t.series_id) {
        (RescheduleScope::ThisAndFuture, Some(series)) => Some(
            split_series(
                &mut change,
                &t,
                series,
                tz,
                targets.len(),
                shift,
                mv.start_local,
            )
            .await?,
        ),
        _ => t.series_id,
    };

    // Moving later, update the last meeting first (and earlier, the first
    // first) so no intermediate state overlaps a not-yet-moved sibling and
    // trips the database's no-overlap guard.
    let mut plan: Vec<(MoveTarget, (i64, i64))> = targets.drain(..).zip(new_times).collect();
    if shift > chrono::Duration::zero() {
        plan.reverse();
    }
    let by = Actor {
        user_id: me.user_id,
        on_behalf_of: on_behalf,
    };
    for ((id, _, _, version), (new_start, new_end)) in &plan {
        let a = load_appt(change.tx_mut(), *id)
            .await?
            .filter(|a| a.version == *version)
            .ok_or_else(|| AppError::conflict(JUST_CHANGED))?;
        let to = Placement {
            starts_at: *new_start,
            ends_at: *new_end,
            status: a.status,
            location: location.clone(),
            series_id,
        };
        place_appt(&mut change, &a, &to, by).await?;
    }
    let span = match (mv.scope, series_id) {
        (RescheduleScope::ThisAndFuture, Some(series)) => {
            // The moved meetings are a series of their own now (or the
            // whole series moved): their times are its occurrences.
            sqlx::query(&format!(
                "UPDATE appointment SET original_start = starts_at WHERE series_id = $1 AND id IN ({})",
                id_list(&ids)
            ))
            .bind(series)
            .execute(change.conn())
            .await?;
            Span::Series { count: ids.len() }
        }
        _ => Span::One,
    };
    let mut notice = Notice::new(
        NotifyEvent::AppointmentRescheduled,
        About::Appointment {
            id: mv.appointment_id,
            span,
        },
        me.user_id,
    );
    notice.previous_start = Some(t.starts_at);
    if series_id != t.series_id {
        notice.previous_series = t.series_id;
    }
    notify::queue(&mut change, notice).await?;
    change.commit().await?;
    Ok(Moved {
        ids,
        series_id,
        warnings,
    })
}
