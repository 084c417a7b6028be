//! Patient self-service and the practice's policy, on both databases.

mod common;

use app::domain::policy::Policy;
use app::error::AppError;
use app::server::service::clinic_settings::{policy, save_policy, view};
use common::{demo_app, Backend};

async fn the_cancellation_policy_is_set_by_admins_and_checked(b: Backend) {
    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let admin = t.me("admin@northside.test").await;
    let sched = t.me("scheduler@northside.test").await;
    let harbour_admin = t.me("admin@harbour.test").await;
    let mut conn = t.state.db.pool.acquire().await.unwrap();
    let demo = policy(&mut conn, north).await.unwrap();
    assert_eq!(
        demo.cancel_window_minutes,
        24 * 60,
        "the default window is 24 hours"
    );
    assert!(!demo.needs_approval);
    assert_eq!(demo.booking_horizon_days, 90, "the default horizon");

    let wanted = Policy {
        cancel_window_minutes: 48 * 60,
        reschedule_window_minutes: 12 * 60,
        needs_approval: true,
        late_cancel_fee_cents: 4_000,
        booking_horizon_days: 120,
    };
    for who in [&sched, &harbour_admin] {
        assert!(matches!(
            save_policy(&t.state, who, north, wanted).await,
            Err(AppError::Forbidden(_))
        ));
    }
    let bad = Policy {
        cancel_window_minutes: -60,
        ..wanted
    };
    assert_eq!(
        save_policy(&t.state, &admin, north, bad).await.unwrap_err(),
        AppError::Validation("A late-notice window can be from 0 to 720 hours.".into())
    );
    let too_far = Policy {
        booking_horizon_days: 366,
        ..wanted
    };
    assert_eq!(
        save_policy(&t.state, &admin, north, too_far)
            .await
            .unwrap_err(),
        AppError::Validation("Patients can be allowed to book from 1 to 365 days ahead.".into())
    );
    assert_eq!(
        policy(&mut conn, north).await.unwrap(),
        demo,
        "refusals change nothing"
    );

    save_policy(&t.state, &admin, north, wanted).await.unwrap();
    assert_eq!(policy(&mut conn, north).await.unwrap(), wanted);
    assert_eq!(view(&t.state, &admin, north).await.unwrap().policy, wanted);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE action = 'clinic.policy' AND entity_id = {north}"
        ))
        .await,
        1
    );
}
both_dbs!(
    policy_settings,
    the_cancellation_policy_is_set_by_admins_and_checked
);

async fn patients_see_their_own_appointments_with_the_policy_applied(b: Backend) {
    use app::domain::booking::validate_cancel;
    use app::domain::policy::Decision;
    use app::model::MyAppointmentTab;
    use app::server::service::appointments::{cancel, create, CancelScope, NewAppointment};
    use app::server::service::portal::my_appointments;
    use chrono::NaiveDate;

    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let patel = t
        .id("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'")
        .await;
    let video = t
        .id("SELECT id FROM service WHERE name = 'Video consultation'")
        .await;
    let ben = t.me("ben@patients.test").await;
    let ann = t.me("ann@patients.test").await;
    let sched = t.me("scheduler@northside.test").await;
    sqlx::query("INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, 'patient', 0) ON CONFLICT DO NOTHING")
        .bind(ben.user_id)
        .bind(north)
        .execute(&t.state.db.pool)
        .await
        .unwrap();
    // Monday 16 March 2026, 10:00 in New York: 01:00 on the Tuesday in Sydney (Ben's zone).
    let made = create(
        &t.state,
        &sched,
        NewAppointment {
            clinic_id: north,
            provider_id: patel,
            patient_id: ben.user_id,
            service_id: video,
            start_local: NaiveDate::from_ymd_opt(2026, 3, 16)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
            end_local: None,
            location: String::new(),
            invited: vec![],
            recurrence: None,
        },
    )
    .await
    .unwrap();
    let id = made.ids[0];

    let mine = my_appointments(&t.state, &ben).await.unwrap();
    let a = mine
        .iter()
        .find(|a| a.id == id)
        .expect("Ben sees his appointment");
    assert_eq!(a.tab, MyAppointmentTab::Upcoming);
    assert_eq!(
        a.when_clinic,
        "Mon, Mar 16, 2026, 10:00 AM–10:30 AM (America/New_York)"
    );
    assert_eq!(
        a.when_mine.as_deref(),
        Some("Tue, Mar 17, 2026, 1:00 AM–1:30 AM (Australia/Sydney)")
    );
    assert_eq!(a.cancel, Some(Decision::Direct));
    assert_eq!(a.cancel_deadline, "Sun, Mar 15, 2026, 10:00 AM");
    assert!(a.rebook_link.is_none());
    // Ann never sees it; everything Ann sees is hers.
    let anns = my_appointments(&t.state, &ann).await.unwrap();
    assert!(anns.iter().all(|a| a.id != id));
    let ann_own = t
        .count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE patient_id = {}",
            ann.user_id
        ))
        .await;
    assert_eq!(anns.len() as i64, ann_own);

    // 23 hours before: inside the 24-hour window, with Northside's fee.
    t.clock
        .set(chrono::DateTime::from_timestamp(1_773_669_600 - 23 * 3600, 0).unwrap());
    let a = my_appointments(&t.state, &ben)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap();
    let fee = t
        .count(&format!(
            "SELECT late_cancel_fee_cents FROM clinic WHERE id = {north}"
        ))
        .await;
    assert_eq!(a.cancel, Some(Decision::InsideWindow { fee_cents: fee }));

    // Cancelled by the practice for a reason that invites rebooking: the
    // portal offers to book again with Dr Patel.
    let form = validate_cancel("prov", "", "Dr Patel is unwell; please rebook.").unwrap();
    cancel(&t.state, &sched, id, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    let a = my_appointments(&t.state, &ben)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap();
    assert_eq!(a.tab, MyAppointmentTab::Cancelled);
    assert_eq!(a.cancel, None);
    assert!(a
        .cancellation
        .as_deref()
        .unwrap()
        .contains("Dr Patel is unwell; please rebook."));
    assert_eq!(
        a.rebook_link,
        Some(format!("/book/northside?provider={patel}"))
    );
}
both_dbs!(
    my_appointments,
    patients_see_their_own_appointments_with_the_policy_applied
);

/// Ben's 30-minute Video consultation with Dr Patel at `h`:00 on a March
/// 2026 day, New York time, booked by the scheduler.
async fn ben_booking(t: &common::TestApp, day: u32, h: u32) -> i64 {
    use app::server::service::appointments::{create, NewAppointment};
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let ben = t.me("ben@patients.test").await;
    sqlx::query("INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, 'patient', 0) ON CONFLICT DO NOTHING")
        .bind(ben.user_id)
        .bind(north)
        .execute(&t.state.db.pool)
        .await
        .unwrap();
    let new = NewAppointment {
        clinic_id: north,
        provider_id: t
            .id("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'")
            .await,
        patient_id: ben.user_id,
        service_id: t
            .id("SELECT id FROM service WHERE name = 'Video consultation'")
            .await,
        start_local: chrono::NaiveDate::from_ymd_opt(2026, 3, day)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap(),
        end_local: None,
        location: String::new(),
        invited: vec![],
        recurrence: None,
    };
    let sched = t.me("scheduler@northside.test").await;
    create(&t.state, &sched, new).await.unwrap().ids[0]
}

async fn a_patient_cancels_as_the_policy_allows(b: Backend) {
    use app::model::ChangeOutcome as CancelOutcome;
    use app::server::service::portal::patient_cancel;
    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let ben = t.me("ben@patients.test").await;
    let ann = t.me("ann@patients.test").await;
    let admin = t.me("admin@northside.test").await;

    // Direct policy, well before the window: cancelled at once.
    let direct = ben_booking(&t, 16, 10).await;
    assert_eq!(
        patient_cancel(&t.state, &ann, direct, "", false)
            .await
            .unwrap_err(),
        AppError::NotFound("You have no such appointment.".into()),
        "another patient's appointment does not exist for Ann"
    );
    assert_eq!(
        patient_cancel(&t.state, &ben, direct, "Feeling better", false)
            .await
            .unwrap(),
        CancelOutcome::Done
    );
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {direct} AND status = 'cancelled' AND cancel_reason_code = 'pat' \
             AND cancel_text = 'Feeling better' AND cancelled_by = {}",
            ben.user_id
        ))
        .await,
        1
    );
    assert!(matches!(
        patient_cancel(&t.state, &ben, direct, "", false).await,
        Err(AppError::Validation(_))
    ));

    // Approval policy: a request, and only one.
    let approval = Policy {
        needs_approval: true,
        ..Policy::default()
    };
    save_policy(&t.state, &admin, north, approval)
        .await
        .unwrap();
    let id = ben_booking(&t, 17, 10).await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (state, ben) = (t.state.clone(), ben.clone());
            tokio::spawn(async move { patient_cancel(&state, &ben, id, "Travelling", false).await })
        })
        .collect();
    let mut requested = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(CancelOutcome::Requested {
                within_window: false,
                ..
            }) => requested += 1,
            Err(AppError::Conflict(m)) => assert!(m.contains("already asked"), "{m}"),
            other => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(requested, 1, "one request however many clicks");
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE appointment_id = {id} AND kind = 'cancel' AND status = 'pending' \
             AND within_policy_window = 0"
        ))
        .await,
        1
    );
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {id} AND status = 'booked'"
        ))
        .await,
        1
    );

    // Inside the window: told to call; sent only when the patient insists, flagged.
    let late = ben_booking(&t, 18, 10).await;
    t.clock
        .set(chrono::DateTime::from_timestamp(1_773_842_400 - 3 * 3600, 0).unwrap());
    let err = patient_cancel(&t.state, &ben, late, "", false)
        .await
        .unwrap_err();
    assert!(
        err.message().contains("Please call +1 212 555 0100"),
        "{err:?}"
    );
    assert_eq!(err.status(), 400);
    let out = patient_cancel(&t.state, &ben, late, "Sick", true)
        .await
        .unwrap();
    assert!(matches!(
        out,
        CancelOutcome::Requested {
            within_window: true,
            ..
        }
    ));
    assert_eq!(
        t.count(&format!("SELECT COUNT(*) FROM request WHERE appointment_id = {late} AND within_policy_window = 1")).await,
        1
    );
}
both_dbs!(patient_cancel, a_patient_cancels_as_the_policy_allows);

/// A New York wall-clock time in March 2026, as unix seconds.
fn ny(day: u32, h: u32, m: u32) -> i64 {
    use chrono::TimeZone;
    chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 3, day, h, m, 0)
        .single()
        .unwrap()
        .timestamp()
}

async fn appointment_at(t: &common::TestApp, id: i64) -> (String, i64, i64) {
    let r = sqlx::query("SELECT status, starts_at, ends_at FROM appointment WHERE id = $1")
        .bind(id)
        .fetch_one(&t.state.db.pool)
        .await
        .unwrap();
    use sqlx::Row;
    (r.get(0), r.get(1), r.get(2))
}

async fn a_patient_reschedules_into_the_providers_free_slots(b: Backend) {
    use app::model::ChangeOutcome;
    use app::server::service::portal::{patient_reschedule, reschedule_slots};
    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let ben = t.me("ben@patients.test").await;
    let ann = t.me("ann@patients.test").await;
    let admin = t.me("admin@northside.test").await;
    let id = ben_booking(&t, 16, 10).await;
    let busy = ben_booking(&t, 16, 12).await;

    // The offered times: Dr Patel's free 30-minute slots, including ones
    // overlapping the appointment's own time, never the other booking's.
    let days = reschedule_slots(&t.state, &ben, id).await.unwrap();
    let offered: Vec<i64> = days
        .iter()
        .flat_map(|d| d.slots.iter().map(|s| s.start))
        .collect();
    assert!(
        offered.contains(&ny(16, 9, 30)),
        "overlaps its own time: offered"
    );
    assert!(offered.contains(&ny(16, 11, 0)));
    assert!(!offered.contains(&ny(16, 12, 0)), "Ben's other booking");
    assert!(!offered.contains(&ny(16, 10, 0)), "its current time");
    assert!(!offered.contains(&ny(16, 17, 0)), "after hours");
    assert!(matches!(
        reschedule_slots(&t.state, &ann, id).await,
        Err(AppError::NotFound(_))
    ));

    // Bad input changes nothing.
    for (who, to, what) in [
        (&ann, ny(16, 11, 0), "someone else's appointment"),
        (&ben, ny(16, 12, 0), "a booked time"),
        (&ben, ny(16, 18, 0), "outside the provider's hours"),
        (&ben, ny(16, 10, 0), "the same time"),
        (&ben, ny(2, 10, 0), "the past"),
    ] {
        let err = patient_reschedule(&t.state, who, id, to, "", false)
            .await
            .unwrap_err();
        assert!((400..500).contains(&err.status()), "{what}: {err:?}");
    }
    assert_eq!(appointment_at(&t, id).await.1, ny(16, 10, 0));

    // Direct policy: it moves at once.
    let out = patient_reschedule(&t.state, &ben, id, ny(16, 9, 30), "", false)
        .await
        .unwrap();
    assert_eq!(out, ChangeOutcome::Done);
    assert_eq!(
        appointment_at(&t, id).await,
        ("booked".into(), ny(16, 9, 30), ny(16, 10, 0))
    );

    // Approval policy: a request with the requested time, the appointment stays.
    save_policy(
        &t.state,
        &admin,
        north,
        Policy {
            needs_approval: true,
            ..Policy::default()
        },
    )
    .await
    .unwrap();
    let out = patient_reschedule(&t.state, &ben, busy, ny(17, 15, 0), "Clash at work", false)
        .await
        .unwrap();
    assert!(matches!(
        out,
        ChangeOutcome::Requested {
            within_window: false,
            ..
        }
    ));
    assert_eq!(appointment_at(&t, busy).await.1, ny(16, 12, 0));
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE appointment_id = {busy} AND kind = 'reschedule' \
             AND status = 'pending' AND requested_times = '[{}]' AND note = 'Clash at work'",
            ny(17, 15, 0)
        ))
        .await,
        1
    );
    let err = patient_reschedule(&t.state, &ben, busy, ny(17, 16, 0), "", false)
        .await
        .unwrap_err();
    assert!(err.message().contains("already asked"), "{err:?}");
}
both_dbs!(
    patient_reschedule,
    a_patient_reschedules_into_the_providers_free_slots
);

/// A patient's reschedule never tells them about another patient's
/// appointment: not ten weeks ahead (the calendar used to be checked 30
/// days ahead only, and the database's conflict detail reached the patient:
/// "appointment #21 with Ann Archer on …"), not within the first weeks,
/// and beyond the clinic's booking horizon (90 days, then 28) it is refused
/// as such, 2099 included.
async fn a_patients_reschedule_never_names_another_patient(b: Backend) {
    use app::server::service::appointments::{create, NewAppointment};
    use app::server::service::portal::patient_reschedule;
    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let ben = t.me("ben@patients.test").await;
    let id = ben_booking(&t, 16, 10).await;
    let sched = t.me("scheduler@northside.test").await;
    let ann_at = |date: chrono::NaiveDate| NewAppointment {
        clinic_id: north,
        provider_id: 0,
        patient_id: 0,
        service_id: 0,
        start_local: date.and_hms_opt(11, 0, 0).unwrap(),
        end_local: None,
        location: String::new(),
        invited: vec![],
        recurrence: None,
    };
    let patel = t
        .id("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'")
        .await;
    let ann = t
        .id("SELECT id FROM app_user WHERE email = 'ann@patients.test'")
        .await;
    let service = t
        .id("SELECT id FROM service WHERE name = 'Video consultation'")
        .await;
    let mut far = ann_at(chrono::NaiveDate::from_ymd_opt(2026, 5, 12).unwrap());
    let mut near = ann_at(chrono::NaiveDate::from_ymd_opt(2026, 3, 17).unwrap());
    for n in [&mut far, &mut near] {
        (n.provider_id, n.patient_id, n.service_id) = (patel, ann, service);
    }
    create(&t.state, &sched, far).await.unwrap();
    create(&t.state, &sched, near).await.unwrap();
    let ny_on = |y: i32, mo: u32, d: u32, h: u32| {
        use chrono::TimeZone;
        chrono_tz::America::New_York
            .with_ymd_and_hms(y, mo, d, h, 0, 0)
            .single()
            .unwrap()
            .timestamp()
    };
    let taken = "That time is not free any more. Choose another of the times offered.";
    let beyond = "Choose a time within the next 90 days, from the free times shown.";
    let try_all = |cases: Vec<(i64, &'static str, &'static str)>| {
        let (t, ben) = (&t, &ben);
        async move {
            for (to, what, want) in cases {
                let err = patient_reschedule(&t.state, ben, id, to, "", false)
                    .await
                    .unwrap_err();
                assert!((400..500).contains(&err.status()), "{what}: {err:?}");
                assert_eq!(err.message(), want, "{what}");
            }
        }
    };
    try_all(vec![
        (ny_on(2026, 5, 12, 11), "Ann's time, 10 weeks ahead", taken),
        (ny_on(2026, 3, 17, 11), "Ann's time, in two weeks", taken),
        (ny_on(2026, 6, 30, 11), "a free time 17 weeks ahead", beyond),
        (ny_on(2099, 3, 17, 11), "2099", beyond),
    ])
    .await;
    // The admin shortens the horizon to four weeks: ten weeks is now too far.
    let admin = t.me("admin@northside.test").await;
    let mut p = app::server::service::clinic_settings::policy(
        &mut t.state.db.pool.acquire().await.unwrap(),
        north,
    )
    .await
    .unwrap();
    p.booking_horizon_days = 28;
    app::server::service::clinic_settings::save_policy(&t.state, &admin, north, p)
        .await
        .unwrap();
    try_all(vec![(
        ny_on(2026, 5, 12, 11),
        "Ann's time, 10 weeks ahead, horizon 28 days",
        "Choose a time within the next 4 weeks, from the free times shown.",
    )])
    .await;
    assert_eq!(
        appointment_at(&t, id).await.1,
        ny(16, 10, 0),
        "nothing moved"
    );
}
both_dbs!(
    patient_reschedule_privacy,
    a_patients_reschedule_never_names_another_patient
);

/// A pending change request from Ben for a fresh booking, under the
/// approval policy; returns (appointment, request).
async fn pending_change(t: &common::TestApp, day: u32, cancel: bool) -> (i64, i64) {
    use app::model::ChangeOutcome;
    use app::server::service::portal::{patient_cancel, patient_reschedule};
    let ben = t.me("ben@patients.test").await;
    let id = ben_booking(t, day, 10).await;
    let out = if cancel {
        patient_cancel(&t.state, &ben, id, "Travelling", false).await
    } else {
        patient_reschedule(&t.state, &ben, id, ny(day, 14, 0), "Later please", false).await
    };
    match out.unwrap() {
        ChangeOutcome::Requested { request_id, .. } => (id, request_id),
        other => panic!("expected a request, got {other:?}"),
    }
}

fn reply(
    request_id: i64,
    answer: app::domain::request::ChangeAnswer,
    start: Option<(u32, u32)>,
) -> app::server::service::change_requests::Reply {
    app::server::service::change_requests::Reply {
        request_id,
        answer,
        reason: "Schedule change".into(),
        message: "See you then".into(),
        start_local: start.map(|(day, h)| {
            chrono::NaiveDate::from_ymd_opt(2026, 3, day)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        }),
    }
}

async fn the_practice_answers_change_requests(b: Backend) {
    use app::domain::request::ChangeAnswer::*;
    use app::server::service::change_requests::{answer, queue};
    use app::server::service::portal::{answer_proposal, my_appointments};
    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let admin = t.me("admin@northside.test").await;
    let sched = t.me("scheduler@northside.test").await;
    let ben = t.me("ben@patients.test").await;
    let ann = t.me("ann@patients.test").await;
    let harbour = t.me("admin@harbour.test").await;
    let lee = t.me("dr.lee@northside.test").await;
    let patel = t.me("dr.patel@northside.test").await;
    save_policy(
        &t.state,
        &admin,
        north,
        Policy {
            needs_approval: true,
            late_cancel_fee_cents: 5000,
            ..Policy::default()
        },
    )
    .await
    .unwrap();

    // Deny keeps the original; the patient sees the answer.
    let (a1, r1) = pending_change(&t, 16, false).await;
    let q = queue(&t.state, &sched).await.unwrap();
    let row = q.rows.iter().find(|r| r.id == r1).expect("in the queue");
    assert_eq!(
        row.requested.as_deref(),
        Some("Mon, Mar 16, 2026, 2:00 PM–2:30 PM")
    );
    assert_eq!(row.original, "Mon, Mar 16, 2026, 10:00 AM–10:30 AM");
    assert!(
        queue(&t.state, &patel)
            .await
            .unwrap()
            .rows
            .iter()
            .any(|r| r.id == r1),
        "the host sees it"
    );
    assert!(
        !queue(&t.state, &lee)
            .await
            .unwrap()
            .rows
            .iter()
            .any(|r| r.id == r1),
        "another provider does not"
    );
    assert!(queue(&t.state, &harbour).await.unwrap().rows.is_empty());
    assert!(matches!(
        queue(&t.state, &ben).await,
        Err(AppError::Forbidden(_))
    ));
    // Staff of another clinic, a patient, an unknown id: nothing exists.
    for who in [&harbour, &ben, &ann] {
        assert!(
            matches!(
                answer(&t.state, who, reply(r1, Deny, None)).await,
                Err(AppError::NotFound(_))
            ),
            "{}",
            who.name
        );
    }
    assert!(matches!(
        answer(&t.state, &sched, reply(999_999, Deny, None)).await,
        Err(AppError::NotFound(_))
    ));
    assert!(
        matches!(
            answer(&t.state, &lee, reply(r1, Deny, None)).await,
            Err(AppError::Forbidden(_))
        ),
        "a provider cannot answer for another's appointment"
    );
    let mut no_reason = reply(r1, Deny, None);
    no_reason.reason = "  ".into();
    assert!(matches!(
        answer(&t.state, &sched, no_reason).await,
        Err(AppError::Validation(_))
    ));
    answer(&t.state, &sched, reply(r1, Deny, None))
        .await
        .unwrap();
    assert_eq!(
        appointment_at(&t, a1).await,
        ("booked".into(), ny(16, 10, 0), ny(16, 10, 30))
    );
    let err = answer(&t.state, &sched, reply(r1, Approve, None))
        .await
        .unwrap_err();
    assert!(err.message().contains("already been answered"), "{err:?}");
    let mine = my_appointments(&t.state, &ben).await.unwrap();
    let card = mine.iter().find(|a| a.id == a1).unwrap();
    assert_eq!(
        card.clinic_answer.as_deref(),
        Some("Denied — Schedule change — See you then")
    );
    assert_eq!(card.pending_change, None);

    // Approve a reschedule: it moves to the requested time.
    let (a2, r2) = pending_change(&t, 17, false).await;
    answer(&t.state, &patel, reply(r2, Approve, None))
        .await
        .unwrap();
    assert_eq!(
        appointment_at(&t, a2).await,
        ("booked".into(), ny(17, 14, 0), ny(17, 14, 30))
    );

    // Approve a late cancellation: cancelled, with the fee recorded.
    let (a3, r3) = pending_change(&t, 18, true).await;
    sqlx::query("UPDATE request SET within_policy_window = 1 WHERE id = $1")
        .bind(r3)
        .execute(&t.state.db.pool)
        .await
        .unwrap();
    answer(&t.state, &sched, reply(r3, Approve, None))
        .await
        .unwrap();
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {a3} AND status = 'cancelled' AND cancel_late = 1 \
             AND cancel_fee_cents = 5000 AND cancel_text = 'Schedule change' AND cancel_message = 'See you then'"
        ))
        .await,
        1
    );
    assert_eq!(t.count(&format!("SELECT COUNT(*) FROM request WHERE id = {r3} AND status = 'accepted' AND outcome = 'approve'")).await, 1);
    // Staff see the fee on the booking afterwards.
    {
        use app::model::BookingStatusFilter;
        use app::server::service::bookings::{list, BookingQuery};
        let cancelled = list(
            &t.state,
            &sched,
            BookingQuery {
                status: BookingStatusFilter::Cancelled,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let row = cancelled.rows.iter().find(|r| r.id == a3).expect("listed");
        assert_eq!(row.late_fee.as_deref(), Some("$50.00"));
        assert!(cancelled
            .rows
            .iter()
            .filter(|r| r.id != a3)
            .all(|r| r.late_fee.is_none()));
    }
    // So does the patient, in the portal.
    let mine = my_appointments(&t.state, &ben).await.unwrap();
    let card = mine.iter().find(|m| m.id == a3).expect("Ben's");
    assert!(
        card.cancellation
            .as_deref()
            .is_some_and(|c| c.ends_with("Late cancellation fee $50.00")),
        "{:?}",
        card.cancellation
    );

    // Propose Changes: a busy time is refused and nothing changes; then
    // Tentative at the new time until the patient approves, once.
    let (a4, r4) = pending_change(&t, 19, false).await;
    let other = ben_booking(&t, 20, 11).await;
    let err = answer(&t.state, &sched, reply(r4, Propose, Some((20, 11))))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409, "{err:?}");
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE id = {r4} AND status = 'pending'"
        ))
        .await,
        1
    );
    assert!(matches!(
        answer(&t.state, &sched, reply(r4, Propose, None)).await,
        Err(AppError::Validation(_))
    ));
    answer(&t.state, &sched, reply(r4, Propose, Some((20, 15))))
        .await
        .unwrap();
    assert_eq!(
        appointment_at(&t, a4).await,
        ("pending".into(), ny(20, 15, 0), ny(20, 15, 30))
    );
    let card = my_appointments(&t.state, &ben)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == a4)
        .unwrap();
    assert_eq!(card.tab, app::model::MyAppointmentTab::Tentative);
    assert_eq!(
        card.proposed_instead_of.as_deref(),
        Some("Thu, Mar 19, 2026, 10:00 AM")
    );
    assert!(matches!(
        answer_proposal(&t.state, &ann, a4, true).await,
        Err(AppError::NotFound(_))
    ));
    let twice: Vec<_> = (0..4)
        .map(|_| {
            let (state, ben) = (t.state.clone(), ben.clone());
            tokio::spawn(async move { answer_proposal(&state, &ben, a4, true).await })
        })
        .collect();
    let mut ok = 0;
    for task in twice {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(AppError::Conflict(m)) => assert!(m.contains("already answered"), "{m}"),
            other => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(ok, 1, "a proposal is answered once");
    assert_eq!(
        appointment_at(&t, a4).await,
        ("booked".into(), ny(20, 15, 0), ny(20, 15, 30))
    );
    let _ = other;

    // A proposal the patient cancels instead.
    let (a5, r5) = pending_change(&t, 23, false).await;
    answer(&t.state, &sched, reply(r5, Propose, Some((24, 9))))
        .await
        .unwrap();
    answer_proposal(&t.state, &ben, a5, false).await.unwrap();
    assert_eq!(appointment_at(&t, a5).await.0, "cancelled");

    // Cancel and Update Appointment, and two staff answering at once.
    let (a6, r6) = pending_change(&t, 25, false).await;
    answer(&t.state, &sched, reply(r6, Cancel, None))
        .await
        .unwrap();
    assert_eq!(appointment_at(&t, a6).await.0, "cancelled");
    let (a7, r7) = pending_change(&t, 26, true).await;
    let racers: Vec<_> = [
        (sched.clone(), Update),
        (admin.clone(), Deny),
        (patel.clone(), Approve),
    ]
    .into_iter()
    .map(|(who, what)| {
        let state = t.state.clone();
        tokio::spawn(async move { answer(&state, &who, reply(r7, what, Some((27, 13)))).await })
    })
    .collect();
    let mut won = 0;
    for task in racers {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(AppError::Conflict(m)) => assert!(m.contains("answered"), "{m}"),
            other => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one answer wins");
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM request WHERE id = $1")
        .bind(r7)
        .fetch_one(&t.state.db.pool)
        .await
        .unwrap();
    let (status, start, _) = appointment_at(&t, a7).await;
    let expected = match outcome.as_str() {
        "update" => ("booked", ny(27, 13, 0)),
        "deny" => ("booked", ny(26, 10, 0)),
        "approve" => ("cancelled", ny(26, 10, 0)),
        other => panic!("unexpected outcome {other}"),
    };
    assert_eq!(
        (status.as_str(), start),
        expected,
        "the winner's answer, whole"
    );
    let (a8, r8) = pending_change(&t, 30, false).await;
    answer(&t.state, &admin, reply(r8, Update, Some((31, 16))))
        .await
        .unwrap();
    assert_eq!(
        appointment_at(&t, a8).await,
        ("booked".into(), ny(31, 16, 0), ny(31, 16, 30))
    );

    // Every answer is audited.
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit WHERE action = 'request.answer'")
            .await,
        8
    );
}
both_dbs!(staff_answers, the_practice_answers_change_requests);

/// When the practice cancels an appointment, the patient's pending request
/// to move it has nothing left to ask: it leaves the queue as withdrawn,
/// the patient is told once (the cancellation), and a late answer to it is
/// refused.
async fn a_staff_cancel_closes_the_pending_change_request(b: Backend) {
    use app::domain::booking::validate_cancel;
    use app::server::service::appointments::{cancel, CancelScope};
    use app::server::service::change_requests::{answer, queue};
    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let admin = t.me("admin@northside.test").await;
    let sched = t.me("scheduler@northside.test").await;
    save_policy(
        &t.state,
        &admin,
        north,
        Policy {
            needs_approval: true,
            ..Policy::default()
        },
    )
    .await
    .unwrap();
    let (id, request) = pending_change(&t, 16, false).await;
    assert!(queue(&t.state, &sched)
        .await
        .unwrap()
        .rows
        .iter()
        .any(|r| r.id == request));
    let to_ben = "SELECT COUNT(*) FROM outbox WHERE recipient = 'ben@patients.test'";
    let before = t.count(to_ben).await;

    let form = validate_cancel("prov", "", "").unwrap();
    cancel(&t.state, &sched, id, CancelScope::ThisOnly, form)
        .await
        .unwrap();
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE id = {request} AND status = 'withdrawn'"
        ))
        .await,
        1
    );
    assert!(!queue(&t.state, &sched)
        .await
        .unwrap()
        .rows
        .iter()
        .any(|r| r.id == request));
    assert_eq!(t.count(to_ben).await - before, 1, "only the cancellation");
    let late = answer(
        &t.state,
        &sched,
        reply(request, app::domain::request::ChangeAnswer::Deny, None),
    )
    .await;
    assert!(matches!(late, Err(AppError::Conflict(_))), "{late:?}");
}
both_dbs!(
    staff_cancel_closes_request,
    a_staff_cancel_closes_the_pending_change_request
);
