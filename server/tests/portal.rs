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
