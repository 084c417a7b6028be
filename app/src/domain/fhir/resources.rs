//! The FHIR R4 resources the API serves, from plain data, and the
//! CapabilityStatement that lists them. The Appointment itself is the PMS
//! connector's mapping (`domain::pms::fhir_appointment`: statuses and
//! cancellation codes stay one table); `appointment` here only adds what an
//! API client needs to book again (the service's code).

use super::{instant, HOLD_EXPIRES_EXTENSION, SERVICE_ID_SYSTEM};
use crate::domain::pms::{
    fhir_appointment, PmsAppointment, PATIENT_ID_SYSTEM, PRACTITIONER_ID_SYSTEM,
};
use serde_json::{json, Value};

/// A person by id and name (Practitioner, Patient).
#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// A clinic: the Location where its appointments happen.
#[derive(Debug, Clone)]
pub struct Clinic {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub phone: String,
}

/// A bookable service of a clinic.
#[derive(Debug, Clone)]
pub struct Service {
    pub id: i64,
    pub clinic_id: i64,
    pub name: String,
    pub description: String,
    pub minutes: i64,
    /// The stored modality code (`domain::modality`).
    pub modality: String,
    pub active: bool,
}

/// A free time of one provider for one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeSlot {
    pub clinic_id: i64,
    pub provider_id: i64,
    pub service_id: i64,
    pub start: i64,
    pub end: i64,
}

impl FreeSlot {
    /// `<clinic>-<provider>-<service>-<start>`: says everything needed to
    /// book it again.
    pub fn id(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.clinic_id, self.provider_id, self.service_id, self.start
        )
    }
}

/// A provider's bookable calendar at a clinic: `<clinic>-<provider>`
/// (Schedule and PractitionerRole share it).
pub fn schedule_id(clinic_id: i64, provider_id: i64) -> String {
    format!("{clinic_id}-{provider_id}")
}

pub fn service_concept(id: i64, name: &str) -> Value {
    json!({
        "coding": [{ "system": SERVICE_ID_SYSTEM, "code": id.to_string(), "display": name }],
        "text": name,
    })
}

fn person_ref(kind: &str, system: &str, id: i64, name: &str) -> Value {
    json!({
        "reference": format!("{kind}/{id}"),
        "type": kind,
        "identifier": { "system": system, "value": id.to_string() },
        "display": name,
    })
}

pub fn practitioner(p: &Person) -> Value {
    json!({
        "resourceType": "Practitioner",
        "id": p.id.to_string(),
        "identifier": [{ "system": PRACTITIONER_ID_SYSTEM, "value": p.id.to_string() }],
        "active": true,
        "name": [{ "text": p.name }],
    })
}

/// A patient, with the email the clinic reaches them at.
pub fn patient(p: &Person) -> Value {
    json!({
        "resourceType": "Patient",
        "id": p.id.to_string(),
        "identifier": [{ "system": PATIENT_ID_SYSTEM, "value": p.id.to_string() }],
        "active": true,
        "name": [{ "text": p.name }],
        "telecom": [{ "system": "email", "value": p.email, "use": "home" }],
    })
}

pub fn location(c: &Clinic) -> Value {
    let mut r = json!({
        "resourceType": "Location",
        "id": c.id.to_string(),
        "status": "active",
        "name": c.name,
        "mode": "instance",
    });
    if !c.address.trim().is_empty() {
        r["address"] = json!({ "text": c.address.trim() });
    }
    if !c.phone.trim().is_empty() {
        r["telecom"] = json!([{ "system": "phone", "value": c.phone.trim() }]);
    }
    r
}

pub fn healthcare_service(s: &Service) -> Value {
    let how = match s.modality.as_str() {
        "in_person" => "In person",
        "phone" => "By phone",
        _ => "By video",
    };
    let mut r = json!({
        "resourceType": "HealthcareService",
        "id": s.id.to_string(),
        "identifier": [{ "system": SERVICE_ID_SYSTEM, "value": s.id.to_string() }],
        "active": s.active,
        "location": [{ "reference": format!("Location/{}", s.clinic_id) }],
        "name": s.name,
        "type": [service_concept(s.id, &s.name)],
        "characteristic": [{ "text": how }],
        "extraDetails": format!("{} minutes", s.minutes),
        "appointmentRequired": true,
    });
    if !s.description.trim().is_empty() {
        r["comment"] = json!(s.description.trim());
    }
    r
}

/// The provider's role at a clinic: where, and which services.
pub fn practitioner_role(clinic_id: i64, p: &Person, services: &[Service]) -> Value {
    json!({
        "resourceType": "PractitionerRole",
        "id": schedule_id(clinic_id, p.id),
        "active": true,
        "practitioner": { "reference": format!("Practitioner/{}", p.id), "display": p.name },
        "location": [{ "reference": format!("Location/{clinic_id}") }],
        "healthcareService": services.iter()
            .map(|s| json!({ "reference": format!("HealthcareService/{}", s.id), "display": s.name }))
            .collect::<Vec<_>>(),
    })
}

/// One provider's bookable calendar at a clinic, over the booking horizon.
pub fn schedule(clinic_id: i64, p: &Person, services: &[Service], horizon: (i64, i64)) -> Value {
    json!({
        "resourceType": "Schedule",
        "id": schedule_id(clinic_id, p.id),
        "active": true,
        "serviceType": services.iter().map(|s| service_concept(s.id, &s.name)).collect::<Vec<_>>(),
        "actor": [
            { "reference": format!("Practitioner/{}", p.id), "display": p.name },
            { "reference": format!("Location/{clinic_id}") },
        ],
        "planningHorizon": { "start": instant(horizon.0), "end": instant(horizon.1) },
    })
}

pub fn slot(s: &FreeSlot, service_name: &str) -> Value {
    json!({
        "resourceType": "Slot",
        "id": s.id(),
        "serviceType": [service_concept(s.service_id, service_name)],
        "schedule": { "reference": format!("Schedule/{}", schedule_id(s.clinic_id, s.provider_id)) },
        "status": "free",
        "start": instant(s.start),
        "end": instant(s.end),
    })
}

/// A stored appointment as the API serves it: the PMS mapping, with the
/// service's code (so a client can find the same service again) and the
/// clinic as a Location participant.
pub fn appointment(a: &PmsAppointment, service_id: i64, clinic_id: i64, now: i64) -> Value {
    let mut r = fhir_appointment(a, now);
    r["serviceType"] = json!([service_concept(service_id, &a.service_name)]);
    if let Some(p) = r["participant"].as_array_mut() {
        p.push(json!({
            "actor": { "reference": format!("Location/{clinic_id}"), "type": "Location" },
            "status": "accepted",
        }));
    }
    r
}

/// A free time `$find` proposes (status `proposed`, no id: it is not
/// stored), with the patient when the caller named one.
pub fn proposed(
    s: &FreeSlot,
    service_name: &str,
    provider: &Person,
    patient: Option<&Person>,
) -> Value {
    let mut participant = vec![json!({
        "actor": person_ref("Practitioner", PRACTITIONER_ID_SYSTEM, provider.id, &provider.name),
        "required": "required",
        "status": "needs-action",
    })];
    if let Some(p) = patient {
        participant.push(json!({
            "actor": person_ref("Patient", PATIENT_ID_SYSTEM, p.id, &p.name),
            "required": "required",
            "status": "needs-action",
        }));
    }
    participant.push(json!({
        "actor": { "reference": format!("Location/{}", s.clinic_id), "type": "Location" },
        "status": "needs-action",
    }));
    json!({
        "resourceType": "Appointment",
        "status": "proposed",
        "serviceType": [service_concept(s.service_id, service_name)],
        "start": instant(s.start),
        "end": instant(s.end),
        "minutesDuration": ((s.end - s.start) / 60).max(1),
        "slot": [{ "reference": format!("Slot/{}", s.id()) }],
        "participant": participant,
    })
}

/// The Appointment a `$hold` answers: `pending` while the time is held,
/// `hold-<n>` (the id `$book` takes back), and when the hold lapses.
pub fn held(
    hold_id: i64,
    s: &FreeSlot,
    service_name: &str,
    provider: &Person,
    patient: &Person,
    expires_at: i64,
) -> Value {
    let mut r = proposed(s, service_name, provider, Some(patient));
    r["id"] = json!(format!("hold-{hold_id}"));
    r["status"] = json!("pending");
    for p in r["participant"].as_array_mut().into_iter().flatten() {
        p["status"] = json!("tentative");
    }
    r["extension"] =
        json!([{ "url": HOLD_EXPIRES_EXTENSION, "valueInstant": instant(expires_at) }]);
    r
}

/// Search parameters each resource type supports (and `_id` everywhere);
/// the CapabilityStatement lists these, the handlers accept exactly these.
/// A search parameter: name, FHIR search type, what it takes.
pub type SearchParam = (&'static str, &'static str, &'static str);

pub const SEARCHES: &[(&str, &[SearchParam])] = &[
    (
        "Appointment",
        &[
            ("_id", "token", "The appointment's id."),
            ("patient", "reference", "Patient/<id>."),
            ("practitioner", "reference", "Practitioner/<id> (the host)."),
            ("date", "date", "Appointment start; eq, gt, lt, ge, le; may repeat (both apply). A date without a time is a day of the appointment's clinic (its time zone)."),
            ("status", "token", "Comma-separated codes of http://hl7.org/fhir/appointmentstatus."),
        ],
    ),
    (
        "Slot",
        &[
            ("service-type", "token", "Required: the service (urn:slotwise:service|<id>, or the id); slots are as long as the service."),
            ("schedule", "reference", "Schedule/<clinic>-<provider>; without it every provider of the service's clinic."),
            ("start", "date", "Slot start; eq, gt, lt, ge, le; may repeat; a date without a time is a day of the service's clinic. Free times are offered up to the clinic's booking horizon."),
            ("status", "token", "Only 'free' (busy times are not published)."),
        ],
    ),
    ("Schedule", &[("_id", "token", "<clinic>-<provider>."), ("actor", "reference", "Practitioner/<id>.")]),
    ("Practitioner", &[("_id", "token", "The practitioner's id.")]),
    ("PractitionerRole", &[("_id", "token", "<clinic>-<provider>."), ("practitioner", "reference", "Practitioner/<id>.")]),
    ("Patient", &[("_id", "token", "The patient's id.")]),
    ("HealthcareService", &[("_id", "token", "The service's id.")]),
    ("Location", &[("_id", "token", "The clinic's id.")]),
];

/// The names a resource type's search accepts.
pub fn search_names(kind: &str) -> Vec<&'static str> {
    SEARCHES
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, ps)| ps.iter().map(|p| p.0).collect())
        .unwrap_or_default()
}

/// What `$find`, `$hold` and `$book` take (IHE ITI Scheduling / Argonaut).
pub const OPERATIONS_DOC: &str = "Booking in three steps, after IHE ITI Scheduling (and Argonaut \
Scheduling). Appointment/$find (GET or POST Parameters): service-type (required: \
urn:slotwise:service|<id> or the id), practitioner (Practitioner/<id>, optional), start and end \
(instants or dates, optional: default the next 7 days, never past the clinic's booking horizon), patient \
(Patient/<id>, optional); answers a searchset Bundle of proposed Appointments, one per free \
time. Appointment/$hold (POST Parameters): appointment-resource (one of those Appointments, with \
a Patient participant) holds that time for 5 minutes and answers the Appointment with status \
pending, id hold-<n> and the extension urn:slotwise:fhir:extension:hold-expires; no other booking \
can take a held time meanwhile; GET Appointment/hold-<n> reads it again (its holder only; 410 \
once lapsed). Appointment/$book (POST Parameters): appointment-reference \
(Appointment/hold-<n>, by whoever made the hold) or appointment-resource (a proposed Appointment, \
booked at once if still free); answers 201 with the booked Appointment. A time taken meanwhile is \
a 409 OperationOutcome (conflict), a lapsed hold a 410 (expired).";

/// The CapabilityStatement at `/fhir/metadata`.
pub fn capability_statement(base: &str, date: i64) -> Value {
    let resources: Vec<Value> = SEARCHES
        .iter()
        .map(|(kind, params)| {
            let mut interaction = vec![json!({ "code": "search-type" })];
            if *kind != "Slot" {
                interaction.insert(0, json!({ "code": "read" }));
            }
            let mut r = json!({
                "type": kind,
                "interaction": interaction,
                "searchParam": params.iter().map(|(name, t, doc)| json!({
                    "name": name, "type": t, "documentation": doc,
                })).collect::<Vec<_>>(),
            });
            if *kind == "Appointment" {
                r["operation"] = json!(["find", "hold", "book"].iter().map(|op| json!({
                    "name": op,
                    "definition": format!("https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-{op}"),
                    "documentation": OPERATIONS_DOC,
                })).collect::<Vec<_>>());
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(date),
        "publisher": "Slotwise",
        "kind": "instance",
        "software": { "name": "Slotwise" },
        "implementation": { "description": "Slotwise FHIR R4 scheduling API", "url": base },
        "fhirVersion": super::FHIR_VERSION,
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": "Unknown search parameters are refused with a 400 OperationOutcome \
                (strict handling) unless the request says 'Prefer: handling=lenient', when they \
                are ignored and named in an OperationOutcome entry of the Bundle. Searches answer \
                every match (total), at most 1000 (a broader search is refused: too-costly), in \
                one Bundle, or in pages: _count (matches a page, 0: the total only) and _offset \
                (from which match), with a 'next' link while more follow. _sort, _include and \
                modifiers are not supported (unknown parameters, as above); _format is json only. \
                Dates without a time (date, start, $find's start and end) are days in the \
                clinic's time zone; instants carry their offset. Responses are \
                application/fhir+json; every error, also one refused before the API's handlers \
                (413 too-long, a cross-site 403, 503 transient, an unknown path or method), is an \
                OperationOutcome.",
            "security": {
                // No code of restful-security-service fits a plain bearer
                // token (OAuth would promise a token endpoint): words only.
                "service": [{ "text": "Authorization: Bearer <API client token> (created by a \
                    clinic admin; read or read-write, for one clinic), or a Slotwise login \
                    session." }],
                "description": "A read token reads and searches its clinic; a read-write token \
                    also holds and books. A patient's session sees only their own records.",
            },
            "resource": resources,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_references_say_what_to_book() {
        let s = FreeSlot {
            clinic_id: 1,
            provider_id: 3,
            service_id: 2,
            start: 1_772_618_400,
            end: 1_772_620_200,
        };
        let r = slot(&s, "Initial consultation");
        assert_eq!(r["id"], "1-3-2-1772618400");
        assert_eq!(r["schedule"]["reference"], "Schedule/1-3");
        assert_eq!(r["serviceType"][0]["coding"][0]["code"], "2");
        let dr = Person {
            id: 3,
            name: "Dr Lee".into(),
            email: String::new(),
        };
        let ann = Person {
            id: 9,
            name: "Ann".into(),
            email: "ann@x.test".into(),
        };
        let p = proposed(&s, "Initial consultation", &dr, Some(&ann));
        assert_eq!(p["status"], "proposed");
        assert!(p.get("id").is_none());
        assert_eq!(p["participant"][1]["actor"]["reference"], "Patient/9");
        let h = held(5, &s, "Initial consultation", &dr, &ann, 1_772_600_000);
        assert_eq!(h["id"], "hold-5");
        assert_eq!(h["status"], "pending");
        assert_eq!(h["extension"][0]["valueInstant"], "2026-03-04T04:53:20Z");
    }

    #[test]
    fn capability_lists_what_handlers_accept() {
        let c = capability_statement("https://c.test/fhir", 0);
        assert_eq!(c["fhirVersion"], "4.0.1");
        let rs = c["rest"][0]["resource"].as_array().unwrap();
        assert_eq!(rs.len(), SEARCHES.len());
        let appt = rs.iter().find(|r| r["type"] == "Appointment").unwrap();
        assert_eq!(appt["operation"].as_array().unwrap().len(), 3);
        assert_eq!(
            search_names("Slot"),
            vec!["service-type", "schedule", "start", "status"]
        );
        assert!(search_names("Nothing").is_empty());
    }

    #[test]
    fn location_leaves_out_what_is_unknown() {
        let c = Clinic {
            id: 1,
            name: "N".into(),
            address: " ".into(),
            phone: String::new(),
        };
        let r = location(&c);
        assert!(r.get("address").is_none() && r.get("telecom").is_none());
    }
}
