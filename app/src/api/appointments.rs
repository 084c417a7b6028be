//! Staff changes to an appointment: create, move, cancel, FTA/DNA, an
//! invited provider's answer. Calls `service::appointments` (and
//! `service::dashboard` for an answer to an invitation).

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::{in_range, to_minute};
#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// Cancels a meeting or the rest of its series. `reason` is none until
/// one is chosen (the dialog checks the same rules first). Returns how many
/// meetings were cancelled.
#[server(prefix = "/api", endpoint = "cancel_appointment")]
pub async fn cancel_appointment(
    id: i64,
    scope: crate::model::CancelScope,
    #[server(default)] reason: Option<crate::domain::booking::CancelReason>,
    note: String,
    message: String,
) -> Result<usize, AppError> {
    use crate::model::CancelScope as Wire;
    use service::appointments::CancelScope;
    ctx::run(async {
        let s = ctx::require_session()?;
        let scope = match scope {
            Wire::This => CancelScope::ThisOnly,
            Wire::Series => CancelScope::AllInSeries,
        };
        let form = crate::domain::booking::cancel_form(reason, &note, &message)
            .map_err(AppError::Validation)?;
        let ids = service::appointments::cancel(&ctx::state()?, &s.me, id, scope, form).await?;
        Ok(ids.len())
    })
    .await
}

/// Marks a past booking FTA or DNA.
#[server(prefix = "/api", endpoint = "mark_no_show")]
pub async fn mark_no_show(
    id: i64,
    kind: crate::domain::booking::NoShowKind,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::appointments::mark_noshow(&ctx::state()?, &s.me, id, kind).await
    })
    .await
}

/// An invited provider declines their invitation to another host's meeting.
#[server(prefix = "/api", endpoint = "decline_invitation")]
pub async fn decline_invitation(id: i64) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::appointments::decline(&ctx::state()?, &s.me, id).await
    })
    .await
}

/// An invited provider accepts or declines their invitation to another
/// host's meeting, or to every meeting of its series still to come.
/// Returns how many invitations changed.
#[server(prefix = "/api", endpoint = "answer_invitation")]
pub async fn answer_invitation(
    id: i64,
    answer: crate::model::InvitationAnswer,
    scope: crate::model::InvitationScope,
) -> Result<usize, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::dashboard::answer_invitation(&ctx::state()?, &s.me, id, answer, scope).await
    })
    .await
}

/// Creates an appointment, or a weekly series (see `AppointmentForm`).
#[server(prefix = "/api", endpoint = "create_appointment")]
pub async fn create_appointment(
    form: crate::model::AppointmentForm,
) -> Result<crate::model::WriteOutcome, AppError> {
    use crate::domain::recurrence::End;
    ctx::run(async {
        let s = ctx::require_session()?;
        let f = form;
        let date = in_range(f.date)?;
        if let Some(End::Until(until)) = f.repeat.map(|r| r.end) {
            in_range(until)?;
        }
        let new = service::appointments::NewAppointment {
            clinic_id: f.clinic_id,
            provider_id: f.provider_id,
            patient_id: f.patient_id,
            service_id: f.service_id,
            start_local: date.and_time(to_minute(f.start)),
            end_local: f.end.map(|t| date.and_time(to_minute(t))),
            location: f.location,
            invited: f.invited,
            recurrence: f.repeat,
        };
        let c = service::appointments::create(&ctx::state()?, &s.me, new).await?;
        Ok(crate::model::WriteOutcome {
            count: c.ids.len(),
            warnings: c.warnings,
        })
    })
    .await
}

/// Moves a meeting to a new date, time and location: this one, or this
/// and all future events of its series.
#[server(prefix = "/api", endpoint = "reschedule_appointment")]
pub async fn reschedule_appointment(
    id: i64,
    date: chrono::NaiveDate,
    start: chrono::NaiveTime,
    location: String,
    scope: crate::model::RescheduleScope,
) -> Result<crate::model::WriteOutcome, AppError> {
    use crate::model::RescheduleScope as Wire;
    use service::appointments::{Move, RescheduleScope};
    ctx::run(async {
        let s = ctx::require_session()?;
        let scope = match scope {
            Wire::This => RescheduleScope::ThisOnly,
            Wire::Future => RescheduleScope::ThisAndFuture,
        };
        let mv = Move {
            appointment_id: id,
            start_local: in_range(date)?.and_time(to_minute(start)),
            location,
            scope,
        };
        let m = service::appointments::reschedule(&ctx::state()?, &s.me, mv).await?;
        Ok(crate::model::WriteOutcome {
            count: m.ids.len(),
            warnings: m.warnings,
        })
    })
    .await
}
