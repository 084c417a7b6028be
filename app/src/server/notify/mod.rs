//! Notifications: inside the transaction of a change, work out who hears
//! about it (the event's audience, filtered by each staff member's
//! settings; patients always by email), render the messages with their
//! iCalendar attachments, and write them to the outbox. The outbox worker
//! (`super::outbox`) delivers them after the commit, with retries.
//!
//! Because the outbox rows are part of the change's transaction, a change
//! that rolls back sends nothing and one that commits is never lost.

pub mod account;
pub mod ics;
pub mod pms;
pub mod reminder;
pub mod render;

use super::change::{Change, OutboxMessage};
use super::db::{id_list, known};
use super::zones;
use crate::domain::booking::CancelReason;
use crate::domain::modality::{Modality, Venue};
use crate::domain::notify::{staff_audience, Channel, NotifyEvent, Parties};
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use render::{Facts, Links, Meeting, Reader};
use sqlx::Row;

/// Which part of a series a notice covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// This appointment (an occurrence of a series is named by its
    /// RECURRENCE-ID).
    One,
    /// The whole series this appointment starts (a new series).
    Series { count: usize },
    /// This occurrence and every later one (cancel the rest of a series).
    FromHere { count: usize },
}

/// What a notice is about.
#[derive(Debug, Clone)]
pub enum About {
    Appointment { id: i64, span: Span },
    Request { id: i64 },
}

/// One thing that happened, for `queue`.
#[derive(Debug, Clone)]
pub struct Notice {
    pub event: NotifyEvent,
    pub about: About,
    /// Who did it (never told about their own action).
    pub actor_id: i64,
    /// The start an appointment had before this change (reschedules).
    pub previous_start: Option<i64>,
    /// The series "this and all future" split this appointment's series
    /// from: its shortened rule goes out too, so calendars drop the moved
    /// meetings from it.
    pub previous_series: Option<i64>,
    /// The provider who declined (InviteeDeclined), or who proposed the
    /// time that expired (ProposalExpired).
    pub by: Option<i64>,
    /// Outcome words for answers ("approved", "declined", ...).
    pub outcome: String,
    /// A message for the patient, shown as written.
    pub message: String,
}

impl Notice {
    pub fn new(event: NotifyEvent, about: About, actor_id: i64) -> Notice {
        Notice {
            event,
            about,
            actor_id,
            previous_start: None,
            previous_series: None,
            by: None,
            outcome: String::new(),
            message: String::new(),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Person {
    id: i64,
    name: String,
    email: String,
    mobile: String,
}

async fn person(change: &mut Change, id: i64) -> AppResult<Person> {
    Ok(
        sqlx::query_as("SELECT id, name, email, mobile FROM app_user WHERE id = $1")
            .bind(id)
            .fetch_one(change.conn())
            .await?,
    )
}

struct Clinic {
    id: i64,
    name: String,
    slug: String,
    phone: String,
    tz: Tz,
    style: crate::domain::datetime_style::DateStyle,
}

impl Clinic {
    /// The clinic's part of a message: its name, phone, zone and links
    /// (`staff_page`: where the event is handled in Slotwise).
    fn describe(&self, facts: &mut Facts, base: &str, staff_page: &str) {
        facts.clinic = self.name.clone();
        facts.clinic_phone = self.phone.clone();
        facts.tz = Some(self.tz);
        facts.style = self.style;
        facts.links = Links {
            portal: format!("{base}/portal"),
            staff: format!("{base}{staff_page}"),
            rebook: format!("{base}/book/{}", self.slug),
        };
    }
}

async fn clinic(change: &mut Change, id: i64) -> AppResult<Clinic> {
    let r = sqlx::query(
        "SELECT id, name, slug, phone, time_zone, date_style FROM clinic WHERE id = $1",
    )
    .bind(id)
    .fetch_one(change.conn())
    .await?;
    Ok(Clinic {
        id: r.get("id"),
        name: r.get("name"),
        slug: r.get("slug"),
        phone: r.get("phone"),
        tz: zones::parse(&r.get::<String, _>("time_zone")),
        style: zones::style(&r.get::<String, _>("date_style"))?,
    })
}

/// An appointment as the messages need it.
struct Appt {
    id: i64,
    clinic_id: i64,
    host: Person,
    patient: Person,
    /// Invited providers who have not declined.
    invitees: Vec<Person>,
    service: String,
    starts_at: i64,
    ends_at: i64,
    status: String,
    location: String,
    video_url: String,
    meeting_id: String,
    passcode: String,
    series: Option<(i64, String)>,
    original_start: Option<i64>,
    cancel_reason: Option<CancelReason>,
    cancel_note: String,
    cancel_message: String,
}

impl Appt {
    fn meeting(&self, previous_start: Option<i64>, series_count: usize) -> Meeting {
        Meeting {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            practitioner: self.host.name.clone(),
            service: self.service.clone(),
            location: self.location.clone(),
            video_url: self.video_url.clone(),
            meeting_id: self.meeting_id.clone(),
            passcode: self.passcode.clone(),
            tentative: matches!(self.status.as_str(), "pending" | "proposed"),
            previous_start,
            series_count,
        }
    }
}

async fn appointment(change: &mut Change, id: i64) -> AppResult<Appt> {
    // The appointment with its host and patient in one statement: it is
    // read inside the writer's transaction, where every statement counts.
    #[derive(sqlx::FromRow)]
    struct Row {
        clinic_id: i64,
        service: String,
        starts_at: i64,
        ends_at: i64,
        status: String,
        location: String,
        video_url: String,
        meeting_id: String,
        passcode: String,
        series_id: Option<i64>,
        original_start: Option<i64>,
        cancel_reason_code: Option<String>,
        cancel_text: Option<String>,
        cancel_message: Option<String>,
        rrule: Option<String>,
        host_id: i64,
        host_name: String,
        host_email: String,
        host_mobile: String,
        patient_id: i64,
        patient_name: String,
        patient_email: String,
        patient_mobile: String,
        modality: String,
        address: String,
        call_phone: String,
    }
    let r: Row = sqlx::query_as(
        "SELECT a.clinic_id, s.name AS service, s.modality, c.address, c.call_phone, \
         a.starts_at, a.ends_at, a.status, a.location, \
         a.video_url, a.meeting_id, a.passcode, a.series_id, a.original_start, a.cancel_reason_code, \
         a.cancel_text, a.cancel_message, (SELECT rrule FROM series x WHERE x.id = a.series_id) AS rrule, \
         h.id AS host_id, h.name AS host_name, h.email AS host_email, h.mobile AS host_mobile, \
         p.id AS patient_id, p.name AS patient_name, p.email AS patient_email, p.mobile AS patient_mobile \
         FROM appointment a JOIN service s ON s.id = a.service_id JOIN clinic c ON c.id = a.clinic_id \
         JOIN app_user h ON h.id = a.host_provider_id JOIN app_user p ON p.id = a.patient_id \
         WHERE a.id = $1",
    )
    .bind(id)
    .fetch_one(change.conn())
    .await?;
    let invitees: Vec<Person> = sqlx::query_as::<_, (i64, String, String, String)>(
        "SELECT u.id, u.name, u.email, u.mobile FROM participant x JOIN app_user u ON u.id = x.provider_id \
         WHERE x.appointment_id = $1 AND x.status <> 'declined' ORDER BY u.id",
    )
    .bind(id)
    .fetch_all(change.conn())
    .await?
    .into_iter()
    .map(|(id, name, email, mobile)| Person {
        id,
        name,
        email,
        mobile,
    })
    .collect();
    Ok(Appt {
        id,
        clinic_id: r.clinic_id,
        host: Person {
            id: r.host_id,
            name: r.host_name,
            email: r.host_email,
            mobile: r.host_mobile,
        },
        patient: Person {
            id: r.patient_id,
            name: r.patient_name,
            email: r.patient_email,
            mobile: r.patient_mobile,
        },
        invitees,
        service: r.service,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        status: r.status,
        // Where, in the clinic's words (address, number to call or video):
        // the emails' Location row and the calendar's LOCATION.
        location: Venue {
            modality: known(
                Modality::parse(&r.modality),
                "service.modality",
                &r.modality,
            )?,
            address: &r.address,
            call_phone: &r.call_phone,
            room: &r.location,
        }
        .place(),
        video_url: r.video_url,
        meeting_id: r.meeting_id,
        passcode: r.passcode,
        series: r.series_id.zip(r.rrule),
        original_start: r.original_start,
        cancel_reason: r
            .cancel_reason_code
            .as_deref()
            .and_then(CancelReason::from_code),
        cancel_note: r.cancel_text.unwrap_or_default(),
        cancel_message: r.cancel_message.unwrap_or_default(),
    })
}

/// A request as the messages need it.
struct Req {
    clinic_id: i64,
    kind: String,
    patient: Person,
    target: Option<i64>,
    requested: Vec<i64>,
    appointment_id: Option<i64>,
    version: i64,
    service: String,
    note: String,
    /// A Now request: the time it was made is its requested time.
    now_made_at: Option<i64>,
    /// The requested service's modality (video when none is named).
    modality: Modality,
}

async fn request(change: &mut Change, id: i64) -> AppResult<Req> {
    #[derive(sqlx::FromRow)]
    struct Row {
        clinic_id: i64,
        kind: String,
        requester_id: i64,
        target_provider_id: Option<i64>,
        requested_times: String,
        appointment_id: Option<i64>,
        version: i64,
        service: Option<String>,
        note: String,
        mode: Option<String>,
        created_at: i64,
        modality: Option<String>,
    }
    let r: Row = sqlx::query_as(
        "SELECT r.clinic_id, r.kind, r.requester_id, r.target_provider_id, r.requested_times, \
         COALESCE(r.result_appointment_id, r.appointment_id) AS appointment_id, r.version, \
         s.name AS service, r.note, r.mode, r.created_at, s.modality \
         FROM request r LEFT JOIN service s ON s.id = r.service_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_one(change.conn())
    .await?;
    Ok(Req {
        clinic_id: r.clinic_id,
        kind: r.kind,
        patient: person(change, r.requester_id).await?,
        target: r.target_provider_id,
        requested: serde_json::from_str(&r.requested_times).unwrap_or_default(),
        appointment_id: r.appointment_id,
        version: r.version,
        service: r.service.unwrap_or_default(),
        note: r.note,
        now_made_at: (r.mode.as_deref() == Some("now")).then_some(r.created_at),
        modality: match r.modality {
            Some(m) => known(Modality::parse(&m), "service.modality", &m)?,
            None => Modality::Video,
        },
    })
}

/// The next SEQUENCE for a calendar UID: every message about a meeting
/// carries a higher one than the last, so calendars apply them in order.
async fn next_sequence(change: &mut Change, uid: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO ics_sequence (uid, seq) VALUES ($1, 0) \
         ON CONFLICT (uid) DO UPDATE SET seq = ics_sequence.seq + 1 RETURNING seq",
    )
    .bind(uid)
    .fetch_one(change.conn())
    .await?)
}

/// Providers (and schedulers) who hear about a request for the host group.
async fn clinic_staff(change: &mut Change, clinic_id: i64) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT user_id FROM membership WHERE clinic_id = $1 \
         AND role IN ('provider', 'scheduler') ORDER BY user_id",
    )
    .bind(clinic_id)
    .fetch_all(change.conn())
    .await?)
}

/// The clinic's admins and its schedulers.
async fn overseers(change: &mut Change, clinic_id: i64) -> AppResult<(Vec<i64>, Vec<i64>)> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT user_id, role FROM membership WHERE clinic_id = $1 \
         AND role IN ('admin', 'scheduler') ORDER BY user_id",
    )
    .bind(clinic_id)
    .fetch_all(change.conn())
    .await?;
    let of = |role: &str| {
        rows.iter()
            .filter(|(_, r)| r == role)
            .map(|(id, _)| *id)
            .collect()
    };
    Ok((of("admin"), of("scheduler")))
}

/// The channels each of `users` chose for `event`.
async fn chosen(
    change: &mut Change,
    event: NotifyEvent,
    users: &[i64],
) -> AppResult<Vec<(i64, Channel)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT user_id, channel FROM notification_preference WHERE event = $1 \
         AND user_id IN ({}) ORDER BY user_id, channel",
        id_list(users)
    ))
    .bind(event.as_str())
    .fetch_all(change.conn())
    .await?;
    rows.iter()
        .map(|r| {
            let code: String = r.get("channel");
            let channel = known(
                Channel::parse(&code),
                "notification_preference.channel",
                &code,
            )?;
            Ok((r.get::<i64, _>("user_id"), channel))
        })
        .collect()
}

fn ts(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// The calendar attachments for an appointment notice (the second only
/// for a split series), and the UID and SEQUENCE that key its messages.
async fn attachment(
    change: &mut Change,
    n: &Notice,
    a: &Appt,
    c: &Clinic,
    span: Span,
) -> AppResult<(Option<String>, Option<String>, String)> {
    let (uid, occurrence, rrule) = match (&a.series, span) {
        (None, _) => (
            format!("appointment-{}@{}.slotwise", a.id, c.slug),
            None,
            None,
        ),
        (Some((sid, rule)), Span::Series { .. }) => (
            format!("series-{sid}@{}.slotwise", c.slug),
            None,
            Some(rule.clone()),
        ),
        (Some((sid, _)), span) => (
            format!("series-{sid}@{}.slotwise", c.slug),
            Some(ics::Occurrence {
                original_start: ts(a.original_start.unwrap_or(a.starts_at)),
                and_future: matches!(span, Span::FromHere { .. }),
            }),
            None,
        ),
    };
    let seq = next_sequence(change, &uid).await?;
    let key = format!("{uid}#{seq}");
    let method = match n.event {
        // A decline changes nothing in anyone's calendar but the decliner's.
        NotifyEvent::InviteeDeclined => return Ok((None, None, key)),
        NotifyEvent::AppointmentCancelled => ics::Method::Cancel,
        // e.g. a proposal the patient turned down, cancelling the meeting.
        _ if a.status == "cancelled" => ics::Method::Cancel,
        _ => ics::Method::Request,
    };
    let status = match (method, a.status.as_str()) {
        (ics::Method::Cancel, _) | (_, "cancelled") => ics::Status::Cancelled,
        (_, "pending" | "proposed") => ics::Status::Tentative,
        _ => ics::Status::Confirmed,
    };
    let mut description = format!("{} with {}", a.service, a.host.name);
    if !a.video_url.is_empty() && status != ics::Status::Cancelled {
        description.push_str(&format!("\nJoin: {}", a.video_url));
        if !a.meeting_id.is_empty() {
            description.push_str(&format!("\nMeeting ID: {}", a.meeting_id));
        }
        if !a.passcode.is_empty() {
            description.push_str(&format!("\nPasscode: {}", a.passcode));
        }
    }
    let mut attendees = vec![(a.patient.name.clone(), a.patient.email.clone())];
    attendees.push((a.host.name.clone(), a.host.email.clone()));
    attendees.extend(a.invitees.iter().map(|p| (p.name.clone(), p.email.clone())));
    let event = ics::Event {
        tz: c.tz,
        uid,
        sequence: seq,
        start: ts(a.starts_at),
        end: ts(a.ends_at),
        summary: format!("{}: {} with {}", c.name, a.service, a.host.name),
        description,
        location: a.location.clone(),
        url: a.video_url.clone(),
        status,
        rrule,
        occurrence,
        organizer: (c.name.clone(), change.mail_from().to_string()),
        attendees,
    };
    let now = ts(change.now);
    let earlier = match n.previous_series {
        Some(old) => Some(earlier_series(change, c, &event, old).await?),
        None => None,
    };
    Ok((
        Some(ics::calendar(Some(method), now, &[event])),
        earlier,
        key,
    ))
}

/// The earlier part of a split series, sent again with its shortened rule
/// (same UID, next SEQUENCE), so calendars end it where the moved part
/// begins. Its first meeting's time comes from the series itself.
async fn earlier_series(
    change: &mut Change,
    c: &Clinic,
    moved: &ics::Event,
    series: i64,
) -> AppResult<String> {
    let r = sqlx::query("SELECT rrule, dtstart_local FROM series WHERE id = $1")
        .bind(series)
        .fetch_one(change.conn())
        .await?;
    let (rule, first): (String, String) = (r.get("rrule"), r.get("dtstart_local"));
    let start = chrono::NaiveDateTime::parse_from_str(&first, "%Y%m%dT%H%M%S")
        .ok()
        .and_then(|l| crate::domain::recurrence::resolve_local(&c.tz, l))
        .unwrap_or(moved.start);
    let uid = format!("series-{series}@{}.slotwise", c.slug);
    let seq = next_sequence(change, &uid).await?;
    let event = ics::Event {
        uid,
        sequence: seq,
        start,
        end: start + (moved.end - moved.start),
        rrule: Some(rule),
        occurrence: None,
        status: ics::Status::Confirmed,
        ..moved.clone()
    };
    Ok(ics::calendar(
        Some(ics::Method::Request),
        ts(change.now),
        &[event],
    ))
}

/// Writes the outbox messages for `n` inside `change`'s transaction.
pub async fn queue(change: &mut Change, n: Notice) -> AppResult<()> {
    let base = change.base_url().to_string();
    let mut facts = Facts {
        message: n.message.clone(),
        outcome: n.outcome.clone(),
        ..Default::default()
    };
    let mut parties = Parties {
        actor: n.actor_id,
        ..Default::default()
    };
    let clinic_id;
    let patient;
    let mut attachment_ics = None;
    let mut attachment_extra = None;
    let key;
    let mut appointment_id = None;
    // People already read, so a staff recipient is not read again.
    let mut known: Vec<Person> = Vec::new();
    match n.about {
        About::Appointment { id, span } => {
            let a = appointment(change, id).await?;
            let c = clinic(change, a.clinic_id).await?;
            let (ics_text, extra, k) = attachment(change, &n, &a, &c, span).await?;
            attachment_ics = ics_text;
            attachment_extra = extra;
            key = k;
            clinic_id = c.id;
            appointment_id = Some(a.id);
            parties.host = Some(a.host.id);
            parties.invitees = a.invitees.iter().map(|p| p.id).collect();
            known.push(a.host.clone());
            known.extend(a.invitees.iter().cloned());
            let count = match span {
                Span::One => 1,
                Span::Series { count } | Span::FromHere { count } => count,
            };
            facts.meeting = Some(a.meeting(n.previous_start, count));
            // An expired proposal may have been cancelled too.
            let cancelled = n.event == NotifyEvent::ProposalExpired && a.status == "cancelled";
            if n.event == NotifyEvent::AppointmentCancelled || cancelled {
                facts.cancel_reason = a.cancel_reason;
                facts.cancel_note = a.cancel_note.clone();
                if facts.message.is_empty() {
                    facts.message = a.cancel_message.clone();
                }
            }
            c.describe(&mut facts, &base, "/bookings");
            // Rebooking goes to the host's personal booking link.
            facts.links.rebook = format!(
                "{base}{}",
                crate::model::personal_booking_path(&c.slug, a.host.id)
            );
            patient = a.patient;
        }
        About::Request { id } => {
            let r = request(change, id).await?;
            let c = clinic(change, r.clinic_id).await?;
            clinic_id = c.id;
            parties.addressed = match r.target {
                Some(p) => vec![p],
                None => clinic_staff(change, c.id).await?,
            };
            if let Some(aid) = r.appointment_id {
                let a = appointment(change, aid).await?;
                parties.host = Some(a.host.id);
                known.push(a.host.clone());
                appointment_id = Some(aid);
                facts.meeting = Some(a.meeting(None, 1));
            } else {
                parties.host = r.target;
                facts.requested = r.requested.clone();
                facts.request = Some(render::Asked {
                    service: r.service.clone(),
                    note: r.note.clone(),
                    now_made_at: r.now_made_at,
                });
            }
            facts.request_kind = match r.kind.as_str() {
                "reschedule" => "reschedule request",
                "cancel" => "cancellation request",
                // "video session request", "appointment request", ...
                _ => r.modality.request_kind(),
            }
            .into();
            let staff_page = match r.kind.as_str() {
                "new_session" => "/dispatch",
                _ => "/requests",
            };
            c.describe(&mut facts, &base, staff_page);
            // Request answers are keyed by the request's state, which
            // changes with every answer.
            key = format!("request-{id}#{}", r.version);
            patient = r.patient;
        }
    }
    facts.patient = patient.name.clone();
    facts.patient_tz = Some(zones::parse(
        &sqlx::query_scalar::<_, String>("SELECT time_zone FROM app_user WHERE id = $1")
            .bind(patient.id)
            .fetch_one(change.conn())
            .await?,
    ));
    if let Some(by) = n.by {
        facts.by = person(change, by).await?.name;
    }

    let event = n.event;
    let mut out: Vec<OutboxMessage> = Vec::new();
    let mut add = |to: &Person, channel: Channel, reader: Reader, facts: &Facts| {
        let address = match channel {
            Channel::Email => to.email.clone(),
            Channel::Sms => to.mobile.clone(),
        };
        if address.trim().is_empty() {
            return;
        }
        let m = render::message(event, reader, facts);
        let (body_text, body_html, attachment, extra) = match channel {
            Channel::Email => (
                m.text,
                m.html,
                attachment_ics.clone(),
                attachment_extra.clone(),
            ),
            Channel::Sms => (m.sms, String::new(), None, None),
        };
        out.push(OutboxMessage {
            recipient_user_id: Some(to.id),
            recipient: address,
            channel: channel.as_str(),
            event: event.as_str().to_string(),
            subject: m.subject,
            body_text,
            body_html,
            attachment,
            attachment_extra: extra,
            idempotency_key: format!("{}/{key}/{}/{}", event.as_str(), to.id, channel.as_str()),
            clinic_id: Some(clinic_id),
            appointment_id,
        });
    };
    if event.patient_emailed() {
        add(&patient, Channel::Email, Reader::Patient, &facts);
    }
    // Whoever proposed an expired time hears of it whatever their settings
    // say: their proposal was undone without them. (Chosen channels below
    // may add the same email again: the outbox keeps one per key.)
    if let Some(by) = n.by.filter(|_| event == NotifyEvent::ProposalExpired) {
        let proposer = person(change, by).await?;
        add(&proposer, Channel::Email, Reader::Staff, &facts);
    }
    (parties.admins, parties.schedulers) = overseers(change, clinic_id).await?;
    let staff = staff_audience(event, &parties);
    for (user, channel) in chosen(change, event, &staff).await? {
        // Most staff told are the host or an invitee, already read.
        let p = match known.iter().find(|p| p.id == user) {
            Some(p) => p.clone(),
            None => person(change, user).await?,
        };
        add(&p, channel, Reader::Staff, &facts);
    }
    for m in out {
        change.outbox(m).await?;
    }
    Ok(())
}

/// Queues the notice for a change to one appointment (not a series span).
pub async fn appointment_changed(
    change: &mut Change,
    event: NotifyEvent,
    appointment_id: i64,
    actor_id: i64,
    previous_start: Option<i64>,
    message: &str,
) -> AppResult<()> {
    let mut n = Notice::new(
        event,
        About::Appointment {
            id: appointment_id,
            span: Span::One,
        },
        actor_id,
    );
    n.previous_start = previous_start;
    n.message = message.to_string();
    queue(change, n).await
}

/// Queues the notice for something that happened to a request.
pub async fn request_event(
    change: &mut Change,
    event: NotifyEvent,
    request_id: i64,
    actor_id: i64,
    outcome: &str,
    message: &str,
) -> AppResult<()> {
    let mut n = Notice::new(event, About::Request { id: request_id }, actor_id);
    n.outcome = outcome.to_string();
    n.message = message.to_string();
    queue(change, n).await
}
