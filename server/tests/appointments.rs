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

/// Awaits competing writes: how many succeeded, and the messages of those
/// refused as conflicts (any other outcome fails the test).
async fn race_results<T: std::fmt::Debug>(
    tasks: Vec<tokio::task::JoinHandle<Result<T, AppError>>>,
) -> (usize, Vec<String>) {
    let mut wins = 0;
    let mut conflicts = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(AppError::Conflict(m)) => conflicts.push(m),
            Err(e) => panic!("unexpected: {e:?}"),
        }
    }
    (wins, conflicts)
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
                m.contains("Ann Archer") && m.contains("Fri, Mar 6, 2026, 11:00 AM–11:30 AM"),
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
    let (wins, conflicts) = race_results(tasks).await;
    for m in &conflicts {
        assert!(m.contains("already booked"), "{m}");
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

/// The overlap checks look back at most 12 hours (the longest appointment),
/// so the database refuses anything longer, and still catches an overlap
/// with a 12-hour appointment that began 11 hours earlier.
async fn the_database_bounds_an_appointments_length_and_still_sees_long_overlaps(b: Backend) {
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let made = create(&c.t.state, &sched, c.booking(local(2026, 3, 11, 9, 0)))
        .await
        .unwrap();
    let copy = |shift_start: i64, length: i64| {
        format!(
            "INSERT INTO appointment (clinic_id, service_id, host_provider_id, patient_id, starts_at, ends_at, \
             status, created_at, updated_at) SELECT clinic_id, service_id, host_provider_id, patient_id, \
             starts_at + {shift_start}, starts_at + {shift_start} + {length}, 'booked', 0, 0 \
             FROM appointment WHERE id = {}",
            made.ids[0]
        )
    };
    let pool = &c.t.state.db.pool;
    let n = c.appointments().await;
    // Thirteen hours, a day later (no overlap): too long.
    let err = sqlx::query(&copy(86_400, 13 * 3600))
        .execute(pool)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("appointment_at_most_12_hours"),
        "{err}"
    );
    // Twelve hours, starting a day later: fine.
    sqlx::query(&copy(86_400, 12 * 3600))
        .execute(pool)
        .await
        .unwrap();
    // A 30-minute one 11 hours into that 12-hour one: refused as an overlap.
    let err = sqlx::query(&copy(86_400 + 11 * 3600, 1800))
        .execute(pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no_double_booking"), "{err}");
    // Stretching an appointment past 12 hours is refused too.
    let err = sqlx::query(&format!(
        "UPDATE appointment SET ends_at = starts_at + 12 * 3600 + 1 WHERE id = {}",
        made.ids[0]
    ))
    .execute(pool)
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("appointment_at_most_12_hours"),
        "{err}"
    );
    assert_eq!(c.appointments().await, n + 1);
    assert_eq!(c.overlaps().await, 0);
}
both_dbs!(
    database_length_bound,
    the_database_bounds_an_appointments_length_and_still_sees_long_overlaps
);

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
        .all(|r| r.clinic_name == "Northside Telehealth"
            && (r.status_label == "Upcoming" || r.status_label == "Tentative")));
    // The demo's tentative booking is upcoming too, tagged as such.
    assert!(upcoming.rows.iter().any(|r| r.status_label == "Tentative"));
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
    // All: every state, so as many as the states' lists together.
    let all = list(&c.t.state, &sched, q(BookingStatusFilter::All, ""))
        .await
        .unwrap();
    let noshow = list(&c.t.state, &sched, q(BookingStatusFilter::NoShow, ""))
        .await
        .unwrap();
    assert_eq!(
        all.total,
        upcoming.total + past.total + cancelled.total + noshow.total
    );

    // A provider sees what they host or are invited to, not colleagues' bookings.
    let lee = c.t.me("dr.lee@northside.test").await;
    let mine = list(&c.t.state, &lee, q(BookingStatusFilter::Upcoming, ""))
        .await
        .unwrap();
    assert!(mine.total > 0 && mine.total < upcoming.total);
    assert!(mine
        .rows
        .iter()
        .all(|r| r.host_id == c.lee || r.participants.iter().any(|p| p.provider_id == c.lee)));

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

async fn series_times(c: &Ctx, series: i64) -> Vec<(i64, i64)> {
    sqlx::query_as("SELECT id, starts_at FROM appointment WHERE series_id = $1 ORDER BY starts_at")
        .bind(series)
        .fetch_all(&c.t.state.db.pool)
        .await
        .unwrap()
}

fn ny_local(ts: i64) -> NaiveDateTime {
    let ny = app::server::zones::parse("America/New_York");
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap()
        .with_timezone(&ny)
        .naive_local()
}

async fn reschedule_moves_one_or_splits_the_series(b: Backend) {
    use app::server::service::appointments::{reschedule, Move, RescheduleScope};
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    // Thursdays 18:00 from 5 Mar, four meetings (DST starts 8 Mar), Dr. Lee invited.
    let mut new = c.booking(local(2026, 3, 5, 18, 0));
    new.invited = vec![c.lee];
    new.recurrence = Some(Weekly {
        interval_weeks: 1,
        end: End::Count(4),
    });
    let made = create(&c.t.state, &sched, new).await.unwrap();
    let series = made.series_id.unwrap();
    let before = series_times(&c, series).await;
    let lee = c.t.me("dr.lee@northside.test").await;
    decline(&c.t.state, &lee, before[1].0).await.unwrap();

    // "This event": the second meeting moves to 11:00 the same day and stays in the series.
    let moved = reschedule(
        &c.t.state,
        &sched,
        Move {
            appointment_id: before[1].0,
            start_local: local(2026, 3, 12, 11, 0),
            location: "Room 4".into(),
            scope: RescheduleScope::ThisOnly,
        },
    )
    .await
    .unwrap();
    assert_eq!(moved.ids, vec![before[1].0]);
    let after = series_times(&c, series).await;
    assert_eq!(after.len(), 4);
    assert_eq!(ny_local(after[1].1), local(2026, 3, 12, 11, 0));
    assert_eq!(
        (after[0], after[2], after[3]),
        (before[0], before[2], before[3])
    );
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {} AND location = 'Room 4' AND ends_at - starts_at = 1800",
            before[1].0
        ))
        .await,
        1
    );
    // The invitation is asked again at the new time.
    assert_eq!(
        c.t.count(&format!(
            "SELECT COUNT(*) FROM participant WHERE appointment_id = {} AND status = 'needs-action'",
            before[1].0
        ))
        .await,
        1
    );

    // "This and all future events" from the third: moved to Fridays 09:00,
    // split into a new series; the first two stay where they are.
    let moved = reschedule(
        &c.t.state,
        &sched,
        Move {
            appointment_id: before[2].0,
            start_local: local(2026, 3, 20, 9, 0),
            location: String::new(),
            scope: RescheduleScope::ThisAndFuture,
        },
    )
    .await
    .unwrap();
    assert_eq!(moved.ids, vec![before[2].0, before[3].0]);
    let new_series = moved.series_id.unwrap();
    assert_ne!(new_series, series);
    let old_part = series_times(&c, series).await;
    assert_eq!(
        old_part,
        after[..2].to_vec(),
        "the earlier part is untouched"
    );
    let new_part = series_times(&c, new_series).await;
    assert_eq!(
        new_part.iter().map(|x| ny_local(x.1)).collect::<Vec<_>>(),
        vec![local(2026, 3, 20, 9, 0), local(2026, 3, 27, 9, 0)]
    );
    let rules: Vec<String> =
        sqlx::query_scalar("SELECT rrule FROM series WHERE id IN ($1, $2) ORDER BY id")
            .bind(series)
            .bind(new_series)
            .fetch_all(&c.t.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        rules,
        vec!["FREQ=WEEKLY;UNTIL=20260318", "FREQ=WEEKLY;COUNT=2"]
    );
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM audit WHERE action = 'appointment.reschedule'")
            .await,
        3
    );
    assert_eq!(c.overlaps().await, 0);
}
both_dbs!(reschedule_series, reschedule_moves_one_or_splits_the_series);

async fn reschedule_refuses_conflicts_and_bad_input(b: Backend) {
    use app::server::service::appointments::{reschedule, Move, RescheduleScope};
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let mut first = c.booking(local(2026, 3, 9, 7, 0));
    first.invited = vec![c.kim];
    let a = create(&c.t.state, &sched, first).await.unwrap().ids[0];
    let other = create(&c.t.state, &sched, c.booking(local(2026, 3, 9, 8, 0)))
        .await
        .unwrap()
        .ids[0];
    let mv = |id, start| Move {
        appointment_id: id,
        start_local: start,
        location: String::new(),
        scope: RescheduleScope::ThisOnly,
    };
    let snapshot = || async {
        sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT id, starts_at, ends_at, version FROM appointment ORDER BY id",
        )
        .fetch_all(&c.t.state.db.pool)
        .await
        .unwrap()
    };
    let before = snapshot().await;

    match reschedule(&c.t.state, &sched, mv(a, local(2026, 3, 9, 8, 15))).await {
        Err(AppError::Conflict(m)) => {
            assert!(m.contains(&format!("#{other}")), "names the conflict: {m}")
        }
        r => panic!("expected a conflict, got {r:?}"),
    }
    assert!(matches!(
        reschedule(&c.t.state, &sched, mv(a, local(2026, 3, 1, 9, 0))).await,
        Err(AppError::Validation(_))
    ));
    assert!(matches!(
        reschedule(&c.t.state, &sched, mv(9_999_999, local(2026, 3, 9, 9, 0))).await,
        Err(AppError::NotFound(_))
    ));
    let kim = c.t.me("dr.kim@northside.test").await;
    match reschedule(&c.t.state, &kim, mv(a, local(2026, 3, 9, 9, 0))).await {
        Err(AppError::Forbidden(m)) => assert!(m.contains("Only the host"), "{m}"),
        r => panic!("an invited provider cannot reschedule: {r:?}"),
    }
    let harbour = c.t.me("admin@harbour.test").await;
    assert!(matches!(
        reschedule(&c.t.state, &harbour, mv(a, local(2026, 3, 9, 9, 0))).await,
        Err(AppError::NotFound(_))
    ));
    let ann = c.t.me("ann@patients.test").await;
    assert!(reschedule(&c.t.state, &ann, mv(a, local(2026, 3, 9, 9, 0)))
        .await
        .is_err());
    let long = Move {
        location: "x".repeat(201),
        ..mv(a, local(2026, 3, 9, 9, 0))
    };
    assert!(matches!(
        reschedule(&c.t.state, &sched, long).await,
        Err(AppError::Validation(_))
    ));
    assert_eq!(snapshot().await, before, "nothing changed");

    // A cancelled or started appointment cannot be moved.
    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &sched, other, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    assert!(matches!(
        reschedule(&c.t.state, &sched, mv(other, local(2026, 3, 9, 10, 0))).await,
        Err(AppError::Validation(m)) if m.contains("cancelled")
    ));
    c.t.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 9, 11, 5, 0).unwrap());
    assert!(matches!(
        reschedule(&c.t.state, &sched, mv(a, local(2026, 3, 10, 10, 0))).await,
        Err(AppError::Validation(m)) if m.contains("already started")
    ));
}
both_dbs!(reschedule_rules, reschedule_refuses_conflicts_and_bad_input);

async fn concurrent_reschedules_onto_one_slot_have_one_winner(b: Backend) {
    use app::server::service::appointments::{reschedule, Move, RescheduleScope};
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let mut ids = Vec::new();
    for day in 9..=13 {
        for hour in [7, 18, 19] {
            let made = create(&c.t.state, &sched, c.booking(local(2026, 3, day, hour, 0)))
                .await
                .unwrap();
            ids.push(made.ids[0]);
        }
    }
    assert!(ids.len() >= 15);
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let state = c.t.state.clone();
            let sched: Me = sched.clone();
            let mv = Move {
                appointment_id: *id,
                start_local: local(2026, 3, 16, 7, 0),
                location: String::new(),
                scope: RescheduleScope::ThisOnly,
            };
            tokio::spawn(async move { reschedule(&state, &sched, mv).await })
        })
        .collect();
    let (wins, _) = race_results(tasks).await;
    assert_eq!(wins, 1, "exactly one reschedule onto the slot wins");
    assert_eq!(c.overlaps().await, 0);
}
both_dbs!(
    reschedule_race,
    concurrent_reschedules_onto_one_slot_have_one_winner
);

async fn the_schedule_shows_each_viewer_what_they_may_see(b: Backend) {
    use app::model::ScheduleMode;
    use app::server::service::schedule::{view, ScheduleQuery};
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    // Patel hosts at 07:00 on Mon 9 Mar with Lee invited; Lee hosts his own at 07:15.
    let mut with_lee = c.booking(local(2026, 3, 9, 7, 0));
    with_lee.invited = vec![c.lee];
    let hosted = create(&c.t.state, &sched, with_lee).await.unwrap().ids[0];
    let mut lees_own = c.booking(local(2026, 3, 9, 7, 15));
    lees_own.provider_id = c.lee;
    lees_own.invited = vec![c.kim];
    let made = create(&c.t.state, &sched, lees_own).await.unwrap();
    assert_eq!(made.warnings.len(), 0, "Kim is free then");
    let mut again = c.booking(local(2026, 3, 9, 7, 30));
    again.provider_id = c.kim;
    again.invited = vec![c.lee];
    let warned = create(&c.t.state, &sched, again).await.unwrap();
    assert!(
        warned.warnings.iter().any(|w| w.contains("Dr. Jordan Lee")),
        "overlaps for invited providers are a warning, not a refusal: {:?}",
        warned.warnings
    );

    let week = |me: &Me, providers: Vec<i64>| {
        let state = c.t.state.clone();
        let me = me.clone();
        async move {
            view(
                &state,
                &me,
                ScheduleQuery {
                    mode: ScheduleMode::Week,
                    date: NaiveDate::from_ymd_opt(2026, 3, 11),
                    providers,
                    ..Default::default()
                },
            )
            .await
        }
    };
    let v = week(&sched, vec![]).await.unwrap();
    assert_eq!(v.columns.len(), 7);
    assert_eq!(v.columns[0].date, "2026-03-09");
    assert_eq!(v.time_zone, "America/New_York");
    assert!(v.choose_providers && v.providers.iter().all(|p| p.shown));
    let monday: Vec<i64> = v.columns[0].items.iter().map(|i| i.booking.id).collect();
    assert!(monday.contains(&hosted));
    let item = v.columns[0]
        .items
        .iter()
        .find(|i| i.booking.id == hosted)
        .unwrap();
    assert_eq!((item.start_minute, item.end_minute), (7 * 60, 7 * 60 + 30));
    assert!(item.lanes >= 2, "overlapping items share the column");
    assert!(item
        .overlap_warning
        .as_deref()
        .unwrap_or("")
        .contains("Dr. Jordan Lee"));
    assert_eq!(item.booking.participants.len(), 1);

    // Only Dr. Patel chosen: Lee's own appointment is not shown.
    let only_patel = week(&sched, vec![c.patel]).await.unwrap();
    assert!(only_patel.columns[0]
        .items
        .iter()
        .all(|i| i.booking.host_id == c.patel
            || i.booking
                .participants
                .iter()
                .any(|p| p.provider_id == c.patel)));

    // Dr. Lee sees his own and the meeting he is invited to, with his answer.
    let lee = c.t.me("dr.lee@northside.test").await;
    let mine = week(&lee, vec![c.patel]).await.unwrap();
    assert!(!mine.choose_providers);
    let invited = mine.columns[0]
        .items
        .iter()
        .find(|i| i.booking.id == hosted)
        .expect("the invitation shows in the invitee's week");
    assert_eq!(invited.invitation.as_deref(), Some("needs-action"));
    assert!(
        invited.booking.cancel_blocked.is_some(),
        "an invitee cannot cancel"
    );
    assert!(mine
        .columns
        .iter()
        .flat_map(|c| &c.items)
        .all(|i| i.booking.host_id == c.lee
            || i.booking
                .participants
                .iter()
                .any(|p| p.provider_id == c.lee)));

    // Day view: a column per provider; the invitation also shows in Lee's column.
    let day = view(
        &c.t.state,
        &sched,
        ScheduleQuery {
            mode: ScheduleMode::Day,
            date: NaiveDate::from_ymd_opt(2026, 3, 9),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(day.columns.len(), 3);
    let lee_col = day
        .columns
        .iter()
        .find(|x| x.provider_id == Some(c.lee))
        .unwrap();
    assert!(lee_col
        .items
        .iter()
        .any(|i| i.booking.id == hosted && i.invitation.is_some()));

    // Cancelled meetings leave the schedule.
    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&c.t.state, &sched, hosted, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    let v = week(&sched, vec![]).await.unwrap();
    assert!(v
        .columns
        .iter()
        .flat_map(|c| &c.items)
        .all(|i| i.booking.id != hosted));

    // Patients and other clinics' staff are kept out.
    let ann = c.t.me("ann@patients.test").await;
    assert!(matches!(
        week(&ann, vec![]).await,
        Err(AppError::Forbidden(_))
    ));
    let harbour = c.t.me("admin@harbour.test").await;
    let other_clinic = view(
        &c.t.state,
        &harbour,
        ScheduleQuery {
            clinic_id: Some(c.north),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(other_clinic, Err(AppError::Forbidden(_))));
}
both_dbs!(
    schedule_view,
    the_schedule_shows_each_viewer_what_they_may_see
);

/// A database failure in the middle of a change is logged with the service
/// call it happened in (its name, user and appointment), the line of code
/// that met it and the database's own words, while the caller is told only
/// that something went wrong, and nothing of the change is written.
async fn a_database_failure_is_logged_where_it_happened(b: Backend) {
    let log = common::LogCapture::start();
    let c = ctx(b).await;
    let sched = c.t.me("scheduler@northside.test").await;
    let id = create(&c.t.state, &sched, c.booking(local(2026, 3, 5, 10, 0)))
        .await
        .unwrap()
        .ids[0];
    // A cancel reads the invitations (who may act, who is told): take them away.
    sqlx::query("DROP TABLE participant")
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    let form = validate_cancel("prov", "", "").unwrap();
    let err = cancel(&c.t.state, &sched, id, CancelScope::ThisOnly, form)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Internal(_)), "{err:?}");
    assert!(!err.to_string().contains("participant"), "{err}");
    let status =
        c.t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {id} AND status = 'booked'"
        ))
        .await;
    assert_eq!(status, 1, "the cancel was rolled back");
    let text = log.text();
    let line = text
        .lines()
        // Other tests of this binary log too: this one's line names the
        // table it took away.
        .find(|l| l.contains("database error") && l.contains("participant"))
        .unwrap_or_else(|| panic!("no database error logged:\n{text}"));
    assert!(line.contains("cancel{"), "{line}");
    assert!(line.contains(&format!("user={}", sched.user_id)), "{line}");
    assert!(line.contains(&format!("appointment_id={id}")), "{line}");
    assert!(
        line.contains("at=app/src/server/service/appointments.rs:"),
        "{line}"
    );
    assert!(line.contains("participant"), "{line}");
}

// Multi-threaded like the other tests (see common::init_logging for why a
// test's log is captured by one subscriber for the whole binary).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_failure_logged_sqlite() {
    a_database_failure_is_logged_where_it_happened(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_failure_logged_postgres() {
    a_database_failure_is_logged_where_it_happened(Backend::Postgres).await
}
