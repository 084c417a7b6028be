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
