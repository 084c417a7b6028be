//! Patients' change requests as staff see them (the Appointment Requests queue).

use serde::{Deserialize, Serialize};

/// What a patient's cancel or reschedule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeOutcome {
    /// Done at once (outside the window, direct policy).
    Done,
    /// Sent to the practice's Appointment Requests; flagged when it falls
    /// inside the late-notice window.
    Requested {
        request_id: i64,
        within_window: bool,
    },
}

/// One pending patient change request in Appointment Requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequestRow {
    pub id: i64,
    pub kind: crate::domain::request::RequestKind,
    pub clinic_name: String,
    pub patient: String,
    pub service: String,
    pub provider: String,
    /// The appointment's time now, in the clinic's zone.
    pub original: String,
    /// The time the patient asks for (a reschedule).
    pub requested: Option<String>,
    /// Inside the late-notice window when the patient asked.
    pub within_window: bool,
    /// The late-cancellation fee approval would record ("$50.00").
    pub fee: Option<String>,
    pub note: String,
    pub created_at: i64,
    /// Prefill for Propose Changes / Update Appointment ("2026-03-05T10:00",
    /// local to the clinic).
    pub default_start: String,
    pub time_zone: String,
}

/// The Appointment Requests queue, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeQueue {
    pub rows: Vec<ChangeRequestRow>,
    /// Anchors the "Pending For" clocks to the server's time.
    pub server_now: i64,
}
