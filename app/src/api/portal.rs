//! The patient's changes in the portal: cancel, reschedule and the answer
//! to a proposed time. Calls `service::portal`.

use crate::error::AppError;
use crate::model::{ChangeOutcome, SlotDay};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// A checkbox sends "on" when ticked and nothing otherwise.
#[cfg(feature = "ssr")]
fn ticked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty() && s != "false")
}

/// The patient cancels their appointment as the clinic's policy allows.
/// `send_anyway` sends a request inside the late-notice window.
#[server(prefix = "/api", endpoint = "cancel_my_appointment")]
pub async fn cancel_my_appointment(
    appointment_id: i64,
    #[server(default)] reason: String,
    #[server(default)] send_anyway: Option<String>,
) -> Result<ChangeOutcome, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let st = ctx::state()?;
        service::portal::patient_cancel(&st, &s.me, appointment_id, &reason, ticked(&send_anyway))
            .await
    })
    .await
}

/// The free times the patient can move their appointment to.
#[server(prefix = "/api", endpoint = "reschedule_times")]
pub async fn reschedule_times(appointment_id: i64) -> Result<Vec<SlotDay>, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::portal::reschedule_slots(&ctx::state()?, &s.me, appointment_id).await
    })
    .await
}

/// The patient moves their appointment to `start` (one of the offered
/// times, unix seconds) as the clinic's policy allows.
#[server(prefix = "/api", endpoint = "reschedule_my_appointment")]
pub async fn reschedule_my_appointment(
    appointment_id: i64,
    start: i64,
    #[server(default)] note: String,
    #[server(default)] send_anyway: Option<String>,
) -> Result<ChangeOutcome, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let st = ctx::state()?;
        let anyway = ticked(&send_anyway);
        service::portal::patient_reschedule(&st, &s.me, appointment_id, start, &note, anyway).await
    })
    .await
}

/// The patient approves a proposed time or cancels.
#[server(prefix = "/api", endpoint = "answer_proposal")]
pub async fn answer_proposal(
    appointment_id: i64,
    answer: crate::model::ProposalAnswer,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let approve = answer == crate::model::ProposalAnswer::Approve;
        service::portal::answer_proposal(&ctx::state()?, &s.me, appointment_id, approve).await
    })
    .await
}
