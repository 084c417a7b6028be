//! Notifications on both databases, delivered for real: email over SMTP to
//! a server the test starts, SMS to a local HTTP server standing in for the
//! provider. Recipients follow their settings exactly; the calendar
//! attachments parse back with the right METHOD, UID and SEQUENCE; an SMTP
//! outage delays a message but never loses or repeats it.

mod common;

use app::domain::booking::validate_cancel;
use app::domain::recurrence::{End, Weekly};
use app::server::config::{Config, Sms};
use app::server::outbox::{deliver_due, Transports};
use app::server::service::appointments::{cancel, create, CancelScope, NewAppointment};
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use common::smtp::{Received, SmtpServer};
use common::{Backend, TestApp};
use icalendar::Component;
use mail_parser::MimeHeaders;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the fake SMS provider received: (account, To, Body, Idempotency-Key).
type Texts = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A Twilio-style SMS API on a local port.
async fn sms_provider() -> (String, Texts) {
    let texts: Texts = Arc::default();
    async fn send(
        State(texts): State<Texts>,
        Path(account): Path<String>,
        headers: HeaderMap,
        Form(f): Form<HashMap<String, String>>,
    ) -> (axum::http::StatusCode, &'static str) {
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        texts.lock().unwrap().push((
            account,
            f.get("To").cloned().unwrap_or_default(),
            f.get("Body").cloned().unwrap_or_default(),
            key,
        ));
        (axum::http::StatusCode::CREATED, "{\"status\":\"queued\"}")
    }
    let router = axum::Router::new()
        .route(
            "/Accounts/{account}/Messages.json",
            axum::routing::post(send),
        )
        .with_state(texts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, texts)
}

struct Ctx {
    t: TestApp,
    transports: Transports,
    smtp: SmtpServer,
    texts: Texts,
    north: i64,
    patel: i64,
    lee: i64,
    kim: i64,
    ann: i64,
    video: i64,
}

async fn ctx(b: Backend) -> Ctx {
    let smtp = SmtpServer::start().await;
    let (sms_url, texts) = sms_provider().await;
    let config = Config {
        sms: Some(Sms {
            base_url: sms_url,
            account: "AC123".into(),
            token: "secret".into(),
            from: "+15550000000".into(),
        }),
        mail_from: "Northside via Slotwise <no-reply@slotwise.test>".into(),
        ..smtp.demo_config()
    };
    let t = common::seeded_app(b, config).await;
    let transports = Transports::new(&t.state.config).unwrap();
    let user = |email: &str| format!("SELECT id FROM app_user WHERE email = '{email}'");
    Ctx {
        north: t.id("SELECT id FROM clinic WHERE slug = 'northside'").await,
        patel: t.id(&user("dr.patel@northside.test")).await,
        lee: t.id(&user("dr.lee@northside.test")).await,
        kim: t.id(&user("dr.kim@northside.test")).await,
        ann: t.id(&user("ann@patients.test")).await,
        video: t
            .id("SELECT id FROM service WHERE name = 'Video consultation'")
            .await,
        t,
        transports,
        smtp,
        texts,
    }
}

impl Ctx {
    /// Sets each user's channels for one event, replacing what they had.
    async fn prefer(&self, user: i64, event: &str, channels: &[&str]) {
        sqlx::query("DELETE FROM notification_preference WHERE user_id = $1 AND event = $2")
            .bind(user)
            .bind(event)
            .execute(&self.t.state.db.pool)
            .await
            .unwrap();
        for c in channels {
            sqlx::query(
                "INSERT INTO notification_preference (user_id, event, channel) VALUES ($1, $2, $3)",
            )
            .bind(user)
            .bind(event)
            .bind(*c)
            .execute(&self.t.state.db.pool)
            .await
            .unwrap();
        }
    }

    /// Runs the worker until nothing is due; returns the attempts made.
    async fn deliver(&self) -> usize {
        let mut total = 0;
        loop {
            let n = deliver_due(&self.t.state, &self.transports).await.unwrap();
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    fn booking(&self, start: NaiveDateTime, invited: Vec<i64>) -> NewAppointment {
        NewAppointment {
            clinic_id: self.north,
            provider_id: self.patel,
            patient_id: self.ann,
            service_id: self.video,
            start_local: start,
            end_local: None,
            location: "Video".into(),
            invited,
            recurrence: None,
        }
    }
}

fn local(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

/// One received email, parsed.
struct Mail {
    to: String,
    subject: String,
    text: String,
    html: String,
    message_id: String,
    ics: Option<String>,
    /// Every calendar attached, in order.
    calendars: Vec<String>,
}

fn parse(r: &Received) -> Mail {
    let m = mail_parser::MessageParser::default()
        .parse(r.data.as_bytes())
        .expect("a parsable email");
    let calendars: Vec<String> = m
        .attachments()
        .filter(|a| {
            a.content_type()
                .is_some_and(|c| c.ctype() == "text" && c.subtype() == Some("calendar"))
        })
        .map(|a| String::from_utf8(a.contents().to_vec()).unwrap())
        .collect();
    let ics = calendars.first().cloned();
    Mail {
        to: r.to.join(","),
        subject: m.subject().unwrap_or_default().to_string(),
        text: m.body_text(0).unwrap_or_default().to_string(),
        html: m.body_html(0).unwrap_or_default().to_string(),
        message_id: m.message_id().unwrap_or_default().to_string(),
        ics,
        calendars,
    }
}

/// (METHOD, UID, SEQUENCE, RECURRENCE-ID, RRULE) of a calendar attachment,
/// read back with an independent iCalendar parser.
fn calendar(ics: &str) -> (String, String, u32, Option<String>, Option<String>) {
    let cal: icalendar::Calendar = ics.parse().expect("a parsable calendar");
    let method = cal.property_value("METHOD").unwrap_or_default().to_string();
    let event = cal.events().next().expect("one event");
    (
        method,
        event.get_uid().unwrap_or_default().to_string(),
        event.get_sequence().unwrap_or(0),
        event.property_value("RECURRENCE-ID").map(str::to_string),
        event.property_value("RRULE").map(str::to_string),
    )
}

fn recipients(mails: &[Mail]) -> Vec<String> {
    let mut to: Vec<String> = mails.iter().map(|m| m.to.clone()).collect();
    to.sort();
    to
}

async fn recipients_follow_settings_and_calendars_stay_in_step(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    // Patel (host) wants email about cancellations; Kim (invited) wants a
    // text; Lee (invited) wants nothing about cancellations.
    c.prefer(c.patel, "appointment_cancelled", &["email"]).await;
    c.prefer(c.kim, "appointment_cancelled", &["sms"]).await;
    c.prefer(c.lee, "appointment_cancelled", &[]).await;
    c.prefer(c.kim, "invited", &["email"]).await;
    c.prefer(c.lee, "invited", &[]).await;
    c.prefer(c.patel, "appointment_created", &["email", "sms"])
        .await;

    let made = create(
        &c.t.state,
        &sched,
        c.booking(local(2026, 3, 10, 11), vec![c.kim, c.lee]),
    )
    .await
    .unwrap();
    let id = made.ids[0];
    assert!(c.deliver().await >= 3);
    let created: Vec<Mail> = c.smtp.messages().iter().map(parse).collect();
    // Ann (always), Patel (created, email) and Kim (invited, email).
    assert_eq!(
        recipients(&created),
        vec![
            "<ann@patients.test>",
            "<dr.kim@northside.test>",
            "<dr.patel@northside.test>"
        ]
    );
    let ann = created.iter().find(|m| m.to.contains("ann@")).unwrap();
    assert_eq!(
        ann.subject,
        "[Northside Telehealth] Your appointment is booked: Tue, Mar 10, 2026, 11:00 AM EDT"
    );
    assert!(ann.text.contains("Practitioner: Dr. Priya Patel"));
    assert!(ann.html.contains("<h2"));
    let (method, uid, seq0, rid, _) = calendar(ann.ics.as_deref().expect("an invitation"));
    assert_eq!(method, "REQUEST");
    assert_eq!(uid, format!("appointment-{id}@northside.slotwise"));
    assert_eq!(rid, None);
    // Patel also chose SMS for new appointments.
    let texts = c.texts.lock().unwrap().clone();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].0, "AC123");
    assert_eq!(texts[0].1, "+12125550104");
    assert!(
        texts[0].2.contains("New appointment with Ann Archer"),
        "{}",
        texts[0].2
    );

    let before = c.smtp.messages().len();
    let form = validate_cancel("prov", "At a conference", "Sorry, please book again.").unwrap();
    cancel(&c.t.state, &sched, id, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    c.deliver().await;
    let cancelled: Vec<Mail> = c.smtp.messages()[before..].iter().map(parse).collect();
    assert_eq!(
        recipients(&cancelled),
        vec!["<ann@patients.test>", "<dr.patel@northside.test>"],
        "exactly the patient and the opted-in host; Lee opted out, Kim chose SMS"
    );
    let ann = cancelled.iter().find(|m| m.to.contains("ann@")).unwrap();
    assert!(ann.text.contains("Reason: Provider unavailable"));
    assert!(ann
        .text
        .contains("Message from the clinic: Sorry, please book again."));
    assert!(ann
        .text
        .contains("Book a new time: http://127.0.0.1:3000/book/northside"));
    let (method, uid2, seq1, _, _) = calendar(ann.ics.as_deref().unwrap());
    assert_eq!(method, "CANCEL");
    assert_eq!(uid2, uid, "the same calendar entry");
    assert!(seq1 > seq0, "SEQUENCE increases: {seq0} then {seq1}");
    let texts = c.texts.lock().unwrap().clone();
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[1].1, "+12125550105", "Kim's mobile");
    assert!(texts[1].2.contains("Cancelled"));
    assert_ne!(
        texts[0].3, texts[1].3,
        "each text has its own idempotency key"
    );

    // Every message was sent once, and the outbox says so.
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'")
            .await,
        0
    );
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM outbox WHERE transport = 'smtp'")
            .await as usize,
        c.smtp.messages().len()
    );
    assert_eq!(c.deliver().await, 0, "nothing is sent twice");
}
both_dbs!(
    recipients_and_calendars,
    recipients_follow_settings_and_calendars_stay_in_step
);

async fn a_series_is_one_invitation_and_one_occurrence_cancels_alone(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let mut new = c.booking(local(2026, 3, 5, 10), vec![]);
    new.recurrence = Some(Weekly {
        interval_weeks: 1,
        end: End::Count(4),
    });
    let made = create(&c.t.state, &sched, new).await.unwrap();
    c.deliver().await;
    let to_ann: Vec<Mail> = c
        .smtp
        .messages()
        .iter()
        .map(parse)
        .filter(|m| m.to.contains("ann@"))
        .collect();
    assert_eq!(to_ann.len(), 1, "one invitation for the whole series");
    assert!(to_ann[0]
        .subject
        .contains("Your appointment series is booked"));
    let (method, uid, _, rid, rrule) = calendar(to_ann[0].ics.as_deref().unwrap());
    assert_eq!(method, "REQUEST");
    let series = made.series_id.unwrap();
    assert_eq!(uid, format!("series-{series}@northside.slotwise"));
    assert_eq!(rid, None);
    assert_eq!(rrule.as_deref(), Some("FREQ=WEEKLY;COUNT=4"));
    // The series crosses the start of DST (8 March): the invitation keeps
    // 10:00 local through a VTIMEZONE.
    let ics = to_ann[0].ics.clone().unwrap();
    assert!(ics.contains("DTSTART;TZID=America/New_York:20260305T100000"));
    assert!(ics.contains("BEGIN:VTIMEZONE"));

    let before = c.smtp.messages().len();
    let form = validate_cancel("pat", "", "").unwrap();
    cancel(&c.t.state, &sched, made.ids[2], CancelScope::ThisOnly, form)
        .await
        .unwrap();
    c.deliver().await;
    let ann: Vec<Mail> = c.smtp.messages()[before..]
        .iter()
        .map(parse)
        .filter(|m| m.to.contains("ann@"))
        .collect();
    assert_eq!(ann.len(), 1);
    let (method, uid2, _, rid, _) = calendar(ann[0].ics.as_deref().unwrap());
    assert_eq!(method, "CANCEL");
    assert_eq!(uid2, uid);
    // The third meeting: 19 March, 10:00 New York time.
    assert_eq!(rid.as_deref(), Some("20260319T100000"));
    assert!(ann[0]
        .ics
        .as_deref()
        .unwrap()
        .contains("RECURRENCE-ID;TZID=America/New_York:20260319T100000"));
    // "Patient requested": no invitation to book again.
    assert!(!ann[0].text.contains("Book a new time"));

    // "This and all future" from the fourth meeting (26 March) to 11:00:
    // the moved meetings become a series of their own, and the earlier
    // series goes out again with its shortened rule, so calendars do not
    // keep both.
    use app::server::service::appointments::{reschedule, Move, RescheduleScope};
    let before = c.smtp.messages().len();
    reschedule(
        &c.t.state,
        &sched,
        Move {
            appointment_id: made.ids[3],
            start_local: local(2026, 3, 26, 11),
            location: "Video".into(),
            scope: RescheduleScope::ThisAndFuture,
        },
    )
    .await
    .unwrap();
    c.deliver().await;
    let ann: Vec<Mail> = c.smtp.messages()[before..]
        .iter()
        .map(parse)
        .filter(|m| m.to.contains("ann@"))
        .collect();
    assert_eq!(ann.len(), 1);
    assert_eq!(
        ann[0].calendars.len(),
        2,
        "the new series and the shortened old one"
    );
    let (method, new_uid, _, _, rrule) = calendar(&ann[0].calendars[0]);
    assert_eq!(method, "REQUEST");
    assert_ne!(new_uid, uid, "the moved meetings are a series of their own");
    assert_eq!(rrule.as_deref(), Some("FREQ=WEEKLY;COUNT=1"));
    assert!(ann[0].calendars[0].contains("DTSTART;TZID=America/New_York:20260326T110000"));
    let (method, old_uid, old_seq, _, old_rule) = calendar(&ann[0].calendars[1]);
    assert_eq!(method, "REQUEST");
    assert_eq!(old_uid, uid);
    assert!(
        old_seq >= 2,
        "after the invitation and the cancel: {old_seq}"
    );
    // It ends the day before the moved meeting (25 March, New York).
    assert_eq!(
        old_rule.as_deref(),
        Some("FREQ=WEEKLY;UNTIL=20260326T035959Z")
    );
    assert!(ann[0].calendars[1].contains("DTSTART;TZID=America/New_York:20260305T100000"));
}
both_dbs!(
    series_invitations,
    a_series_is_one_invitation_and_one_occurrence_cancels_alone
);

async fn an_smtp_outage_delays_but_never_loses_or_repeats(b: Backend) {
    let mut c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let made = create(&c.t.state, &sched, c.booking(local(2026, 3, 12, 9), vec![]))
        .await
        .unwrap();
    c.deliver().await;
    let before = c.smtp.messages().len();

    c.smtp.stop().await;
    let form = validate_cancel("prov", "", "We will call you.").unwrap();
    cancel(&c.t.state, &sched, made.ids[0], CancelScope::ThisOnly, form)
        .await
        .expect("the cancel succeeds while the mail server is down");
    assert!(c.deliver().await >= 1);
    let waiting = c
        .t
        .count("SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND attempts = 1 AND last_error IS NOT NULL")
        .await;
    assert!(
        waiting >= 1,
        "the failed attempt is recorded and will be retried"
    );
    assert_eq!(c.smtp.messages().len(), before);

    c.smtp.restart().await;
    // Not due yet: the retry waits its backoff.
    assert_eq!(c.deliver().await, 0);
    c.t.clock.advance(Duration::seconds(31));
    assert_eq!(c.deliver().await as i64, waiting);
    let after: Vec<Mail> = c.smtp.messages()[before..].iter().map(parse).collect();
    assert_eq!(after.len() as i64, waiting, "each message arrives once");
    let mut ids: Vec<&str> = after.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), after.len());
    assert!(after
        .iter()
        .any(|m| m.to.contains("ann@") && m.subject.contains("cancelled")));
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'")
            .await,
        0
    );
    c.t.clock.advance(Duration::seconds(3600));
    assert_eq!(c.deliver().await, 0, "nothing is sent again");
    assert_eq!(c.smtp.messages().len() - before, after.len());
}
both_dbs!(
    smtp_outage,
    an_smtp_outage_delays_but_never_loses_or_repeats
);

/// What the fake PMS received: (event, signature valid, body).
type PmsLog = Arc<Mutex<Vec<(String, bool, serde_json::Value)>>>;

const PMS_SECRET: &str = "pms-signing-secret-0123";

/// A PMS endpoint on a local port that checks each request's signature
/// and answers 500 while `failing` is set.
async fn pms_endpoint(failing: Arc<std::sync::atomic::AtomicBool>) -> (String, PmsLog) {
    let log: PmsLog = Arc::default();
    let state = (log.clone(), failing);
    async fn receive(
        State((log, failing)): State<(PmsLog, Arc<std::sync::atomic::AtomicBool>)>,
        headers: HeaderMap,
        body: String,
    ) -> axum::http::StatusCode {
        if failing.load(std::sync::atomic::Ordering::SeqCst) {
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
        }
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let timestamp: i64 = h("x-slotwise-timestamp").parse().unwrap_or(0);
        // Recomputed here with the hmac crate directly, not Slotwise's helper.
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(PMS_SECRET.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.{body}").as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let valid = h("x-slotwise-signature") == format!("sha256={expected}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let event = json["event"].as_str().unwrap_or("").to_string();
        log.lock().unwrap().push((event, valid, json));
        axum::http::StatusCode::OK
    }
    let router = axum::Router::new()
        .route("/slotwise", axum::routing::post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slotwise", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, log)
}

async fn the_pms_gets_signed_updates_in_order_and_failures_alert_admins(b: Backend) {
    use app::domain::pms::PmsConnector;
    use app::server::service::appointments::{reschedule, Move, RescheduleScope};
    use app::server::service::clinic_settings::save_pms;
    use std::sync::atomic::{AtomicBool, Ordering};
    let c = ctx(b).await;
    let admin = c.t.me("admin@northside.test").await;
    let sched = c.t.me("scheduler@northside.test").await;
    let failing = Arc::new(AtomicBool::new(false));
    let (url, log) = pms_endpoint(failing.clone()).await;
    // Bad settings are refused and change nothing.
    let bad = save_pms(
        &c.t.state,
        &admin,
        c.north,
        PmsConnector::AutoCancel,
        "pms.local",
        PMS_SECRET,
    )
    .await;
    assert!(matches!(bad, Err(app::error::AppError::Validation(_))));
    let short = save_pms(
        &c.t.state,
        &admin,
        c.north,
        PmsConnector::AutoCancel,
        &url,
        "short",
    )
    .await;
    assert!(matches!(short, Err(app::error::AppError::Validation(_))));
    assert!(matches!(
        save_pms(
            &c.t.state,
            &sched,
            c.north,
            PmsConnector::AutoCancel,
            &url,
            PMS_SECRET
        )
        .await,
        Err(app::error::AppError::Forbidden(_))
    ));
    save_pms(
        &c.t.state,
        &admin,
        c.north,
        PmsConnector::AutoCancel,
        &url,
        PMS_SECRET,
    )
    .await
    .unwrap();

    let sync = |id: i64| {
        let t = &c.t;
        async move {
            sqlx::query_scalar::<_, String>("SELECT pms_sync_state FROM appointment WHERE id = $1")
                .bind(id)
                .fetch_one(&t.state.db.pool)
                .await
                .unwrap()
        }
    };
    // Created and moved before the worker runs: the PMS still hears them in order.
    let id = create(
        &c.t.state,
        &sched,
        c.booking(local(2026, 3, 11, 13), vec![]),
    )
    .await
    .unwrap()
    .ids[0];
    assert_eq!(sync(id).await, "pending");
    reschedule(
        &c.t.state,
        &sched,
        Move {
            appointment_id: id,
            start_local: local(2026, 3, 11, 15),
            location: "Video".into(),
            scope: RescheduleScope::ThisOnly,
        },
    )
    .await
    .unwrap();
    c.deliver().await;
    let got = log.lock().unwrap().clone();
    let events: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(
        events,
        vec!["appointment.created", "appointment.rescheduled"]
    );
    assert!(got.iter().all(|g| g.1), "every request is correctly signed");
    assert_eq!(got[1].2["appointment"]["id"], id.to_string());
    assert_eq!(
        got[1].2["appointment"]["start"],
        "2026-03-11T19:00:00+00:00"
    );
    assert_eq!(sync(id).await, "synced");

    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &sched, id, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    c.deliver().await;
    assert_eq!(
        log.lock().unwrap().last().unwrap().0,
        "appointment.cancelled"
    );
    assert_eq!(sync(id).await, "synced");

    // The PMS fails: retries with backoff, then a visible failure and an
    // email to the clinic's admin. Nothing is lost.
    failing.store(true, Ordering::SeqCst);
    let id2 = create(&c.t.state, &sched, c.booking(local(2026, 3, 13, 9), vec![]))
        .await
        .unwrap()
        .ids[0];
    for _ in 0..12 {
        c.deliver().await;
        c.t.clock.advance(Duration::seconds(3601));
    }
    assert_eq!(sync(id2).await, "failed");
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM outbox WHERE channel = 'pms' AND status = 'failed'")
            .await,
        1
    );
    assert_eq!(
        c.t.count("SELECT attempts FROM outbox WHERE channel = 'pms' AND status = 'failed'")
            .await,
        app::domain::notify::MAX_ATTEMPTS
    );
    c.deliver().await;
    let alert: Vec<Mail> = c
        .smtp
        .messages()
        .iter()
        .map(parse)
        .filter(|m| m.subject.contains("PMS sync failed"))
        .collect();
    assert_eq!(recipients(&alert), vec!["<admin@northside.test>"]);

    // Back up: an admin's retry goes through and the booking is synced.
    failing.store(false, Ordering::SeqCst);
    let failed_id =
        c.t.id("SELECT id FROM outbox WHERE channel = 'pms' AND status = 'failed'")
            .await;
    app::server::service::notifications::retry(&c.t.state, &admin, failed_id)
        .await
        .unwrap();
    c.deliver().await;
    assert_eq!(sync(id2).await, "synced");
    assert_eq!(log.lock().unwrap().last().unwrap().0, "appointment.created");

    // Without automatic cancellation: creates still go, cancels do not, and
    // the cancel dialog is told to ask for a manual update.
    save_pms(
        &c.t.state,
        &admin,
        c.north,
        PmsConnector::ManualCancel,
        &url,
        "",
    )
    .await
    .expect("a blank secret keeps the one set");
    let before = log.lock().unwrap().len();
    let id3 = create(
        &c.t.state,
        &sched,
        c.booking(local(2026, 3, 13, 11), vec![]),
    )
    .await
    .unwrap()
    .ids[0];
    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &sched, id3, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    c.deliver().await;
    let after: Vec<String> = log.lock().unwrap()[before..]
        .iter()
        .map(|g| g.0.clone())
        .collect();
    assert_eq!(after, vec!["appointment.created"]);
    let page = app::server::service::bookings::list(
        &c.t.state,
        &sched,
        app::server::service::bookings::BookingQuery::default(),
    )
    .await
    .unwrap();
    assert!(page.rows.iter().all(|r| r.pms_manual_cancel));
}
both_dbs!(
    pms_propagation,
    the_pms_gets_signed_updates_in_order_and_failures_alert_admins
);

async fn the_running_worker_delivers_what_a_change_queues(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let worker = app::server::outbox::spawn(c.t.state.clone()).unwrap();
    create(
        &c.t.state,
        &sched,
        c.booking(local(2026, 3, 10, 14), vec![]),
    )
    .await
    .unwrap();
    // The commit wakes the worker; no one calls it here.
    let mut waited = 0;
    while c.smtp.messages().len() < 2 && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    worker.abort();
    let to = recipients(&c.smtp.messages().iter().map(parse).collect::<Vec<_>>());
    assert_eq!(to, vec!["<ann@patients.test>", "<dr.patel@northside.test>"]);
}
both_dbs!(
    running_worker,
    the_running_worker_delivers_what_a_change_queues
);

/// Clinic admins hear about the clinic's cancellations when they ask to;
/// the provider who cancels their own appointment gets the confirmation the
/// patient gets; a request for a named provider reaches the schedulers, who
/// book for every provider, and names the service, the type, when a Now
/// request was made and the patient's note.
async fn admins_schedulers_and_the_acting_host_are_told(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let lee = c.t.me("dr.lee@northside.test").await;
    let admin =
        c.t.id("SELECT id FROM app_user WHERE email = 'admin@northside.test'")
            .await;
    c.prefer(admin, "appointment_cancelled", &["email"]).await;
    // Only the cancellation is looked at: Lee hears of it by email alone.
    c.prefer(c.lee, "appointment_cancelled", &["email"]).await;
    let mut booking = c.booking(local(2026, 3, 10, 11), vec![]);
    booking.provider_id = c.lee;
    let id = create(&c.t.state, &sched, booking).await.unwrap().ids[0];
    c.deliver().await;
    let before = c.smtp.messages().len();

    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &lee, id, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    c.deliver().await;
    let cancelled: Vec<Mail> = c.smtp.messages()[before..].iter().map(parse).collect();
    assert_eq!(
        recipients(&cancelled),
        vec![
            "<admin@northside.test>",
            "<ann@patients.test>",
            "<dr.lee@northside.test>"
        ],
        "the patient, the admin who asked, and Lee's own confirmation"
    );
    for m in cancelled.iter().filter(|m| !m.to.contains("ann@")) {
        assert_eq!(
            m.subject,
            "[Northside Telehealth] Cancelled: appointment with Ann Archer: Tue, Mar 10, 2026, 11:00 AM EDT"
        );
    }
    // Without the setting, the admin hears nothing.
    c.prefer(admin, "appointment_cancelled", &[]).await;
    let id = create(
        &c.t.state,
        &sched,
        c.booking(local(2026, 3, 11, 11), vec![]),
    )
    .await
    .unwrap()
    .ids[0];
    c.deliver().await;
    let before = c.smtp.messages().len();
    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &sched, id, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    c.deliver().await;
    let to = recipients(
        &c.smtp.messages()[before..]
            .iter()
            .map(parse)
            .collect::<Vec<_>>(),
    );
    assert!(!to.iter().any(|t| t.contains("admin@")), "{to:?}");

    // Ben asks Dr. Kim (available now) for a session now.
    let ben = c.t.me("ben@patients.test").await;
    let follow =
        c.t.id("SELECT id FROM service WHERE name = 'Follow-up'")
            .await;
    c.prefer(c.kim, "request_received", &["email"]).await;
    let before = c.smtp.messages().len();
    app::server::service::requests::create(
        &c.t.state,
        &ben,
        app::server::service::requests::NewRequest {
            clinic_id: c.north,
            service_id: follow,
            mode: app::domain::request::RequestMode::Now,
            provider_id: Some(c.kim),
            times: vec![],
            answers: vec!["A rash".into()],
            note: "It itches since Monday.".into(),
        },
    )
    .await
    .unwrap();
    c.deliver().await;
    let asked: Vec<Mail> = c.smtp.messages()[before..].iter().map(parse).collect();
    let to = recipients(&asked);
    assert!(
        to.contains(&"<scheduler@northside.test>".to_string()),
        "{to:?}"
    );
    assert!(
        to.contains(&"<dr.kim@northside.test>".to_string()),
        "{to:?}"
    );
    assert!(
        !to.iter().any(|t| t.contains("dr.lee@")),
        "a request for Kim is not Lee's: {to:?}"
    );
    let m = asked.iter().find(|m| m.to.contains("scheduler@")).unwrap();
    assert_eq!(
        m.subject,
        "[Northside Telehealth] New video session request from Ben Brooks: Follow-up"
    );
    for line in [
        "Requested: As soon as possible (asked Wed, Mar 4, 2026, 10:00 AM EST)",
        "Service: Follow-up",
        "Request type: Video session request, now",
        "Note: It itches since Monday.",
    ] {
        assert!(m.text.contains(line), "{line} in:\n{}", m.text);
    }
}
both_dbs!(
    admins_schedulers_and_acting_host,
    admins_schedulers_and_the_acting_host_are_told
);
