//! Service-layer integration tests, each run on SQLite and on PostgreSQL.

mod common;

use app::domain::live::topic;
use app::domain::pms::PmsAction;
use app::domain::request::RequestMode;
use app::error::AppError;
use app::model::Me;
use app::server::auth::load_memberships;
use app::server::events::BusMessage;
use app::server::notify::pms;
use app::server::service::accounts::{login, register_patient, Registration};
use app::server::service::requests::{self, dispatch_board, pending_counts, NewRequest};
use app::server::service::{calendar_feed, clinic_settings};
use app::server::service::{Audit, Change};
use app::server::state::AppState;
use common::{demo_app, Backend, TestApp};
use std::time::Duration;

/// A Now request answering the demo clinics' form.
async fn request_session_now(
    state: &AppState,
    me: &Me,
    clinic: i64,
    service: i64,
    note: &str,
) -> Result<i64, AppError> {
    let new = NewRequest {
        clinic_id: clinic,
        service_id: service,
        mode: RequestMode::Now,
        provider_id: None,
        times: vec![],
        answers: vec!["A sore throat".into()],
        note: note.into(),
    };
    requests::create(state, me, new).await
}

const CORE_TABLES: [&str; 16] = [
    "clinic",
    "app_user",
    "membership",
    "user_session",
    "service",
    "availability_rule",
    "availability_exception",
    "on_demand",
    "series",
    "appointment",
    "participant",
    "request",
    "notification_preference",
    "outbox",
    "audit",
    "_sqlx_migrations",
];

async fn northside(t: &TestApp) -> i64 {
    t.id("SELECT id FROM clinic WHERE slug = 'northside'").await
}
async fn harbour(t: &TestApp) -> i64 {
    t.id("SELECT id FROM clinic WHERE slug = 'harbour'").await
}
async fn service_named(t: &TestApp, name: &str) -> i64 {
    t.id(&format!("SELECT id FROM service WHERE name = '{name}'"))
        .await
}

async fn migrations_create_the_core_schema(b: Backend) {
    let t = common::app_on(common::fresh_database(b).await, Default::default()).await;
    for table in CORE_TABLES {
        assert_eq!(
            t.count(&format!("SELECT COUNT(*) FROM {table} WHERE 1 = 0"))
                .await,
            0,
            "{table}"
        );
    }
    // Running them again (a restart) changes nothing.
    t.state.db.migrate().await.expect("re-run migrations");
}
both_dbs!(migrations, migrations_create_the_core_schema);

async fn demo_data_is_complete_and_consistent(b: Backend) {
    let t = demo_app(b).await;
    assert_eq!(t.count("SELECT COUNT(*) FROM clinic").await, 2);
    assert_eq!(t.count("SELECT COUNT(*) FROM app_user").await, 9);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM membership WHERE role = 'provider'")
            .await,
        4
    );
    assert!(t.count("SELECT COUNT(*) FROM service").await >= 4);
    assert_eq!(
        t.count("SELECT COUNT(DISTINCT provider_id) FROM availability_rule")
            .await,
        4
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM appointment WHERE series_id IS NOT NULL")
            .await,
        8
    );
    let now = t.state.now();
    assert!(
        t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE starts_at < {now}"
        ))
        .await
            > 0
    );
    assert!(
        t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE starts_at > {now}"
        ))
        .await
            > 0
    );
    assert!(t.count("SELECT COUNT(*) FROM participant").await > 0);
    assert!(
        t.count("SELECT COUNT(*) FROM request WHERE status = 'pending'")
            .await
            >= 3
    );
    // The demo obeys the no-double-booking rule.
    let overlaps = t
        .count(
            "SELECT COUNT(*) FROM appointment a JOIN appointment b ON a.host_provider_id = b.host_provider_id \
             AND a.id < b.id AND a.status <> 'cancelled' AND b.status <> 'cancelled' \
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at",
        )
        .await;
    assert_eq!(overlaps, 0);
    // Every coming booked appointment has its reminders scheduled, none
    // for a moment already past, none for anything else.
    let unreminded = t
        .count(&format!(
            "SELECT COUNT(*) FROM appointment a WHERE a.status = 'booked' AND a.starts_at > {now} \
             AND NOT EXISTS (SELECT 1 FROM reminder r WHERE r.appointment_id = a.id)"
        ))
        .await;
    assert_eq!(unreminded, 0);
    assert!(t.count("SELECT COUNT(*) FROM reminder").await > 0);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM reminder r JOIN appointment a ON a.id = r.appointment_id \
             WHERE r.due_at <= {now} OR a.status NOT IN ('booked', 'pending')"
        ))
        .await,
        0
    );
    // Loading again into a non-empty database does nothing.
    assert!(!app::server::demo::seed_if_empty(&t.state).await.unwrap());
    assert_eq!(t.count("SELECT COUNT(*) FROM clinic").await, 2);
}
both_dbs!(demo_data, demo_data_is_complete_and_consistent);

async fn login_accepts_the_right_password_only(b: Backend) {
    let t = demo_app(b).await;
    let ok = login(
        &t.state,
        " Dr.Lee@Northside.test ",
        "slotwise-demo",
        "a",
        "ua",
    )
    .await
    .unwrap();
    assert!(!ok.token.is_empty());
    assert_eq!(t.count("SELECT COUNT(*) FROM user_session").await, 1);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit WHERE action = 'session.login'")
            .await,
        1
    );

    let wrong = login(&t.state, "dr.lee@northside.test", "nope-nope", "a", "ua").await;
    assert_eq!(
        wrong.err(),
        Some(AppError::Unauthorized(
            "Email or password is incorrect.".into()
        ))
    );
    let unknown = login(
        &t.state,
        "nobody@northside.test",
        "slotwise-demo",
        "a",
        "ua",
    )
    .await;
    assert_eq!(
        unknown.err(),
        Some(AppError::Unauthorized(
            "Email or password is incorrect.".into()
        ))
    );
    assert!(matches!(
        login(&t.state, "", "x", "a", "ua").await,
        Err(AppError::Validation(_))
    ));
    assert!(matches!(
        login(&t.state, "a@b.test", "", "a", "ua").await,
        Err(AppError::Validation(_))
    ));
    assert_eq!(
        t.count("SELECT COUNT(*) FROM user_session").await,
        1,
        "failures create no session"
    );
}
both_dbs!(login_rules, login_accepts_the_right_password_only);

async fn login_is_rate_limited_per_account(b: Backend) {
    let t = demo_app(b).await;
    for _ in 0..5 {
        let r = login(
            &t.state,
            "ann@patients.test",
            "wrong-password",
            "1.2.3.4",
            "ua",
        )
        .await;
        assert!(matches!(r, Err(AppError::Unauthorized(_))));
    }
    // Even the right password is refused while the account is locked.
    let locked = login(
        &t.state,
        "ann@patients.test",
        "slotwise-demo",
        "5.6.7.8",
        "ua",
    )
    .await;
    match locked {
        Err(AppError::RateLimited(m)) => assert!(m.contains("Try again in 15 minutes"), "{m}"),
        other => panic!("expected rate limit, got {:?}", other.err()),
    }
    // Other accounts are unaffected.
    assert!(login(
        &t.state,
        "ben@patients.test",
        "slotwise-demo",
        "5.6.7.8",
        "ua"
    )
    .await
    .is_ok());
    // After the window the account opens again.
    t.clock.advance(chrono::Duration::minutes(15));
    assert!(login(
        &t.state,
        "ann@patients.test",
        "slotwise-demo",
        "1.2.3.4",
        "ua"
    )
    .await
    .is_ok());
}
both_dbs!(login_rate_limit, login_is_rate_limited_per_account);

/// 100 parallel wrong guesses: exactly the limit (5) are checked against
/// the password, whatever the timing (the check used to come before the
/// slow hash and the count after it, so a burst got nearly all through).
/// The right password after them is refused until the window ends.
async fn a_parallel_burst_of_guesses_checks_at_most_the_limit(b: Backend) {
    let t = demo_app(b).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let state = t.state.clone();
        // Distinct addresses: only the per-account limit is in play.
        let addr = format!("10.0.{}.{}", i / 250, i % 250);
        tasks.push(tokio::spawn(async move {
            login(&state, "ann@patients.test", "wrong-password", &addr, "ua").await
        }));
    }
    let (mut checked, mut limited) = (0, 0);
    for task in tasks {
        match task.await.expect("login task") {
            Err(AppError::Unauthorized(_)) => checked += 1,
            Err(AppError::RateLimited(_)) => limited += 1,
            other => panic!("unexpected answer: {:?}", other.err()),
        }
    }
    assert_eq!((checked, limited), (5, 95), "checked, refused");
    let right = login(
        &t.state,
        "ann@patients.test",
        "slotwise-demo",
        "10.9.9.9",
        "ua",
    )
    .await;
    assert!(
        matches!(right, Err(AppError::RateLimited(_))),
        "{:?}",
        right.err()
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM user_session").await, 0);
    t.clock.advance(chrono::Duration::minutes(15));
    assert!(login(
        &t.state,
        "ann@patients.test",
        "slotwise-demo",
        "10.9.9.9",
        "ua"
    )
    .await
    .is_ok());
}
both_dbs!(
    login_burst_limit,
    a_parallel_burst_of_guesses_checks_at_most_the_limit
);

/// The count lives in the database: a restarted server (a new state on the
/// same database) remembers it.
async fn the_login_limit_survives_a_restart(b: Backend) {
    let t = demo_app(b).await;
    for _ in 0..5 {
        let r = login(
            &t.state,
            "ben@patients.test",
            "wrong-password",
            "1.2.3.4",
            "ua",
        )
        .await;
        assert!(matches!(r, Err(AppError::Unauthorized(_))));
    }
    let restarted = t.restart().await;
    let r = login(
        &restarted,
        "ben@patients.test",
        "slotwise-demo",
        "1.2.3.4",
        "ua",
    )
    .await;
    assert!(matches!(r, Err(AppError::RateLimited(_))), "{:?}", r.err());
}
both_dbs!(login_limit_restart, the_login_limit_survives_a_restart);

/// Self-registration is limited per address; other addresses are not.
async fn registrations_are_limited_per_address(b: Backend) {
    let t = demo_app(b).await;
    let clinic = northside(&t).await;
    let max = t.state.config.register_max_per_hour as usize;
    let reg = |i: usize| Registration {
        name: format!("Patient {i}"),
        email: format!("burst-{i}@patients.test"),
        password: "long enough!".into(),
        clinic_id: clinic,
    };
    let mut tasks = Vec::new();
    for i in 0..max + 10 {
        let state = t.state.clone();
        let r = reg(i);
        tasks.push(tokio::spawn(async move {
            register_patient(&state, r, "7.7.7.7", "ua").await
        }));
    }
    let (mut made, mut limited) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => made += 1,
            Err(AppError::RateLimited(m)) => {
                assert!(m.starts_with("Too many new accounts"), "{m}");
                limited += 1
            }
            Err(e) => panic!("unexpected: {e:?}"),
        }
    }
    assert_eq!((made, limited), (max, 10));
    assert!(register_patient(&t.state, reg(999), "7.7.7.8", "ua")
        .await
        .is_ok());
    t.clock.advance(chrono::Duration::minutes(60));
    assert!(register_patient(&t.state, reg(1000), "7.7.7.7", "ua")
        .await
        .is_ok());
}
both_dbs!(register_limit, registrations_are_limited_per_address);

async fn sessions_expire_when_idle_and_at_their_lifetime(b: Backend) {
    let t = demo_app(b).await;
    let (token, _) = t.session("dr.lee@northside.test").await;
    let policy = t.state.config.session;
    let resolve = |tok: String| {
        let state = t.state.clone();
        async move {
            app::server::auth::resolve_session(&state.db, &state.config.session, &tok, state.now())
                .await
                .unwrap()
        }
    };
    // Active every 20 minutes: stays logged in...
    for _ in 0..(policy.absolute_secs / 1200 - 1) {
        t.clock.advance(chrono::Duration::minutes(20));
        assert!(resolve(token.clone()).await.is_some());
    }
    // ...until the absolute lifetime ends it.
    t.clock.advance(chrono::Duration::minutes(20));
    assert!(resolve(token.clone()).await.is_none());
    assert_eq!(
        t.count("SELECT COUNT(*) FROM user_session").await,
        0,
        "expired sessions are deleted"
    );

    let (token2, _) = t.session("dr.lee@northside.test").await;
    t.clock.advance(chrono::Duration::minutes(29));
    assert!(resolve(token2.clone()).await.is_some());
    t.clock.advance(chrono::Duration::minutes(30));
    assert!(
        resolve(token2).await.is_none(),
        "30 idle minutes end a session"
    );
}
both_dbs!(
    session_timeouts,
    sessions_expire_when_idle_and_at_their_lifetime
);

async fn patients_register_and_mistakes_change_nothing(b: Backend) {
    let t = demo_app(b).await;
    let clinic = northside(&t).await;
    let users = t.count("SELECT COUNT(*) FROM app_user").await;
    let reg = |name: &str, email: &str, password: &str, clinic_id: i64| Registration {
        name: name.into(),
        email: email.into(),
        password: password.into(),
        clinic_id,
    };
    for (r, want) in [
        (
            reg("", "new@patients.test", "long enough!", clinic),
            "Enter your name.",
        ),
        (
            reg("Nia", "not-an-email", "long enough!", clinic),
            "Enter a valid email address, like name@example.com.",
        ),
        (
            reg("Nia", "new@patients.test", "short", clinic),
            "Choose a password of at least 10 characters.",
        ),
        (
            reg("Nia", "new@patients.test", "long enough!", 999_999),
            "Choose the clinic you want to book with.",
        ),
    ] {
        let err = register_patient(&t.state, r, "9.9.9.9", "ua")
            .await
            .err()
            .expect("refused");
        assert_eq!(err, AppError::Validation(want.into()));
    }
    let dup = register_patient(
        &t.state,
        reg("Ann", "ANN@patients.test", "long enough!", clinic),
        "9.9.9.9",
        "ua",
    )
    .await;
    assert!(matches!(dup, Err(AppError::Conflict(_))));
    assert_eq!(
        t.count("SELECT COUNT(*) FROM app_user").await,
        users,
        "nothing was created"
    );

    let done = register_patient(
        &t.state,
        reg(" Nia Ng ", "Nia@Patients.test", "long enough!", clinic),
        "9.9.9.9",
        "ua",
    )
    .await
    .unwrap();
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM membership WHERE user_id = {} AND clinic_id = {clinic} AND role = 'patient'",
            done.user_id
        ))
        .await,
        1
    );
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM app_user WHERE email = 'nia@patients.test' AND name = 'Nia Ng'"
        )
        .await,
        1
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit WHERE action = 'user.register'")
            .await,
        1
    );
}
both_dbs!(registration, patients_register_and_mistakes_change_nothing);

/// Waits for the next live event on `rx` (skipping other bus traffic).
async fn next_event(
    rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<BusMessage>>,
) -> app::domain::live::LiveEvent {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let BusMessage::Event(ev) = &*rx.recv().await.expect("bus open") {
                return ev.clone();
            }
        }
    })
    .await
    .expect("an event within 10 s")
}

async fn a_request_is_written_audited_and_announced(b: Backend) {
    let t = demo_app(b).await;
    let clinic = northside(&t).await;
    let video = service_named(&t, "Video consultation").await;
    let ben = t.me("ben@patients.test").await;
    let mut rx = t.state.bus.subscribe();
    let before = t.count("SELECT COUNT(*) FROM request").await;

    let id = request_session_now(&t.state, &ben, clinic, video, "  a cough  ")
        .await
        .unwrap();

    assert_eq!(t.count("SELECT COUNT(*) FROM request").await, before + 1);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE id = {id} AND note = 'a cough' AND status = 'pending' AND mode = 'now'"
        ))
        .await,
        1
    );
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE entity = 'request' AND entity_id = {id}"
        ))
        .await,
        1
    );
    let ev = next_event(&mut rx).await;
    assert_eq!(
        (ev.topic.as_str(), ev.action.as_str(), ev.entity_id),
        (topic::REQUEST, "created", id)
    );
    assert_eq!(ev.clinic_id, Some(clinic));
    assert_eq!(ev.user_ids, vec![ben.user_id]);
    // Harbour's staff may not see it; Northside's and Ben may.
    let harbour_admin = t.session("admin@harbour.test").await.1.viewer();
    let sched = t.session("scheduler@northside.test").await.1.viewer();
    let ann = t.session("ann@patients.test").await.1.viewer();
    assert!(!ev.visible_to(&harbour_admin));
    assert!(ev.visible_to(&sched));
    assert!(!ev.visible_to(&ann));
}
both_dbs!(request_created, a_request_is_written_audited_and_announced);

async fn bad_requests_are_refused_and_change_nothing(b: Backend) {
    let t = demo_app(b).await;
    let north = northside(&t).await;
    let video = service_named(&t, "Video consultation").await;
    let cleaning = service_named(&t, "Cleaning").await;
    let ben = t.me("ben@patients.test").await;
    let before = t.count("SELECT COUNT(*) FROM request").await;
    let audits = t.count("SELECT COUNT(*) FROM audit").await;

    let e = request_session_now(&t.state, &ben, north, 999_999, "")
        .await
        .unwrap_err();
    assert_eq!(e, AppError::Validation("Choose a service.".into()));
    let e = request_session_now(&t.state, &ben, north, cleaning, "")
        .await
        .unwrap_err();
    assert_eq!(
        e,
        AppError::Validation("That service is not offered by this clinic.".into())
    );
    let e = request_session_now(&t.state, &ben, north, video, &"x".repeat(1001))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Validation(_)));
    sqlx::query("UPDATE service SET active = 0 WHERE id = $1")
        .bind(video)
        .execute(&t.state.db.pool)
        .await
        .unwrap();
    let e = request_session_now(&t.state, &ben, north, video, "")
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Video consultation is no longer offered. Choose another service."
    );
    // Ann already has a pending Now request at Northside (demo data).
    let ann = t.me("ann@patients.test").await;
    let follow = service_named(&t, "Follow-up").await;
    let e = request_session_now(&t.state, &ann, north, follow, "")
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)));

    assert_eq!(t.count("SELECT COUNT(*) FROM request").await, before);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit").await,
        audits + 1,
        "only Ann's login was audited"
    );
}
both_dbs!(
    request_bad_input,
    bad_requests_are_refused_and_change_nothing
);

async fn concurrent_duplicate_requests_have_one_winner(b: Backend) {
    let t = demo_app(b).await;
    let north = northside(&t).await;
    let video = service_named(&t, "Video consultation").await;
    let ben = t.me("ben@patients.test").await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let state = t.state.clone();
            let ben = ben.clone();
            tokio::spawn(async move {
                request_session_now(&state, &ben, north, video, &format!("attempt {i}")).await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(AppError::Conflict(m)) => assert!(m.contains("already have a Now request"), "{m}"),
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(ok, 1, "exactly one of 16 concurrent requests wins");
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE requester_id = {} AND mode = 'now' AND status = 'pending'",
            ben.user_id
        ))
        .await,
        1
    );
}
both_dbs!(request_race, concurrent_duplicate_requests_have_one_winner);

async fn an_uncommitted_change_leaves_no_trace(b: Backend) {
    let t = demo_app(b).await;
    let mut rx = t.state.bus.subscribe();
    let audits = t.count("SELECT COUNT(*) FROM audit").await;
    {
        let mut change = Change::begin(&t.state).await.unwrap();
        change
            .audit(Audit {
                actor_id: None,
                on_behalf_of_id: None,
                clinic_id: None,
                action: "test.rollback",
                entity: "clinic",
                entity_id: 1,
                before: None,
                after: None,
            })
            .await
            .unwrap();
        change
            .emit(app::domain::live::LiveEvent {
                topic: topic::REQUEST.into(),
                action: "never".into(),
                entity_id: 1,
                clinic_id: Some(1),
                user_ids: vec![],
                at_us: 0,
            })
            .await
            .unwrap();
        // Dropped without commit: rolled back.
    }
    assert_eq!(t.count("SELECT COUNT(*) FROM audit").await, audits);
    // A later committed event arrives; the rolled-back one never does.
    let ben = t.me("ben@patients.test").await;
    let north = northside(&t).await;
    let video = service_named(&t, "Video consultation").await;
    let id = request_session_now(&t.state, &ben, north, video, "")
        .await
        .unwrap();
    let ev = next_event(&mut rx).await;
    assert_eq!((ev.action.as_str(), ev.entity_id), ("created", id));
}
both_dbs!(change_rollback, an_uncommitted_change_leaves_no_trace);

async fn the_audit_log_is_append_only(b: Backend) {
    let t = demo_app(b).await;
    t.session("dr.lee@northside.test").await;
    assert!(sqlx::query("UPDATE audit SET action = 'x'")
        .execute(&t.state.db.pool)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM audit")
        .execute(&t.state.db.pool)
        .await
        .is_err());
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit WHERE action = 'session.login'")
            .await,
        1
    );
}
both_dbs!(audit_append_only, the_audit_log_is_append_only);

async fn staff_see_the_counts_and_queues_of_their_clinics_only(b: Backend) {
    let t = demo_app(b).await;
    let north = northside(&t).await;
    let harbour_id = harbour(&t).await;
    let sched = t.me("scheduler@northside.test").await;
    let harbour_admin = t.me("admin@harbour.test").await;
    let ann = t.me("ann@patients.test").await;

    let n = pending_counts(&t.state, &sched).await.unwrap();
    let expected_n = t
        .count(&format!("SELECT COUNT(*) FROM request WHERE status = 'pending' AND kind = 'new_session' AND clinic_id = {north}"))
        .await;
    assert_eq!(n.dispatch, expected_n);
    assert_eq!(n.changes, 1, "the demo's reschedule request");
    let h = pending_counts(&t.state, &harbour_admin).await.unwrap();
    assert_eq!(h.dispatch, 1);
    assert_eq!(h.changes, 0);
    assert!(matches!(
        pending_counts(&t.state, &ann).await,
        Err(AppError::Forbidden(_))
    ));

    let board = dispatch_board(&t.state, &sched, None).await.unwrap().rows;
    assert_eq!(board.len() as i64, expected_n);
    assert!(
        board.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );
    assert!(board
        .iter()
        .all(|r| r.clinic_name == "Northside Telehealth"));
    assert!(matches!(
        dispatch_board(&t.state, &sched, Some(harbour_id)).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        dispatch_board(&t.state, &ann, None).await,
        Err(AppError::Forbidden(_))
    ));

    // A new request moves the scheduler's count, not Harbour's.
    let ben = t.me("ben@patients.test").await;
    let video = service_named(&t, "Video consultation").await;
    request_session_now(&t.state, &ben, north, video, "")
        .await
        .unwrap();
    assert_eq!(
        pending_counts(&t.state, &sched).await.unwrap().dispatch,
        expected_n + 1
    );
    assert_eq!(
        pending_counts(&t.state, &harbour_admin)
            .await
            .unwrap()
            .dispatch,
        1
    );
}
both_dbs!(
    pending_counts_by_clinic,
    staff_see_the_counts_and_queues_of_their_clinics_only
);

/// The two migration folders describe one schema: after migrating, SQLite
/// and PostgreSQL have the same tables with the same columns (types differ
/// by dialect and are not compared). A column added to one folder only
/// fails here rather than as a query error on the other database.
#[tokio::test]
async fn both_migration_folders_give_the_same_tables_and_columns() {
    use app::server::db::Db;
    use std::collections::BTreeSet;
    let mut schemas = Vec::new();
    for (backend, sql) in [
        (
            Backend::Sqlite,
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%'",
        ),
        (
            Backend::Postgres,
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx_%'",
        ),
    ] {
        let db = Db::connect(&common::fresh_database(backend).await, 2)
            .await
            .expect("connect");
        db.migrate().await.expect("migrate");
        let columns: BTreeSet<(String, String)> = sqlx::query_as(sql)
            .fetch_all(&db.pool)
            .await
            .expect("schema")
            .into_iter()
            .collect();
        schemas.push(columns);
    }
    assert!(schemas[0].len() > 50, "read the schema: {:?}", schemas[0]);
    let only = |a: usize, b: usize| -> Vec<_> { schemas[a].difference(&schemas[b]).collect() };
    assert_eq!(
        only(0, 1),
        Vec::<&(String, String)>::new(),
        "only on SQLite"
    );
    assert_eq!(
        only(1, 0),
        Vec::<&(String, String)>::new(),
        "only on PostgreSQL"
    );
}

/// Each rule the schema enforces is recognised by name when the database
/// refuses a write, on both databases (PostgreSQL by constraint name,
/// SQLite by its message), and no other rule claims the refusal.
async fn each_schema_rule_is_recognised_when_broken(b: Backend) {
    use app::server::db::Rule;
    let t = demo_app(b).await;
    let pool = &t.state.db.pool;
    let first = |sql: &'static str| t.id(sql);
    let appt = first("SELECT MIN(id) FROM appointment WHERE status = 'booked'").await;
    let service = first("SELECT MIN(id) FROM service").await;
    // A new patient, so no demo request is already pending for them.
    let ann: i64 = sqlx::query_scalar(
        "INSERT INTO app_user (email, name, password_hash, created_at) \
         VALUES ('rules@patients.test', 'Rule Tester', 'x', 0) RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let clinic =
        first("SELECT clinic_id FROM service WHERE id = (SELECT MIN(id) FROM service)").await;
    let pending_change = format!(
        "INSERT INTO request (clinic_id, kind, status, requester_id, appointment_id, created_at) \
         SELECT clinic_id, 'cancel', 'pending', patient_id, id, 0 FROM appointment WHERE id = {appt}"
    );
    let pending_now = format!(
        "INSERT INTO request (clinic_id, kind, status, requester_id, service_id, mode, created_at) \
         VALUES ({clinic}, 'new_session', 'pending', {ann}, {service}, 'now', 0)"
    );
    let cases: Vec<(Rule, Vec<String>)> = vec![
        (
            Rule::NoDoubleBooking,
            vec![format!(
                "INSERT INTO appointment (clinic_id, service_id, host_provider_id, patient_id, starts_at, \
                 ends_at, status, created_at, updated_at) SELECT clinic_id, service_id, host_provider_id, \
                 patient_id, starts_at, ends_at, 'booked', 0, 0 FROM appointment WHERE id = {appt}"
            )],
        ),
        (Rule::OnePendingChange, vec![pending_change.clone(), pending_change]),
        (Rule::OnePendingNowRequest, vec![pending_now.clone(), pending_now]),
        (
            Rule::UniqueEmail,
            vec!["INSERT INTO app_user (email, name, password_hash, created_at) \
                  VALUES ('ann@patients.test', 'Ann', 'x', 0)"
                .to_string()],
        ),
        (
            Rule::UniqueServiceName,
            vec![format!(
                "INSERT INTO service (clinic_id, name, description, duration_minutes, payment_required, \
                 price_cents, active) SELECT clinic_id, name, '', 30, 0, 0, 1 FROM service WHERE id = {service}"
            )],
        ),
    ];
    let all = [
        Rule::NoDoubleBooking,
        Rule::OnePendingChange,
        Rule::OnePendingNowRequest,
        Rule::UniqueEmail,
        Rule::UniqueServiceName,
    ];
    for (rule, statements) in cases {
        let (last, setup) = statements.split_last().unwrap();
        for s in setup {
            sqlx::query(s)
                .execute(pool)
                .await
                .unwrap_or_else(|e| panic!("setup {s}: {e}"));
        }
        let e = sqlx::query(last).execute(pool).await.unwrap_err();
        for other in all {
            assert_eq!(
                other.broken_by(&e),
                other == rule,
                "{other:?} for {rule:?}: {e}"
            );
        }
    }
}
both_dbs!(schema_rules, each_schema_rule_is_recognised_when_broken);

/// Stores `value` in `table.column` past the schema's CHECK, as a newer
/// release's migration (or a hand edit) could leave it: SQLite skips CHECKs
/// on this one connection; on PostgreSQL this test's own database loses the
/// column's CHECK.
async fn store_unknown_code(
    t: &TestApp,
    b: Backend,
    table: &str,
    column: &str,
    value: &str,
    row: &str,
) {
    let mut conn = t.state.db.pool.acquire().await.unwrap();
    if b == Backend::Sqlite {
        sqlx::query("PRAGMA ignore_check_constraints = ON")
            .execute(&mut *conn)
            .await
            .unwrap();
    } else {
        let checks: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT conname::text FROM pg_constraint WHERE conrelid = '{table}'::regclass \
             AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%{column}%'"
        ))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        assert!(!checks.is_empty(), "{table}.{column} has a CHECK");
        for c in checks {
            sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT {c}"))
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }
    let done = sqlx::query(&format!(
        "UPDATE {table} SET {column} = '{value}' WHERE {row}"
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(done.rows_affected() > 0, "{table} WHERE {row}");
    if b == Backend::Sqlite {
        sqlx::query("PRAGMA ignore_check_constraints = OFF")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

/// A stored code this release does not know (a role, a PMS connector, an
/// appointment status) is an error, logged with its column and value; it
/// is not read as a default that would act on the row (a membership
/// dropped, no PMS, a Confirmed calendar entry).
async fn unknown_stored_codes_fail_loudly(b: Backend) {
    let log = common::LogCapture::start();
    let t = demo_app(b).await;
    let north = northside(&t).await;
    let admin = t.me("admin@northside.test").await;
    let lee = t.me("dr.lee@northside.test").await;
    let internal = |e: &AppError| matches!(e, AppError::Internal(_));

    // The calendar feed: one of its appointments gets a status it does not know.
    let path = calendar_feed::create(&t.state, &lee).await.unwrap();
    let token = path
        .trim_start_matches("/calendar/")
        .trim_end_matches(".ics");
    let now = t.state.now();
    let id = t
        .id(&format!(
            "SELECT id FROM appointment WHERE host_provider_id = {} AND status = 'booked' \
             AND starts_at >= {now} AND starts_at < {} ORDER BY starts_at LIMIT 1",
            lee.user_id,
            now + 30 * 86_400
        ))
        .await;
    let ics = calendar_feed::feed(&t.state, token).await.unwrap().unwrap();
    assert!(ics.contains(&format!("appointment-{id}@")), "{ics}");
    store_unknown_code(
        &t,
        b,
        "appointment",
        "status",
        "on_hold",
        &format!("id = {id}"),
    )
    .await;
    let err = calendar_feed::feed(&t.state, token).await.unwrap_err();
    assert!(internal(&err), "{err:?}");

    // The PMS connector: the settings page and the message a change sends.
    store_unknown_code(
        &t,
        b,
        "clinic",
        "pms_connector",
        "carrier_pigeon",
        &format!("id = {north}"),
    )
    .await;
    let err = clinic_settings::view(&t.state, &admin, north)
        .await
        .unwrap_err();
    assert!(internal(&err), "{err:?}");
    let other = t
        .id(&format!(
            "SELECT id FROM appointment WHERE clinic_id = {north} AND id <> {id} LIMIT 1"
        ))
        .await;
    let mut change = Change::begin(&t.state).await.unwrap();
    let err = pms::sync(&mut change, other, PmsAction::Rescheduled)
        .await
        .unwrap_err();
    assert!(internal(&err), "{err:?}");
    drop(change);

    // A role: the user's memberships do not load, rather than one vanishing.
    store_unknown_code(
        &t,
        b,
        "membership",
        "role",
        "auditor",
        &format!("user_id = {} AND clinic_id = {north}", lee.user_id),
    )
    .await;
    let err = load_memberships(&t.state.db, lee.user_id)
        .await
        .unwrap_err();
    assert!(internal(&err), "{err:?}");

    let text = log.text();
    for (column, value) in [
        ("appointment.status", "on_hold"),
        ("clinic.pms_connector", "carrier_pigeon"),
        ("membership.role", "auditor"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains("unknown code in the database")
                    && l.contains(column)
                    && l.contains(value)),
            "{column} = {value} logged: {text}"
        );
    }
}

both_dbs!(unknown_stored_codes, unknown_stored_codes_fail_loudly);
