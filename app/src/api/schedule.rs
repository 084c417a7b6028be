//! The Schedule grid and what the new-appointment dialog offers. Calls
//! `service::schedule`.

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::in_range;
#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// The Schedule grid: `date` none for today, `clinic_id` none for the
/// first clinic, `providers` none for all the viewer may see.
#[server(prefix = "/api", endpoint = "schedule")]
pub async fn schedule(
    #[server(default)] clinic_id: Option<i64>,
    mode: crate::model::ScheduleMode,
    #[server(default)] date: Option<chrono::NaiveDate>,
    #[server(default)] providers: Vec<i64>,
) -> Result<crate::model::ScheduleView, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let q = service::schedule::ScheduleQuery {
            clinic_id,
            mode,
            date: date.map(in_range).transpose()?,
            providers,
        };
        service::schedule::view(&ctx::state()?, &s.me, q).await
    })
    .await
}

/// What the new-appointment form offers for a clinic (none: the first).
#[server(prefix = "/api", endpoint = "create_options")]
pub async fn create_options(
    #[server(default)] clinic_id: Option<i64>,
) -> Result<crate::model::CreateOptions, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::schedule::create_options(&ctx::state()?, &s.me, clinic_id).await
    })
    .await
}
