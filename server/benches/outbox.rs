//! Outbox benchmarks (run: `cargo bench -p server --bench outbox`; set
//! `SLOTWISE_TEST_PG_URL` to include PostgreSQL).
//!
//! Over a demo database, with a real SMTP server on a loopback port (the
//! tests' server, which speaks the protocol and keeps what it receives):
//!
//! 1. delivery throughput: 2,000 queued emails (rendered messages with an
//!    iCalendar attachment), delivered by the worker, in messages/s;
//! 2. the cancel service function's latency (the cancel, its audit entry,
//!    outbox rows and live event in one transaction) with the delivery
//!    worker running and idle, then while it works through a 1,000-message
//!    backlog: the request path must not slow down.
//!
//! Figures are printed; nothing here asserts a time.

// The tests' SMTP server (parts of it go unused here).
#[path = "../tests/common/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use app::domain::booking::validate_cancel;
use app::server::clock::SystemClock;
use app::server::config::{Config, Smtp, SmtpTls};
use app::server::notify::{ics, render};
use app::server::outbox::{deliver_due, Transports};
use app::server::service::appointments::{cancel, create, CancelScope, NewAppointment};
use app::server::service::{Change, OutboxMessage};
use app::server::state::AppState;
use chrono::{Duration, NaiveTime, Utc};
use std::sync::Arc;
use std::time::Instant;

const THROUGHPUT_MESSAGES: usize = 2_000;
const CANCELS: usize = 200;
const BACKLOG: usize = 1_000;

#[path = "support/stats.rs"]
mod stats;
use stats::percentile;

async fn app(url: String, smtp_port: u16) -> AppState {
    let config = Config {
        database_url: url,
        demo: true,
        smtp: Some(Smtp {
            host: "127.0.0.1".into(),
            port: smtp_port,
            tls: SmtpTls::None,
            username: None,
            password: None,
        }),
        outbox_poll_ms: 200,
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

/// Northside's scheduler, as a session would resolve them.
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

async fn sent(state: &AppState) -> i64 {
    id(state, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'").await
}

async fn pending(state: &AppState) -> i64 {
    id(
        state,
        "SELECT COUNT(*) FROM outbox WHERE status = 'pending'",
    )
    .await
}

/// Queues `n` realistic emails (HTML, text, calendar attachment).
async fn queue_emails(state: &AppState, n: usize, tag: &str) {
    let tz = chrono_tz::America::New_York;
    let start = Utc::now() + Duration::days(3);
    let facts = render::Facts {
        clinic: "Northside Telehealth".into(),
        tz: Some(tz),
        patient: "Ann Archer".into(),
        meeting: Some(render::Meeting {
            starts_at: start.timestamp(),
            ends_at: start.timestamp() + 1800,
            practitioner: "Dr. Priya Patel".into(),
            service: "Video consultation".into(),
            location: "Video".into(),
            video_url: "https://meet.slotwise.test/abc-def".into(),
            series_count: 1,
            ..Default::default()
        }),
        ..Default::default()
    };
    let m = render::message(
        app::domain::notify::NotifyEvent::AppointmentCancelled,
        render::Reader::Patient,
        &facts,
    );
    let cal = ics::calendar(
        Some(ics::Method::Cancel),
        Utc::now(),
        &[ics::Event {
            tz,
            uid: "appointment-1@northside.slotwise".into(),
            sequence: 1,
            start,
            end: start + Duration::minutes(30),
            summary: "Video consultation with Dr. Priya Patel".into(),
            description: String::new(),
            location: "Video".into(),
            url: String::new(),
            status: ics::Status::Cancelled,
            rrule: None,
            occurrence: None,
            organizer: (
                "Northside Telehealth".into(),
                "no-reply@slotwise.local".into(),
            ),
            attendees: vec![("Ann Archer".into(), "ann@patients.test".into())],
        }],
    );
    // A few hundred per transaction, as a busy clinic's changes would add up.
    for chunk in (0..n).collect::<Vec<_>>().chunks(250) {
        let mut change = Change::begin(state).await.unwrap();
        for i in chunk {
            change
                .outbox(OutboxMessage {
                    recipient_user_id: None,
                    recipient: format!("patient{i}@patients.test"),
                    channel: "email",
                    event: "appointment_cancelled".into(),
                    subject: m.subject.clone(),
                    body_text: m.text.clone(),
                    body_html: m.html.clone(),
                    attachment: Some(cal.clone()),
                    attachment_extra: None,
                    idempotency_key: format!("bench/{tag}/{i}"),
                    clinic_id: None,
                    appointment_id: None,
                })
                .await
                .unwrap();
        }
        change.commit().await.unwrap();
    }
}

/// Books `n` half-hour meetings for Dr. Patel, an hour apart, far ahead.
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

/// Cancels each appointment in turn; returns the latencies (ms), sorted.
async fn time_cancels(state: &AppState, ids: &[i64]) -> Vec<f64> {
    let me = scheduler(state).await;
    let mut ms = Vec::with_capacity(ids.len());
    for a in ids {
        let form = validate_cancel("prov", "Provider unavailable", "Sorry.").unwrap();
        let t = Instant::now();
        cancel(state, &me, *a, CancelScope::ThisOnly, form)
            .await
            .expect("cancel");
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    ms
}

async fn drain(state: &AppState, t: &Transports) {
    while deliver_due(state, t).await.unwrap() > 0 {}
}

async fn run(backend: &str, url: String) {
    println!("\n[{backend}]");
    let mut smtp = smtp::SmtpServer::start().await;
    let state = app(url, smtp.addr.port()).await;
    let transports = Transports::new(&state.config).unwrap();

    // 1. Throughput.
    queue_emails(&state, THROUGHPUT_MESSAGES, "throughput").await;
    let received = smtp.messages().len();
    let t = Instant::now();
    drain(&state, &transports).await;
    let secs = t.elapsed().as_secs_f64();
    let got = smtp.messages().len() - received;
    println!(
        "  delivery: {got} emails (HTML + text + .ics, ~{} KB each) to a local SMTP server in {secs:.2} s \
         = {:.0} messages/s ({} at once)",
        smtp.messages().last().map(|m| m.data.len() / 1024).unwrap_or(0),
        got as f64 / secs,
        state.config.outbox_concurrency
    );

    // For comparison: the same work kept in the dev mailbox (no SMTP), so
    // the database's share of the time shows.
    queue_emails(&state, THROUGHPUT_MESSAGES, "mailbox").await;
    let mailbox = Transports::new(&Config {
        smtp: None,
        ..(*state.config).clone()
    })
    .unwrap();
    let t = Instant::now();
    drain(&state, &mailbox).await;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "  the same {THROUGHPUT_MESSAGES} kept in the dev mailbox (database work only): {secs:.2} s = {:.0} messages/s",
        THROUGHPUT_MESSAGES as f64 / secs
    );

    // 2. The cancel path, with the worker running.
    let ids = book(&state, 2 * CANCELS, 120).await;
    drain(&state, &transports).await;
    let worker = app::server::outbox::spawn(state.clone()).unwrap();
    let idle = time_cancels(&state, &ids[..CANCELS]).await;
    queue_emails(&state, BACKLOG, "backlog").await;
    let backlog_before = pending(&state).await;
    let sent_before = sent(&state).await;
    let t = Instant::now();
    let busy = time_cancels(&state, &ids[CANCELS..]).await;
    let busy_secs = t.elapsed().as_secs_f64();
    let backlog_after = pending(&state).await;
    let delivered = sent(&state).await - sent_before;
    println!(
        "  cancel, worker idle:               n={CANCELS} p50 {:6.2} ms  p99 {:6.2} ms",
        percentile(&idle, 0.5),
        percentile(&idle, 0.99)
    );
    println!(
        "  cancel, during a {BACKLOG}-message backlog: n={CANCELS} p50 {:6.2} ms  p99 {:6.2} ms  \
         (over {busy_secs:.2} s the worker sent {delivered}; pending {backlog_before} at the start, {backlog_after} at the end)",
        percentile(&busy, 0.5),
        percentile(&busy, 0.99)
    );
    worker.abort();
    smtp.stop().await;
}

#[tokio::main]
async fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn,app::server::events=off")
        .try_init();
    println!(
        "Slotwise outbox benchmarks (release build, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let dir = std::env::temp_dir().join(format!("slotwise-bench-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    run(
        "SQLite",
        format!("sqlite://{}", dir.join("bench.db").display()),
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);

    if let Ok(admin) = std::env::var("SLOTWISE_TEST_PG_URL") {
        use sqlx::Connection;
        let name = format!("slotwise_bench_outbox_{}", std::process::id());
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
