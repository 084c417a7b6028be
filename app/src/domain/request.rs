//! The one queue for everything that waits on someone (DESIGN §2 "Request").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A patient asks for a session (Now or Scheduled).
    NewSession,
    /// A patient asks to move an appointment.
    Reschedule,
    /// A patient asks to cancel an appointment.
    Cancel,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewSession => "new_session",
            Self::Reschedule => "reschedule",
            Self::Cancel => "cancel",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::NewSession, Self::Reschedule, Self::Cancel]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Accepted,
    Declined,
    Withdrawn,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Accepted,
            Self::Declined,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Accepted => "Accepted",
            Self::Declined => "Declined",
            Self::Withdrawn => "Withdrawn",
        }
    }
}

/// "Now" (on-demand) or "Scheduled" (with preferred times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestMode {
    Now,
    Scheduled,
}

impl RequestMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Now => "now",
            Self::Scheduled => "scheduled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "now" => Some(Self::Now),
            "scheduled" => Some(Self::Scheduled),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Now => "Now",
            Self::Scheduled => "Scheduled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in [
            RequestKind::NewSession,
            RequestKind::Reschedule,
            RequestKind::Cancel,
        ] {
            assert_eq!(RequestKind::parse(k.as_str()), Some(k));
        }
        for s in [
            RequestStatus::Pending,
            RequestStatus::Accepted,
            RequestStatus::Declined,
            RequestStatus::Withdrawn,
        ] {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RequestMode::parse("later"), None);
    }
}
