//! Appointment requests: a patient asks a clinic for a session (Now or at
//! preferred times) from its booking page, providers and dispatchers answer
//! it from the Dispatch board, and the patient follows it on their portal.
//!
//! - `booking_page`: the public booking page and its free slots.
//! - `create`: a patient sends or withdraws a request.
//! - `mine`: a patient's own requests, with the meeting each became.
//! - `dispatch`: the Dispatch board, the queues' pending counts and the
//!   Assign dialog's options.
//! - `answer`: accepting (booking the appointment) or declining.

mod answer;
mod booking_page;
mod create;
mod dispatch;
mod mine;

pub use answer::{accept, decline};
pub(in crate::server::service) use booking_page::slot_days;
pub use booking_page::{booking_page, free_slots};
pub use create::{create, withdraw, NewRequest};
pub(in crate::server::service) use dispatch::addressed_to;
pub use dispatch::{assign_options, dispatch_board, pending_counts};
pub use mine::my_requests;

use crate::domain::form::Answer;
use crate::error::{AppError, AppResult};
use crate::server::service::availability::clinic_providers;
use sqlx::{AnyConnection, Row};

// Shared by the parts above (and `parse_times` by the portal and change
// requests, which store requested times the same way).

/// Requested times as stored: a JSON array of unix seconds.
pub(in crate::server::service) fn parse_times(text: &str) -> Vec<i64> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Form answers as stored: a JSON array.
fn parse_answers(text: &str) -> Vec<Answer> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The active service of the clinic, or a specific message.
async fn active_service(
    conn: &mut AnyConnection,
    clinic_id: i64,
    service_id: i64,
) -> AppResult<(String, i64)> {
    let r =
        sqlx::query("SELECT clinic_id, active, name, duration_minutes FROM service WHERE id = $1")
            .bind(service_id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| AppError::validation("Choose a service."))?;
    if r.get::<i64, _>("clinic_id") != clinic_id {
        return Err(AppError::validation(
            "That service is not offered by this clinic.",
        ));
    }
    if r.get::<i64, _>("active") == 0 {
        return Err(AppError::validation(format!(
            "{} is no longer offered. Choose another service.",
            r.get::<String, _>("name")
        )));
    }
    Ok((r.get("name"), r.get("duration_minutes")))
}

/// The name of one of the clinic's providers, or a specific message.
async fn require_provider_of(
    conn: &mut AnyConnection,
    clinic_id: i64,
    provider_id: i64,
) -> AppResult<String> {
    clinic_providers(conn, clinic_id)
        .await?
        .into_iter()
        .find(|p| p.0 == provider_id)
        .map(|p| p.1)
        .ok_or_else(|| AppError::validation("Choose one of the clinic's providers."))
}
