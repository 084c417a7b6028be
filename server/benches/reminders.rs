//! Reminder benchmarks (issue 15; run: `cargo bench -p server --bench
//! reminders`; set `SLOTWISE_TEST_PG_URL` to include PostgreSQL).
//!
//! Over a demo database, first with a small backlog (the 1,400 reminders of
//! the 700 appointments the benchmark books for itself), then with 100,000
//! more scheduled reminders due over the coming week (50,000 booked
//! appointments of 50 extra providers, two reminders each):
//!
//! 1. a timers poll with nothing due (`reminders::tick`: the query that
//!    finds due reminders), p50/p99 of 500 polls;
//! 2. a poll that finds 5 due reminders and queues them (claim, render in
//!    the clinic's words, two one-time links, outbox rows), p50/p99 of 40;
//! 3. the cancel service function (the cancel with its audit entry, outbox
//!    rows, live event, and the appointment's reminders dropped), p50/p99
//!    of 150.
//!
//! The claim: none of these grows with the backlog. Figures are printed;
//! nothing here asserts a time.

use app::domain::booking::validate_cancel;
use app::server::clock::SystemClock;
use app::server::config::Config;
use app::server::service::appointments::{cancel, create, CancelScope, NewAppointment};
use app::server::service::reminders;
use app::server::state::AppState;
use chrono::{Duration, NaiveTime, Utc};
use std::sync::Arc;
use std::time::Instant;

#[path = "support/stats.rs"]
mod stats;
use stats::percentile;

const IDLE_POLLS: usize = 500;
const DUE_POLLS: usize = 40;
const DUE_PER_POLL: usize = 5;
const CANCELS: usize = 150;
const BACKLOG_PROVIDERS: usize = 50;
const PER_PROVIDER: usize = 1_000;

async fn app(url: String) -> AppState {
    let config = Config {
        database_url: url,
        demo: true,
        ..Config::default()
    };
    let options = leptos::config::LeptosOptions::builder()
        .output_name("slotwise")
        .build();
    let state = AppState::new(config, Arc::new(SystemClock), options)
        .await
        .expect("app state");
    app::server::demo::seed_if_empty(&state)
        .await
        .expect("demo data");
    state
}

async fn id(state: &AppState, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
}

async fn scheduler(state: &AppState) -> app::model::Me {
    let user_id = id(
        state,
        "SELECT id FROM app_user WHERE email = 'scheduler@northside.test'",
    )
    .await;
    app::model::Me {
        user_id,
        name: "Sam Rivera".into(),
        email: "scheduler@northside.test".into(),
        memberships: app::server::auth::load_memberships(&state.db, user_id)
            .await
            .unwrap(),
    }
}

/// Books `n` half-hour meetings for Dr. Patel, an hour apart, `day_offset`
/// days ahead (far enough for both reminders to be scheduled).
async fn book(state: &AppState, n: usize, day_offset: i64) -> Vec<i64> {
    let me = scheduler(state).await;
    let clinic = id(state, "SELECT id FROM clinic WHERE slug = 'northside'").await;
    let patel = id(
        state,
        "SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'",
    )
    .await;
    let ann = id(
        state,
        "SELECT id FROM app_user WHERE email = 'ann@patients.test'",
    )
    .await;
    let video = id(
        state,
        "SELECT id FROM service WHERE name = 'Video consultation'",
    )
    .await;
    let first = (Utc::now() + Duration::days(day_offset))
        .date_naive()
        .and_time(NaiveTime::MIN);
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let made = create(
            state,
            &me,
            NewAppointment {
                clinic_id: clinic,
                provider_id: patel,
                patient_id: ann,
                service_id: video,
                start_local: first + Duration::hours(i as i64),
                end_local: None,
                location: "Video".into(),
                invited: vec![],
                recurrence: None,
            },
        )
        .await
        .expect("book");
        ids.push(made.ids[0]);
    }
    ids
}

/// 100,000 scheduled reminders due over the coming week: 50 providers with
/// 1,000 ten-minute appointments each, starting 25 hours from now, and the
/// clinic's two reminders (24 h and 2 h before) of each.
async fn fill_backlog(state: &AppState) -> i64 {
    let now = Utc::now().timestamp();
    let clinic = id(state, "SELECT id FROM clinic WHERE slug = 'northside'").await;
    let video = id(
        state,
        "SELECT id FROM service WHERE name = 'Video consultation'",
    )
    .await;
    let ann = id(
        state,
        "SELECT id FROM app_user WHERE email = 'ann@patients.test'",
    )
    .await;
    for p in 0..BACKLOG_PROVIDERS {
        let mut tx = state.db.begin_write().await.unwrap();
        let host: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (email, name, password_hash, created_at) VALUES ($1, $2, 'x', $3) \
             RETURNING id",
        )
        .bind(format!("bench{p}@northside.test"))
        .bind(format!("Dr. Bench {p}"))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        for chunk in (0..PER_PROVIDER).collect::<Vec<_>>().chunks(250) {
            let values: Vec<String> = chunk
                .iter()
                .map(|k| {
                    let start = now + 25 * 3_600 + *k as i64 * 600;
                    format!(
                        "({clinic}, {video}, {host}, {ann}, {start}, {}, 'booked', {now}, {now})",
                        start + 600
                    )
                })
                .collect();
            sqlx::query(&format!(
                "INSERT INTO appointment (clinic_id, service_id, host_provider_id, patient_id, \
                 starts_at, ends_at, status, created_at, updated_at) VALUES {}",
                values.join(", ")
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        for (nth, before) in [(1, 86_400), (2, 7_200)] {
            sqlx::query(
                "INSERT INTO reminder (appointment_id, clinic_id, nth, for_start, due_at, status, \
                 created_at, updated_at) SELECT id, clinic_id, $1, starts_at, starts_at - $2, \
                 'scheduled', $3, $3 FROM appointment WHERE host_provider_id = $4",
            )
            .bind(nth)
            .bind(before)
            .bind(now)
            .bind(host)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    if state.db.kind == app::server::db::DbKind::Postgres {
        sqlx::query("ANALYZE")
            .execute(&state.db.pool)
            .await
            .unwrap();
    }
    id(
        state,
        "SELECT COUNT(*) FROM reminder WHERE status = 'scheduled'",
    )
    .await
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn line(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "    {what:<44} n={:<4} p50 {:7.2} ms  p99 {:7.2} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99)
    );
}

/// The three measurements; `due` are appointments whose reminders the
/// due polls make due, `cancels` the ones cancelled.
async fn measure(state: &AppState, due: &[i64], cancels: &[i64]) {
    // 1. Polls with nothing due.
    let mut idle = Vec::with_capacity(IDLE_POLLS);
    for _ in 0..IDLE_POLLS {
        let t = Instant::now();
        let n = reminders::tick(state).await.unwrap();
        idle.push(ms_since(t));
        assert_eq!(n, 0);
    }
    line("poll, nothing due (find due reminders)", idle);
    // 2. Polls that find DUE_PER_POLL due: the first reminder of each of
    // those appointments is made due a second ago.
    let mut busy = Vec::with_capacity(DUE_POLLS);
    for chunk in due.chunks(DUE_PER_POLL).take(DUE_POLLS) {
        let now = Utc::now().timestamp();
        sqlx::query(&format!(
            "UPDATE reminder SET due_at = $1 WHERE nth = 1 AND status = 'scheduled' \
             AND appointment_id IN ({})",
            app::server::db::id_list(chunk)
        ))
        .bind(now - 1)
        .execute(&state.db.pool)
        .await
        .unwrap();
        let t = Instant::now();
        let n = reminders::tick(state).await.unwrap();
        busy.push(ms_since(t));
        assert_eq!(n, chunk.len(), "each due reminder queued");
    }
    line(
        &format!("poll, {DUE_PER_POLL} due (find, claim, render, queue)"),
        busy,
    );
    // 3. The cancel service function.
    let me = scheduler(state).await;
    let mut ms = Vec::with_capacity(cancels.len());
    for a in cancels {
        let form = validate_cancel("prov", "Provider unavailable", "Sorry.").unwrap();
        let t = Instant::now();
        cancel(state, &me, *a, CancelScope::ThisOnly, form)
            .await
            .expect("cancel");
        ms.push(ms_since(t));
    }
    line("cancel (drops the appointment's reminders)", ms);
}

async fn run(backend: &str, url: String) {
    println!("\n[{backend}]");
    let state = app(url).await;
    let per_phase = DUE_POLLS * DUE_PER_POLL + CANCELS;
    let ids = book(&state, 2 * per_phase, 30).await;
    let (small, large) = ids.split_at(per_phase);
    let scheduled = id(
        &state,
        "SELECT COUNT(*) FROM reminder WHERE status = 'scheduled'",
    )
    .await;
    println!("  small backlog: {scheduled} scheduled reminders");
    let (due, cancels) = small.split_at(DUE_POLLS * DUE_PER_POLL);
    measure(&state, due, cancels).await;
    let t = Instant::now();
    let scheduled = fill_backlog(&state).await;
    println!(
        "  large backlog: {scheduled} scheduled reminders, due over the next 7 days (filled in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let (due, cancels) = large.split_at(DUE_POLLS * DUE_PER_POLL);
    measure(&state, due, cancels).await;
}

#[tokio::main]
async fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn,app::server::events=off")
        .try_init();
    println!(
        "Slotwise reminder benchmarks (release build, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let dir = std::env::temp_dir().join(format!("slotwise-bench-reminders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    run(
        "SQLite",
        format!("sqlite://{}", dir.join("bench.db").display()),
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);

    if let Ok(admin) = std::env::var("SLOTWISE_TEST_PG_URL") {
        use sqlx::Connection;
        let name = format!("slotwise_bench_reminders_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        run("PostgreSQL", format!("{base}/{name}")).await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    } else {
        println!("\n[PostgreSQL] skipped: set SLOTWISE_TEST_PG_URL");
    }
}
