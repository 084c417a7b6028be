//! Proposals expire (issue 15, part 3), on both databases with the manual
//! clock: a time the clinic proposed gets a deadline; when it passes
//! unanswered the timers return the appointment to its original time (or
//! cancel it, when that time is taken or the clinic says so), and the
//! patient and the proposer are emailed (delivered over real SMTP).

mod common;

use app::domain::request::ChangeAnswer;
use app::error::AppError;
use app::server::outbox::{deliver_due, Transports};
use app::server::service::change_requests::{answer, Reply};
use app::server::service::portal::{answer_proposal, my_appointments, patient_reschedule};
use app::server::service::proposals::{save_settings, settings};
use app::server::timers::run_due;
use chrono::{NaiveDate, TimeZone};
use common::smtp::SmtpServer;
use common::{Backend, TestApp};
use sqlx::Row;

/// March `day`, 2026 at `h`:00 in Northside's zone (New York). The tests
/// start on Wednesday 2026-03-04, 10:00 there.
fn ny(day: u32, h: u32) -> i64 {
    chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 3, day, h, 0, 0)
        .single()
        .unwrap()
        .timestamp()
}

struct Ctx {
    t: TestApp,
    smtp: SmtpServer,
    transports: Transports,
    north: i64,
}

async fn ctx(b: Backend) -> Ctx {
    let smtp = SmtpServer::start().await;
    let t = common::seeded_app(b, smtp.demo_config()).await;
    ready(t, smtp).await
}

async fn ready(t: TestApp, smtp: SmtpServer) -> Ctx {
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let admin = t.me("admin@northside.test").await;
    // Patients' changes go to the practice, which may propose a time.
    let policy = app::domain::policy::Policy {
        needs_approval: true,
        ..Default::default()
    };
    app::server::service::clinic_settings::save_policy(&t.state, &admin, north, policy)
        .await
        .unwrap();
    Ctx {
        transports: Transports::new(&t.state.config).unwrap(),
        t,
        smtp,
        north,
    }
}

impl Ctx {
    /// An appointment for `patient` with Dr Patel on March `day` at `h`:00.
    async fn booking(&self, patient: &str, day: u32, h: u32) -> i64 {
        use app::server::service::appointments::{create, NewAppointment};
        let p = self.t.me(patient).await;
        sqlx::query("INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, 'patient', 0) ON CONFLICT DO NOTHING")
            .bind(p.user_id)
            .bind(self.north)
            .execute(&self.t.state.db.pool)
            .await
            .unwrap();
        let new = NewAppointment {
            clinic_id: self.north,
            provider_id: self
                .t
                .id("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'")
                .await,
            patient_id: p.user_id,
            service_id: self
                .t
                .id("SELECT id FROM service WHERE name = 'Video consultation'")
                .await,
            start_local: NaiveDate::from_ymd_opt(2026, 3, day)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap(),
            end_local: None,
            location: String::new(),
            invited: vec![],
            recurrence: None,
        };
        let sched = self.t.me("scheduler@northside.test").await;
        create(&self.t.state, &sched, new).await.unwrap().ids[0]
    }

    /// Ben's appointment on March `day` at 10:00, for which he asks another
    /// time and the scheduler proposes March `to_day` at `to_h`:00.
    async fn proposed(&self, day: u32, to_day: u32, to_h: u32) -> i64 {
        let ben = self.t.me("ben@patients.test").await;
        let id = self.booking("ben@patients.test", day, 10).await;
        let out = patient_reschedule(&self.t.state, &ben, id, ny(day, 14), "Later please", false)
            .await
            .unwrap();
        let app::model::ChangeOutcome::Requested { request_id, .. } = out else {
            panic!("expected a request, got {out:?}");
        };
        let sched = self.t.me("scheduler@northside.test").await;
        let reply = Reply {
            request_id,
            answer: ChangeAnswer::Propose,
            reason: "Dr Patel is away".into(),
            message: String::new(),
            start_local: Some(
                NaiveDate::from_ymd_opt(2026, 3, to_day)
                    .unwrap()
                    .and_hms_opt(to_h, 0, 0)
                    .unwrap(),
            ),
        };
        answer(&self.t.state, &sched, reply).await.unwrap();
        id
    }

    /// (status, starts_at, deadline, original start, proposer) of an appointment.
    async fn row(&self, id: i64) -> (String, i64, Option<i64>, Option<i64>, Option<i64>) {
        let r = sqlx::query(
            "SELECT status, starts_at, proposal_deadline, proposal_from_starts_at, proposed_by \
             FROM appointment WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.t.state.db.pool)
        .await
        .unwrap();
        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
    }

    async fn expire_due(&self) -> usize {
        run_due(&self.t.state).await.unwrap().proposals
    }

    /// Delivers what is due; returns the (recipient, subject, body) of every
    /// email received since `from`.
    async fn emails_since(&self, from: usize) -> Vec<(String, String, String)> {
        while deliver_due(&self.t.state, &self.transports).await.unwrap() > 0 {}
        self.smtp.messages()[from..]
            .iter()
            .map(|r| {
                let m = mail_parser::MessageParser::default()
                    .parse(r.data.as_bytes())
                    .unwrap();
                (
                    r.to.iter()
                        .map(|a| a.trim_matches(['<', '>']))
                        .collect::<Vec<_>>()
                        .join(","),
                    m.subject().unwrap_or_default().to_string(),
                    m.body_text(0).unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    async fn delivered(&self) -> usize {
        while deliver_due(&self.t.state, &self.transports).await.unwrap() > 0 {}
        self.smtp.messages().len()
    }

    fn advance_to(&self, at: i64) {
        self.t
            .clock
            .set(chrono::Utc.timestamp_opt(at, 0).single().unwrap());
    }

    async fn user(&self, email: &str) -> i64 {
        self.t
            .id(&format!("SELECT id FROM app_user WHERE email = '{email}'"))
            .await
    }
}

const HOUR: i64 = 3600;

async fn an_unanswered_proposal_returns_to_its_original_time(b: Backend) {
    let c = ctx(b).await;
    let t0 = c.t.state.now();
    let sched = c.user("scheduler@northside.test").await;
    let id = c.proposed(16, 17, 15).await;
    // Open: proposed at Tuesday 15:00, from Monday 10:00, 48 hours to answer.
    assert_eq!(
        c.row(id).await,
        (
            "pending".into(),
            ny(17, 15),
            Some(t0 + 48 * HOUR),
            Some(ny(16, 10)),
            Some(sched)
        )
    );
    // The patient sees until when, in the clinic's style.
    let ben = c.t.me("ben@patients.test").await;
    let card = my_appointments(&c.t.state, &ben)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap();
    assert_eq!(
        card.answer_by.as_deref(),
        Some("Answer by Fri, Mar 6, 10:00 AM; after that it returns to your original time, Mon, Mar 16, 10:00 AM, if that time is still free, or is cancelled.")
    );

    // Not yet due: nothing happens.
    let mails = c.delivered().await;
    c.advance_to(t0 + 48 * HOUR - 1);
    assert_eq!(c.expire_due().await, 0);
    assert_eq!(c.row(id).await.0, "pending");

    c.advance_to(t0 + 48 * HOUR);
    assert_eq!(c.expire_due().await, 1);
    assert_eq!(
        c.row(id).await,
        ("booked".into(), ny(16, 10), None, None, None)
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT ends_at - starts_at FROM appointment WHERE id = {id}"
        ))
        .await,
        1800
    );
    assert_eq!(c.expire_due().await, 0, "expired once");
    // Recorded as the server's act: no user, the proposer named.
    let audit = sqlx::query(
        "SELECT action, actor_id, after_json FROM audit WHERE entity = 'appointment' AND entity_id = $1 ORDER BY id DESC LIMIT 2",
    )
    .bind(id)
    .fetch_all(&c.t.state.db.pool)
    .await
    .unwrap();
    let actions: Vec<(String, Option<i64>)> = audit.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        actions,
        vec![
            ("proposal.expire".into(), None),
            ("appointment.reschedule".into(), None)
        ]
    );
    assert!(audit[0]
        .get::<String, _>(2)
        .contains("returned to its original time"));

    // Both sides told.
    let sent = c.emails_since(mails).await;
    let to = |who: &str| sent.iter().filter(|(r, ..)| r == who).collect::<Vec<_>>();
    let ben_mail = to("ben@patients.test");
    assert_eq!(ben_mail.len(), 1, "{sent:?}");
    assert!(
        ben_mail[0]
            .1
            .contains("The proposed time expired: your appointment returned to its original time"),
        "{:?}",
        ben_mail[0]
    );
    assert!(
        ben_mail[0].1.contains("Mon, Mar 16, 2026, 10:00 AM"),
        "{:?}",
        ben_mail[0]
    );
    assert!(
        ben_mail[0].2.contains("Was: Tue, Mar 17, 2026, 3:00 PM"),
        "{}",
        ben_mail[0].2
    );
    let sched_mail = to("scheduler@northside.test");
    assert_eq!(sched_mail.len(), 1, "the proposer is told: {sent:?}");
    assert!(
        sched_mail[0].1.contains("The time proposed to Ben"),
        "{:?}",
        sched_mail[0]
    );

    // Answering now: told it expired, and nothing changes.
    let err = answer_proposal(&c.t.state, &ben, id, true)
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "This proposal expired at Fri, Mar 6, 10:00 AM; the appointment returned to its original time, Mon, Mar 16, 10:00 AM."
    );
    assert_eq!(err.status(), 409);
    assert_eq!(c.row(id).await.0, "booked");
}
both_dbs!(
    restored,
    an_unanswered_proposal_returns_to_its_original_time
);

async fn a_taken_original_time_cancels_it_and_both_are_told(b: Backend) {
    let c = ctx(b).await;
    let t0 = c.t.state.now();
    let id = c.proposed(16, 17, 15).await;
    // Meanwhile Ann gets Monday 10:00.
    let ann = c.booking("ann@patients.test", 16, 10).await;
    let mails = c.delivered().await;
    c.advance_to(t0 + 49 * HOUR);
    assert_eq!(c.expire_due().await, 1);
    assert_eq!(
        c.row(id).await,
        ("cancelled".into(), ny(17, 15), None, None, None)
    );
    assert_eq!(c.row(ann).await.0, "booked", "Ann keeps her time");
    let r = sqlx::query("SELECT cancel_reason_code, cancel_text, cancel_message, cancelled_by FROM appointment WHERE id = $1")
        .bind(id)
        .fetch_one(&c.t.state.db.pool)
        .await
        .unwrap();
    assert_eq!(r.get::<Option<String>, _>(0).as_deref(), Some("other"));
    assert_eq!(
        r.get::<Option<String>, _>(1).as_deref(),
        Some("The proposed time expired without an answer.")
    );
    assert_eq!(
        r.get::<Option<String>, _>(2).as_deref(),
        Some("The original time is no longer free.")
    );
    assert_eq!(r.get::<Option<i64>, _>(3), None, "cancelled by nobody");
    let sent = c.emails_since(mails).await;
    for who in ["ben@patients.test", "scheduler@northside.test"] {
        let mine: Vec<_> = sent.iter().filter(|(r, ..)| r == who).collect();
        assert_eq!(mine.len(), 1, "{who}: {sent:?}");
        assert!(
            mine[0]
                .1
                .contains("was cancelled because its original time is no longer free"),
            "{who}: {:?}",
            mine[0]
        );
        assert!(
            !mine[0].2.contains("Join:"),
            "no way into a cancelled meeting: {}",
            mine[0].2
        );
    }
    let ben = c.t.me("ben@patients.test").await;
    let err = answer_proposal(&c.t.state, &ben, id, true)
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "This proposal expired at Fri, Mar 6, 10:00 AM; the appointment was cancelled."
    );
}
both_dbs!(
    original_taken,
    a_taken_original_time_cancels_it_and_both_are_told
);

async fn the_cancel_setting_cancels_and_the_deadline_never_passes_the_proposed_time(b: Backend) {
    let c = ctx(b).await;
    let admin = c.t.me("admin@northside.test").await;
    save_settings(&c.t.state, &admin, c.north, "72", "cancel")
        .await
        .unwrap();
    let s = settings(&c.t.state, &admin, c.north).await.unwrap();
    assert_eq!((s.expiry_hours, s.on_expiry.as_str()), (72, "cancel"));
    // Proposed for tomorrow 9:00: the deadline is then, not 72 hours away.
    let id = c.proposed(16, 5, 9).await;
    assert_eq!(c.row(id).await.2, Some(ny(5, 9)));
    let ben = c.t.me("ben@patients.test").await;
    let card = my_appointments(&c.t.state, &ben)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap();
    assert_eq!(
        card.answer_by.as_deref(),
        Some("Answer by Thu, Mar 5, 9:00 AM; after that the appointment is cancelled.")
    );
    let mails = c.delivered().await;
    c.advance_to(ny(5, 9));
    assert_eq!(c.expire_due().await, 1);
    assert_eq!(c.row(id).await.0, "cancelled");
    let msg: Option<String> =
        sqlx::query_scalar("SELECT cancel_message FROM appointment WHERE id = $1")
            .bind(id)
            .fetch_one(&c.t.state.db.pool)
            .await
            .unwrap();
    assert_eq!(msg.as_deref(), Some(""), "no message beyond the note");
    let sent = c.emails_since(mails).await;
    // The patient, the proposer, and the host, who chose to hear of it.
    let mut to: Vec<&str> = sent.iter().map(|(r, ..)| r.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        [
            "ben@patients.test",
            "dr.patel@northside.test",
            "scheduler@northside.test"
        ],
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .all(|(_, s, _)| s.contains("expired") && s.contains("was cancelled")),
        "{sent:?}"
    );
}
both_dbs!(
    cancel_setting,
    the_cancel_setting_cancels_and_the_deadline_never_passes_the_proposed_time
);

async fn an_answer_in_time_closes_the_proposal_and_a_late_one_changes_nothing(b: Backend) {
    let c = ctx(b).await;
    let t0 = c.t.state.now();
    let ben = c.t.me("ben@patients.test").await;
    // Answered in time: closed, the timer leaves it alone.
    let on_time = c.proposed(16, 17, 15).await;
    answer_proposal(&c.t.state, &ben, on_time, true)
        .await
        .unwrap();
    assert_eq!(
        c.row(on_time).await,
        ("booked".into(), ny(17, 15), None, None, None)
    );
    // Answered late, before the timer ran: refused, nothing changes; the
    // timer then expires it.
    let late = c.proposed(18, 19, 15).await;
    let before =
        c.t.count(&format!(
            "SELECT version FROM appointment WHERE id = {late}"
        ))
        .await;
    c.advance_to(t0 + 50 * HOUR);
    let err = answer_proposal(&c.t.state, &ben, late, true)
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "This proposal expired at Fri, Mar 6, 10:00 AM; the appointment goes back to its original time, Wed, Mar 18, 10:00 AM, if that time is still free."
    );
    let err = answer_proposal(&c.t.state, &ben, late, false)
        .await
        .unwrap_err();
    assert!(
        err.message().starts_with("This proposal expired at"),
        "{err:?}"
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT version FROM appointment WHERE id = {late}"
        ))
        .await,
        before
    );
    assert_eq!(c.row(late).await.0, "pending");
    assert_eq!(c.expire_due().await, 1, "only the unanswered one");
    assert_eq!(
        c.row(on_time).await,
        ("booked".into(), ny(17, 15), None, None, None)
    );
    assert_eq!(
        c.row(late).await,
        ("booked".into(), ny(18, 10), None, None, None)
    );
    // A re-proposal of a pending one keeps the first original time and
    // gets a new deadline.
    let again = c.proposed(23, 24, 15).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let now = c.t.state.now();
    app::server::service::portal::patient_cancel(&c.t.state, &ben, again, "Maybe", false)
        .await
        .unwrap();
    let request_id =
        c.t.id(&format!(
            "SELECT id FROM request WHERE appointment_id = {again} AND status = 'pending'"
        ))
        .await;
    let reply = Reply {
        request_id,
        answer: ChangeAnswer::Propose,
        reason: "Another try".into(),
        message: String::new(),
        start_local: Some(
            NaiveDate::from_ymd_opt(2026, 3, 25)
                .unwrap()
                .and_hms_opt(11, 0, 0)
                .unwrap(),
        ),
    };
    answer(&c.t.state, &sched, reply).await.unwrap();
    assert_eq!(
        c.row(again).await,
        (
            "pending".into(),
            ny(25, 11),
            Some(now + 48 * HOUR),
            Some(ny(23, 10)),
            Some(sched.user_id)
        )
    );
}
both_dbs!(
    answered,
    an_answer_in_time_closes_the_proposal_and_a_late_one_changes_nothing
);

async fn settings_are_checked_and_audited(b: Backend) {
    let c = ctx(b).await;
    let admin = c.t.me("admin@northside.test").await;
    let sched = c.t.me("scheduler@northside.test").await;
    let harbour = c.t.me("admin@harbour.test").await;
    let s = settings(&c.t.state, &admin, c.north).await.unwrap();
    assert_eq!((s.expiry_hours, s.on_expiry.as_str()), (48, "restore"));
    let audits = "SELECT COUNT(*) FROM audit WHERE action = 'clinic.proposal_expiry'";
    for (hours, action) in [
        ("0", "restore"),
        ("337", "cancel"),
        ("abc", "cancel"),
        ("", "restore"),
        ("12", "delete"),
    ] {
        let e = save_settings(&c.t.state, &admin, c.north, hours, action)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Validation(_)),
            "{hours} {action}: {e:?}"
        );
        assert_eq!(e.status(), 400);
    }
    for who in [&sched, &harbour] {
        let e = save_settings(&c.t.state, who, c.north, "12", "cancel")
            .await
            .unwrap_err();
        assert_eq!(e.status(), 403, "{}: {e:?}", who.name);
        assert!(settings(&c.t.state, who, c.north).await.is_err());
    }
    let s = settings(&c.t.state, &admin, c.north).await.unwrap();
    assert_eq!(
        (s.expiry_hours, s.on_expiry.as_str()),
        (48, "restore"),
        "nothing changed"
    );
    assert_eq!(c.t.count(audits).await, 0);
    save_settings(&c.t.state, &admin, c.north, " 12 ", "cancel")
        .await
        .unwrap();
    let s = settings(&c.t.state, &admin, c.north).await.unwrap();
    assert_eq!((s.expiry_hours, s.on_expiry.as_str()), (12, "cancel"));
    assert_eq!(c.t.count(audits).await, 1);
}
both_dbs!(settings_checked, settings_are_checked_and_audited);

/// Two servers on one PostgreSQL database run their timers at once: each
/// proposal expires once (one audit entry, one email to each side).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_expire_each_proposal_once() {
    let c = ctx(Backend::Postgres).await;
    let other = c.t.restart().await;
    let t0 = c.t.state.now();
    let ids = [
        c.proposed(16, 17, 15).await,
        c.proposed(18, 19, 15).await,
        c.proposed(23, 24, 15).await,
    ];
    let mails = c.delivered().await;
    c.advance_to(t0 + 48 * HOUR);
    // Two timer passes on each instance, all at once.
    let passes: Vec<_> = [&c.t.state, &other, &c.t.state, &other]
        .into_iter()
        .map(|s| {
            let s = s.clone();
            tokio::spawn(async move { run_due(&s).await.unwrap().proposals })
        })
        .collect();
    let mut each = Vec::new();
    for p in passes {
        each.push(p.await.unwrap());
    }
    assert_eq!(each.iter().sum::<usize>(), 3, "{each:?}");
    for id in ids {
        assert_eq!(c.row(id).await.0, "booked");
        assert_eq!(
            c.t.count(&format!(
                "SELECT COUNT(*) FROM audit WHERE action = 'proposal.expire' AND entity_id = {id}"
            ))
            .await,
            1
        );
    }
    let sent = c.emails_since(mails).await;
    let count = |who: &str| {
        sent.iter()
            .filter(|(r, s, _)| r == who && s.contains("expired"))
            .count()
    };
    assert_eq!(count("ben@patients.test"), 3, "{sent:?}");
    assert_eq!(count("scheduler@northside.test"), 3, "{sent:?}");
    assert_eq!(count("dr.patel@northside.test"), 3, "{sent:?}");
    assert_eq!(sent.len(), 9, "{sent:?}");
}

/// Staff see by when the patient must answer an open proposal, in the
/// clinic's style, on Consultations ("Active and Pending") and in the
/// Bookings list (Tentative); an answered proposal shows no deadline.
async fn staff_lists_show_an_open_proposals_deadline(b: Backend) {
    use app::model::BookingStatusFilter;
    use app::server::service::bookings::{list, BookingQuery};
    let c = ctx(b).await;
    let id = c.proposed(16, 17, 15).await;
    let other = c.booking("ann@patients.test", 18, 11).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let rows = |status| {
        let (state, sched) = (c.t.state.clone(), sched.clone());
        async move {
            let q = BookingQuery {
                status,
                ..Default::default()
            };
            list(&state, &sched, q).await.unwrap().rows
        }
    };
    for filter in [BookingStatusFilter::Active, BookingStatusFilter::Tentative] {
        let listed = rows(filter).await;
        let row = listed.iter().find(|r| r.id == id).expect("listed");
        assert_eq!(row.status_label, "Tentative");
        // Proposed Wednesday 10:00 in New York, 48 hours to answer.
        assert_eq!(
            row.answer_by.as_deref(),
            Some("Patient to answer by Fri, Mar 6, 10:00 AM"),
            "{filter:?}"
        );
    }
    let listed = rows(BookingStatusFilter::Active).await;
    let booked = listed.iter().find(|r| r.id == other).expect("listed");
    assert_eq!(booked.answer_by, None, "no proposal, no deadline");

    // Accepted: the deadline is gone from the lists.
    let ben = c.t.me("ben@patients.test").await;
    answer_proposal(&c.t.state, &ben, id, true).await.unwrap();
    let listed = rows(BookingStatusFilter::Active).await;
    let row = listed.iter().find(|r| r.id == id).expect("listed");
    assert_eq!(
        (row.status_label.as_str(), row.answer_by.as_deref()),
        ("Upcoming", None)
    );
}
both_dbs!(
    staff_see_deadline,
    staff_lists_show_an_open_proposals_deadline
);
