//! A provider's hours and time off.

use serde::{Deserialize, Serialize};

/// One provider's availability as the Availability page edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityView {
    pub clinic_id: i64,
    pub clinic_name: String,
    pub time_zone: String,
    /// How the clinic writes times (a `DateStyle` code).
    pub date_style: String,
    /// Clinics where the viewer may edit someone's availability.
    pub clinics: Vec<(i64, String)>,
    pub provider_id: i64,
    pub provider_name: String,
    /// Providers the viewer may edit (just themself for a provider).
    pub providers: Vec<(i64, String)>,
    pub windows: Vec<WindowRow>,
    pub time_off: Vec<TimeOffRow>,
    pub available_now: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRow {
    pub id: i64,
    pub weekday: u8,
    pub start_minute: u32,
    pub end_minute: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOffRow {
    pub id: i64,
    /// "Mon 23 Nov 2026, 09:00 – Tue 24 Nov 2026, 17:00" in the clinic's zone.
    pub label: String,
    pub reason: String,
}

/// What the Availability page removes: a weekly slot or a time-off entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityEntry {
    Slot,
    TimeOff,
}
