//! How a clinic writes dates and times (issue 12, point 8): US order with a
//! 12-hour clock, Australian order with a 12-hour clock, or the 24-hour
//! style every clinic had before the setting existed (still the default, so
//! a clinic that chose nothing reads as before).
//!
//! Pure: it formats a wall-clock value the caller has already put in the
//! right zone. Written with `Datelike`/`Timelike` rather than strftime
//! because the Schedule's Week view formats thousands of rows per request
//! and strftime-style formatting showed up in its time.

use chrono::{Datelike, Timelike};

/// A clinic's date and time style, stored as its `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum DateStyle {
    /// "Mon 30 Nov 2026, 15:00".
    #[default]
    H24,
    /// "Mon, Nov 30, 2026, 3:00 PM".
    EnUs,
    /// "Mon 30 Nov 2026, 3:00 pm".
    EnAu,
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl DateStyle {
    pub const ALL: [DateStyle; 3] = [DateStyle::H24, DateStyle::EnUs, DateStyle::EnAu];

    /// The stored and wire value.
    pub fn code(self) -> &'static str {
        match self {
            DateStyle::H24 => "24h",
            DateStyle::EnUs => "en-US",
            DateStyle::EnAu => "en-AU",
        }
    }

    /// None for anything but a known code (the caller answers with a
    /// specific message, or treats a stored one as an error).
    pub fn parse(code: &str) -> Option<DateStyle> {
        DateStyle::ALL.into_iter().find(|s| s.code() == code)
    }

    /// What the Clinic settings offer, with an example of each.
    pub fn label(self) -> &'static str {
        match self {
            DateStyle::H24 => "24-hour: Mon 30 Nov, 15:00",
            DateStyle::EnUs => "United States: Mon, Nov 30, 3:00 PM",
            DateStyle::EnAu => "Australia: Mon 30 Nov, 3:00 pm",
        }
    }

    /// The time of day: "15:00", "3:00 PM" or "3:00 pm" (midnight is
    /// "12:00 AM", noon "12:00 PM" on a 12-hour clock).
    pub fn time<T: Timelike>(self, t: &T) -> String {
        let (h, m) = (t.hour(), t.minute());
        let twelve = match h % 12 {
            0 => 12,
            x => x,
        };
        let (am, pm) = match self {
            DateStyle::H24 => return format!("{h:02}:{m:02}"),
            DateStyle::EnUs => ("AM", "PM"),
            DateStyle::EnAu => ("am", "pm"),
        };
        format!("{twelve}:{m:02} {}", if h < 12 { am } else { pm })
    }

    /// A time of day given as minutes from midnight, as weekly hours are
    /// stored: "09:30", "9:30 AM". The end of the day (1440) is "24:00" on a
    /// 24-hour clock and "12:00 AM" on a 12-hour one.
    pub fn minutes(self, minute: u32) -> String {
        if minute >= 24 * 60 && self == DateStyle::H24 {
            return "24:00".into();
        }
        let m = minute % (24 * 60);
        chrono::NaiveTime::from_hms_opt(m / 60, m % 60, 0)
            .map(|t| self.time(&t))
            .unwrap_or_default()
    }

    /// The hour marks of the Schedule grid: "09:00", "9 AM", "9 am".
    pub fn hour(self, h: u32) -> String {
        let twelve = match h % 12 {
            0 => 12,
            x => x,
        };
        match self {
            DateStyle::H24 => format!("{h:02}:00"),
            DateStyle::EnUs => format!("{twelve} {}", if h < 12 { "AM" } else { "PM" }),
            DateStyle::EnAu => format!("{twelve} {}", if h < 12 { "am" } else { "pm" }),
        }
    }

    /// The day: "Mon 30 Nov", "Mon, Nov 30", with the year when `year`
    /// ("Mon 30 Nov 2026", "Mon, Nov 30, 2026").
    pub fn date<D: Datelike>(self, d: &D, year: bool) -> String {
        let day = DAYS[d.weekday().num_days_from_monday() as usize];
        let month = MONTHS[d.month0() as usize];
        match (self, year) {
            (DateStyle::EnUs, true) => format!("{day}, {month} {}, {}", d.day(), d.year()),
            (DateStyle::EnUs, false) => format!("{day}, {month} {}", d.day()),
            (_, true) => format!("{day} {} {month} {}", d.day(), d.year()),
            (_, false) => format!("{day} {} {month}", d.day()),
        }
    }

    /// A day written out: "Monday 30 November 2026", "Monday, November 30, 2026".
    pub fn long_date<D: Datelike>(self, d: &D) -> String {
        const LONG_DAYS: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        const LONG_MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let day = LONG_DAYS[d.weekday().num_days_from_monday() as usize];
        let month = LONG_MONTHS[d.month0() as usize];
        match self {
            DateStyle::EnUs => format!("{day}, {month} {}, {}", d.day(), d.year()),
            _ => format!("{day} {} {month} {}", d.day(), d.year()),
        }
    }

    /// Day and time: "Mon 30 Nov 2026, 15:00", "Mon, Nov 30, 2026, 3:00 PM".
    pub fn date_time<T: Datelike + Timelike>(self, t: &T, year: bool) -> String {
        format!("{}, {}", self.date(t, year), self.time(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn codes_round_trip_and_unknown_ones_are_refused() {
        for s in DateStyle::ALL {
            assert_eq!(DateStyle::parse(s.code()), Some(s));
        }
        assert_eq!(DateStyle::parse("en-GB"), None);
        assert_eq!(DateStyle::parse(""), None);
        assert_eq!(DateStyle::parse("EN-US"), None);
        assert_eq!(DateStyle::default(), DateStyle::H24);
    }

    #[test]
    fn us_style() {
        let s = DateStyle::EnUs;
        assert_eq!(s.date_time(&at(15, 0), false), "Mon, Nov 30, 3:00 PM");
        assert_eq!(s.date_time(&at(15, 0), true), "Mon, Nov 30, 2026, 3:00 PM");
        assert_eq!(s.time(&at(9, 5)), "9:05 AM");
        assert_eq!(s.hour(9), "9 AM");
        assert_eq!(s.hour(15), "3 PM");
    }

    #[test]
    fn australian_style() {
        let s = DateStyle::EnAu;
        assert_eq!(s.date_time(&at(15, 0), false), "Mon 30 Nov, 3:00 pm");
        assert_eq!(s.date_time(&at(15, 0), true), "Mon 30 Nov 2026, 3:00 pm");
        assert_eq!(s.time(&at(9, 5)), "9:05 am");
        assert_eq!(s.hour(9), "9 am");
    }

    #[test]
    fn twenty_four_hour_style_is_the_one_clinics_had() {
        let s = DateStyle::H24;
        assert_eq!(s.date_time(&at(15, 0), false), "Mon 30 Nov, 15:00");
        assert_eq!(s.date_time(&at(15, 0), true), "Mon 30 Nov 2026, 15:00");
        assert_eq!(s.time(&at(9, 5)), "09:05");
        assert_eq!(s.hour(9), "09:00");
        assert_eq!(s.hour(0), "00:00");
    }

    #[test]
    fn midnight_and_noon_on_a_twelve_hour_clock() {
        assert_eq!(DateStyle::EnUs.time(&at(0, 0)), "12:00 AM");
        assert_eq!(DateStyle::EnUs.time(&at(0, 30)), "12:30 AM");
        assert_eq!(DateStyle::EnUs.time(&at(12, 0)), "12:00 PM");
        assert_eq!(DateStyle::EnUs.time(&at(11, 59)), "11:59 AM");
        assert_eq!(DateStyle::EnUs.time(&at(23, 59)), "11:59 PM");
        assert_eq!(DateStyle::EnAu.time(&at(0, 0)), "12:00 am");
        assert_eq!(DateStyle::EnAu.time(&at(12, 0)), "12:00 pm");
        assert_eq!(DateStyle::EnUs.hour(0), "12 AM");
        assert_eq!(DateStyle::EnUs.hour(12), "12 PM");
        assert_eq!(DateStyle::H24.time(&at(0, 0)), "00:00");
        assert_eq!(DateStyle::H24.time(&at(12, 0)), "12:00");
    }

    #[test]
    fn minutes_from_midnight() {
        assert_eq!(DateStyle::H24.minutes(570), "09:30");
        assert_eq!(DateStyle::H24.minutes(1440), "24:00");
        assert_eq!(DateStyle::EnUs.minutes(570), "9:30 AM");
        assert_eq!(DateStyle::EnUs.minutes(720), "12:00 PM");
        assert_eq!(DateStyle::EnUs.minutes(1440), "12:00 AM");
        assert_eq!(DateStyle::EnAu.minutes(0), "12:00 am");
    }

    #[test]
    fn long_dates() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(DateStyle::H24.long_date(&d), "Monday 30 November 2026");
        assert_eq!(DateStyle::EnAu.long_date(&d), "Monday 30 November 2026");
        assert_eq!(DateStyle::EnUs.long_date(&d), "Monday, November 30, 2026");
    }

    #[test]
    fn single_digit_days_and_year_ends() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 3)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        assert_eq!(DateStyle::H24.date_time(&d, true), "Tue 3 Mar 2026, 10:00");
        assert_eq!(
            DateStyle::EnUs.date_time(&d, true),
            "Tue, Mar 3, 2026, 10:00 AM"
        );
        let d = NaiveDate::from_ymd_opt(2026, 12, 31)
            .unwrap()
            .and_hms_opt(23, 0, 0)
            .unwrap();
        assert_eq!(DateStyle::EnAu.date_time(&d, false), "Thu 31 Dec, 11:00 pm");
    }
}
