//! The practice-management system (PMS) connector of a clinic: what it is
//! told, and the rules for its settings.

use super::appointment::AppointmentStatus;
use super::booking::{CancelReason, FHIR_CANCEL_REASON_SYSTEM};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PmsConnector {
    /// No PMS: a cancel is complete on submit.
    #[default]
    None,
    /// Creates, reschedules and cancellations all propagate.
    AutoCancel,
    /// Creates and reschedules propagate; a cancellation must be made in
    /// the PMS by hand ("Manual update required").
    ManualCancel,
}

/// What happened to an appointment, as the PMS hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PmsAction {
    Created,
    Rescheduled,
    Cancelled,
    NoShow,
    Confirmed,
}

impl PmsAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PmsAction::Created => "created",
            PmsAction::Rescheduled => "rescheduled",
            PmsAction::Cancelled => "cancelled",
            PmsAction::NoShow => "noshow",
            PmsAction::Confirmed => "confirmed",
        }
    }
}

impl PmsConnector {
    pub const ALL: [PmsConnector; 3] = [
        PmsConnector::None,
        PmsConnector::AutoCancel,
        PmsConnector::ManualCancel,
    ];

    /// The stored code (clinic.pms_connector).
    pub fn as_str(self) -> &'static str {
        match self {
            PmsConnector::None => "none",
            PmsConnector::AutoCancel => "auto_cancel",
            PmsConnector::ManualCancel => "manual_cancel",
        }
    }

    pub fn parse(s: &str) -> Option<PmsConnector> {
        PmsConnector::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PmsConnector::None => "No practice-management system",
            PmsConnector::AutoCancel => "Connected, with automatic cancellation",
            PmsConnector::ManualCancel => "Connected, cancellations updated by hand",
        }
    }

    /// Whether `action` is sent to the PMS.
    pub fn propagates(self, action: PmsAction) -> bool {
        match self {
            PmsConnector::None => false,
            PmsConnector::AutoCancel => true,
            PmsConnector::ManualCancel => action != PmsAction::Cancelled,
        }
    }

    /// Whether the cancel dialog must warn that the PMS needs a manual update.
    pub fn manual_cancel(self) -> bool {
        self == PmsConnector::ManualCancel
    }
}

/// Identifier systems of what a PMS is told about: our ids, stable across
/// deployments (a URL of one would change with the host name).
pub const APPOINTMENT_ID_SYSTEM: &str = "urn:slotwise:appointment";
pub const PATIENT_ID_SYSTEM: &str = "urn:slotwise:patient";
pub const PRACTITIONER_ID_SYSTEM: &str = "urn:slotwise:practitioner";
/// Extensions for what FHIR's Appointment has no element for.
pub const NOSHOW_KIND_EXTENSION: &str = "urn:slotwise:fhir:extension:noshow-kind";
pub const SERIES_EXTENSION: &str = "urn:slotwise:fhir:extension:series";

/// An appointment as its clinic's PMS is told about it.
#[derive(Debug, Clone)]
pub struct PmsAppointment {
    pub id: i64,
    pub version: i64,
    pub status: AppointmentStatus,
    pub starts_at: i64,
    pub ends_at: i64,
    pub service_name: String,
    pub location: String,
    /// Our stored cancellation reason code (`CancelReason::code`).
    pub cancel_reason_code: Option<String>,
    /// "fta" or "dna" for a no-show.
    pub noshow_kind: Option<String>,
    pub series_id: Option<i64>,
    pub host_provider_id: i64,
    pub host_name: String,
    pub patient_id: i64,
    pub patient_name: String,
}

/// A FHIR instant: to the second, with its offset (UTC).
fn instant(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_default()
}

/// The FHIR R4 (4.0.1) `Appointment` resource a PMS is sent, checked in
/// the tests by an independent validator (server/scripts/fhir_validate.py).
/// `now` is when it was written (`meta.lastUpdated`).
pub fn fhir_appointment(a: &PmsAppointment, now: i64) -> Value {
    let patient_status = match a.status {
        AppointmentStatus::Proposed => "needs-action",
        AppointmentStatus::Pending => "tentative",
        _ => "accepted",
    };
    let mut participant = vec![
        json!({
            "actor": {
                "reference": format!("Practitioner/{}", a.host_provider_id),
                "type": "Practitioner",
                "identifier": { "system": PRACTITIONER_ID_SYSTEM, "value": a.host_provider_id.to_string() },
                "display": a.host_name,
            },
            "required": "required",
            "status": "accepted",
        }),
        json!({
            "actor": {
                "reference": format!("Patient/{}", a.patient_id),
                "type": "Patient",
                "identifier": { "system": PATIENT_ID_SYSTEM, "value": a.patient_id.to_string() },
                "display": a.patient_name,
            },
            "required": "required",
            "status": patient_status,
        }),
    ];
    if !a.location.trim().is_empty() {
        // A room or note in words: a Location known by its name only.
        participant.push(json!({
            "actor": { "type": "Location", "display": a.location.trim() },
            "status": "accepted",
        }));
    }
    let mut r = json!({
        "resourceType": "Appointment",
        "id": a.id.to_string(),
        "meta": { "versionId": a.version.to_string(), "lastUpdated": instant(now) },
        "identifier": [{ "system": APPOINTMENT_ID_SYSTEM, "value": a.id.to_string() }],
        "status": a.status.as_str(),
        "serviceType": [{ "text": a.service_name }],
        "description": a.service_name,
        "start": instant(a.starts_at),
        "end": instant(a.ends_at),
        "minutesDuration": ((a.ends_at - a.starts_at) / 60).max(1),
        "participant": participant,
    });
    // R4's app-4: a cancellation reason only on a cancelled appointment.
    let reason = a
        .cancel_reason_code
        .as_deref()
        .and_then(CancelReason::from_code);
    if let (AppointmentStatus::Cancelled, Some(reason)) = (a.status, reason) {
        r["cancelationReason"] = json!({
            "coding": [{
                "system": FHIR_CANCEL_REASON_SYSTEM,
                "code": reason.fhir_code(),
                "display": reason.fhir_display(),
            }],
            "text": reason.label(),
        });
    }
    let mut extension = Vec::new();
    if let Some(kind) = a.noshow_kind.as_deref().filter(|k| !k.is_empty()) {
        extension.push(json!({ "url": NOSHOW_KIND_EXTENSION, "valueCode": kind }));
    }
    if let Some(series) = a.series_id {
        extension.push(json!({ "url": SERIES_EXTENSION, "valueString": series.to_string() }));
    }
    if !extension.is_empty() {
        r["extension"] = Value::Array(extension);
    }
    r
}

/// Checks a clinic's PMS settings: a connector needs an http(s) endpoint
/// and a signing secret of at least 16 characters.
pub fn validate(connector: PmsConnector, url: &str, secret: &str) -> Result<(), String> {
    if connector == PmsConnector::None {
        return Ok(());
    }
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 10 {
        return Err("Enter the PMS endpoint as a full http:// or https:// address.".into());
    }
    if url.len() > 500 || url.chars().any(char::is_whitespace) {
        return Err("The PMS endpoint is not a valid address.".into());
    }
    let n = secret.chars().count();
    if !(16..=200).contains(&n) {
        return Err("The signing secret must be 16 to 200 characters.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_connector_propagates() {
        use PmsAction::*;
        for a in [Created, Rescheduled, Cancelled, NoShow, Confirmed] {
            assert!(!PmsConnector::None.propagates(a));
            assert!(PmsConnector::AutoCancel.propagates(a));
            assert_eq!(PmsConnector::ManualCancel.propagates(a), a != Cancelled);
        }
        assert!(PmsConnector::ManualCancel.manual_cancel());
        assert!(!PmsConnector::AutoCancel.manual_cancel());
        for c in PmsConnector::ALL {
            assert_eq!(PmsConnector::parse(c.as_str()), Some(c));
        }
    }

    fn appointment() -> PmsAppointment {
        PmsAppointment {
            id: 7,
            version: 3,
            status: AppointmentStatus::Cancelled,
            starts_at: 1_772_000_000,
            ends_at: 1_772_001_800,
            service_name: "Initial consultation".into(),
            location: "Room 2".into(),
            cancel_reason_code: Some("unwell".into()),
            noshow_kind: None,
            series_id: Some(4),
            host_provider_id: 3,
            host_name: "Dr Lee".into(),
            patient_id: 9,
            patient_name: "Ann Avery".into(),
        }
    }

    #[test]
    fn the_resource_names_hl7_codes_and_references_with_identifiers() {
        let r = fhir_appointment(&appointment(), 1_771_000_000);
        assert_eq!(r["resourceType"], "Appointment");
        assert_eq!(r["meta"]["versionId"], "3");
        assert_eq!(r["start"], "2026-02-25T06:13:20+00:00");
        assert_eq!(r["minutesDuration"], 30);
        let coding = &r["cancelationReason"]["coding"][0];
        assert_eq!(coding["system"], FHIR_CANCEL_REASON_SYSTEM);
        assert_eq!(coding["code"], "pat", "unwell is HL7's Patient, not pat-fb");
        assert_eq!(r["cancelationReason"]["text"], "Patient unwell");
        let patient = &r["participant"][1]["actor"];
        assert_eq!(patient["reference"], "Patient/9");
        assert_eq!(patient["identifier"]["system"], PATIENT_ID_SYSTEM);
        assert_eq!(patient["identifier"]["value"], "9");
        assert_eq!(r["participant"][0]["actor"]["reference"], "Practitioner/3");
        assert_eq!(r["extension"][0]["valueString"], "4");
        // Not cancelled: no reason, whatever is stored.
        let mut booked = appointment();
        booked.status = AppointmentStatus::Booked;
        assert!(fhir_appointment(&booked, 0)
            .get("cancelationReason")
            .is_none());
        booked.status = AppointmentStatus::Proposed;
        let r = fhir_appointment(&booked, 0);
        assert_eq!(r["participant"][1]["status"], "needs-action");
    }

    #[test]
    fn settings_need_an_endpoint_and_a_secret() {
        assert!(validate(PmsConnector::None, "", "").is_ok());
        let secret = "0123456789abcdef";
        assert!(validate(PmsConnector::AutoCancel, "https://pms.example/api", secret).is_ok());
        assert!(validate(PmsConnector::AutoCancel, "pms.example/api", secret).is_err());
        assert!(validate(PmsConnector::AutoCancel, "https://pms example", secret).is_err());
        assert!(validate(
            PmsConnector::ManualCancel,
            "https://pms.example/api",
            "short"
        )
        .is_err());
    }
}
