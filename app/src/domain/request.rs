//! The one queue for everything that waits on someone (DESIGN §2 "Request").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A patient asks for a session (Now or Scheduled).
    NewSession,
    /// A patient asks to move an appointment.
    Reschedule,
    /// A patient asks to cancel an appointment.
    Cancel,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewSession => "new_session",
            Self::Reschedule => "reschedule",
            Self::Cancel => "cancel",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::NewSession, Self::Reschedule, Self::Cancel]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Accepted,
    Declined,
    Withdrawn,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Accepted,
            Self::Declined,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Accepted => "Accepted",
            Self::Declined => "Declined",
            Self::Withdrawn => "Withdrawn",
        }
    }
}

/// "Now" (on-demand) or "Scheduled" (with preferred times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestMode {
    Now,
    Scheduled,
}

impl RequestMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Now => "now",
            Self::Scheduled => "scheduled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "now" => Some(Self::Now),
            "scheduled" => Some(Self::Scheduled),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Now => "Now",
            Self::Scheduled => "Scheduled",
        }
    }
}

/// At most this many preferred times in a Scheduled request.
pub const MAX_REQUESTED_TIMES: usize = 3;

/// Checks the preferred times of a Scheduled request: one to three
/// distinct times, none already started, none beyond the `horizon_days`
/// whose free times patients are shown. Returns them sorted.
pub fn check_requested_times(
    times: &[i64],
    now: i64,
    horizon_days: u32,
) -> Result<Vec<i64>, String> {
    let mut t = times.to_vec();
    t.sort_unstable();
    t.dedup();
    if t.is_empty() {
        return Err("Choose at least one preferred time.".into());
    }
    if t.len() > MAX_REQUESTED_TIMES {
        return Err(format!(
            "Choose at most {MAX_REQUESTED_TIMES} preferred times."
        ));
    }
    if t[0] <= now {
        return Err("One of the chosen times has already passed. Choose a later time.".into());
    }
    if t[t.len() - 1] > now.saturating_add(i64::from(horizon_days) * 86_400) {
        return Err(format!(
            "Choose times within the next {}, from the free times shown.",
            super::policy::horizon_words(horizon_days)
        ));
    }
    Ok(t)
}

/// A request waiting this long shows red on the Dispatch board.
pub const LATE_AFTER_SECS: i64 = 5 * 60;

/// The Dispatch board's "Pending For": "45s", "4m 05s", "1h 02m", "2d 3h";
/// and whether it is late (5 minutes or more).
pub fn pending_for(secs: i64) -> (String, bool) {
    let s = secs.max(0);
    let text = if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h {:02}m", s / 3600, s % 3600 / 60)
    } else {
        format!("{}d {}h", s / 86_400, s % 86_400 / 3600)
    };
    (text, s >= LATE_AFTER_SECS)
}

/// How the practice answers a patient's cancel or reschedule request in
/// Appointment Requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAnswer {
    /// The requested cancel or reschedule takes effect.
    Approve,
    /// The original appointment stays.
    Deny,
    /// A new time the patient must approve; Tentative until then.
    Propose,
    /// The practice cancels the appointment.
    Cancel,
    /// The practice moves the appointment without asking the patient.
    Update,
}

impl ChangeAnswer {
    pub const ALL: [Self; 5] = [
        Self::Approve,
        Self::Deny,
        Self::Propose,
        Self::Cancel,
        Self::Update,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Deny => "deny",
            Self::Propose => "propose",
            Self::Cancel => "cancel",
            Self::Update => "update",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
    /// The button, in the product's words.
    pub fn label(self, kind: RequestKind) -> &'static str {
        match (self, kind) {
            (Self::Approve, RequestKind::Cancel) => "Approve Cancellation",
            (Self::Approve, _) => "Approve",
            (Self::Deny, _) => "Deny",
            (Self::Propose, _) => "Propose Changes",
            (Self::Cancel, _) => "Cancel Appointment",
            (Self::Update, _) => "Update Appointment",
        }
    }
    /// Whether the answer sets a new date and time.
    pub fn needs_time(self) -> bool {
        matches!(self, Self::Propose | Self::Update)
    }
    /// The request's status after this answer: the patient got what they
    /// asked for, or not.
    pub fn request_status(self, kind: RequestKind) -> RequestStatus {
        match (self, kind) {
            (Self::Approve, _) | (Self::Cancel, RequestKind::Cancel) => RequestStatus::Accepted,
            _ => RequestStatus::Declined,
        }
    }
    /// How the patient's portal words the answer.
    pub fn outcome_label(self) -> &'static str {
        match self {
            Self::Approve => "Approved",
            Self::Deny => "Denied",
            Self::Propose => "New time proposed",
            Self::Cancel => "Cancelled by the clinic",
            Self::Update => "Moved by the clinic",
        }
    }
}

/// The longest message to the patient with an answer.
pub const MAX_RESPONSE_MESSAGE: usize = 1000;
/// The longest reason (it is also the cancellation note, ≤ 255).
pub const MAX_RESPONSE_REASON: usize = 255;

/// Checks an answer's reason (required) and message (optional); returns
/// them trimmed.
pub fn check_response(reason: &str, message: &str) -> Result<(String, String), String> {
    let reason = reason.trim();
    let message = message.trim();
    if reason.is_empty() {
        return Err("Give a reason; the patient receives it.".into());
    }
    if reason.chars().count() > MAX_RESPONSE_REASON {
        return Err(format!(
            "The reason can be at most {MAX_RESPONSE_REASON} characters."
        ));
    }
    if message.chars().count() > MAX_RESPONSE_MESSAGE {
        return Err(format!(
            "The message can be at most {MAX_RESPONSE_MESSAGE} characters."
        ));
    }
    Ok((reason.to_string(), message.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in [
            RequestKind::NewSession,
            RequestKind::Reschedule,
            RequestKind::Cancel,
        ] {
            assert_eq!(RequestKind::parse(k.as_str()), Some(k));
        }
        for s in [
            RequestStatus::Pending,
            RequestStatus::Accepted,
            RequestStatus::Declined,
            RequestStatus::Withdrawn,
        ] {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RequestMode::parse("later"), None);
    }

    #[test]
    fn requested_times_are_one_to_three_future_times() {
        assert_eq!(
            check_requested_times(&[300, 200, 300], 100, 28).unwrap(),
            [200, 300]
        );
        assert!(check_requested_times(&[], 100, 28).is_err());
        assert!(check_requested_times(&[200, 300, 400, 500], 100, 28).is_err());
        assert!(
            check_requested_times(&[100, 300], 100, 28).is_err(),
            "a time at now has started"
        );
        // Up to the horizon, not beyond (2099 used to be accepted).
        let edge = 100 + 28 * 86_400;
        assert!(check_requested_times(&[200, edge], 100, 28).is_ok());
        assert_eq!(
            check_requested_times(&[200, edge + 1], 100, 28),
            Err("Choose times within the next 4 weeks, from the free times shown.".into())
        );
        assert!(check_requested_times(&[i64::MAX], 100, 28).is_err());
        assert!(
            check_requested_times(&[i64::MAX], i64::MAX - 10, 28).is_ok(),
            "no overflow"
        );
    }

    #[test]
    fn pending_for_turns_red_at_five_minutes() {
        assert_eq!(pending_for(45), ("45s".into(), false));
        assert_eq!(pending_for(299), ("4m 59s".into(), false));
        assert_eq!(pending_for(300), ("5m 00s".into(), true));
        assert_eq!(pending_for(3_720), ("1h 02m".into(), true));
        assert_eq!(
            pending_for(2 * 86_400 + 3 * 3600 + 5),
            ("2d 3h".into(), true)
        );
        assert_eq!(
            pending_for(-3).0,
            "0s",
            "a browser clock slightly behind never shows a negative time"
        );
    }

    #[test]
    fn change_answers_round_trip_and_settle_the_request() {
        for a in ChangeAnswer::ALL {
            assert_eq!(ChangeAnswer::parse(a.as_str()), Some(a));
        }
        assert_eq!(ChangeAnswer::parse("counter"), None);
        assert_eq!(
            ChangeAnswer::Approve.label(RequestKind::Cancel),
            "Approve Cancellation"
        );
        assert_eq!(
            ChangeAnswer::Cancel.request_status(RequestKind::Cancel),
            RequestStatus::Accepted,
            "cancelling is what the patient asked for"
        );
        assert_eq!(
            ChangeAnswer::Cancel.request_status(RequestKind::Reschedule),
            RequestStatus::Declined
        );
        assert_eq!(
            ChangeAnswer::Propose.request_status(RequestKind::Reschedule),
            RequestStatus::Declined
        );
        assert!(ChangeAnswer::Propose.needs_time() && ChangeAnswer::Update.needs_time());
        assert!(!ChangeAnswer::Deny.needs_time());
    }

    #[test]
    fn a_response_needs_a_reason_and_bounded_texts() {
        assert_eq!(
            check_response("  Clinic closed ", " See you soon "),
            Ok(("Clinic closed".into(), "See you soon".into()))
        );
        assert!(check_response("   ", "hi").is_err());
        assert!(check_response(&"x".repeat(256), "").is_err());
        assert!(check_response(&"x".repeat(255), "").is_ok());
        assert!(check_response("ok", &"y".repeat(1001)).is_err());
    }
}
