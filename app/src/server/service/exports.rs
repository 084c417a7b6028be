//! Downloads of what a page lists: the Bookings list as CSV, for exactly
//! the filter on screen (the list's own query, `bookings::filter`), times
//! as each booking's clinic writes them in its zone.

use super::super::state::AppState;
use super::audit::CsvFile;
use super::bookings::{self, BookingQuery};
use crate::domain::audit::csv_row;
use crate::error::{AppError, AppResult};
use crate::model::{wire_name, BookingRow, Me};

/// The most bookings one download holds; a broader filter is refused
/// (with how many matched) rather than cut short without a word.
pub const MAX_BOOKINGS: i64 = 10_000;

const HEADER: [&str; 14] = [
    "Booking",
    "Clinic",
    "When",
    "Date",
    "Start",
    "Minutes",
    "Time zone",
    "Patient",
    "Practitioner",
    "Service",
    "Status",
    "Cancellation reason",
    "Where",
    "PMS sync",
];

/// The caller's Bookings list for `q` (every page) as CSV. Staff only, and
/// only the bookings the list would show them.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn bookings_csv(state: &AppState, me: &Me, q: BookingQuery) -> AppResult<CsvFile> {
    let filter = bookings::filter(state, me, &q).await?;
    let total = filter.count(state).await?;
    if total > MAX_BOOKINGS {
        return Err(AppError::validation(format!(
            "{total} bookings match; a download holds at most {MAX_BOOKINGS}. \
             Choose a shorter date range or a status."
        )));
    }
    let rows = filter.rows(state, MAX_BOOKINGS, 0).await?;
    let mut body = csv_row(&HEADER);
    for r in &rows {
        body.push_str(&csv_row(&cells(r)));
    }
    let today = chrono::DateTime::from_timestamp(state.now(), 0)
        .unwrap_or_default()
        .with_timezone(&first_zone(&rows))
        .format("%Y-%m-%d");
    Ok(CsvFile {
        filename: format!("bookings-{}-{today}.csv", wire_name(&q.status)),
        body,
    })
}

fn cells(r: &BookingRow) -> [String; 14] {
    [
        r.id.to_string(),
        r.clinic_name.clone(),
        r.when.clone(),
        r.start_date.clone(),
        r.time_label.clone(),
        r.minutes.to_string(),
        r.time_zone.clone(),
        r.patient.clone(),
        r.practitioner.clone(),
        r.service.clone(),
        r.status_label.clone(),
        r.cancel_reason.clone().unwrap_or_default(),
        r.place.clone(),
        r.pms_sync.clone(),
    ]
}

/// The zone the file's date is written in: its first booking's clinic's.
fn first_zone(rows: &[BookingRow]) -> chrono_tz::Tz {
    rows.first()
        .map(|r| super::super::zones::parse(&r.time_zone))
        .unwrap_or(chrono_tz::UTC)
}
