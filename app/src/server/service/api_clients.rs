//! A clinic's API clients (issue 16, part 1): bearer tokens for the FHIR
//! API, made and revoked by the clinic's admins, scoped to read or to read
//! and write. Only a SHA-256 of each token is stored (the same `token_hash`
//! as sessions, feeds and reminder links), so the token is shown once, when
//! it is made. `authenticate` is what the FHIR endpoints call.

use super::super::auth::{new_token, token_hash};
use super::super::state::AppState;
use super::availability::clinic_clock;
use super::{authz, Change};
use crate::domain::api_client::{bearer_token, check_name, needs_touch, token_from, well_formed};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{ApiClientRow, ApiClientsPage, Me};
use crate::server::db::{known, refused_by, Rule};
use serde_json::json;

pub use crate::domain::api_client::ApiScope;

/// Who is calling the API: one client of one clinic, with its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiCaller {
    pub client_id: i64,
    pub clinic_id: i64,
    pub scope: ApiScope,
}

/// The caller must be an admin of the clinic.
fn admin_of(me: &Me, clinic_id: i64) -> AppResult<()> {
    if authz::roles_in(me, clinic_id).any(|r| r == Role::Admin) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only the clinic's admins manage its API clients.",
        ))
    }
}

/// The client a token belongs to.
#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    clinic_id: i64,
    scope: String,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// The client a bearer token (the `Authorization` header's value, or the
/// bare token) belongs to. A malformed, unknown or revoked token is a 401
/// that says which; a use is written down at most once a minute.
#[tracing::instrument(skip_all)]
pub async fn authenticate(state: &AppState, bearer: &str) -> AppResult<ApiCaller> {
    let token = bearer_token(bearer);
    if !well_formed(token) {
        return Err(AppError::Unauthorized(
            "Send an API token made under API clients: Authorization: Bearer swk_…".into(),
        ));
    }
    let row = sqlx::query_as::<_, TokenRow>(
        "SELECT id, clinic_id, scope, last_used_at, revoked_at FROM api_client \
         WHERE token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(TokenRow {
        id: client_id,
        clinic_id,
        scope,
        last_used_at,
        revoked_at,
    }) = row
    else {
        return Err(AppError::Unauthorized(
            "This API token is not known. Ask a clinic admin for a new one.".into(),
        ));
    };
    if revoked_at.is_some() {
        return Err(AppError::Unauthorized(
            "This API token has been revoked. Ask a clinic admin for a new one.".into(),
        ));
    }
    let scope = known(ApiScope::parse(&scope), "api_client.scope", &scope)?;
    let now = state.now();
    if needs_touch(last_used_at, now) {
        // Guarded, so concurrent calls write it once; not audited (a use
        // changes nothing), like a session's last_seen_at.
        let _turn = state.db.write_turn().await;
        sqlx::query(
            "UPDATE api_client SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $1)",
        )
        .bind(now)
        .bind(client_id)
        .execute(&state.db.pool)
        .await?;
    }
    Ok(ApiCaller {
        client_id,
        clinic_id,
        scope,
    })
}

/// Makes a client for the clinic; returns its id and its token, which is
/// never shown again.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn create(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    name: &str,
    scope: ApiScope,
) -> AppResult<(i64, String)> {
    admin_of(me, clinic_id)?;
    let name = check_name(name).map_err(AppError::Validation)?;
    let token = token_from(&new_token());
    let mut change = Change::begin(state).await?;
    let taken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_client WHERE clinic_id = $1 AND name = $2 \
         AND revoked_at IS NULL",
    )
    .bind(clinic_id)
    .bind(&name)
    .fetch_one(change.conn())
    .await?;
    let name_taken = || {
        AppError::validation(format!(
            "This clinic already has an API client named “{name}”. Choose another name, or revoke that one first."
        ))
    };
    if taken > 0 {
        return Err(name_taken());
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_client (clinic_id, name, scope, token_hash, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(clinic_id)
    .bind(&name)
    .bind(scope.as_str())
    .bind(token_hash(&token))
    .bind(me.user_id)
    .bind(change.now)
    .fetch_one(change.conn())
    .await
    // Two admins at the same instant on PostgreSQL both pass the check
    // above; the index (migration 0022) refuses the second insert.
    .map_err(|e| refused_by(e, Rule::UniqueApiClientName, name_taken))?;
    let after = json!({ "api_client": id, "name": name, "scope": scope.as_str() });
    change
        .audit_clinic(me.user_id, clinic_id, "api_client.create", None, after)
        .await?;
    change.commit().await?;
    Ok((id, token))
}

/// Revokes a client: its token stops working at once. Revoking one that is
/// already revoked is refused (409) and changes nothing.
#[tracing::instrument(skip_all, fields(client_id = client_id))]
pub async fn revoke(state: &AppState, me: &Me, client_id: i64) -> AppResult<()> {
    if authz::clinics_where(me, |r| r == Role::Admin).is_empty() {
        return Err(AppError::forbidden(
            "Only the clinic's admins manage its API clients.",
        ));
    }
    let mut change = Change::begin(state).await?;
    let row: Option<(i64, String, String, Option<i64>)> =
        sqlx::query_as("SELECT clinic_id, name, scope, revoked_at FROM api_client WHERE id = $1")
            .bind(client_id)
            .fetch_optional(change.conn())
            .await?;
    let Some((clinic_id, name, scope, revoked_at)) = row else {
        return Err(AppError::not_found("There is no such API client."));
    };
    admin_of(me, clinic_id)?;
    if revoked_at.is_some() {
        return Err(AppError::conflict(format!(
            "The API client “{name}” is already revoked."
        )));
    }
    sqlx::query("UPDATE api_client SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(change.now)
        .bind(client_id)
        .execute(change.conn())
        .await?;
    let before = json!({ "api_client": client_id, "name": name, "scope": scope });
    let after = json!({ "api_client": client_id, "name": name, "revoked": true });
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "api_client.revoke",
            Some(before),
            after,
        )
        .await?;
    change.commit().await
}

/// A stored client, as listed.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    clinic_id: i64,
    name: String,
    scope: String,
    created_by: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// The clinic's clients, active ones first, newest first; never a token or
/// its hash.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn list(state: &AppState, me: &Me, clinic_id: i64) -> AppResult<Vec<ApiClientRow>> {
    admin_of(me, clinic_id)?;
    let mut conn = state.db.pool.acquire().await?;
    let clock = clinic_clock(&mut conn, clinic_id).await?;
    let rows = sqlx::query_as::<_, Row>(
        "SELECT a.id, a.clinic_id, a.name, a.scope, u.name AS created_by, a.created_at, \
         a.last_used_at, a.revoked_at FROM api_client a \
         LEFT JOIN app_user u ON u.id = a.created_by WHERE a.clinic_id = $1 \
         ORDER BY CASE WHEN a.revoked_at IS NULL THEN 0 ELSE 1 END, a.id DESC",
    )
    .bind(clinic_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ApiClientRow {
                scope: known(ApiScope::parse(&r.scope), "api_client.scope", &r.scope)?,
                created: clock.local(r.created_at),
                last_used: r.last_used_at.map_or("Never".into(), |t| clock.local(t)),
                revoked: r.revoked_at.map(|t| clock.local(t)).unwrap_or_default(),
                id: r.id,
                clinic_id: r.clinic_id,
                name: r.name,
                created_by: r.created_by,
                created_at: r.created_at,
                last_used_at: r.last_used_at,
                revoked_at: r.revoked_at,
            })
        })
        .collect()
}

/// The API clients page: the asked clinic (or the caller's first admin
/// clinic), the clinics to choose from, and its clients.
#[tracing::instrument(skip_all)]
pub async fn page(state: &AppState, me: &Me, clinic_id: Option<i64>) -> AppResult<ApiClientsPage> {
    let clinics = authz::clinics_where(me, |r| r == Role::Admin);
    let Some(first) = clinics.first().map(|c| c.0) else {
        return Err(AppError::forbidden(
            "Only clinic admins manage API clients.",
        ));
    };
    let clinic_id = clinic_id.unwrap_or(first);
    let clients = list(state, me, clinic_id).await?;
    Ok(ApiClientsPage {
        clinic_id,
        clinics,
        clients,
    })
}
