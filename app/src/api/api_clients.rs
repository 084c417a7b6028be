//! The API clients page's server functions (clinic admins): list, create
//! (the token comes back once) and revoke. Calls `service::api_clients`.

use crate::error::AppError;
use crate::model::{ApiClientsPage, NewApiClient};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::domain::api_client::{check_name, ApiScope};
#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// The clinic's API clients; `clinic_id` none: the first clinic the caller
/// administers.
#[server(prefix = "/api", endpoint = "api_clients")]
pub async fn api_clients(
    #[server(default)] clinic_id: Option<i64>,
) -> Result<ApiClientsPage, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::api_clients::page(&ctx::state()?, &s.me, clinic_id).await
    })
    .await
}

/// Makes a client; `scope` is `read` or `read_write`. The answer carries
/// the token, which is never shown again.
#[server(prefix = "/api", endpoint = "create_api_client")]
pub async fn create_api_client(
    clinic_id: i64,
    name: String,
    scope: String,
) -> Result<NewApiClient, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let scope = ApiScope::parse(scope.trim()).ok_or_else(|| {
            AppError::validation("Choose what the client may do: read only, or read and write.")
        })?;
        let name = check_name(&name).map_err(AppError::Validation)?;
        let (id, token) =
            service::api_clients::create(&ctx::state()?, &s.me, clinic_id, &name, scope).await?;
        Ok(NewApiClient {
            id,
            name,
            scope,
            token,
        })
    })
    .await
}

/// Revokes a client: its token stops working at once.
#[server(prefix = "/api", endpoint = "revoke_api_client")]
pub async fn revoke_api_client(id: i64) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::api_clients::revoke(&ctx::state()?, &s.me, id).await
    })
    .await
}
