//! Proposed times expire (issue 15, part 3): a time the clinic proposed
//! (Tentative) has a deadline; when it passes unanswered the hold is
//! released and the appointment returns to its original time, or is
//! cancelled, as the clinic chose.

use super::appointment_state::{After, Appt};
use super::Change;
use crate::error::AppResult;
use crate::server::state::AppState;

/// An appointment changed: a proposal's deadline is set, or cleared once
/// it is answered.
pub(super) async fn after_change(_change: &mut Change, _a: &Appt, _after: After) -> AppResult<()> {
    Ok(())
}

/// Expires the proposals whose deadline passed; returns how many.
pub async fn tick(_state: &AppState) -> AppResult<usize> {
    Ok(0)
}
