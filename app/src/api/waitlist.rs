//! Waitlist server functions (issue 15, point 2): a patient joins, leaves
//! and claims offers; a clinic's admins and schedulers see the waitlist,
//! remove entries and offer times; admins set how it offers. Calls
//! `service::waitlist`.

// join_waitlist's arguments are the join form's eight fields; the lint
// cannot be allowed on the one function (the macro generates the client's
// version without the attribute).
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::model::{MyWaitlist, OfferChoice, WaitlistBoard, WaitlistChoices};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// The caller's waiting entries and open offers.
#[server(prefix = "/api", endpoint = "my_waitlist")]
pub async fn get_my_waitlist() -> Result<MyWaitlist, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::waitlist::mine(&ctx::state()?, &s.me).await
    })
    .await
}

/// What one may wait for at a clinic (services, providers, dates).
#[server(prefix = "/api", endpoint = "waitlist_choices")]
pub async fn get_waitlist_choices(clinic_id: i64) -> Result<WaitlistChoices, AppError> {
    ctx::run(async {
        ctx::require_session()?;
        service::waitlist::choices(&ctx::state()?, clinic_id).await
    })
    .await
}

/// Joins a clinic's waitlist. `provider_id` none: any provider; dates
/// 'YYYY-MM-DD' in the clinic's zone.
#[server(prefix = "/api", endpoint = "join_waitlist")]
pub async fn join_waitlist(
    clinic_id: i64,
    service_id: i64,
    #[server(default)] provider_id: Option<i64>,
    date_from: String,
    date_to: String,
    #[server(default)] morning: bool,
    #[server(default)] afternoon: bool,
    #[server(default)] evening: bool,
) -> Result<i64, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let j = service::waitlist::Join {
            clinic_id,
            service_id,
            provider_id: provider_id.filter(|p| *p > 0),
            date_from,
            date_to,
            parts: crate::domain::waitlist::DayParts {
                morning,
                afternoon,
                evening,
            },
        };
        service::waitlist::join(&ctx::state()?, &s.me, j).await
    })
    .await
}

/// The patient leaves, or staff remove, a waiting entry.
#[server(prefix = "/api", endpoint = "leave_waitlist")]
pub async fn leave_waitlist(entry_id: i64) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::waitlist::remove(&ctx::state()?, &s.me, entry_id).await
    })
    .await
}

/// The patient claims an offered time; returns the appointment booked.
#[server(prefix = "/api", endpoint = "claim_offer")]
pub async fn claim_offer(offer_id: i64) -> Result<i64, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::waitlist::claim(&ctx::state()?, &s.me, offer_id).await
    })
    .await
}

/// A clinic's waitlist for its admins and schedulers.
#[server(prefix = "/api", endpoint = "waitlist_board")]
pub async fn get_waitlist_board(
    #[server(default)] clinic_id: Option<i64>,
) -> Result<WaitlistBoard, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::waitlist::board(&ctx::state()?, &s.me, clinic_id).await
    })
    .await
}

/// The free times staff may offer a waiting entry.
#[server(prefix = "/api", endpoint = "waitlist_offer_times")]
pub async fn waitlist_offer_times(entry_id: i64) -> Result<Vec<OfferChoice>, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::waitlist::offer_times(&ctx::state()?, &s.me, entry_id).await
    })
    .await
}

/// Staff offer one free time (`choice`: "<provider>:<start>") to an entry.
#[server(prefix = "/api", endpoint = "offer_waitlist_time")]
pub async fn offer_waitlist_time(entry_id: i64, choice: String) -> Result<i64, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let (p, t) = choice
            .split_once(':')
            .and_then(|(p, t)| Some((p.parse().ok()?, t.parse().ok()?)))
            .ok_or_else(|| AppError::validation("Choose a time to offer."))?;
        service::waitlist::offer_manually(&ctx::state()?, &s.me, entry_id, p, t).await
    })
    .await
}

/// An admin sets the clinic's offer mode ("in_turn" or "all_at_once") and
/// claim window in minutes.
#[server(prefix = "/api", endpoint = "save_waitlist_settings")]
pub async fn save_waitlist_settings(
    clinic_id: i64,
    mode: String,
    claim_minutes: String,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let mode = crate::domain::waitlist::OfferMode::parse(&mode)
            .ok_or_else(|| AppError::validation("Choose how freed times are offered."))?;
        let minutes = claim_minutes
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::validation("Enter the claim window in whole minutes."))?;
        service::waitlist::save_settings(&ctx::state()?, &s.me, clinic_id, mode, minutes).await
    })
    .await
}
