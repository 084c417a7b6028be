//! Appointment service on both databases: create (single, recurring across
//! DST), the no-double-booking rule under concurrency, cancel one vs the
//! rest of a series, decline, FTA/DNA, and who may do what.

mod common;

use app::domain::booking::{validate_cancel, NoShowKind};
use app::domain::recurrence::{End, Weekly};
use app::error::AppError;
use app::model::Me;
use app::server::service::appointments::{
    cancel, create, decline, mark_noshow, CancelScope, NewAppointment,
};
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use common::{demo_app, Backend, TestApp};

async fn id(t: &TestApp, sql: &str) -> i64 {
    t.id(sql).await
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
}

struct Ctx {
    t: TestApp,
    north: i64,
    patel: i64,
    lee: i64,
    kim: i64,
    ann: i64,
    video: i64,
}

async fn ctx(b: Backend) -> Ctx {
    let t = demo_app(b).await;
    Ctx {
        north: id(&t, "SELECT id FROM clinic WHERE slug = 'northside'").await,
        patel: id(
            &t,
            "SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'",
        )
        .await,
        lee: id(
            &t,
            "SELECT id FROM app_user WHERE email = 'dr.lee@northside.test'",
        )
        .await,
        kim: id(
            &t,
            "SELECT id FROM app_user WHERE email = 'dr.kim@northside.test'",
        )
        .await,
        ann: id(
            &t,
            "SELECT id FROM app_user WHERE email = 'ann@patients.test'",
        )
        .await,
        video: id(
            &t,
            "SELECT id FROM service WHERE name = 'Video consultation'",
        )
        .await,
        t,
    }
}

impl Ctx {
    /// A 30-minute Video consultation with Dr. Patel for Ann, New York time.
    fn booking(&self, start: NaiveDateTime) -> NewAppointment {
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
        }
    }
    async fn appointments(&self) -> i64 {
        self.t.count("SELECT COUNT(*) FROM appointment").await
    }
    async fn overlaps(&self) -> i64 {
        self.t
            .count(
                "SELECT COUNT(*) FROM appointment a JOIN appointment b ON a.host_provider_id = b.host_provider_id \
                 AND a.id < b.id AND a.status <> 'cancelled' AND b.status <> 'cancelled' \
                 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at",
            )
            .await
    }
}

// The test clock is Wed 2026-03-04 15:00 UTC (10:00 in New York).

async fn create_checks_times_and_conflicts(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let before = c.appointments().await;
    let made = create(&c.t.state, &sched, c.booking(local(2026, 3, 6, 11, 0)))
        .await
        .unwrap();
    assert_eq!(made.ids.len(), 1);
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {} AND ends_at - starts_at = 1800 AND status = 'booked' \
             AND meeting_id <> '' AND passcode <> '' AND video_url LIKE 'https://%'",
            made.ids[0]
        ))
        .await,
        1
    );

    // Overlapping: refused with a message naming the appointment.
    let err = create(&c.t.state, &sched, c.booking(local(2026, 3, 6, 11, 15)))
        .await
        .unwrap_err();
    match &err {
        AppError::Conflict(m) => {
            assert!(m.contains(&format!("#{}", made.ids[0])), "{m}");
            assert!(
                m.contains("Ann Archer") && m.contains("Fri 6 Mar 2026, 11:00–11:30"),
                "{m}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Back to back is fine.
    create(&c.t.state, &sched, c.booking(local(2026, 3, 6, 11, 30)))
        .await
        .unwrap();

    // Bad input: specific messages, nothing written.
    let n = c.appointments().await;
    let past = create(&c.t.state, &sched, c.booking(local(2026, 3, 4, 9, 0)))
        .await
        .unwrap_err();
    assert_eq!(
        past,
        AppError::Validation("Choose a start time in the future.".into())
    );
    let mut backwards = c.booking(local(2026, 3, 9, 11, 0));
    backwards.end_local = Some(local(2026, 3, 9, 10, 0));
    assert_eq!(
        create(&c.t.state, &sched, backwards).await.unwrap_err(),
        AppError::Validation("The end must be after the start.".into())
    );
    let mut bad_service = c.booking(local(2026, 3, 9, 11, 0));
    bad_service.service_id = 999_999;
    assert!(matches!(
        create(&c.t.state, &sched, bad_service).await,
        Err(AppError::Validation(_))
    ));
    let mut not_a_patient = c.booking(local(2026, 3, 9, 11, 0));
    not_a_patient.patient_id = c.lee;
    assert!(matches!(
        create(&c.t.state, &sched, not_a_patient).await,
        Err(AppError::Validation(_))
    ));
    assert_eq!(c.appointments().await, n);
    assert_eq!(c.appointments().await, before + 2);
}
both_dbs!(create_rules, create_checks_times_and_conflicts);

async fn only_the_provider_or_their_schedulers_may_book(b: Backend) {
    let c = ctx(b).await;
    let lee = c.t.me("dr.lee@northside.test").await;
    let harbour = c.t.me("admin@harbour.test").await;
    let ann = c.t.me("ann@patients.test").await;
    let admin = c.t.me("admin@northside.test").await;
    for who in [&lee, &harbour, &ann] {
        let r = create(&c.t.state, who, c.booking(local(2026, 3, 9, 9, 0))).await;
        assert!(matches!(r, Err(AppError::Forbidden(_))), "{:?}", r);
    }
    let patel = c.t.me("dr.patel@northside.test").await;
    create(&c.t.state, &patel, c.booking(local(2026, 3, 9, 9, 0)))
        .await
        .unwrap();
    create(&c.t.state, &admin, c.booking(local(2026, 3, 9, 9, 30)))
        .await
        .unwrap();
    // The admin's booking is audited as on behalf of Dr. Patel.
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE action = 'appointment.create' AND actor_id = {} AND on_behalf_of_id = {}",
            admin.user_id, c.patel
        ))
        .await,
        1
    );
}
both_dbs!(
    create_authorization,
    only_the_provider_or_their_schedulers_may_book
);

async fn concurrent_conflicting_bookings_have_one_winner(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let tasks: Vec<_> = (0..16u32)
        .map(|i| {
            let state = c.t.state.clone();
            let sched: Me = sched.clone();
            // 16 bookings between 14:00 and 14:15, all overlapping each other.
            let new = c.booking(local(2026, 3, 10, 14, i % 16));
            tokio::spawn(async move { create(&state, &sched, new).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(AppError::Conflict(m)) => assert!(m.contains("already booked"), "{m}"),
            Err(e) => panic!("unexpected: {e:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one of 16 competing bookings succeeds");
    assert_eq!(c.overlaps().await, 0);
}
both_dbs!(
    booking_race,
    concurrent_conflicting_bookings_have_one_winner
);

async fn the_database_refuses_an_overlap_by_itself(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let made = create(&c.t.state, &sched, c.booking(local(2026, 3, 11, 9, 0)))
        .await
        .unwrap();
    let copy = format!(
        "INSERT INTO appointment (clinic_id, service_id, host_provider_id, patient_id, starts_at, ends_at, status, \
         created_at, updated_at) SELECT clinic_id, service_id, host_provider_id, patient_id, starts_at + 600, \
         ends_at + 600, 'booked', 0, 0 FROM appointment WHERE id = {}",
        made.ids[0]
    );
    assert!(sqlx::query(&copy)
        .execute(&c.t.state.db.pool)
        .await
        .is_err());
    assert_eq!(c.overlaps().await, 0);
}
both_dbs!(database_backstop, the_database_refuses_an_overlap_by_itself);

async fn a_weekly_series_keeps_local_time_across_dst(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let mut new = c.booking(local(2026, 3, 5, 10, 0));
    new.recurrence = Some(Weekly {
        interval_weeks: 1,
        end: End::Count(4),
    });
    let made = create(&c.t.state, &sched, new).await.unwrap();
    assert_eq!(made.ids.len(), 4);
    assert!(made.series_id.is_some());
    let starts: Vec<i64> = sqlx::query_scalar(
        "SELECT starts_at FROM appointment WHERE series_id = $1 ORDER BY starts_at",
    )
    .bind(made.series_id.unwrap())
    .fetch_all(&c.t.state.db.pool)
    .await
    .unwrap();
    let ny = app::server::zones::parse("America/New_York");
    for s in &starts {
        let t = chrono::DateTime::from_timestamp(*s, 0)
            .unwrap()
            .with_timezone(&ny);
        assert_eq!((t.hour(), t.minute()), (10, 0));
    }
    // 5 Mar is EST (15:00 UTC); from 12 Mar it is EDT (14:00 UTC).
    assert_eq!(starts[1] - starts[0], 7 * 86400 - 3600);
    assert_eq!(starts[2] - starts[1], 7 * 86400);

    // A series that would hit an existing appointment is refused whole.
    let n = c.appointments().await;
    let mut series2 = c.booking(local(2026, 3, 5, 10, 15));
    series2.provider_id = c.patel;
    series2.recurrence = Some(Weekly {
        interval_weeks: 1,
        end: End::Count(3),
    });
    assert!(matches!(
        create(&c.t.state, &sched, series2).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(
        c.appointments().await,
        n,
        "nothing of the refused series was written"
    );
}
both_dbs!(
    recurring_create,
    a_weekly_series_keeps_local_time_across_dst
);

async fn cancel_one_occurrence_or_the_rest_of_the_series(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let mut new = c.booking(local(2026, 3, 5, 10, 0));
    new.recurrence = Some(Weekly {
        interval_weeks: 1,
        end: End::Count(4),
    });
    let ids = create(&c.t.state, &sched, new).await.unwrap().ids;
    let reason = || {
        validate_cancel(
            "prov",
            "Provider at a conference",
            "Sorry, we'll rebook you",
        )
        .unwrap()
    };

    let done = cancel(&c.t.state, &sched, ids[1], CancelScope::ThisOnly, reason())
        .await
        .unwrap();
    assert_eq!(done, vec![ids[1]]);
    let status = |i: i64| {
        let t = &c.t;
        async move {
            t.count(&format!(
                "SELECT COUNT(*) FROM appointment WHERE id = {i} AND status = 'cancelled'"
            ))
            .await
        }
    };
    assert_eq!(
        (
            status(ids[0]).await,
            status(ids[1]).await,
            status(ids[2]).await
        ),
        (0, 1, 0)
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {} AND cancel_reason_code = 'prov' \
             AND cancel_text = 'Provider at a conference' AND cancelled_by = {} AND cancelled_on_behalf_of = {}",
            ids[1], sched.user_id, c.patel
        ))
        .await,
        1
    );
    // Cancelling again is refused with a reason.
    let again = cancel(&c.t.state, &sched, ids[1], CancelScope::ThisOnly, reason())
        .await
        .unwrap_err();
    assert_eq!(
        again,
        AppError::Validation("This appointment is cancelled.".into())
    );

    // The first meeting has started: "all" from it is refused; from the
    // third it cancels every occurrence not yet started.
    c.t.clock.set(
        chrono::DateTime::from_timestamp(
            c.t.count(&format!(
                "SELECT starts_at FROM appointment WHERE id = {}",
                ids[0]
            ))
            .await
                + 60,
            0,
        )
        .unwrap(),
    );
    assert!(matches!(
        cancel(
            &c.t.state,
            &sched,
            ids[0],
            CancelScope::AllInSeries,
            reason()
        )
        .await,
        Err(AppError::Validation(_))
    ));
    let rest = cancel(
        &c.t.state,
        &sched,
        ids[2],
        CancelScope::AllInSeries,
        reason(),
    )
    .await
    .unwrap();
    assert_eq!(rest, vec![ids[2], ids[3]]);
    assert_eq!(status(ids[0]).await, 0, "the started meeting is untouched");
    // Past meetings can be marked FTA/DNA but not before their start.
    mark_noshow(&c.t.state, &sched, ids[0], NoShowKind::Dna)
        .await
        .unwrap();
    assert_eq!(
        c.t.count(&format!("SELECT COUNT(*) FROM appointment WHERE id = {} AND status = 'noshow' AND noshow_kind = 'dna'", ids[0])).await,
        1
    );
    let later = create(&c.t.state, &sched, c.booking(local(2026, 4, 1, 9, 0)))
        .await
        .unwrap()
        .ids[0];
    assert_eq!(
        mark_noshow(&c.t.state, &sched, later, NoShowKind::Fta)
            .await
            .unwrap_err(),
        AppError::Validation(
            "You can mark FTA or DNA once the appointment time has passed.".into()
        )
    );
}
both_dbs!(
    series_cancel,
    cancel_one_occurrence_or_the_rest_of_the_series
);

async fn invited_providers_decline_but_cannot_cancel(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let mut new = c.booking(local(2026, 3, 12, 13, 0));
    new.invited = vec![c.kim];
    let apt = create(&c.t.state, &sched, new).await.unwrap().ids[0];
    let kim = c.t.me("dr.kim@northside.test").await;
    let reason = || validate_cancel("pat", "", "").unwrap();

    let err = cancel(&c.t.state, &kim, apt, CancelScope::ThisOnly, reason())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AppError::Forbidden(
            "Only the host can cancel or reschedule this meeting. You can decline your invitation."
                .into()
        )
    );
    let lee = c.t.me("dr.lee@northside.test").await;
    assert!(matches!(
        cancel(&c.t.state, &lee, apt, CancelScope::ThisOnly, reason()).await,
        Err(AppError::Forbidden(_))
    ));
    let harbour = c.t.me("admin@harbour.test").await;
    assert!(matches!(
        cancel(&c.t.state, &harbour, apt, CancelScope::ThisOnly, reason()).await,
        Err(AppError::NotFound(_))
    ));
    let ann = c.t.me("ann@patients.test").await;
    assert!(matches!(
        cancel(&c.t.state, &ann, apt, CancelScope::ThisOnly, reason()).await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        cancel(&c.t.state, &sched, 999_999, CancelScope::ThisOnly, reason()).await,
        Err(AppError::NotFound(_))
    ));
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {apt} AND status = 'booked'"
        ))
        .await,
        1
    );

    let mut rx = c.t.state.bus.subscribe();
    decline(&c.t.state, &kim, apt).await.unwrap();
    assert_eq!(
        c.t.count(&format!("SELECT COUNT(*) FROM participant WHERE appointment_id = {apt} AND provider_id = {} AND status = 'declined'", c.kim)).await,
        1
    );
    let ev = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let app::server::events::BusMessage::Event(ev) = &*rx.recv().await.unwrap() {
                return ev.clone();
            }
        }
    })
    .await
    .unwrap();
    assert_eq!((ev.action.as_str(), ev.entity_id), ("declined", apt));
    assert!(
        ev.user_ids.contains(&c.patel),
        "the host hears of the decline"
    );
    assert!(matches!(
        decline(&c.t.state, &kim, apt).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        decline(&c.t.state, &lee, apt).await,
        Err(AppError::Forbidden(_))
    ));
}
both_dbs!(invitations, invited_providers_decline_but_cannot_cancel);

async fn the_bookings_list_filters_and_respects_clinics(b: Backend) {
    use app::model::BookingStatusFilter;
    use app::server::service::bookings::{list, BookingQuery};
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let harbour = c.t.me("admin@harbour.test").await;
    let ann = c.t.me("ann@patients.test").await;
    let q = |status, search: &str| BookingQuery {
        status,
        search: search.into(),
        ..Default::default()
    };

    let upcoming = list(&c.t.state, &sched, q(BookingStatusFilter::Upcoming, ""))
        .await
        .unwrap();
    assert!(upcoming.total > 0);
    assert!(upcoming
        .rows
        .iter()
        .all(|r| r.clinic_name == "Northside Telehealth" && r.status_label == "Upcoming"));
    assert!(upcoming.rows.iter().all(|r| r.cancel_blocked.is_none()));
    let hb = list(&c.t.state, &harbour, q(BookingStatusFilter::Upcoming, ""))
        .await
        .unwrap();
    assert!(hb.total > 0 && hb.rows.iter().all(|r| r.clinic_name == "Harbour Dental"));

    let bens = list(&c.t.state, &sched, q(BookingStatusFilter::Upcoming, "bEn"))
        .await
        .unwrap();
    assert!(bens.total > 0 && bens.rows.iter().all(|r| r.patient == "Ben Brooks"));
    let nobody = list(&c.t.state, &sched, q(BookingStatusFilter::Upcoming, "%"))
        .await
        .unwrap();
    assert_eq!(
        nobody.total, upcoming.total,
        "a bare wildcard is not a pattern"
    );

    let past = list(&c.t.state, &sched, q(BookingStatusFilter::Past, ""))
        .await
        .unwrap();
    assert!(past.rows.iter().all(|r| r.cancel_blocked.is_some()));
    let cancelled = list(&c.t.state, &sched, q(BookingStatusFilter::Cancelled, ""))
        .await
        .unwrap();
    assert!(cancelled.rows.iter().all(|r| r.status_label == "Cancelled"));

    // A provider sees what they host or are invited to, not colleagues' bookings.
    let lee = c.t.me("dr.lee@northside.test").await;
    let mine = list(&c.t.state, &lee, q(BookingStatusFilter::Upcoming, ""))
        .await
        .unwrap();
    assert!(mine.total > 0 && mine.total < upcoming.total);

    assert!(matches!(
        list(&c.t.state, &ann, q(BookingStatusFilter::Upcoming, "")).await,
        Err(AppError::Forbidden(_))
    ));
    let backwards = BookingQuery {
        from: NaiveDate::from_ymd_opt(2026, 3, 10),
        to: NaiveDate::from_ymd_opt(2026, 3, 9),
        ..Default::default()
    };
    assert!(matches!(
        list(&c.t.state, &sched, backwards).await,
        Err(AppError::Validation(_))
    ));
}
both_dbs!(
    bookings_list,
    the_bookings_list_filters_and_respects_clinics
);
