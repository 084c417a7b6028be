//! The Clinic page: services, groups, the request form, policy and PMS.

use serde::{Deserialize, Serialize};

/// A clinic's settings as its admins edit them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicSettings {
    pub clinic_id: i64,
    pub name: String,
    pub slug: String,
    pub time_zone: String,
    /// Clinics where the viewer is admin.
    pub clinics: Vec<(i64, String)>,
    pub patient_group_name: String,
    pub host_group_name: String,
    pub services: Vec<ServiceRow>,
    pub questions: Vec<crate::domain::form::Question>,
    pub policy: crate::domain::policy::Policy,
    pub pms_connector: crate::domain::pms::PmsConnector,
    pub pms_url: String,
    /// Whether a signing secret is set (the secret itself is never sent back).
    pub pms_secret_set: bool,
    /// Where in-person appointments take place.
    pub address: String,
    /// The number patients call for phone appointments (blank: the clinic
    /// calls them).
    pub call_phone: String,
    /// Whether staff must choose a reason from the list to cancel.
    pub cancel_reason_required: bool,
    /// How the clinic writes dates and times: a `DateStyle` code
    /// ("24h", "en-US", "en-AU").
    pub date_style: String,
    /// The reminders patients get before each appointment (issue 15).
    pub reminders: crate::domain::reminder::ReminderSettings,
    /// How long patients have to answer a proposed time (issue 15).
    pub proposals: super::ProposalSettings,
    /// How the waitlist offers a freed time, and for how long (issue 15).
    pub waitlist_mode: crate::domain::waitlist::OfferMode,
    pub waitlist_claim_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub duration_minutes: i64,
    pub payment_required: bool,
    pub price_cents: i64,
    pub active: bool,
    pub modality: crate::domain::modality::Modality,
}

/// A change to the pre-request form's question list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionEdit {
    Remove,
    Up,
}
