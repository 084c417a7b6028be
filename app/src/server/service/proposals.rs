//! Proposed times expire (issue 15, part 3): a time the clinic proposed
//! (Tentative) has a deadline; when it passes unanswered the hold is
//! released and the appointment returns to its original time, or is
//! cancelled, as the clinic chose. The patient and the proposer are told.
//!
//! The proposal lives on its appointment (`proposal_*` columns), set and
//! cleared by `after_change` inside every change `appointment_state`
//! records, so no path can leave a stale deadline behind. Expiring goes
//! through `appointment_state` too: guarded by the version read with it,
//! so a patient answering at the same moment, or a second instance
//! expiring it too, wins or loses cleanly.

use super::super::notify::{self, About, Notice, Span};
use super::super::state::AppState;
use super::appointment_state::{
    cancel_appt, load_appt, move_appt, Actor, After, Appt, Cancellation, Told, JUST_CHANGED,
};
use super::{authz, Audit, Change};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::notify::NotifyEvent;
use crate::domain::proposal::{self, CancelWhy, Expiry, Late, OnExpiry};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{Me, ProposalSettings};
use crate::server::db::known;
use serde_json::json;

/// An appointment's proposal columns and its clinic's settings.
#[derive(sqlx::FromRow)]
struct ProposalRow {
    proposal_from_starts_at: Option<i64>,
    proposal_from_ends_at: Option<i64>,
    proposal_deadline: Option<i64>,
    proposed_by: Option<i64>,
    proposal_expired_at: Option<i64>,
    proposal_expiry_hours: i64,
    proposal_on_expiry: String,
}

impl ProposalRow {
    fn setting(&self) -> AppResult<OnExpiry> {
        stored_setting(&self.proposal_on_expiry)
    }
}

/// A clinic's stored `proposal_on_expiry` (an unknown code is a logged
/// internal error, like every stored code).
fn stored_setting(code: &str) -> AppResult<OnExpiry> {
    known(OnExpiry::parse(code), "clinic.proposal_on_expiry", code)
}

async fn proposal_row(change: &mut Change, appointment_id: i64) -> AppResult<ProposalRow> {
    Ok(sqlx::query_as(
        "SELECT a.proposal_from_starts_at, a.proposal_from_ends_at, a.proposal_deadline, a.proposed_by, \
         a.proposal_expired_at, c.proposal_expiry_hours, c.proposal_on_expiry \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id WHERE a.id = $1",
    )
    .bind(appointment_id)
    .fetch_one(change.conn())
    .await?)
}

/// An appointment changed (`a` as it was, `by` who changed it): a time
/// proposed opens a proposal with its deadline; anything else (approved,
/// moved, cancelled, no-show) closes it.
pub(super) async fn after_change(
    change: &mut Change,
    a: &Appt,
    after: After,
    by: Actor,
) -> AppResult<()> {
    let After::Moved {
        starts_at,
        status: AppointmentStatus::Pending,
        ..
    } = after
    else {
        sqlx::query(
            "UPDATE appointment SET proposal_from_starts_at = NULL, proposal_from_ends_at = NULL, \
             proposal_deadline = NULL, proposed_by = NULL, proposal_expired_at = NULL \
             WHERE id = $1 AND (proposal_deadline IS NOT NULL OR proposal_expired_at IS NOT NULL)",
        )
        .bind(a.id)
        .execute(change.conn())
        .await?;
        return Ok(());
    };
    let p = proposal_row(change, a.id).await?;
    // Proposing again keeps the time it all started from; the patient gets
    // a fresh deadline for the new time.
    let from = match (a.status, p.proposal_from_starts_at, p.proposal_from_ends_at) {
        (AppointmentStatus::Pending, Some(s), Some(e)) => (s, e),
        _ => (a.starts_at, a.ends_at),
    };
    let deadline = proposal::deadline(change.now, p.proposal_expiry_hours, starts_at);
    sqlx::query(
        "UPDATE appointment SET proposal_from_starts_at = $1, proposal_from_ends_at = $2, \
         proposal_deadline = $3, proposed_by = $4, proposal_expired_at = NULL WHERE id = $5",
    )
    .bind(from.0)
    .bind(from.1)
    .bind(deadline)
    .bind(by.user())
    .bind(a.id)
    .execute(change.conn())
    .await?;
    Ok(())
}

/// Expires the proposals whose deadline passed; returns how many. Each is
/// expired in its own change, so one that fails does not hold up the rest
/// (the first failure is returned after all were tried).
pub async fn tick(state: &AppState) -> AppResult<usize> {
    // Only open proposals are in the index this reads.
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM appointment WHERE proposal_deadline IS NOT NULL AND proposal_deadline <= $1 \
         ORDER BY proposal_deadline, id LIMIT 200",
    )
    .bind(state.now())
    .fetch_all(&state.db.pool)
    .await?;
    let mut expired = 0;
    let mut failed = None;
    for id in due {
        match expire(state, id).await {
            Ok(done) => expired += usize::from(done),
            Err(e) => {
                tracing::warn!(appointment_id = id, error = %e.message(), "expiring a proposal failed");
                failed.get_or_insert(e);
            }
        }
    }
    failed.map_or(Ok(expired), Err)
}

/// A proposal past its deadline, as read inside the change expiring it.
struct Due {
    a: Appt,
    deadline: i64,
    from_start: i64,
    proposer: Option<i64>,
    setting: OnExpiry,
}

/// The appointment's proposal if it is still open and past its deadline
/// now: someone may have answered or expired it since the timer looked.
async fn due(change: &mut Change, id: i64) -> AppResult<Option<Due>> {
    let Some(a) = load_appt(change.tx_mut(), id).await? else {
        return Ok(None);
    };
    let p = proposal_row(change, id).await?;
    let (Some(deadline), Some(from_start)) = (p.proposal_deadline, p.proposal_from_starts_at)
    else {
        return Ok(None);
    };
    if a.status != AppointmentStatus::Pending || deadline > change.now {
        return Ok(None);
    }
    Ok(Some(Due {
        setting: p.setting()?,
        a,
        deadline,
        from_start,
        proposer: p.proposed_by,
    }))
}

/// How one attempt at expiring a proposal ended.
enum Attempt {
    Done,
    /// Answered, or expired by another instance, first.
    Nothing,
    /// Its original time is taken: nothing written; cancel instead.
    Taken,
}

/// Expires one proposal; false if there was nothing (left) to expire.
async fn expire(state: &AppState, id: i64) -> AppResult<bool> {
    let done = match attempt(state, id, false).await? {
        // A fresh change: on PostgreSQL the failed attempt may have left
        // its transaction unusable (a refused write).
        Attempt::Taken => attempt(state, id, true).await?,
        other => other,
    };
    Ok(matches!(done, Attempt::Done))
}

/// One change expiring the proposal: back to the original time if the
/// clinic says so and it is free (unless `taken` already showed it is
/// not), else cancelled; then the audit entry and both sides told.
async fn attempt(state: &AppState, id: i64, taken: bool) -> AppResult<Attempt> {
    let mut change = Change::begin(state).await?;
    let Some(d) = due(&mut change, id).await? else {
        return Ok(Attempt::Nothing);
    };
    let outcome = match proposal::plan(d.setting, d.from_start, change.now) {
        Expiry::Restore if taken => Expiry::Cancel(CancelWhy::OriginalTaken),
        plan => plan,
    };
    let written = match outcome {
        Expiry::Restore => {
            let booked = AppointmentStatus::Booked;
            move_appt(
                &mut change,
                &d.a,
                d.from_start,
                booked,
                Actor::SERVER,
                Told::Staff,
            )
            .await
        }
        Expiry::Cancel(why) => {
            let c = Cancellation {
                code: "other",
                text: proposal::EXPIRED_NOTE,
                message: why.message(),
                late_fee_cents: None,
                scope: "this",
            };
            cancel_appt(&mut change, &d.a, c, Actor::SERVER).await
        }
    };
    match written {
        Ok(()) => {}
        Err(AppError::Conflict(m)) if m == JUST_CHANGED => return Ok(Attempt::Nothing),
        // The host is busy at the original time (or it can no longer be
        // booked): cancel instead.
        Err(AppError::Conflict(_) | AppError::Validation(_)) if outcome == Expiry::Restore => {
            return Ok(Attempt::Taken)
        }
        Err(e) => return Err(e),
    }
    expired(&mut change, &d, outcome).await?;
    change.commit().await?;
    Ok(Attempt::Done)
}

/// What an expiry leaves besides the appointment's change: the mark a late
/// answer is told by, an audit entry naming the proposer, and the notice
/// to the patient and the proposer.
async fn expired(change: &mut Change, d: &Due, outcome: Expiry) -> AppResult<()> {
    sqlx::query("UPDATE appointment SET proposal_expired_at = $1 WHERE id = $2")
        .bind(d.deadline)
        .bind(d.a.id)
        .execute(change.conn())
        .await?;
    change
        .audit(Audit {
            actor_id: None,
            on_behalf_of_id: None,
            clinic_id: Some(d.a.clinic_id),
            action: "proposal.expire",
            entity: "appointment",
            entity_id: d.a.id,
            before: Some(json!({ "status": "pending", "starts_at": d.a.starts_at,
                "original_start": d.from_start, "deadline": d.deadline,
                "proposed_by": d.proposer })),
            after: Some(json!({ "setting": d.setting.as_str(), "outcome": outcome.outcome() })),
        })
        .await?;
    let about = About::Appointment {
        id: d.a.id,
        span: Span::One,
    };
    // Actor 0: the timer acted, so no one is left out as "who did it".
    let mut n = Notice::new(NotifyEvent::ProposalExpired, about, Actor::SERVER.user_id);
    n.by = d.proposer;
    n.outcome = outcome.outcome().into();
    if outcome == Expiry::Restore {
        // "Was" the proposed time, "Now" the original one.
        n.previous_start = Some(d.a.starts_at);
    }
    notify::queue(change, n).await
}

/// Refuses a patient's answer to a proposal past its deadline, whether or
/// not the timer has acted on it yet: they are told what became of the
/// appointment, and nothing changes.
pub(super) async fn check_not_expired(change: &mut Change, a: &Appt) -> AppResult<()> {
    let p = proposal_row(change, a.id).await?;
    let clock = a.clock;
    let original = p.proposal_from_starts_at.map(|s| clock.short(s));
    // Back at its original time, the appointment's time is that time.
    let now_at = clock.short(a.starts_at);
    let (at, late) = match (a.status, p.proposal_deadline, p.proposal_expired_at) {
        // Past its deadline; the timer has not acted yet.
        (AppointmentStatus::Pending, Some(d), _) if d <= change.now => {
            let from = p.proposal_from_starts_at.unwrap_or(0);
            match (proposal::plan(p.setting()?, from, change.now), &original) {
                (Expiry::Restore, Some(o)) => (d, Late::Returning(o)),
                _ => (d, Late::Cancelling),
            }
        }
        (AppointmentStatus::Cancelled, _, Some(e)) => (e, Late::Cancelled),
        (AppointmentStatus::Booked, _, Some(e)) => (e, Late::Returned(&now_at)),
        _ => return Ok(()),
    };
    Err(AppError::conflict(proposal::too_late(
        &clock.short(at),
        late,
    )))
}

/// The line a Tentative appointment shows the patient: answer by when, and
/// what happens after (None without an open proposal).
pub(super) fn answer_by(
    clock: super::super::zones::Clock,
    status: AppointmentStatus,
    deadline: Option<i64>,
    from_start: Option<i64>,
    setting: &str,
) -> AppResult<Option<String>> {
    let (Some(d), Some(from), AppointmentStatus::Pending) = (deadline, from_start, status) else {
        return Ok(None);
    };
    Ok(Some(proposal::answer_by(
        &clock.short(d),
        stored_setting(setting)?,
        &clock.short(from),
    )))
}

/// A clinic's proposal settings, for its admins.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn settings(state: &AppState, me: &Me, clinic_id: i64) -> AppResult<ProposalSettings> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let (hours, on_expiry): (i64, String) = sqlx::query_as(
        "SELECT proposal_expiry_hours, proposal_on_expiry FROM clinic WHERE id = $1",
    )
    .bind(clinic_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| AppError::not_found("That clinic does not exist."))?;
    Ok(ProposalSettings {
        clinic_id,
        expiry_hours: hours,
        on_expiry: stored_setting(&on_expiry)?.as_str().into(),
    })
}

/// Saves how long patients have to answer a proposed time and what its
/// expiry does; applies to proposals made from now on.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_settings(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    hours: &str,
    on_expiry: &str,
) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let (hours, on_expiry) =
        proposal::check_settings(hours, on_expiry).map_err(AppError::Validation)?;
    let before = settings(state, me, clinic_id).await?;
    let mut change = Change::begin(state).await?;
    sqlx::query(
        "UPDATE clinic SET proposal_expiry_hours = $1, proposal_on_expiry = $2 WHERE id = $3",
    )
    .bind(hours)
    .bind(on_expiry.as_str())
    .bind(clinic_id)
    .execute(change.conn())
    .await?;
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "clinic.proposal_expiry",
            Some(json!({ "hours": before.expiry_hours, "on_expiry": before.on_expiry })),
            json!({ "hours": hours, "on_expiry": on_expiry.as_str() }),
        )
        .await?;
    change.commit().await
}
