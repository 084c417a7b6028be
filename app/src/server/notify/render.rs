//! The words of each notification: subject, plain text, HTML and SMS, from
//! the facts of the appointment or request. Pure (no I/O), so every message
//! can be checked in unit tests.

use super::super::zones::Clock;
use crate::domain::booking::CancelReason;
use crate::domain::datetime_style::DateStyle;
use crate::domain::notify::NotifyEvent;
use chrono_tz::Tz;

/// What a message may say about an appointment.
#[derive(Debug, Clone, Default)]
pub struct Meeting {
    pub starts_at: i64,
    pub ends_at: i64,
    pub practitioner: String,
    pub service: String,
    pub location: String,
    pub video_url: String,
    pub meeting_id: String,
    pub passcode: String,
    pub tentative: bool,
    /// The time it had before a reschedule.
    pub previous_start: Option<i64>,
    /// How many meetings of a series this message covers (1 for one).
    pub series_count: usize,
}

/// Everything a message is made from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub clinic: String,
    pub clinic_phone: String,
    pub tz: Option<Tz>,
    /// How the clinic writes dates and times.
    pub style: DateStyle,
    /// The patient's own zone: a patient elsewhere reads both times.
    pub patient_tz: Option<Tz>,
    pub patient: String,
    pub meeting: Option<Meeting>,
    /// Requested start times (a request without an appointment yet).
    pub requested: Vec<i64>,
    pub request_kind: String,
    /// What a new session request asks for.
    pub request: Option<Asked>,
    pub cancel_reason: Option<CancelReason>,
    pub cancel_note: String,
    /// The clinic's message (or the patient's note) shown as written.
    pub message: String,
    /// Outcome words for answers ("accepted", "declined", ...).
    pub outcome: String,
    /// Who the action was by (a provider declining, a patient answering).
    pub by: String,
    pub links: Links,
}

/// What a patient asked for in a new session request.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub service: String,
    pub note: String,
    /// A Now request: when it was made (it asks for as soon as possible).
    pub now_made_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct Links {
    /// The patient's portal.
    pub portal: String,
    /// The staff page the event belongs to.
    pub staff: String,
    /// Booking page for a new time (cancellations on the practice's side).
    pub rebook: String,
}

/// Who is reading: the same event reads differently for the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Patient,
    Staff,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sms: String,
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// How one reader is told times: in the clinic's zone and style, and for a
/// patient in another zone also in theirs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Times {
    pub(super) clinic: Clock,
    pub(super) mine: Option<Tz>,
}

impl Times {
    pub(super) fn for_reader(reader: Reader, f: &Facts) -> Times {
        Times {
            clinic: Clock {
                tz: f.tz.unwrap_or(Tz::UTC),
                style: f.style,
            },
            mine: f.patient_tz.filter(|_| reader == Reader::Patient),
        }
    }
}

/// "Mon, Nov 30, 2026, 3:00 PM EST", and for a patient whose clock reads
/// differently "(Tue 1 Dec, 7:00 AM your time, AEDT)" after it.
pub(super) fn when(ts: i64, t: Times) -> String {
    let c = t.clinic;
    let clinic = format!("{} {}", c.local(ts), c.abbreviation(ts));
    match t.mine.map(|z| c.in_zone(z)) {
        Some(mine)
            if (mine.short(ts), mine.abbreviation(ts)) != (c.short(ts), c.abbreviation(ts)) =>
        {
            format!(
                "{clinic} ({} your time, {})",
                mine.short(ts),
                mine.abbreviation(ts)
            )
        }
        _ => clinic,
    }
}

fn headline(event: NotifyEvent, reader: Reader, f: &Facts) -> String {
    use NotifyEvent::*;
    let patient = &f.patient;
    let series = f.meeting.as_ref().is_some_and(|m| m.series_count > 1);
    let what = if series {
        "appointment series"
    } else {
        "appointment"
    };
    match (event, reader) {
        (AppointmentCreated, Reader::Patient) => format!("Your {what} is booked"),
        (AppointmentCreated, Reader::Staff) => format!("New {what} with {patient}"),
        (AppointmentCancelled, Reader::Patient) => format!("Your {what} is cancelled"),
        (AppointmentCancelled, Reader::Staff) => format!("Cancelled: {what} with {patient}"),
        (AppointmentRescheduled, Reader::Patient) => "Your appointment has a new time".into(),
        (AppointmentRescheduled, Reader::Staff) => {
            format!("Rescheduled: appointment with {patient}")
        }
        (Invited, _) => format!("You are invited to an appointment with {patient}"),
        (InviteeDeclined, _) => format!("{} declined the appointment with {patient}", f.by),
        (RequestReceived, Reader::Patient) => "We received your request".into(),
        (RequestReceived, Reader::Staff) => match f.request.as_ref().map(|r| r.service.as_str()) {
            Some(service) if !service.is_empty() => {
                format!("New {} from {patient}: {service}", f.request_kind)
            }
            _ => format!("New {} from {patient}", f.request_kind),
        },
        (RequestAnswered, Reader::Patient) => format!("Your request was {}", f.outcome),
        (RequestAnswered, Reader::Staff) => format!("{patient}'s request was {}", f.outcome),
        (ChangeRequestReceived, Reader::Patient) => format!("We received your {}", f.request_kind),
        (ChangeRequestReceived, Reader::Staff) => format!("{patient} asks: {}", f.request_kind),
        (ProposalMade, Reader::Patient) => "The clinic proposes a new time".into(),
        (ProposalMade, Reader::Staff) => format!("A new time was proposed to {patient}"),
        (ProposalAnswered, Reader::Patient) => format!("You {} the proposed time", f.outcome),
        (ProposalAnswered, Reader::Staff) => format!("{patient} {} the proposed time", f.outcome),
        (ProposalExpired, Reader::Patient) => {
            format!("The proposed time expired: your appointment {}", f.outcome)
        }
        (ProposalExpired, Reader::Staff) => format!(
            "The time proposed to {patient} expired: the appointment {}",
            f.outcome
        ),
    }
}

/// The message for one reader. Nothing here depends on the channel: the
/// email and the SMS say the same thing at different lengths.
pub fn message(event: NotifyEvent, reader: Reader, f: &Facts) -> Message {
    let tz = Times::for_reader(reader, f);
    let head = headline(event, reader, f);
    let rows = details(event, reader, f, tz);
    let lines = links(event, reader, f);
    let subject = match &f.meeting {
        // The subject stays short: the clinic's time only.
        Some(m) => format!(
            "[{}] {head}: {}",
            f.clinic,
            when(m.starts_at, Times { mine: None, ..tz })
        ),
        None => format!("[{}] {head}", f.clinic),
    };
    let text = plain(&head, &rows, &lines, &f.clinic);
    let html = html(&head, &rows, &lines, &f.clinic);
    let sms = match &f.meeting {
        Some(m) => format!("{}: {head}, {}.", f.clinic, when(m.starts_at, tz)),
        None => format!("{}: {head}.", f.clinic),
    };
    Message {
        subject,
        text,
        html,
        sms,
    }
}

/// The (label, value) rows of details, in reading order.
pub(super) fn details(
    event: NotifyEvent,
    reader: Reader,
    f: &Facts,
    tz: Times,
) -> Vec<(&'static str, String)> {
    // (label, value) rows of details, in reading order.
    let mut rows: Vec<(&'static str, String)> = Vec::new();
    if let Some(m) = &f.meeting {
        if let Some(prev) = m.previous_start {
            rows.push(("Was", when(prev, tz)));
        }
        let label = if m.previous_start.is_some() {
            "Now"
        } else {
            "When"
        };
        let mut w = when(m.starts_at, tz);
        if m.series_count > 1 {
            w = format!("{w} (first of {} weekly meetings)", m.series_count);
        }
        rows.push((label, w));
        if reader == Reader::Staff {
            rows.push(("Patient", f.patient.clone()));
        }
        rows.push(("Practitioner", m.practitioner.clone()));
        rows.push(("Appointment type", m.service.clone()));
        if !m.location.is_empty() {
            rows.push(("Location", m.location.clone()));
        }
        if m.tentative {
            rows.push((
                "Status",
                "Tentative until you approve it in the portal".into(),
            ));
        }
        // No way in to a meeting that is cancelled (an expired proposal's
        // may be).
        let cancelled = event == NotifyEvent::AppointmentCancelled || f.cancel_reason.is_some();
        if !cancelled && !m.video_url.is_empty() {
            rows.push(("Join", m.video_url.clone()));
            if !m.meeting_id.is_empty() {
                rows.push(("Meeting ID", m.meeting_id.clone()));
            }
            if !m.passcode.is_empty() {
                rows.push(("Passcode", m.passcode.clone()));
            }
        }
    } else if !f.requested.is_empty() || f.request.is_some() {
        if let Some(at) = f.request.as_ref().and_then(|r| r.now_made_at) {
            rows.push((
                "Requested",
                format!("As soon as possible (asked {})", when(at, tz)),
            ));
        } else {
            let times: Vec<String> = f.requested.iter().map(|t| when(*t, tz)).collect();
            rows.push(("Requested", times.join("; ")));
        }
        if reader == Reader::Staff {
            rows.push(("Patient", f.patient.clone()));
        }
        if let Some(r) = &f.request {
            if !r.service.is_empty() {
                rows.push(("Service", r.service.clone()));
            }
            let kind = match r.now_made_at {
                Some(_) => format!("{}, now", f.request_kind),
                None => format!("{}, at the times requested", f.request_kind),
            };
            rows.push(("Request type", capitalised(&kind)));
            if !r.note.trim().is_empty() {
                rows.push(("Note", r.note.clone()));
            }
        }
    }
    if let Some(r) = f.cancel_reason {
        rows.push(("Reason", r.label().to_string()));
    }
    if !f.cancel_note.is_empty() {
        rows.push(("Note", f.cancel_note.clone()));
    }
    if !f.message.is_empty() {
        let label = match reader {
            Reader::Patient => "Message from the clinic",
            Reader::Staff => "Message",
        };
        rows.push((label, f.message.clone()));
    }
    rows
}

/// The lines under the details: links to follow and whom to call.
fn links(event: NotifyEvent, reader: Reader, f: &Facts) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let rebook = reader == Reader::Patient
        && event == NotifyEvent::AppointmentCancelled
        && f.cancel_reason.is_some_and(CancelReason::invites_rebooking)
        && !f.links.rebook.is_empty();
    if rebook {
        lines.push(format!("Book a new time: {}", f.links.rebook));
    }
    let link = match reader {
        Reader::Patient => &f.links.portal,
        Reader::Staff => &f.links.staff,
    };
    if !link.is_empty() {
        let label = match reader {
            Reader::Patient => "Your appointments",
            Reader::Staff => "Open in Slotwise",
        };
        lines.push(format!("{label}: {link}"));
    }
    if reader == Reader::Patient && !f.clinic_phone.is_empty() {
        lines.push(format!(
            "Questions? Call {} on {}.",
            f.clinic, f.clinic_phone
        ));
    }

    lines
}

/// The plain-text body.
pub(super) fn plain(head: &str, rows: &[(&str, String)], lines: &[String], clinic: &str) -> String {
    let mut text = format!("{head}\n\n");
    for (k, v) in rows {
        text.push_str(&format!("{k}: {v}\n"));
    }
    if !lines.is_empty() {
        text.push('\n');
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
    }
    text.push_str(&format!("\n{clinic}\n"));

    text
}

/// The HTML body: the same rows as a table, links as links.
pub(super) fn html(head: &str, rows: &[(&str, String)], lines: &[String], clinic: &str) -> String {
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;color:#1f2933\">\
         <p style=\"color:#52606d;margin:0\">{}</p><h2 style=\"margin:4px 0 16px\">{}</h2><table>",
        esc(clinic),
        esc(head)
    );
    for (k, v) in rows {
        let value = if v.starts_with("https://") || v.starts_with("http://") {
            format!("<a href=\"{0}\">{0}</a>", esc(v))
        } else {
            esc(v).replace('\n', "<br>")
        };
        html.push_str(&format!(
            "<tr><th style=\"text-align:left;padding:2px 12px 2px 0;vertical-align:top\">{}</th><td>{value}</td></tr>",
            esc(k)
        ));
    }
    html.push_str("</table>");
    for l in lines {
        let (label, url) = l.split_once(": ").unwrap_or((l.as_str(), ""));
        if url.starts_with("http") {
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                esc(url),
                esc(label)
            ));
        } else {
            html.push_str(&format!("<p>{}</p>", esc(l)));
        }
    }
    html.push_str(&format!(
        "<p style=\"color:#52606d\">{}</p></body></html>",
        esc(clinic)
    ));

    html
}

/// HTML escaping for text placed in elements and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    fn facts() -> Facts {
        Facts {
            clinic: "Northside Telehealth".into(),
            clinic_phone: "+1 212 555 0100".into(),
            tz: Some(New_York),
            patient: "Ann Avery".into(),
            meeting: Some(Meeting {
                // 14:00 UTC on Mon 9 March 2026 = 10:00 EDT.
                starts_at: 1_773_064_800,
                ends_at: 1_773_066_600,
                practitioner: "Dr. Maya Lee".into(),
                service: "Video consultation".into(),
                location: "Video".into(),
                video_url: "https://meet.slotwise.test/abc".into(),
                meeting_id: "123 456".into(),
                passcode: "9876".into(),
                series_count: 1,
                ..Default::default()
            }),
            links: Links {
                portal: "http://127.0.0.1:3000/portal".into(),
                staff: "http://127.0.0.1:3000/bookings".into(),
                rebook: "http://127.0.0.1:3000/book/northside".into(),
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_cancellation_tells_the_patient_why_and_offers_a_new_time() {
        let mut f = facts();
        f.cancel_reason = Some(CancelReason::ProviderUnavailable);
        f.message = "Dr. Lee is away; <sorry>.".into();
        let m = message(NotifyEvent::AppointmentCancelled, Reader::Patient, &f);
        assert_eq!(
            m.subject,
            "[Northside Telehealth] Your appointment is cancelled: Mon 9 Mar 2026, 10:00 EDT"
        );
        assert!(m.text.contains("Reason: Provider unavailable\n"));
        assert!(m
            .text
            .contains("Message from the clinic: Dr. Lee is away; <sorry>.\n"));
        assert!(m
            .text
            .contains("Book a new time: http://127.0.0.1:3000/book/northside\n"));
        assert!(
            !m.text.contains("Join:"),
            "a cancelled meeting has no join link"
        );
        assert!(m.html.contains("Dr. Lee is away; &lt;sorry&gt;."));
        assert!(!m.html.contains("<sorry>"));
        assert!(m
            .sms
            .starts_with("Northside Telehealth: Your appointment is cancelled"));
        // The patient asked for it: no invitation to book again.
        f.cancel_reason = Some(CancelReason::PatientRequest);
        let m = message(NotifyEvent::AppointmentCancelled, Reader::Patient, &f);
        assert!(!m.text.contains("Book a new time"));
    }

    #[test]
    fn staff_see_the_patient_and_a_link_into_slotwise() {
        let m = message(NotifyEvent::AppointmentCreated, Reader::Staff, &facts());
        assert!(m.subject.contains("New appointment with Ann Avery"));
        assert!(m.text.contains("Patient: Ann Avery\n"));
        assert!(m.text.contains("Join: https://meet.slotwise.test/abc\n"));
        assert!(m
            .text
            .contains("Open in Slotwise: http://127.0.0.1:3000/bookings"));
        let p = message(NotifyEvent::AppointmentCreated, Reader::Patient, &facts());
        assert!(!p.text.contains("Patient:"));
        assert!(p
            .text
            .contains("Questions? Call Northside Telehealth on +1 212 555 0100."));
    }

    #[test]
    fn a_reschedule_shows_the_old_and_new_times() {
        let mut f = facts();
        f.meeting.as_mut().unwrap().previous_start = Some(1_773_064_800 - 86_400);
        let m = message(NotifyEvent::AppointmentRescheduled, Reader::Patient, &f);
        assert!(m
            .text
            .contains("Was: Sun 8 Mar 2026, 10:00 EDT\nNow: Mon 9 Mar 2026, 10:00 EDT\n"));
    }

    #[test]
    fn a_request_lists_the_requested_times() {
        let mut f = facts();
        f.meeting = None;
        f.requested = vec![1_773_064_800, 1_773_151_200];
        f.request_kind = "session request".into();
        let m = message(NotifyEvent::RequestReceived, Reader::Staff, &f);
        assert_eq!(
            m.subject,
            "[Northside Telehealth] New session request from Ann Avery"
        );
        assert!(m
            .text
            .contains("Requested: Mon 9 Mar 2026, 10:00 EDT; Tue 10 Mar 2026, 10:00 EDT\n"));
    }

    #[test]
    fn a_request_names_its_service_type_and_note_and_when_a_now_request_was_made() {
        let mut f = facts();
        f.meeting = None;
        f.request_kind = "session request".into();
        f.requested = vec![1_773_064_800];
        f.request = Some(Asked {
            service: "Follow-up".into(),
            note: "About my blood test.".into(),
            now_made_at: None,
        });
        let m = message(NotifyEvent::RequestReceived, Reader::Staff, &f);
        assert_eq!(
            m.subject,
            "[Northside Telehealth] New session request from Ann Avery: Follow-up"
        );
        for line in [
            "Requested: Mon 9 Mar 2026, 10:00 EDT\n",
            "Patient: Ann Avery\n",
            "Service: Follow-up\n",
            "Request type: Session request, at the times requested\n",
            "Note: About my blood test.\n",
        ] {
            assert!(m.text.contains(line), "{line} in {}", m.text);
        }
        // A Now request asks for as soon as possible: the time it was made
        // is what staff need to see.
        f.requested.clear();
        f.request.as_mut().unwrap().now_made_at = Some(1_773_064_800);
        let m = message(NotifyEvent::RequestReceived, Reader::Staff, &f);
        assert!(m
            .text
            .contains("Requested: As soon as possible (asked Mon 9 Mar 2026, 10:00 EDT)\n"));
        assert!(m.text.contains("Request type: Session request, now\n"));
    }

    #[test]
    fn times_read_in_the_clinics_style_and_a_patient_elsewhere_reads_both() {
        let mut f = facts();
        f.style = DateStyle::EnUs;
        let staff = message(NotifyEvent::AppointmentCreated, Reader::Staff, &f);
        assert!(staff
            .text
            .contains("When: Mon, Mar 9, 2026, 10:00 AM EDT\n"));
        // A patient in the clinic's zone reads it once.
        f.patient_tz = Some(New_York);
        let p = message(NotifyEvent::AppointmentCreated, Reader::Patient, &f);
        assert!(p.text.contains("When: Mon, Mar 9, 2026, 10:00 AM EDT\n"));
        // 14:00 UTC is 01:00 the next day in Sydney (AEDT).
        f.patient_tz = Some(chrono_tz::Australia::Sydney);
        let p = message(NotifyEvent::AppointmentCreated, Reader::Patient, &f);
        assert!(
            p.text.contains(
                "When: Mon, Mar 9, 2026, 10:00 AM EDT (Tue, Mar 10, 1:00 AM your time, AEDT)\n"
            ),
            "{}",
            p.text
        );
        assert!(p.subject.ends_with("Mon, Mar 9, 2026, 10:00 AM EDT"));
        // Staff read the clinic's time only, whatever the patient's zone.
        let staff = message(NotifyEvent::AppointmentCreated, Reader::Staff, &f);
        assert!(!staff.text.contains("your time"));
    }
}
