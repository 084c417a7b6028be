//! The waitlist's rules (issue 15, point 2): which change to an
//! appointment frees a time, whether a freed time suits a waiting patient,
//! and what a patient may ask for when joining. Pure: the service layer
//! reads and writes, these decide.

use super::appointment::AppointmentStatus;
use chrono::{DateTime, NaiveDate, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

/// How a clinic offers a freed time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum OfferMode {
    /// One patient at a time, in order of joining; an unclaimed offer moves
    /// on to the next when its window ends.
    #[default]
    InTurn,
    /// Every matching patient at once; the first to claim wins.
    AllAtOnce,
}

impl OfferMode {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferMode::InTurn => "in_turn",
            OfferMode::AllAtOnce => "all_at_once",
        }
    }

    pub fn parse(s: &str) -> Option<OfferMode> {
        match s {
            "in_turn" => Some(OfferMode::InTurn),
            "all_at_once" => Some(OfferMode::AllAtOnce),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OfferMode::InTurn => "One patient at a time, in order of joining",
            OfferMode::AllAtOnce => "Everyone at once, first to claim wins",
        }
    }
}

/// The claim window a clinic may set, in minutes.
pub const CLAIM_MINUTES: std::ops::RangeInclusive<i64> = 5..=1440;

/// Checks a clinic's claim window.
pub fn check_claim_minutes(m: i64) -> Result<(), String> {
    if CLAIM_MINUTES.contains(&m) {
        Ok(())
    } else {
        Err(format!(
            "The claim window must be between {} and {} minutes.",
            CLAIM_MINUTES.start(),
            CLAIM_MINUTES.end()
        ))
    }
}

/// The times of day a patient prefers (by the start, in the clinic's zone):
/// morning before 12:00, afternoon 12:00–17:00, evening from 17:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DayParts {
    pub morning: bool,
    pub afternoon: bool,
    pub evening: bool,
}

impl DayParts {
    pub const ALL: DayParts = DayParts {
        morning: true,
        afternoon: true,
        evening: true,
    };

    pub fn any(self) -> bool {
        self.morning || self.afternoon || self.evening
    }

    /// Whether a start at this local hour suits.
    pub fn suits_hour(self, hour: u32) -> bool {
        match hour {
            0..=11 => self.morning,
            12..=16 => self.afternoon,
            _ => self.evening,
        }
    }

    /// "Mornings, evenings", "Any time of day".
    pub fn label(self) -> String {
        if self == DayParts::ALL {
            return "Any time of day".into();
        }
        let parts: Vec<&str> = [
            (self.morning, "Mornings"),
            (self.afternoon, "Afternoons"),
            (self.evening, "Evenings"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| w)
        .collect();
        parts.join(", ")
    }
}

/// What a waiting patient asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wish {
    pub service_id: i64,
    /// None: any of the clinic's providers.
    pub provider_id: Option<i64>,
    /// The clinic's local dates, both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub parts: DayParts,
}

/// A time that became free: a provider's, for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freed {
    pub provider_id: i64,
    pub service_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

impl Wish {
    /// Whether the freed time suits this wish: same service, the provider
    /// asked for (or any), a start on a date of the range and at a
    /// preferred time of day, both read in the clinic's zone.
    pub fn matches<Z: TimeZone>(&self, f: &Freed, tz: &Z) -> bool {
        let Some(local) = DateTime::from_timestamp(f.starts_at, 0).map(|t| t.with_timezone(tz))
        else {
            return false;
        };
        let day = local.date_naive();
        f.service_id == self.service_id
            && self.provider_id.is_none_or(|p| p == f.provider_id)
            && self.from <= day
            && day <= self.to
            && self.parts.suits_hour(local.hour())
    }
}

/// An appointment before a change, as far as the waitlist cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub status: AppointmentStatus,
    pub starts_at: i64,
    pub ends_at: i64,
}

/// What became of it (mirrors the service layer's `After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Became {
    Moved {
        starts_at: i64,
        ends_at: i64,
        status: AppointmentStatus,
    },
    Cancelled,
    NoShow,
    ProposalApproved,
}

/// The times a change frees, (start, end), that are still to come at
/// `now`. `original`: the time a Tentative appointment had before the
/// clinic proposed its present one (its proposal's original time).
///
/// - A cancellation of a booked or Tentative appointment frees its time;
///   declining a proposal (cancelling a Tentative appointment) also frees
///   the original time, which can no longer be restored.
/// - A move frees the time it leaves, except a new proposal (booked →
///   Tentative): the proposal may expire and restore the original time.
/// - Approving a proposal and a no-show free nothing.
pub fn freed_times(
    h: Held,
    became: Became,
    original: Option<(i64, i64)>,
    now: i64,
) -> Vec<(i64, i64)> {
    use AppointmentStatus as S;
    let holding = matches!(h.status, S::Booked | S::Pending | S::Proposed);
    let mut out = Vec::new();
    match became {
        _ if !holding => {}
        Became::Cancelled => {
            out.push((h.starts_at, h.ends_at));
            if h.status == S::Pending {
                out.extend(original);
            }
        }
        Became::Moved {
            status: S::Pending, ..
        } if h.status == S::Booked => {}
        Became::Moved {
            starts_at, ends_at, ..
        } => {
            if (starts_at, ends_at) != (h.starts_at, h.ends_at) {
                out.push((h.starts_at, h.ends_at));
            }
        }
        Became::NoShow | Became::ProposalApproved => {}
    }
    out.retain(|(s, e)| *s > now && e > s);
    out.dedup();
    out
}

/// Checks what a patient asks for when joining: at least one time of day;
/// a range that has not ended, starts before it ends, and reaches no
/// further than the clinic's booking horizon.
pub fn check_join(
    from: NaiveDate,
    to: NaiveDate,
    parts: DayParts,
    today: NaiveDate,
    horizon_days: u32,
) -> Result<(), String> {
    if !parts.any() {
        return Err("Choose at least one time of day: morning, afternoon or evening.".into());
    }
    if to < from {
        return Err("The last date must be on or after the first date.".into());
    }
    if to < today {
        return Err("Those dates are in the past. Choose dates from today on.".into());
    }
    if from < today {
        return Err("The first date is in the past. Choose dates from today on.".into());
    }
    let last = today + chrono::Days::new(u64::from(horizon_days));
    if to > last {
        return Err(format!(
            "The clinic takes bookings up to {horizon_days} days ahead: choose dates up to {}.",
            last.format("%Y-%m-%d")
        ));
    }
    Ok(())
}

/// What a patient is told when the time they claim went to someone else.
pub const TAKEN: &str = "This time was just taken by someone else.";
/// When the claim window has ended.
pub const WINDOW_ENDED: &str = "The time to claim this offer has ended.";
/// When the patient already claimed it.
pub const ALREADY_CLAIMED: &str = "You have already claimed this time: it is booked for you.";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;
    use AppointmentStatus as S;

    const NY: Tz = chrono_tz::America::New_York;

    fn at(d: u32, h: u32) -> i64 {
        NY.with_ymd_and_hms(2026, 3, d, h, 0, 0)
            .unwrap()
            .timestamp()
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn wish() -> Wish {
        Wish {
            service_id: 1,
            provider_id: None,
            from: date(10),
            to: date(12),
            parts: DayParts {
                morning: true,
                afternoon: false,
                evening: false,
            },
        }
    }

    fn freed(d: u32, h: u32) -> Freed {
        Freed {
            provider_id: 7,
            service_id: 1,
            starts_at: at(d, h),
            ends_at: at(d, h) + 1800,
        }
    }

    #[test]
    fn a_time_matches_by_service_provider_dates_and_time_of_day() {
        let w = wish();
        assert!(w.matches(&freed(10, 9), &NY));
        assert!(w.matches(&freed(12, 11), &NY), "the last date is included");
        assert!(!w.matches(&freed(12, 12), &NY), "noon is afternoon");
        assert!(!w.matches(&freed(13, 9), &NY), "after the range");
        assert!(!w.matches(&freed(9, 9), &NY), "before the range");
        let other_service = Freed {
            service_id: 2,
            ..freed(10, 9)
        };
        assert!(!w.matches(&other_service, &NY));
        let for_lee = Wish {
            provider_id: Some(8),
            ..wish()
        };
        assert!(!for_lee.matches(&freed(10, 9), &NY));
        assert!(Wish {
            provider_id: Some(7),
            ..wish()
        }
        .matches(&freed(10, 9), &NY));
    }

    #[test]
    fn dates_and_hours_are_read_in_the_clinics_zone() {
        // 23:30 on the 12th in New York is already the 13th in UTC.
        let late = Freed {
            starts_at: NY
                .with_ymd_and_hms(2026, 3, 12, 23, 30, 0)
                .unwrap()
                .timestamp(),
            ..freed(12, 9)
        };
        let evenings = Wish {
            parts: DayParts {
                morning: false,
                afternoon: false,
                evening: true,
            },
            ..wish()
        };
        assert!(evenings.matches(&late, &NY));
        assert!(!evenings.matches(&late, &chrono_tz::UTC));
    }

    #[test]
    fn day_parts_split_at_noon_and_five() {
        let p = DayParts {
            morning: false,
            afternoon: true,
            evening: false,
        };
        assert!(!p.suits_hour(11));
        assert!(p.suits_hour(12) && p.suits_hour(16));
        assert!(!p.suits_hour(17));
        assert_eq!(p.label(), "Afternoons");
        assert_eq!(DayParts::ALL.label(), "Any time of day");
    }

    fn held(status: S) -> Held {
        Held {
            status,
            starts_at: at(10, 9),
            ends_at: at(10, 9) + 1800,
        }
    }

    const NOW: i64 = 0;

    #[test]
    fn a_cancellation_frees_its_time_while_it_is_still_to_come() {
        let t = (at(10, 9), at(10, 9) + 1800);
        assert_eq!(
            freed_times(held(S::Booked), Became::Cancelled, None, NOW),
            vec![t]
        );
        assert_eq!(
            freed_times(held(S::Booked), Became::Cancelled, None, at(10, 9)),
            vec![]
        );
        assert_eq!(
            freed_times(held(S::Fulfilled), Became::Cancelled, None, NOW),
            vec![]
        );
    }

    #[test]
    fn declining_a_proposal_frees_the_proposed_and_the_original_time() {
        let original = (at(11, 9), at(11, 9) + 1800);
        let got = freed_times(held(S::Pending), Became::Cancelled, Some(original), NOW);
        assert_eq!(got, vec![(at(10, 9), at(10, 9) + 1800), original]);
    }

    #[test]
    fn a_move_away_frees_the_old_time_but_a_new_proposal_does_not() {
        let to = |status| Became::Moved {
            starts_at: at(11, 9),
            ends_at: at(11, 9) + 1800,
            status,
        };
        let old = vec![(at(10, 9), at(10, 9) + 1800)];
        assert_eq!(freed_times(held(S::Booked), to(S::Booked), None, NOW), old);
        assert_eq!(
            freed_times(held(S::Booked), to(S::Pending), None, NOW),
            vec![]
        );
        // A proposal that expires back to the original time frees the
        // proposed one; so does moving a proposal elsewhere.
        assert_eq!(freed_times(held(S::Pending), to(S::Booked), None, NOW), old);
        assert_eq!(
            freed_times(held(S::Pending), to(S::Pending), None, NOW),
            old
        );
        let same = Became::Moved {
            starts_at: at(10, 9),
            ends_at: at(10, 9) + 1800,
            status: S::Booked,
        };
        assert_eq!(freed_times(held(S::Booked), same, None, NOW), vec![]);
    }

    #[test]
    fn approving_a_proposal_or_a_no_show_frees_nothing() {
        assert_eq!(
            freed_times(held(S::Pending), Became::ProposalApproved, None, NOW),
            vec![]
        );
        assert_eq!(
            freed_times(held(S::Booked), Became::NoShow, None, NOW),
            vec![]
        );
    }

    #[test]
    fn joining_needs_a_time_of_day_and_dates_within_today_and_the_horizon() {
        let today = date(4);
        let any = DayParts::ALL;
        assert!(check_join(date(4), date(10), any, today, 90).is_ok());
        assert!(
            check_join(date(4), date(10), DayParts::default(), today, 90)
                .unwrap_err()
                .contains("time of day")
        );
        assert!(check_join(date(1), date(3), any, today, 90)
            .unwrap_err()
            .contains("past"));
        assert!(check_join(date(3), date(10), any, today, 90)
            .unwrap_err()
            .contains("past"));
        assert!(check_join(date(10), date(5), any, today, 90)
            .unwrap_err()
            .contains("on or after"));
        let err = check_join(date(4), date(20), any, today, 10).unwrap_err();
        assert!(
            err.contains("10 days ahead") && err.contains("2026-03-14"),
            "{err}"
        );
        assert!(check_join(date(4), date(14), any, today, 10).is_ok());
    }

    #[test]
    fn modes_and_claim_windows_read_back() {
        for m in [OfferMode::InTurn, OfferMode::AllAtOnce] {
            assert_eq!(OfferMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(OfferMode::parse("lottery"), None);
        assert!(check_claim_minutes(30).is_ok());
        assert!(check_claim_minutes(4).is_err() && check_claim_minutes(1441).is_err());
    }
}
