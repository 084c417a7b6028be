//! A provider's Dashboard: the requests addressed to them (answered through
//! `requests::accept` / `decline`, as the Assign dialog does), their
//! meetings of today and the coming weeks, their invitations (answered
//! here, one meeting or the rest of its series) and their booking links.

use super::appointment_state::load_appt;
use super::{requests, Audit, Change};
use crate::domain::appointment::{AppointmentStatus, ParticipantStatus};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::notify::NotifyEvent;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{
    from_wire, personal_booking_path, BookingLink, Dashboard, DashboardMeeting, DashboardRequest,
    InvitationAnswer, InvitationScope, Me, TimeChoice,
};
use crate::server::db::{id_list, known};
use crate::server::notify::{self, About, Notice, Span};
use crate::server::state::AppState;
use crate::server::zones;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;

/// How far ahead the Dashboard lists meetings and invitations.
const HORIZON_SECS: i64 = 30 * 86_400;
/// At most this many meetings and invitations are listed.
const MAX_ROWS: i64 = 200;

/// The caller's Dashboard. Only providers have one.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn dashboard(state: &AppState, me: &Me) -> AppResult<Dashboard> {
    let provider_of: Vec<i64> = me
        .memberships
        .iter()
        .filter(|m| m.role == Role::Provider)
        .map(|m| m.clinic_id)
        .collect();
    if provider_of.is_empty() {
        return Err(AppError::forbidden("The Dashboard is for providers."));
    }
    let now = state.clock.now().timestamp();
    let requests = requests::addressed_to(state, me)
        .await?
        .into_iter()
        .map(|(row, times)| DashboardRequest {
            choices: times
                .into_iter()
                .zip(row.times.iter())
                .map(|(start, label)| TimeChoice {
                    start,
                    label: label.clone(),
                })
                .collect(),
            row,
        })
        .collect();
    let (today, upcoming) = meetings(state, me.user_id, now).await?;
    Ok(Dashboard {
        now,
        requests,
        today,
        upcoming,
        invitations: invitations(state, me.user_id, now).await?,
        links: links(state, &provider_of, me.user_id).await?,
    })
}

/// A meeting or invitation row as read.
#[derive(sqlx::FromRow)]
struct MeetingRow {
    id: i64,
    starts_at: i64,
    ends_at: i64,
    status: String,
    clinic_name: String,
    time_zone: String,
    date_style: String,
    service: String,
    patient: String,
    host: String,
    host_provider_id: i64,
    series_id: Option<i64>,
    participant: Option<String>,
}

const MEETING_COLUMNS: &str = "a.id, a.starts_at, a.ends_at, a.status, c.name AS clinic_name, \
     c.time_zone, c.date_style, COALESCE(s.name, '') AS service, p.name AS patient, h.name AS host, \
     a.host_provider_id, a.series_id";
const MEETING_JOINS: &str = "JOIN clinic c ON c.id = a.clinic_id \
     JOIN app_user p ON p.id = a.patient_id JOIN app_user h ON h.id = a.host_provider_id \
     LEFT JOIN service s ON s.id = a.service_id";

impl MeetingRow {
    fn tz(&self) -> chrono_tz::Tz {
        zones::parse(&self.time_zone)
    }
    /// Its start and end in the clinic's zone and date style.
    fn when(&self) -> AppResult<String> {
        let clock = zones::Clock::new(&self.time_zone, &self.date_style)?;
        Ok(format!(
            "{}–{}",
            clock.local(self.starts_at),
            clock.time(self.ends_at)
        ))
    }
}

fn local_date(ts: i64, tz: chrono_tz::Tz) -> Option<NaiveDate> {
    DateTime::<Utc>::from_timestamp(ts, 0).map(|t| t.with_timezone(&tz).date_naive())
}

/// Meetings they host or accepted, not cancelled or FTA/DNA, from the
/// start of today (in each clinic's zone) to the horizon: (today, later).
async fn meetings(
    state: &AppState,
    user: i64,
    now: i64,
) -> AppResult<(Vec<DashboardMeeting>, Vec<DashboardMeeting>)> {
    // A day back covers the start of today in every zone; each branch is
    // an index range (host and time; the provider's invitations).
    let live = "a.status NOT IN ('cancelled', 'noshow') AND a.starts_at >= $2 AND a.starts_at < $3";
    let rows = sqlx::query_as::<_, MeetingRow>(&format!(
        "SELECT {MEETING_COLUMNS}, NULL AS participant FROM appointment a {MEETING_JOINS} \
         WHERE a.host_provider_id = $1 AND {live} \
         UNION ALL SELECT {MEETING_COLUMNS}, x.status AS participant FROM participant x \
         JOIN appointment a ON a.id = x.appointment_id {MEETING_JOINS} \
         WHERE x.provider_id = $1 AND x.status = 'accepted' AND {live} \
         ORDER BY 2, 1 LIMIT {MAX_ROWS}"
    ))
    .bind(user)
    .bind(now - 86_400)
    .bind(now + HORIZON_SECS)
    .fetch_all(&state.db.pool)
    .await?;
    let (mut today, mut later) = (Vec::new(), Vec::new());
    for r in rows {
        let tz = r.tz();
        let (day, this_day) = (local_date(r.starts_at, tz), local_date(now, tz));
        if day < this_day {
            continue;
        }
        let status = known(
            AppointmentStatus::parse(&r.status),
            "appointment.status",
            &r.status,
        )?;
        let m = DashboardMeeting {
            id: r.id,
            when: r.when()?,
            invited_by: (r.host_provider_id != user).then(|| r.host.clone()),
            status: status.label().to_string(),
            clinic_name: r.clinic_name,
            service: r.service,
            patient: r.patient,
        };
        if day == this_day {
            today.push(m);
        } else {
            later.push(m);
        }
    }
    Ok((today, later))
}

/// Their invitations to meetings still to come, with how many of each
/// series' meetings still to come they are invited to.
async fn invitations(
    state: &AppState,
    user: i64,
    now: i64,
) -> AppResult<Vec<crate::model::Invitation>> {
    let rows = sqlx::query_as::<_, MeetingRow>(&format!(
        "SELECT {MEETING_COLUMNS}, x.status AS participant FROM participant x \
         JOIN appointment a ON a.id = x.appointment_id {MEETING_JOINS} \
         WHERE x.provider_id = $1 AND a.status <> 'cancelled' AND a.starts_at > $2 \
         AND a.starts_at < $3 ORDER BY a.starts_at, a.id LIMIT {MAX_ROWS}"
    ))
    .bind(user)
    .bind(now)
    .bind(now + HORIZON_SECS)
    .fetch_all(&state.db.pool)
    .await?;
    let series: Vec<i64> = rows.iter().filter_map(|r| r.series_id).collect();
    let left: HashMap<i64, i64> = sqlx::query(&format!(
        "SELECT a.series_id, COUNT(*) AS n FROM participant x JOIN appointment a ON a.id = x.appointment_id \
         WHERE x.provider_id = $1 AND a.series_id IN ({}) AND a.status <> 'cancelled' AND a.starts_at > $2 \
         GROUP BY a.series_id",
        id_list(&series)
    ))
    .bind(user)
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?
    .into_iter()
    .map(|r| (r.get("series_id"), r.get("n")))
    .collect();
    rows.into_iter()
        .map(|r| {
            let code = r.participant.clone().unwrap_or_default();
            let status = known(
                from_wire::<ParticipantStatus>(&code),
                "participant.status",
                &code,
            )?;
            Ok(crate::model::Invitation {
                appointment_id: r.id,
                when: r.when()?,
                series_left: r.series_id.and_then(|s| left.get(&s).copied()),
                status,
                clinic_name: r.clinic_name,
                service: r.service,
                patient: r.patient,
                host: r.host,
            })
        })
        .collect()
}

/// Their personal booking link at each clinic where they are a provider.
async fn links(state: &AppState, clinics: &[i64], user: i64) -> AppResult<Vec<BookingLink>> {
    let base = state.config.link_base();
    let rows = sqlx::query(&format!(
        "SELECT name, slug FROM clinic WHERE id IN ({}) ORDER BY name",
        id_list(clinics)
    ))
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let path = personal_booking_path(&r.get::<String, _>("slug"), user);
            BookingLink {
                clinic_name: r.get("name"),
                url: format!("{base}{path}"),
                path,
            }
        })
        .collect())
}

/// An invited provider accepts or declines their invitation to one meeting,
/// or to every meeting of its series still to come. Returns how many
/// invitations changed.
#[tracing::instrument(skip_all, fields(user = me.user_id, appointment_id = appointment_id))]
pub async fn answer_invitation(
    state: &AppState,
    me: &Me,
    appointment_id: i64,
    answer: InvitationAnswer,
    scope: InvitationScope,
) -> AppResult<usize> {
    let mut change = Change::begin(state).await?;
    let now = change.now;
    let t = load_appt(change.tx_mut(), appointment_id)
        .await?
        .ok_or_else(|| AppError::not_found("That appointment does not exist."))?;
    let ids = invitations_to_answer(&mut change, me, &t, scope, now).await?;
    let (to, action) = match answer {
        InvitationAnswer::Accept => (ParticipantStatus::Accepted, "accepted"),
        InvitationAnswer::Decline => (ParticipantStatus::Declined, "declined"),
    };
    // Only those not answered so already: each change is audited once.
    let changing: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT appointment_id FROM participant WHERE provider_id = $1 AND status <> $2 \
         AND appointment_id IN ({}) ORDER BY appointment_id",
        id_list(&ids)
    ))
    .bind(me.user_id)
    .bind(to.as_str())
    .fetch_all(change.conn())
    .await?;
    if changing.is_empty() {
        return Err(AppError::conflict(format!(
            "You have already {action} {}.",
            match scope {
                InvitationScope::This => "this invitation",
                InvitationScope::Series => "every meeting of this series",
            }
        )));
    }
    sqlx::query(&format!(
        "UPDATE participant SET status = $1 WHERE provider_id = $2 AND appointment_id IN ({})",
        id_list(&changing)
    ))
    .bind(to.as_str())
    .bind(me.user_id)
    .execute(change.conn())
    .await?;
    record(&mut change, me, &t, &changing, to).await?;
    if answer == InvitationAnswer::Decline {
        // The host hears once, of the first meeting and how many.
        let span = match changing.len() {
            1 => Span::One,
            count => Span::FromHere { count },
        };
        let first = if changing.contains(&appointment_id) {
            appointment_id
        } else {
            changing[0]
        };
        let mut notice = Notice::new(
            NotifyEvent::InviteeDeclined,
            About::Appointment { id: first, span },
            me.user_id,
        );
        notice.by = Some(me.user_id);
        notify::queue(&mut change, notice).await?;
    }
    change.commit().await?;
    Ok(changing.len())
}

/// The meetings an answer covers: this one, or the series' meetings still
/// to come that they are invited to. Refuses one they are not invited to,
/// a cancelled one, and a series answer for a single meeting.
async fn invitations_to_answer(
    change: &mut Change,
    me: &Me,
    t: &crate::server::service::appointment_state::Appt,
    scope: InvitationScope,
    now: i64,
) -> AppResult<Vec<i64>> {
    let invited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM participant WHERE appointment_id = $1 AND provider_id = $2",
    )
    .bind(t.id)
    .bind(me.user_id)
    .fetch_one(change.conn())
    .await?;
    if invited == 0 {
        return Err(AppError::forbidden("You are not invited to this meeting."));
    }
    if t.status == AppointmentStatus::Cancelled {
        return Err(AppError::validation("This appointment is cancelled."));
    }
    match (scope, t.series_id) {
        (InvitationScope::This, _) => Ok(vec![t.id]),
        (InvitationScope::Series, None) => Err(AppError::validation(
            "This meeting is not part of a series; answer it on its own.",
        )),
        (InvitationScope::Series, Some(series)) => Ok(sqlx::query_scalar(
            "SELECT a.id FROM appointment a JOIN participant x ON x.appointment_id = a.id \
             AND x.provider_id = $1 WHERE a.series_id = $2 AND a.status <> 'cancelled' \
             AND (a.starts_at > $3 OR a.id = $4) ORDER BY a.starts_at",
        )
        .bind(me.user_id)
        .bind(series)
        .bind(now)
        .bind(t.id)
        .fetch_all(change.conn())
        .await?),
    }
}

/// The audit entries and live events of answered invitations: the host's
/// and their own open views refresh.
async fn record(
    change: &mut Change,
    me: &Me,
    t: &crate::server::service::appointment_state::Appt,
    ids: &[i64],
    to: ParticipantStatus,
) -> AppResult<()> {
    let action = match to {
        ParticipantStatus::Accepted => "accepted",
        _ => "declined",
    };
    for &id in ids {
        change
            .audit(Audit {
                actor_id: Some(me.user_id),
                on_behalf_of_id: None,
                clinic_id: Some(t.clinic_id),
                action: if action == "accepted" {
                    "participant.accept"
                } else {
                    "participant.decline"
                },
                entity: "appointment",
                entity_id: id,
                before: None,
                after: Some(json!({ "participant": me.user_id, "status": to.as_str() })),
            })
            .await?;
        change
            .emit(LiveEvent {
                topic: topic::APPOINTMENT.into(),
                action: action.into(),
                entity_id: id,
                clinic_id: Some(t.clinic_id),
                user_ids: vec![t.host, me.user_id],
                at_us: 0,
            })
            .await?;
    }
    Ok(())
}
