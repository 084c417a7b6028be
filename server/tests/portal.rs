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

    let wanted = Policy {
        cancel_window_minutes: 48 * 60,
        reschedule_window_minutes: 12 * 60,
        needs_approval: true,
        late_cancel_fee_cents: 4_000,
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
        "Mon 16 Mar 2026, 10:00–10:30 (America/New_York)"
    );
    assert_eq!(
        a.when_mine.as_deref(),
        Some("Tue 17 Mar 2026, 01:00–01:30 (Australia/Sydney)")
    );
    assert_eq!(a.cancel, Some(Decision::Direct));
    assert_eq!(a.cancel_deadline, "Sun 15 Mar 2026, 10:00");
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
    use app::server::service::portal::{patient_cancel, CancelOutcome};
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
        CancelOutcome::Cancelled
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
