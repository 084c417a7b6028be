//! A clinic's date and time style (issue 12, point 8) on both databases:
//! the style an admin sets is the one emails (delivered over SMTP to a
//! server the test starts) and pages' data are written in; a patient whose
//! zone differs from the clinic's reads both times; an unknown style is
//! refused with a 400 and changes nothing.

mod common;

use app::error::AppError;
use app::model::{BookingStatusFilter, ScheduleMode};
use app::server::outbox::{deliver_due, Transports};
use app::server::service::appointments::{create, NewAppointment};
use app::server::service::bookings::{list, BookingQuery};
use app::server::service::clinic_settings::{save_date_style, view as settings};
use app::server::service::schedule::{view as schedule, ScheduleQuery};
use axum::http::StatusCode;
use chrono::NaiveDate;
use common::smtp::SmtpServer;
use common::web::{form, post, send};
use common::{Backend, TestApp};

struct Ctx {
    t: TestApp,
    transports: Transports,
    smtp: SmtpServer,
    north: i64,
    patel: i64,
    ann: i64,
    ben: i64,
    video: i64,
}

async fn ctx(b: Backend) -> Ctx {
    let smtp = SmtpServer::start().await;
    let t = common::seeded_app(b, smtp.demo_config()).await;
    let transports = Transports::new(&t.state.config).unwrap();
    let user = |email: &str| format!("SELECT id FROM app_user WHERE email = '{email}'");
    Ctx {
        north: t.id("SELECT id FROM clinic WHERE slug = 'northside'").await,
        patel: t.id(&user("dr.patel@northside.test")).await,
        ann: t.id(&user("ann@patients.test")).await,
        ben: t.id(&user("ben@patients.test")).await,
        video: t
            .id("SELECT id FROM service WHERE name = 'Video consultation'")
            .await,
        t,
        transports,
        smtp,
    }
}

impl Ctx {
    /// Books `patient` with Dr Patel at `hour`:00 New York time on
    /// 2026-`month`-`day` (the test clock is Wed 4 Mar 2026), delivers
    /// every message due, and returns the appointment id.
    async fn book(&self, patient: i64, month: u32, day: u32, hour: u32) -> i64 {
        let sched = self.t.me("scheduler@northside.test").await;
        let start = NaiveDate::from_ymd_opt(2026, month, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap();
        let made = create(
            &self.t.state,
            &sched,
            NewAppointment {
                clinic_id: self.north,
                provider_id: self.patel,
                patient_id: patient,
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
        while deliver_due(&self.t.state, &self.transports).await.unwrap() > 0 {}
        made.ids[0]
    }

    /// (subject, plain text) of every email delivered to `address`, in order.
    fn mails_to(&self, address: &str) -> Vec<(String, String)> {
        self.smtp
            .messages()
            .iter()
            .filter(|r| r.to.iter().any(|t| t.contains(address)))
            .map(|r| {
                let m = mail_parser::MessageParser::default()
                    .parse(r.data.as_bytes())
                    .expect("a parsable email");
                (
                    m.subject().unwrap_or_default().to_string(),
                    // Line ends as sent (CRLF) read as plain newlines.
                    m.body_text(0).unwrap_or_default().replace("\r\n", "\n"),
                )
            })
            .collect()
    }

    async fn stored_style(&self) -> String {
        sqlx::query_scalar("SELECT date_style FROM clinic WHERE id = $1")
            .bind(self.north)
            .fetch_one(&self.t.state.db.pool)
            .await
            .unwrap()
    }

    /// The booking's "when" on the Bookings list and its start on the
    /// Schedule's Day view, with the Day view's hour marks.
    async fn page_times(&self, id: i64, day: &str) -> (String, String, Vec<String>) {
        let admin = self.t.me("admin@northside.test").await;
        let rows = list(
            &self.t.state,
            &admin,
            BookingQuery {
                status: BookingStatusFilter::All,
                // That day only: the demo has more than a page of bookings.
                from: day.parse().ok(),
                to: day.parse().ok(),
                search: String::new(),
                page: 0,
            },
        )
        .await
        .unwrap()
        .rows;
        let row = rows.iter().find(|r| r.id == id).expect("listed");
        let v = schedule(
            &self.t.state,
            &admin,
            ScheduleQuery {
                clinic_id: Some(self.north),
                mode: ScheduleMode::Day,
                date: day.parse().ok(),
                providers: vec![],
            },
        )
        .await
        .unwrap();
        let item = v
            .columns
            .iter()
            .flat_map(|c| c.items.iter())
            .find(|i| i.booking.id == id)
            .expect("on the schedule");
        (
            row.when.clone(),
            item.booking.time_label.clone(),
            v.hour_labels,
        )
    }
}

async fn setting_the_style_changes_emails_and_pages(b: Backend) {
    let c = ctx(b).await;
    let admin = c.t.me("admin@northside.test").await;
    // The demo's Northside writes US dates.
    assert_eq!(
        settings(&c.t.state, &admin, c.north)
            .await
            .unwrap()
            .date_style,
        "en-US"
    );
    let us = c.book(c.ann, 3, 10, 15).await;
    let (subject, text) = c.mails_to("ann@patients.test").pop().expect("Ann is told");
    assert!(
        subject.ends_with(": Tue, Mar 10, 2026, 3:00 PM EDT"),
        "{subject}"
    );
    assert!(
        text.contains("When: Tue, Mar 10, 2026, 3:00 PM EDT\n"),
        "{text}"
    );
    let (when, start, hours) = c.page_times(us, "2026-03-10").await;
    assert_eq!(when, "Tue, Mar 10, 2026, 3:00 PM–3:30 PM");
    assert_eq!(start, "3:00 PM");
    assert!(hours.contains(&"3 PM".to_string()), "{hours:?}");

    // The admin switches to Australian order: new emails and the same
    // booking's page data follow at once.
    save_date_style(&c.t.state, &admin, c.north, "en-AU")
        .await
        .unwrap();
    assert_eq!(
        settings(&c.t.state, &admin, c.north)
            .await
            .unwrap()
            .date_style,
        "en-AU"
    );
    c.book(c.ann, 3, 11, 9).await;
    let (subject, _) = c.mails_to("ann@patients.test").pop().unwrap();
    assert!(
        subject.ends_with(": Wed 11 Mar 2026, 9:00 am EDT"),
        "{subject}"
    );
    let (when, start, hours) = c.page_times(us, "2026-03-10").await;
    assert_eq!(when, "Tue 10 Mar 2026, 3:00 pm–3:30 pm");
    assert_eq!(start, "3:00 pm");
    assert!(hours.contains(&"3 pm".to_string()), "{hours:?}");

    // And to the 24-hour style every clinic had before.
    save_date_style(&c.t.state, &admin, c.north, "24h")
        .await
        .unwrap();
    c.book(c.ann, 3, 12, 16).await;
    let (subject, _) = c.mails_to("ann@patients.test").pop().unwrap();
    assert!(
        subject.ends_with(": Thu 12 Mar 2026, 16:00 EDT"),
        "{subject}"
    );
    let (when, start, hours) = c.page_times(us, "2026-03-10").await;
    assert_eq!(when, "Tue 10 Mar 2026, 15:00–15:30");
    assert_eq!(start, "15:00");
    assert!(hours.contains(&"15:00".to_string()), "{hours:?}");
}
both_dbs!(
    style_changes_emails_and_pages,
    setting_the_style_changes_emails_and_pages
);

async fn a_patient_in_another_zone_reads_both_times(b: Backend) {
    let c = ctx(b).await;
    // Ben lives in Sydney: 11:00 EDT on Tue 10 Mar is 02:00 AEDT on Wed 11 Mar.
    c.book(c.ben, 3, 10, 11).await;
    let (subject, text) = c.mails_to("ben@patients.test").pop().expect("Ben is told");
    assert!(
        text.contains(
            "When: Tue, Mar 10, 2026, 11:00 AM EDT (Wed, Mar 11, 2:00 AM your time, AEDT)\n"
        ),
        "{text}"
    );
    // The subject stays short: the clinic's time.
    assert!(
        subject.ends_with(": Tue, Mar 10, 2026, 11:00 AM EDT"),
        "{subject}"
    );
    // Ann lives in the clinic's zone: one time.
    c.book(c.ann, 3, 10, 13).await;
    let (_, text) = c.mails_to("ann@patients.test").pop().unwrap();
    assert!(
        text.contains("When: Tue, Mar 10, 2026, 1:00 PM EDT\n"),
        "{text}"
    );
    assert!(!text.contains("your time"), "{text}");
}
both_dbs!(
    patient_elsewhere_reads_both,
    a_patient_in_another_zone_reads_both_times
);

async fn an_unknown_style_is_refused_and_changes_nothing(b: Backend) {
    let c = ctx(b).await;
    let admin = c.t.me("admin@northside.test").await;
    for bad in ["en-GB", "", "EN-us", "12h"] {
        let err = save_date_style(&c.t.state, &admin, c.north, bad)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            AppError::Validation(
                "Choose a date and time style from the list: 24-hour, United States or Australia."
                    .into()
            )
        );
    }
    assert_eq!(c.stored_style().await, "en-US");
    // A scheduler may not change it.
    let sched = c.t.me("scheduler@northside.test").await;
    assert!(matches!(
        save_date_style(&c.t.state, &sched, c.north, "24h").await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(c.stored_style().await, "en-US");

    // Through the server function, as the Clinic page posts it: a 400 with
    // the message, and nothing written.
    let router = server::router(c.t.state.clone());
    let token = c.t.session("admin@northside.test").await.0;
    let north = c.north.to_string();
    let body = form(&[("clinic_id", &north), ("date_style", "fr-FR")]);
    let resp = send(&router, post("/api/save_date_style", &body, Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v = common::web::json(resp).await;
    assert_eq!(v["kind"], "validation", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Choose a date and time style"),
        "{v}"
    );
    assert_eq!(c.stored_style().await, "en-US");
    // The same call with a known style goes through.
    let body = form(&[("clinic_id", &north), ("date_style", "en-AU")]);
    let resp = send(&router, post("/api/save_date_style", &body, Some(&token))).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(c.stored_style().await, "en-AU");
}
both_dbs!(
    unknown_style_refused,
    an_unknown_style_is_refused_and_changes_nothing
);
