//! The practice-management system (PMS) connector of a clinic: what it is
//! told, and the rules for its settings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PmsConnector {
    /// No PMS: a cancel is complete on submit.
    #[default]
    None,
    /// Creates, reschedules and cancellations all propagate.
    AutoCancel,
    /// Creates and reschedules propagate; a cancellation must be made in
    /// the PMS by hand ("Manual update required").
    ManualCancel,
}

/// What happened to an appointment, as the PMS hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PmsAction {
    Created,
    Rescheduled,
    Cancelled,
    NoShow,
    Confirmed,
}

impl PmsAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PmsAction::Created => "created",
            PmsAction::Rescheduled => "rescheduled",
            PmsAction::Cancelled => "cancelled",
            PmsAction::NoShow => "noshow",
            PmsAction::Confirmed => "confirmed",
        }
    }
}

impl PmsConnector {
    pub const ALL: [PmsConnector; 3] = [
        PmsConnector::None,
        PmsConnector::AutoCancel,
        PmsConnector::ManualCancel,
    ];

    /// The stored code (clinic.pms_connector).
    pub fn as_str(self) -> &'static str {
        match self {
            PmsConnector::None => "none",
            PmsConnector::AutoCancel => "auto_cancel",
            PmsConnector::ManualCancel => "manual_cancel",
        }
    }

    pub fn parse(s: &str) -> Option<PmsConnector> {
        PmsConnector::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PmsConnector::None => "No practice-management system",
            PmsConnector::AutoCancel => "Connected, with automatic cancellation",
            PmsConnector::ManualCancel => "Connected, cancellations updated by hand",
        }
    }

    /// Whether `action` is sent to the PMS.
    pub fn propagates(self, action: PmsAction) -> bool {
        match self {
            PmsConnector::None => false,
            PmsConnector::AutoCancel => true,
            PmsConnector::ManualCancel => action != PmsAction::Cancelled,
        }
    }

    /// Whether the cancel dialog must warn that the PMS needs a manual update.
    pub fn manual_cancel(self) -> bool {
        self == PmsConnector::ManualCancel
    }
}

/// Checks a clinic's PMS settings: a connector needs an http(s) endpoint
/// and a signing secret of at least 16 characters.
pub fn validate(connector: PmsConnector, url: &str, secret: &str) -> Result<(), String> {
    if connector == PmsConnector::None {
        return Ok(());
    }
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 10 {
        return Err("Enter the PMS endpoint as a full http:// or https:// address.".into());
    }
    if url.len() > 500 || url.chars().any(char::is_whitespace) {
        return Err("The PMS endpoint is not a valid address.".into());
    }
    let n = secret.chars().count();
    if !(16..=200).contains(&n) {
        return Err("The signing secret must be 16 to 200 characters.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_connector_propagates() {
        use PmsAction::*;
        for a in [Created, Rescheduled, Cancelled, NoShow, Confirmed] {
            assert!(!PmsConnector::None.propagates(a));
            assert!(PmsConnector::AutoCancel.propagates(a));
            assert_eq!(PmsConnector::ManualCancel.propagates(a), a != Cancelled);
        }
        assert!(PmsConnector::ManualCancel.manual_cancel());
        assert!(!PmsConnector::AutoCancel.manual_cancel());
        for c in PmsConnector::ALL {
            assert_eq!(PmsConnector::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn settings_need_an_endpoint_and_a_secret() {
        assert!(validate(PmsConnector::None, "", "").is_ok());
        let secret = "0123456789abcdef";
        assert!(validate(PmsConnector::AutoCancel, "https://pms.example/api", secret).is_ok());
        assert!(validate(PmsConnector::AutoCancel, "pms.example/api", secret).is_err());
        assert!(validate(PmsConnector::AutoCancel, "https://pms example", secret).is_err());
        assert!(validate(
            PmsConnector::ManualCancel,
            "https://pms.example/api",
            "short"
        )
        .is_err());
    }
}
