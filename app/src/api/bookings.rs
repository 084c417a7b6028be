//! The Bookings list. Calls `service::bookings`.

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::in_range;
#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// A page of the Bookings list.
#[server(prefix = "/api", endpoint = "bookings")]
pub async fn bookings(
    status: crate::model::BookingStatusFilter,
    #[server(default)] from: Option<chrono::NaiveDate>,
    #[server(default)] to: Option<chrono::NaiveDate>,
    search: String,
    page: i64,
) -> Result<crate::model::BookingPage, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let q = service::bookings::BookingQuery {
            status,
            from: from.map(in_range).transpose()?,
            to: to.map(in_range).transpose()?,
            search,
            page,
        };
        service::bookings::list(&ctx::state()?, &s.me, q).await
    })
    .await
}
