//! Live events: the small notices every committed change publishes so open
//! views can refetch what changed. They carry ids, never personal data, and
//! say who may see them.

use serde::{Deserialize, Serialize};

/// What changed. Views subscribe by topic.
pub mod topic {
    pub const REQUEST: &str = "request";
    pub const APPOINTMENT: &str = "appointment";
    pub const AVAILABILITY: &str = "availability";
    pub const ACCOUNT: &str = "account";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub topic: String,
    /// e.g. "created", "accepted", "cancelled".
    pub action: String,
    pub entity_id: i64,
    /// Staff of this clinic may see the event.
    pub clinic_id: Option<i64>,
    /// These users (a patient, an invited provider) may see it too.
    pub user_ids: Vec<i64>,
    /// Commit time in unix microseconds (for latency measurement).
    pub at_us: i64,
}

/// Who is looking: the user and the clinics where they are staff.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub user_id: i64,
    pub staff_clinics: Vec<i64>,
}

impl LiveEvent {
    pub fn visible_to(&self, v: &Viewer) -> bool {
        self.user_ids.contains(&v.user_id)
            || self.clinic_id.is_some_and(|c| v.staff_clinics.contains(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(clinic: Option<i64>, users: Vec<i64>) -> LiveEvent {
        LiveEvent {
            topic: topic::REQUEST.into(),
            action: "created".into(),
            entity_id: 1,
            clinic_id: clinic,
            user_ids: users,
            at_us: 0,
        }
    }

    #[test]
    fn staff_see_their_clinics_only() {
        let staff = Viewer {
            user_id: 10,
            staff_clinics: vec![1],
        };
        assert!(ev(Some(1), vec![]).visible_to(&staff));
        assert!(!ev(Some(2), vec![]).visible_to(&staff));
    }

    #[test]
    fn patients_see_only_events_naming_them() {
        let patient = Viewer {
            user_id: 7,
            staff_clinics: vec![],
        };
        assert!(ev(Some(1), vec![7]).visible_to(&patient));
        assert!(!ev(Some(1), vec![8]).visible_to(&patient));
        assert!(!ev(None, vec![]).visible_to(&patient));
    }
}

/// What the live stream sends, one JSON object per SSE message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveWire {
    /// Sent first on every (re)connection: refetch everything shown.
    Ready,
    /// Sent first instead of `Ready` when the client said when its page was
    /// rendered (`?since=`) and nothing it may see happened since: what the
    /// server rendered is current, so there is nothing to refetch.
    Connected,
    /// Events may have been missed: refetch everything shown.
    Resync,
    /// Something changed.
    Change(LiveEvent),
}
