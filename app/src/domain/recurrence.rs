//! Recurring appointments: weekly or every N weeks, by count or until a
//! date, expanded in the clinic's time zone so an occurrence keeps its local
//! wall-clock time across daylight-saving changes (RFC 5545 semantics).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Hard cap on occurrences stored for one series (a bounded horizon keeps
/// conflicts and queries plain SQL).
pub const MAX_OCCURRENCES: u32 = 104;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// This many occurrences in all (the first included).
    Count(u32),
    /// The last occurrence is on or before this local date.
    Until(NaiveDate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weekly {
    /// 1 = every week, 2 = every other week, ...
    pub interval_weeks: u32,
    pub end: End,
}

impl Weekly {
    pub fn validate(&self, first: NaiveDate) -> Result<(), String> {
        if self.interval_weeks == 0 || self.interval_weeks > 52 {
            return Err("Repeat every 1 to 52 weeks.".into());
        }
        match self.end {
            End::Count(0) => Err("A series needs at least one meeting.".into()),
            End::Count(n) if n > MAX_OCCURRENCES => Err(format!(
                "A series can have at most {MAX_OCCURRENCES} meetings."
            )),
            End::Until(d) if d < first => {
                Err("The series must end on or after its first meeting.".into())
            }
            _ => Ok(()),
        }
    }

    /// The RFC 5545 RRULE text of this rule.
    pub fn rrule(&self) -> String {
        let end = match self.end {
            End::Count(n) => format!("COUNT={n}"),
            End::Until(d) => format!("UNTIL={}", d.format("%Y%m%d")),
        };
        if self.interval_weeks == 1 {
            format!("FREQ=WEEKLY;{end}")
        } else {
            format!("FREQ=WEEKLY;INTERVAL={};{end}", self.interval_weeks)
        }
    }

    /// Start instants (UTC) of every occurrence, the first being `first`
    /// (a local date-time in `tz`), at most `MAX_OCCURRENCES`.
    ///
    /// A local time that does not exist on a given day (the hour skipped when
    /// clocks go forward) moves forward by the gap, as RFC 5545 says; an
    /// ambiguous one (clocks going back) takes the first instant.
    pub fn expand<Z: TimeZone>(&self, tz: &Z, first: NaiveDateTime) -> Vec<DateTime<Utc>> {
        let step = Duration::weeks(i64::from(self.interval_weeks.max(1)));
        let mut out = Vec::new();
        let mut local = first;
        loop {
            match self.end {
                End::Count(n) if out.len() as u32 >= n.min(MAX_OCCURRENCES) => break,
                End::Until(d) if local.date() > d => break,
                _ => {}
            }
            if out.len() as u32 >= MAX_OCCURRENCES {
                break;
            }
            if let Some(t) = resolve_local(tz, local) {
                out.push(t);
            }
            local += step;
        }
        out
    }
}

impl Weekly {
    /// Reads back what `rrule` wrote.
    pub fn parse_rrule(text: &str) -> Option<Weekly> {
        let mut interval = 1u32;
        let mut end = None;
        let mut weekly = false;
        for part in text.split(';') {
            let (k, v) = part.split_once('=')?;
            match k {
                "FREQ" => weekly = v == "WEEKLY",
                "INTERVAL" => interval = v.parse().ok()?,
                "COUNT" => end = Some(End::Count(v.parse().ok()?)),
                "UNTIL" => {
                    end = Some(End::Until(
                        NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d").ok()?,
                    ))
                }
                _ => {}
            }
        }
        Some(Weekly {
            interval_weeks: interval,
            end: end.filter(|_| weekly)?,
        })
    }

    /// Splits a series for "this and all future events": the earlier part
    /// now ends the day before `split_date` (the local date of the first
    /// moved occurrence); the moved part keeps the interval and has
    /// `remaining` meetings, or ends at the old end date shifted by
    /// `shift_days` like its meetings were.
    pub fn split(self, split_date: NaiveDate, remaining: u32, shift_days: i64) -> (Weekly, Weekly) {
        let earlier = Weekly {
            interval_weeks: self.interval_weeks,
            end: End::Until(split_date.pred_opt().unwrap_or(split_date)),
        };
        let later_end = match self.end {
            End::Count(_) => End::Count(remaining.max(1)),
            End::Until(d) => End::Until(d + Duration::days(shift_days)),
        };
        (
            earlier,
            Weekly {
                interval_weeks: self.interval_weeks,
                end: later_end,
            },
        )
    }
}

/// A local time someone entered, as an instant: refused when the clocks
/// skip it (spring forward), never silently moved; when they pass it twice
/// (fall back) it is the first, earlier one.
pub fn entered_local<Z: TimeZone>(tz: &Z, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => Ok(t.with_timezone(&Utc)),
        None => Err(format!(
            "{} on {} does not exist here: the clocks go forward an hour then. Choose another time.",
            local.format("%H:%M"),
            local.format("%a %-d %b %Y"),
        )),
    }
}

/// The rule for a local time that happens twice (the night the clocks go
/// back): it means the first one, before the change. When the instant `at`
/// is such a time, says so in words shown to whoever entered it, so the
/// rule is never applied silently.
pub fn repeated_local_note<Z: TimeZone>(tz: &Z, at: i64) -> Option<String> {
    let local = DateTime::from_timestamp(at, 0)?
        .with_timezone(tz)
        .naive_local();
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Ambiguous(first, _) if first.timestamp() == at => Some(format!(
            "{} on {} happens twice here (the clocks go back an hour that night): \
             this is the first {}, before the clocks change.",
            local.format("%H:%M"),
            local.format("%a %-d %b %Y"),
            local.format("%H:%M"),
        )),
        _ => None,
    }
}

/// A local wall-clock time in `tz` as an instant (see `Weekly::expand`).
pub fn resolve_local<Z: TimeZone>(tz: &Z, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return Some(t.with_timezone(&Utc));
    }
    // In a gap (clocks went forward): interpret it with the UTC offset in
    // force before the gap (RFC 5545 §3.3.5), which lands as far past the gap
    // as the time was into it: 02:30 on a 02:00→03:00 night becomes 03:30.
    let before = tz
        .from_local_datetime(&(local - Duration::hours(6)))
        .earliest()?;
    let offset = i64::from(before.offset().fix().local_minus_utc());
    Some(Utc.from_utc_datetime(&(local - Duration::seconds(offset))))
}

#[cfg(all(test, feature = "ssr"))]
mod entered_tests {
    use super::*;

    #[test]
    fn a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first() {
        let ny = chrono_tz::America::New_York;
        let at = |d, h, m| {
            NaiveDate::from_ymd_opt(2026, 3, d)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
        };
        // 2026-03-08: 02:00 -> 03:00 in New York.
        assert_eq!(
            entered_local(&ny, at(8, 2, 30)),
            Err("02:30 on Sun 8 Mar 2026 does not exist here: the clocks go forward an hour then. Choose another time.".into())
        );
        assert_eq!(
            entered_local(&ny, at(8, 3, 30)).unwrap().to_rfc3339(),
            "2026-03-08T07:30:00+00:00"
        );
        // 2026-11-01: 01:30 happens twice; the first is still EDT (UTC-4).
        let fall = NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(1, 30, 0)
            .unwrap();
        assert_eq!(
            entered_local(&ny, fall).unwrap().to_rfc3339(),
            "2026-11-01T05:30:00+00:00"
        );
        // ...and that rule is said, for that time only.
        let first = entered_local(&ny, fall).unwrap().timestamp();
        assert_eq!(
            repeated_local_note(&ny, first).as_deref(),
            Some("01:30 on Sun 1 Nov 2026 happens twice here (the clocks go back an hour that night): this is the first 01:30, before the clocks change.")
        );
        assert_eq!(
            repeated_local_note(&ny, first + 3600),
            None,
            "the second 01:30 is never chosen"
        );
        assert_eq!(
            repeated_local_note(&ny, first - 3600),
            None,
            "00:30 is plain"
        );
        let summer = entered_local(&ny, at(8, 3, 30)).unwrap().timestamp();
        assert_eq!(repeated_local_note(&ny, summer), None);
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use chrono::{NaiveTime, Timelike};
    use chrono_tz::America::New_York;
    use chrono_tz::Australia::Sydney;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_time(NaiveTime::from_hms_opt(h, min, 0).unwrap())
    }

    #[test]
    fn rrule_text_round_trips() {
        for rule in [
            Weekly {
                interval_weeks: 1,
                end: End::Count(6),
            },
            Weekly {
                interval_weeks: 3,
                end: End::Until(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            },
        ] {
            assert_eq!(Weekly::parse_rrule(&rule.rrule()), Some(rule));
        }
        assert_eq!(Weekly::parse_rrule("FREQ=DAILY;COUNT=3"), None);
        assert_eq!(Weekly::parse_rrule("nonsense"), None);
    }

    #[test]
    fn split_ends_the_earlier_part_before_the_moved_one() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let by_count = Weekly {
            interval_weeks: 2,
            end: End::Count(10),
        };
        let (earlier, later) = by_count.split(d(4, 1), 6, 1);
        assert_eq!(
            earlier,
            Weekly {
                interval_weeks: 2,
                end: End::Until(d(3, 31))
            }
        );
        assert_eq!(
            later,
            Weekly {
                interval_weeks: 2,
                end: End::Count(6)
            }
        );
        let until = Weekly {
            interval_weeks: 1,
            end: End::Until(d(6, 30)),
        };
        let (_, later) = until.split(d(4, 1), 13, 2);
        assert_eq!(later.end, End::Until(d(7, 2)));
    }

    #[test]
    fn new_york_series_keeps_local_time_across_spring_forward() {
        // 2026-03-08: US clocks go forward. 10:00 EST is 15:00 UTC, 10:00 EDT is 14:00 UTC.
        let rule = Weekly {
            interval_weeks: 1,
            end: End::Count(3),
        };
        let got = rule.expand(&New_York, at(2026, 3, 1, 10, 0));
        let hours: Vec<u32> = got.iter().map(|t| t.hour()).collect();
        assert_eq!(hours, vec![15, 14, 14]);
        for t in &got {
            assert_eq!(t.with_timezone(&New_York).hour(), 10);
        }
    }

    #[test]
    fn new_york_series_across_fall_back() {
        // 2026-11-01: clocks go back. 09:00 EDT = 13:00 UTC; 09:00 EST = 14:00 UTC.
        let rule = Weekly {
            interval_weeks: 1,
            end: End::Until(NaiveDate::from_ymd_opt(2026, 11, 8).unwrap()),
        };
        let got = rule.expand(&New_York, at(2026, 10, 25, 9, 0));
        assert_eq!(
            got.iter().map(|t| t.hour()).collect::<Vec<_>>(),
            vec![13, 14, 14]
        );
    }

    #[test]
    fn sydney_series_across_both_changes() {
        // Sydney leaves DST on 2026-04-05 (AEDT +11 -> AEST +10) and
        // re-enters it on 2026-10-04 (+10 -> +11). 18:00 local each time.
        let rule = Weekly {
            interval_weeks: 1,
            end: End::Count(2),
        };
        let april = rule.expand(&Sydney, at(2026, 3, 30, 18, 0));
        assert_eq!(
            april.iter().map(|t| t.hour()).collect::<Vec<_>>(),
            vec![7, 8]
        );
        let october = rule.expand(&Sydney, at(2026, 9, 28, 18, 0));
        assert_eq!(
            october.iter().map(|t| t.hour()).collect::<Vec<_>>(),
            vec![8, 7]
        );
        for t in april.iter().chain(&october) {
            assert_eq!(t.with_timezone(&Sydney).hour(), 18);
        }
    }

    #[test]
    fn a_skipped_local_time_moves_forward_by_the_gap() {
        // 02:30 does not exist in New York on 2026-03-08; it becomes 03:30 EDT.
        let rule = Weekly {
            interval_weeks: 1,
            end: End::Count(2),
        };
        let got = rule.expand(&New_York, at(2026, 3, 1, 2, 30));
        let local = got[1].with_timezone(&New_York);
        assert_eq!((local.hour(), local.minute()), (3, 30));
    }

    #[test]
    fn every_other_week_until_a_date_is_inclusive() {
        let rule = Weekly {
            interval_weeks: 2,
            end: End::Until(NaiveDate::from_ymd_opt(2026, 2, 2).unwrap()),
        };
        let got = rule.expand(&Utc, at(2026, 1, 5, 9, 0));
        let days: Vec<NaiveDate> = got.iter().map(|t| t.date_naive()).collect();
        assert_eq!(got.len(), 3, "{days:?}");
        assert_eq!(
            got[2].date_naive(),
            NaiveDate::from_ymd_opt(2026, 2, 2).unwrap()
        );
    }

    #[test]
    fn counts_are_bounded_and_validated() {
        let first = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert!(Weekly {
            interval_weeks: 1,
            end: End::Count(0)
        }
        .validate(first)
        .is_err());
        assert!(Weekly {
            interval_weeks: 0,
            end: End::Count(3)
        }
        .validate(first)
        .is_err());
        assert!(Weekly {
            interval_weeks: 1,
            end: End::Count(MAX_OCCURRENCES + 1)
        }
        .validate(first)
        .is_err());
        assert!(Weekly {
            interval_weeks: 1,
            end: End::Until(first.pred_opt().unwrap())
        }
        .validate(first)
        .is_err());
        assert!(Weekly {
            interval_weeks: 1,
            end: End::Count(8)
        }
        .validate(first)
        .is_ok());
        let forever = Weekly {
            interval_weeks: 1,
            end: End::Until(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()),
        };
        assert_eq!(
            forever
                .expand(&Utc, first.and_hms_opt(9, 0, 0).unwrap())
                .len() as u32,
            MAX_OCCURRENCES
        );
    }

    #[test]
    fn rrule_text() {
        assert_eq!(
            Weekly {
                interval_weeks: 1,
                end: End::Count(8)
            }
            .rrule(),
            "FREQ=WEEKLY;COUNT=8"
        );
        assert_eq!(
            Weekly {
                interval_weeks: 2,
                end: End::Until(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())
            }
            .rrule(),
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=20260630"
        );
    }
}
