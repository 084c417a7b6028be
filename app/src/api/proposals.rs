//! Server functions for proposal expiry (issue 15, part 3; admins).

use crate::error::AppError;
use crate::model::ProposalSettings;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

#[server(prefix = "/api", endpoint = "proposal_settings")]
pub async fn get_proposal_settings(clinic_id: i64) -> Result<ProposalSettings, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::proposals::settings(&ctx::state()?, &s.me, clinic_id).await
    })
    .await
}

/// Saves the hours patients have to answer a proposed time (text, so a
/// non-number gets a plain answer) and what expiry does ("restore" or
/// "cancel").
#[server(prefix = "/api", endpoint = "save_proposal_settings")]
pub async fn save_proposal_settings(
    clinic_id: i64,
    hours: String,
    on_expiry: String,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::proposals::save_settings(&ctx::state()?, &s.me, clinic_id, &hours, &on_expiry)
            .await
    })
    .await
}
