//! Server functions for the Availability page.

use crate::error::AppError;
use crate::model::AvailabilityView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// One provider's availability; none picks the first clinic / the viewer.
#[server(prefix = "/api", endpoint = "availability")]
pub async fn availability(
    #[server(default)] clinic_id: Option<i64>,
    #[server(default)] provider_id: Option<i64>,
) -> Result<AvailabilityView, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::availability::view(&ctx::state()?, &s.me, clinic_id, provider_id).await
    })
    .await
}

/// Adds a weekly slot: `weekday` 0 = Monday, times "HH:MM" in the clinic's zone.
#[server(prefix = "/api", endpoint = "add_slot")]
pub async fn add_slot(
    clinic_id: i64,
    provider_id: i64,
    weekday: u8,
    start: String,
    end: String,
) -> Result<i64, AppError> {
    use crate::domain::slots::{parse_hhmm, WeeklyWindow};
    ctx::run(async {
        let s = ctx::require_session()?;
        let start = parse_hhmm(&start)
            .ok_or_else(|| AppError::validation("Enter the start time as HH:MM."))?;
        let end =
            parse_hhmm(&end).ok_or_else(|| AppError::validation("Enter the end time as HH:MM."))?;
        let w = WeeklyWindow::new(weekday, start, end).map_err(AppError::Validation)?;
        service::availability::add_window(&ctx::state()?, &s.me, clinic_id, provider_id, w).await
    })
    .await
}

/// Removes a weekly slot or a time-off entry.
#[server(prefix = "/api", endpoint = "remove_availability")]
pub async fn remove_availability(
    what: crate::model::AvailabilityEntry,
    id: i64,
) -> Result<(), AppError> {
    use crate::model::AvailabilityEntry;
    use service::availability::Entry;
    ctx::run(async {
        let s = ctx::require_session()?;
        let entry = match what {
            AvailabilityEntry::Slot => Entry::Window,
            AvailabilityEntry::TimeOff => Entry::TimeOff,
        };
        service::availability::remove(&ctx::state()?, &s.me, entry, id).await
    })
    .await
}

/// Adds time off between two local dates and times.
#[server(prefix = "/api", endpoint = "add_time_off")]
pub async fn add_time_off(
    clinic_id: i64,
    provider_id: i64,
    from_date: String,
    from_time: String,
    to_date: String,
    to_time: String,
    reason: String,
) -> Result<i64, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let from = super::parse_local(&from_date, &from_time, "start")?;
        let to = super::parse_local(&to_date, &to_time, "end")?;
        service::availability::add_time_off(
            &ctx::state()?,
            &s.me,
            clinic_id,
            provider_id,
            from,
            to,
            &reason,
        )
        .await
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_available_now")]
pub async fn set_available_now(clinic_id: i64, provider_id: i64, on: bool) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::availability::set_available_now(&ctx::state()?, &s.me, clinic_id, provider_id, on)
            .await
    })
    .await
}
