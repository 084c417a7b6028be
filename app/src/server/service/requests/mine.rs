//! A patient's own session requests as their portal lists them: status, the
//! clinic's response, and the meeting once accepted.

use super::parse_times;
use crate::domain::appointment::AppointmentStatus;
use crate::domain::request::{RequestMode, RequestStatus};
use crate::error::AppResult;
use crate::model::{Me, MyMeeting, MyRequest};
use crate::server::db::known;
use crate::server::state::AppState;
use crate::server::zones;

/// The caller's own session requests, newest first, with the meeting each
/// became.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn my_requests(state: &AppState, me: &Me) -> AppResult<Vec<MyRequest>> {
    let rows = sqlx::query_as::<_, MyRequestRow>(
        "SELECT r.id, c.name AS clinic_name, c.slug AS clinic_slug, \
         COALESCE(s.name, '') AS service_name, COALESCE(r.mode, 'now') AS mode, r.status, r.note, \
         r.response, r.created_at, r.requested_times, c.time_zone, c.date_style, \
         COALESCE(t.name, c.host_group_name) AS request_to, rp.name AS responder, \
         a.id AS appointment_id, a.starts_at, a.status AS appointment_status, a.video_url, \
         a.meeting_id, a.passcode, h.name AS host_name \
         FROM request r JOIN clinic c ON c.id = r.clinic_id \
         LEFT JOIN service s ON s.id = r.service_id \
         LEFT JOIN app_user t ON t.id = r.target_provider_id \
         LEFT JOIN app_user rp ON rp.id = r.responder_id \
         LEFT JOIN appointment a ON a.id = r.result_appointment_id \
         LEFT JOIN app_user h ON h.id = a.host_provider_id \
         WHERE r.requester_id = $1 AND r.kind = 'new_session' ORDER BY r.created_at DESC, r.id DESC LIMIT 100",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    rows.into_iter()
        .map(|r| -> AppResult<MyRequest> {
            let clock = zones::Clock::new(&r.time_zone, &r.date_style)?;
            // The appointment's columns are NOT NULL: all there when its id is.
            let meeting = r.appointment_id.map(|id| -> AppResult<MyMeeting> {
                let starts = r.starts_at.unwrap_or_default();
                let status = r.appointment_status.as_deref().unwrap_or_default();
                Ok(MyMeeting {
                    appointment_id: id,
                    when: format!("{} ({})", clock.local(starts), clock.tz.name()),
                    provider: r.host_name.clone().unwrap_or_default(),
                    status: known(
                        AppointmentStatus::parse(status),
                        "appointment.status",
                        status,
                    )?,
                    video_url: r.video_url.clone().unwrap_or_default(),
                    meeting_id: r.meeting_id.clone().unwrap_or_default(),
                    passcode: r.passcode.clone().unwrap_or_default(),
                })
            });
            Ok(MyRequest {
                id: r.id,
                clinic_name: r.clinic_name,
                clinic_slug: r.clinic_slug,
                service_name: r.service_name,
                mode: known(RequestMode::parse(&r.mode), "request.mode", &r.mode)?,
                status: known(RequestStatus::parse(&r.status), "request.status", &r.status)?,
                note: r.note,
                response: r.response,
                created_at: r.created_at,
                times: parse_times(&r.requested_times)
                    .into_iter()
                    .map(|t| clock.local(t))
                    .collect(),
                request_to: r.request_to,
                responder: r.responder,
                meeting: meeting.transpose()?,
            })
        })
        .collect()
}

/// A patient's session request with the appointment it became (its columns
/// NULL until then).
#[derive(sqlx::FromRow)]
struct MyRequestRow {
    id: i64,
    clinic_name: String,
    clinic_slug: String,
    service_name: String,
    mode: String,
    status: String,
    note: String,
    response: Option<String>,
    created_at: i64,
    requested_times: String,
    time_zone: String,
    date_style: String,
    request_to: String,
    responder: Option<String>,
    appointment_id: Option<i64>,
    starts_at: Option<i64>,
    appointment_status: Option<String>,
    video_url: Option<String>,
    meeting_id: Option<String>,
    passcode: Option<String>,
    host_name: Option<String>,
}
