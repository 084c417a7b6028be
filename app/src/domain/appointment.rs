//! Appointment statuses: HL7 FHIR R4 `AppointmentStatus` codes, so stored
//! data maps onto FHIR without translation tables.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppointmentStatus {
    Proposed,
    /// Shown as "Tentative".
    Pending,
    Booked,
    Fulfilled,
    Cancelled,
    Noshow,
}

impl AppointmentStatus {
    pub const ALL: [Self; 6] = [
        Self::Proposed,
        Self::Pending,
        Self::Booked,
        Self::Fulfilled,
        Self::Cancelled,
        Self::Noshow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Pending => "pending",
            Self::Booked => "booked",
            Self::Fulfilled => "fulfilled",
            Self::Cancelled => "cancelled",
            Self::Noshow => "noshow",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The word the product uses for the status.
    pub fn label(self) -> &'static str {
        match self {
            Self::Proposed | Self::Pending => "Tentative",
            Self::Booked => "Booked",
            Self::Fulfilled => "Fulfilled",
            Self::Cancelled => "Cancelled",
            Self::Noshow => "FTA/DNA",
        }
    }
}

/// Invitation status of an invited provider (FHIR `ParticipationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantStatus {
    #[serde(rename = "needs-action")]
    NeedsAction,
    #[serde(rename = "accepted")]
    Accepted,
    #[serde(rename = "declined")]
    Declined,
}

impl ParticipantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NeedsAction => "needs-action",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_codes_round_trip() {
        for s in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ParticipantStatus::NeedsAction.as_str(), "needs-action");
    }
}
