//! iCalendar (RFC 5545) objects with iTIP methods (RFC 5546), for email
//! attachments and the providers' calendar feeds.
//!
//! Times are written in the clinic's zone (`DTSTART;TZID=...`) with a
//! VTIMEZONE built from the zone database, so a weekly series keeps its
//! local time across daylight-saving changes in the recipient's calendar,
//! exactly as the appointments themselves do.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A new or changed meeting.
    Request,
    /// A cancelled meeting (or occurrence).
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Confirmed,
    Tentative,
    Cancelled,
}

/// One occurrence of a series, as RECURRENCE-ID names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The occurrence's original start (before any reschedule).
    pub original_start: DateTime<Utc>,
    /// `RANGE=THISANDFUTURE`: this occurrence and every later one.
    pub and_future: bool,
}

#[derive(Debug, Clone)]
pub struct Event {
    /// The zone its times are written in (the clinic's).
    pub tz: Tz,
    pub uid: String,
    pub sequence: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub description: String,
    pub location: String,
    pub url: String,
    pub status: Status,
    /// The series rule (the master of a series), RFC 5545 RRULE value.
    pub rrule: Option<String>,
    pub occurrence: Option<Occurrence>,
    pub organizer: (String, String),
    pub attendees: Vec<(String, String)>,
}

/// A whole VCALENDAR: `method` is None for a feed (no iTIP method). Each
/// zone the events use gets its VTIMEZONE.
pub fn calendar(method: Option<Method>, stamp: DateTime<Utc>, events: &[Event]) -> String {
    let header = method.map(|m| format!("METHOD:{}", m.as_str()));
    write_calendar(header.as_slice(), stamp, events)
}

/// A subscribed calendar (a provider's feed): no iTIP method, its `name`
/// as calendar apps show it (RFC 7986 NAME, and the X-WR-CALNAME that
/// Apple, Google and Outlook read), and how often to fetch it again
/// (RFC 7986 REFRESH-INTERVAL, and Outlook's X-PUBLISHED-TTL).
pub fn feed(name: &str, refresh_minutes: u32, stamp: DateTime<Utc>, events: &[Event]) -> String {
    let header = [
        format!("NAME:{}", text(name)),
        format!("X-WR-CALNAME:{}", text(name)),
        format!("REFRESH-INTERVAL;VALUE=DURATION:PT{refresh_minutes}M"),
        format!("X-PUBLISHED-TTL:PT{refresh_minutes}M"),
    ];
    write_calendar(&header, stamp, events)
}

/// The VCALENDAR with `header` lines after the standard ones.
fn write_calendar(header: &[String], stamp: DateTime<Utc>, events: &[Event]) -> String {
    let mut out = Lines::default();
    out.push("BEGIN:VCALENDAR");
    out.push("VERSION:2.0");
    out.push("PRODID:-//Slotwise//Clinic Scheduling//EN");
    out.push("CALSCALE:GREGORIAN");
    for line in header {
        out.push(line);
    }
    let mut zones: Vec<Tz> = events.iter().map(|e| e.tz).collect();
    zones.sort_by_key(|z| z.name());
    zones.dedup();
    for tz in zones {
        let mine = events.iter().filter(|e| e.tz == tz);
        let first = mine.clone().map(|e| e.start).min().unwrap_or(stamp);
        let last = mine.clone().map(|e| e.end).max().unwrap_or(stamp);
        // A series may run for a year or more past its first meeting.
        let last_year = if mine.clone().any(|e| e.rrule.is_some()) {
            last.year() + 2
        } else {
            last.year()
        };
        vtimezone(&mut out, tz, first.year(), last_year);
    }
    for e in events {
        vevent(&mut out, stamp, e);
    }
    out.push("END:VCALENDAR");
    out.text
}

/// CRLF-terminated content lines, folded at 75 octets (RFC 5545 §3.1).
#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    fn push(&mut self, line: &str) {
        let mut used = 0;
        for ch in line.chars() {
            let n = ch.len_utf8();
            if used + n > 75 {
                self.text.push_str("\r\n ");
                used = 1;
            }
            self.text.push(ch);
            used += n;
        }
        self.text.push_str("\r\n");
    }
}

/// TEXT value escaping (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (CN=...): quoted, without the characters it cannot hold.
fn param(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| !matches!(c, '"' | '\r' | '\n'))
        .collect();
    format!("\"{clean}\"")
}

fn local(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y%m%dT%H%M%S").to_string()
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A stored rule's `UNTIL=YYYYMMDD` becomes the end of that local day in
/// UTC, as RFC 5545 requires when DTSTART has a TZID.
pub fn rrule_for(tz: Tz, rule: &str) -> String {
    rule.split(';')
        .map(|part| match part.strip_prefix("UNTIL=") {
            Some(d) if d.len() == 8 => {
                let end = chrono::NaiveDate::parse_from_str(d, "%Y%m%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(23, 59, 59))
                    .and_then(|t| crate::domain::recurrence::resolve_local(&tz, t));
                match end {
                    Some(t) => format!("UNTIL={}", utc(t)),
                    None => part.to_string(),
                }
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn vevent(out: &mut Lines, stamp: DateTime<Utc>, e: &Event) {
    let tz = e.tz;
    let id = tz.name();
    out.push("BEGIN:VEVENT");
    out.push(&format!("UID:{}", e.uid));
    out.push(&format!("SEQUENCE:{}", e.sequence));
    out.push(&format!("DTSTAMP:{}", utc(stamp)));
    out.push(&format!("DTSTART;TZID={id}:{}", local(tz, e.start)));
    out.push(&format!("DTEND;TZID={id}:{}", local(tz, e.end)));
    if let Some(rule) = &e.rrule {
        out.push(&format!("RRULE:{}", rrule_for(tz, rule)));
    }
    if let Some(o) = &e.occurrence {
        let range = if o.and_future {
            ";RANGE=THISANDFUTURE"
        } else {
            ""
        };
        out.push(&format!(
            "RECURRENCE-ID;TZID={id}{range}:{}",
            local(tz, o.original_start)
        ));
    }
    out.push(&format!("SUMMARY:{}", text(&e.summary)));
    if !e.description.is_empty() {
        out.push(&format!("DESCRIPTION:{}", text(&e.description)));
    }
    if !e.location.is_empty() {
        out.push(&format!("LOCATION:{}", text(&e.location)));
    }
    if !e.url.is_empty() {
        out.push(&format!("URL:{}", e.url));
    }
    out.push(&format!(
        "STATUS:{}",
        match e.status {
            Status::Confirmed => "CONFIRMED",
            Status::Tentative => "TENTATIVE",
            Status::Cancelled => "CANCELLED",
        }
    ));
    let (name, email) = &e.organizer;
    out.push(&format!("ORGANIZER;CN={}:mailto:{email}", param(name)));
    for (name, email) in &e.attendees {
        out.push(&format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT:mailto:{email}",
            param(name)
        ));
    }
    out.push("END:VEVENT");
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}

/// The zone's rules for the years `from..=to`: its offset at the start of
/// `from` and every transition after, each as a one-off STANDARD or
/// DAYLIGHT onset (valid RFC 5545, and exact even in years a zone changed
/// its rules).
fn vtimezone(out: &mut Lines, tz: Tz, from: i32, to: i32) {
    let start = Utc
        .with_ymd_and_hms(from, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let end = Utc
        .with_ymd_and_hms(to + 1, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(start);
    let seconds = |t: DateTime<Utc>| {
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc()
    };
    out.push("BEGIN:VTIMEZONE");
    out.push(&format!("TZID:{}", tz.name()));
    let first = tz.offset_from_utc_datetime(&start.naive_utc());
    onset(
        out,
        first.dst_offset() != chrono::Duration::zero(),
        start.naive_utc() + Duration::seconds(i64::from(seconds(start))),
        seconds(start),
        seconds(start),
        first.abbreviation().unwrap_or(""),
    );
    // Offsets change at most a few times a year: step a day at a time and
    // narrow each change down to the second.
    let mut t = start;
    while t < end {
        let next = t + Duration::days(1);
        if seconds(next) != seconds(t) {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if seconds(mid) == seconds(lo) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let after = tz.offset_from_utc_datetime(&hi.naive_utc());
            let (before_s, after_s) = (seconds(lo), seconds(hi));
            // The onset is written in the local time in force before it.
            onset(
                out,
                after.dst_offset() != chrono::Duration::zero(),
                hi.naive_utc() + Duration::seconds(i64::from(before_s)),
                before_s,
                after_s,
                after.abbreviation().unwrap_or(""),
            );
        }
        t = next;
    }
    out.push("END:VTIMEZONE");
}

fn onset(out: &mut Lines, daylight: bool, at: NaiveDateTime, from: i32, to: i32, name: &str) {
    let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
    out.push(&format!("BEGIN:{kind}"));
    out.push(&format!("DTSTART:{}", at.format("%Y%m%dT%H%M%S")));
    out.push(&format!("TZOFFSETFROM:{}", offset_text(from)));
    out.push(&format!("TZOFFSETTO:{}", offset_text(to)));
    if !name.is_empty() {
        out.push(&format!("TZNAME:{}", text(name)));
    }
    out.push(&format!("END:{kind}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Australia::Sydney;

    fn event() -> Event {
        Event {
            tz: New_York,
            uid: "appointment-7@northside.slotwise".into(),
            sequence: 3,
            start: Utc.with_ymd_and_hms(2026, 3, 9, 14, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 3, 9, 14, 30, 0).unwrap(),
            summary: "Consultation; with Dr. Lee, follow-up".into(),
            description: "Join: https://meet.example/abc\nPasscode 123".into(),
            location: "Video".into(),
            url: "https://meet.example/abc".into(),
            status: Status::Confirmed,
            rrule: None,
            occurrence: None,
            organizer: (
                "Northside Telehealth".into(),
                "clinic@northside.test".into(),
            ),
            attendees: vec![("Ann Avery".into(), "ann@patients.test".into())],
        }
    }

    /// Unfolded content lines.
    fn lines(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn a_request_names_method_uid_sequence_and_local_times() {
        let stamp = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let ics = calendar(Some(Method::Request), stamp, &[event()]);
        let l = lines(&ics);
        assert!(l.contains(&"METHOD:REQUEST".to_string()));
        assert!(l.contains(&"UID:appointment-7@northside.slotwise".to_string()));
        assert!(l.contains(&"SEQUENCE:3".to_string()));
        // 14:00 UTC on 9 March 2026 is 10:00 EDT (DST began on the 8th).
        assert!(l.contains(&"DTSTART;TZID=America/New_York:20260309T100000".to_string()));
        assert!(l.contains(&"DTEND;TZID=America/New_York:20260309T103000".to_string()));
        assert!(l.contains(&"SUMMARY:Consultation\\; with Dr. Lee\\, follow-up".to_string()));
        assert!(
            l.contains(&"DESCRIPTION:Join: https://meet.example/abc\\nPasscode 123".to_string())
        );
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.split("\r\n").all(|line| line.len() <= 75));
    }

    #[test]
    fn the_zone_lists_its_2026_transitions() {
        let stamp = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let l = lines(&calendar(Some(Method::Request), stamp, &[event()]));
        let joined = l.join("\n");
        // Spring forward: 2:00 EST on 8 March; fall back: 2:00 EDT on 1 November.
        assert!(joined.contains(
            "BEGIN:DAYLIGHT\nDTSTART:20260308T020000\nTZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nTZNAME:EDT"
        ));
        assert!(joined.contains(
            "BEGIN:STANDARD\nDTSTART:20261101T020000\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\nTZNAME:EST"
        ));
        let mut e = event();
        e.tz = Sydney;
        let syd = lines(&calendar(None, stamp, &[e])).join("\n");
        // Sydney: back to AEST on 5 April 2026 at 3:00 AEDT, AEDT again on 4 October at 2:00.
        assert!(syd.contains("DTSTART:20260405T030000\nTZOFFSETFROM:+1100\nTZOFFSETTO:+1000"));
        assert!(syd.contains("DTSTART:20261004T020000\nTZOFFSETFROM:+1000\nTZOFFSETTO:+1100"));
        assert!(!syd.contains("METHOD:"), "a feed has no iTIP method");
    }

    #[test]
    fn occurrences_and_series_carry_recurrence_id_and_rule() {
        let stamp = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let mut one = event();
        one.occurrence = Some(Occurrence {
            original_start: Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
            and_future: false,
        });
        let l = lines(&calendar(Some(Method::Cancel), stamp, &[one.clone()]));
        assert!(l.contains(&"METHOD:CANCEL".to_string()));
        assert!(l.contains(&"RECURRENCE-ID;TZID=America/New_York:20260302T100000".to_string()));
        one.occurrence.as_mut().unwrap().and_future = true;
        let l = lines(&calendar(Some(Method::Cancel), stamp, &[one]));
        assert!(l.contains(
            &"RECURRENCE-ID;TZID=America/New_York;RANGE=THISANDFUTURE:20260302T100000".to_string()
        ));
        let mut series = event();
        series.rrule = Some("FREQ=WEEKLY;INTERVAL=2;UNTIL=20260601".into());
        let l = lines(&calendar(Some(Method::Request), stamp, &[series]));
        // The end of 1 June in New York (EDT) is 03:59:59 UTC on the 2nd.
        assert!(l.contains(&"RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20260602T035959Z".to_string()));
    }

    #[test]
    fn a_feed_names_itself_and_says_when_to_refresh() {
        let stamp = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let l = lines(&feed(
            "Dr Lee — Northside, Telehealth",
            15,
            stamp,
            &[event()],
        ));
        assert!(l.contains(&"X-WR-CALNAME:Dr Lee — Northside\\, Telehealth".to_string()));
        assert!(l.contains(&"NAME:Dr Lee — Northside\\, Telehealth".to_string()));
        assert!(l.contains(&"REFRESH-INTERVAL;VALUE=DURATION:PT15M".to_string()));
        assert!(l.contains(&"X-PUBLISHED-TTL:PT15M".to_string()));
        assert!(!l.iter().any(|l| l.starts_with("METHOD:")));
        // The calendar's properties come before its first component.
        let name_at = l
            .iter()
            .position(|l| l.starts_with("X-WR-CALNAME"))
            .unwrap();
        let first = l
            .iter()
            .position(|l| l.starts_with("BEGIN:VTIMEZONE"))
            .unwrap();
        assert!(name_at < first);
    }

    #[test]
    fn long_lines_fold_without_splitting_characters() {
        let mut e = event();
        e.description = "Ünïcödé ".repeat(40);
        let ics = calendar(Some(Method::Request), Utc::now(), &[e.clone()]);
        assert!(ics.split("\r\n").all(|line| line.len() <= 75));
        let l = lines(&ics);
        let desc = l.iter().find(|l| l.starts_with("DESCRIPTION:")).unwrap();
        assert_eq!(desc, &format!("DESCRIPTION:{}", e.description));
    }
}
