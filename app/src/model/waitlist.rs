//! The waitlist as the browser sees it (issue 15, point 2): a patient's
//! entries and open offers, and a clinic's waitlist for its staff.

use crate::domain::waitlist::OfferMode;
use serde::{Deserialize, Serialize};

/// The live-event topic of waitlist changes (entries and offers).
pub const WAITLIST_TOPIC: &str = "waitlist";

/// One waiting patient's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntryView {
    pub id: i64,
    pub clinic_name: String,
    /// The patient (for staff).
    pub patient: String,
    pub service: String,
    /// "Any provider" or a provider's name.
    pub provider: String,
    /// "Mar 10, 2026 – Mar 20, 2026" in the clinic's style.
    pub dates: String,
    /// "Mornings, Evenings".
    pub times_of_day: String,
    /// When they joined, in the clinic's style.
    pub joined: String,
    /// For staff: the service and provider asked for, to offer a time.
    pub service_id: i64,
    pub provider_id: Option<i64>,
    /// Once its last date has passed: "No time came up by Fri, Mar 13,
    /// 2026." (no time can be offered any more).
    pub ended: Option<String>,
}

/// One offer of a freed time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistOfferView {
    pub id: i64,
    pub clinic_name: String,
    pub patient: String,
    pub service: String,
    pub provider: String,
    /// The time offered, in the clinic's style and zone.
    pub when: String,
    /// "3:30 PM" (today) or the date and time the claim window ends.
    pub claim_by: String,
    /// open, claimed, expired, taken, withdrawn.
    pub status: String,
}

/// The caller's waitlist: what they wait for and what they are offered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyWaitlist {
    pub entries: Vec<WaitlistEntryView>,
    /// Open offers only.
    pub offers: Vec<WaitlistOfferView>,
}

/// What a patient asks for when joining a clinic's waitlist (the portal
/// sends it; `service::waitlist::join` checks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistJoin {
    pub clinic_id: i64,
    pub service_id: i64,
    /// None: any provider.
    pub provider_id: Option<i64>,
    /// 'YYYY-MM-DD', the clinic's local dates.
    pub date_from: String,
    pub date_to: String,
    pub parts: crate::domain::waitlist::DayParts,
}

/// What a patient may wait for at a clinic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistChoices {
    pub clinic_id: i64,
    pub services: Vec<(i64, String)>,
    pub providers: Vec<(i64, String)>,
    /// Today in the clinic's zone and the last date it takes bookings for
    /// ('YYYY-MM-DD'), the bounds of the date inputs.
    pub today: String,
    pub last_day: String,
}

/// A clinic's waitlist for its staff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistBoard {
    pub clinic_id: i64,
    /// The clinics the caller may see (id, name).
    pub clinics: Vec<(i64, String)>,
    pub mode: OfferMode,
    pub claim_minutes: i64,
    /// Admins change the mode and the window.
    pub can_edit_settings: bool,
    /// Waiting patients in order of joining.
    pub entries: Vec<WaitlistEntryView>,
    /// Entries that ran out of dates in the last week, latest first.
    pub ended: Vec<WaitlistEntryView>,
    /// Offers of the last week, newest first.
    pub offers: Vec<WaitlistOfferView>,
}

/// A free time staff may offer to an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferChoice {
    pub provider_id: i64,
    pub start: i64,
    /// "Tue, Mar 10, 2026, 9:00 AM with Dr Lee".
    pub label: String,
}
