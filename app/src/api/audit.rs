//! The audit trail page's server function, and the two downloads (plain
//! GET routes, so the browser saves the file): a clinic's trail as CSV for
//! its admins, a patient's own record. Calls `service::audit`.

// The filter's fields are the server function's arguments (the client
// function the macro writes takes them all).
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::model::AuditPage;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::model::AuditFilter;
#[cfg(feature = "ssr")]
use crate::server::{ctx, service};

/// Where the downloads are served (routed in the server crate).
pub const AUDIT_CSV_PATH: &str = "/export/audit.csv";
pub const MY_RECORD_PATH: &str = "/export/my-record.csv";

/// One page of the audit trail of a clinic the caller administers.
#[server(prefix = "/api", endpoint = "audit")]
pub async fn audit_trail(
    #[server(default)] clinic_id: Option<i64>,
    #[server(default)] from: Option<chrono::NaiveDate>,
    #[server(default)] to: Option<chrono::NaiveDate>,
    #[server(default)] actor: String,
    #[server(default)] patient: String,
    #[server(default)] appointment_id: Option<i64>,
    #[server(default)] action: String,
    #[server(default)] before: Option<i64>,
) -> Result<AuditPage, AppError> {
    ctx::run(async {
        let s = ctx::require_session()?;
        let f = AuditFilter {
            clinic_id,
            from,
            to,
            actor,
            patient,
            appointment_id,
            action,
            before,
        };
        service::audit::page(&ctx::state()?, &s.me, f).await
    })
    .await
}

#[cfg(feature = "ssr")]
mod download {
    use super::super::exports::{csv_response, refused};
    use super::*;
    use crate::server::auth::Session;
    use crate::server::state::AppState;
    use axum::extract::{Query, State};
    use axum::response::Response;
    use axum::Extension;

    /// `GET /export/audit.csv?clinic_id=&from=&to=&actor=&patient=&appointment_id=&action=`
    pub async fn audit_csv(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
        Query(q): Query<Vec<(String, String)>>,
    ) -> Response {
        let Some(Extension(s)) = session else {
            return refused(AppError::login_required());
        };
        let f = match filter(&q) {
            Ok(f) => f,
            Err(e) => return refused(e),
        };
        match service::audit::csv(&state, &s.me, f).await {
            Ok(file) => csv_response(file),
            Err(e) => refused(e),
        }
    }

    /// `GET /export/my-record.csv`: the caller's own appointments and requests.
    pub async fn my_record_csv(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
    ) -> Response {
        let Some(Extension(s)) = session else {
            return refused(AppError::login_required());
        };
        match service::audit::my_record(&state, &s.me).await {
            Ok(file) => csv_response(file),
            Err(e) => refused(e),
        }
    }

    /// The filter from the query string; a value that cannot be read is a
    /// 400 naming it (nothing is guessed).
    fn filter(q: &[(String, String)]) -> Result<AuditFilter, AppError> {
        let mut f = AuditFilter::default();
        for (k, v) in q {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let id = |what: &str| {
                v.parse::<i64>()
                    .map_err(|_| AppError::validation(format!("The {what} must be a number.")))
            };
            let date = || {
                chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| AppError::validation("Enter dates as YYYY-MM-DD."))
            };
            match k.as_str() {
                "clinic_id" => f.clinic_id = Some(id("clinic")?),
                "from" => f.from = Some(date()?),
                "to" => f.to = Some(date()?),
                "actor" => f.actor = v.to_string(),
                "patient" => f.patient = v.to_string(),
                "appointment_id" => f.appointment_id = Some(id("appointment number")?),
                "action" => f.action = v.to_string(),
                _ => {}
            }
        }
        Ok(f)
    }
}

#[cfg(feature = "ssr")]
pub use download::{audit_csv, my_record_csv};
