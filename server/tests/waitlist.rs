//! The waitlist (issue 15, point 2) on both databases, with the manual
//! clock and the real test SMTP server: freed times are offered in order
//! of joining and move on after the claim window, or go to everyone at
//! once; of simultaneous claims exactly one books; bad joins and claims
//! are refused with nothing changed; which changes free a time.

mod common;

use app::domain::booking::{CancelForm, CancelReason};
use app::domain::role::Role;
use app::domain::waitlist::{DayParts, ALREADY_CLAIMED, TAKEN, WINDOW_ENDED};
use app::error::AppError;
use app::model::{Me, Membership};
use app::server::outbox::{deliver_due, Transports};
use app::server::service::appointments::{cancel, create, CancelScope, NewAppointment};
use app::server::service::waitlist::{claim, join, mine, remove, Join, HELD_FOR_BOOKING};
use app::server::timers::run_due;
use chrono::{Duration, NaiveDate, TimeZone};
use common::smtp::SmtpServer;
use common::{Backend, TestApp};

struct Ctx {
    t: TestApp,
    smtp: SmtpServer,
    transports: Transports,
    north: i64,
    patel: i64,
    video: i64,
    sched: Me,
}

async fn ctx(b: Backend) -> Ctx {
    let smtp = SmtpServer::start().await;
    let t = common::seeded_app(b, smtp.demo_config()).await;
    let transports = Transports::new(&t.state.config).unwrap();
    Ctx {
        north: t.id("SELECT id FROM clinic WHERE slug = 'northside'").await,
        patel: t
            .id("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'")
            .await,
        video: t
            .id("SELECT id FROM service WHERE name = 'Video consultation'")
            .await,
        sched: t.me("scheduler@northside.test").await,
        t,
        smtp,
        transports,
    }
}

/// 10:00 on a day of March 2026 in New York (Northside's zone), and local.
fn ny(day: u32, h: u32) -> i64 {
    chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 3, day, h, 0, 0)
        .unwrap()
        .timestamp()
}

fn local(day: u32, h: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, day)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

impl Ctx {
    /// A new patient of Northside (their session as the service sees it).
    async fn patient(&self, n: usize) -> Me {
        let email = format!("waiter{n}@patients.test");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (email, name, password_hash, created_at) VALUES ($1, $2, 'x', 0) RETURNING id",
        )
        .bind(&email)
        .bind(format!("Waiter {n}"))
        .fetch_one(&self.t.state.db.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, 'patient', 0)")
            .bind(id)
            .bind(self.north)
            .execute(&self.t.state.db.pool)
            .await
            .unwrap();
        Me {
            user_id: id,
            name: format!("Waiter {n}"),
            email,
            memberships: vec![Membership {
                clinic_id: self.north,
                clinic_name: "Northside Telehealth".into(),
                role: Role::Patient,
            }],
        }
    }

    /// Waits for any time with any provider, 9–13 March.
    fn wish(&self) -> Join {
        Join {
            clinic_id: self.north,
            service_id: self.video,
            provider_id: None,
            date_from: "2026-03-09".into(),
            date_to: "2026-03-13".into(),
            parts: DayParts::ALL,
        }
    }

    /// Books Dr Patel for `patient` (by the scheduler).
    async fn booking(&self, patient: i64, day: u32, h: u32) -> i64 {
        let new = NewAppointment {
            clinic_id: self.north,
            provider_id: self.patel,
            patient_id: patient,
            service_id: self.video,
            start_local: local(day, h),
            end_local: None,
            location: String::new(),
            invited: vec![],
            recurrence: None,
        };
        create(&self.t.state, &self.sched, new).await.unwrap().ids[0]
    }

    async fn staff_cancel(&self, id: i64) {
        let form = CancelForm {
            reason: Some(CancelReason::ProviderUnavailable),
            note: String::new(),
            message_to_patient: String::new(),
        };
        cancel(&self.t.state, &self.sched, id, CancelScope::ThisOnly, form)
            .await
            .unwrap();
    }

    async fn open_offers(&self, patient: i64) -> Vec<(i64, i64)> {
        sqlx::query_as(
            "SELECT id, starts_at FROM waitlist_offer WHERE patient_id = $1 AND status = 'open' ORDER BY id",
        )
        .bind(patient)
        .fetch_all(&self.t.state.db.pool)
        .await
        .unwrap()
    }

    /// Delivers every due message; returns (to, subject, text) of the mail
    /// received by the SMTP server since `from`.
    async fn mail_since(&self, from: usize) -> Vec<(String, String, String)> {
        while deliver_due(&self.t.state, &self.transports).await.unwrap() > 0 {}
        self.smtp.messages()[from..]
            .iter()
            .map(|r| {
                let m = mail_parser::MessageParser::default()
                    .parse(r.data.as_bytes())
                    .unwrap();
                (
                    r.to.join(",")
                        .trim_matches(|c| c == '<' || c == '>')
                        .to_string(),
                    m.subject().unwrap_or_default().to_string(),
                    m.body_text(0).unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

async fn a_freed_time_is_offered_in_order_and_moves_on_after_the_window(b: Backend) {
    let c = ctx(b).await;
    let (first, second, owner) = (c.patient(1).await, c.patient(2).await, c.patient(3).await);
    // The second to join is in the table first (a lower id), so order of
    // joining is not order of ids.
    let later = join(&c.t.state, &second, c.wish()).await.unwrap();
    let earlier = join(&c.t.state, &first, c.wish()).await.unwrap();
    sqlx::query("UPDATE waitlist_entry SET created_at = created_at + 60 WHERE id = $1")
        .bind(later)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    assert!(earlier > later);
    let appt = c.booking(owner.user_id, 10, 10).await;
    let sent = c.smtp.messages().len();
    c.staff_cancel(appt).await;

    let offers = c.open_offers(first.user_id).await;
    assert_eq!(
        offers.iter().map(|o| o.1).collect::<Vec<_>>(),
        vec![ny(10, 10)]
    );
    assert!(
        c.open_offers(second.user_id).await.is_empty(),
        "one at a time"
    );
    assert!(c.open_offers(owner.user_id).await.is_empty());
    let mail = c.mail_since(sent).await;
    let offer_mail: Vec<_> = mail
        .iter()
        .filter(|m| m.1.starts_with("A time is free"))
        .collect();
    assert_eq!(offer_mail.len(), 1, "{mail:?}");
    assert_eq!(offer_mail[0].0, first.email);
    assert_eq!(
        offer_mail[0].1,
        "A time is free at Northside Telehealth: Tue, Mar 10, 2026, 10:00 AM EDT"
    );
    // 10:00 EST now; the window is 30 minutes.
    assert!(
        offer_mail[0]
            .2
            .contains("Claim it by 10:30 AM in your portal: "),
        "{}",
        offer_mail[0].2
    );
    assert!(offer_mail[0].2.contains("/portal"));
    let listed = mine(&c.t.state, &first).await.unwrap();
    assert_eq!(listed.offers.len(), 1);
    assert_eq!(listed.offers[0].claim_by, "10:30 AM");
    assert_eq!(listed.entries.len(), 1);

    // Nothing moves before the window ends.
    c.t.clock.advance(Duration::minutes(29));
    assert_eq!(run_due(&c.t.state).await.unwrap().offers, 0);
    c.t.clock.advance(Duration::minutes(2));
    let sent = c.smtp.messages().len();
    assert_eq!(run_due(&c.t.state).await.unwrap().offers, 1);
    assert!(c.open_offers(first.user_id).await.is_empty());
    assert_eq!(c.open_offers(second.user_id).await.len(), 1, "moved on");
    let mail = c.mail_since(sent).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, second.email);

    // The first patient's window has ended: refused, nothing booked.
    let before = c.t.count("SELECT COUNT(*) FROM appointment").await;
    let late = claim(&c.t.state, &first, offers[0].0).await.unwrap_err();
    assert_eq!(late, AppError::Conflict(WINDOW_ENDED.into()));
    assert_eq!(c.t.count("SELECT COUNT(*) FROM appointment").await, before);

    // Nobody else waits: after the second window the time is not offered again.
    c.t.clock.advance(Duration::minutes(31));
    assert_eq!(run_due(&c.t.state).await.unwrap().offers, 1);
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM waitlist_offer WHERE status = 'open'")
            .await,
        0
    );
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM waitlist_offer WHERE status = 'expired'")
            .await,
        2
    );
}
both_dbs!(
    offered_in_turn,
    a_freed_time_is_offered_in_order_and_moves_on_after_the_window
);

async fn all_at_once_twenty_simultaneous_claims_book_exactly_once(b: Backend) {
    let c = ctx(b).await;
    sqlx::query("UPDATE clinic SET waitlist_mode = 'all_at_once' WHERE id = $1")
        .bind(c.north)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    let mut waiting = Vec::new();
    for n in 0..20 {
        let p = c.patient(n).await;
        join(&c.t.state, &p, c.wish()).await.unwrap();
        waiting.push(p);
    }
    let owner = c.patient(99).await;
    let appt = c.booking(owner.user_id, 11, 14).await;
    let sent = c.smtp.messages().len();
    c.staff_cancel(appt).await;
    let mut offered = Vec::new();
    for p in &waiting {
        let offers = c.open_offers(p.user_id).await;
        assert_eq!(offers.len(), 1, "everyone is offered the time");
        offered.push((p.clone(), offers[0].0));
    }
    // All at once, each from its own task.
    let mut tasks = Vec::new();
    for (p, offer) in offered {
        let state = c.t.state.clone();
        tasks.push(tokio::spawn(async move {
            (p.clone(), offer, claim(&state, &p, offer).await)
        }));
    }
    let mut won = Vec::new();
    let mut lost = Vec::new();
    for t in tasks {
        let (p, offer, r) = t.await.unwrap();
        match r {
            Ok(id) => won.push((p, offer, id)),
            Err(e) => lost.push((p, offer, e)),
        }
    }
    assert_eq!(won.len(), 1, "exactly one claim books");
    assert_eq!(lost.len(), 19);
    for (_, _, e) in &lost {
        assert_eq!(*e, AppError::Conflict(TAKEN.into()));
    }
    let (winner, offer, appt) = &won[0];
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE host_provider_id = {} AND starts_at = {} \
             AND status = 'booked' AND patient_id = {} AND id = {appt}",
            c.patel,
            ny(11, 14),
            winner.user_id
        ))
        .await,
        1
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE host_provider_id = {} AND starts_at = {} AND status <> 'cancelled'",
            c.patel,
            ny(11, 14)
        ))
        .await,
        1
    );
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM waitlist_offer WHERE status = 'claimed'")
            .await,
        1
    );
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM waitlist_offer WHERE status = 'taken'")
            .await,
        19
    );
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM waitlist_entry WHERE status = 'booked'")
            .await,
        1
    );
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM waitlist_entry WHERE status = 'waiting'")
            .await,
        19
    );

    // Claiming again, a lost offer again, another patient's offer: refused,
    // nothing changes.
    let before = c.t.count("SELECT COUNT(*) FROM appointment").await;
    assert_eq!(
        claim(&c.t.state, winner, *offer).await.unwrap_err(),
        AppError::Conflict(ALREADY_CLAIMED.into())
    );
    let (loser, lost_offer, _) = &lost[0];
    assert_eq!(
        claim(&c.t.state, loser, *lost_offer).await.unwrap_err(),
        AppError::Conflict(TAKEN.into())
    );
    assert!(matches!(
        claim(&c.t.state, loser, *offer).await,
        Err(AppError::NotFound(_))
    ));
    assert_eq!(c.t.count("SELECT COUNT(*) FROM appointment").await, before);

    // Everyone was emailed the offer; the winner also their booking.
    let mail = c.mail_since(sent).await;
    let offers = mail
        .iter()
        .filter(|m| m.1.starts_with("A time is free"))
        .count();
    assert_eq!(offers, 20);
    let to_winner: Vec<_> = mail.iter().filter(|m| m.0 == winner.email).collect();
    assert_eq!(to_winner.len(), 2, "{to_winner:?}");
    assert!(to_winner.iter().any(|m| !m.1.starts_with("A time is free")));
}
both_dbs!(
    all_at_once_claims,
    all_at_once_twenty_simultaneous_claims_book_exactly_once
);

async fn joining_is_checked_and_refusals_change_nothing(b: Backend) {
    let c = ctx(b).await;
    let p = c.patient(1).await;
    let other = c.patient(2).await;
    let id = join(&c.t.state, &p, c.wish()).await.unwrap();
    let count = || c.t.count("SELECT COUNT(*) FROM waitlist_entry");
    let expect = |r: Result<i64, AppError>, status: u16, words: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.status(), status, "{e:?}");
        assert!(e.message().contains(words), "{e:?}");
    };
    expect(
        join(&c.t.state, &p, c.wish()).await,
        409,
        "already on this waitlist",
    );
    let past = Join {
        date_from: "2026-03-01".into(),
        date_to: "2026-03-03".into(),
        ..c.wish()
    };
    expect(join(&c.t.state, &p, past).await, 400, "in the past");
    // Northside takes bookings 90 days ahead: up to 2 June.
    let far = Join {
        date_to: "2026-06-03".into(),
        ..c.wish()
    };
    expect(join(&c.t.state, &p, far).await, 400, "up to 90 days ahead");
    let no_time = Join {
        parts: DayParts::default(),
        ..c.wish()
    };
    expect(join(&c.t.state, &p, no_time).await, 400, "time of day");
    let harbour_service = c
        .t
        .id("SELECT s.id FROM service s JOIN clinic c ON c.id = s.clinic_id WHERE c.slug = 'harbour' LIMIT 1")
        .await;
    let elsewhere = Join {
        service_id: harbour_service,
        provider_id: Some(c.patel),
        ..c.wish()
    };
    expect(
        join(&c.t.state, &other, elsewhere).await,
        400,
        "this clinic's services",
    );
    let nguyen =
        c.t.id("SELECT id FROM app_user WHERE email = 'dr.nguyen@harbour.test'")
            .await;
    let not_ours = Join {
        provider_id: Some(nguyen),
        ..c.wish()
    };
    expect(
        join(&c.t.state, &other, not_ours).await,
        400,
        "this clinic's providers",
    );
    expect(
        join(
            &c.t.state,
            &p,
            Join {
                date_from: "10/3/2026".into(),
                ..c.wish()
            },
        )
        .await,
        400,
        "YYYY-MM-DD",
    );
    assert_eq!(count().await, 1, "refusals wrote nothing");
    // The same service with one provider is another wish.
    join(
        &c.t.state,
        &p,
        Join {
            provider_id: Some(c.patel),
            ..c.wish()
        },
    )
    .await
    .unwrap();

    // Only the patient (or the clinic's staff) removes an entry.
    assert!(matches!(
        remove(&c.t.state, &other, id).await,
        Err(AppError::NotFound(_))
    ));
    let dr = c.t.me("dr.lee@northside.test").await;
    assert!(matches!(
        remove(&c.t.state, &dr, id).await,
        Err(AppError::NotFound(_))
    ));
    remove(&c.t.state, &p, id).await.unwrap();
    assert_eq!(remove(&c.t.state, &p, id).await.unwrap_err().status(), 409);
    join(&c.t.state, &p, c.wish()).await.unwrap();
    assert_eq!(mine(&c.t.state, &p).await.unwrap().entries.len(), 2);
}
both_dbs!(join_checks, joining_is_checked_and_refusals_change_nothing);

async fn which_changes_free_a_time(b: Backend) {
    use app::domain::request::ChangeAnswer::Propose;
    use app::model::ChangeOutcome;
    use app::server::service::appointments::{reschedule, Move, RescheduleScope};
    use app::server::service::change_requests::{answer, Reply};
    use app::server::service::portal::{answer_proposal, patient_reschedule};
    let c = ctx(b).await;
    let waiter = c.patient(1).await;
    let owner = c.patient(2).await;
    join(&c.t.state, &waiter, c.wish()).await.unwrap();
    let offered = |at: i64| {
        let c = &c;
        let who = waiter.user_id;
        async move {
            c.t.count(&format!(
                "SELECT COUNT(*) FROM waitlist_offer WHERE patient_id = {who} AND starts_at = {at}"
            ))
            .await
        }
    };

    // Staff move an appointment away: its old time is offered.
    let moved = c.booking(owner.user_id, 10, 10).await;
    let to = Move {
        appointment_id: moved,
        start_local: local(10, 15),
        location: String::new(),
        scope: RescheduleScope::ThisOnly,
    };
    reschedule(&c.t.state, &c.sched, to).await.unwrap();
    assert_eq!(
        offered(ny(10, 10)).await,
        1,
        "a reschedule away frees the time"
    );
    assert_eq!(offered(ny(10, 15)).await, 0);

    // A proposal: the clinic proposes 15:00 instead of 10:00 on the 12th.
    sqlx::query("UPDATE clinic SET late_change_needs_approval = 1 WHERE id = $1")
        .bind(c.north)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    let propose = |day: u32| {
        let c = &c;
        let owner = owner.clone();
        async move {
            let id = c.booking(owner.user_id, day, 10).await;
            let asked = patient_reschedule(&c.t.state, &owner, id, ny(day, 14), "", false)
                .await
                .unwrap();
            let ChangeOutcome::Requested { request_id, .. } = asked else {
                panic!("expected a request, got {asked:?}");
            };
            let reply = Reply {
                request_id,
                answer: Propose,
                reason: "The doctor is away then".into(),
                message: String::new(),
                start_local: Some(local(day, 15)),
            };
            answer(&c.t.state, &c.sched, reply).await.unwrap();
            id
        }
    };
    let declined = propose(12).await;
    assert_eq!(offered(ny(12, 10)).await, 0, "a new proposal frees nothing");
    assert_eq!(offered(ny(12, 15)).await, 0);
    // The patient declines it: the proposed and the original time are free.
    answer_proposal(&c.t.state, &owner, declined, false)
        .await
        .unwrap();
    assert_eq!(offered(ny(12, 15)).await, 1, "the declined proposal's time");
    assert_eq!(offered(ny(12, 10)).await, 1, "the time it replaced");

    // Approving a proposal frees nothing.
    let approved = propose(13).await;
    answer_proposal(&c.t.state, &owner, approved, true)
        .await
        .unwrap();
    assert_eq!(offered(ny(13, 10)).await + offered(ny(13, 15)).await, 0);
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM waitlist_offer").await,
        3,
        "no offer to the patient who gave a time up"
    );

    // A claim books the freed time (here the reschedule's old one).
    let (offer, _) = c.open_offers(waiter.user_id).await[0];
    let appt = claim(&c.t.state, &waiter, offer).await.unwrap();
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {appt} AND starts_at = {} AND patient_id = {}",
            ny(10, 10),
            waiter.user_id
        ))
        .await,
        1
    );
    // The entry is booked: its other offers are withdrawn.
    assert!(c.open_offers(waiter.user_id).await.is_empty());
    assert!(mine(&c.t.state, &waiter).await.unwrap().entries.is_empty());
}
both_dbs!(freeing_changes, which_changes_free_a_time);

async fn staff_see_the_waitlist_offer_by_hand_remove_and_set_the_mode(b: Backend) {
    use app::domain::waitlist::OfferMode;
    use app::server::service::waitlist::{board, offer_manually, offer_times, save_settings};
    let c = ctx(b).await;
    let (first, second) = (c.patient(1).await, c.patient(2).await);
    let e1 = join(&c.t.state, &first, c.wish()).await.unwrap();
    c.t.clock.advance(Duration::minutes(1));
    let for_patel = Join {
        provider_id: Some(c.patel),
        ..c.wish()
    };
    let e2 = join(&c.t.state, &second, for_patel).await.unwrap();

    let listed = board(&c.t.state, &c.sched, None).await.unwrap();
    assert_eq!(listed.clinic_id, c.north);
    assert_eq!(
        listed.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e1, e2],
        "in order of joining"
    );
    assert_eq!(listed.entries[1].provider, "Dr. Priya Patel");
    assert!(!listed.can_edit_settings, "a scheduler");
    let lee = c.t.me("dr.lee@northside.test").await;
    let harbour = c.t.me("admin@harbour.test").await;
    for who in [&lee, &harbour] {
        assert!(matches!(
            board(&c.t.state, who, Some(c.north)).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            offer_times(&c.t.state, who, e2).await,
            Err(AppError::NotFound(_))
        ));
    }

    // Offer by hand: one of the entry's free times with its provider.
    let times = offer_times(&c.t.state, &c.sched, e2).await.unwrap();
    assert!(!times.is_empty());
    assert!(times.iter().all(|t| t.provider_id == c.patel));
    assert!(times
        .iter()
        .all(|t| t.start >= ny(9, 0) && t.start < ny(14, 0)));
    let pick = &times[0];
    let sent = c.smtp.messages().len();
    let bogus = offer_manually(&c.t.state, &c.sched, e2, c.patel, pick.start + 420).await;
    assert_eq!(bogus.unwrap_err().status(), 409);
    offer_manually(&c.t.state, &c.sched, e2, c.patel, pick.start)
        .await
        .unwrap();
    let again = offer_manually(&c.t.state, &c.sched, e2, c.patel, pick.start).await;
    assert!(again
        .unwrap_err()
        .message()
        .contains("already been offered"));
    assert_eq!(
        c.open_offers(second.user_id).await,
        vec![(
            c.t.id("SELECT MAX(id) FROM waitlist_offer").await,
            pick.start
        )]
    );
    let mail = c.mail_since(sent).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, second.email);

    // Remove: the entry leaves the list, and the patient's list.
    remove(&c.t.state, &c.sched, e1).await.unwrap();
    let listed = board(&c.t.state, &c.sched, None).await.unwrap();
    assert_eq!(
        listed.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e2]
    );
    assert_eq!(listed.offers.len(), 1);
    assert!(mine(&c.t.state, &first).await.unwrap().entries.is_empty());

    // Settings: admins only, a window within 5..1440 minutes.
    let admin = c.t.me("admin@northside.test").await;
    assert!(matches!(
        save_settings(&c.t.state, &c.sched, c.north, OfferMode::AllAtOnce, 45).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        save_settings(&c.t.state, &admin, c.north, OfferMode::AllAtOnce, 2).await,
        Err(AppError::Validation(_))
    ));
    save_settings(&c.t.state, &admin, c.north, OfferMode::AllAtOnce, 45)
        .await
        .unwrap();
    let listed = board(&c.t.state, &admin, None).await.unwrap();
    assert!(listed.can_edit_settings);
    assert_eq!(
        (listed.mode, listed.claim_minutes),
        (OfferMode::AllAtOnce, 45)
    );

    // Once its last date has passed an entry is no longer in the queue,
    // and its patient sees it ended (even before the timers mark it).
    c.t.clock.advance(Duration::days(10));
    assert!(board(&c.t.state, &admin, None)
        .await
        .unwrap()
        .entries
        .is_empty());
    let theirs = mine(&c.t.state, &second).await.unwrap().entries;
    assert_eq!(theirs.len(), 1);
    assert!(theirs[0].ended.is_some());
}
both_dbs!(
    staff_board,
    staff_see_the_waitlist_offer_by_hand_remove_and_set_the_mode
);

async fn two_instances_move_an_expired_offer_on_once(b: Backend) {
    let c = ctx(b).await;
    let (first, second, third, owner) = (
        c.patient(1).await,
        c.patient(2).await,
        c.patient(3).await,
        c.patient(4).await,
    );
    for p in [&first, &second, &third] {
        join(&c.t.state, p, c.wish()).await.unwrap();
        c.t.clock.advance(Duration::seconds(1));
    }
    let appt = c.booking(owner.user_id, 10, 11).await;
    c.staff_cancel(appt).await;
    assert_eq!(c.open_offers(first.user_id).await.len(), 1);
    let other = c.t.restart().await;
    c.t.clock.advance(Duration::minutes(31));
    let (a, b2) = tokio::join!(run_due(&c.t.state), run_due(&other));
    assert_eq!(a.unwrap().offers + b2.unwrap().offers, 1, "ended once");
    assert_eq!(
        c.open_offers(second.user_id).await.len(),
        1,
        "moved on once"
    );
    assert!(c.open_offers(third.user_id).await.is_empty());
    assert_eq!(c.t.count("SELECT COUNT(*) FROM waitlist_offer").await, 2);
}
both_dbs!(two_instances, two_instances_move_an_expired_offer_on_once);

/// Sets the manual clock to a New York wall-clock time in March 2026.
fn at_ny(c: &Ctx, day: u32, h: u32, m: u32) {
    let t = chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 3, day, h, m, 0)
        .unwrap();
    c.t.clock.set(t.with_timezone(&chrono::Utc));
}

async fn status_of(c: &Ctx, entry: i64) -> (String, Option<i64>) {
    sqlx::query_as("SELECT status, closed_at FROM waitlist_entry WHERE id = $1")
        .bind(entry)
        .fetch_one(&c.t.state.db.pool)
        .await
        .unwrap()
}

/// An entry whose last date has passed in the clinic's zone (not UTC's)
/// is ended by the timers, once across two instances: it leaves the staff
/// queue for "ended", the patient sees it ended (for two weeks), nothing
/// can be offered to it, and the patient may join again.
async fn an_entry_past_its_last_date_is_ended_once_by_the_timers(b: Backend) {
    use app::server::service::waitlist::{board, offer_manually, offer_times};
    let c = ctx(b).await;
    let (first, second) = (c.patient(1).await, c.patient(2).await);
    let e1 = join(&c.t.state, &first, c.wish()).await.unwrap();
    let later = Join {
        date_to: "2026-03-20".into(),
        ..c.wish()
    };
    let e2 = join(&c.t.state, &second, later).await.unwrap();
    assert_eq!(run_due(&c.t.state).await.unwrap().waitlist_ended, 0);

    // 23:30 on the 13th in New York is already the 14th in UTC: not yet.
    at_ny(&c, 13, 23, 30);
    assert_eq!(run_due(&c.t.state).await.unwrap().waitlist_ended, 0);
    assert_eq!(status_of(&c, e1).await, ("waiting".into(), None));

    // Past midnight in New York: two instances end it once.
    at_ny(&c, 14, 0, 30);
    let other = c.t.restart().await;
    let (a, b2) = tokio::join!(run_due(&c.t.state), run_due(&other));
    assert_eq!(
        a.unwrap().waitlist_ended + b2.unwrap().waitlist_ended,
        1,
        "ended once"
    );
    assert_eq!(
        status_of(&c, e1).await,
        ("expired".into(), Some(c.t.state.now()))
    );
    assert_eq!(status_of(&c, e2).await.0, "waiting");
    assert_eq!(run_due(&c.t.state).await.unwrap().waitlist_ended, 0);
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE action = 'waitlist.expire' AND entity_id = {e1} \
             AND actor_id IS NULL"
        ))
        .await,
        1
    );

    // Staff: out of the queue, listed as ended; nothing can be offered.
    let listed = board(&c.t.state, &c.sched, None).await.unwrap();
    assert_eq!(
        listed.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e2]
    );
    assert_eq!(
        listed.ended.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e1]
    );
    assert!(matches!(
        offer_times(&c.t.state, &c.sched, e1).await,
        Err(AppError::Conflict(_))
    ));
    let any = ny(16, 10);
    assert!(matches!(
        offer_manually(&c.t.state, &c.sched, e1, c.patel, any).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        remove(&c.t.state, &first, e1).await,
        Err(AppError::Conflict(_))
    ));

    // The patient sees it ended, with its last date in the clinic's style.
    let theirs = mine(&c.t.state, &first).await.unwrap().entries;
    assert_eq!(theirs.len(), 1);
    assert_eq!(
        theirs[0].ended.as_deref(),
        Some("No time came up by Fri, Mar 13, 2026.")
    );
    assert_eq!(
        mine(&c.t.state, &second).await.unwrap().entries[0].ended,
        None
    );

    // It no longer blocks joining again; after two weeks it is not listed.
    let again = Join {
        date_from: "2026-03-16".into(),
        date_to: "2026-03-27".into(),
        ..c.wish()
    };
    let e3 = join(&c.t.state, &first, again).await.unwrap();
    c.t.clock.advance(Duration::days(15));
    let theirs = mine(&c.t.state, &first).await.unwrap().entries;
    assert_eq!(theirs.iter().map(|e| e.id).collect::<Vec<_>>(), vec![e3]);
}
both_dbs!(
    past_last_date,
    an_entry_past_its_last_date_is_ended_once_by_the_timers
);

/// Holds `[start, +30 min)` of Dr Patel for `patient` through the FHIR
/// API's `$hold` (as the scheduler, who books for Dr Patel): the time the
/// engine proposes there, with the patient as a participant.
async fn hold(c: &Ctx, patient: i64, start: i64) {
    use app::domain::fhir::{Bounds, Inputs};
    use app::server::service::fhir::{holds, Caller, SlotQuery};
    let caller = Caller::User(c.sched.clone());
    let q = SlotQuery {
        service_id: c.video,
        schedule: None,
        provider: Some(c.patel),
        start: Bounds {
            from: Some(start),
            to: Some(start + 1),
        },
    };
    let found = holds::find(&c.t.state, &caller, &q, Some(patient))
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "the time is free to hold: {found:?}");
    let inputs = Inputs {
        values: vec![],
        resources: vec![("appointment-resource".into(), found[0].clone())],
    };
    holds::hold(&c.t.state, &caller, &inputs).await.unwrap();
}

/// A time held through the FHIR API is not the waitlist's to give: a claim
/// of it is refused saying it is being booked (the offer stays open,
/// nothing is booked), and when the offer's window ends while the hold
/// lasts the next patient is not offered it.
async fn a_held_time_is_not_offered_and_its_claim_says_why(b: Backend) {
    let c = ctx(b).await;
    let (first, second, owner) = (c.patient(1).await, c.patient(2).await, c.patient(3).await);
    join(&c.t.state, &first, c.wish()).await.unwrap();
    sqlx::query("UPDATE waitlist_entry SET created_at = created_at - 60")
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    join(&c.t.state, &second, c.wish()).await.unwrap();
    let appt = c.booking(owner.user_id, 10, 10).await;
    c.staff_cancel(appt).await;
    let offers = c.open_offers(first.user_id).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].1, ny(10, 10));

    // Near the end of the first window an integrator holds the time.
    c.t.clock.advance(Duration::minutes(28));
    hold(&c, owner.user_id, ny(10, 10)).await;
    let before = c.t.count("SELECT COUNT(*) FROM appointment").await;
    let refused = claim(&c.t.state, &first, offers[0].0).await.unwrap_err();
    assert_eq!(refused, AppError::Conflict(HELD_FOR_BOOKING.into()));
    assert_ne!(refused, AppError::Conflict(TAKEN.into()));
    assert_eq!(c.t.count("SELECT COUNT(*) FROM appointment").await, before);
    assert_eq!(c.open_offers(first.user_id).await, offers, "still open");

    // The window ends while the hold lasts: the time is not passed on.
    c.t.clock.advance(Duration::minutes(3));
    let sent = c.smtp.messages().len();
    assert_eq!(run_due(&c.t.state).await.unwrap().offers, 1);
    assert!(c.open_offers(first.user_id).await.is_empty());
    assert!(
        c.open_offers(second.user_id).await.is_empty(),
        "a held time is not offered"
    );
    let mail = c.mail_since(sent).await;
    assert!(!mail.iter().any(|m| m.0 == second.email), "{mail:?}");
}
both_dbs!(
    held_not_offered,
    a_held_time_is_not_offered_and_its_claim_says_why
);
