//! Plain data that server functions send to the browser.

use crate::domain::request::{RequestMode, RequestStatus};
use crate::domain::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub clinic_id: i64,
    pub clinic_name: String,
    pub role: Role,
}

/// The logged-in user as the views need them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub memberships: Vec<Membership>,
}

impl Me {
    pub fn is_staff(&self) -> bool {
        self.memberships.iter().any(|m| m.role.is_staff())
    }
    pub fn staff_clinics(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .memberships
            .iter()
            .filter(|m| m.role.is_staff())
            .map(|m| m.clinic_id)
            .collect();
        v.dedup();
        v
    }
    /// A short description of the user's roles for the user menu.
    pub fn roles_label(&self) -> String {
        let mut roles: Vec<Role> = self.memberships.iter().map(|m| m.role).collect();
        roles.sort();
        roles.dedup();
        roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Pending work shown as badges in the staff navigation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCounts {
    /// New session requests waiting for dispatch.
    pub dispatch: i64,
    /// Reschedule and cancellation requests waiting for the practice.
    pub changes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicOption {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    pub services: Vec<ServiceOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOption {
    pub id: i64,
    pub name: String,
    pub duration_minutes: i64,
}

/// A request as its requester sees it in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequest {
    pub id: i64,
    pub clinic_name: String,
    pub service_name: String,
    pub mode: RequestMode,
    pub status: RequestStatus,
    pub note: String,
    pub response: Option<String>,
    pub created_at: i64,
}

/// A pending request as dispatch sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchRow {
    pub id: i64,
    pub clinic_name: String,
    pub requestor: String,
    pub mode: RequestMode,
    pub service_name: String,
    pub request_to: String,
    pub note: String,
    pub created_at: i64,
}

/// Demo accounts listed on the login page when the server runs in demo mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoLogin {
    pub email: String,
    pub description: String,
}

/// Which bookings the Bookings list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum BookingStatusFilter {
    #[default]
    Upcoming,
    /// Consultations' "Active and Pending": in progress, upcoming, tentative.
    Active,
    Tentative,
    Past,
    Cancelled,
    NoShow,
}

impl BookingStatusFilter {
    pub const ALL: [Self; 5] = [
        Self::Upcoming,
        Self::Tentative,
        Self::Past,
        Self::Cancelled,
        Self::NoShow,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::Active => "active",
            Self::Tentative => "tentative",
            Self::Past => "past",
            Self::Cancelled => "cancelled",
            Self::NoShow => "noshow",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Active])
            .find(|f| f.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Upcoming => "Upcoming",
            Self::Active => "Active and Pending",
            Self::Tentative => "Tentative",
            Self::Past => "Past",
            Self::Cancelled => "Cancelled",
            Self::NoShow => "FTA/DNA",
        }
    }
}

/// One row of the Bookings list, with what may be done to it and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRow {
    pub id: i64,
    pub clinic_name: String,
    pub time_zone: String,
    pub patient: String,
    pub practitioner: String,
    pub service: String,
    /// "Fri 6 Mar 2026, 11:00–11:30" in the clinic's zone.
    pub when: String,
    pub status_label: String,
    pub in_series: bool,
    /// None when Cancel is allowed; otherwise the reason it is not.
    pub cancel_blocked: Option<String>,
    pub noshow_blocked: Option<String>,
    pub cancel_reason: Option<String>,
    /// The viewer's own invitation to this meeting, if they are invited
    /// ("needs-action", "accepted" or "declined").
    pub my_invitation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BookingPage {
    pub rows: Vec<BookingRow>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}
