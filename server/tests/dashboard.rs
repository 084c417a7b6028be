//! The provider's Dashboard on both databases: it lists the requests,
//! meetings and invitations that are the provider's and nobody else's;
//! Accept books exactly the requested time chosen, and of two providers
//! accepting one request at once exactly one wins; invitations are
//! accepted or declined one meeting or a whole series at a time; the
//! cancellation email's rebooking link is the host's personal link.

mod common;

use app::domain::appointment::ParticipantStatus;
use app::domain::booking::validate_cancel;
use app::domain::recurrence::{End, Weekly};
use app::domain::request::RequestMode;
use app::error::AppError;
use app::model::{InvitationAnswer, InvitationScope, Me};
use app::server::outbox::{deliver_due, Transports};
use app::server::service::appointments::NewAppointment;
use app::server::service::appointments::{cancel, create as create_appointment, CancelScope};
use app::server::service::dashboard::{answer_invitation, dashboard};
use app::server::service::requests::{accept, create, decline, NewRequest};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::America::New_York;
use common::smtp::SmtpServer;
use common::{Backend, TestApp};

// The test clock is Wed 2026-03-04 15:00 UTC (10:00 in New York). Dr Lee
// and Dr Patel work 09:00–17:00 Monday to Friday.

struct Ctx {
    t: TestApp,
    smtp: SmtpServer,
    north: i64,
    lee: i64,
    patel: i64,
    kim: i64,
    ann: i64,
    video: i64,
    ben: Me,
}

async fn ctx(b: Backend) -> Ctx {
    let smtp = SmtpServer::start().await;
    let t = common::seeded_app(b, smtp.demo_config()).await;
    let user = |email: &str| format!("SELECT id FROM app_user WHERE email = '{email}'");
    Ctx {
        north: t.id("SELECT id FROM clinic WHERE slug = 'northside'").await,
        lee: t.id(&user("dr.lee@northside.test")).await,
        patel: t.id(&user("dr.patel@northside.test")).await,
        kim: t.id(&user("dr.kim@northside.test")).await,
        ann: t.id(&user("ann@patients.test")).await,
        video: t
            .id("SELECT id FROM service WHERE name = 'Video consultation'")
            .await,
        ben: t.me("ben@patients.test").await,
        t,
        smtp,
    }
}

/// New York wall-clock time as unix seconds.
fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    New_York
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .timestamp()
}

fn local(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

impl Ctx {
    async fn me(&self, email: &str) -> Me {
        self.t.me(email).await
    }

    /// Ben asks for a Scheduled session: of `provider`, or the host group.
    async fn request(&self, provider: Option<i64>, times: Vec<i64>) -> i64 {
        let new = NewRequest {
            clinic_id: self.north,
            service_id: self.video,
            mode: RequestMode::Scheduled,
            provider_id: provider,
            times,
            answers: vec!["A rash".into(), "No".into()],
            note: "Please call first".into(),
        };
        create(&self.t.state, &self.ben, new).await.unwrap()
    }

    /// Patel hosts a meeting with Ann, inviting `invited`; weekly `count`
    /// times when given.
    async fn meeting(
        &self,
        start: NaiveDateTime,
        invited: Vec<i64>,
        count: Option<u32>,
    ) -> Vec<i64> {
        let patel = self.me("dr.patel@northside.test").await;
        let new = NewAppointment {
            clinic_id: self.north,
            provider_id: self.patel,
            patient_id: self.ann,
            service_id: self.video,
            start_local: start,
            end_local: None,
            location: String::new(),
            invited,
            recurrence: count.map(|n| Weekly {
                interval_weeks: 1,
                end: End::Count(n),
            }),
        };
        create_appointment(&self.t.state, &patel, new)
            .await
            .unwrap()
            .ids
    }

    /// `user` hears of `event` by email only.
    async fn prefer_email(&self, user: i64, event: &str) {
        let pool = &self.t.state.db.pool;
        sqlx::query("DELETE FROM notification_preference WHERE user_id = $1 AND event = $2")
            .bind(user)
            .bind(event)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO notification_preference (user_id, event, channel) VALUES ($1, $2, 'email')",
        )
        .bind(user)
        .bind(event)
        .execute(pool)
        .await
        .unwrap();
    }

    async fn statuses(&self, appointments: &[i64], provider: i64) -> Vec<String> {
        let mut v = Vec::new();
        for id in appointments {
            v.push(self.participant(*id, provider).await);
        }
        v
    }

    async fn participant(&self, appointment: i64, provider: i64) -> String {
        sqlx::query_scalar(
            "SELECT status FROM participant WHERE appointment_id = $1 AND provider_id = $2",
        )
        .bind(appointment)
        .bind(provider)
        .fetch_one(&self.t.state.db.pool)
        .await
        .unwrap()
    }
}

fn request_ids(d: &app::model::Dashboard) -> Vec<i64> {
    d.requests.iter().map(|r| r.row.id).collect()
}

async fn the_dashboard_lists_what_is_theirs_only(b: Backend) {
    let c = ctx(b).await;
    let t1 = ny(2026, 3, 9, 10, 0);
    let to_lee = c.request(Some(c.lee), vec![t1, t1 + 3600]).await;
    let to_group = c.request(None, vec![t1 + 7200]).await;
    let to_patel = c.request(Some(c.patel), vec![t1]).await;
    let lee = c.me("dr.lee@northside.test").await;
    let kim = c.me("dr.kim@northside.test").await;

    let d = dashboard(&c.t.state, &lee).await.unwrap();
    let ids = request_ids(&d);
    assert!(ids.contains(&to_lee) && ids.contains(&to_group), "{ids:?}");
    assert!(!ids.contains(&to_patel), "Patel's request is not Lee's");
    let mine = d.requests.iter().find(|r| r.row.id == to_lee).unwrap();
    let starts: Vec<i64> = mine.choices.iter().map(|t| t.start).collect();
    assert_eq!(starts, vec![t1, t1 + 3600], "one Accept per requested time");
    assert_eq!(mine.choices[0].label, mine.row.times[0]);
    let ids = request_ids(&dashboard(&c.t.state, &kim).await.unwrap());
    assert!(ids.contains(&to_group) && !ids.contains(&to_lee) && !ids.contains(&to_patel));

    // Patel hosts one today and one next week, Lee is invited to the
    // second; Kim to neither.
    let today = c.meeting(local(2026, 3, 4, 12), vec![], None).await[0];
    let later = c.meeting(local(2026, 3, 10, 11), vec![c.lee], None).await[0];
    let patel = c.me("dr.patel@northside.test").await;
    let p = dashboard(&c.t.state, &patel).await.unwrap();
    assert!(p.today.iter().any(|m| m.id == today));
    assert!(p.upcoming.iter().any(|m| m.id == later));
    assert!(!p.today.iter().any(|m| m.id == later) && !p.upcoming.iter().any(|m| m.id == today));
    let d = dashboard(&c.t.state, &lee).await.unwrap();
    let inv = d
        .invitations
        .iter()
        .find(|i| i.appointment_id == later)
        .expect("Lee's invitation");
    assert_eq!(inv.status, ParticipantStatus::NeedsAction);
    assert_eq!(inv.series_left, None);
    assert!(
        !d.upcoming.iter().any(|m| m.id == later),
        "not a meeting of Lee's until accepted"
    );
    let k = dashboard(&c.t.state, &kim).await.unwrap();
    assert!(!k.invitations.iter().any(|i| i.appointment_id == later));
    assert!(!k
        .upcoming
        .iter()
        .chain(&k.today)
        .any(|m| m.id == later || m.id == today));
    assert_eq!(
        d.links.iter().map(|l| l.path.clone()).collect::<Vec<_>>(),
        vec![format!("/book/northside?provider={}", c.lee)]
    );
    assert!(d.links[0].url.ends_with(&d.links[0].path));

    // Schedulers and patients have no Dashboard.
    let sched = c.me("scheduler@northside.test").await;
    assert!(matches!(
        dashboard(&c.t.state, &sched).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        dashboard(&c.t.state, &c.ben).await,
        Err(AppError::Forbidden(_))
    ));
}
both_dbs!(lists, the_dashboard_lists_what_is_theirs_only);

async fn accept_books_exactly_the_time_chosen(b: Backend) {
    let c = ctx(b).await;
    let t1 = ny(2026, 3, 9, 10, 0);
    let req = c.request(Some(c.lee), vec![t1, t1 + 3600, t1 + 7200]).await;
    let lee = c.me("dr.lee@northside.test").await;
    let appointments = c.t.count("SELECT COUNT(*) FROM appointment").await;

    // A time that was not requested, and another provider's name: refused,
    // nothing changes.
    assert_eq!(
        accept(&c.t.state, &lee, req, c.lee, Some(t1 + 1800), "").await,
        Err(AppError::Validation(
            "Choose one of the requested times.".into()
        ))
    );
    assert!(matches!(
        accept(&c.t.state, &lee, req, c.patel, Some(t1), "").await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM appointment").await,
        appointments
    );
    assert!(request_ids(&dashboard(&c.t.state, &lee).await.unwrap()).contains(&req));

    // The second Accept button's time, as the Dashboard labels it.
    let chosen = dashboard(&c.t.state, &lee)
        .await
        .unwrap()
        .requests
        .into_iter()
        .find(|r| r.row.id == req)
        .map(|r| r.choices[1].clone())
        .unwrap();
    assert_eq!(chosen.start, t1 + 3600);
    let chosen = chosen.label;
    let id = accept(&c.t.state, &lee, req, c.lee, Some(t1 + 3600), "")
        .await
        .unwrap();
    let (host, start): (i64, i64) =
        sqlx::query_as("SELECT host_provider_id, starts_at FROM appointment WHERE id = $1")
            .bind(id)
            .fetch_one(&c.t.state.db.pool)
            .await
            .unwrap();
    assert_eq!((host, start), (c.lee, t1 + 3600));
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM appointment").await,
        appointments + 1
    );
    let d = dashboard(&c.t.state, &lee).await.unwrap();
    assert!(!request_ids(&d).contains(&req), "answered: off the list");
    let m = d.upcoming.iter().find(|m| m.id == id).expect("in upcoming");
    assert!(m.when.starts_with(&chosen), "{} is {chosen}", m.when);
    assert_eq!(m.invited_by, None);

    // Declining with a note: the requester sees it.
    let other = c.request(Some(c.lee), vec![t1 + 7200]).await;
    decline(&c.t.state, &lee, other, "Away that week")
        .await
        .unwrap();
    let response: String = sqlx::query_scalar("SELECT response FROM request WHERE id = $1")
        .bind(other)
        .fetch_one(&c.t.state.db.pool)
        .await
        .unwrap();
    assert_eq!(response, "Away that week");
}
both_dbs!(accept_time, accept_books_exactly_the_time_chosen);

async fn two_providers_accepting_at_once_one_wins(b: Backend) {
    let c = ctx(b).await;
    let t1 = ny(2026, 3, 9, 10, 0);
    let req = c.request(None, vec![t1]).await;
    let lee = c.me("dr.lee@northside.test").await;
    let patel = c.me("dr.patel@northside.test").await;
    let (a, p) = tokio::join!(
        accept(&c.t.state, &lee, req, c.lee, Some(t1), ""),
        accept(&c.t.state, &patel, req, c.patel, Some(t1), "")
    );
    let lost = match (&a, &p) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        other => panic!("exactly one wins: {other:?}"),
    };
    match lost {
        AppError::Conflict(m) => assert!(
            m.starts_with(&format!("Request #{req} was already accepted by Dr")),
            "{m}"
        ),
        e => panic!("a clear conflict, not {e:?}"),
    }
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment a JOIN request r ON r.result_appointment_id = a.id WHERE r.id = {req}"
        ))
        .await,
        1
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE starts_at = {t1} AND host_provider_id IN ({}, {}) AND status = 'booked'",
            c.lee, c.patel
        ))
        .await,
        1,
        "one booking"
    );
}
both_dbs!(concurrent_accepts, two_providers_accepting_at_once_one_wins);

async fn invitations_are_answered_one_or_a_series(b: Backend) {
    let c = ctx(b).await;
    let lee = c.me("dr.lee@northside.test").await;
    let kim = c.me("dr.kim@northside.test").await;
    let single = c.meeting(local(2026, 3, 5, 11), vec![c.lee], None).await[0];
    let series = c.meeting(local(2026, 3, 5, 14), vec![c.lee], Some(4)).await;
    let audits = c.t.count("SELECT COUNT(*) FROM audit").await;
    c.prefer_email(c.patel, "invitee_declined").await;

    // Not theirs, a series answer for a single meeting: refused, unchanged.
    assert_eq!(
        answer_invitation(
            &c.t.state,
            &kim,
            single,
            InvitationAnswer::Accept,
            InvitationScope::This
        )
        .await,
        Err(AppError::Forbidden(
            "You are not invited to this meeting.".into()
        ))
    );
    assert!(matches!(
        answer_invitation(
            &c.t.state,
            &lee,
            single,
            InvitationAnswer::Accept,
            InvitationScope::Series
        )
        .await,
        Err(AppError::Validation(_))
    ));
    assert_eq!(
        answer_invitation(
            &c.t.state,
            &lee,
            i64::MAX,
            InvitationAnswer::Accept,
            InvitationScope::This
        )
        .await,
        Err(AppError::NotFound(
            "That appointment does not exist.".into()
        ))
    );
    assert_eq!(c.participant(single, c.lee).await, "needs-action");
    assert_eq!(c.t.count("SELECT COUNT(*) FROM audit").await, audits);

    // One meeting.
    let n = answer_invitation(
        &c.t.state,
        &lee,
        single,
        InvitationAnswer::Accept,
        InvitationScope::This,
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(c.participant(single, c.lee).await, "accepted");
    assert!(matches!(
        answer_invitation(
            &c.t.state,
            &lee,
            single,
            InvitationAnswer::Accept,
            InvitationScope::This
        )
        .await,
        Err(AppError::Conflict(_))
    ));
    let d = dashboard(&c.t.state, &lee).await.unwrap();
    assert!(d
        .upcoming
        .iter()
        .any(|m| m.id == single && m.invited_by.is_some()));
    let inv = d
        .invitations
        .iter()
        .find(|i| i.appointment_id == series[1])
        .unwrap();
    assert_eq!(inv.series_left, Some(4));

    // One occurrence of the series, then the whole series.
    answer_invitation(
        &c.t.state,
        &lee,
        series[1],
        InvitationAnswer::Accept,
        InvitationScope::This,
    )
    .await
    .unwrap();
    assert_eq!(
        c.statuses(&series, c.lee).await,
        vec!["needs-action", "accepted", "needs-action", "needs-action"]
    );
    let n = answer_invitation(
        &c.t.state,
        &lee,
        series[0],
        InvitationAnswer::Decline,
        InvitationScope::Series,
    )
    .await
    .unwrap();
    assert_eq!(n, 4);
    assert_eq!(c.statuses(&series, c.lee).await, vec!["declined"; 4]);
    assert_eq!(
        c.participant(single, c.lee).await,
        "accepted",
        "another meeting is untouched"
    );
    // The host hears of the decline once, about the series.
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE event = 'invitee_declined' AND recipient_user_id = {}",
            c.patel
        ))
        .await,
        1
    );
    // Once the first meeting is over, the series answer covers the rest.
    c.t.clock.set(
        New_York
            .with_ymd_and_hms(2026, 3, 6, 9, 0, 0)
            .single()
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    let n = answer_invitation(
        &c.t.state,
        &lee,
        series[2],
        InvitationAnswer::Accept,
        InvitationScope::Series,
    )
    .await
    .unwrap();
    assert_eq!(n, 3, "the three meetings still to come");
    assert_eq!(
        c.statuses(&series, c.lee).await,
        vec!["declined", "accepted", "accepted", "accepted"]
    );
    let audited = c.t.count("SELECT COUNT(*) FROM audit").await - audits;
    assert_eq!(audited, 1 + 1 + 4 + 3, "one entry per invitation changed");
}
both_dbs!(invitations, invitations_are_answered_one_or_a_series);

async fn the_cancellation_email_links_to_the_hosts_booking_page(b: Backend) {
    let c = ctx(b).await;
    let id = c.meeting(local(2026, 3, 10, 11), vec![], None).await[0];
    let sched = c.me("scheduler@northside.test").await;
    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &sched, id, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    let transports = Transports::new(&c.t.state.config).unwrap();
    while deliver_due(&c.t.state, &transports).await.unwrap() > 0 {}
    let texts: Vec<String> = c
        .smtp
        .messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains("ann@")))
        .filter_map(|m| {
            let mail = mail_parser::MessageParser::default().parse(m.data.as_bytes())?;
            Some(mail.body_text(0)?.to_string())
        })
        .filter(|text| text.contains("Book a new time:"))
        .collect();
    assert_eq!(texts.len(), 1, "Ann's cancellation invites rebooking");
    let base = c.t.state.config.link_base();
    let link = format!(
        "Book a new time: {base}/book/northside?provider={}",
        c.patel
    );
    assert!(
        texts[0].contains(&link),
        "the host's personal link: {}",
        texts[0]
    );
}
both_dbs!(
    rebooking_link,
    the_cancellation_email_links_to_the_hosts_booking_page
);

async fn a_now_request_is_accepted_for_the_next_minute(b: Backend) {
    let c = ctx(b).await;
    // The demo's Now request from Ann, to the host group.
    let kim = c.me("dr.kim@northside.test").await;
    let d = dashboard(&c.t.state, &kim).await.unwrap();
    let now = d
        .requests
        .iter()
        .find(|r| r.row.mode == RequestMode::Now)
        .expect("the Now request");
    assert!(now.choices.is_empty(), "no times to choose from");
    let asked: i64 = sqlx::query_scalar("SELECT created_at FROM request WHERE id = $1")
        .bind(now.row.id)
        .fetch_one(&c.t.state.db.pool)
        .await
        .unwrap();
    assert!(
        now.row.asked.contains(&asked_time(asked)),
        "{}",
        now.row.asked
    );
    let id = accept(&c.t.state, &kim, now.row.id, c.kim, None, "")
        .await
        .unwrap();
    let (host, start): (i64, i64) =
        sqlx::query_as("SELECT host_provider_id, starts_at FROM appointment WHERE id = $1")
            .bind(id)
            .fetch_one(&c.t.state.db.pool)
            .await
            .unwrap();
    let t0 = common::t0().timestamp();
    assert_eq!((host, start), (c.kim, t0 + 60), "the next whole minute");
    let d = dashboard(&c.t.state, &kim).await.unwrap();
    assert!(d.today.iter().any(|m| m.id == id), "today's meeting");
}
both_dbs!(now_request, a_now_request_is_accepted_for_the_next_minute);

/// "9:57": the minute a (morning) request was made in New York, as both
/// the 24-hour ("09:57") and the 12-hour ("9:57 AM") styles write it.
fn asked_time(ts: i64) -> String {
    use chrono::Timelike;
    let t = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap()
        .with_timezone(&New_York);
    format!("{}:{:02}", t.hour() % 12, t.minute())
}
