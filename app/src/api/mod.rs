//! Server functions: the browser's only way in. Each is thin: resolve the
//! caller, check the input's shape, call the service layer, map the error
//! (status code included). One file per service module, of the same name:
//! `api::appointments` calls `service::appointments`, and so on.

#[cfg(feature = "ssr")]
use crate::error::AppError;

pub mod accounts;
pub mod api_clients;
pub mod appointments;
pub mod audit;
pub mod availability;
pub mod bookings;
pub mod change_requests;
pub mod clinic_settings;
pub mod dashboard;
pub mod exports;
pub mod fhir;
pub mod notifications;
pub mod portal;
pub mod proposals;
pub mod reminders;
pub mod requests;
pub mod schedule;
pub mod waitlist;

// Input checks shared by the server functions.

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
