//! Issue 15, part 3: how long patients have to answer a proposed time, and
//! what happens when they do not (Clinic settings).

use serde::{Deserialize, Serialize};

/// A clinic's proposal settings as its admins edit them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalSettings {
    pub clinic_id: i64,
    /// Hours a patient has to answer (`domain::proposal::EXPIRY_HOURS`).
    pub expiry_hours: i64,
    /// An `OnExpiry` code: "restore" or "cancel".
    pub on_expiry: String,
}
