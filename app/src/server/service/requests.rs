//! Appointment requests: the queue of everything that waits on someone.
//! (The full Dispatch workflow builds on these.)

use super::super::db::{db_error, is_unique_violation};
use super::super::state::AppState;
use super::{authz, Audit, Change};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::request::{RequestMode, RequestStatus};
use crate::domain::validate;
use crate::error::{AppError, AppResult};
use crate::model::{DispatchRow, Me, MyRequest, PendingCounts};
use serde_json::json;
use sqlx::Row;

const ALREADY_WAITING: &str =
    "You already have a Now request waiting at this clinic. It will be answered shortly.";

/// "Request a session now" from the portal. Returns the request id.
pub async fn request_session_now(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    service_id: i64,
    note: &str,
) -> AppResult<i64> {
    let note = validate::note(note).map_err(AppError::Validation)?;
    let mut change = Change::begin(state).await?;
    let service = sqlx::query("SELECT clinic_id, active, name FROM service WHERE id = $1")
        .bind(service_id)
        .fetch_optional(change.conn())
        .await
        .map_err(db_error)?;
    match service {
        None => return Err(AppError::validation("Choose a service.")),
        Some(r) if r.get::<i64, _>(0) != clinic_id => {
            return Err(AppError::validation(
                "That service is not offered by this clinic.",
            ))
        }
        Some(r) if r.get::<i64, _>(1) == 0 => {
            return Err(AppError::validation(format!(
                "{} is no longer offered. Choose another service.",
                r.get::<String, _>(2)
            )))
        }
        Some(_) => {}
    }
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM request WHERE requester_id = $1 AND clinic_id = $2 \
         AND kind = 'new_session' AND mode = 'now' AND status = 'pending'",
    )
    .bind(me.user_id)
    .bind(clinic_id)
    .fetch_one(change.conn())
    .await
    .map_err(db_error)?;
    if pending > 0 {
        return Err(AppError::conflict(ALREADY_WAITING));
    }
    // Requesting from a clinic makes the requester one of its patients.
    sqlx::query(
        "INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, 'patient', $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(me.user_id)
    .bind(clinic_id)
    .bind(change.now)
    .execute(change.conn())
    .await
    .map_err(db_error)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO request (clinic_id, kind, status, requester_id, service_id, mode, note, created_at) \
         VALUES ($1, 'new_session', 'pending', $2, $3, 'now', $4, $5) RETURNING id",
    )
    .bind(clinic_id)
    .bind(me.user_id)
    .bind(service_id)
    .bind(&note)
    .bind(change.now)
    .fetch_one(change.conn())
    .await
    .map_err(|e| {
        // The unique index backs up the check above against a concurrent twin.
        if is_unique_violation(&e) {
            AppError::conflict(ALREADY_WAITING)
        } else {
            db_error(e)
        }
    })?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(clinic_id),
            action: "request.create",
            entity: "request",
            entity_id: id,
            before: None,
            after: Some(json!({ "kind": "new_session", "mode": "now", "service_id": service_id })),
        })
        .await?;
    change
        .emit(LiveEvent {
            topic: topic::REQUEST.into(),
            action: "created".into(),
            entity_id: id,
            version: 1,
            clinic_id: Some(clinic_id),
            user_ids: vec![me.user_id],
            at_us: 0,
        })
        .await?;
    change.commit().await?;
    Ok(id)
}

/// Pending requests in the clinics where the caller is staff.
pub async fn pending_counts(state: &AppState, me: &Me) -> AppResult<PendingCounts> {
    if !me.is_staff() {
        return Err(AppError::forbidden(
            "Only clinic staff see the request queues.",
        ));
    }
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) FROM request WHERE status = 'pending' AND clinic_id IN \
         (SELECT clinic_id FROM membership WHERE user_id = $1 AND role <> 'patient') GROUP BY kind",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await
    .map_err(db_error)?;
    let mut counts = PendingCounts::default();
    for r in rows {
        let n: i64 = r.get(1);
        match r.get::<String, _>(0).as_str() {
            "new_session" => counts.dispatch += n,
            _ => counts.changes += n,
        }
    }
    Ok(counts)
}

/// The caller's own requests, newest first.
pub async fn my_requests(state: &AppState, me: &Me) -> AppResult<Vec<MyRequest>> {
    let rows = sqlx::query(
        "SELECT r.id, c.name, COALESCE(s.name, ''), COALESCE(r.mode, 'now'), r.status, r.note, \
         r.response, r.created_at FROM request r JOIN clinic c ON c.id = r.clinic_id \
         LEFT JOIN service s ON s.id = r.service_id \
         WHERE r.requester_id = $1 AND r.kind = 'new_session' ORDER BY r.created_at DESC, r.id DESC",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|r| MyRequest {
            id: r.get(0),
            clinic_name: r.get(1),
            service_name: r.get(2),
            mode: RequestMode::parse(r.get::<String, _>(3).as_str()).unwrap_or(RequestMode::Now),
            status: RequestStatus::parse(r.get::<String, _>(4).as_str())
                .unwrap_or(RequestStatus::Pending),
            note: r.get(5),
            response: r.get(6),
            created_at: r.get(7),
        })
        .collect())
}

/// Pending new-session requests of the caller's clinics, oldest first.
pub async fn dispatch_queue(
    state: &AppState,
    me: &Me,
    clinic_filter: Option<i64>,
) -> AppResult<Vec<DispatchRow>> {
    if let Some(c) = clinic_filter {
        authz::require_staff(me, c)?;
    } else if !me.is_staff() {
        return Err(AppError::forbidden(
            "Only clinic staff see the Dispatch board.",
        ));
    }
    let rows = sqlx::query(
        "SELECT r.id, c.name, u.name, COALESCE(r.mode, 'now'), COALESCE(s.name, ''), \
         COALESCE(p.name, c.host_group_name), r.note, r.created_at \
         FROM request r JOIN clinic c ON c.id = r.clinic_id JOIN app_user u ON u.id = r.requester_id \
         LEFT JOIN service s ON s.id = r.service_id LEFT JOIN app_user p ON p.id = r.target_provider_id \
         WHERE r.status = 'pending' AND r.kind = 'new_session' \
         AND r.clinic_id IN (SELECT clinic_id FROM membership WHERE user_id = $1 AND role <> 'patient') \
         AND ($2 = 0 OR r.clinic_id = $2) \
         ORDER BY r.created_at, r.id",
    )
    .bind(me.user_id)
    .bind(clinic_filter.unwrap_or(0))
    .fetch_all(&state.db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|r| DispatchRow {
            id: r.get(0),
            clinic_name: r.get(1),
            requestor: r.get(2),
            mode: RequestMode::parse(r.get::<String, _>(3).as_str()).unwrap_or(RequestMode::Now),
            service_name: r.get(4),
            request_to: r.get(5),
            note: r.get(6),
            created_at: r.get(7),
        })
        .collect())
}
