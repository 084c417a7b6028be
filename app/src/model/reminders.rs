//! Reminders (issue 15, point 1): a clinic's settings as the Reminders
//! section edits them (see service/reminders.rs).

use serde::{Deserialize, Serialize};

pub use crate::domain::reminder::ReminderSettings;

/// A clinic's reminder settings, for the Clinic settings page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderSettingsView {
    pub clinic_id: i64,
    pub settings: ReminderSettings,
}
