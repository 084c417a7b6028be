//! Session requests: the booking page, a patient's requests, the Dispatch board and the Assign dialog.

use super::MyMeeting;
use crate::domain::request::{RequestMode, RequestStatus};
use serde::{Deserialize, Serialize};

/// Pending work shown as badges in the staff navigation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCounts {
    /// New session requests waiting for dispatch.
    pub dispatch: i64,
    /// Reschedule and cancellation requests waiting for the practice.
    pub changes: i64,
}

/// A request as its requester sees it in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequest {
    pub id: i64,
    pub clinic_name: String,
    pub clinic_slug: String,
    pub service_name: String,
    pub mode: RequestMode,
    pub status: RequestStatus,
    /// The preferred times, in the clinic's zone ("Mon 23 Nov, 09:00").
    pub times: Vec<String>,
    /// Who it was addressed to: a provider's name or the host group.
    pub request_to: String,
    pub note: String,
    pub response: Option<String>,
    pub responder: Option<String>,
    pub created_at: i64,
    /// The meeting, once accepted.
    pub meeting: Option<MyMeeting>,
}

/// The Dispatch board: pending requests with the server's clock, so the
/// browser's "Pending For" counter does not depend on the browser's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchBoard {
    pub now: i64,
    /// Clinics the viewer dispatches for (id, name), for the filter.
    pub clinics: Vec<(i64, String)>,
    pub rows: Vec<DispatchRow>,
}

/// A pending request as dispatch sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchRow {
    pub id: i64,
    pub clinic_id: i64,
    pub clinic_name: String,
    pub requestor: String,
    pub mode: RequestMode,
    pub patient_group: String,
    pub host_group: String,
    pub request_to: String,
    pub service_name: String,
    /// The requested times in the clinic's zone.
    pub times: Vec<String>,
    pub note: String,
    pub answers: Vec<crate::domain::form::Answer>,
    pub created_at: i64,
    /// When it was made, in the clinic's zone ("Mon 30 Nov 2026, 15:04"):
    /// what a Now request asks for.
    pub asked: String,
}

/// What the Assign dialog shows for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignOptions {
    pub request_id: i64,
    pub mode: RequestMode,
    pub requestor: String,
    pub service_name: String,
    pub duration_minutes: i64,
    pub time_zone: String,
    pub request_to: String,
    /// The requested times (none for a Now request).
    pub times: Vec<TimeChoice>,
    pub providers: Vec<AssignProvider>,
    pub note: String,
    pub answers: Vec<crate::domain::form::Answer>,
    /// When it was made, in the clinic's zone: what a Now request asks for.
    pub asked: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeChoice {
    pub start: i64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignProvider {
    pub id: i64,
    pub name: String,
    pub available: bool,
    /// Why: "Available now", "Free at Mon 23 Nov, 09:00", "Not in their slots", …
    pub availability: String,
    /// Possible Conflicting Sessions: their sessions within 2 hours of a
    /// requested time (or of now, for a Now request).
    pub conflicts: Vec<String>,
    /// The request was addressed to this provider.
    pub addressed: bool,
}

/// A clinic's public booking page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingPageInfo {
    pub clinic_id: i64,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub phone: String,
    pub host_group: String,
    pub services: Vec<PublicService>,
    pub providers: Vec<PublicProvider>,
    pub questions: Vec<crate::domain::form::Question>,
    /// Someone can take a Now request at this moment.
    pub available_now: bool,
    pub logged_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicService {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub duration_minutes: i64,
    pub payment_required: bool,
    pub price_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicProvider {
    pub id: i64,
    pub name: String,
    pub available_now: bool,
}

/// Free slots by local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotDay {
    /// "Mon 23 Nov".
    pub label: String,
    pub slots: Vec<TimeChoice>,
}
