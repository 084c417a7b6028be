//! The practice's Appointment Requests queue: patients' pending reschedule
//! and cancellation requests, and the answers. Calls
//! `service::change_requests`.

use crate::error::AppError;
use crate::model::ChangeQueue;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// Appointment Requests: pending reschedule and cancellation requests.
#[server(prefix = "/api", endpoint = "change_requests")]
pub async fn change_requests() -> Result<ChangeQueue, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::change_requests::queue(&ctx::state()?, &s.me).await
    })
    .await
}

/// The practice answers a change request; `start` (clinic time) is the new
/// time for propose and update.
#[server(prefix = "/api", endpoint = "answer_change_request")]
pub async fn answer_change_request(
    request_id: i64,
    answer: crate::domain::request::ChangeAnswer,
    #[server(default)] reason: String,
    #[server(default)] message: String,
    #[server(default)] start: Option<chrono::NaiveDateTime>,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let start_local = match start {
            None => None,
            Some(at) => {
                let date = super::in_range(at.date())?;
                Some(date.and_time(super::to_minute(at.time())))
            }
        };
        let reply = service::change_requests::Reply {
            request_id,
            answer,
            reason,
            message,
            start_local,
        };
        service::change_requests::answer(&ctx::state()?, &s.me, reply).await
    })
    .await
}
