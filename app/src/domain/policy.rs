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
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            cancel_window_minutes: 24 * 60,
            reschedule_window_minutes: 24 * 60,
            needs_approval: false,
            late_cancel_fee_cents: 0,
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
