//! Clinic time zones on the server: parsing and formatting in a named zone
//! (never the machine's own), so messages read the same everywhere.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The clinic's zone; an unknown name (which validation keeps out) falls
/// back to UTC rather than failing a request.
pub fn parse(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// "Tue 3 Mar 2026, 10:00" in the zone.
pub fn fmt_local(ts: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| {
            t.with_timezone(&tz)
                .format("%a %-d %b %Y, %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// "10:00" in the zone.
pub fn fmt_time(ts: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&tz).format("%H:%M").to_string())
        .unwrap_or_default()
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
}
