//! Appointment modality and the clinic's own words (issue 12, parts 1 and
//! 2), on both databases: an in-person appointment carries the clinic's
//! address (never a join link or meeting credentials) into its emails,
//! calendar file and the patient's portal, a phone one the number to call,
//! a video one keeps its link; a clinic that does not require a
//! cancellation reason cancels without one, one that does refuses; an
//! unknown modality or an overlong address is refused with a 4xx and
//! changes nothing.

mod common;

use app::domain::booking::validate_cancel;
use app::domain::modality::Modality;
use app::error::AppError;
use app::server::config::Config;
use app::server::outbox::{deliver_due, Transports};
use app::server::service::appointments::{cancel, create, CancelScope, NewAppointment};
use app::server::service::clinic_settings::{save_service, save_venue, ServiceForm, VenueForm};
use app::server::service::portal::my_appointments;
use axum::http::StatusCode;
use chrono::{NaiveDate, NaiveDateTime};
use common::smtp::SmtpServer;
use common::web::{self, form, post, send};
use common::{Backend, TestApp};
use icalendar::{Component, EventLike};
use mail_parser::MimeHeaders;

const HARBOUR_ADDRESS: &str = "Level 2, 18 Harbour Street, Sydney NSW 2000";

struct Ctx {
    t: TestApp,
    smtp: SmtpServer,
    transports: Transports,
    harbour: i64,
    north: i64,
    nguyen: i64,
    patel: i64,
    ann: i64,
    checkup: i64,
    video: i64,
}

async fn ctx(b: Backend) -> Ctx {
    let smtp = SmtpServer::start().await;
    let config = Config {
        mail_from: "Slotwise <no-reply@slotwise.test>".into(),
        ..smtp.demo_config()
    };
    let t = common::seeded_app(b, config).await;
    let transports = Transports::new(&t.state.config).unwrap();
    let user = |email: &str| format!("SELECT id FROM app_user WHERE email = '{email}'");
    Ctx {
        harbour: t.id("SELECT id FROM clinic WHERE slug = 'harbour'").await,
        north: t.id("SELECT id FROM clinic WHERE slug = 'northside'").await,
        nguyen: t.id(&user("dr.nguyen@harbour.test")).await,
        patel: t.id(&user("dr.patel@northside.test")).await,
        ann: t.id(&user("ann@patients.test")).await,
        checkup: t.id("SELECT id FROM service WHERE name = 'Check-up'").await,
        video: t
            .id("SELECT id FROM service WHERE name = 'Video consultation'")
            .await,
        t,
        smtp,
        transports,
    }
}

impl Ctx {
    async fn deliver(&self) {
        while deliver_due(&self.t.state, &self.transports).await.unwrap() > 0 {}
    }

    /// A Harbour check-up (in person) for Ann with Dr Nguyen.
    fn dental(&self, start: NaiveDateTime, room: &str) -> NewAppointment {
        NewAppointment {
            clinic_id: self.harbour,
            provider_id: self.nguyen,
            patient_id: self.ann,
            service_id: self.checkup,
            start_local: start,
            end_local: None,
            location: room.into(),
            invited: vec![],
            recurrence: None,
        }
    }

    /// A Northside video consultation for Ann with Dr Patel.
    fn video_call(&self, start: NaiveDateTime) -> NewAppointment {
        NewAppointment {
            clinic_id: self.north,
            provider_id: self.patel,
            patient_id: self.ann,
            service_id: self.video,
            start_local: start,
            end_local: None,
            location: String::new(),
            invited: vec![],
            recurrence: None,
        }
    }

    /// The emails to Ann since `from`: (plain text, calendar attachment).
    fn mails_to_ann(&self, from: usize) -> Vec<(String, String)> {
        self.smtp.messages()[from..]
            .iter()
            .filter(|r| r.to.iter().any(|t| t.contains("ann@")))
            .map(|r| {
                let m = mail_parser::MessageParser::default()
                    .parse(r.data.as_bytes())
                    .expect("a parsable email");
                let ics = m
                    .attachments()
                    .find(|a| {
                        a.content_type()
                            .is_some_and(|c| c.subtype() == Some("calendar"))
                    })
                    .map(|a| String::from_utf8(a.contents().to_vec()).unwrap())
                    .unwrap_or_default();
                (m.body_text(0).unwrap_or_default().to_string(), ics)
            })
            .collect()
    }

    async fn text(&self, sql: &str, id: i64) -> String {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&self.t.state.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

fn local(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

/// The LOCATION and URL of a calendar attachment, read back with an
/// independent parser (which undoes the escaping of commas).
fn where_in_calendar(ics: &str) -> (String, Option<String>) {
    let cal: icalendar::Calendar = ics.parse().expect("a parsable calendar");
    let event = cal.events().next().expect("one event");
    (
        event.get_location().unwrap_or_default().to_string(),
        event.get_url().map(str::to_string),
    )
}

async fn in_person_carries_the_address_video_the_link(b: Backend) {
    let c = ctx(b).await;
    let admin = c.t.me("admin@harbour.test").await;
    let made = create(
        &c.t.state,
        &admin,
        c.dental(local(2026, 3, 21, 7), "Surgery 2"),
    )
    .await
    .unwrap();
    let id = made.ids[0];
    for column in ["video_url", "meeting_id", "passcode"] {
        let v = c
            .text(
                &format!("SELECT {column} FROM appointment WHERE id = $1"),
                id,
            )
            .await;
        assert_eq!(v, "", "an in-person appointment has no {column}");
    }
    c.deliver().await;
    let mails = c.mails_to_ann(0);
    assert_eq!(mails.len(), 1, "Ann is told once");
    let (text, ics) = &mails[0];
    assert!(
        text.contains(&format!("Location: {HARBOUR_ADDRESS} (Surgery 2)")),
        "{text}"
    );
    for video in ["Join", "Meeting ID", "Passcode", "meet.slotwise.test"] {
        assert!(!text.contains(video), "no {video} in: {text}");
        assert!(!ics.contains(video), "no {video} in: {ics}");
    }
    let (location, url) = where_in_calendar(ics);
    assert_eq!(location, format!("{HARBOUR_ADDRESS} (Surgery 2)"));
    assert_eq!(url, None);

    // The portal card: the address, no link or credentials.
    let ann = c.t.me("ann@patients.test").await;
    let card = my_appointments(&c.t.state, &ann)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == id)
        .expect("Ann sees her check-up");
    assert_eq!(card.modality, Modality::InPerson);
    assert_eq!(card.location, format!("{HARBOUR_ADDRESS} (Surgery 2)"));
    assert_eq!(
        (
            card.video_url.as_str(),
            card.meeting_id.as_str(),
            card.passcode.as_str()
        ),
        ("", "", "")
    );

    // A Northside video consultation keeps its link and credentials.
    let before = c.smtp.messages().len();
    let sched = c.t.me("scheduler@northside.test").await;
    let made = create(&c.t.state, &sched, c.video_call(local(2026, 3, 21, 7)))
        .await
        .unwrap();
    let url = c
        .text(
            "SELECT video_url FROM appointment WHERE id = $1",
            made.ids[0],
        )
        .await;
    assert!(url.starts_with("https://meet.slotwise.test/j/"), "{url}");
    c.deliver().await;
    let (text, ics) = &c.mails_to_ann(before)[0];
    assert!(text.contains(&format!("Join: {url}")), "{text}");
    assert!(text.contains("Meeting ID: "), "{text}");
    assert!(text.contains("Location: Video (online)"), "{text}");
    assert_eq!(where_in_calendar(ics).1.as_deref(), Some(url.as_str()));
}
both_dbs!(
    in_person_and_video,
    in_person_carries_the_address_video_the_link
);

async fn a_phone_service_gives_the_number_and_loses_its_links(b: Backend) {
    let c = ctx(b).await;
    let admin = c.t.me("admin@harbour.test").await;
    // An existing check-up before the change: its details follow the service.
    let earlier = create(&c.t.state, &admin, c.dental(local(2026, 3, 21, 7), ""))
        .await
        .unwrap()
        .ids[0];
    c.deliver().await;
    let before = c.smtp.messages().len();
    let f = ServiceForm {
        name: "Check-up".into(),
        description: "Routine dental check-up.".into(),
        duration_minutes: 30,
        payment_required: true,
        price: "80".into(),
        modality: Modality::Phone,
    };
    save_service(&c.t.state, &admin, c.harbour, c.checkup, f)
        .await
        .unwrap();
    let venue = |call_phone: &str| VenueForm {
        address: HARBOUR_ADDRESS.into(),
        call_phone: call_phone.into(),
        cancel_reason_required: false,
    };
    save_venue(&c.t.state, &admin, c.harbour, venue("+61 2 5550 0199"))
        .await
        .unwrap();
    let made = create(&c.t.state, &admin, c.dental(local(2026, 3, 22, 7), ""))
        .await
        .unwrap();
    c.deliver().await;
    let mails = c.mails_to_ann(before);
    assert_eq!(mails.len(), 1, "Ann is told once");
    let (text, ics) = &mails[0];
    assert!(
        text.contains("Location: By phone: call +61 2 5550 0199"),
        "{text}"
    );
    assert!(!text.contains("Join"), "{text}");
    assert_eq!(where_in_calendar(ics).0, "By phone: call +61 2 5550 0199");
    let ann = c.t.me("ann@patients.test").await;
    let cards = my_appointments(&c.t.state, &ann).await.unwrap();
    let card = cards.iter().find(|a| a.id == made.ids[0]).unwrap();
    assert_eq!(card.location, "By phone: call +61 2 5550 0199");
    // A blank number: the clinic calls the patient.
    save_venue(&c.t.state, &admin, c.harbour, venue(""))
        .await
        .unwrap();
    let cards = my_appointments(&c.t.state, &ann).await.unwrap();
    let card = cards.iter().find(|a| a.id == earlier).unwrap();
    assert_eq!(card.location, "By phone: the clinic will call you");

    // Back to video: the coming appointments get a link of their own.
    let f = ServiceForm {
        name: "Check-up".into(),
        description: String::new(),
        duration_minutes: 30,
        payment_required: false,
        price: String::new(),
        modality: Modality::Video,
    };
    save_service(&c.t.state, &admin, c.harbour, c.checkup, f)
        .await
        .unwrap();
    let links = c
        .t
        .count(&format!(
            "SELECT COUNT(DISTINCT video_url) FROM appointment WHERE id IN ({earlier}, {}) \
             AND video_url LIKE 'https://meet.slotwise.test/j/%' AND meeting_id <> '' AND passcode <> ''",
            made.ids[0]
        ))
        .await;
    assert_eq!(links, 2);
}
both_dbs!(phone, a_phone_service_gives_the_number_and_loses_its_links);

async fn the_reason_follows_the_clinics_policy(b: Backend) {
    let c = ctx(b).await;
    // Harbour does not require a reason: cancelled without one.
    let admin = c.t.me("admin@harbour.test").await;
    let dental = create(&c.t.state, &admin, c.dental(local(2026, 3, 21, 7), ""))
        .await
        .unwrap()
        .ids[0];
    let no_reason = validate_cancel("", "", "").unwrap();
    cancel(
        &c.t.state,
        &admin,
        dental,
        CancelScope::ThisOnly,
        no_reason.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {dental} AND status = 'cancelled' \
             AND cancel_reason_code IS NULL"
        ))
        .await,
        1
    );
    // An optional reason in words is kept.
    let second = create(&c.t.state, &admin, c.dental(local(2026, 3, 22, 7), ""))
        .await
        .unwrap()
        .ids[0];
    let in_words = validate_cancel("", "Moving interstate", "").unwrap();
    cancel(&c.t.state, &admin, second, CancelScope::ThisOnly, in_words)
        .await
        .unwrap();
    assert_eq!(
        c.text("SELECT cancel_text FROM appointment WHERE id = $1", second)
            .await,
        "Moving interstate"
    );

    // Northside requires one: refused without, nothing changed.
    let sched = c.t.me("scheduler@northside.test").await;
    let call = create(&c.t.state, &sched, c.video_call(local(2026, 3, 21, 7)))
        .await
        .unwrap()
        .ids[0];
    let refused = cancel(&c.t.state, &sched, call, CancelScope::ThisOnly, no_reason)
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        AppError::Validation("Choose a reason for the cancellation.".into())
    );
    assert_eq!(
        c.text("SELECT status FROM appointment WHERE id = $1", call)
            .await,
        "booked"
    );
    // Through the server function too (as the dialog sends it): a 400.
    let router = server::router(c.t.state.clone());
    let (token, _) = c.t.session("scheduler@northside.test").await;
    let body = form(&[
        ("id", &call.to_string()),
        ("scope", "this"),
        ("note", ""),
        ("message", ""),
    ]);
    let resp = send(
        &router,
        post("/api/cancel_appointment", &body, Some(&token)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(web::text(resp).await.contains("Choose a reason"));
    assert_eq!(
        c.text("SELECT status FROM appointment WHERE id = $1", call)
            .await,
        "booked"
    );
    let with_reason = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &sched, call, CancelScope::ThisOnly, with_reason)
        .await
        .unwrap();
    assert_eq!(
        c.text(
            "SELECT cancel_reason_code FROM appointment WHERE id = $1",
            call
        )
        .await,
        "prov"
    );
}
both_dbs!(cancel_reason_policy, the_reason_follows_the_clinics_policy);

async fn bad_settings_are_refused_and_change_nothing(b: Backend) {
    let c = ctx(b).await;
    let router = server::router(c.t.state.clone());
    let (token, _) = c.t.session("admin@harbour.test").await;
    let harbour = c.harbour.to_string();
    let snapshot = || async {
        c.t.count(&format!(
            "SELECT COUNT(*) FROM service WHERE clinic_id = {} AND modality = 'in_person'",
            c.harbour
        ))
        .await
    };
    let before = snapshot().await;
    // An unknown modality, on a new service and on an edit.
    for service_id in ["0".to_string(), c.checkup.to_string()] {
        let body = form(&[
            ("clinic_id", &harbour),
            ("service_id", &service_id),
            ("name", "Whitening"),
            ("description", ""),
            ("duration_minutes", "30"),
            ("price", ""),
            ("modality", "hologram"),
        ]);
        let resp = send(&router, post("/api/save_service", &body, Some(&token))).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(web::text(resp)
            .await
            .contains("Choose Video, In person or Phone."));
    }
    assert_eq!(snapshot().await, before);
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM service WHERE name = 'Whitening'")
            .await,
        0
    );

    // An address over 300 characters, or a number that is not one.
    let long = "1 Long Street, ".repeat(21);
    for (address, phone, says) in [
        (
            long.as_str(),
            "",
            "The address can be at most 300 characters.",
        ),
        ("1 Short St", "call us", "Enter the number to call"),
    ] {
        let body = form(&[
            ("clinic_id", &harbour),
            ("address", address),
            ("call_phone", phone),
        ]);
        let resp = send(&router, post("/api/save_venue", &body, Some(&token))).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(web::text(resp).await.contains(says));
    }
    assert_eq!(
        c.text("SELECT address FROM clinic WHERE id = $1", c.harbour)
            .await,
        HARBOUR_ADDRESS
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT cancel_reason_required FROM clinic WHERE id = {}",
            c.harbour
        ))
        .await,
        0,
        "the policy is unchanged too"
    );
    // Only an admin of the clinic may change it.
    let (provider, _) = c.t.session("dr.nguyen@harbour.test").await;
    let body = form(&[
        ("clinic_id", &harbour),
        ("address", "Elsewhere"),
        ("call_phone", ""),
    ]);
    let resp = send(&router, post("/api/save_venue", &body, Some(&provider))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // A valid save goes through, and the settings page reads it back.
    let body = form(&[
        ("clinic_id", &harbour),
        ("address", "18 Harbour Street\nSydney NSW 2000"),
        ("call_phone", "+61 2 5550 0199"),
        ("reason_required", "on"),
    ]);
    let resp = send(&router, post("/api/save_venue", &body, Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let admin = c.t.me("admin@harbour.test").await;
    let s = app::server::service::clinic_settings::view(&c.t.state, &admin, c.harbour)
        .await
        .unwrap();
    assert_eq!(s.address, "18 Harbour Street, Sydney NSW 2000");
    assert_eq!(s.call_phone, "+61 2 5550 0199");
    assert!(s.cancel_reason_required);
    assert!(s.services.iter().all(|x| x.modality == Modality::InPerson));
}
both_dbs!(bad_settings, bad_settings_are_refused_and_change_nothing);
