//! Proposals expire (issue 15, point 3): when a time the clinic proposed
//! (Tentative) must be answered by, and what its expiry does. Pure: the
//! service layer supplies the clock, the clinic's setting and whether the
//! original time is still free.

use std::ops::RangeInclusive;

/// How many hours a clinic may give patients to answer (1 hour to 2 weeks).
pub const EXPIRY_HOURS: RangeInclusive<i64> = 1..=336;

/// What a clinic gives them until it chooses otherwise.
pub const DEFAULT_EXPIRY_HOURS: i64 = 48;

/// What happens to an appointment whose proposed time nobody answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnExpiry {
    /// Back to the time it had before the proposal, if that is still free
    /// and still to come; cancelled otherwise.
    #[default]
    Restore,
    /// Cancelled.
    Cancel,
}

impl OnExpiry {
    pub const ALL: [OnExpiry; 2] = [OnExpiry::Restore, OnExpiry::Cancel];

    /// The stored and wire code (`clinic.proposal_on_expiry`).
    pub fn as_str(self) -> &'static str {
        match self {
            OnExpiry::Restore => "restore",
            OnExpiry::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<OnExpiry> {
        OnExpiry::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// What the Clinic settings offer.
    pub fn label(self) -> &'static str {
        match self {
            OnExpiry::Restore => {
                "Return it to its original time (cancel it if that time is no longer free)"
            }
            OnExpiry::Cancel => "Cancel the appointment",
        }
    }
}

/// The settings as an admin enters them: hours in range, a known action.
pub fn check_settings(hours: &str, on_expiry: &str) -> Result<(i64, OnExpiry), String> {
    let range = || {
        format!(
            "Enter how many hours patients have to answer a proposed time: a whole number from {} to {}.",
            EXPIRY_HOURS.start(),
            EXPIRY_HOURS.end()
        )
    };
    let hours = hours.trim().parse::<i64>().map_err(|_| range())?;
    if !EXPIRY_HOURS.contains(&hours) {
        return Err(range());
    }
    let on_expiry = OnExpiry::parse(on_expiry.trim()).ok_or_else(|| {
        "Choose what happens when a proposal expires: return to the original time, or cancel."
            .to_string()
    })?;
    Ok((hours, on_expiry))
}

/// When a proposal made at `now` for a time starting at `proposed_start`
/// expires: `hours` later, but never after the proposed time begins (a
/// hold on a time that has passed holds nothing).
pub fn deadline(now: i64, hours: i64, proposed_start: i64) -> i64 {
    now.saturating_add(hours.saturating_mul(3600))
        .min(proposed_start)
}

/// Why an expired proposal's appointment is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelWhy {
    /// The clinic cancels expired proposals.
    Setting,
    /// Someone else has the original time now.
    OriginalTaken,
    /// The original time has begun or passed.
    OriginalPast,
}

/// What an expired proposal does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Move back to the original time (if the host is still free then).
    Restore,
    Cancel(CancelWhy),
}

impl Expiry {
    /// What became of the appointment, after "your appointment …".
    pub fn outcome(self) -> &'static str {
        match self {
            Expiry::Restore => "returned to its original time",
            Expiry::Cancel(CancelWhy::Setting) => "was cancelled",
            Expiry::Cancel(CancelWhy::OriginalTaken) => {
                "was cancelled because its original time is no longer free"
            }
            Expiry::Cancel(CancelWhy::OriginalPast) => {
                "was cancelled because its original time has passed"
            }
        }
    }
}

/// What to do at expiry, before looking at the host's calendar: restore
/// only when the clinic says so and the original time is still to come.
/// (If the original time turns out to be taken, the service cancels with
/// `CancelWhy::OriginalTaken`.)
pub fn plan(setting: OnExpiry, original_start: i64, now: i64) -> Expiry {
    match setting {
        OnExpiry::Cancel => Expiry::Cancel(CancelWhy::Setting),
        OnExpiry::Restore if original_start <= now => Expiry::Cancel(CancelWhy::OriginalPast),
        OnExpiry::Restore => Expiry::Restore,
    }
}

/// The cancellation note an expired proposal's appointment records.
pub const EXPIRED_NOTE: &str = "The proposed time expired without an answer.";

/// The line under a Tentative appointment in the patient's portal (times
/// already written in the clinic's style).
pub fn answer_by(deadline: &str, setting: OnExpiry, original: &str) -> String {
    match setting {
        OnExpiry::Restore => format!(
            "Answer by {deadline}; after that it returns to your original time, {original}, if that time is still free, or is cancelled."
        ),
        OnExpiry::Cancel => {
            format!("Answer by {deadline}; after that the appointment is cancelled.")
        }
    }
}

impl CancelWhy {
    /// The clinic's message on the cancelled appointment (after the note).
    pub fn message(self) -> &'static str {
        match self {
            CancelWhy::Setting => "",
            CancelWhy::OriginalTaken => "The original time is no longer free.",
            CancelWhy::OriginalPast => "The original time has passed.",
        }
    }
}

/// What became of an appointment whose proposal a patient answers too late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Late<'a> {
    /// Back at its original time (written in the clinic's style).
    Returned(&'a str),
    Cancelled,
    /// Past its deadline, and the timer is about to act (it runs every
    /// second): what the clinic's setting will do.
    Returning(&'a str),
    Cancelling,
}

/// What a patient answering too late is told; nothing changes.
pub fn too_late(deadline: &str, late: Late) -> String {
    let then = match late {
        Late::Returned(at) => format!("the appointment returned to its original time, {at}"),
        Late::Cancelled => "the appointment was cancelled".into(),
        Late::Returning(at) => format!(
            "the appointment goes back to its original time, {at}, if that time is still free"
        ),
        Late::Cancelling => "the appointment is cancelled".into(),
    };
    format!("This proposal expired at {deadline}; {then}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    #[test]
    fn the_deadline_is_the_clinics_hours_but_never_after_the_proposed_start() {
        assert_eq!(deadline(1_000, 48, 1_000 + 100 * H), 1_000 + 48 * H);
        assert_eq!(deadline(1_000, 48, 1_000 + 5 * H), 1_000 + 5 * H);
        assert_eq!(deadline(1_000, 1, 1_000 + H), 1_000 + H);
        assert_eq!(deadline(0, i64::MAX, 7), 7, "no overflow");
    }

    #[test]
    fn expiry_restores_only_a_future_original_time_when_the_clinic_says_so() {
        assert_eq!(plan(OnExpiry::Restore, 200, 100), Expiry::Restore);
        assert_eq!(
            plan(OnExpiry::Restore, 100, 100),
            Expiry::Cancel(CancelWhy::OriginalPast)
        );
        assert_eq!(
            plan(OnExpiry::Restore, 50, 100),
            Expiry::Cancel(CancelWhy::OriginalPast)
        );
        assert_eq!(
            plan(OnExpiry::Cancel, 200, 100),
            Expiry::Cancel(CancelWhy::Setting)
        );
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(
            check_settings(" 48 ", "restore"),
            Ok((48, OnExpiry::Restore))
        );
        assert_eq!(check_settings("1", "cancel"), Ok((1, OnExpiry::Cancel)));
        assert_eq!(check_settings("336", "cancel"), Ok((336, OnExpiry::Cancel)));
        for bad in ["0", "337", "-4", "2.5", "", "lots", "99999999999999999999"] {
            let e = check_settings(bad, "restore").unwrap_err();
            assert!(e.contains("from 1 to 336"), "{bad}: {e}");
        }
        let e = check_settings("48", "delete").unwrap_err();
        assert!(e.contains("Choose what happens"), "{e}");
        for o in OnExpiry::ALL {
            assert_eq!(OnExpiry::parse(o.as_str()), Some(o));
            assert!(!o.label().is_empty());
        }
    }

    #[test]
    fn the_words_say_what_happens() {
        assert_eq!(
            answer_by("Wed, Dec 2, 3:00 PM", OnExpiry::Restore, "Tue, Dec 1, 10:00 AM"),
            "Answer by Wed, Dec 2, 3:00 PM; after that it returns to your original time, Tue, Dec 1, 10:00 AM, if that time is still free, or is cancelled."
        );
        assert_eq!(
            answer_by("Wed, Dec 2, 3:00 PM", OnExpiry::Cancel, "x"),
            "Answer by Wed, Dec 2, 3:00 PM; after that the appointment is cancelled."
        );
        assert_eq!(
            too_late("Wed, Dec 2, 3:00 PM", Late::Returned("Tue, Dec 1, 10:00 AM")),
            "This proposal expired at Wed, Dec 2, 3:00 PM; the appointment returned to its original time, Tue, Dec 1, 10:00 AM."
        );
        assert_eq!(
            too_late("x", Late::Cancelled),
            "This proposal expired at x; the appointment was cancelled."
        );
        assert!(
            too_late("x", Late::Returning("y")).contains("goes back to its original time, y, if")
        );
        assert!(too_late("x", Late::Cancelling).ends_with("is cancelled."));
        assert_eq!(CancelWhy::Setting.message(), "");
        assert!(Expiry::Cancel(CancelWhy::OriginalTaken)
            .outcome()
            .contains("no longer free"));
    }
}
