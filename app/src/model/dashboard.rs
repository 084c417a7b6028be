//! A provider's Dashboard: the requests addressed to them, their meetings,
//! their invitations and their personal booking links.

use super::{DispatchRow, Membership, TimeChoice};
use crate::domain::appointment::ParticipantStatus;
use crate::domain::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// The server's clock, for the "Pending For" counters.
    pub now: i64,
    /// Pending requests addressed to them or to their host group.
    pub requests: Vec<DashboardRequest>,
    /// Meetings they host or accepted, today (in the clinic's zone) and later.
    pub today: Vec<DashboardMeeting>,
    pub upcoming: Vec<DashboardMeeting>,
    /// Invitations to other hosts' meetings still to come.
    pub invitations: Vec<Invitation>,
    /// One per clinic where they are a provider.
    pub links: Vec<BookingLink>,
}

/// A request as the Dispatch board shows it, with its requested times to
/// accept one of (none for a Now request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardRequest {
    pub row: DispatchRow,
    pub choices: Vec<TimeChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardMeeting {
    pub id: i64,
    pub clinic_name: String,
    /// "Mon 30 Nov 2026, 15:00–15:30" in the clinic's zone.
    pub when: String,
    pub service: String,
    pub patient: String,
    /// Another provider hosts it; they accepted an invitation.
    pub invited_by: Option<String>,
    /// "Booked", "Tentative", …
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub appointment_id: i64,
    pub clinic_name: String,
    pub when: String,
    pub service: String,
    pub patient: String,
    pub host: String,
    pub status: ParticipantStatus,
    /// For a recurring meeting: how many of the series' meetings still to
    /// come they are invited to (this one included).
    pub series_left: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingLink {
    pub clinic_name: String,
    /// The absolute address to share.
    pub url: String,
    /// The same on this site (`/book/<clinic>?provider=<id>`).
    pub path: String,
}

/// An answer to an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationAnswer {
    Accept,
    Decline,
}

/// Which meetings an answer covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationScope {
    /// This meeting only.
    This,
    /// Every meeting of its series still to come.
    Series,
}

/// What an invitation's status is called on the Dashboard.
pub fn invitation_label(s: ParticipantStatus) -> &'static str {
    match s {
        ParticipantStatus::NeedsAction => "Awaiting your answer",
        ParticipantStatus::Accepted => "Accepted",
        ParticipantStatus::Declined => "Declined",
    }
}

/// A provider's personal booking link (path): the clinic's booking page
/// with them chosen.
pub fn personal_booking_path(clinic_slug: &str, provider_id: i64) -> String {
    format!("/book/{clinic_slug}?provider={provider_id}")
}

/// Where a user lands after logging in and at `/`: those who schedule for
/// others (admins, schedulers) on the Schedule, providers on their
/// Dashboard, patients in the portal.
pub fn home_path(memberships: &[Membership]) -> &'static str {
    let has = |f: fn(Role) -> bool| memberships.iter().any(|m| f(m.role));
    if has(Role::acts_for_providers) {
        "/schedule"
    } else if has(|r| r == Role::Provider) {
        "/dashboard"
    } else {
        "/portal"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role) -> Membership {
        Membership {
            clinic_id: 1,
            clinic_name: "C".into(),
            role,
        }
    }

    #[test]
    fn each_role_lands_on_its_home() {
        assert_eq!(home_path(&[member(Role::Provider)]), "/dashboard");
        assert_eq!(home_path(&[member(Role::Scheduler)]), "/schedule");
        assert_eq!(
            home_path(&[member(Role::Provider), member(Role::Admin)]),
            "/schedule"
        );
        assert_eq!(home_path(&[member(Role::Patient)]), "/portal");
        assert_eq!(home_path(&[]), "/portal");
    }

    #[test]
    fn personal_link_names_the_provider() {
        assert_eq!(
            personal_booking_path("northside", 7),
            "/book/northside?provider=7"
        );
    }
}
