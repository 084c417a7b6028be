//! Rules for changing an appointment, decided at an instant "now" that the
//! caller passes in (from the injectable clock). Times are unix seconds.

use super::appointment::AppointmentStatus;
use serde::{Deserialize, Serialize};

pub const MAX_CANCEL_NOTE: usize = 255;
pub const MAX_PATIENT_MESSAGE: usize = 1000;

/// Whether two half-open intervals [start, end) overlap: back-to-back
/// appointments (one ends when the next starts) do not.
pub fn overlaps(a_start: i64, a_end: i64, b_start: i64, b_end: i64) -> bool {
    a_start < b_end && b_start < a_end
}

/// Times for a new or moved appointment.
/// The longest an appointment can last. The database refuses longer ones,
/// and every overlap search relies on it: an appointment overlapping
/// [start, end) starts after `start - LONGEST_APPOINTMENT_SECS`, which keeps
/// the index range scanned small however long a provider's history grows.
pub const LONGEST_APPOINTMENT_SECS: i64 = 12 * 3600;

pub fn check_new_times(start: i64, end: i64, now: i64) -> Result<(), String> {
    if end <= start {
        Err("The end must be after the start.".into())
    } else if start <= now {
        Err("Choose a start time in the future.".into())
    } else if end - start > LONGEST_APPOINTMENT_SECS {
        Err("An appointment can last at most 12 hours.".into())
    } else {
        Ok(())
    }
}

fn check_open(
    status: AppointmentStatus,
    starts_at: i64,
    now: i64,
    what: &str,
) -> Result<(), String> {
    match status {
        AppointmentStatus::Cancelled => Err("This appointment is cancelled.".into()),
        AppointmentStatus::Noshow | AppointmentStatus::Fulfilled => {
            Err("This appointment is already over.".into())
        }
        _ if now >= starts_at => Err(format!(
            "This appointment has already started, so it can no longer be {what}."
        )),
        _ => Ok(()),
    }
}

/// Cancel is allowed until the start time, never after (mark FTA/DNA instead).
pub fn check_cancel(status: AppointmentStatus, starts_at: i64, now: i64) -> Result<(), String> {
    check_open(status, starts_at, now, "cancelled")
}

pub fn check_reschedule(status: AppointmentStatus, starts_at: i64, now: i64) -> Result<(), String> {
    check_open(status, starts_at, now, "rescheduled")
}

/// FTA/DNA become available once the start time has passed, not before.
pub fn check_noshow(status: AppointmentStatus, starts_at: i64, now: i64) -> Result<(), String> {
    match status {
        AppointmentStatus::Cancelled => {
            Err("A cancelled appointment cannot be marked FTA or DNA.".into())
        }
        AppointmentStatus::Noshow => Err("This appointment is already marked FTA or DNA.".into()),
        _ if now < starts_at => {
            Err("You can mark FTA or DNA once the appointment time has passed.".into())
        }
        _ => Ok(()),
    }
}

/// Failed to attend / did not attend: both are FHIR `noshow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoShowKind {
    Fta,
    Dna,
}

impl NoShowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fta => "fta",
            Self::Dna => "dna",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Fta => "FTA",
            Self::Dna => "DNA",
        }
    }
}

/// Cancellation reasons offered in the cancel dialog. On the wire and in
/// `appointment.cancel_reason_code` as [`CancelReason::code`]; told to a
/// PMS (and any FHIR client) as [`CancelReason::fhir_code`], a code of
/// HL7's `appointment-cancellation-reason` code system. [`REASONS`] is the
/// one table of both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CancelReason {
    #[serde(rename = "pat")]
    PatientRequest,
    #[serde(rename = "unwell")]
    PatientUnwell,
    #[serde(rename = "pat-lt")]
    PatientNoTransport,
    #[serde(rename = "prov")]
    ProviderUnavailable,
    #[serde(rename = "prov-hosp")]
    ProviderHospitalized,
    #[serde(rename = "oth-weath")]
    Weather,
    #[serde(rename = "oth-fin")]
    Financial,
    #[serde(rename = "oth-err")]
    ScheduledInError,
    #[serde(rename = "other")]
    Other,
}

/// The code system of [`CancelReason::fhir_code`].
pub const FHIR_CANCEL_REASON_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason";

/// One cancellation reason: our stored code (the serde name), HL7's code and
/// its display (FHIR R4 4.0.1), and the words staff see.
pub struct ReasonCodes {
    pub reason: CancelReason,
    pub code: &'static str,
    pub fhir_code: &'static str,
    pub fhir_display: &'static str,
    pub label: &'static str,
}

const fn row(
    reason: CancelReason,
    code: &'static str,
    fhir_code: &'static str,
    fhir_display: &'static str,
    label: &'static str,
) -> ReasonCodes {
    ReasonCodes {
        reason,
        code,
        fhir_code,
        fhir_display,
        label,
    }
}

/// Every reason, in the dialog's order. HL7 has no code for an unwell
/// patient (`pat-fb` is "Patient: Feeling Better", which was sent for it
/// until issue 16), so "Patient unwell" is told as `pat` (Patient) with our
/// words in the CodeableConcept's text; its stored code is our own.
pub const REASONS: [ReasonCodes; 9] = {
    use CancelReason::*;
    [
        row(PatientRequest, "pat", "pat", "Patient", "Patient requested"),
        row(PatientUnwell, "unwell", "pat", "Patient", "Patient unwell"),
        row(
            PatientNoTransport,
            "pat-lt",
            "pat-lt",
            "Patient: Lack of Transportation",
            "Patient has no transport",
        ),
        row(
            ProviderUnavailable,
            "prov",
            "prov",
            "Provider",
            "Provider unavailable",
        ),
        row(
            ProviderHospitalized,
            "prov-hosp",
            "prov-hosp",
            "Provider: Hospitalized",
            "Provider hospitalized",
        ),
        row(
            Weather,
            "oth-weath",
            "oth-weath",
            "Other: Weather",
            "Weather conditions",
        ),
        row(
            Financial,
            "oth-fin",
            "oth-fin",
            "Other: Financial",
            "Financial",
        ),
        row(
            ScheduledInError,
            "oth-err",
            "oth-err",
            "Other: Error",
            "Scheduled in error",
        ),
        row(Other, "other", "other", "Other", "Other"),
    ]
};

impl CancelReason {
    pub const ALL: [Self; 9] = [
        Self::PatientRequest,
        Self::PatientUnwell,
        Self::PatientNoTransport,
        Self::ProviderUnavailable,
        Self::ProviderHospitalized,
        Self::Weather,
        Self::Financial,
        Self::ScheduledInError,
        Self::Other,
    ];

    fn codes(self) -> &'static ReasonCodes {
        // ALL and REASONS list the reasons in the same order (tested).
        &REASONS[self as usize]
    }

    /// Our code: stored in `appointment.cancel_reason_code`, and the value
    /// the cancel dialog submits.
    pub fn code(self) -> &'static str {
        self.codes().code
    }

    /// HL7's code (system [`FHIR_CANCEL_REASON_SYSTEM`]).
    pub fn fhir_code(self) -> &'static str {
        self.codes().fhir_code
    }

    /// HL7's display for [`CancelReason::fhir_code`].
    pub fn fhir_display(self) -> &'static str {
        self.codes().fhir_display
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self) -> &'static str {
        self.codes().label
    }

    /// Reasons on the practice's side invite the patient to book again.
    pub fn invites_rebooking(self) -> bool {
        matches!(
            self,
            Self::ProviderUnavailable
                | Self::ProviderHospitalized
                | Self::Weather
                | Self::ScheduledInError
        )
    }
}

/// What the cancel dialog submits, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelForm {
    /// None: no reason chosen (allowed where the clinic does not require
    /// one, see [`CancelForm::meets_policy`]).
    pub reason: Option<CancelReason>,
    /// The note (required explanation for "Other"; the whole reason when
    /// none is chosen), at most 255 characters.
    pub note: String,
    pub message_to_patient: String,
}

/// `cancel_form` for a reason given by its FHIR code (blank: none).
pub fn validate_cancel(reason_code: &str, note: &str, message: &str) -> Result<CancelForm, String> {
    let reason = match reason_code.trim() {
        "" => None,
        code => Some(CancelReason::from_code(code).ok_or("Choose a reason from the list.")?),
    };
    cancel_form(reason, note, message)
}

/// The cancel dialog's rules, checked by the dialog as the user types and
/// by the server on submit.
pub fn cancel_form(
    reason: Option<CancelReason>,
    note: &str,
    message: &str,
) -> Result<CancelForm, String> {
    let note = note.trim();
    if note.chars().count() > MAX_CANCEL_NOTE {
        return Err(format!(
            "The note can be at most {MAX_CANCEL_NOTE} characters."
        ));
    }
    if reason == Some(CancelReason::Other) && note.is_empty() {
        return Err("Explain the reason when you choose \"Other\".".into());
    }
    let message = message.trim();
    if message.chars().count() > MAX_PATIENT_MESSAGE {
        return Err(format!(
            "The message to the patient can be at most {MAX_PATIENT_MESSAGE} characters."
        ));
    }
    Ok(CancelForm {
        reason,
        note: note.to_string(),
        message_to_patient: message.to_string(),
    })
}

impl CancelForm {
    /// The clinic's policy: where a reason is required, one from the list
    /// must be chosen; elsewhere the reason is optional.
    pub fn meets_policy(&self, reason_required: bool) -> Result<(), String> {
        if reason_required && self.reason.is_none() {
            return Err("Choose a reason for the cancellation.".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppointmentStatus::*;

    /// HL7's code system http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason
    /// as FHIR R4 (4.0.1) publishes it: every code with its display, copied
    /// from the published value set, not from our table.
    const HL7_CANCEL_REASONS: [(&str, &str); 32] = [
        ("pat", "Patient"),
        ("pat-crs", "Patient: Canceled via automated reminder system"),
        ("pat-cpp", "Patient: Canceled via Patient Portal"),
        ("pat-dec", "Patient: Deceased"),
        ("pat-fb", "Patient: Feeling Better"),
        ("pat-lt", "Patient: Lack of Transportation"),
        ("pat-mt", "Patient: Member Terminated"),
        ("pat-mv", "Patient: Moved"),
        ("pat-preg", "Patient: Pregnant"),
        ("pat-swl", "Patient: Scheduled from Wait List"),
        ("pat-ucp", "Patient: Unhappy/Changed Provider"),
        ("prov", "Provider"),
        ("prov-dch", "Provider: Discharged"),
        ("prov-edu", "Provider: Edu/Meeting"),
        ("prov-hosp", "Provider: Hospitalized"),
        ("prov-labs", "Provider: Labs Out of Acceptable Range"),
        (
            "prov-mri",
            "Provider: MRI Screening Form Marked Do Not Proceed",
        ),
        ("prov-onc", "Provider: Oncology Treatment Plan Changes"),
        ("prov-pers", "Provider: Personal"),
        ("maint", "Equipment Maintenance/Repair"),
        ("meds-inc", "Prep/Med Incomplete"),
        ("other", "Other"),
        ("oth-cms", "Other: CMS Therapy Cap Service Not Authorized"),
        ("oth-err", "Other: Error"),
        ("oth-fin", "Other: Financial"),
        ("oth-iv", "Other: Improper IV Access/Infiltrate IV"),
        ("oth-int", "Other: No Interpreter Available"),
        ("oth-mu", "Other: Prep/Med/Results Unavailable"),
        ("oth-room", "Other: Room/Resource Maintenance"),
        ("oth-oerr", "Other: Schedule Order Error"),
        ("oth-swie", "Other: Silent Walk In Error"),
        ("oth-weath", "Other: Weather"),
    ];

    #[test]
    fn every_reason_we_send_is_hl7s_code_with_hl7s_display() {
        for r in CancelReason::ALL {
            let hl7 = HL7_CANCEL_REASONS
                .iter()
                .find(|(code, _)| *code == r.fhir_code());
            assert_eq!(
                hl7.map(|h| h.1),
                Some(r.fhir_display()),
                "{r:?} is sent as {}",
                r.fhir_code()
            );
        }
        // "Patient: Feeling Better" is no reason anyone cancels for here.
        assert!(CancelReason::ALL.iter().all(|r| r.fhir_code() != "pat-fb"));
        assert_eq!(CancelReason::PatientUnwell.fhir_code(), "pat");
    }

    #[test]
    fn the_reason_table_follows_the_enum() {
        for (i, r) in CancelReason::ALL.into_iter().enumerate() {
            assert_eq!(REASONS[i].reason, r, "same order");
            // The stored code is the wire name, and reads back.
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::Value::from(r.code())
            );
            assert_eq!(CancelReason::from_code(r.code()), Some(r));
        }
        let mut codes: Vec<&str> = CancelReason::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(
            codes.len(),
            CancelReason::ALL.len(),
            "stored codes are unique"
        );
        assert_eq!(CancelReason::from_code("pat-fb"), None);
    }

    #[test]
    fn back_to_back_is_not_an_overlap() {
        assert!(!overlaps(0, 30, 30, 60));
        assert!(overlaps(0, 31, 30, 60));
        assert!(overlaps(10, 20, 0, 60), "containment");
        assert!(!overlaps(60, 90, 0, 60));
    }

    #[test]
    fn cancel_and_reschedule_close_at_the_start_time() {
        let start = 1_000;
        assert!(check_cancel(Booked, start, start - 1).is_ok());
        assert!(
            check_cancel(Booked, start, start).is_err(),
            "at the start it has started"
        );
        assert!(check_reschedule(Pending, start, start - 1).is_ok());
        assert!(check_reschedule(Booked, start, start + 1).is_err());
        assert_eq!(
            check_cancel(Cancelled, start, 0).unwrap_err(),
            "This appointment is cancelled."
        );
        assert!(
            check_reschedule(Cancelled, start, 0).is_err(),
            "no rescheduling a cancelled one"
        );
        assert!(check_cancel(Noshow, start, 0).is_err());
    }

    #[test]
    fn noshow_opens_at_the_start_time() {
        let start = 1_000;
        assert!(check_noshow(Booked, start, start - 1).is_err());
        assert!(check_noshow(Booked, start, start).is_ok());
        assert!(check_noshow(Fulfilled, start, start + 10).is_ok());
        assert!(check_noshow(Cancelled, start, start + 10).is_err());
        assert!(check_noshow(Noshow, start, start + 10).is_err());
    }

    #[test]
    fn new_times_must_be_ordered_and_in_the_future() {
        assert!(check_new_times(100, 200, 99).is_ok());
        assert!(check_new_times(100, 200, 100).is_err());
        assert_eq!(
            check_new_times(200, 200, 0).unwrap_err(),
            "The end must be after the start."
        );
        assert!(check_new_times(100, 100 + 12 * 3600 + 1, 0).is_err());
    }

    #[test]
    fn cancel_form_rules() {
        use CancelReason::*;
        // No reason: a valid form, which only a clinic that does not
        // require one accepts.
        let none = cancel_form(None, " moved away ", "").unwrap();
        assert_eq!((none.reason, none.note.as_str()), (None, "moved away"));
        assert_eq!(
            none.meets_policy(true).unwrap_err(),
            "Choose a reason for the cancellation."
        );
        assert!(none.meets_policy(false).is_ok());
        assert!(validate_cancel("", "", "")
            .unwrap()
            .meets_policy(true)
            .is_err());
        assert!(cancel_form(None, &"n".repeat(256), "").is_err());
        assert!(validate_cancel("nonsense", "", "").is_err());
        assert!(validate_cancel("pat", "", "")
            .unwrap()
            .meets_policy(true)
            .is_ok());
        assert_eq!(
            cancel_form(Some(Other), "  ", "").unwrap_err(),
            "Explain the reason when you choose \"Other\"."
        );
        assert!(cancel_form(Some(Other), "Clinic closed for a power cut", "").is_ok());
        assert!(cancel_form(Some(PatientRequest), &"n".repeat(255), "").is_ok());
        assert!(cancel_form(Some(PatientRequest), &"n".repeat(256), "").is_err());
        let f = validate_cancel("prov", " running late ", " sorry ").unwrap();
        assert_eq!(
            (f.reason, f.note.as_str(), f.message_to_patient.as_str()),
            (
                Some(CancelReason::ProviderUnavailable),
                "running late",
                "sorry"
            )
        );
    }

    #[test]
    fn reason_codes_round_trip_and_rebooking() {
        for r in CancelReason::ALL {
            assert_eq!(CancelReason::from_code(r.code()), Some(r));
            let wire = serde_json::to_string(&r).unwrap();
            assert_eq!(wire, format!("\"{}\"", r.code()), "serde name is the code");
        }
        assert!(CancelReason::ProviderUnavailable.invites_rebooking());
        assert!(!CancelReason::PatientRequest.invites_rebooking());
    }
}
