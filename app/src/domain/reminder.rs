//! Reminders before an appointment (issue 15, point 1): the clinic's
//! settings, when each reminder falls due, when one is too late to send,
//! and what a reminder's Cancel link allows at a given moment.

use super::appointment::AppointmentStatus;
use super::booking;
use super::policy::{Decision, PatientChange, Policy};
use serde::{Deserialize, Serialize};

/// How late a reminder may still go out after its moment: a server that
/// was down for longer skips it rather than sending a stale one.
pub const GRACE_SECS: i64 = 10 * 60;
/// The range of an offset before the start, in minutes (10 min to 14 days).
pub const OFFSET_MINUTES: std::ops::RangeInclusive<i64> = 10..=14 * 24 * 60;

/// A clinic's reminder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderSettings {
    pub on: bool,
    /// Minutes before the start the first reminder goes.
    pub first_minutes: i64,
    /// Minutes before the start the second one goes (None: no second).
    pub second_minutes: Option<i64>,
    pub email: bool,
    pub sms: bool,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        Self {
            on: true,
            first_minutes: 24 * 60,
            second_minutes: Some(120),
            email: true,
            sms: false,
        }
    }
}

impl ReminderSettings {
    /// Checks an admin's settings. Offsets are checked even when reminders
    /// are off, so turning them on later never meets a stored bad value.
    pub fn validate(&self) -> Result<(), String> {
        let bounds = format!(
            "from {} minutes to {} days",
            OFFSET_MINUTES.start(),
            OFFSET_MINUTES.end() / (24 * 60)
        );
        if !OFFSET_MINUTES.contains(&self.first_minutes) {
            return Err(format!(
                "The first reminder can go {bounds} before the start."
            ));
        }
        if let Some(second) = self.second_minutes {
            if !OFFSET_MINUTES.contains(&second) {
                return Err(format!(
                    "The second reminder can go {bounds} before the start."
                ));
            }
            if second >= self.first_minutes {
                return Err(
                    "The second reminder must go closer to the start than the first.".into(),
                );
            }
        }
        if self.on && !self.email && !self.sms {
            return Err("Choose email, SMS or both to send reminders by.".into());
        }
        Ok(())
    }

    /// The reminders (1 and 2) of an appointment starting at `starts_at`
    /// whose moment is still ahead at `now`: one whose moment has passed
    /// (a booking made the evening before) is never scheduled.
    pub fn due_times(&self, starts_at: i64, now: i64) -> Vec<(i64, i64)> {
        if !self.on {
            return Vec::new();
        }
        [Some(self.first_minutes), self.second_minutes]
            .into_iter()
            .zip([1, 2])
            .filter_map(|(m, nth)| Some((nth, starts_at - m? * 60)))
            .filter(|&(_, due)| due > now)
            .collect()
    }
}

/// What becomes of a scheduled reminder at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Its moment has not come.
    Wait,
    /// Send it now.
    Send,
    /// Its moment passed too long ago (or the appointment has started):
    /// skipped, never sent late.
    Skip,
}

pub fn fate(due_at: i64, starts_at: i64, now: i64) -> Fate {
    if now < due_at {
        Fate::Wait
    } else if now - due_at > GRACE_SECS || now >= starts_at {
        Fate::Skip
    } else {
        Fate::Send
    }
}

/// What a reminder's Cancel link allows now, by the clinic's policy (the
/// same rule as the portal's Cancel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelLink {
    /// Cancels at once.
    Cancel,
    /// Asks the clinic, which approves it.
    Request,
    /// Inside the late-notice window: the patient is asked to call.
    Call { fee_cents: i64 },
    /// It cannot be cancelled at all (already cancelled, started, ...).
    Closed(String),
}

pub fn cancel_link(
    policy: &Policy,
    status: AppointmentStatus,
    starts_at: i64,
    now: i64,
) -> CancelLink {
    if let Err(e) = booking::check_cancel(status, starts_at, now) {
        return CancelLink::Closed(e);
    }
    match policy.decide(PatientChange::Cancel, starts_at, now) {
        Err(e) => CancelLink::Closed(e),
        Ok(Decision::Direct) => CancelLink::Cancel,
        Ok(Decision::NeedsApproval) => CancelLink::Request,
        Ok(Decision::InsideWindow { fee_cents }) => CancelLink::Call { fee_cents },
    }
}

/// A status a reminder's row can show staff.
pub fn staff_label(sent_at: Option<&str>, state: Option<i64>) -> Option<String> {
    match (sent_at, state) {
        (Some(at), _) => Some(format!("Reminder sent {at}")),
        (None, Some(1)) => Some("Reminder queued".into()),
        (None, Some(2)) => Some("Reminder scheduled".into()),
        (None, Some(3)) => Some("Reminder skipped".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppointmentStatus::*;

    const START: i64 = 1_800_000_000;

    #[test]
    fn both_reminders_fall_due_before_the_start_and_only_future_ones_count() {
        let s = ReminderSettings::default();
        let now = START - 3 * 86_400;
        assert_eq!(
            s.due_times(START, now),
            vec![(1, START - 86_400), (2, START - 7_200)]
        );
        // Booked the evening before: only the second is still ahead.
        assert_eq!(
            s.due_times(START, START - 10 * 3_600),
            vec![(2, START - 7_200)]
        );
        // Exactly at its moment it is no longer ahead.
        assert_eq!(s.due_times(START, START - 7_200), vec![]);
        let one = ReminderSettings {
            second_minutes: None,
            ..s
        };
        assert_eq!(one.due_times(START, now), vec![(1, START - 86_400)]);
        let off = ReminderSettings { on: false, ..s };
        assert!(off.due_times(START, now).is_empty());
    }

    #[test]
    fn a_reminder_is_sent_within_the_grace_and_skipped_after_it_or_after_the_start() {
        let due = START - 7_200;
        assert_eq!(fate(due, START, due - 1), Fate::Wait);
        assert_eq!(fate(due, START, due), Fate::Send);
        assert_eq!(fate(due, START, due + GRACE_SECS), Fate::Send);
        assert_eq!(fate(due, START, due + GRACE_SECS + 1), Fate::Skip);
        // A short offset: the grace never runs past the start.
        assert_eq!(fate(START - 600, START, START), Fate::Skip);
        assert_eq!(fate(START - 600, START, START - 1), Fate::Send);
    }

    #[test]
    fn settings_are_checked() {
        let s = ReminderSettings::default();
        assert!(s.validate().is_ok());
        let bad = |s: ReminderSettings| s.validate().unwrap_err();
        assert!(bad(ReminderSettings {
            first_minutes: 5,
            ..s
        })
        .contains("first reminder"));
        assert!(bad(ReminderSettings {
            first_minutes: 15 * 24 * 60,
            ..s
        })
        .contains("14 days"));
        assert!(bad(ReminderSettings {
            second_minutes: Some(1440),
            ..s
        })
        .contains("closer to the start"));
        assert!(bad(ReminderSettings {
            second_minutes: Some(0),
            ..s
        })
        .contains("second reminder"));
        assert!(bad(ReminderSettings {
            email: false,
            sms: false,
            ..s
        })
        .contains("email, SMS"));
        // Off, no channel is needed.
        assert!(ReminderSettings {
            on: false,
            email: false,
            sms: false,
            ..s
        }
        .validate()
        .is_ok());
        assert!(ReminderSettings {
            second_minutes: None,
            ..s
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn the_cancel_link_follows_the_clinics_policy() {
        let p = Policy::default(); // 24 h window, no approval
        assert_eq!(
            cancel_link(&p, Booked, START, START - 2 * 86_400),
            CancelLink::Cancel
        );
        let approval = Policy {
            needs_approval: true,
            ..p
        };
        assert_eq!(
            cancel_link(&approval, Booked, START, START - 2 * 86_400),
            CancelLink::Request
        );
        let fee = Policy {
            late_cancel_fee_cents: 2_500,
            ..p
        };
        assert_eq!(
            cancel_link(&fee, Booked, START, START - 3_600),
            CancelLink::Call { fee_cents: 2_500 }
        );
        assert!(matches!(
            cancel_link(&p, Cancelled, START, START - 2 * 86_400),
            CancelLink::Closed(_)
        ));
        assert!(matches!(
            cancel_link(&p, Booked, START, START),
            CancelLink::Closed(_)
        ));
    }

    #[test]
    fn staff_read_what_became_of_the_reminders() {
        assert_eq!(
            staff_label(Some("Nov 29, 3:00 PM"), Some(1)).as_deref(),
            Some("Reminder sent Nov 29, 3:00 PM")
        );
        assert_eq!(
            staff_label(None, Some(2)).as_deref(),
            Some("Reminder scheduled")
        );
        assert_eq!(
            staff_label(None, Some(3)).as_deref(),
            Some("Reminder skipped")
        );
        assert_eq!(staff_label(None, None), None);
    }
}
