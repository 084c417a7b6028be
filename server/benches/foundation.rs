//! Foundation benchmarks (run: `cargo bench -p server --bench foundation`).
//!
//! Starts the real server on a loopback socket over a fresh SQLite database
//! with the demo data, then measures:
//!
//! 1. authenticated read throughput of a server function (`/api/pending_counts`:
//!    session lookup + memberships + the count query) with concurrent clients;
//! 2. live-event latency from commit to client with 1,000 open SSE streams:
//!    every stream records `now - commit time` for every event it receives.
//!
//! Figures are printed; nothing here asserts a time.

use app::domain::live::LiveWire;
use app::server::clock::SystemClock;
use app::server::config::Config;
use app::server::state::AppState;
use futures::StreamExt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const READ_CLIENTS: usize = 32;
const READ_SECONDS: u64 = 5;
const STREAMS: usize = 1_000;
const EVENTS: usize = 50;

#[path = "support/stats.rs"]
mod stats;
use stats::percentile;

fn raise_fd_limit() {
    // 1,000 streams need ~2,000 descriptors (both ends live in this process).
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

#[tokio::main]
async fn main() {
    raise_fd_limit();
    let dir = std::env::temp_dir().join(format!("slotwise-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = Config {
        database_url: format!("sqlite://{}", dir.join("bench.db").display()),
        demo: true,
        db_max_connections: 16,
        ..Config::default()
    };
    let options = leptos::config::LeptosOptions::builder()
        .output_name("slotwise")
        .build();
    let state = AppState::new(config, Arc::new(SystemClock), options)
        .await
        .unwrap();
    app::server::demo::seed_if_empty(&state).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = server::router(state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let base = format!("http://{addr}");
    println!(
        "Slotwise foundation benchmarks (SQLite, release build, {} cores)",
        num_cpus()
    );

    read_throughput(&state, &base).await;
    live_latency(&state, &base).await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

async fn session_cookie(state: &AppState, email: &str) -> String {
    let user_id: i64 = sqlx::query_scalar("SELECT id FROM app_user WHERE email = $1")
        .bind(email)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let mut conn = state.db.pool.acquire().await.unwrap();
    let token = app::server::auth::create_session(&mut conn, user_id, state.now(), "bench")
        .await
        .unwrap();
    format!("{}={token}", app::server::auth::SESSION_COOKIE)
}

async fn read_throughput(state: &AppState, base: &str) {
    let cookie = session_cookie(state, "scheduler@northside.test").await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(READ_CLIENTS)
        .build()
        .unwrap();
    let url = format!("{base}/api/pending_counts");
    // Warm up (and check it answers).
    let r = client
        .post(&url)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "pending_counts answered {}",
        r.status()
    );

    let deadline = Instant::now() + Duration::from_secs(READ_SECONDS);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..READ_CLIENTS)
        .map(|_| {
            let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
            let (latencies, errors) = (latencies.clone(), errors.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match client.post(&url).header("cookie", &cookie).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            mine.push(t.elapsed().as_secs_f64() * 1e3);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(f64::total_cmp);
    println!(
        "\n[read] authenticated server function (POST /api/pending_counts), {READ_CLIENTS} clients, {READ_SECONDS} s"
    );
    println!(
        "  throughput {:.0} req/s; latency p50 {:.2} ms, p99 {:.2} ms; {} requests, {} errors",
        l.len() as f64 / READ_SECONDS as f64,
        percentile(&l, 0.50),
        percentile(&l, 0.99),
        l.len(),
        errors.load(Ordering::Relaxed)
    );
}

async fn live_latency(state: &AppState, base: &str) {
    // One session per stream, as 1,000 open tabs would have.
    let mut cookies = Vec::with_capacity(STREAMS);
    for i in 0..STREAMS {
        let who = [
            "scheduler@northside.test",
            "admin@northside.test",
            "dr.lee@northside.test",
        ][i % 3];
        cookies.push(session_cookie(state, who).await);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let ready = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(STREAMS * EVENTS)));
    let received = Arc::new(AtomicUsize::new(0));
    for cookie in cookies {
        let (client, url) = (client.clone(), format!("{base}/api/live"));
        let (ready, latencies, received) = (ready.clone(), latencies.clone(), received.clone());
        tokio::spawn(async move {
            let resp = client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success());
            let mut body = resp.bytes_stream();
            let mut buf = String::new();
            let mut mine = Vec::new();
            while let Some(Ok(chunk)) = body.next().await {
                let now = chrono::Utc::now().timestamp_micros();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let frame: String = buf.drain(..end + 2).collect();
                    for line in frame.lines() {
                        let Some(data) = line
                            .strip_prefix("data: ")
                            .or_else(|| line.strip_prefix("data:"))
                        else {
                            continue;
                        };
                        match serde_json::from_str::<LiveWire>(data) {
                            Ok(LiveWire::Ready) => {
                                ready.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(LiveWire::Change(ev)) => {
                                mine.push((now - ev.at_us) as f64 / 1e3);
                                if received.fetch_add(1, Ordering::SeqCst) + 1 == STREAMS * EVENTS {
                                    latencies.lock().unwrap().append(&mut mine);
                                    return;
                                }
                                if mine.len() == EVENTS {
                                    latencies.lock().unwrap().append(&mut mine);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        });
    }
    let t = Instant::now();
    while ready.load(Ordering::SeqCst) < STREAMS {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "streams did not open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "\n[live] {STREAMS} open streams ready in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    // Each event is a real change through the service layer: a new patient
    // asks Northside for a session now.
    let clinic: i64 = sqlx::query_scalar("SELECT id FROM clinic WHERE slug = 'northside'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let service: i64 =
        sqlx::query_scalar("SELECT id FROM service WHERE name = 'Video consultation'")
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    let mut commit_ms = Vec::new();
    for i in 0..EVENTS {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (email, name, password_hash, created_at) VALUES ($1, $2, 'x', 0) RETURNING id",
        )
        .bind(format!("bench{i}@patients.test"))
        .bind(format!("Bench Patient {i}"))
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
        let me = app::model::Me {
            user_id: id,
            name: format!("Bench Patient {i}"),
            email: format!("bench{i}@patients.test"),
            memberships: vec![],
        };
        let t = Instant::now();
        let new = app::server::service::requests::NewRequest {
            clinic_id: clinic,
            service_id: service,
            mode: app::domain::request::RequestMode::Now,
            provider_id: None,
            times: vec![],
            answers: vec!["bench".into()],
            note: "bench".into(),
        };
        app::server::service::requests::create(state, &me, new)
            .await
            .unwrap();
        commit_ms.push(t.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t = Instant::now();
    while received.load(Ordering::SeqCst) < STREAMS * EVENTS {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "not every stream got every event"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(f64::total_cmp);
    commit_ms.sort_by(f64::total_cmp);
    println!(
        "  commit -> client latency over {} deliveries ({EVENTS} events x {STREAMS} streams): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        percentile(&l, 0.50),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  the change itself (a Now request: checks + write + audit + event): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&commit_ms, 0.50),
        percentile(&commit_ms, 0.99)
    );
}
