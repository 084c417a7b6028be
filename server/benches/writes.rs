//! Write-path benchmark (run: `cargo bench -p server --bench writes`).
//!
//! Starts the real server (router, middleware, outbox worker) on a loopback
//! socket over a fresh database with the demo data, then has 4, 8 and 16
//! concurrent staff clients create appointments over HTTP at distinct free
//! times (each client walks its own provider-and-day grid), the way a busy
//! front desk would. Reports creates per second and latency percentiles per
//! level, then checks that no provider was double-booked.
//!
//! SQLite by default; set `SLOTWISE_BENCH_PG_URL` to an empty PostgreSQL
//! database's URL to run the same on PostgreSQL. Figures are printed;
//! nothing here asserts a time.

use app::server::clock::SystemClock;
use app::server::config::Config;
use app::server::state::AppState;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/stats.rs"]
mod stats;
use stats::percentile;

/// Creates per concurrency level.
const CREATES: usize = 4_000;
const LEVELS: [usize; 3] = [4, 8, 16];
/// Half-hour slots from 07:00 to 18:30 local: 24 a day.
const SLOTS_PER_DAY: usize = 24;

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("slotwise-writes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (url, backend) = match std::env::var("SLOTWISE_BENCH_PG_URL") {
        Ok(u) if !u.is_empty() => (u, "PostgreSQL"),
        _ => (
            format!("sqlite://{}", dir.join("bench.db").display()),
            "SQLite",
        ),
    };
    let config = Config {
        database_url: url,
        demo: true,
        ..Config::default()
    };
    let pool_size = config.db_max_connections;
    let options = leptos::config::LeptosOptions::builder()
        .output_name("slotwise")
        .build();
    let state = AppState::new(config, Arc::new(SystemClock), options)
        .await
        .unwrap();
    app::server::demo::seed_if_empty(&state).await.unwrap();
    app::server::outbox::spawn(state.clone()).unwrap();

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
        "Slotwise write benchmark ({backend}, pool {pool_size}, release build, {} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let ids = Ids::load(&state).await;
    let cookie = session_cookie(&state, "scheduler@northside.test").await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    // Each level books its own stretch of days, so no create ever meets
    // another's time: what is measured is the write path, not refusals.
    let mut first_day = 0usize;
    for clients in LEVELS {
        let days_needed = CREATES.div_ceil(ids.providers.len() * SLOTS_PER_DAY);
        level(&client, &base, &cookie, &ids, clients, first_day).await;
        first_day += days_needed + 1;
    }

    let overlaps: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM appointment a JOIN appointment b ON a.host_provider_id = b.host_provider_id \
         AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at \
         WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'",
    )
    .fetch_one(&state.db.pool)
    .await
    .unwrap();
    println!("\ndouble bookings after all levels: {overlaps}");
    let _ = std::fs::remove_dir_all(&dir);
}

struct Ids {
    clinic: i64,
    providers: Vec<i64>,
    patient: i64,
    service: i64,
}

impl Ids {
    async fn load(state: &AppState) -> Ids {
        let one = |sql: &'static str| {
            let pool = state.db.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let clinic = one("SELECT id FROM clinic WHERE slug = 'northside'").await;
        let providers: Vec<i64> = sqlx::query_scalar(
            "SELECT user_id FROM membership WHERE clinic_id = $1 AND role = 'provider' ORDER BY user_id",
        )
        .bind(clinic)
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
        Ids {
            clinic,
            providers,
            patient: one("SELECT id FROM app_user WHERE email = 'ann@patients.test'").await,
            service: one("SELECT id FROM service WHERE name = 'Video consultation'").await,
        }
    }

    /// The `n`th distinct (provider, date, time) from `first_day` on:
    /// days start a year ahead, clear of the demo's bookings.
    fn slot(&self, n: usize, first_day: usize) -> (i64, String, String) {
        let per_day = self.providers.len() * SLOTS_PER_DAY;
        let day = first_day + n / per_day;
        let provider = self.providers[(n % per_day) / SLOTS_PER_DAY];
        let slot = n % SLOTS_PER_DAY;
        let date = chrono::Utc::now().date_naive() + chrono::Duration::days(365 + day as i64);
        let time = format!("{:02}:{:02}", 7 + slot / 2, (slot % 2) * 30);
        (provider, date.format("%Y-%m-%d").to_string(), time)
    }
}

async fn level(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    ids: &Ids,
    clients: usize,
    first_day: usize,
) {
    let url = format!("{base}/api/create_appointment");
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, url, cookie) = (client.clone(), url.clone(), cookie.to_string());
            let (next, errors, first_error) = (next.clone(), errors.clone(), first_error.clone());
            let forms: Vec<_> = (0..CREATES)
                .map(|n| {
                    let (provider, date, time) = ids.slot(n, first_day);
                    vec![
                        ("form[clinic_id]", ids.clinic.to_string()),
                        ("form[provider_id]", provider.to_string()),
                        ("form[patient_id]", ids.patient.to_string()),
                        ("form[service_id]", ids.service.to_string()),
                        ("form[date]", date),
                        ("form[start]", time),
                        ("form[location]", String::new()),
                    ]
                })
                .collect();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= CREATES {
                        break;
                    }
                    let t = Instant::now();
                    let r = client
                        .post(&url)
                        .header("cookie", &cookie)
                        .form(&forms[n])
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            mine.push(t.elapsed().as_secs_f64() * 1e3);
                        }
                        Ok(r) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            let text =
                                format!("{} {}", r.status(), r.text().await.unwrap_or_default());
                            first_error.lock().unwrap().get_or_insert(text);
                        }
                        Err(e) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            first_error.lock().unwrap().get_or_insert(e.to_string());
                        }
                    }
                }
                mine
            })
        })
        .collect();
    let mut l = Vec::with_capacity(CREATES);
    for t in tasks {
        l.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    l.sort_by(f64::total_cmp);
    println!("\n[create] {clients} clients, {CREATES} creates over HTTP at distinct free times");
    println!(
        "  {:.0} creates/s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} errors",
        l.len() as f64 / secs,
        percentile(&l, 0.50),
        percentile(&l, 0.90),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(f64::NAN),
        errors.load(Ordering::Relaxed)
    );
    if let Some(e) = first_error.lock().unwrap().take() {
        println!("  first error: {}", e.chars().take(300).collect::<String>());
    }
    // Let the outbox worker drain between levels.
    tokio::time::sleep(Duration::from_millis(500)).await;
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
