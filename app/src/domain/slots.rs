//! Free slots: a provider's weekly availability, minus time off, minus the
//! time they are already booked.
//!
//! Weekly rules are wall-clock times in the clinic's zone (09:00–17:00 on
//! Mondays stays 09:00–17:00 across a daylight-saving change). Time off and
//! bookings are instants (unix seconds). Slots start on a grid of the
//! service's length from the start of each availability window, so the
//! times a patient sees are the ones staff expect ("09:00, 09:30, …").

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

/// One weekly window: weekday 0 = Monday; minutes from local midnight,
/// `end_minute` up to 1440 (midnight at the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyWindow {
    pub weekday: u8,
    pub start_minute: u32,
    pub end_minute: u32,
}

impl WeeklyWindow {
    /// Checks a window typed by a user.
    pub fn new(weekday: u8, start_minute: u32, end_minute: u32) -> Result<Self, String> {
        if weekday > 6 {
            return Err("Choose a day of the week.".into());
        }
        if start_minute >= 1440 || end_minute > 1440 {
            return Err("Times must be within the day (00:00 to 24:00).".into());
        }
        if start_minute >= end_minute {
            return Err("The end time must be after the start time.".into());
        }
        if end_minute - start_minute < 5 {
            return Err("A slot must be at least 5 minutes long.".into());
        }
        Ok(Self {
            weekday,
            start_minute,
            end_minute,
        })
    }
}

/// A half-open span of time [start, end) in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

/// A local wall-clock time that exists in the zone, as unix seconds. In
/// the autumn overlap the earlier instant is taken; a time in the spring
/// gap does not exist and gives None (no slot is offered there).
fn instant<Z: TimeZone>(tz: &Z, local: NaiveDateTime) -> Option<i64> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.timestamp())
}

fn local_at(date: NaiveDate, minute: u32) -> NaiveDateTime {
    if minute >= 1440 {
        (date + Duration::days(1)).and_time(NaiveTime::MIN)
    } else {
        date.and_time(
            NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or(NaiveTime::MIN),
        )
    }
}

/// The instant a window starts or ends on `date`. A start or end inside a
/// spring-forward gap moves to when the clocks resume.
fn window_edge<Z: TimeZone>(tz: &Z, date: NaiveDate, minute: u32) -> Option<i64> {
    let local = local_at(date, minute);
    instant(tz, local).or_else(|| {
        (1..=180)
            .map(|m| local + Duration::minutes(m))
            .find_map(|l| instant(tz, l))
    })
}

/// Whether `span` overlaps any of `sorted` (sorted by start, possibly
/// overlapping each other).
fn blocked(sorted: &[Span], span: Span) -> bool {
    // Spans starting at or after span.end cannot overlap; among the others
    // any one ending after span.start does.
    let upto = sorted.partition_point(|b| b.start < span.end);
    sorted[..upto].iter().any(|b| b.end > span.start)
}

/// What a free-slot computation needs about one provider.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    pub windows: Vec<WeeklyWindow>,
    /// Time off and existing appointments.
    pub busy: Vec<Span>,
}

impl Calendar {
    pub fn new(windows: Vec<WeeklyWindow>, mut busy: Vec<Span>) -> Self {
        busy.sort_by_key(|s| s.start);
        Self { windows, busy }
    }

    /// Free slot starts (unix seconds, ascending, no duplicates) on the local
    /// dates `from..from+days`, each `minutes` long, starting no earlier than
    /// `not_before`.
    pub fn free_slots<Z: TimeZone>(
        &self,
        tz: &Z,
        from: NaiveDate,
        days: u32,
        minutes: u32,
        not_before: i64,
    ) -> Vec<i64> {
        let mut out = Vec::new();
        if minutes == 0 {
            return out;
        }
        for day in 0..i64::from(days) {
            let date = from + Duration::days(day);
            let weekday = date.weekday().num_days_from_monday() as u8;
            for w in self.windows.iter().filter(|w| w.weekday == weekday) {
                let Some(end) = window_edge(tz, date, w.end_minute) else {
                    continue;
                };
                let mut m = w.start_minute;
                while m + minutes <= w.end_minute {
                    if let Some(start) = instant(tz, local_at(date, m)) {
                        let span = Span {
                            start,
                            end: start + i64::from(minutes) * 60,
                        };
                        if start >= not_before && span.end <= end && !blocked(&self.busy, span) {
                            out.push(start);
                        }
                    }
                    m += minutes;
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether [start, start + minutes) lies inside one availability window
    /// (on its local date in `tz`) and clear of time off and bookings. Used
    /// to check the times a patient asks for, which need not sit on the grid.
    pub fn is_free<Z: TimeZone>(&self, tz: &Z, start: i64, minutes: u32) -> bool {
        let span = Span {
            start,
            end: start + i64::from(minutes) * 60,
        };
        if blocked(&self.busy, span) {
            return false;
        }
        let Some(local) = tz.timestamp_opt(start, 0).earliest() else {
            return false;
        };
        let date = local.date_naive();
        let weekday = date.weekday().num_days_from_monday() as u8;
        self.windows
            .iter()
            .filter(|w| w.weekday == weekday)
            .any(|w| {
                let (Some(ws), Some(we)) = (
                    window_edge(tz, date, w.start_minute),
                    window_edge(tz, date, w.end_minute),
                ) else {
                    return false;
                };
                ws <= span.start && span.end <= we
            })
    }
}

/// "Mon", "Tue", … for weekday 0..=6.
pub fn weekday_label(weekday: u8) -> &'static str {
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    .get(usize::from(weekday))
    .copied()
    .unwrap_or("?")
}

/// "09:30" for minutes from midnight (1440 is "24:00").
pub fn hhmm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Parses "9:30" / "09:30" / "24:00" into minutes from midnight.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use chrono::Utc;
    use chrono_tz::America::New_York;
    use chrono_tz::Australia::Sydney;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
    fn at<Z: TimeZone>(tz: &Z, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .earliest()
            .unwrap()
            .timestamp()
    }
    fn local_times<Z: TimeZone>(tz: &Z, slots: &[i64]) -> Vec<String>
    where
        Z::Offset: std::fmt::Display,
    {
        slots
            .iter()
            .map(|s| {
                tz.timestamp_opt(*s, 0)
                    .unwrap()
                    .format("%a %H:%M")
                    .to_string()
            })
            .collect()
    }
    /// Monday 9–12 and Wednesday 14–16.
    fn week() -> Vec<WeeklyWindow> {
        vec![
            WeeklyWindow::new(0, 9 * 60, 12 * 60).unwrap(),
            WeeklyWindow::new(2, 14 * 60, 16 * 60).unwrap(),
        ]
    }

    #[test]
    fn slots_follow_the_weekly_windows() {
        // 2026-11-23 is a Monday.
        let cal = Calendar::new(week(), vec![]);
        let slots = cal.free_slots(&New_York, date(2026, 11, 23), 7, 60, 0);
        assert_eq!(
            local_times(&New_York, &slots),
            [
                "Mon 09:00",
                "Mon 10:00",
                "Mon 11:00",
                "Wed 14:00",
                "Wed 15:00"
            ]
        );
    }

    #[test]
    fn a_slot_must_fit_before_the_window_ends() {
        // 45-minute slots in 09:00–12:00: 09:00, 09:45, 10:30, 11:15 (ends 12:00).
        let cal = Calendar::new(vec![WeeklyWindow::new(0, 540, 720).unwrap()], vec![]);
        let slots = cal.free_slots(&New_York, date(2026, 11, 23), 1, 45, 0);
        assert_eq!(
            local_times(&New_York, &slots),
            ["Mon 09:00", "Mon 09:45", "Mon 10:30", "Mon 11:15"]
        );
        // 50 minutes: 09:00, 09:50, 10:40 (11:30 would end at 12:20).
        let slots = cal.free_slots(&New_York, date(2026, 11, 23), 1, 50, 0);
        assert_eq!(slots.len(), 3);
    }

    #[test]
    fn bookings_and_time_off_remove_exactly_the_slots_they_touch() {
        let mon = |h, m| at(&New_York, 2026, 11, 23, h, m);
        let busy = vec![
            // An appointment 10:00–10:30 blocks the 10:00 hour slot only.
            Span {
                start: mon(10, 0),
                end: mon(10, 30),
            },
            // Time off ending exactly when the 11:00 slot starts does not touch it.
            Span {
                start: mon(8, 0),
                end: mon(9, 0),
            },
        ];
        let cal = Calendar::new(week(), busy);
        let slots = cal.free_slots(&New_York, date(2026, 11, 23), 1, 60, 0);
        assert_eq!(local_times(&New_York, &slots), ["Mon 09:00", "Mon 11:00"]);
        // A whole-day exception removes the day.
        let off = Span {
            start: mon(0, 0),
            end: at(&New_York, 2026, 11, 24, 0, 0),
        };
        let cal = Calendar::new(week(), vec![off]);
        assert!(cal
            .free_slots(&New_York, date(2026, 11, 23), 1, 30, 0)
            .is_empty());
    }

    #[test]
    fn slots_already_started_are_not_offered() {
        let cal = Calendar::new(week(), vec![]);
        let now = at(&New_York, 2026, 11, 23, 10, 0);
        let slots = cal.free_slots(&New_York, date(2026, 11, 23), 1, 60, now + 1);
        assert_eq!(local_times(&New_York, &slots), ["Mon 11:00"]);
    }

    #[test]
    fn windows_keep_their_wall_clock_times_across_dst() {
        // New York falls back on Sunday 2026-11-01 and springs forward on
        // Sunday 2026-03-08. A Sunday 09:00 window stays 09:00 local on both
        // sides, so its UTC time moves by an hour.
        let sun = vec![WeeklyWindow::new(6, 540, 600).unwrap()];
        let cal = Calendar::new(sun, vec![]);
        let before = cal.free_slots(&New_York, date(2026, 10, 25), 1, 60, 0);
        let after = cal.free_slots(&New_York, date(2026, 11, 1), 1, 60, 0);
        assert_eq!(local_times(&New_York, &before), ["Sun 09:00"]);
        assert_eq!(local_times(&New_York, &after), ["Sun 09:00"]);
        assert_eq!(after[0] - before[0], 7 * 86_400 + 3_600);
    }

    #[test]
    fn the_spring_gap_offers_no_slot_and_the_window_is_shorter() {
        // 2026-03-08 in New York: 02:00 jumps to 03:00. A 01:00–04:00 window
        // with 30-minute slots is two real hours long: 01:00, 01:30, 03:00, 03:30.
        let cal = Calendar::new(vec![WeeklyWindow::new(6, 60, 240).unwrap()], vec![]);
        let slots = cal.free_slots(&New_York, date(2026, 3, 8), 1, 30, 0);
        assert_eq!(
            local_times(&New_York, &slots),
            ["Sun 01:00", "Sun 01:30", "Sun 03:00", "Sun 03:30"]
        );
        // Sydney springs forward on 2026-10-04 (02:00 → 03:00).
        let cal = Calendar::new(vec![WeeklyWindow::new(6, 60, 240).unwrap()], vec![]);
        let slots = cal.free_slots(&Sydney, date(2026, 10, 4), 1, 60, 0);
        assert_eq!(local_times(&Sydney, &slots), ["Sun 01:00", "Sun 03:00"]);
    }

    #[test]
    fn the_autumn_overlap_offers_each_wall_clock_time_once() {
        // 2026-11-01 in New York: 01:00–02:00 happens twice. A 00:00–03:00
        // window gives 00:00, 01:00, 02:00 once each (the 01:00 slot is the
        // first of the two).
        let cal = Calendar::new(vec![WeeklyWindow::new(6, 0, 180).unwrap()], vec![]);
        let slots = cal.free_slots(&New_York, date(2026, 11, 1), 1, 60, 0);
        assert_eq!(
            local_times(&New_York, &slots),
            ["Sun 00:00", "Sun 01:00", "Sun 02:00"]
        );
        assert_eq!(slots[1] - slots[0], 3_600);
    }

    #[test]
    fn a_window_to_midnight_ends_at_the_next_day() {
        let cal = Calendar::new(vec![WeeklyWindow::new(0, 23 * 60, 1440).unwrap()], vec![]);
        let slots = cal.free_slots(&Sydney, date(2026, 11, 23), 1, 30, 0);
        assert_eq!(local_times(&Sydney, &slots), ["Mon 23:00", "Mon 23:30"]);
    }

    #[test]
    fn requested_times_need_not_sit_on_the_grid() {
        let mon = |h, m| at(&New_York, 2026, 11, 23, h, m);
        let cal = Calendar::new(
            week(),
            vec![Span {
                start: mon(11, 0),
                end: mon(11, 30),
            }],
        );
        assert!(cal.is_free(&New_York, mon(9, 10), 30));
        assert!(
            cal.is_free(&New_York, mon(10, 30), 30),
            "ends exactly when the booking starts"
        );
        assert!(
            !cal.is_free(&New_York, mon(10, 45), 30),
            "runs into the booking"
        );
        assert!(
            !cal.is_free(&New_York, mon(11, 45), 30),
            "runs past the window"
        );
        assert!(
            !cal.is_free(&New_York, mon(8, 45), 30),
            "starts before the window"
        );
        assert!(
            !cal.is_free(&New_York, at(&New_York, 2026, 11, 24, 9, 0), 30),
            "Tuesday has no window"
        );
    }

    #[test]
    fn window_input_is_checked() {
        assert!(WeeklyWindow::new(7, 0, 60).is_err());
        assert!(WeeklyWindow::new(0, 600, 600).is_err());
        assert!(WeeklyWindow::new(0, 600, 540).is_err());
        assert!(WeeklyWindow::new(0, 0, 1441).is_err());
        assert!(WeeklyWindow::new(0, 0, 1440).is_ok());
        assert_eq!(parse_hhmm("9:05"), Some(545));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:30"), None);
        assert_eq!(parse_hhmm("10:60"), None);
        assert_eq!(hhmm(545), "09:05");
    }

    fn arb_window() -> impl Strategy<Value = WeeklyWindow> {
        (0u8..7, 0u32..1400, 5u32..600).prop_map(|(d, s, len)| WeeklyWindow {
            weekday: d,
            start_minute: s,
            end_minute: (s + len).min(1440),
        })
    }

    proptest! {
        /// Every offered slot is really free: inside a window, clear of
        /// every busy span, not before `not_before`, and `is_free` agrees;
        /// and slots come out sorted without duplicates.
        #[test]
        fn every_slot_is_free(
            windows in prop::collection::vec(arb_window(), 0..6),
            busy in prop::collection::vec((0i64..14 * 86_400, 60i64..20_000), 0..12),
            minutes in prop::sample::select(vec![15u32, 20, 30, 45, 60, 90]),
            start_day in 0i64..400,
            not_before_offset in 0i64..14 * 86_400,
            sydney in any::<bool>(),
        ) {
            let from = date(2026, 1, 1) + Duration::days(start_day);
            let base = Utc.from_utc_datetime(&from.and_time(NaiveTime::MIN)).timestamp() - 86_400;
            let busy: Vec<Span> = busy.into_iter().map(|(s, l)| Span { start: base + s, end: base + s + l }).collect();
            let cal = Calendar::new(windows, busy.clone());
            let not_before = base + not_before_offset;
            let check = |slots: Vec<i64>, is_free: &dyn Fn(i64) -> bool| {
                for w in slots.windows(2) {
                    prop_assert!(w[0] < w[1]);
                }
                for s in slots {
                    let end = s + i64::from(minutes) * 60;
                    prop_assert!(s >= not_before);
                    prop_assert!(busy.iter().all(|b| b.end <= s || b.start >= end));
                    prop_assert!(is_free(s));
                }
                Ok(())
            };
            if sydney {
                check(cal.free_slots(&Sydney, from, 10, minutes, not_before), &|s| cal.is_free(&Sydney, s, minutes))?;
            } else {
                check(cal.free_slots(&New_York, from, 10, minutes, not_before), &|s| cal.is_free(&New_York, s, minutes))?;
            }
        }

        /// Adding a booking never adds a slot, and removes every slot it overlaps.
        #[test]
        fn a_booking_only_removes_slots(
            windows in prop::collection::vec(arb_window(), 1..6),
            at_offset in 0i64..7 * 86_400,
            len in 60i64..10_000,
            minutes in prop::sample::select(vec![15u32, 30, 60]),
        ) {
            let from = date(2026, 3, 2);
            let base = Utc.from_utc_datetime(&from.and_time(NaiveTime::MIN)).timestamp();
            let before = Calendar::new(windows.clone(), vec![]).free_slots(&New_York, from, 7, minutes, 0);
            let booking = Span { start: base + at_offset, end: base + at_offset + len };
            let after = Calendar::new(windows, vec![booking]).free_slots(&New_York, from, 7, minutes, 0);
            for s in &after {
                prop_assert!(before.contains(s));
            }
            for s in &before {
                let overlaps = *s < booking.end && booking.start < s + i64::from(minutes) * 60;
                prop_assert_eq!(after.contains(s), !overlaps);
            }
        }
    }
}
