//! The audit trail page: a clinic's entries, filtered and a page at a time.

use crate::domain::audit::FieldChange;
use serde::{Deserialize, Serialize};

/// The most entries one page (or one CSV download) holds.
pub const AUDIT_PAGE_SIZE: i64 = 50;
pub const AUDIT_CSV_MAX: i64 = 10_000;

/// What the admin filters by; every field may be left empty. Dates are
/// the clinic's (from its midnight to the end of `to`); `actor` and
/// `patient` match part of a name or email address; `before` is the
/// paging cursor (entries older than this id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub clinic_id: Option<i64>,
    #[serde(default)]
    pub from: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub to: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub patient: String,
    #[serde(default)]
    pub appointment_id: Option<i64>,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub before: Option<i64>,
}

impl AuditFilter {
    /// The query string of the CSV download for this filter (without the
    /// paging cursor: the download starts from the newest entry).
    pub fn csv_query(&self) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(c) = self.clinic_id {
            q.push(("clinic_id", c.to_string()));
        }
        if let Some(d) = self.from {
            q.push(("from", d.to_string()));
        }
        if let Some(d) = self.to {
            q.push(("to", d.to_string()));
        }
        for (k, v) in [
            ("actor", &self.actor),
            ("patient", &self.patient),
            ("action", &self.action),
        ] {
            if !v.trim().is_empty() {
                q.push((k, v.trim().to_string()));
            }
        }
        if let Some(a) = self.appointment_id {
            q.push(("appointment_id", a.to_string()));
        }
        q.iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encoding for a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One page of a clinic's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub clinic_id: i64,
    /// The clinics the caller administers.
    pub clinics: Vec<(i64, String)>,
    /// The actions this clinic's trail holds: (code, words).
    pub actions: Vec<(String, String)>,
    pub rows: Vec<AuditEntry>,
    /// The cursor of the next (older) page, when there is one.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// In the clinic's zone and date style.
    pub at: String,
    /// Name and email, or "System".
    pub actor: String,
    /// Whom the actor acted for, if anyone.
    pub on_behalf_of: Option<String>,
    pub action: String,
    pub action_label: String,
    pub entity: String,
    pub entity_id: i64,
    pub changes: Vec<FieldChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_link_carries_the_filter_encoded() {
        let f = AuditFilter {
            clinic_id: Some(2),
            from: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
            actor: "ann & co".into(),
            action: "appointment.cancel".into(),
            before: Some(99),
            ..AuditFilter::default()
        };
        assert_eq!(
            f.csv_query(),
            "clinic_id=2&from=2026-03-01&actor=ann%20%26%20co&action=appointment.cancel"
        );
        assert_eq!(AuditFilter::default().csv_query(), "");
    }
}
