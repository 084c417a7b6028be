//! Server functions: the browser's only way in. Each is thin: resolve the
//! caller, call the service layer, map the error (status code included).

use crate::error::AppError;
use crate::model::{ClinicOption, DemoLogin, Me, PendingCounts};
use leptos::prelude::*;

pub mod availability;
pub mod changes;
pub mod clinic_settings;
pub mod notifications;
pub mod requests;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// The logged-in user, or None.
#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    Ok(ctx::session().map(|s| s.me))
}

/// Demo accounts, listed on the login page in demo mode only.
#[server(prefix = "/api", endpoint = "demo_logins")]
pub async fn demo_logins() -> Result<Vec<DemoLogin>, AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        Ok(if state.config.demo {
            crate::server::demo::demo_logins()
        } else {
            Vec::new()
        })
    })
    .await
}

/// Only same-site paths are followed after login (no open redirect).
#[cfg(any(feature = "ssr", test))]
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        String::new()
    }
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String, next: String) -> Result<(), AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        let ua = ctx::header(http::header::USER_AGENT).unwrap_or_default();
        let done =
            service::accounts::login(&state, &email, &password, &ctx::client_addr(), &ua).await?;
        let me = crate::server::auth::load_memberships(&state.db, done.user_id).await?;
        ctx::set_cookie(&crate::server::auth::session_cookie(
            &done.token,
            &state.config.session,
            ctx::secure_cookies(&state),
        ));
        let staff = me.iter().any(|m| m.role.is_staff());
        let next = safe_next(&next);
        let home = if staff { "/schedule" } else { "/portal" };
        leptos_axum::redirect(if next.is_empty() { home } else { &next });
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        if let Some(session) = ctx::session() {
            service::accounts::logout(&state, &session).await?;
        }
        ctx::set_cookie(&crate::server::auth::clear_cookie(ctx::secure_cookies(
            &state,
        )));
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "register")]
pub async fn register(
    name: String,
    email: String,
    password: String,
    clinic_id: i64,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    ctx::run(async {
        let state = ctx::state()?;
        let ua = ctx::header(http::header::USER_AGENT).unwrap_or_default();
        let done = service::accounts::register_patient(
            &state,
            service::accounts::Registration {
                name,
                email,
                password,
                clinic_id,
            },
            &ctx::client_addr(),
            &ua,
        )
        .await?;
        ctx::set_cookie(&crate::server::auth::session_cookie(
            &done.token,
            &state.config.session,
            ctx::secure_cookies(&state),
        ));
        let next = safe_next(&next);
        leptos_axum::redirect(if next.is_empty() { "/portal" } else { &next });
        Ok(())
    })
    .await
}

/// Clinics and their services (public: the portal and registration list them).
#[server(prefix = "/api", endpoint = "clinics")]
pub async fn clinic_options() -> Result<Vec<ClinicOption>, AppError> {
    ctx::run(async { service::clinics::clinic_options(&ctx::state()?).await }).await
}

#[server(prefix = "/api", endpoint = "pending_counts")]
pub async fn get_pending_counts() -> Result<PendingCounts, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::requests::pending_counts(&ctx::state()?, &s.me).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next("/dispatch"), "/dispatch");
        assert_eq!(safe_next("https://evil.test"), "");
        assert_eq!(safe_next("//evil.test"), "");
        assert_eq!(safe_next("/\\evil.test"), "");
    }
}

// ---- Bookings ------------------------------------------------------------

/// A date the browser sent, if it is in the range a clinic schedules in.
#[cfg(feature = "ssr")]
pub(crate) fn in_range(d: chrono::NaiveDate) -> Result<chrono::NaiveDate, AppError> {
    crate::domain::validate::date_in_range(d).map_err(AppError::Validation)
}

/// A time the browser sent, to the minute (a time input may carry seconds).
#[cfg(feature = "ssr")]
pub(crate) fn to_minute(t: chrono::NaiveTime) -> chrono::NaiveTime {
    use chrono::Timelike;
    chrono::NaiveTime::from_hms_opt(t.hour(), t.minute(), 0).unwrap_or(t)
}

#[cfg(feature = "ssr")]
pub(crate) fn parse_date(s: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::validation("Enter dates as YYYY-MM-DD."))?;
    crate::domain::validate::date_in_range(d)
        .map(Some)
        .map_err(AppError::Validation)
}

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

// ---- Schedule ------------------------------------------------------------

#[cfg(feature = "ssr")]
pub(crate) fn parse_local(
    date: &str,
    time: &str,
    what: &str,
) -> Result<chrono::NaiveDateTime, AppError> {
    let d =
        parse_date(date)?.ok_or_else(|| AppError::validation(format!("Enter the {what} date.")))?;
    let t = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M")
        .map_err(|_| AppError::validation(format!("Enter the {what} time as HH:MM.")))?;
    Ok(d.and_time(t))
}

/// The Schedule grid: `date` none for today, `clinic_id` none for the
/// first clinic, `providers` none for all the viewer may see.
#[server(prefix = "/api", endpoint = "schedule")]
pub async fn schedule(
    #[server(default)] clinic_id: Option<i64>,
    mode: crate::model::ScheduleMode,
    #[server(default)] date: Option<chrono::NaiveDate>,
    #[server(default)] providers: Vec<i64>,
) -> Result<crate::model::ScheduleView, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let q = service::schedule::ScheduleQuery {
            clinic_id,
            mode,
            date: date.map(in_range).transpose()?,
            providers,
        };
        service::schedule::view(&ctx::state()?, &s.me, q).await
    })
    .await
}

/// What the new-appointment form offers for a clinic (none: the first).
#[server(prefix = "/api", endpoint = "create_options")]
pub async fn create_options(
    #[server(default)] clinic_id: Option<i64>,
) -> Result<crate::model::CreateOptions, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::schedule::create_options(&ctx::state()?, &s.me, clinic_id).await
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
