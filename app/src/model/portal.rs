//! The patient's portal: their appointments and the answers they give.

use serde::{Deserialize, Serialize};

/// The meeting a request became, as the patient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyMeeting {
    pub appointment_id: i64,
    /// In the clinic's zone, zone named.
    pub when: String,
    pub provider: String,
    pub status: crate::domain::appointment::AppointmentStatus,
    pub video_url: String,
    pub meeting_id: String,
    pub passcode: String,
}

/// Which list of the portal's "My appointments" an appointment is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MyAppointmentTab {
    Upcoming,
    Tentative,
    Past,
    Cancelled,
}

impl MyAppointmentTab {
    pub const ALL: [Self; 4] = [Self::Upcoming, Self::Tentative, Self::Past, Self::Cancelled];
    pub fn label(self) -> &'static str {
        match self {
            Self::Upcoming => "Upcoming",
            Self::Tentative => "Tentative",
            Self::Past => "Past",
            Self::Cancelled => "Cancelled",
        }
    }
}

/// One of the patient's appointments in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAppointment {
    pub id: i64,
    /// Video, in person or phone: what the card shows follows it.
    pub modality: crate::domain::modality::Modality,
    pub tab: MyAppointmentTab,
    pub status: crate::domain::appointment::AppointmentStatus,
    pub clinic_name: String,
    pub clinic_phone: String,
    pub service: String,
    pub provider: String,
    /// In the clinic's zone, zone named.
    pub when_clinic: String,
    /// In the patient's own zone, when it differs from the clinic's.
    pub when_mine: Option<String>,
    pub video_url: String,
    pub meeting_id: String,
    pub passcode: String,
    /// Where, in words: the clinic's address (and room), the number to
    /// call, or "Video (online)".
    pub location: String,
    /// What cancelling or rescheduling online would mean now (None once it
    /// has started or is cancelled).
    pub cancel: Option<crate::domain::policy::Decision>,
    pub reschedule: Option<crate::domain::policy::Decision>,
    /// When the late-notice windows begin, in the clinic's zone.
    pub cancel_deadline: String,
    /// The cancellation's reason and message, for a cancelled appointment.
    pub cancellation: Option<String>,
    /// After a cancellation that invites rebooking: book again with the
    /// same provider.
    pub rebook_link: Option<String>,
    /// The patient's change request waiting for the clinic, in words.
    pub pending_change: Option<String>,
    /// The clinic's latest answer to a change request: outcome, reason and
    /// message.
    pub clinic_answer: Option<String>,
    /// A Tentative appointment: the time the clinic proposes replaces this
    /// original one, once the patient approves.
    pub proposed_instead_of: Option<String>,
    /// A Tentative appointment: answer by when, and what happens after
    /// (issue 15: proposals expire).
    pub answer_by: Option<String>,
}

/// The patient's answer to a time the clinic proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalAnswer {
    Approve,
    Cancel,
}
