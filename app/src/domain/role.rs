//! Roles a user holds per clinic.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Scheduler,
    Provider,
    Patient,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Scheduler, Role::Provider, Role::Patient];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Scheduler => "scheduler",
            Role::Provider => "provider",
            Role::Patient => "patient",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Admins, schedulers and providers work the clinic's staff views.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Patient)
    }

    /// Admins and schedulers act on behalf of any provider of their clinic.
    pub fn acts_for_providers(self) -> bool {
        matches!(self, Role::Admin | Role::Scheduler)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Scheduler => "Scheduler",
            Role::Provider => "Provider",
            Role::Patient => "Patient",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_role() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("owner"), None);
        assert_eq!(Role::parse("Admin"), None, "role names are lower case");
    }

    #[test]
    fn staff_and_delegation() {
        assert!(Role::Provider.is_staff());
        assert!(!Role::Patient.is_staff());
        assert!(Role::Scheduler.acts_for_providers());
        assert!(!Role::Provider.acts_for_providers());
    }
}
