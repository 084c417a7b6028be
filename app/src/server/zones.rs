//! Clinic time zones on the server: parsing and formatting in a named zone
//! (never the machine's own) and in the clinic's date style, so messages
//! read the same everywhere and as the clinic writes dates.

use super::db::known;
use crate::domain::datetime_style::DateStyle;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The clinic's zone; an unknown name (which validation keeps out) falls
/// back to UTC rather than failing a request.
pub fn parse(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// A clinic's zone and date style: everything needed to write its times.
/// Load both together (`clinic.time_zone`, `clinic.date_style`) so no page
/// or message writes a clinic's time in another clinic's style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub tz: Tz,
    pub style: DateStyle,
}

impl Clock {
    /// From the stored zone name and style code (an unknown stored code
    /// is an error, logged, like every stored code).
    pub fn new(time_zone: &str, date_style: &str) -> AppResult<Clock> {
        Ok(Clock {
            tz: parse(time_zone),
            style: style(date_style)?,
        })
    }

    /// The 24-hour style in a zone (the portal's "your time", machine use).
    pub fn plain(tz: Tz) -> Clock {
        Clock {
            tz,
            style: DateStyle::default(),
        }
    }

    /// The same style in another zone (a patient's own).
    pub fn in_zone(self, tz: Tz) -> Clock {
        Clock { tz, ..self }
    }

    fn at(self, ts: i64) -> Option<DateTime<Tz>> {
        DateTime::<Utc>::from_timestamp(ts, 0).map(|t| t.with_timezone(&self.tz))
    }

    /// "Tue 3 Mar 2026, 10:00" / "Tue, Mar 3, 2026, 10:00 AM" in the zone.
    pub fn local(self, ts: i64) -> String {
        self.at(ts)
            .map(|t| self.style.date_time(&t, true))
            .unwrap_or_default()
    }

    /// "Tue 3 Mar, 10:00" / "Tue, Mar 3, 10:00 AM": without the year.
    pub fn short(self, ts: i64) -> String {
        self.at(ts)
            .map(|t| self.style.date_time(&t, false))
            .unwrap_or_default()
    }

    /// "10:00" / "10:00 AM" in the zone.
    pub fn time(self, ts: i64) -> String {
        self.at(ts).map(|t| self.style.time(&t)).unwrap_or_default()
    }

    /// The zone's abbreviation at that moment ("EST", "AEDT").
    pub fn abbreviation(self, ts: i64) -> String {
        self.at(ts)
            .map(|t| t.format("%Z").to_string())
            .unwrap_or_default()
    }
}

/// A stored `clinic.date_style`.
pub fn style(code: &str) -> AppResult<DateStyle> {
    known(DateStyle::parse(code), "clinic.date_style", code)
}

/// "Tue 3 Mar 2026, 10:00" in the zone, 24-hour style.
pub fn fmt_local(ts: i64, tz: Tz) -> String {
    Clock::plain(tz).local(ts)
}

/// "10:00" in the zone, 24-hour style.
pub fn fmt_time(ts: i64, tz: Tz) -> String {
    Clock::plain(tz).time(ts)
}

/// "2026-03-03T10:00" in the zone: the value of a datetime-local input.
pub fn local_input(ts: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_the_named_zone() {
        // 2026-03-03 15:00 UTC is 10:00 in New York and 02:00 next day in Sydney.
        let t = 1_772_550_000;
        assert_eq!(
            fmt_local(t, parse("America/New_York")),
            "Tue 3 Mar 2026, 10:00"
        );
        assert_eq!(
            fmt_local(t, parse("Australia/Sydney")),
            "Wed 4 Mar 2026, 02:00"
        );
        assert_eq!(parse("Mars/Olympus"), Tz::UTC);
    }

    #[test]
    fn a_clock_writes_in_its_clinics_style_and_zone() {
        let t = 1_772_550_000;
        let us = Clock::new("America/New_York", "en-US").unwrap();
        assert_eq!(us.local(t), "Tue, Mar 3, 2026, 10:00 AM");
        assert_eq!(us.short(t), "Tue, Mar 3, 10:00 AM");
        assert_eq!(us.time(t), "10:00 AM");
        assert_eq!(us.abbreviation(t), "EST");
        let au = Clock::new("Australia/Sydney", "en-AU").unwrap();
        assert_eq!(au.local(t), "Wed 4 Mar 2026, 2:00 am");
        assert_eq!(au.abbreviation(t), "AEDT");
        // The patient's own zone, in the clinic's style.
        assert_eq!(us.in_zone(au.tz).time(t), "2:00 AM");
        // An unknown stored code is an error, not a guess.
        assert!(Clock::new("UTC", "xx").is_err());
    }
}
