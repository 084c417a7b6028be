//! Two app instances on one PostgreSQL database, as two processes behind a
//! load balancer would run: each has its own event bus and its own LISTEN
//! connection, so the only way an event gets from one to the other is
//! through PostgreSQL. PostgreSQL only (needs `SLOTWISE_TEST_PG_URL`).

mod common;

use app::domain::live::{topic, LiveEvent, LiveWire};
use app::server::config::Config;
use app::server::events::BusMessage;
use axum::http::StatusCode;
use axum::Router;
use common::web::{self, form, get, post, send, LiveStream, Next};
use common::{Backend, TestApp};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn config() -> Config {
    Config {
        demo: true,
        // Streams re-check their session every 2 heartbeats (30 s): far
        // longer than WAIT, so a stream that ends within WAIT was ended by
        // the logout notification, not by the periodic check.
        heartbeat_secs: 15,
        ..Config::default()
    }
}

/// Waits until `to`'s LISTEN connection hears what `from` broadcasts
/// through PostgreSQL (the listener starts in the background).
async fn wait_until_listening(from: &TestApp, to: &TestApp) {
    let mut rx = to.state.bus.subscribe();
    let probe = format!("probe-{}", std::process::id());
    let heard = tokio::time::timeout(WAIT, async {
        loop {
            from.state
                .broadcast(BusMessage::SessionEnded { token_hash: probe.clone() })
                .await;
            let got = tokio::time::timeout(Duration::from_millis(200), async {
                loop {
                    match rx.recv().await {
                        Ok(m) => {
                            if matches!(&*m, BusMessage::SessionEnded { token_hash } if *token_hash == probe) {
                                return;
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(e) => panic!("bus closed: {e}"),
                    }
                }
            })
            .await;
            if got.is_ok() {
                return;
            }
        }
    })
    .await;
    assert!(
        heard.is_ok(),
        "the second instance never heard PostgreSQL notifications"
    );
}

async fn open_stream(router: &Router, token: &str) -> LiveStream {
    let resp = send(router, get("/api/live", Some(token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut s = LiveStream::new(resp);
    assert_eq!(s.expect_message(WAIT).await, LiveWire::Ready);
    s
}

/// Reads until a change for `entity_id` arrives; fails after WAIT. Returns
/// it with the changes that came before it.
async fn change_for(
    stream: &mut LiveStream,
    entity_id: i64,
    who: &str,
) -> (LiveEvent, Vec<LiveEvent>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut before = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match stream.next(left).await {
            Next::Message(LiveWire::Change(ev)) if ev.entity_id == entity_id => {
                return (ev, before)
            }
            Next::Message(LiveWire::Change(ev)) => before.push(ev),
            Next::Message(_) => {}
            Next::Ended => panic!("{who}: the stream ended before change {entity_id} arrived"),
            Next::Quiet => panic!("{who}: change {entity_id} did not arrive within {WAIT:?}"),
        }
    }
}

/// Asks for a session now through a router, as the patient's browser would.
async fn request_now(router: &Router, token: &str, clinic: i64, service: i64) -> i64 {
    let body = form(&[
        ("clinic_id", &clinic.to_string()),
        ("service_id", &service.to_string()),
        ("mode", "now"),
        ("answers[0]", "A sore throat"),
        ("note", "two instances"),
    ]);
    let resp = send(router, post("/api/request_session", &body, Some(token))).await;
    let status = resp.status();
    let v = web::json(resp).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v.as_i64().unwrap_or_else(|| panic!("not an id: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_events_and_logouts_cross_instances_through_postgres() {
    let url = common::fresh_database(Backend::Postgres).await;
    let a = common::app_on(url.clone(), config()).await;
    assert!(app::server::demo::seed_if_empty(&a.state)
        .await
        .expect("seed"));
    let b = common::app_on(url.clone(), config()).await;
    assert!(
        !app::server::demo::seed_if_empty(&b.state)
            .await
            .expect("seed check"),
        "one database"
    );
    let (router_a, router_b) = (
        server::router(a.state.clone()),
        server::router(b.state.clone()),
    );

    // The buses are separate: what A publishes locally never reaches B.
    let mut b_rx = b.state.bus.subscribe();
    a.state.bus.publish_local(BusMessage::Resync);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), b_rx.recv())
            .await
            .is_err(),
        "instance B heard A's local bus"
    );
    drop(b_rx);
    wait_until_listening(&a, &b).await;

    let north = a.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let harbour = a.id("SELECT id FROM clinic WHERE slug = 'harbour'").await;
    let video = a
        .id("SELECT id FROM service WHERE name = 'Video consultation'")
        .await;
    let cleaning = a.id("SELECT id FROM service WHERE name = 'Cleaning'").await;
    // Harbour takes Now requests too in this test.
    sqlx::query("UPDATE on_demand SET available_now = 1 WHERE clinic_id = $1")
        .bind(harbour)
        .execute(&a.state.db.pool)
        .await
        .unwrap();

    // Sessions made on A are good on B (one database).
    let (sched_token, _) = a.session("scheduler@northside.test").await;
    let (harbour_token, _) = a.session("admin@harbour.test").await;
    let (ben_token, ben) = a.session("ben@patients.test").await;
    let mut sched = open_stream(&router_b, &sched_token).await;
    let mut harbour_admin = open_stream(&router_b, &harbour_token).await;
    let mut ben_stream = open_stream(&router_b, &ben_token).await;

    // A request made on A reaches the Northside scheduler's stream on B...
    let north_req = request_now(&router_a, &ben_token, north, video).await;
    let (ev, _) = change_for(&mut sched, north_req, "scheduler on B").await;
    assert_eq!(
        (ev.topic.as_str(), ev.action.as_str()),
        (topic::REQUEST, "created")
    );
    assert_eq!(ev.clinic_id, Some(north));
    // ...and the patient's own stream on B.
    let (ev, _) = change_for(&mut ben_stream, north_req, "patient on B").await;
    assert_eq!(ev.user_ids, vec![ben.me.user_id]);

    // Harbour's admin does not get Northside's event: the first change on
    // their stream is a Harbour request made after it (events arrive in
    // commit order), and nothing else came before it.
    let harbour_req = request_now(&router_a, &ben_token, harbour, cleaning).await;
    let (ev, earlier) = change_for(&mut harbour_admin, harbour_req, "Harbour admin on B").await;
    assert_eq!(ev.clinic_id, Some(harbour));
    assert!(
        earlier.is_empty(),
        "Harbour's admin saw other clinics' events: {earlier:?}"
    );
    // Nor does Northside's scheduler get Harbour's.
    assert!(
        matches!(sched.next(Duration::from_millis(750)).await, Next::Quiet),
        "the Northside scheduler saw something more"
    );

    // Logging out on A ends the session's stream on B...
    let resp = send(&router_a, post("/api/logout", "", Some(&ben_token))).await;
    assert!(
        resp.status().is_success() || resp.status().is_redirection(),
        "{}",
        resp.status()
    );
    let ended = tokio::time::timeout(WAIT, async {
        loop {
            match ben_stream.next(WAIT).await {
                Next::Ended => return,
                Next::Message(_) => continue,
                Next::Quiet => panic!("the logged-out stream stayed open"),
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the logged-out stream on B did not end within {WAIT:?}"
    );
    // ...and only that one.
    assert!(matches!(
        sched.next(Duration::from_millis(500)).await,
        Next::Quiet
    ));
    assert!(matches!(
        harbour_admin.next(Duration::from_millis(500)).await,
        Next::Quiet
    ));
    let resp = send(&router_b, get("/api/live", Some(&ben_token))).await;
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "the session is gone on B too"
    );

    // Events still flow to the streams that stay open, and the other way
    // round: a change made on B reaches a stream on A.
    wait_until_listening(&b, &a).await;
    let mut harbour_on_a = open_stream(&router_a, &harbour_token).await;
    let ann_token = b.session("ann@patients.test").await.0;
    let ann_req = request_now(&router_b, &ann_token, harbour, cleaning).await;
    for (stream, who) in [
        (&mut harbour_on_a, "Harbour admin on A"),
        (&mut harbour_admin, "Harbour admin on B"),
    ] {
        let (ev, earlier) = change_for(stream, ann_req, who).await;
        assert_eq!(ev.clinic_id, Some(harbour));
        assert!(earlier.is_empty(), "{who}: {earlier:?}");
    }
    assert!(matches!(
        sched.next(Duration::from_millis(500)).await,
        Next::Quiet
    ));
}

/// A burst of 100 wrong logins split across two instances is checked at
/// most the limit times in all: the count is in the shared database, not in
/// each process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_login_limit_holds_across_instances() {
    use app::error::AppError;
    use app::server::service::accounts::login;
    let url = common::fresh_database(Backend::Postgres).await;
    let a = common::app_on(url.clone(), config()).await;
    assert!(app::server::demo::seed_if_empty(&a.state)
        .await
        .expect("seed"));
    let b = a.restart().await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let state = if i % 2 == 0 {
            a.state.clone()
        } else {
            b.clone()
        };
        let addr = format!("10.1.{}.{}", i / 250, i % 250);
        tasks.push(tokio::spawn(async move {
            login(&state, "ann@patients.test", "wrong-password", &addr, "ua").await
        }));
    }
    let (mut checked, mut limited) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Err(AppError::Unauthorized(_)) => checked += 1,
            Err(AppError::RateLimited(_)) => limited += 1,
            other => panic!("unexpected: {:?}", other.err()),
        }
    }
    let max = a.state.config.login_max_failures;
    assert_eq!(checked, max, "exactly the limit was checked across both");
    assert_eq!(limited, 100 - max);
    // Both instances now refuse the right password too.
    for state in [&a.state, &b] {
        let r = login(
            state,
            "ann@patients.test",
            "slotwise-demo",
            "10.2.0.1",
            "ua",
        )
        .await;
        assert!(matches!(r, Err(AppError::RateLimited(_))), "{:?}", r.err());
    }
}
