//! Appointment requests and dispatch on both databases: free slots from
//! availability, requests checked against them, accept and decline, who
//! may do what, and the races (one request accepted twice, two requests
//! accepted for one slot): exactly one wins.

mod common;

use app::domain::request::RequestMode;
use app::domain::slots::WeeklyWindow;
use app::error::AppError;
use app::model::Me;
use app::server::service::availability::{self, Entry};
use app::server::service::clinic_settings::{self, FormEdit, ServiceForm};
use app::server::service::requests::{
    accept, assign_options, booking_page, create, decline, dispatch_board, free_slots, my_requests,
    withdraw, NewRequest,
};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use common::{demo_app, Backend, TestApp};

// The test clock is Wed 2026-03-04 15:00 UTC (10:00 in New York). Dr Lee
// and Dr Patel work 09:00–17:00 Monday to Friday, Dr Kim 12:00–18:00 on
// Monday, Wednesday and Friday and is "available now".

struct Ctx {
    t: TestApp,
    north: i64,
    lee: i64,
    patel: i64,
    kim: i64,
    video: i64,
    ben: Me,
}

async fn ctx(b: Backend) -> Ctx {
    let t = demo_app(b).await;
    let id = |sql: &'static str| {
        let t = &t;
        async move { t.id(sql).await }
    };
    Ctx {
        north: id("SELECT id FROM clinic WHERE slug = 'northside'").await,
        lee: id("SELECT id FROM app_user WHERE email = 'dr.lee@northside.test'").await,
        patel: id("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'").await,
        kim: id("SELECT id FROM app_user WHERE email = 'dr.kim@northside.test'").await,
        video: id("SELECT id FROM service WHERE name = 'Video consultation'").await,
        ben: t.me("ben@patients.test").await,
        t,
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

impl Ctx {
    fn scheduled(&self, provider: Option<i64>, times: Vec<i64>) -> NewRequest {
        NewRequest {
            clinic_id: self.north,
            service_id: self.video,
            mode: RequestMode::Scheduled,
            provider_id: provider,
            times,
            answers: vec!["A rash".into(), "No".into()],
            note: "Please call first".into(),
        }
    }
    async fn requests(&self) -> i64 {
        self.t.count("SELECT COUNT(*) FROM request").await
    }
    async fn me(&self, email: &str) -> Me {
        self.t.me(email).await
    }
}

async fn free_slots_follow_availability_bookings_and_time_off(b: Backend) {
    let c = ctx(b).await;
    // Monday 2026-03-16, after New York's spring change: 09:00 EDT is 13:00 UTC.
    let days = free_slots(&c.t.state, c.north, c.video, Some(c.lee))
        .await
        .unwrap();
    let monday = days
        .iter()
        .find(|d| d.label == "Mon, Mar 16")
        .expect("Monday listed");
    let times: Vec<&str> = monday.slots.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(times.first(), Some(&"9:00 AM"));
    assert_eq!(
        times.last(),
        Some(&"4:30 PM"),
        "the last 30-minute slot ends at 17:00"
    );
    assert_eq!(monday.slots[0].start, ny(2026, 3, 16, 9, 0));
    assert!(days
        .iter()
        .all(|d| !d.label.starts_with("Sat") && !d.label.starts_with("Sun")));
    assert!(
        days.iter()
            .flat_map(|d| &d.slots)
            .all(|s| s.start > ny(2026, 3, 4, 10, 0)),
        "nothing already started"
    );
    // Up to the clinic's booking horizon (90 days by default): the last
    // free day is in the 13th week, none beyond the 90th day.
    let last = days
        .iter()
        .flat_map(|d| &d.slots)
        .map(|s| s.start)
        .max()
        .unwrap();
    let now = ny(2026, 3, 4, 10, 0);
    assert!(
        last > now + 84 * 86_400 && last <= now + 91 * 86_400,
        "{last}"
    );

    // Time off on that Monday morning, and a booking at 14:00, take those slots away.
    let lee = c.me("dr.lee@northside.test").await;
    availability::add_time_off(
        &c.t.state,
        &lee,
        c.north,
        c.lee,
        NaiveDate::from_ymd_opt(2026, 3, 16)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 16)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap(),
        "Conference",
    )
    .await
    .unwrap();
    let req = create(
        &c.t.state,
        &c.ben,
        c.scheduled(Some(c.lee), vec![ny(2026, 3, 16, 14, 0)]),
    )
    .await
    .unwrap();
    accept(
        &c.t.state,
        &lee,
        req,
        c.lee,
        Some(ny(2026, 3, 16, 14, 0)),
        "",
    )
    .await
    .unwrap();
    let days = free_slots(&c.t.state, c.north, c.video, Some(c.lee))
        .await
        .unwrap();
    let monday = days.iter().find(|d| d.label == "Mon, Mar 16").unwrap();
    let times: Vec<&str> = monday.slots.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(times.first(), Some(&"12:00 PM"), "the morning is time off");
    assert!(!times.contains(&"2:00 PM"), "the booked slot is gone");
    assert!(times.contains(&"1:30 PM") && times.contains(&"2:30 PM"));

    // "Any provider" is the union: Dr Patel is free on Monday morning.
    let any = free_slots(&c.t.state, c.north, c.video, None)
        .await
        .unwrap();
    let monday = any.iter().find(|d| d.label == "Mon, Mar 16").unwrap();
    assert!(monday.slots.iter().any(|s| s.label == "9:00 AM"));
}
both_dbs!(
    free_slots,
    free_slots_follow_availability_bookings_and_time_off
);

async fn bad_requests_get_specific_messages_and_change_nothing(b: Backend) {
    let c = ctx(b).await;
    let before = c.requests().await;
    let audits_no_login =
        c.t.count("SELECT COUNT(*) FROM audit WHERE action NOT LIKE 'session.%'")
            .await;
    let ok_time = ny(2026, 3, 16, 10, 0);
    let cases: Vec<(NewRequest, AppError)> = vec![
        (
            c.scheduled(Some(c.lee), vec![ny(2026, 3, 3, 10, 0)]),
            AppError::Validation("One of the chosen times has already passed. Choose a later time.".into()),
        ),
        (
            c.scheduled(Some(c.lee), vec![ok_time, ok_time + 1800, ok_time + 3600, ok_time + 5400]),
            AppError::Validation("Choose at most 3 preferred times.".into()),
        ),
        (
            c.scheduled(Some(c.lee), vec![]),
            AppError::Validation("Choose at least one preferred time.".into()),
        ),
        (
            // A Monday at 10:00 in 2099: free by the weekly hours, but
            // beyond the clinic's booking horizon (90 days by default).
            c.scheduled(Some(c.lee), vec![ok_time, ny(2099, 3, 16, 10, 0)]),
            AppError::Validation(
                "Choose times within the next 90 days, from the free times shown.".into(),
            ),
        ),
        (
            // Saturday: nobody works.
            c.scheduled(Some(c.lee), vec![ny(2026, 3, 14, 10, 0)]),
            AppError::Validation(
                "Sat, Mar 14, 2026, 10:00 AM is not a free time for this provider. Choose from the free slots shown.".into(),
            ),
        ),
        (
            // Dr Kim starts at 12:00.
            c.scheduled(Some(c.kim), vec![ny(2026, 3, 16, 11, 0)]),
            AppError::Validation(
                "Mon, Mar 16, 2026, 11:00 AM is not a free time for this provider. Choose from the free slots shown.".into(),
            ),
        ),
        (
            NewRequest { answers: vec!["".into()], ..c.scheduled(Some(c.lee), vec![ok_time]) },
            AppError::Validation("Please answer \"What would you like to discuss?\".".into()),
        ),
        (
            NewRequest { answers: vec!["x".into(), "Maybe".into()], ..c.scheduled(Some(c.lee), vec![ok_time]) },
            AppError::Validation("Choose one of the options for \"Is this your first visit?\".".into()),
        ),
        (
            NewRequest { service_id: 999_999, ..c.scheduled(None, vec![ok_time]) },
            AppError::Validation("Choose a service.".into()),
        ),
        (
            // A Harbour provider is not one of Northside's.
            c.scheduled(Some(c.t.id("SELECT id FROM app_user WHERE email = 'dr.nguyen@harbour.test'").await), vec![ok_time]),
            AppError::Validation("Choose one of the clinic's providers.".into()),
        ),
    ];
    for (req, want) in cases {
        assert_eq!(create(&c.t.state, &c.ben, req).await.unwrap_err(), want);
    }
    // An inactive service.
    let admin = c.me("admin@northside.test").await;
    clinic_settings::set_service_active(&c.t.state, &admin, c.video, false)
        .await
        .unwrap();
    let err = create(&c.t.state, &c.ben, c.scheduled(None, vec![ok_time]))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Video consultation is no longer offered. Choose another service."
    );
    assert_eq!(err.status(), 400);
    assert_eq!(c.requests().await, before, "nothing was written");
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM audit WHERE action NOT LIKE 'session.%'")
            .await,
        audits_no_login + 1,
        "only the service change was audited"
    );
}
both_dbs!(
    request_bad_input,
    bad_requests_get_specific_messages_and_change_nothing
);

async fn a_scheduled_request_is_assigned_and_the_patient_sees_the_meeting(b: Backend) {
    let c = ctx(b).await;
    let t1 = ny(2026, 3, 16, 10, 0);
    let t2 = ny(2026, 3, 17, 15, 30);
    let id = create(&c.t.state, &c.ben, c.scheduled(None, vec![t2, t1]))
        .await
        .unwrap();
    let sched = c.me("scheduler@northside.test").await;

    // The board lists it with its times (in New York time) and answers.
    let board = dispatch_board(&c.t.state, &sched, None).await.unwrap();
    let row = board
        .rows
        .iter()
        .find(|r| r.id == id)
        .expect("on the board");
    assert_eq!(
        row.times,
        ["Mon, Mar 16, 2026, 10:00 AM", "Tue, Mar 17, 2026, 3:30 PM"]
    );
    assert_eq!(row.request_to, "Providers", "the host group");
    assert_eq!(row.answers[0].answer, "A rash");
    assert_eq!(board.now, common::t0().timestamp());

    // The Assign dialog: Lee and Patel are free at both times; Kim works
    // neither Monday morning nor Tuesday.
    let opts = assign_options(&c.t.state, &sched, id).await.unwrap();
    assert_eq!(opts.times.len(), 2);
    let by_id = |p: i64| opts.providers.iter().find(|x| x.id == p).unwrap();
    assert!(by_id(c.lee).available && by_id(c.patel).available);
    assert!(!by_id(c.kim).available);
    assert_eq!(by_id(c.kim).availability, "Not free at the requested times");

    // Dr Patel has a session 11:00–11:30 that Monday: a possible conflict
    // (within 2 hours of 10:00), though not an overlap.
    let ann =
        c.t.id("SELECT id FROM app_user WHERE email = 'ann@patients.test'")
            .await;
    let admin = c.me("admin@northside.test").await;
    app::server::service::appointments::create(
        &c.t.state,
        &admin,
        app::server::service::appointments::NewAppointment {
            clinic_id: c.north,
            provider_id: c.patel,
            patient_id: ann,
            service_id: c.video,
            start_local: NaiveDate::from_ymd_opt(2026, 3, 16)
                .unwrap()
                .and_hms_opt(11, 0, 0)
                .unwrap(),
            end_local: None,
            location: String::new(),
            invited: vec![],
            recurrence: None,
        },
    )
    .await
    .unwrap();
    let opts = assign_options(&c.t.state, &sched, id).await.unwrap();
    let patel = opts.providers.iter().find(|x| x.id == c.patel).unwrap();
    assert_eq!(
        patel.conflicts,
        ["Mon, Mar 16, 2026, 11:00 AM–11:30 AM Video consultation (Ann Archer)"]
    );

    // Accept for Dr Patel at 10:00, with a response.
    let mut rx = c.t.state.bus.subscribe();
    let appt = accept(&c.t.state, &sched, id, c.patel, Some(t1), "See you then")
        .await
        .unwrap();
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {appt} AND host_provider_id = {} AND patient_id = {} \
             AND starts_at = {t1} AND ends_at = {} AND status = 'booked' AND meeting_id <> ''",
            c.patel, c.ben.user_id, t1 + 1800
        ))
        .await,
        1
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE id = {id} AND status = 'accepted' AND responder_id = {} \
             AND result_appointment_id = {appt} AND response = 'See you then'",
            sched.user_id
        ))
        .await,
        1
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE (entity = 'request' AND entity_id = {id} AND action = 'request.accept' \
             AND on_behalf_of_id = {}) OR (entity = 'appointment' AND entity_id = {appt})",
            c.patel
        ))
        .await,
        2
    );
    // Only this accept's two events count: on PostgreSQL the notice of the
    // appointment created above may still be arriving.
    let mut seen = Vec::new();
    while let Ok(Ok(m)) = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await {
        if let app::server::events::BusMessage::Event(ev) = &*m {
            if (ev.topic == "request" && ev.entity_id == id)
                || (ev.topic == "appointment" && ev.entity_id == appt)
            {
                seen.push((ev.topic.clone(), ev.action.clone(), ev.user_ids.clone()));
            }
            if seen.len() == 2 {
                break;
            }
        }
    }
    assert!(seen.contains(&(
        "request".into(),
        "accepted".into(),
        vec![c.ben.user_id, c.patel]
    )));
    assert!(seen.contains(&(
        "appointment".into(),
        "created".into(),
        vec![c.ben.user_id, c.patel]
    )));

    // The patient's dashboard shows the answer and the meeting.
    let mine = my_requests(&c.t.state, &c.ben).await.unwrap();
    let r = mine.iter().find(|r| r.id == id).unwrap();
    assert_eq!(r.status.as_str(), "accepted");
    assert_eq!(r.response.as_deref(), Some("See you then"));
    let m = r.meeting.as_ref().expect("the meeting");
    assert_eq!(m.when, "Mon, Mar 16, 2026, 10:00 AM (America/New_York)");
    assert_eq!(m.provider, "Dr. Priya Patel");
    assert!(m.video_url.starts_with("https://"));
    // It left the board.
    let board = dispatch_board(&c.t.state, &sched, None).await.unwrap();
    assert!(board.rows.iter().all(|r| r.id != id));
}
both_dbs!(
    assign_and_accept,
    a_scheduled_request_is_assigned_and_the_patient_sees_the_meeting
);

async fn two_accepts_of_one_request_have_one_winner(b: Backend) {
    let c = ctx(b).await;
    let t1 = ny(2026, 3, 16, 10, 0);
    let sched = c.me("scheduler@northside.test").await;
    let lee = c.me("dr.lee@northside.test").await;
    for round in 0..3 {
        let t = t1 + round * 3600;
        let id = create(&c.t.state, &c.ben, c.scheduled(None, vec![t]))
            .await
            .unwrap();
        // The scheduler assigns Dr Patel while Dr Lee accepts for himself.
        let (s, l) = (c.t.state.clone(), c.t.state.clone());
        let (sched2, lee2) = (sched.clone(), lee.clone());
        let (patel, lee_id) = (c.patel, c.lee);
        let a = tokio::spawn(async move { accept(&s, &sched2, id, patel, Some(t), "").await });
        let b2 = tokio::spawn(async move { accept(&l, &lee2, id, lee_id, Some(t), "").await });
        let results = [a.await.unwrap(), b2.await.unwrap()];
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        let AppError::Conflict(msg) = loser else {
            panic!("{loser:?}")
        };
        assert!(
            msg.starts_with(&format!("Request #{id} was already accepted by ")),
            "the loser is told who handled it: {msg}"
        );
        assert_eq!(
            c.t.count(&format!(
                "SELECT COUNT(*) FROM appointment WHERE starts_at = {t} AND patient_id = {}",
                c.ben.user_id
            ))
            .await,
            1,
            "one appointment"
        );
    }
}
both_dbs!(
    accept_race_one_request,
    two_accepts_of_one_request_have_one_winner
);

async fn two_requests_for_one_slot_have_one_winner(b: Backend) {
    let c = ctx(b).await;
    let sched = c.me("scheduler@northside.test").await;
    let admin = c.me("admin@northside.test").await;
    let ann = c.me("ann@patients.test").await;
    for round in 0..3 {
        let t = ny(2026, 3, 18, 9, 0) + round * 3600;
        let first = create(&c.t.state, &c.ben, c.scheduled(Some(c.lee), vec![t]))
            .await
            .unwrap();
        let second = create(&c.t.state, &ann, c.scheduled(Some(c.lee), vec![t]))
            .await
            .unwrap();
        let (s1, s2) = (c.t.state.clone(), c.t.state.clone());
        let (m1, m2) = (sched.clone(), admin.clone());
        let lee = c.lee;
        let a = tokio::spawn(async move { accept(&s1, &m1, first, lee, Some(t), "").await });
        let b2 = tokio::spawn(async move { accept(&s2, &m2, second, lee, Some(t), "").await });
        let results = [a.await.unwrap(), b2.await.unwrap()];
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        let AppError::Conflict(msg) = loser else {
            panic!("{loser:?}")
        };
        assert!(msg.starts_with("Dr. Jordan Lee "), "{msg}");
        // The losing request is still pending: nothing half-done.
        assert_eq!(
            c.t.count(&format!(
                "SELECT COUNT(*) FROM request WHERE id IN ({first}, {second}) AND status = 'pending' AND result_appointment_id IS NULL"
            ))
            .await,
            1
        );
        assert_eq!(
            c.t.count(&format!(
                "SELECT COUNT(*) FROM appointment WHERE host_provider_id = {lee} AND starts_at = {t} AND status <> 'cancelled'"
            ))
            .await,
            1
        );
    }
}
both_dbs!(
    accept_race_one_slot,
    two_requests_for_one_slot_have_one_winner
);

async fn who_may_answer_what(b: Backend) {
    let c = ctx(b).await;
    let t1 = ny(2026, 3, 16, 13, 0);
    let to_lee = create(&c.t.state, &c.ben, c.scheduled(Some(c.lee), vec![t1]))
        .await
        .unwrap();
    let patel = c.me("dr.patel@northside.test").await;
    let lee = c.me("dr.lee@northside.test").await;
    let harbour = c.me("admin@harbour.test").await;
    let ann = c.me("ann@patients.test").await;

    // Dr Patel does not work requests addressed to Dr Lee; Harbour's admin
    // and another patient do not even learn it exists.
    for who in [&patel, &harbour, &ann] {
        assert_eq!(
            accept(&c.t.state, who, to_lee, who.user_id, Some(t1), "")
                .await
                .unwrap_err(),
            AppError::NotFound("That request does not exist.".into())
        );
        assert!(matches!(
            decline(&c.t.state, who, to_lee, "").await,
            Err(AppError::NotFound(_))
        ));
    }
    assert!(dispatch_board(&c.t.state, &patel, None)
        .await
        .unwrap()
        .rows
        .iter()
        .all(|r| r.id != to_lee));
    assert!(dispatch_board(&c.t.state, &lee, None)
        .await
        .unwrap()
        .rows
        .iter()
        .any(|r| r.id == to_lee));
    // Dr Lee may accept only for himself, and only at a requested time.
    assert!(matches!(
        accept(&c.t.state, &lee, to_lee, c.patel, Some(t1), "").await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(
        accept(&c.t.state, &lee, to_lee, c.lee, Some(t1 + 1800), "")
            .await
            .unwrap_err(),
        AppError::Validation("Choose one of the requested times.".into())
    );
    // He declines with a response the patient sees; answering again is refused.
    decline(
        &c.t.state,
        &lee,
        to_lee,
        "I am away that week; please book Dr Patel.",
    )
    .await
    .unwrap();
    let err = accept(&c.t.state, &lee, to_lee, c.lee, Some(t1), "")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AppError::Conflict(format!(
            "Request #{to_lee} was already declined by Dr. Jordan Lee at 10:00 AM."
        ))
    );
    assert_eq!(err.status(), 409);
    let mine = my_requests(&c.t.state, &c.ben).await.unwrap();
    let r = mine.iter().find(|r| r.id == to_lee).unwrap();
    assert_eq!(r.status.as_str(), "declined");
    assert_eq!(
        r.response.as_deref(),
        Some("I am away that week; please book Dr Patel.")
    );
    assert_eq!(r.responder.as_deref(), Some("Dr. Jordan Lee"));
    assert!(r.meeting.is_none());

    // A request whose time has passed cannot be accepted.
    let later = create(&c.t.state, &c.ben, c.scheduled(None, vec![t1 + 3600]))
        .await
        .unwrap();
    c.t.clock
        .set(chrono::DateTime::from_timestamp(t1 + 3600, 0).unwrap());
    let sched = c.me("scheduler@northside.test").await;
    assert!(matches!(
        accept(&c.t.state, &sched, later, c.lee, Some(t1 + 3600), "").await,
        Err(AppError::Validation(_))
    ));
    // The patient may withdraw it; then nobody can answer it.
    withdraw(&c.t.state, &c.ben, later).await.unwrap();
    assert_eq!(
        decline(&c.t.state, &sched, later, "").await.unwrap_err(),
        AppError::Conflict(format!("Request #{later} was withdrawn by the patient."))
    );
    assert!(matches!(
        withdraw(&c.t.state, &ann, to_lee).await,
        Err(AppError::NotFound(_))
    ));
}
both_dbs!(answer_permissions, who_may_answer_what);

async fn now_requests_follow_the_available_now_toggle(b: Backend) {
    let c = ctx(b).await;
    let kim = c.me("dr.kim@northside.test").await;
    let now_req = |provider| NewRequest {
        mode: RequestMode::Now,
        times: vec![],
        ..c.scheduled(provider, vec![])
    };
    // Dr Kim is available now (demo data) but Dr Lee is not.
    assert!(matches!(
        create(&c.t.state, &c.ben, now_req(Some(c.lee))).await,
        Err(AppError::Conflict(_))
    ));
    let page = booking_page(&c.t.state, None, "northside").await.unwrap();
    assert!(page.available_now);
    assert!(!page.logged_in);
    assert_eq!(page.questions.len(), 2);
    let id = create(&c.t.state, &c.ben, now_req(None)).await.unwrap();
    let opts = assign_options(&c.t.state, &kim, id).await.unwrap();
    assert_eq!(opts.providers.len(), 1, "a provider sees only themself");
    assert!(opts.providers[0].available);
    assert_eq!(opts.providers[0].availability, "Available now");
    // Accepting a Now request starts it at the next whole minute.
    let appt = accept(&c.t.state, &kim, id, c.kim, None, "Joining now")
        .await
        .unwrap();
    let start = common::t0().timestamp() + 60;
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {appt} AND starts_at = {start}"
        ))
        .await,
        1
    );
    // Toggled off, Now is no longer offered.
    availability::set_available_now(&c.t.state, &kim, c.north, c.kim, false)
        .await
        .unwrap();
    let page = booking_page(&c.t.state, Some(&c.ben), "northside")
        .await
        .unwrap();
    assert!(!page.available_now);
    assert_eq!(
        create(&c.t.state, &c.ben, now_req(None))
            .await
            .unwrap_err()
            .message(),
        "Nobody is available right now. Choose Scheduled and pick a time instead."
    );
    assert!(matches!(
        booking_page(&c.t.state, None, "nowhere").await,
        Err(AppError::NotFound(_))
    ));
}
both_dbs!(now_requests, now_requests_follow_the_available_now_toggle);

async fn availability_is_edited_by_the_provider_or_for_them(b: Backend) {
    let c = ctx(b).await;
    let lee = c.me("dr.lee@northside.test").await;
    let patel = c.me("dr.patel@northside.test").await;
    let sched = c.me("scheduler@northside.test").await;
    let view = availability::view(&c.t.state, &lee, None, None)
        .await
        .unwrap();
    assert_eq!(view.provider_id, c.lee);
    assert_eq!(view.windows.len(), 5);
    assert_eq!(view.providers.len(), 1, "a provider edits only their own");
    let view = availability::view(&c.t.state, &sched, Some(c.north), Some(c.kim))
        .await
        .unwrap();
    assert_eq!(view.providers.len(), 3);
    assert!(view.available_now);

    // Saturday mornings, added by the scheduler for Dr Lee.
    let sat = WeeklyWindow::new(5, 9 * 60, 12 * 60).unwrap();
    let id = availability::add_window(&c.t.state, &sched, c.north, c.lee, sat)
        .await
        .unwrap();
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE action = 'availability.add' AND on_behalf_of_id = {}",
            c.lee
        ))
        .await,
        1
    );
    let days = free_slots(&c.t.state, c.north, c.video, Some(c.lee))
        .await
        .unwrap();
    assert!(days.iter().any(|d| d.label == "Sat, Mar 14"));
    // An overlapping slot is refused with the clash named.
    let err = availability::add_window(
        &c.t.state,
        &lee,
        c.north,
        c.lee,
        WeeklyWindow::new(5, 11 * 60, 13 * 60).unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        AppError::Conflict(
            "That overlaps the Saturday slot 9:00 AM–12:00 PM. Remove or change that one first."
                .into()
        )
    );
    // Another provider cannot touch Dr Lee's availability.
    assert!(matches!(
        availability::remove(&c.t.state, &patel, Entry::Window, id).await,
        Err(AppError::Forbidden(_))
    ));
    availability::remove(&c.t.state, &lee, Entry::Window, id)
        .await
        .unwrap();
    assert!(matches!(
        availability::remove(&c.t.state, &lee, Entry::Window, id).await,
        Err(AppError::NotFound(_))
    ));
    // Time off must make sense.
    let d = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
    for (from, to, want) in [
        (
            d.and_hms_opt(12, 0, 0),
            d.and_hms_opt(9, 0, 0),
            "The time off must end after it starts.",
        ),
        (
            NaiveDate::from_ymd_opt(2026, 3, 1)
                .unwrap()
                .and_hms_opt(9, 0, 0),
            NaiveDate::from_ymd_opt(2026, 3, 2)
                .unwrap()
                .and_hms_opt(9, 0, 0),
            "That time off is already over.",
        ),
    ] {
        let e = availability::add_time_off(
            &c.t.state,
            &lee,
            c.north,
            c.lee,
            from.unwrap(),
            to.unwrap(),
            "",
        )
        .await
        .unwrap_err();
        assert_eq!(e, AppError::Validation(want.into()));
    }
    let ann = c.me("ann@patients.test").await;
    assert!(matches!(
        availability::view(&c.t.state, &ann, None, None).await,
        Err(AppError::Forbidden(_))
    ));
}
both_dbs!(
    availability_edits,
    availability_is_edited_by_the_provider_or_for_them
);

async fn clinic_settings_are_for_admins_and_checked(b: Backend) {
    let c = ctx(b).await;
    let admin = c.me("admin@northside.test").await;
    let sched = c.me("scheduler@northside.test").await;
    let form = |name: &str, minutes: i64, pay: bool, price: &str| ServiceForm {
        name: name.into(),
        description: "Twenty minutes on the phone".into(),
        duration_minutes: minutes,
        payment_required: pay,
        price: price.into(),
        modality: app::domain::modality::Modality::Phone,
    };
    assert!(matches!(
        clinic_settings::save_service(
            &c.t.state,
            &sched,
            c.north,
            0,
            form("Phone call", 20, false, "")
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
    for (f, want) in [
        (
            form("", 20, false, ""),
            "Give the service a name of up to 100 characters.",
        ),
        (
            form("Phone call", 2, false, ""),
            "The duration must be between 5 and 480 minutes.",
        ),
        (
            form("Phone call", 20, true, ""),
            "A service that requires payment needs a price.",
        ),
        (
            form("Phone call", 20, true, "12,50"),
            "Enter the price as an amount like 45 or 45.50.",
        ),
    ] {
        assert_eq!(
            clinic_settings::save_service(&c.t.state, &admin, c.north, 0, f)
                .await
                .unwrap_err(),
            AppError::Validation(want.into())
        );
    }
    assert!(matches!(
        clinic_settings::save_service(
            &c.t.state,
            &admin,
            c.north,
            0,
            form("Video consultation", 20, false, "")
        )
        .await,
        Err(AppError::Conflict(_))
    ));
    let id = clinic_settings::save_service(
        &c.t.state,
        &admin,
        c.north,
        0,
        form("Phone call", 20, true, "12.5"),
    )
    .await
    .unwrap();
    let page = booking_page(&c.t.state, None, "northside").await.unwrap();
    let svc = page.services.iter().find(|s| s.id == id).unwrap();
    assert_eq!(
        (svc.duration_minutes, svc.price_cents, svc.payment_required),
        (20, 1250, true)
    );
    // 20-minute slots for the new service.
    let days = free_slots(&c.t.state, c.north, id, Some(c.lee))
        .await
        .unwrap();
    let mon = days.iter().find(|d| d.label == "Mon, Mar 16").unwrap();
    assert_eq!(mon.slots[1].label, "9:20 AM");

    // The form: add a question, then a patient must answer it.
    let q = app::domain::form::new_question(
        "Your date of birth",
        app::domain::form::QuestionKind::Text,
        "",
        true,
    )
    .unwrap();
    clinic_settings::edit_form(&c.t.state, &admin, c.north, FormEdit::Add(q))
        .await
        .unwrap();
    let err = create(
        &c.t.state,
        &c.ben,
        c.scheduled(None, vec![ny(2026, 3, 16, 10, 0)]),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        AppError::Validation("Please answer \"Your date of birth\".".into())
    );
    // A stale removal (wrong label at that position) is refused.
    assert!(matches!(
        clinic_settings::edit_form(
            &c.t.state,
            &admin,
            c.north,
            FormEdit::Remove {
                index: 0,
                label: "Nope".into()
            }
        )
        .await,
        Err(AppError::Conflict(_))
    ));
    clinic_settings::edit_form(
        &c.t.state,
        &admin,
        c.north,
        FormEdit::Remove {
            index: 2,
            label: "Your date of birth".into(),
        },
    )
    .await
    .unwrap();
    assert!(create(
        &c.t.state,
        &c.ben,
        c.scheduled(None, vec![ny(2026, 3, 16, 10, 0)])
    )
    .await
    .is_ok());
    // Group names.
    assert!(matches!(
        clinic_settings::save_groups(&c.t.state, &admin, c.north, " ", "Clinicians").await,
        Err(AppError::Validation(_))
    ));
    clinic_settings::save_groups(&c.t.state, &admin, c.north, "Members", "Clinicians")
        .await
        .unwrap();
    let board = dispatch_board(&c.t.state, &sched, Some(c.north))
        .await
        .unwrap();
    assert!(board
        .rows
        .iter()
        .all(|r| r.patient_group == "Members" && r.host_group == "Clinicians"));
}
both_dbs!(
    clinic_settings_edits,
    clinic_settings_are_for_admins_and_checked
);
