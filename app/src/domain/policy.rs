//! A clinic's cancellation policy and what it means for a patient's cancel
//! or reschedule (DESIGN §1 "Patient self-service and practice approval").
//!
//! The late-notice window is a length of real time before the start
//! ("24 hours"), not a wall-clock rule: across a daylight-saving change the
//! window still ends exactly that many hours before the appointment.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub cancel_window_minutes: i64,
    pub reschedule_window_minutes: i64,
    /// Outside the window, a patient's change waits for the practice's
    /// approval (otherwise it takes effect at once).
    pub needs_approval: bool,
    pub late_cancel_fee_cents: i64,
    /// How far ahead patients may book, request or move an appointment:
    /// the booking page offers free times up to it and the server refuses
    /// anything later.
    pub booking_horizon_days: u32,
}

/// The range an admin may set the booking horizon to.
pub const HORIZON_DAYS: std::ops::RangeInclusive<u32> = 1..=365;

impl Default for Policy {
    fn default() -> Self {
        Self {
            cancel_window_minutes: 24 * 60,
            reschedule_window_minutes: 24 * 60,
            needs_approval: false,
            late_cancel_fee_cents: 0,
            booking_horizon_days: 90,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PatientChange {
    Cancel,
    Reschedule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Takes effect at once.
    Direct,
    /// Becomes a request in the practice's Appointment Requests tab.
    NeedsApproval,
    /// Inside the late-notice window: the patient should contact the clinic;
    /// a request they still send is flagged, and a cancellation may cost
    /// the fee.
    InsideWindow { fee_cents: i64 },
}

impl Policy {
    /// The last instant (unix seconds) a patient may book, request or move
    /// an appointment to, seen at `now`.
    pub fn horizon_end(&self, now: i64) -> i64 {
        now.saturating_add(i64::from(self.booking_horizon_days) * 86_400)
    }

    /// Refuses a time beyond the booking horizon, in words a patient can act on.
    pub fn check_within_horizon(&self, start: i64, now: i64) -> Result<(), String> {
        if start > self.horizon_end(now) {
            return Err(beyond_horizon(self.booking_horizon_days));
        }
        Ok(())
    }

    /// Checks an admin's settings.
    pub fn validate(&self) -> Result<(), String> {
        let max = 30 * 24 * 60;
        if !(0..=max).contains(&self.cancel_window_minutes)
            || !(0..=max).contains(&self.reschedule_window_minutes)
        {
            return Err("A late-notice window can be from 0 to 720 hours.".into());
        }
        if !(0..=1_000_000).contains(&self.late_cancel_fee_cents) {
            return Err("The late-cancellation fee must be between 0 and 10,000.".into());
        }
        if !HORIZON_DAYS.contains(&self.booking_horizon_days) {
            return Err(format!(
                "Patients can be allowed to book from {} to {} days ahead.",
                HORIZON_DAYS.start(),
                HORIZON_DAYS.end()
            ));
        }
        Ok(())
    }

    /// What a patient's change to an appointment starting at `starts_at`
    /// means at `now` (unix seconds). Exactly at the window's edge (24 hours
    /// to go, by default) the change is still on time; one second later it
    /// is late. An appointment that has started cannot be changed.
    pub fn decide(
        &self,
        change: PatientChange,
        starts_at: i64,
        now: i64,
    ) -> Result<Decision, String> {
        if now >= starts_at {
            return Err(
                "This appointment has already started, so it can no longer be changed.".into(),
            );
        }
        let window = match change {
            PatientChange::Cancel => self.cancel_window_minutes,
            PatientChange::Reschedule => self.reschedule_window_minutes,
        } * 60;
        Ok(if starts_at - now < window {
            Decision::InsideWindow {
                fee_cents: match change {
                    PatientChange::Cancel => self.late_cancel_fee_cents,
                    PatientChange::Reschedule => 0,
                },
            }
        } else if self.needs_approval {
            Decision::NeedsApproval
        } else {
            Decision::Direct
        })
    }
}

/// The message for a time beyond a horizon of `days`.
pub fn beyond_horizon(days: u32) -> String {
    format!(
        "Choose a time within the next {}, from the free times shown.",
        horizon_words(days)
    )
}

/// "90 days", "1 day", "4 weeks" (a whole number of weeks reads better).
pub fn horizon_words(days: u32) -> String {
    match days {
        1 => "day".into(),
        7 => "week".into(),
        d if d % 7 == 0 && d <= 70 => format!("{} weeks", d / 7),
        d => format!("{d} days"),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::New_York;
    use chrono_tz::Australia::Sydney;

    fn at<Z: TimeZone>(tz: &Z, y: i32, m: u32, d: u32, h: u32) -> i64 {
        tz.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap()
            .timestamp()
    }

    const DAY: i64 = 86_400;

    #[test]
    fn the_window_edge_is_on_time_and_one_second_later_is_late() {
        let p = Policy {
            late_cancel_fee_cents: 2_500,
            ..Policy::default()
        };
        for tz_start in [at(&New_York, 2026, 11, 25, 9), at(&Sydney, 2026, 11, 25, 9)] {
            assert_eq!(
                p.decide(PatientChange::Cancel, tz_start, tz_start - DAY),
                Ok(Decision::Direct)
            );
            assert_eq!(
                p.decide(PatientChange::Cancel, tz_start, tz_start - DAY + 1),
                Ok(Decision::InsideWindow { fee_cents: 2_500 })
            );
            assert_eq!(
                p.decide(PatientChange::Reschedule, tz_start, tz_start - DAY + 1),
                Ok(Decision::InsideWindow { fee_cents: 0 }),
                "the fee is for late cancellations"
            );
            assert!(p.decide(PatientChange::Cancel, tz_start, tz_start).is_err());
        }
    }

    #[test]
    fn approval_applies_outside_the_window_only() {
        let p = Policy {
            needs_approval: true,
            ..Policy::default()
        };
        let start = at(&New_York, 2026, 12, 1, 10);
        assert_eq!(
            p.decide(PatientChange::Reschedule, start, start - 2 * DAY),
            Ok(Decision::NeedsApproval)
        );
        assert_eq!(
            p.decide(PatientChange::Reschedule, start, start - 3600),
            Ok(Decision::InsideWindow { fee_cents: 0 })
        );
    }

    #[test]
    fn windows_are_real_hours_across_dst() {
        let p = Policy::default();
        // New York springs forward early on Sunday 2026-03-08. From 09:00
        // on the Saturday to 09:00 on the Sunday is only 23 hours: inside.
        let start = at(&New_York, 2026, 3, 8, 9);
        let day_before = at(&New_York, 2026, 3, 7, 9);
        assert_eq!(start - day_before, 23 * 3600);
        assert!(matches!(
            p.decide(PatientChange::Cancel, start, day_before),
            Ok(Decision::InsideWindow { .. })
        ));
        assert_eq!(
            p.decide(PatientChange::Cancel, start, day_before - 3600),
            Ok(Decision::Direct)
        );
        // New York falls back on 2026-11-01: 09:00 Saturday to 09:00 Sunday is 25 hours.
        let sunday = at(&New_York, 2026, 11, 1, 9);
        let saturday = at(&New_York, 2026, 10, 31, 9);
        assert_eq!(
            p.decide(PatientChange::Cancel, sunday, saturday + 3600),
            Ok(Decision::Direct)
        );
        assert!(matches!(
            p.decide(PatientChange::Cancel, sunday, saturday + 3600 + 1),
            Ok(Decision::InsideWindow { .. })
        ));
        // Sydney springs forward on 2026-10-04 (02:00 → 03:00).
        let sun = at(&Sydney, 2026, 10, 4, 9);
        let sat = at(&Sydney, 2026, 10, 3, 9);
        assert_eq!(sun - sat, 23 * 3600);
        assert!(matches!(
            p.decide(PatientChange::Reschedule, sun, sat),
            Ok(Decision::InsideWindow { .. })
        ));
    }

    #[test]
    fn the_horizon_is_inclusive_and_said_in_words() {
        let p = Policy {
            booking_horizon_days: 90,
            ..Policy::default()
        };
        let now = 1_800_000_000;
        assert_eq!(p.check_within_horizon(now + 90 * DAY, now), Ok(()));
        assert_eq!(
            p.check_within_horizon(now + 90 * DAY + 1, now),
            Err("Choose a time within the next 90 days, from the free times shown.".into())
        );
        assert_eq!(horizon_words(28), "4 weeks");
        assert_eq!(horizon_words(1), "day");
        assert_eq!(horizon_words(365), "365 days");
        // At the end of time the horizon saturates instead of wrapping.
        assert_eq!(p.horizon_end(i64::MAX - 5), i64::MAX);
        for (days, ok) in [(0, false), (1, true), (365, true), (366, false)] {
            let p = Policy {
                booking_horizon_days: days,
                ..Policy::default()
            };
            assert_eq!(p.validate().is_ok(), ok, "{days} days");
        }
    }

    #[test]
    fn settings_are_checked() {
        assert!(Policy::default().validate().is_ok());
        assert!(Policy {
            cancel_window_minutes: -1,
            ..Policy::default()
        }
        .validate()
        .is_err());
        assert!(Policy {
            late_cancel_fee_cents: -5,
            ..Policy::default()
        }
        .validate()
        .is_err());
    }

    proptest::proptest! {
        /// For any window, approval setting and moment: the decision is
        /// "inside the window" exactly when fewer than the window's real
        /// seconds remain, whatever the zone's clock does in between.
        #[test]
        fn inside_the_window_exactly_when_less_than_the_window_remains(
            window_hours in 0i64..=168,
            needs_approval: bool,
            start_offset in 0i64..(400 * DAY),
            before in 1i64..(10 * DAY),
        ) {
            let p = Policy {
                cancel_window_minutes: window_hours * 60,
                reschedule_window_minutes: window_hours * 60,
                needs_approval,
                late_cancel_fee_cents: 700,
                ..Policy::default()
            };
            // Starts spread over 2026 and 2027, through New York's DST changes.
            let start = at(&New_York, 2026, 1, 1, 0) + start_offset;
            let now = start - before;
            let d = p.decide(PatientChange::Cancel, start, now).unwrap();
            let late = before < window_hours * 3600;
            proptest::prop_assert_eq!(
                d,
                if late {
                    Decision::InsideWindow { fee_cents: 700 }
                } else if needs_approval {
                    Decision::NeedsApproval
                } else {
                    Decision::Direct
                }
            );
            proptest::prop_assert!(p.decide(PatientChange::Cancel, start, start).is_err());
        }
    }
}
