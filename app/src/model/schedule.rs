//! The Schedule grid and what the new-appointment dialog offers.

use super::{BookingRow, ServiceOption};
use serde::{Deserialize, Serialize};

/// Week (a column per day) or Day (a column per provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleMode {
    #[default]
    Week,
    Day,
}

/// One appointment placed on the Schedule grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleItem {
    pub booking: BookingRow,
    /// Minutes from the column's local midnight (clipped to the day).
    pub start_minute: i64,
    pub end_minute: i64,
    /// Side-by-side placement of overlapping items within the column.
    pub lane: u32,
    pub lanes: u32,
    /// The column provider's invitation, when they are invited rather than host.
    pub invitation: Option<String>,
    /// An invited provider is busy elsewhere at this time.
    pub overlap_warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleColumn {
    pub label: String,
    pub date: String,
    pub provider_id: Option<i64>,
    pub items: Vec<ScheduleItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChoice {
    pub id: i64,
    pub name: String,
    pub shown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub clinic_id: i64,
    pub clinic_name: String,
    pub time_zone: String,
    /// Every clinic where the viewer is staff (id, name).
    pub clinics: Vec<(i64, String)>,
    pub mode: ScheduleMode,
    /// The anchor date (YYYY-MM-DD) and the dates one step back and forward.
    pub date: String,
    pub prev: String,
    pub next: String,
    pub today: String,
    pub title: String,
    pub first_hour: u32,
    pub last_hour: u32,
    /// The grid's hour marks from `first_hour`, as the clinic writes them
    /// ("09:00", "9 AM").
    pub hour_labels: Vec<String>,
    pub columns: Vec<ScheduleColumn>,
    pub providers: Vec<ProviderChoice>,
    /// Admins and schedulers choose which providers to show.
    pub choose_providers: bool,
}

/// What the create form offers for one clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOptions {
    pub clinic_id: i64,
    pub time_zone: String,
    pub providers: Vec<(i64, String)>,
    pub patients: Vec<(i64, String)>,
    pub services: Vec<ServiceOption>,
    /// Set when the viewer may only book for themself.
    pub only_provider: Option<i64>,
    pub today: String,
}
