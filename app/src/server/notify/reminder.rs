//! A reminder's words, and the page its Confirm and Cancel links open.
//! The message is rendered when the reminder falls due, from the
//! appointment as it is then, in the clinic's words and date style (the
//! same details rows as every other patient message).

use super::render::{self, esc, Facts, Message, Reader, Times};
use super::{appointment, clinic, zones, Change, OutboxMessage};
use crate::domain::notify::{Channel, NotifyEvent};
use crate::error::AppResult;

/// The event name reminders carry in the outbox.
pub const EVENT: &str = "reminder";

/// The two one-time links a reminder carries.
#[derive(Debug, Clone, Default)]
pub struct Links {
    pub confirm: String,
    pub cancel: String,
}

/// The reminder for the facts of one appointment (pure).
pub fn message(f: &Facts, links: &Links) -> Message {
    let tz = Times::for_reader(Reader::Patient, f);
    let head = "Reminder: your appointment is coming up";
    let rows = render::details(NotifyEvent::AppointmentCreated, Reader::Patient, f, tz);
    let mut lines = vec![
        format!("Confirm you are coming: {}", links.confirm),
        format!("Need to cancel? Cancel: {}", links.cancel),
    ];
    if !f.clinic_phone.is_empty() {
        lines.push(format!(
            "Questions? Call {} on {}.",
            f.clinic, f.clinic_phone
        ));
    }
    let start = f.meeting.as_ref().map(|m| m.starts_at).unwrap_or_default();
    let subject = format!(
        "[{}] Reminder: your appointment on {}",
        f.clinic,
        render::when(start, Times { mine: None, ..tz })
    );
    let sms = format!(
        "{}: Reminder, your appointment {}. Confirm: {} Cancel: {}",
        f.clinic,
        render::when(start, tz),
        links.confirm,
        links.cancel
    );
    Message {
        subject,
        text: render::plain(head, &rows, &lines, &f.clinic),
        html: render::html(head, &rows, &lines, &f.clinic),
        sms,
    }
}

/// Queues one reminder of an appointment to its patient, by the channels
/// asked for that the patient has an address for; returns the ids of the
/// messages queued (none: nowhere to send it).
pub async fn queue(
    change: &mut Change,
    appointment_id: i64,
    reminder_id: i64,
    links: &Links,
    channels: &[Channel],
) -> AppResult<Vec<i64>> {
    let a = appointment(change, appointment_id).await?;
    let c = clinic(change, a.clinic_id).await?;
    let base = change.base_url().to_string();
    let mut facts = Facts::default();
    c.describe(&mut facts, &base, "/bookings");
    facts.patient = a.patient.name.clone();
    let zone: String = sqlx::query_scalar("SELECT time_zone FROM app_user WHERE id = $1")
        .bind(a.patient.id)
        .fetch_one(change.conn())
        .await?;
    facts.patient_tz = Some(zones::parse(&zone));
    facts.meeting = Some(a.meeting(None, 1));
    let m = message(&facts, links);
    let mut ids = Vec::new();
    for &channel in channels {
        let (address, body_text, body_html) = match channel {
            Channel::Email => (&a.patient.email, m.text.clone(), m.html.clone()),
            Channel::Sms => (&a.patient.mobile, m.sms.clone(), String::new()),
        };
        if address.trim().is_empty() {
            continue;
        }
        let key = format!("reminder/{reminder_id}/{}", channel.as_str());
        change
            .outbox(OutboxMessage {
                recipient_user_id: Some(a.patient.id),
                recipient: address.clone(),
                channel: channel.as_str(),
                event: EVENT.into(),
                subject: m.subject.clone(),
                body_text,
                body_html,
                attachment: None,
                attachment_extra: None,
                idempotency_key: key.clone(),
                clinic_id: Some(c.id),
                appointment_id: Some(a.id),
            })
            .await?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE idempotency_key = $1")
            .bind(&key)
            .fetch_one(change.conn())
            .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// What a reminder link's page shows about the appointment.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub clinic: String,
    pub when: String,
    pub practitioner: String,
    pub service: String,
    pub place: String,
}

/// The button a link's page offers. Its form has no action: it posts to
/// the page's own address, the link.
pub struct Button<'a> {
    pub label: &'a str,
}

/// The page a reminder link opens: light, phone-first, no script. Opening
/// it changes nothing (mail scanners fetch links); its button POSTs.
pub fn page(
    title: &str,
    shown: Option<&Shown>,
    say: &str,
    button: Option<Button<'_>>,
    phone: Option<&str>,
) -> String {
    let mut body = format!("<h1>{}</h1>", esc(title));
    if let Some(s) = shown {
        body.push_str(&format!(
            "<p class=\"clinic\">{}</p><dl><dt>When</dt><dd>{}</dd><dt>With</dt><dd>{}</dd>\
             <dt>Appointment</dt><dd>{}</dd>",
            esc(&s.clinic),
            esc(&s.when),
            esc(&s.practitioner),
            esc(&s.service)
        ));
        if !s.place.is_empty() {
            body.push_str(&format!("<dt>Where</dt><dd>{}</dd>", esc(&s.place)));
        }
        body.push_str("</dl>");
    }
    body.push_str(&format!("<p role=\"status\">{}</p>", esc(say)));
    if let Some(p) = phone.filter(|p| !p.is_empty()) {
        let dial: String = p
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"tel:{}\">Call {}</a></p>",
            esc(&dial),
            esc(p)
        ));
    }
    if let Some(b) = button {
        body.push_str(&format!(
            "<form method=\"post\"><button type=\"submit\">{}</button></form>",
            esc(b.label)
        ));
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        esc(title)
    )
}

const STYLE: &str = "body{margin:0;font-family:system-ui,sans-serif;color:#1f2933;background:#f5f7fa}\
main{max-width:32rem;margin:0 auto;padding:1.25rem}h1{font-size:1.4rem}\
.clinic{color:#52606d;margin:0 0 .5rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;\
background:#fff;border-radius:8px;padding:1rem;margin:0 0 1rem}dt{font-weight:600}dd{margin:0}\
button,.button{display:block;width:100%;box-sizing:border-box;padding:.9rem;font-size:1.05rem;\
border:0;border-radius:8px;background:#1f5fbf;color:#fff;text-align:center;text-decoration:none}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::datetime_style::DateStyle;
    use render::Meeting;

    fn facts() -> Facts {
        Facts {
            clinic: "Northside Telehealth".into(),
            clinic_phone: "+1 212 555 0100".into(),
            tz: Some(chrono_tz::America::New_York),
            style: DateStyle::EnUs,
            patient: "Ann Avery".into(),
            meeting: Some(Meeting {
                // 14:00 UTC on Mon 9 March 2026 = 10:00 EDT.
                starts_at: 1_773_064_800,
                ends_at: 1_773_066_600,
                practitioner: "Dr. Maya Lee".into(),
                service: "Video consultation".into(),
                location: "Video (online)".into(),
                video_url: "https://meet.slotwise.test/abc".into(),
                series_count: 1,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_reminder_says_when_in_the_clinics_style_and_carries_both_links() {
        let links = Links {
            confirm: "http://x.test/r/c1".into(),
            cancel: "http://x.test/r/k2".into(),
        };
        let m = message(&facts(), &links);
        assert_eq!(
            m.subject,
            "[Northside Telehealth] Reminder: your appointment on Mon, Mar 9, 2026, 10:00 AM EDT"
        );
        assert!(
            m.text.contains("When: Mon, Mar 9, 2026, 10:00 AM EDT\n"),
            "{}",
            m.text
        );
        assert!(m.text.contains("Practitioner: Dr. Maya Lee\n"));
        assert!(m.text.contains("Join: https://meet.slotwise.test/abc\n"));
        assert!(m
            .text
            .contains("Confirm you are coming: http://x.test/r/c1\n"));
        assert!(m
            .text
            .contains("Need to cancel? Cancel: http://x.test/r/k2\n"));
        assert!(m
            .html
            .contains("<a href=\"http://x.test/r/c1\">Confirm you are coming</a>"));
        assert!(m
            .sms
            .contains("Confirm: http://x.test/r/c1 Cancel: http://x.test/r/k2"));
    }

    #[test]
    fn the_link_page_escapes_and_offers_a_call() {
        let html = page(
            "Cancel <appointment>",
            Some(&Shown {
                clinic: "A & B".into(),
                ..Default::default()
            }),
            "Please call.",
            None,
            Some("+1 (212) 555-0100"),
        );
        assert!(html.contains("Cancel &lt;appointment&gt;"));
        assert!(html.contains("A &amp; B"));
        assert!(html.contains("href=\"tel:+12125550100\""));
        assert!(!html.contains("<form"));
    }
}
