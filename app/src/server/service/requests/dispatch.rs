//! The Dispatch board (pending session requests, oldest first), the request
//! queues' pending counts, and the Assign dialog's options: who is free at
//! the requested times and which of their sessions might conflict.

use super::answer::{already_handled, load, may_work};
use super::{parse_answers, parse_times};
use crate::domain::booking;
use crate::domain::request::RequestMode;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{
    AssignOptions, AssignProvider, DispatchBoard, DispatchRow, Me, PendingCounts, TimeChoice,
};
use crate::server::db::{id_list, known};
use crate::server::service::authz;
use crate::server::service::availability::{self, clinic_providers, free_at};
use crate::server::state::AppState;
use crate::server::zones;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// Possible Conflicting Sessions: sessions within this many seconds of a
/// requested time.
const CONFLICT_WINDOW: i64 = 2 * 3600;

/// The requests a user works on: all of a clinic's for its admins and
/// schedulers; for a provider, those addressed to them or to the host
/// group. `$1` is the user's id; the request table is `r`.
const WORKABLE: &str = "(r.clinic_id IN (SELECT clinic_id FROM membership WHERE user_id = $1 \
     AND role IN ('admin', 'scheduler')) OR (r.clinic_id IN (SELECT clinic_id FROM membership \
     WHERE user_id = $1 AND role = 'provider') AND (r.target_provider_id IS NULL OR r.target_provider_id = $1)))";

/// The requests on a provider's Dashboard: addressed to them or to the
/// host group of a clinic where they are a provider. `$1` is their id.
const ADDRESSED: &str = "(r.clinic_id IN (SELECT clinic_id FROM membership WHERE user_id = $1 \
     AND role = 'provider') AND (r.target_provider_id IS NULL OR r.target_provider_id = $1))";

/// Pending requests the caller works on, by queue.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn pending_counts(state: &AppState, me: &Me) -> AppResult<PendingCounts> {
    if !me.is_staff() {
        return Err(AppError::forbidden(
            "Only clinic staff see the request queues.",
        ));
    }
    let rows = sqlx::query(&format!(
        "SELECT r.kind, COUNT(*) AS n FROM request r WHERE r.status = 'pending' AND {WORKABLE} \
         GROUP BY r.kind"
    ))
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut counts = PendingCounts::default();
    for r in rows {
        let n: i64 = r.get("n");
        match r.get::<String, _>("kind").as_str() {
            "new_session" => counts.dispatch += n,
            _ => counts.changes += n,
        }
    }
    Ok(counts)
}

/// A pending session request on the Dispatch board.
#[derive(sqlx::FromRow)]
struct DispatchListRow {
    id: i64,
    clinic_id: i64,
    clinic_name: String,
    requestor: String,
    mode: String,
    patient_group_name: String,
    host_group_name: String,
    request_to: String,
    service_name: String,
    requested_times: String,
    note: String,
    form_answers: String,
    created_at: i64,
    time_zone: String,
    date_style: String,
}

/// The Dispatch board: pending session requests, oldest first.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn dispatch_board(
    state: &AppState,
    me: &Me,
    clinic_filter: Option<i64>,
) -> AppResult<DispatchBoard> {
    if let Some(clinic_filter) = clinic_filter {
        authz::require_staff(me, clinic_filter)?;
    } else if !me.is_staff() {
        return Err(AppError::forbidden(
            "Only clinic staff see the Dispatch board.",
        ));
    }
    let rows = pending_rows(state, me, WORKABLE, clinic_filter)
        .await?
        .into_iter()
        .map(|(row, _)| row)
        .collect();
    Ok(DispatchBoard {
        now: state.clock.now().timestamp(),
        clinics: authz::clinics_where(me, Role::is_staff),
        rows,
    })
}

/// The requests addressed to a provider by name or to the host group of a
/// clinic where they are a provider (their Dashboard's, whatever other
/// roles they hold), oldest first, each with its requested times.
pub(in crate::server::service) async fn addressed_to(
    state: &AppState,
    me: &Me,
) -> AppResult<Vec<(DispatchRow, Vec<i64>)>> {
    pending_rows(state, me, ADDRESSED, None).await
}

/// Pending session requests within `scope` (SQL on `r`, `$1` the user's
/// id), oldest first, with their requested times as unix seconds.
async fn pending_rows(
    state: &AppState,
    me: &Me,
    scope: &str,
    clinic_filter: Option<i64>,
) -> AppResult<Vec<(DispatchRow, Vec<i64>)>> {
    let rows = sqlx::query_as::<_, DispatchListRow>(&format!(
        "SELECT r.id, r.clinic_id, c.name AS clinic_name, u.name AS requestor, \
         COALESCE(r.mode, 'now') AS mode, c.patient_group_name, c.host_group_name, \
         COALESCE(p.name, c.host_group_name) AS request_to, COALESCE(s.name, '') AS service_name, \
         r.requested_times, r.note, r.form_answers, r.created_at, c.time_zone, c.date_style \
         FROM request r JOIN clinic c ON c.id = r.clinic_id JOIN app_user u ON u.id = r.requester_id \
         LEFT JOIN service s ON s.id = r.service_id LEFT JOIN app_user p ON p.id = r.target_provider_id \
         WHERE r.status = 'pending' AND r.kind = 'new_session' AND {scope} \
         AND ($2 IS NULL OR r.clinic_id = $2) ORDER BY r.created_at, r.id LIMIT 500"
    ))
    .bind(me.user_id)
    .bind(clinic_filter)
    .fetch_all(&state.db.pool)
    .await?;
    rows.into_iter()
        .map(|r| -> AppResult<(DispatchRow, Vec<i64>)> {
            let clock = zones::Clock::new(&r.time_zone, &r.date_style)?;
            let times = parse_times(&r.requested_times);
            let row = DispatchRow {
                id: r.id,
                clinic_id: r.clinic_id,
                clinic_name: r.clinic_name,
                requestor: r.requestor,
                mode: known(RequestMode::parse(&r.mode), "request.mode", &r.mode)?,
                patient_group: r.patient_group_name,
                host_group: r.host_group_name,
                request_to: r.request_to,
                service_name: r.service_name,
                times: times.iter().map(|t| clock.local(*t)).collect(),
                note: r.note,
                answers: parse_answers(&r.form_answers),
                asked: clock.local(r.created_at),
                created_at: r.created_at,
            };
            Ok((row, times))
        })
        .collect()
}

/// Possible Conflicting Sessions: each provider's sessions (hosted, or
/// invited and not declined) within `CONFLICT_WINDOW` of any anchor time,
/// described in the clinic's zone. Two queries for all providers.
async fn sessions_near(
    conn: &mut AnyConnection,
    clinic_id: i64,
    providers: &[i64],
    anchors: &[i64],
    clock: zones::Clock,
) -> AppResult<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    if anchors.is_empty() {
        return Ok(out);
    }
    let ids = id_list(providers);
    let select =
        "SELECT a.starts_at, a.ends_at, u.name AS patient, COALESCE(s.name, '') AS service";
    let from = "JOIN app_user u ON u.id = a.patient_id LEFT JOIN service s ON s.id = a.service_id";
    // One branch per anchor and kind, each a plain index range (an OR of
    // ranges would make SQLite scan every appointment of the providers).
    // The anchors are our own integers, not user text.
    let branches: Vec<String> = anchors
        .iter()
        .flat_map(|a| {
            let (lo, hi) = (a - CONFLICT_WINDOW, a + CONFLICT_WINDOW);
            let range = format!(
                "a.status <> 'cancelled' AND a.starts_at < {hi} AND a.starts_at > {} AND a.ends_at > {lo}",
                lo - booking::LONGEST_APPOINTMENT_SECS
            );
            [
                format!("{select}, a.host_provider_id AS provider_id FROM appointment a {from} WHERE a.host_provider_id IN ({ids}) AND {range}"),
                // Invitations are within the clinic: start from its
                // appointments in the range, not from every invitation.
                format!(
                    "{select}, x.provider_id FROM appointment a JOIN participant x ON x.appointment_id = a.id \
                     AND x.provider_id IN ({ids}) AND x.status <> 'declined' {from} \
                     WHERE a.clinic_id = {clinic_id} AND {range}"
                ),
            ]
        })
        .collect();
    let rows = sqlx::query(&format!("{} ORDER BY 1", branches.join(" UNION ALL ")))
        .fetch_all(conn)
        .await?;
    for r in rows {
        let (start, end): (i64, i64) = (r.get("starts_at"), r.get("ends_at"));
        let line = format!(
            "{}–{} {} ({})",
            clock.local(start),
            clock.time(end),
            r.get::<String, _>("service"),
            r.get::<String, _>("patient")
        );
        let list = out.entry(r.get("provider_id")).or_default();
        if !list.contains(&line) {
            list.push(line);
        }
    }
    Ok(out)
}

/// The Assign dialog: who is available, and what might conflict.
#[tracing::instrument(skip_all, fields(user = me.user_id, request_id = request_id))]
pub async fn assign_options(
    state: &AppState,
    me: &Me,
    request_id: i64,
) -> AppResult<AssignOptions> {
    let mut conn = state.db.pool.acquire().await?;
    let req = load(&mut conn, request_id).await?;
    let any_provider = may_work(me, &req)?;
    if req.status != "pending" {
        return Err(already_handled(&mut conn, request_id, req.clock).await?);
    }
    let tz = req.tz;
    let now = state.clock.now().timestamp();
    let on_now = availability::available_now(&mut conn, req.clinic_id).await?;
    let mut providers = Vec::new();
    let candidates: Vec<(i64, String)> = clinic_providers(&mut conn, req.clinic_id)
        .await?
        .into_iter()
        .filter(|p| any_provider || p.0 == me.user_id)
        .collect();
    // Around each requested time (or now, for a Now request).
    let anchors: Vec<i64> = if req.mode == RequestMode::Now {
        vec![now]
    } else {
        req.times.clone()
    };
    let ids: Vec<i64> = candidates.iter().map(|c| c.0).collect();
    let mut free = match req.mode {
        RequestMode::Scheduled => {
            free_at(
                &mut conn,
                req.clinic_id,
                &ids,
                &req.times,
                tz,
                req.minutes as u32,
                now,
            )
            .await?
        }
        RequestMode::Now => HashMap::new(),
    };
    let mut sessions = sessions_near(&mut conn, req.clinic_id, &ids, &anchors, req.clock).await?;
    for (id, name) in candidates {
        let (available, availability) = match req.mode {
            RequestMode::Now => {
                let on = on_now.contains(&id);
                let text = if on {
                    "Available now"
                } else {
                    "Not available now"
                };
                (on, text.to_string())
            }
            RequestMode::Scheduled => {
                let free: Vec<String> = free
                    .remove(&id)
                    .unwrap_or_default()
                    .iter()
                    .map(|t| req.clock.local(*t))
                    .collect();
                if free.is_empty() {
                    (false, "Not free at the requested times".to_string())
                } else {
                    (true, format!("Free at {}", free.join("; ")))
                }
            }
        };
        let conflicts = sessions.remove(&id).unwrap_or_default();
        providers.push(AssignProvider {
            addressed: req.target == Some(id),
            id,
            name,
            available,
            availability,
            conflicts,
        });
    }
    // The addressed provider first, then the available ones.
    providers.sort_by_key(|p| (!p.addressed, !p.available));
    Ok(AssignOptions {
        request_id,
        mode: req.mode,
        requestor: req.requester,
        service_name: req.service_name,
        duration_minutes: req.minutes,
        time_zone: tz.name().to_string(),
        request_to: req.request_to,
        times: req
            .times
            .iter()
            .map(|t| TimeChoice {
                start: *t,
                label: req.clock.local(*t),
            })
            .collect(),
        providers,
        note: req.note,
        answers: req.answers,
        asked: req.clock.local(req.created_at),
    })
}
