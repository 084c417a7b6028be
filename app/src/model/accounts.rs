//! Who is signed in, and what a visitor sees before signing in.

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicOption {
    pub id: i64,
    pub slug: String,
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

/// Demo accounts listed on the login page when the server runs in demo mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoLogin {
    pub email: String,
    pub description: String,
}

/// The user's own profile (Account › Profile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub email: String,
    /// E.164 ("+12125550100"), or empty for no texts.
    pub mobile: String,
    /// IANA name ("America/New_York").
    pub time_zone: String,
    /// A new address waiting for its confirmation link to be opened.
    pub pending_email: Option<String>,
}
