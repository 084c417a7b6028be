//! Staff changes to an appointment: the create form, the cancel and move scopes, the outcome.

use serde::{Deserialize, Serialize};

/// The result of a create or reschedule: how many meetings, and warnings
/// about invited providers who are busy at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WriteOutcome {
    pub count: usize,
    pub warnings: Vec<String>,
}

/// The New appointment form as submitted. Date and times are local to the
/// clinic; no `end` takes the service's length; `repeat` makes it a weekly
/// series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentForm {
    pub clinic_id: i64,
    pub provider_id: i64,
    pub patient_id: i64,
    pub service_id: i64,
    pub date: chrono::NaiveDate,
    pub start: chrono::NaiveTime,
    #[serde(default)]
    pub end: Option<chrono::NaiveTime>,
    pub location: String,
    /// Invited providers.
    #[serde(default)]
    pub invited: Vec<i64>,
    #[serde(default)]
    pub repeat: Option<crate::domain::recurrence::Weekly>,
}

/// Which meetings a staff cancel ends: this one, or the rest of its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CancelScope {
    This,
    Series,
}

/// Which meetings a staff reschedule moves: this one, or this and every
/// later one of its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RescheduleScope {
    This,
    Future,
}
