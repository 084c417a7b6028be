//! Server functions for appointment requests: the public booking page, the
//! patient's requests, and the Dispatch board with its Assign dialog.

use crate::error::AppError;
use crate::model::{AssignOptions, BookingPageInfo, DispatchBoard, MyRequest, SlotDay};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// A clinic's booking page (public).
#[server(prefix = "/api", endpoint = "booking_page")]
pub async fn booking_page(slug: String) -> Result<BookingPageInfo, AppError> {
    ctx::run(async {
        let me = ctx::session().map(|s| s.me);
        service::requests::booking_page(&ctx::state()?, me.as_ref(), slug.trim()).await
    })
    .await
}

/// Free slots for a service up to the clinic's booking horizon; `provider_id`
/// none for any provider (public).
#[server(prefix = "/api", endpoint = "free_slots")]
pub async fn free_slots(
    clinic_id: i64,
    service_id: i64,
    #[server(default)] provider_id: Option<i64>,
) -> Result<Vec<SlotDay>, AppError> {
    ctx::run(async {
        service::requests::free_slots(&ctx::state()?, clinic_id, service_id, provider_id).await
    })
    .await
}

/// A patient asks for a session: `provider_id` none for the host group;
/// `times` the preferred starts (unix seconds) of a Scheduled request; one
/// answer per form question. Returns the request number.
#[server(prefix = "/api", endpoint = "request_session")]
pub async fn request_session(
    clinic_id: i64,
    service_id: i64,
    mode: crate::domain::request::RequestMode,
    #[server(default)] provider_id: Option<i64>,
    #[server(default)] times: Vec<i64>,
    #[server(default)] answers: Vec<String>,
    note: String,
) -> Result<i64, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let new = service::requests::NewRequest {
            clinic_id,
            service_id,
            mode,
            provider_id,
            times,
            answers,
            note,
        };
        service::requests::create(&ctx::state()?, &s.me, new).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "my_requests")]
pub async fn my_requests() -> Result<Vec<MyRequest>, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::requests::my_requests(&ctx::state()?, &s.me).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "withdraw_request")]
pub async fn withdraw_request(request_id: i64) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::requests::withdraw(&ctx::state()?, &s.me, request_id).await
    })
    .await
}

/// The Dispatch board; `clinic_id` none for all the viewer's clinics.
#[server(prefix = "/api", endpoint = "dispatch_board")]
pub async fn get_dispatch_board(
    #[server(default)] clinic_id: Option<i64>,
) -> Result<DispatchBoard, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::requests::dispatch_board(&ctx::state()?, &s.me, clinic_id).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "assign_options")]
pub async fn get_assign_options(request_id: i64) -> Result<AssignOptions, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::requests::assign_options(&ctx::state()?, &s.me, request_id).await
    })
    .await
}

/// Accepts a request for a provider at one requested time (`start` none
/// for a Now request). Returns the appointment id.
#[server(prefix = "/api", endpoint = "accept_request")]
pub async fn accept_request(
    request_id: i64,
    provider_id: i64,
    #[server(default)] start: Option<i64>,
    response: String,
) -> Result<i64, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::requests::accept(
            &ctx::state()?,
            &s.me,
            request_id,
            provider_id,
            start,
            &response,
        )
        .await
    })
    .await
}

#[server(prefix = "/api", endpoint = "decline_request")]
pub async fn decline_request(request_id: i64, response: String) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::requests::decline(&ctx::state()?, &s.me, request_id, &response).await
    })
    .await
}

/// The caller's own appointments, for the portal.
#[server(prefix = "/api", endpoint = "my_appointments")]
pub async fn my_appointments() -> Result<Vec<crate::model::MyAppointment>, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::portal::my_appointments(&ctx::state()?, &s.me).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "pending_counts")]
pub async fn get_pending_counts() -> Result<crate::model::PendingCounts, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::requests::pending_counts(&ctx::state()?, &s.me).await
    })
    .await
}
