//! Live-stream benchmarks (run: `cargo bench -p server --bench live_streams`).
//!
//! Starts the real server binary (release build, this package's `server`)
//! as a child process over a fresh SQLite database with the demo data, so
//! the memory measured is the server's own (`VmRSS` of the child, from
//! `/proc/<pid>/status`) and none of the clients'. Then, for each stream
//! count (`SLOTWISE_BENCH_STREAMS`, default `1000,10000`, cumulative):
//!
//! 1. opens that many real HTTP/1.1 `/api/live` streams (raw sockets, one
//!    session per stream, as that many open tabs would have), each on a
//!    kept-alive connection that has answered a first request, as browsers
//!    send it, and waits for every stream's first message;
//! 2. reads the server's RSS: the growth over the RSS before any stream
//!    opened, divided by the streams open, is the cost of one stream;
//! 3. makes `SLOTWISE_BENCH_EVENTS` (default 20) real changes through the
//!    server (a patient asks Northside for a session now, by HTTP), one at a
//!    time, and times each event from its commit (`at_us`, stamped by the
//!    server) to its arrival on each stream: p50/p99 across all deliveries.
//!
//! It fails loudly if any stream misses an event, receives one twice, is
//! told to resynchronise (it fell behind), or ends.

use app::domain::live::LiveWire;
use app::server::clock::SystemClock;
use app::server::config::Config;
use app::server::state::AppState;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/stats.rs"]
mod stats;
use stats::percentile;

/// Streams opening at once (each waits for its first message).
const OPENING: usize = 200;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn raise_fd_limit() -> u64 {
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            if lim.rlim_cur < lim.rlim_max {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
            return lim.rlim_cur;
        }
    }
    0
}

/// The child's resident set, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("child status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Kills the server when the bench ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What every stream reports, shared by the client tasks.
#[derive(Default)]
struct Seen {
    /// Per event (the request's id): (stream, commit-to-arrival ms).
    deliveries: Mutex<HashMap<i64, Vec<(usize, f64)>>>,
    first: AtomicUsize,
    resyncs: AtomicUsize,
    ended: AtomicUsize,
}

#[tokio::main]
async fn main() {
    if let Ok(mode) = std::env::var(FLOOR_CHILD) {
        return serve_floor(&mode).await;
    }
    let counts: Vec<usize> = std::env::var("SLOTWISE_BENCH_STREAMS")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let events: usize = env_or("SLOTWISE_BENCH_EVENTS", 20);
    let most = counts.iter().copied().max().unwrap_or(0);
    let fds = raise_fd_limit();
    assert!(
        fds as usize > most + 100,
        "{most} streams need more than the {fds} file descriptors allowed"
    );

    let dir = std::env::temp_dir().join(format!("slotwise-live-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db_url = format!("sqlite://{}", dir.join("bench.db").display());
    let state = prepare(&db_url).await;
    let staff = sessions_of(
        &state,
        &["scheduler@northside.test", "admin@northside.test"],
        most,
    )
    .await;
    let patients = patients(&state, events * counts.len() + 1).await;

    let port = free_port();
    let server = start_server(&db_url, port);
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base).await;
    println!(
        "Slotwise live-stream benchmarks (server binary, SQLite, release build, {} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let seen = Arc::new(Seen::default());
    let http = reqwest::Client::new();
    let mut patients = patients.into_iter();
    let ids = Ids::of(&state).await;
    // Warm up: one stream and one change, so the RSS before counts what
    // any first request allocates, not what a stream costs.
    {
        let warm = Arc::new(Seen::default());
        let task = tokio::spawn(stream(port, staff[0].clone(), usize::MAX, warm.clone()));
        wait_first(&warm, 1).await;
        change(&http, &base, &ids, &patients.next().unwrap()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        task.abort();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_kib(pid);
    println!(
        "\nserver RSS before any stream: {:.1} MB",
        before as f64 / 1024.0
    );

    let mut open = 0;
    let mut tasks = Vec::new();
    let gate = Arc::new(tokio::sync::Semaphore::new(OPENING));
    for &n in &counts {
        let t = Instant::now();
        for (i, cookie) in staff.iter().enumerate().take(n).skip(open) {
            let permit = gate.clone().acquire_owned().await.unwrap();
            let seen = seen.clone();
            let cookie = cookie.clone();
            tasks.push(tokio::spawn(async move {
                stream_gated(port, cookie, i, seen, permit).await
            }));
        }
        open = n;
        wait_first(&seen, n).await;
        let opened_in = t.elapsed();
        // Let the server settle (allocator, first heartbeats).
        tokio::time::sleep(Duration::from_secs(3)).await;
        let now = rss_kib(pid);
        println!(
            "\n[{n} streams] opened in {:.1} s; server RSS {:.1} MB, {:+.1} MB over none open: {:.2} KB per stream",
            opened_in.as_secs_f64(),
            now as f64 / 1024.0,
            (now as f64 - before as f64) / 1024.0,
            (now as f64 - before as f64) / n as f64
        );
        let mut latencies = Vec::with_capacity(n * events);
        for _ in 0..events {
            let id = change(&http, &base, &ids, &patients.next().unwrap()).await;
            latencies.extend(wait_delivered(&seen, id, n).await);
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "  fan-out (commit -> each stream), {events} events x {n} streams = {} deliveries: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            latencies.len(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(f64::NAN)
        );
        assert_eq!(
            seen.resyncs.load(Ordering::SeqCst),
            0,
            "a stream was told to resynchronise"
        );
        assert_eq!(seen.ended.load(Ordering::SeqCst), 0, "a stream ended");
    }
    for t in tasks {
        t.abort();
    }
    drop(server);
    if env_or("SLOTWISE_BENCH_FLOOR", 1) == 1 {
        floor(most, &staff[0]).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh database with the demo data (migrated and seeded here, then
/// served by the child).
async fn prepare(db_url: &str) -> AppState {
    let config = Config {
        database_url: db_url.into(),
        demo: true,
        ..Config::default()
    };
    let options = leptos::config::LeptosOptions::builder()
        .output_name("slotwise")
        .build();
    let state = AppState::new(config, Arc::new(SystemClock), options)
        .await
        .unwrap();
    app::server::demo::seed_if_empty(&state).await.unwrap();
    state
}

/// `n` session cookies, taking turns among `emails`.
async fn sessions_of(state: &AppState, emails: &[&str], n: usize) -> Vec<String> {
    let mut users = Vec::new();
    for email in emails {
        let id: i64 = sqlx::query_scalar("SELECT id FROM app_user WHERE email = $1")
            .bind(*email)
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
        users.push(id);
    }
    let mut tx = state.db.pool.begin().await.unwrap();
    let mut cookies = Vec::with_capacity(n);
    for i in 0..n {
        let token = app::server::auth::create_session(
            &mut tx,
            users[i % users.len()],
            state.now(),
            "bench",
        )
        .await
        .unwrap();
        cookies.push(format!("{}={token}", app::server::auth::SESSION_COOKIE));
    }
    tx.commit().await.unwrap();
    cookies
}

/// `n` new patients, each with a session (one pending request each).
async fn patients(state: &AppState, n: usize) -> Vec<String> {
    let mut tx = state.db.pool.begin().await.unwrap();
    let mut cookies = Vec::with_capacity(n);
    for i in 0..n {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (email, name, password_hash, created_at) VALUES ($1, $2, 'x', 0) RETURNING id",
        )
        .bind(format!("live{i}@patients.test"))
        .bind(format!("Live Patient {i}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        let token = app::server::auth::create_session(&mut tx, id, state.now(), "bench")
            .await
            .unwrap();
        cookies.push(format!("{}={token}", app::server::auth::SESSION_COOKIE));
    }
    tx.commit().await.unwrap();
    cookies
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(db_url: &str, port: u16) -> Server {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .current_dir(root)
        .env("DATABASE_URL", db_url)
        .env("SLOTWISE_ADDR", format!("127.0.0.1:{port}"))
        .env("SLOTWISE_DEMO", "false")
        // As cargo-leptos would have set them (the workspace Cargo.toml
        // names two projects, so it cannot be read for them).
        .env("LEPTOS_OUTPUT_NAME", "slotwise")
        .env("LEPTOS_ENV", "PROD")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server binary");
    Server(child)
}

async fn wait_healthy(base: &str) {
    let t = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Ids {
    clinic: i64,
    service: i64,
}

impl Ids {
    async fn of(state: &AppState) -> Ids {
        let clinic = sqlx::query_scalar("SELECT id FROM clinic WHERE slug = 'northside'")
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
        let service =
            sqlx::query_scalar("SELECT id FROM service WHERE name = 'Video consultation'")
                .fetch_one(&state.db.pool)
                .await
                .unwrap();
        Ids { clinic, service }
    }
}

/// A real change made through the server: a patient asks Northside for a
/// session now. Every Northside staff stream may see it. Returns its id.
async fn change(http: &reqwest::Client, base: &str, ids: &Ids, cookie: &str) -> i64 {
    let body = format!(
        "clinic_id={}&service_id={}&mode=now&answers%5B0%5D=bench&note=",
        ids.clinic, ids.service
    );
    let r = http
        .post(format!("{base}/api/request_session"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(
        status.is_success(),
        "request_session answered {status}: {text}"
    );
    text.trim().parse().expect("the new request's id")
}

async fn wait_first(seen: &Seen, n: usize) {
    let t = Instant::now();
    while seen.first.load(Ordering::SeqCst) < n {
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "only {} of {n} streams opened",
            seen.first.load(Ordering::SeqCst)
        );
        assert_eq!(seen.ended.load(Ordering::SeqCst), 0, "a stream ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until each of streams 0..n has event `id` exactly once; its
/// latencies.
async fn wait_delivered(seen: &Seen, id: i64, n: usize) -> Vec<f64> {
    let t = Instant::now();
    loop {
        {
            let map = seen.deliveries.lock().unwrap();
            let got = map.get(&id).map_or(0, Vec::len);
            if got >= n {
                let list = &map[&id];
                let mut streams: Vec<usize> = list.iter().map(|d| d.0).collect();
                streams.sort_unstable();
                streams.dedup();
                assert!(
                    streams.len() == n && list.len() == n && streams[n - 1] == n - 1,
                    "event {id}: {} deliveries to {} distinct streams of {n}",
                    list.len(),
                    streams.len()
                );
                return list.iter().map(|d| d.1).collect();
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "event {id} reached only {got} of {n} streams in 60 s"
            );
        }
        assert_eq!(
            seen.resyncs.load(Ordering::SeqCst),
            0,
            "a stream was told to resynchronise"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn stream_gated(
    port: u16,
    cookie: String,
    index: usize,
    seen: Arc<Seen>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let mut permit = Some(permit);
    read_stream(port, &cookie, index, &seen, &mut permit).await;
    seen.ended.fetch_add(1, Ordering::SeqCst);
}

async fn stream(port: u16, cookie: String, index: usize, seen: Arc<Seen>) {
    read_stream(port, &cookie, index, &seen, &mut None).await;
}

/// One client: a raw socket, a small buffer, HTTP/1.1 chunked decoding
/// and SSE framing by hand (10,000 of these must stay light).
async fn read_stream(
    port: u16,
    cookie: &str,
    index: usize,
    seen: &Seen,
    permit: &mut Option<tokio::sync::OwnedSemaphorePermit>,
) {
    let mut sock = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    // As a browser does: the stream goes on a kept-alive connection that
    // has served another request first.
    sock.write_all(format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let mut buf = [0u8; 512];
    let mut got = 0;
    // Its whole answer: the head, then `content-length` bytes.
    loop {
        match sock.read(&mut buf[got..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => got += n,
        }
        let Some(end) = find(&buf[..got], b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|n| n.trim().parse().ok())
            .expect("a length");
        if got >= end + 4 + len {
            break;
        }
    }
    let req = format!(
        "GET /api/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\nAccept-Encoding: gzip, br\r\n\r\n"
    );
    sock.write_all(req.as_bytes()).await.expect("send");
    let mut raw: Vec<u8> = Vec::with_capacity(512);
    let mut text: Vec<u8> = Vec::new();
    let mut head_done = false;
    let mut chunk_left = 0usize;
    loop {
        let n = match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = chrono::Utc::now().timestamp_micros();
        raw.extend_from_slice(&buf[..n]);
        if !head_done {
            let Some(end) = find(&raw, b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            assert!(head.starts_with("http/1.1 200"), "stream refused: {head}");
            assert!(head.contains("transfer-encoding: chunked"), "{head}");
            assert!(
                !head.contains("content-encoding"),
                "a compressed stream: {head}"
            );
            raw.drain(..end + 4);
            head_done = true;
        }
        dechunk(&mut raw, &mut text, &mut chunk_left);
        while let Some(end) = find(&text, b"\n\n") {
            let frame: Vec<u8> = text.drain(..end + 2).collect();
            for line in frame.split(|b| *b == b'\n') {
                let Some(data) = line
                    .strip_prefix(b"data: ")
                    .or_else(|| line.strip_prefix(b"data:"))
                else {
                    continue;
                };
                match serde_json::from_slice::<LiveWire>(data) {
                    Ok(LiveWire::Ready | LiveWire::Connected) => {
                        seen.first.fetch_add(1, Ordering::SeqCst);
                        permit.take();
                    }
                    Ok(LiveWire::Change(ev)) => {
                        let ms = (now - ev.at_us) as f64 / 1e3;
                        seen.deliveries
                            .lock()
                            .unwrap()
                            .entry(ev.entity_id)
                            .or_default()
                            .push((index, ms));
                    }
                    Ok(LiveWire::Resync) => {
                        seen.resyncs.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => panic!(
                        "unreadable message {:?}: {e}",
                        String::from_utf8_lossy(data)
                    ),
                }
            }
        }
        if raw.capacity() > 4096 {
            raw.shrink_to(512);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Moves the payload of complete (or partial) chunks from `raw` to `out`.
fn dechunk(raw: &mut Vec<u8>, out: &mut Vec<u8>, left: &mut usize) {
    loop {
        if *left > 0 {
            let take = (*left).min(raw.len());
            out.extend(raw.drain(..take));
            *left -= take;
            if *left > 0 {
                return;
            }
            // The CRLF after the chunk's data.
            if raw.len() < 2 {
                *left = 0;
                // Wait for it: mark with a sentinel by re-adding nothing;
                // the size-line parse below skips a leading CRLF.
                return;
            }
            raw.drain(..2);
        }
        // Skip a stray CRLF left from a chunk whose end arrived late.
        if raw.starts_with(b"\r\n") {
            raw.drain(..2);
        }
        let Some(eol) = find(raw, b"\r\n") else {
            return;
        };
        let size_line = String::from_utf8_lossy(&raw[..eol]).to_string();
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size line {size_line:?}"));
        raw.drain(..eol + 2);
        if size == 0 {
            return;
        }
        *left = size;
    }
}

/// Set in a child started by `floor`: which stand-in server it is.
const FLOOR_CHILD: &str = "SLOTWISE_BENCH_FLOOR_CHILD";

/// What an open stream costs that `sse.rs` does not decide: the same number
/// of streams against stand-in servers whose `/api/live` sends one message
/// and then nothing, with nothing else (`bare`: hyper and axum's connection
/// and body) and behind the server's own layers (`layers`: compression,
/// metrics, request id and the trace span, with the log subscriber on).
async fn floor(n: usize, cookie: &str) {
    for mode in ["bare", "layers"] {
        let port = free_port();
        let child = Command::new(std::env::current_exe().unwrap())
            .env(FLOOR_CHILD, mode)
            .env("SLOTWISE_ADDR", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the stand-in server");
        let server = Server(child);
        let pid = server.0.id();
        wait_healthy(&format!("http://127.0.0.1:{port}")).await;
        let seen = Arc::new(Seen::default());
        // Warm up as for the real server.
        let warm = tokio::spawn(stream(port, cookie.to_string(), 0, seen.clone()));
        wait_first(&seen, 1).await;
        warm.abort();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = rss_kib(pid);
        let gate = Arc::new(tokio::sync::Semaphore::new(OPENING));
        let mut tasks = Vec::new();
        for i in 0..n {
            let permit = gate.clone().acquire_owned().await.unwrap();
            let (seen, cookie) = (seen.clone(), cookie.to_string());
            tasks.push(tokio::spawn(async move {
                stream_gated(port, cookie, i, seen, permit).await
            }));
        }
        wait_first(&seen, n + 1).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let after = rss_kib(pid);
        println!(
            "\n[floor: {mode}] {n} streams: RSS {:.1} MB -> {:.1} MB: {:.2} KB per stream",
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            (after as f64 - before as f64) / n as f64
        );
        for t in tasks {
            t.abort();
        }
    }
}

async fn serve_floor(mode: &str) {
    use axum::routing::get;
    async fn one_message() -> axum::response::Response {
        let first = futures::stream::once(async {
            Ok::<_, std::convert::Infallible>(axum::body::Bytes::from_static(
                b"data: {\"type\":\"ready\"}\n\n",
            ))
        });
        let body = axum::body::Body::from_stream(futures::StreamExt::chain(
            first,
            futures::stream::pending(),
        ));
        ([("content-type", "text/event-stream")], body).into_response()
    }
    use axum::response::IntoResponse;
    let mut router = axum::Router::new()
        .route("/api/live", get(one_message))
        .route("/healthz", get(|| async { "ok" }));
    if mode == "layers" {
        server::telemetry::init();
        router = server::telemetry::add_layers(
            router
                .layer(server::assets::compression())
                .layer(axum::middleware::from_fn(server::metrics::track)),
        );
    }
    let addr = std::env::var("SLOTWISE_ADDR").unwrap();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
    .unwrap();
}
