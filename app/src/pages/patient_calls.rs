//! What a patient asks of the server from the portal: withdraw a request,
//! cancel or reschedule an appointment, answer a proposal, join or leave a
//! waitlist, claim an offered time.
//!
//! The portal is in the patient bundle, which has a page-weight budget
//! (400 KB on a first visit). A `ServerAction` per server function
//! compiled its own copy of the action machinery into the bundle for each
//! of the seven; every patient change here goes through ONE action type,
//! `PatientAction`, whose input names the call (as `password_reset::Call`
//! does for the account forms). Each form still has its own action
//! (instance), so its answer and error show beside it.

use crate::api::{portal, requests, waitlist};
use crate::error::AppError;
use crate::model::{ChangeOutcome, ProposalAnswer, WaitlistJoin};
use leptos::prelude::*;

/// A patient's change.
#[derive(Clone, Debug)]
pub enum PatientCall {
    Withdraw {
        request_id: i64,
    },
    Cancel {
        appointment_id: i64,
        reason: String,
        /// Send it although it is inside the late-notice window.
        anyway: bool,
    },
    Reschedule {
        appointment_id: i64,
        start: i64,
        note: String,
        anyway: bool,
    },
    Answer {
        appointment_id: i64,
        answer: ProposalAnswer,
    },
    Join(WaitlistJoin),
    Leave {
        entry_id: i64,
    },
    Claim {
        offer_id: i64,
    },
}

/// The form field the server functions read as a ticked checkbox.
fn ticked(b: bool) -> Option<String> {
    b.then(|| "on".to_string())
}

/// The banner after a cancel or reschedule went through.
fn outcome_text(cancel: bool, o: ChangeOutcome) -> String {
    match o {
        ChangeOutcome::Done if cancel => "Your appointment is cancelled.".to_string(),
        ChangeOutcome::Done => "Your appointment has been moved.".to_string(),
        ChangeOutcome::Requested { within_window, .. } => format!(
            "Your request has been sent to the clinic{}. You will see their answer here.",
            if within_window {
                ", marked as inside the notice period"
            } else {
                ""
            }
        ),
    }
}

/// Runs the call; on success, the confirmation to show.
async fn run(call: PatientCall) -> Result<String, AppError> {
    Ok(match call {
        PatientCall::Withdraw { request_id } => {
            requests::withdraw_request(request_id).await?;
            "Your request was withdrawn.".into()
        }
        PatientCall::Cancel {
            appointment_id,
            reason,
            anyway,
        } => {
            let o = portal::cancel_my_appointment(appointment_id, reason, ticked(anyway)).await?;
            outcome_text(true, o)
        }
        PatientCall::Reschedule {
            appointment_id,
            start,
            note,
            anyway,
        } => {
            let o = portal::reschedule_my_appointment(appointment_id, start, note, ticked(anyway))
                .await?;
            outcome_text(false, o)
        }
        PatientCall::Answer {
            appointment_id,
            answer,
        } => {
            portal::answer_proposal(appointment_id, answer).await?;
            "Thank you. The clinic has your answer.".into()
        }
        PatientCall::Join(j) => {
            waitlist::join_waitlist(
                j.clinic_id,
                j.service_id,
                j.provider_id,
                j.date_from,
                j.date_to,
                j.parts.morning,
                j.parts.afternoon,
                j.parts.evening,
            )
            .await?;
            "You are on the waitlist. When a matching time frees up we will email you, and you can claim it in your portal.".into()
        }
        PatientCall::Leave { entry_id } => {
            waitlist::leave_waitlist(entry_id).await?;
            "You have left the waitlist.".into()
        }
        PatientCall::Claim { offer_id } => {
            waitlist::claim_offer(offer_id).await?;
            "The time is yours: it is booked and listed under My appointments.".into()
        }
    })
}

pub type PatientAction = Action<PatientCall, Result<String, AppError>>;

/// A new action (one per form, so each shows its own answer).
pub fn patient_action() -> PatientAction {
    Action::new(|c: &PatientCall| run(c.clone()))
}

/// The action's confirmation, once it succeeded.
pub fn confirmation(a: PatientAction) -> Option<String> {
    a.value()
        .with(|v| v.as_ref().and_then(|r| r.as_ref().ok().cloned()))
}

/// The action's confirmation in a status region (its error: `error_alert`).
pub fn confirmation_alert(a: PatientAction) -> impl IntoView {
    move || confirmation(a).map(|m| view! { <p class="alert ok" role="status">{m}</p> })
}
