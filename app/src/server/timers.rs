//! What happens because time passed, not because someone acted (issue 15):
//! reminders falling due, waitlist offers whose claim window ended,
//! proposals past their deadline, FHIR API holds long lapsed, waitlist entries
//! past their last date. Each runs on
//! the injectable clock, so tests drive it with `run_due` and a manual
//! clock; each claims its work
//! with a guarded update, so several instances sharing one database never
//! do the same work twice.

use super::service::{fhir, proposals, reminders, waitlist};
use super::state::AppState;
use crate::error::AppResult;
use std::time::Duration;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ran {
    pub reminders: usize,
    pub offers: usize,
    pub proposals: usize,
    /// FHIR API holds deleted, long after they lapsed (a lapsed hold
    /// blocks nothing even before: every check judges it by time).
    pub holds: usize,
    /// Waitlist entries ended because their last date passed.
    pub waitlist_ended: usize,
}

/// One pass over everything that may have fallen due. Each kind runs even
/// if another failed; the first failure is returned.
pub async fn run_due(state: &AppState) -> AppResult<Ran> {
    let r = reminders::tick(state).await;
    let o = waitlist::tick(state).await;
    let p = proposals::tick(state).await;
    let h = fhir::holds::tick(state).await;
    let w = waitlist::end_past(state).await;
    Ok(Ran {
        reminders: r?,
        offers: o?,
        proposals: p?,
        holds: h?,
        waitlist_ended: w?,
    })
}

/// Runs a pass every `timer_poll_ms` until the process ends. A failed
/// pass is logged and the next one tries again.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_millis(state.config.timer_poll_ms.max(10));
        loop {
            if let Err(e) = run_due(&state).await {
                tracing::warn!(error = %e.message(), "timers pass failed");
            }
            tokio::time::sleep(every).await;
        }
    })
}
