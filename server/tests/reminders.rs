//! Reminders (issue 15, point 1) on both databases, with the manual clock
//! and `timers::run_due`: scheduled on booking, re-timed on a move, dropped
//! on cancel, skipped when their moment passed; the emails go to a real
//! SMTP server, and their Confirm and Cancel links are driven through the
//! router as a phone's browser would (open, then press the button).

mod common;

use app::domain::booking::validate_cancel;
use app::domain::reminder::ReminderSettings;
use app::error::AppError;
use app::model::Me;
use app::server::outbox::{deliver_due, Transports};
use app::server::service::appointments::{
    cancel, create, reschedule, CancelScope, Move, NewAppointment, RescheduleScope,
};
use app::server::service::reminders;
use app::server::timers::run_due;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use common::smtp::SmtpServer;
use common::web::{get, send, text, BROWSER_ACCEPT};
use common::{Backend, TestApp};

struct Ctx {
    t: TestApp,
    transports: Transports,
    smtp: SmtpServer,
    router: axum::Router,
    north: i64,
    patel: i64,
    ann: i64,
    video: i64,
    sched: Me,
}

async fn ctx(b: Backend) -> Ctx {
    let smtp = SmtpServer::start().await;
    let t = common::seeded_app(b, smtp.demo_config()).await;
    // The demo's own appointments have reminders too (tested with the demo
    // data in service.rs); these tests count only their own.
    sqlx::query("DELETE FROM reminder")
        .execute(&t.state.db.pool)
        .await
        .unwrap();
    let transports = Transports::new(&t.state.config).unwrap();
    let user = |email: &str| format!("SELECT id FROM app_user WHERE email = '{email}'");
    Ctx {
        north: t.id("SELECT id FROM clinic WHERE slug = 'northside'").await,
        patel: t.id(&user("dr.patel@northside.test")).await,
        ann: t.id(&user("ann@patients.test")).await,
        video: t
            .id("SELECT id FROM service WHERE name = 'Video consultation'")
            .await,
        sched: t.me("scheduler@northside.test").await,
        router: server::router(t.state.clone()),
        t,
        transports,
        smtp,
    }
}

/// 11:00 on a March 2026 day at Northside (New York, EDT from 8 March).
fn local(d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

/// The UTC instant of a New York local time (EDT, UTC-4, after 8 March).
fn edt(d: u32, h: u32) -> i64 {
    Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0)
        .unwrap()
        .timestamp()
        + i64::from(h + 4) * 3_600
}

impl Ctx {
    async fn book(&self, start: NaiveDateTime) -> i64 {
        let made = create(
            &self.t.state,
            &self.sched,
            NewAppointment {
                clinic_id: self.north,
                provider_id: self.patel,
                patient_id: self.ann,
                service_id: self.video,
                start_local: start,
                end_local: None,
                location: "Video".into(),
                invited: vec![],
                recurrence: None,
            },
        )
        .await
        .unwrap();
        made.ids[0]
    }

    /// (nth, for_start, due_at, status) of an appointment's reminders.
    async fn reminders(&self, id: i64) -> Vec<(i64, i64, i64, String)> {
        sqlx::query_as(
            "SELECT nth, for_start, due_at, status FROM reminder WHERE appointment_id = $1 \
             ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.t.state.db.pool)
        .await
        .unwrap()
    }

    fn at(&self, ts: i64) {
        self.t.clock.set(Utc.timestamp_opt(ts, 0).single().unwrap());
    }

    /// Runs the worker until nothing is due.
    async fn deliver(&self) {
        while deliver_due(&self.t.state, &self.transports).await.unwrap() > 0 {}
    }

    /// The reminder emails received so far, as (to, subject, text).
    fn reminder_mails(&self) -> Vec<(String, String, String)> {
        self.smtp
            .messages()
            .iter()
            .filter_map(|r| {
                let m = mail_parser::MessageParser::default()
                    .parse(r.data.as_bytes())
                    .unwrap();
                let subject = m.subject().unwrap_or_default().to_string();
                subject.contains("Reminder").then(|| {
                    (
                        r.to.join(","),
                        subject,
                        m.body_text(0).unwrap_or_default().to_string(),
                    )
                })
            })
            .collect()
    }

    /// What a change would touch: the appointment, its links and the audit.
    async fn snapshot(&self, id: i64) -> (String, i64, Option<i64>, i64, i64) {
        let (status, version, confirmed): (String, i64, Option<i64>) =
            sqlx::query_as("SELECT status, version, confirmed_at FROM appointment WHERE id = $1")
                .bind(id)
                .fetch_one(&self.t.state.db.pool)
                .await
                .unwrap();
        let used = self
            .t
            .count("SELECT COUNT(*) FROM reminder_link WHERE used_at IS NOT NULL")
            .await;
        let audit = self.t.count("SELECT COUNT(*) FROM audit").await;
        (status, version, confirmed, used, audit)
    }

    async fn open(&self, path: &str) -> (StatusCode, String) {
        let resp = send(&self.router, get(path, None)).await;
        (resp.status(), text(resp).await)
    }

    /// Presses the page's button: a plain form POST to the link itself.
    async fn press(&self, path: &str) -> (StatusCode, String) {
        let req = Request::post(path)
            .header(header::ACCEPT, BROWSER_ACCEPT)
            .header(header::CONTENT_LENGTH, 0)
            .body(Body::empty())
            .unwrap();
        let resp = send(&self.router, req).await;
        (resp.status(), text(resp).await)
    }
}

/// The path of the link after `label` in a reminder's text.
fn link(text: &str, label: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label} in {text}"));
    let at = line.find("/r/").expect("a link");
    line[at..].trim().to_string()
}

both_dbs!(
    reminders_are_scheduled_on_booking_and_sent_when_due,
    scheduled_and_sent
);
async fn scheduled_and_sent(b: Backend) {
    let c = ctx(b).await;
    let id = c.book(local(10, 11)).await;
    let start = edt(10, 11);
    assert_eq!(
        c.reminders(id).await,
        vec![
            (1, start, start - 86_400, "scheduled".into()),
            (2, start, start - 7_200, "scheduled".into()),
        ]
    );
    // Booked the same morning (t0 is 10:00 EST on 4 March): the 24-hour
    // reminder's moment has passed, only the 2-hour one is scheduled.
    c.at(edt(9, 20));
    let soon = c.book(local(10, 14)).await;
    assert_eq!(
        c.reminders(soon).await,
        vec![(2, edt(10, 14), edt(10, 12), "scheduled".into())]
    );
    // Nothing is due before its moment.
    c.at(start - 86_400 - 1);
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 0);
    c.at(start - 86_400);
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 1);
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 0, "sent once");
    c.deliver().await;
    let mails = c.reminder_mails();
    assert_eq!(mails.len(), 1);
    let (to, subject, body) = &mails[0];
    assert_eq!(to, "<ann@patients.test>");
    assert_eq!(
        subject,
        "[Northside Telehealth] Reminder: your appointment on Tue, Mar 10, 2026, 11:00 AM EDT"
    );
    assert!(body.contains("Practitioner: Dr. Priya Patel"), "{body}");
    assert!(link(body, "Confirm you are coming").starts_with("/r/"));
    assert!(link(body, "Need to cancel?").starts_with("/r/"));
    let r = c.reminders(id).await;
    assert_eq!(r[0].3, "queued");
    assert_eq!(r[1].3, "scheduled");
    // Staff see it on the Bookings list.
    let rows = bookings_rows(&c).await;
    let row = rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        row.reminder.as_deref(),
        Some("Reminder sent Mon, Mar 9, 11:00 AM")
    );
    assert!(!row.confirmed);
}

async fn bookings_rows(c: &Ctx) -> Vec<app::model::BookingRow> {
    use app::model::BookingStatusFilter;
    use app::server::service::bookings::BookingQuery;
    let q = BookingQuery {
        status: BookingStatusFilter::All,
        ..Default::default()
    };
    app::server::service::bookings::list(&c.t.state, &c.sched, q)
        .await
        .unwrap()
        .rows
}

both_dbs!(
    a_move_re_times_the_reminders_and_clears_the_confirmation,
    moved
);
async fn moved(b: Backend) {
    let c = ctx(b).await;
    let id = c.book(local(10, 11)).await;
    sqlx::query("UPDATE appointment SET confirmed_at = 1 WHERE id = $1")
        .bind(id)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    reschedule(
        &c.t.state,
        &c.sched,
        Move {
            appointment_id: id,
            start_local: local(12, 15),
            location: "Video".into(),
            scope: RescheduleScope::ThisOnly,
        },
    )
    .await
    .unwrap();
    let (old, new) = (edt(10, 11), edt(12, 15));
    assert_eq!(
        c.reminders(id).await,
        vec![
            (1, old, old - 86_400, "dropped".into()),
            (2, old, old - 7_200, "dropped".into()),
            (1, new, new - 86_400, "scheduled".into()),
            (2, new, new - 7_200, "scheduled".into()),
        ]
    );
    let confirmed: Option<i64> =
        sqlx::query_scalar("SELECT confirmed_at FROM appointment WHERE id = $1")
            .bind(id)
            .fetch_one(&c.t.state.db.pool)
            .await
            .unwrap();
    assert_eq!(confirmed, None, "the confirmation was for the old time");
    // The old time's moment sends nothing; the new one's does.
    c.at(old - 86_400);
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 0);
    c.at(new - 86_400 + 60);
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 1);
    c.deliver().await;
    let mails = c.reminder_mails();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].1.ends_with("Thu, Mar 12, 2026, 3:00 PM EDT"),
        "{}",
        mails[0].1
    );
}

both_dbs!(a_cancellation_drops_the_reminders, cancelled);
async fn cancelled(b: Backend) {
    let c = ctx(b).await;
    let id = c.book(local(10, 11)).await;
    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &c.sched, id, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    let r = c.reminders(id).await;
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|r| r.3 == "dropped"), "{r:?}");
    c.at(edt(10, 9));
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 0);
    c.deliver().await;
    assert!(c.reminder_mails().is_empty());
}

both_dbs!(
    a_reminder_whose_moment_passed_is_skipped_not_sent_late,
    skipped
);
async fn skipped(b: Backend) {
    let c = ctx(b).await;
    let id = c.book(local(10, 11)).await;
    let start = edt(10, 11);
    // The server was down from before the first reminder until 11 minutes
    // after it.
    c.at(start - 86_400 + 11 * 60);
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 0);
    let r = c.reminders(id).await;
    assert_eq!((r[0].3.as_str(), r[1].3.as_str()), ("skipped", "scheduled"));
    // Within the grace (10 minutes) the second still goes.
    c.at(start - 7_200 + 9 * 60);
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 1);
    c.deliver().await;
    assert_eq!(c.reminder_mails().len(), 1);
    let rows = bookings_rows(&c).await;
    assert!(rows
        .iter()
        .find(|r| r.id == id)
        .unwrap()
        .reminder
        .as_deref()
        .is_some_and(|r| r.starts_with("Reminder sent")));
}

/// Books an appointment on 10 March and sends its first reminder;
/// returns (id, confirm path, cancel path).
async fn reminded(c: &Ctx) -> (i64, String, String) {
    let id = c.book(local(10, 11)).await;
    c.at(edt(10, 11) - 86_400);
    assert_eq!(run_due(&c.t.state).await.unwrap().reminders, 1);
    c.deliver().await;
    let mails = c.reminder_mails();
    let body = &mails.last().unwrap().2;
    (
        id,
        link(body, "Confirm you are coming"),
        link(body, "Need to cancel?"),
    )
}

both_dbs!(
    the_confirm_link_confirms_once_after_the_button,
    confirm_link
);
async fn confirm_link(b: Backend) {
    let c = ctx(b).await;
    let (id, confirm, _) = reminded(&c).await;
    let before = c.snapshot(id).await;
    // Opening it (as a mail scanner would) changes nothing.
    let (status, page) = c.open(&confirm).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Confirm appointment"), "{page}");
    assert!(page.contains("Tue, Mar 10, 2026, 11:00 AM EDT"), "{page}");
    assert_eq!(c.snapshot(id).await, before);
    // A tampered token: a specific message, nothing changed.
    let mut bad = confirm.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    let (status, page) = c.press(&bad).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("This link is not valid"), "{page}");
    assert_eq!(c.snapshot(id).await, before);
    // The button confirms.
    let (status, page) = c.press(&confirm).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Appointment confirmed"), "{page}");
    let (_, _, confirmed, used, audit) = c.snapshot(id).await;
    assert_eq!(confirmed, Some(c.t.state.now()));
    assert_eq!((used, audit), (before.3 + 1, before.4 + 1));
    // Once only.
    let after = c.snapshot(id).await;
    let (status, page) = c.press(&confirm).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("already been used"), "{page}");
    assert_eq!(c.snapshot(id).await, after);
    let rows = bookings_rows(&c).await;
    assert!(rows.iter().find(|r| r.id == id).unwrap().confirmed);
}

both_dbs!(
    the_cancel_link_follows_the_policy_and_works_once,
    cancel_link
);
async fn cancel_link(b: Backend) {
    let c = ctx(b).await;
    let (id, _, cancel_path) = reminded(&c).await;
    // An hour later the appointment is inside Northside's 24-hour notice
    // window: the page explains and offers the clinic's number instead.
    c.at(edt(10, 11) - 86_400 + 3_600);
    let before = c.snapshot(id).await;
    let (status, page) = c.open(&cancel_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("within the clinic&#39;s notice period"),
        "{page}"
    );
    assert!(page.contains("href=\"tel:"), "{page}");
    assert!(!page.contains("<form"), "{page}");
    let (_, page) = c.press(&cancel_path).await;
    assert!(page.contains("Please call the clinic"), "{page}");
    assert_eq!(c.snapshot(id).await, before, "refused: nothing changed");
    // With a 1-hour window the same link cancels, once.
    sqlx::query("UPDATE clinic SET late_cancel_window_minutes = 60 WHERE id = $1")
        .bind(c.north)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    let (_, page) = c.open(&cancel_path).await;
    assert!(page.contains("Cancel appointment"), "{page}");
    let (status, page) = c.press(&cancel_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your appointment is cancelled"), "{page}");
    let (status, ..) = c.snapshot(id).await;
    assert_eq!(status, "cancelled");
    let by: i64 = sqlx::query_scalar("SELECT cancelled_by FROM appointment WHERE id = $1")
        .bind(id)
        .fetch_one(&c.t.state.db.pool)
        .await
        .unwrap();
    assert_eq!(by, c.ann, "cancelled by the patient");
    assert!(c.reminders(id).await.iter().all(|r| r.3 != "scheduled"));
    let after = c.snapshot(id).await;
    let (status, page) = c.press(&cancel_path).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("already been used"), "{page}");
    assert_eq!(c.snapshot(id).await, after);
    // The patient is told, as after any cancellation.
    c.deliver().await;
    assert!(c
        .smtp
        .messages()
        .iter()
        .any(|m| m.data.contains("is cancelled") && m.to.join(",").contains("ann@")));
}

both_dbs!(an_expired_or_outdated_link_changes_nothing, expired_link);
async fn expired_link(b: Backend) {
    let c = ctx(b).await;
    let (id, confirm, cancel_path) = reminded(&c).await;
    // Moved since: the link was for the old time.
    reschedule(
        &c.t.state,
        &c.sched,
        Move {
            appointment_id: id,
            start_local: local(11, 11),
            location: "Video".into(),
            scope: RescheduleScope::ThisOnly,
        },
    )
    .await
    .unwrap();
    let before = c.snapshot(id).await;
    let (status, page) = c.press(&confirm).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("earlier time"), "{page}");
    assert_eq!(c.snapshot(id).await, before);
    // After the start the link it was sent for has expired.
    c.at(edt(10, 11) + 60);
    let (status, page) = c.press(&cancel_path).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("expired"), "{page}");
    assert_eq!(c.snapshot(id).await, before);
}

both_dbs!(two_instances_never_queue_one_reminder_twice, two_instances);
async fn two_instances(b: Backend) {
    let c = ctx(b).await;
    let other = c.t.restart().await;
    // 60 appointments, 120 reminders (more than two claiming batches).
    let mut ids = Vec::new();
    for day in 10..=14 {
        for hour in 8..20 {
            ids.push(c.book(local(day, hour)).await);
        }
    }
    // All their reminders fall due together, a minute ago.
    let now = c.t.state.now();
    sqlx::query("UPDATE reminder SET due_at = $1")
        .bind(now - 60)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    let mut sent = 0;
    for _ in 0..3 {
        let (a, b) = tokio::join!(run_due(&c.t.state), run_due(&other));
        sent += a.unwrap().reminders + b.unwrap().reminders;
    }
    let due =
        c.t.count("SELECT COUNT(*) FROM reminder WHERE status = 'queued'")
            .await;
    let queued =
        c.t.count("SELECT COUNT(*) FROM outbox WHERE event = 'reminder'")
            .await;
    assert_eq!(due, 120, "every reminder queued");
    assert_eq!(sent as i64, due);
    assert_eq!(queued, due, "one message per reminder");
    let links = c.t.count("SELECT COUNT(*) FROM reminder_link").await;
    assert_eq!(
        links,
        2 * due,
        "each reminder rendered once (two links each)"
    );
    c.deliver().await;
    assert_eq!(c.reminder_mails().len() as i64, due);
}

both_dbs!(reminder_settings_are_checked_and_audited, settings);
async fn settings(b: Backend) {
    let c = ctx(b).await;
    let admin = c.t.me("admin@northside.test").await;
    let st = &c.t.state;
    assert_eq!(
        reminders::settings(st, &admin, c.north)
            .await
            .unwrap()
            .settings,
        ReminderSettings::default()
    );
    let good = ReminderSettings::default();
    for bad in [
        ReminderSettings {
            first_minutes: 5,
            ..good
        },
        ReminderSettings {
            first_minutes: 30 * 24 * 60,
            ..good
        },
        ReminderSettings {
            second_minutes: Some(2_000),
            ..good
        },
        ReminderSettings {
            email: false,
            sms: false,
            ..good
        },
    ] {
        let e = reminders::save_settings(st, &admin, c.north, bad)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Validation(_)), "{e:?}");
        assert!((400..500).contains(&e.status()));
    }
    assert_eq!(
        reminders::settings(st, &admin, c.north)
            .await
            .unwrap()
            .settings,
        good
    );
    // Schedulers may not change them.
    let e = reminders::save_settings(st, &c.sched, c.north, good)
        .await
        .unwrap_err();
    assert_eq!(e.status(), 403);
    let audit =
        c.t.count("SELECT COUNT(*) FROM audit WHERE action = 'clinic.reminders'")
            .await;
    assert_eq!(audit, 0);
    let mine = ReminderSettings {
        first_minutes: 2 * 24 * 60,
        second_minutes: None,
        sms: true,
        ..good
    };
    reminders::save_settings(st, &admin, c.north, mine)
        .await
        .unwrap();
    assert_eq!(
        reminders::settings(st, &admin, c.north)
            .await
            .unwrap()
            .settings,
        mine
    );
    let audit =
        c.t.count("SELECT COUNT(*) FROM audit WHERE action = 'clinic.reminders'")
            .await;
    assert_eq!(audit, 1);
    // New bookings follow them: one reminder, two days before.
    let id = c.book(local(10, 11)).await;
    let start = edt(10, 11);
    assert_eq!(
        c.reminders(id).await,
        vec![(1, start, start - 2 * 86_400, "scheduled".into())]
    );
    // Off: none.
    let off = ReminderSettings { on: false, ..mine };
    reminders::save_settings(st, &admin, c.north, off)
        .await
        .unwrap();
    let id = c.book(local(11, 11)).await;
    assert!(c.reminders(id).await.is_empty());
}
