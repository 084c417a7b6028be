//! Pages, one module per area.

pub mod account;
pub mod appointment_dialogs;
pub mod availability;
pub mod booking;
pub mod bookings;
pub mod clinic_settings;
pub mod consultations;
pub mod dispatch;
pub mod errors;
pub mod login;
pub mod notifications;
pub mod portal;
pub mod schedule;
pub mod staff;

use crate::error::AppError;
use leptos::prelude::*;

/// The message of a failed action, in an alert region screen readers announce.
pub fn error_alert<S, T>(value: S) -> impl IntoView
where
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    T: 'static,
{
    move || {
        value.with(|v| match v {
            Some(Err(e)) => {
                Some(view! { <p class="alert error" role="alert">{e.message().to_string()}</p> })
            }
            _ => None,
        })
    }
}
