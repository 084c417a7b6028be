//! The provider's Dashboard. Its answers go through `api::requests`
//! (accept, decline a request) and `api::appointments` (invitations).

use crate::error::AppError;
use crate::model::Dashboard;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::dashboard::dashboard(&ctx::state()?, &s.me).await
    })
    .await
}
