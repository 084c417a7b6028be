//! Downloads (plain GET routes, so the browser saves the file): the
//! Bookings list as CSV. Calls `service::exports`.

#[cfg(feature = "ssr")]
pub use download::bookings_csv;
// The audit trail's downloads answer the same way.
#[cfg(feature = "ssr")]
pub(super) use download::{csv_response, refused};

#[cfg(feature = "ssr")]
mod download {
    use super::super::in_range;
    use crate::error::AppError;
    use crate::model::{from_wire, BookingStatusFilter};
    use crate::server::auth::Session;
    use crate::server::service::bookings::BookingQuery;
    use crate::server::service::{audit::CsvFile, exports};
    use crate::server::state::AppState;
    use axum::extract::{Query, State};
    use axum::http::{header, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::Extension;

    /// `GET /export/bookings.csv?status=&from=&to=&search=`: what the
    /// Bookings list shows for that filter, every page of it.
    pub async fn bookings_csv(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
        Query(q): Query<Vec<(String, String)>>,
    ) -> Response {
        let Some(Extension(s)) = session else {
            return refused(AppError::login_required());
        };
        let q = match query(&q) {
            Ok(q) => q,
            Err(e) => return refused(e),
        };
        match exports::bookings_csv(&state, &s.me, q).await {
            Ok(file) => csv_response(file),
            Err(e) => refused(e),
        }
    }

    /// The list's filter from the query string; a value that cannot be
    /// read is a 400 naming it (nothing is guessed).
    fn query(q: &[(String, String)]) -> Result<BookingQuery, AppError> {
        let mut out = BookingQuery::default();
        for (k, v) in q {
            let v = v.trim();
            let date = || {
                chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| AppError::validation("Enter dates as YYYY-MM-DD."))
                    .and_then(in_range)
            };
            match k.as_str() {
                "status" if !v.is_empty() => {
                    out.status = from_wire::<BookingStatusFilter>(v)
                        .ok_or_else(|| AppError::validation("Choose a status from the list."))?
                }
                "from" if !v.is_empty() => out.from = Some(date()?),
                "to" if !v.is_empty() => out.to = Some(date()?),
                "search" => out.search = v.to_string(),
                _ => {}
            }
        }
        Ok(out)
    }

    /// A CSV file the browser saves, never cached.
    pub(in crate::api) fn csv_response(file: CsvFile) -> Response {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", file.filename),
                ),
                (header::CACHE_CONTROL, "private, no-store".to_string()),
            ],
            file.body,
        )
            .into_response()
    }

    /// A refused download: the error's status and its words.
    pub(in crate::api) fn refused(e: AppError) -> Response {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, e.message().to_string()).into_response()
    }
}
