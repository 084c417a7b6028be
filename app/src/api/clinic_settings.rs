//! Server functions for Clinic settings (admins).

// A server function's arguments are the fields of the form that posts to
// it (save_service has eight); the lint cannot be allowed on the one
// function, because the macro generates the client's version without it.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::model::ClinicSettings;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// `clinic_id` none: the first clinic where the caller is admin.
#[server(prefix = "/api", endpoint = "clinic_settings")]
pub async fn get_clinic_settings(
    #[server(default)] clinic_id: Option<i64>,
) -> Result<ClinicSettings, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        // The service reads 0 as the first clinic.
        let clinic_id = clinic_id.unwrap_or(0);
        service::clinic_settings::view(&ctx::state()?, &s.me, clinic_id).await
    })
    .await
}

/// Adds (`service_id` 0) or edits a service. `payment_required` is a
/// checkbox: present ("on") when ticked. `modality` is "video",
/// "in_person" or "phone" (read as text, so anything else gets a plain
/// answer rather than an undecodable form).
#[server(prefix = "/api", endpoint = "save_service")]
pub async fn save_service(
    clinic_id: i64,
    service_id: i64,
    name: String,
    description: String,
    duration_minutes: String,
    #[server(default)] payment_required: Option<String>,
    price: String,
    modality: String,
) -> Result<i64, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let duration_minutes = duration_minutes
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::validation("Enter the duration in whole minutes."))?;
        let form = service::clinic_settings::ServiceForm {
            name,
            description,
            duration_minutes,
            payment_required: payment_required.is_some(),
            price,
            modality: crate::domain::modality::Modality::from_form(&modality)
                .map_err(AppError::Validation)?,
        };
        service::clinic_settings::save_service(&ctx::state()?, &s.me, clinic_id, service_id, form)
            .await
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_service_active")]
pub async fn set_service_active(service_id: i64, active: bool) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::clinic_settings::set_service_active(&ctx::state()?, &s.me, service_id, active)
            .await
    })
    .await
}

#[server(prefix = "/api", endpoint = "save_groups")]
pub async fn save_groups(
    clinic_id: i64,
    patient_group_name: String,
    host_group_name: String,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::clinic_settings::save_groups(
            &ctx::state()?,
            &s.me,
            clinic_id,
            &patient_group_name,
            &host_group_name,
        )
        .await
    })
    .await
}

/// Adds a question to the pre-request form: `options` (typed by the
/// admin) one per line or comma-separated.
#[server(prefix = "/api", endpoint = "add_question")]
pub async fn add_question(
    clinic_id: i64,
    label: String,
    kind: crate::domain::form::QuestionKind,
    #[server(default)] options: String,
    #[server(default)] required: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::form::new_question;
    ctx::run(async {
        let s = ctx::require_session()?;
        let q = new_question(&label, kind, &options, required.is_some())
            .map_err(AppError::Validation)?;
        service::clinic_settings::edit_form(
            &ctx::state()?,
            &s.me,
            clinic_id,
            service::clinic_settings::FormEdit::Add(q),
        )
        .await
    })
    .await
}

/// Removes or moves up the question at `index`, if it still reads `label`.
#[server(prefix = "/api", endpoint = "edit_question")]
pub async fn edit_question(
    clinic_id: i64,
    op: crate::model::QuestionEdit,
    index: usize,
    label: String,
) -> Result<(), AppError> {
    use crate::model::QuestionEdit;
    use service::clinic_settings::FormEdit;
    ctx::run(async {
        let s = ctx::require_session()?;
        let edit = match op {
            QuestionEdit::Remove => FormEdit::Remove { index, label },
            QuestionEdit::Up => FormEdit::MoveUp { index, label },
        };
        service::clinic_settings::edit_form(&ctx::state()?, &s.me, clinic_id, edit).await
    })
    .await
}

/// Saves the cancellation policy: windows in hours, the fee as an amount,
/// `needs_approval` a checkbox (present when ticked), and how many days
/// ahead patients may book.
#[server(prefix = "/api", endpoint = "save_policy")]
pub async fn save_policy(
    clinic_id: i64,
    cancel_hours: String,
    reschedule_hours: String,
    #[server(default)] needs_approval: Option<String>,
    fee: String,
    horizon_days: String,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let hours = |v: &str, what: &str| {
            // Checked: a huge number of hours must not wrap round to a
            // small window; the policy's own check then gives the range.
            v.trim()
                .parse::<i64>()
                .map(|h| h.checked_mul(60).unwrap_or(i64::MAX))
                .map_err(|_| {
                    AppError::validation(format!("Enter the {what} window in whole hours."))
                })
        };
        let policy = crate::domain::policy::Policy {
            cancel_window_minutes: hours(&cancel_hours, "cancellation")?,
            reschedule_window_minutes: hours(&reschedule_hours, "reschedule")?,
            needs_approval: needs_approval.is_some(),
            late_cancel_fee_cents: service::clinic_settings::parse_price(&fee)
                .map_err(AppError::Validation)?,
            // A number out of u32's range is out of the policy's range too.
            booking_horizon_days: horizon_days.trim().parse::<u64>().map_or_else(
                |_| {
                    Err(AppError::validation(
                        "Enter how many days ahead patients may book as a whole number.",
                    ))
                },
                |d| Ok(u32::try_from(d).unwrap_or(u32::MAX)),
            )?,
        };
        service::clinic_settings::save_policy(&ctx::state()?, &s.me, clinic_id, policy).await
    })
    .await
}

/// Saves the PMS connector. A blank `secret` keeps the one already set.
#[server(prefix = "/api", endpoint = "save_pms")]
pub async fn save_pms(
    clinic_id: i64,
    connector: crate::domain::pms::PmsConnector,
    url: String,
    secret: String,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::clinic_settings::save_pms(
            &ctx::state()?,
            &s.me,
            clinic_id,
            connector,
            &url,
            &secret,
        )
        .await
    })
    .await
}

/// Saves how the clinic writes dates and times (`date_style` a
/// `DateStyle` code; anything else is refused with a plain message).
#[server(prefix = "/api", endpoint = "save_date_style")]
pub async fn save_date_style(clinic_id: i64, date_style: String) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        service::clinic_settings::save_date_style(&ctx::state()?, &s.me, clinic_id, &date_style)
            .await
    })
    .await
}

/// Saves where appointments take place (the clinic's address; the number
/// patients call for phone appointments, blank when the clinic calls) and
/// whether cancelling needs a reason (`reason_required` a checkbox).
#[server(prefix = "/api", endpoint = "save_venue")]
pub async fn save_venue(
    clinic_id: i64,
    address: String,
    call_phone: String,
    #[server(default)] reason_required: Option<String>,
) -> Result<(), AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let form = service::clinic_settings::VenueForm {
            address,
            call_phone,
            cancel_reason_required: reason_required.is_some(),
        };
        service::clinic_settings::save_venue(&ctx::state()?, &s.me, clinic_id, form).await
    })
    .await
}
