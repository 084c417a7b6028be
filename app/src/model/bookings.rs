//! The Bookings list.

use serde::{Deserialize, Serialize};

/// Which bookings the Bookings list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatusFilter {
    #[default]
    Upcoming,
    /// Consultations' "Active and Pending": in progress, upcoming, tentative.
    Active,
    Tentative,
    Past,
    Cancelled,
    NoShow,
    /// Every booking, whatever its state.
    All,
}

impl BookingStatusFilter {
    pub const ALL: [Self; 6] = [
        Self::Upcoming,
        Self::Tentative,
        Self::Past,
        Self::Cancelled,
        Self::NoShow,
        Self::All,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Self::Upcoming => "Upcoming",
            Self::Active => "Active and Pending",
            Self::Tentative => "Tentative",
            Self::Past => "Past",
            Self::Cancelled => "Cancelled",
            Self::NoShow => "FTA/DNA",
            Self::All => "All",
        }
    }
}

/// Where the Bookings list downloads as CSV (routed in the server crate).
pub const BOOKINGS_CSV_PATH: &str = "/export/bookings.csv";

/// The CSV download's address for the list's current filter:
/// `/export/bookings.csv?status=past&from=2026-03-01&search=ann`.
pub fn bookings_csv_href(
    status: BookingStatusFilter,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    search: &str,
) -> String {
    let mut q = vec![format!("status={}", super::wire_name(&status))];
    if let Some(d) = from {
        q.push(format!("from={d}"));
    }
    if let Some(d) = to {
        q.push(format!("to={d}"));
    }
    let search = search.trim();
    if !search.is_empty() {
        // Percent-encoded byte by byte: names may hold spaces, & or letters
        // beyond ASCII.
        let encoded: String = search
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        q.push(format!("search={encoded}"));
    }
    format!("{BOOKINGS_CSV_PATH}?{}", q.join("&"))
}

/// One row of the Bookings list, with what may be done to it and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRow {
    pub id: i64,
    pub clinic_name: String,
    pub time_zone: String,
    pub patient: String,
    pub practitioner: String,
    pub service: String,
    /// "Fri 6 Mar 2026, 11:00–11:30" in the clinic's zone.
    pub when: String,
    pub status_label: String,
    pub in_series: bool,
    /// None when Cancel is allowed; otherwise the reason it is not.
    pub cancel_blocked: Option<String>,
    pub noshow_blocked: Option<String>,
    pub cancel_reason: Option<String>,
    /// The viewer's own invitation to this meeting, if they are invited
    /// ("needs-action", "accepted" or "declined").
    pub my_invitation: Option<String>,
    pub host_id: i64,
    /// FHIR status code ("booked", "cancelled", ...), for colouring.
    pub status: String,
    pub reschedule_blocked: Option<String>,
    /// Invited providers and their answers, so the host sees declines.
    pub participants: Vec<Invitee>,
    /// How it takes place: a video "meeting" or an in-person or phone
    /// "booking" (the dialogs' words follow it).
    pub modality: crate::domain::modality::Modality,
    /// Where, in words: the address and room, the number to call, or
    /// "Video (online)".
    pub place: String,
    /// The clinic requires a reason from the list to cancel.
    pub cancel_reason_required: bool,
    /// The room or note staff typed (the reschedule form edits it).
    pub location: String,
    pub video_url: String,
    pub meeting_id: String,
    pub passcode: String,
    /// The start as a local date ("2026-03-06") and time ("11:00") in the
    /// clinic's zone, for the reschedule form.
    pub start_date: String,
    pub start_time: String,
    /// The start time as the clinic writes it ("11:00", "11:00 AM").
    pub time_label: String,
    pub minutes: i64,
    /// The appointment's PMS sync state: "none", "pending", "synced" or "failed".
    pub pms_sync: String,
    /// The clinic's PMS connector lacks automatic cancellation: the cancel
    /// dialog says "Manual update required".
    pub pms_manual_cancel: bool,
    /// The late-cancellation fee charged ("$50.00"), for a booking cancelled
    /// late with a fee.
    pub late_fee: Option<String>,
    /// The patient confirmed this time through a reminder's link.
    #[serde(default)]
    pub confirmed: bool,
    /// What became of its reminders ("Reminder sent Nov 29, 3:00 PM",
    /// "Reminder scheduled", ...); None without reminders.
    #[serde(default)]
    pub reminder: Option<String>,
    /// A Tentative appointment the clinic proposed: "Patient to answer by
    /// Wed, Dec 2, 3:00 PM" in the clinic's style; None otherwise.
    #[serde(default)]
    pub answer_by: Option<String>,
}

/// An invited provider and their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitee {
    pub provider_id: i64,
    pub name: String,
    /// "needs-action", "accepted" or "declined".
    pub status: String,
}

impl Invitee {
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "declined" => "declined",
            "accepted" => "accepted",
            _ => "invited",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BookingPage {
    pub rows: Vec<BookingRow>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_link_carries_the_filter() {
        let d = |s: &str| s.parse().ok();
        assert_eq!(
            bookings_csv_href(BookingStatusFilter::Upcoming, None, None, " "),
            "/export/bookings.csv?status=upcoming"
        );
        assert_eq!(
            bookings_csv_href(
                BookingStatusFilter::NoShow,
                d("2026-03-01"),
                d("2026-03-31"),
                "Zoë & Al"
            ),
            "/export/bookings.csv?status=noshow&from=2026-03-01&to=2026-03-31&search=Zo%C3%AB%20%26%20Al"
        );
    }
}
