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
    status: String,
    from: String,
    to: String,
    search: String,
    page: i64,
) -> Result<crate::model::BookingPage, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let status = crate::model::BookingStatusFilter::parse(&status)
            .ok_or_else(|| AppError::validation("Choose a status filter from the list."))?;
        let q = service::bookings::BookingQuery {
            status,
            from: parse_date(&from)?,
            to: parse_date(&to)?,
            search,
            page,
        };
        service::bookings::list(&ctx::state()?, &s.me, q).await
    })
    .await
}

/// Cancels a meeting ("this") or the rest of its series ("series").
/// Returns how many meetings were cancelled.
#[server(prefix = "/api", endpoint = "cancel_appointment")]
pub async fn cancel_appointment(
    id: i64,
    scope: String,
    reason: String,
    note: String,
    message: String,
) -> Result<usize, AppError> {
    use service::appointments::CancelScope;
    ctx::run(async {
        let s = ctx::require_session()?;
        let scope = match scope.as_str() {
            "this" => CancelScope::ThisOnly,
            "series" => CancelScope::AllInSeries,
            _ => return Err(AppError::validation("Choose which meetings to cancel.")),
        };
        let form = crate::domain::booking::validate_cancel(&reason, &note, &message)
            .map_err(AppError::Validation)?;
        let ids = service::appointments::cancel(&ctx::state()?, &s.me, id, scope, form).await?;
        Ok(ids.len())
    })
    .await
}

/// Marks a past booking FTA ("fta") or DNA ("dna").
#[server(prefix = "/api", endpoint = "mark_no_show")]
pub async fn mark_no_show(id: i64, kind: String) -> Result<(), AppError> {
    use crate::domain::booking::NoShowKind;
    ctx::run(async {
        let s = ctx::require_session()?;
        let kind = match kind.as_str() {
            "fta" => NoShowKind::Fta,
            "dna" => NoShowKind::Dna,
            _ => return Err(AppError::validation("Choose FTA or DNA.")),
        };
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

/// Comma-separated ids from a form ("3,5"); blank means none.
#[cfg(feature = "ssr")]
pub(crate) fn parse_ids(s: &str, what: &str) -> Result<Vec<i64>, AppError> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<i64>()
                .map_err(|_| AppError::validation(format!("Choose {what} from the list.")))
        })
        .collect()
}

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

/// The Schedule grid: `mode` "week" or "day", `date` YYYY-MM-DD (blank:
/// today), `clinic_id` 0 for the first clinic, `providers` comma-separated
/// ids (blank: all the viewer may see).
#[server(prefix = "/api", endpoint = "schedule")]
pub async fn schedule(
    clinic_id: i64,
    mode: String,
    date: String,
    providers: String,
) -> Result<crate::model::ScheduleView, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let q = service::schedule::ScheduleQuery {
            clinic_id: (clinic_id != 0).then_some(clinic_id),
            mode: crate::model::ScheduleMode::parse(&mode)
                .ok_or_else(|| AppError::validation("Choose the Week or Day view."))?,
            date: parse_date(&date)?,
            providers: parse_ids(&providers, "providers")?,
        };
        service::schedule::view(&ctx::state()?, &s.me, q).await
    })
    .await
}

/// What the new-appointment form offers for a clinic (0: the first).
#[server(prefix = "/api", endpoint = "create_options")]
pub async fn create_options(clinic_id: i64) -> Result<crate::model::CreateOptions, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::schedule::create_options(
            &ctx::state()?,
            &s.me,
            (clinic_id != 0).then_some(clinic_id),
        )
        .await
    })
    .await
}

/// Creates an appointment, or a weekly series (see `AppointmentForm`).
#[server(prefix = "/api", endpoint = "create_appointment")]
pub async fn create_appointment(
    form: crate::model::AppointmentForm,
) -> Result<crate::model::WriteOutcome, AppError> {
    use crate::domain::recurrence::{End, Weekly};
    ctx::run(async {
        let s = ctx::require_session()?;
        let f = form;
        let start_local = parse_local(&f.date, &f.start, "start")?;
        let end_local = if f.end.trim().is_empty() {
            None
        } else {
            Some(parse_local(&f.date, &f.end, "end")?)
        };
        let recurrence =
            match f.repeat.as_str() {
                "" | "none" => None,
                "weekly" => Some(Weekly {
                    interval_weeks: f.every_weeks,
                    end: match f.ends.as_str() {
                        "count" => End::Count(f.count),
                        "until" => End::Until(parse_date(&f.until)?.ok_or_else(|| {
                            AppError::validation("Enter the date the series ends.")
                        })?),
                        _ => return Err(AppError::validation("Choose how the series ends.")),
                    },
                }),
                _ => {
                    return Err(AppError::validation(
                        "Choose whether the appointment repeats.",
                    ))
                }
            };
        let new = service::appointments::NewAppointment {
            clinic_id: f.clinic_id,
            provider_id: f.provider_id,
            patient_id: f.patient_id,
            service_id: f.service_id,
            start_local,
            end_local,
            location: f.location,
            invited: parse_ids(&f.invited, "invited providers")?,
            recurrence,
        };
        let c = service::appointments::create(&ctx::state()?, &s.me, new).await?;
        Ok(crate::model::WriteOutcome {
            count: c.ids.len(),
            warnings: c.warnings,
        })
    })
    .await
}

/// Moves a meeting to a new date, time and location; `scope` "this" or
/// "future" (this and all future events of its series).
#[server(prefix = "/api", endpoint = "reschedule_appointment")]
pub async fn reschedule_appointment(
    id: i64,
    date: String,
    start: String,
    location: String,
    scope: String,
) -> Result<crate::model::WriteOutcome, AppError> {
    use service::appointments::{Move, RescheduleScope};
    ctx::run(async {
        let s = ctx::require_session()?;
        let scope = match scope.as_str() {
            "this" => RescheduleScope::ThisOnly,
            "future" => RescheduleScope::ThisAndFuture,
            _ => return Err(AppError::validation("Choose which meetings to move.")),
        };
        let mv = Move {
            appointment_id: id,
            start_local: parse_local(&date, &start, "new")?,
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
