//! Test support: a fresh database per test on SQLite or PostgreSQL, the app
//! state on top of it with a manual clock, and helpers to log in.
#![allow(dead_code)]

use app::model::Me;
use app::server::auth::Session;
use app::server::clock::ManualClock;
use app::server::config::Config;
use app::server::state::AppState;
use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one test body against both databases: `both_dbs!(name, body_fn);`
/// makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_dbs {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$body($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$body($crate::common::Backend::Postgres).await
            }
        }
    };
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique() -> String {
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        Utc::now().timestamp_subsec_micros()
    )
}

/// The PostgreSQL server the test command started.
pub fn pg_admin_url() -> String {
    std::env::var("SLOTWISE_TEST_PG_URL").expect(
        "SLOTWISE_TEST_PG_URL is not set: run server/scripts/test.sh, which starts PostgreSQL \
         and sets it (postgres://user:pass@host:port/postgres)",
    )
}

/// A new, empty database for one test; returns its URL.
pub async fn fresh_database(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("slotwise-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!(
                "sqlite://{}",
                dir.join(format!("t_{}.db", unique())).display()
            )
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = pg_admin_url();
            let name = format!("slotwise_t_{}", unique());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
    }
}

/// A fixed, ordinary "now" for tests: Wednesday 2026-03-04 15:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0).unwrap()
}

pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub url: String,
}

impl TestApp {
    /// Serves the whole router on a real socket as `main.rs` does (the
    /// HTTP/1.1 listener in front of hyper); returns its address.
    pub async fn serve(&self) -> std::net::SocketAddr {
        let router = server::router(self.state.clone());
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = tcp.local_addr().expect("address");
        let max_body = self.state.config.max_body_bytes;
        let listener = server::http1::listener(tcp, router.clone(), max_body).expect("listener");
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
        });
        addr
    }
}

pub fn leptos_options() -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name("slotwise")
        .build()
}

pub async fn app_on(url: String, config: Config) -> TestApp {
    init_logging();
    let clock = ManualClock::new(t0());
    let config = Config {
        database_url: url.clone(),
        ..config
    };
    let state = AppState::new(config, clock.clone(), leptos_options())
        .await
        .expect("app state");
    TestApp { state, clock, url }
}

/// A fresh database with the demo data loaded.
pub async fn demo_app(backend: Backend) -> TestApp {
    seeded_app(
        backend,
        Config {
            demo: true,
            ..Config::default()
        },
    )
    .await
}

/// A fresh database with the demo data loaded, run with `config`.
pub async fn seeded_app(backend: Backend, config: Config) -> TestApp {
    let t = app_on(fresh_database(backend).await, config).await;
    assert!(app::server::demo::seed_if_empty(&t.state)
        .await
        .expect("seed"));
    t
}

impl TestApp {
    /// Logs in through the service layer and resolves the session, as the
    /// middleware would for a request carrying the cookie.
    pub async fn session(&self, email: &str) -> (String, Session) {
        let done = app::server::service::accounts::login(
            &self.state,
            email,
            app::server::demo::DEMO_PASSWORD,
            "test",
            "test",
        )
        .await
        .unwrap_or_else(|e| panic!("login {email}: {e:?}"));
        let s = app::server::auth::resolve_session(
            &self.state.db,
            &self.state.config.session,
            &done.token,
            self.state.now(),
        )
        .await
        .expect("resolve")
        .expect("session valid");
        (done.token, s)
    }

    /// Another server on the same database, with the same settings and
    /// clock: a restart, or a second instance.
    pub async fn restart(&self) -> AppState {
        AppState::new(
            (*self.state.config).clone(),
            self.clock.clone(),
            leptos_options(),
        )
        .await
        .expect("app state")
    }

    pub async fn me(&self, email: &str) -> Me {
        self.session(email).await.1.me
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn id(&self, sql: &str) -> i64 {
        self.count(sql).await
    }
}

// ---------------------------------------------------------------------------
// Driving the router without a socket (router and two-instance tests).
// ---------------------------------------------------------------------------

pub mod web {
    use app::domain::live::LiveWire;
    use axum::body::Body;
    use axum::http::{header, Request, Response};
    use axum::Router;
    use http_body_util::BodyExt;
    use std::time::Duration;
    use tower::ServiceExt;

    pub const FORM: &str = "application/x-www-form-urlencoded";
    /// What a browser sends when it navigates to a page or posts a plain form.
    pub const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

    /// `name=value&...`, values percent-encoded as a browser would.
    pub fn form(pairs: &[(&str, &str)]) -> String {
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    /// The `Cookie` header value for a session token.
    pub fn cookie(token: &str) -> String {
        format!("{}={token}", app::server::auth::SESSION_COOKIE)
    }

    /// A form POST to a server function, as the app's own client sends it.
    pub fn post(path: &str, body: &str, token: Option<&str>) -> Request<Body> {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, FORM)
            .header(header::CONTENT_LENGTH, body.len());
        if let Some(t) = token {
            b = b.header(header::COOKIE, cookie(t));
        }
        b.body(Body::from(body.to_string())).expect("request")
    }

    /// A page or stream GET, as a browser sends it.
    pub fn get(path: &str, token: Option<&str>) -> Request<Body> {
        let mut b = Request::get(path).header(header::ACCEPT, BROWSER_ACCEPT);
        if let Some(t) = token {
            b = b.header(header::COOKIE, cookie(t));
        }
        b.body(Body::empty()).expect("request")
    }

    pub async fn send(router: &Router, req: Request<Body>) -> Response<Body> {
        let what = format!("{} {}", req.method(), req.uri());
        tokio::time::timeout(Duration::from_secs(30), router.clone().oneshot(req))
            .await
            .unwrap_or_else(|_| panic!("{what}: no response within 30 s"))
            .expect("infallible")
    }

    /// The whole body as text (for finite responses only).
    pub async fn text(resp: Response<Body>) -> String {
        let bytes = tokio::time::timeout(Duration::from_secs(30), resp.into_body().collect())
            .await
            .expect("body within 30 s")
            .expect("body")
            .to_bytes();
        String::from_utf8(bytes.to_vec()).expect("utf-8 body")
    }

    pub async fn json(resp: Response<Body>) -> serde_json::Value {
        let t = text(resp).await;
        serde_json::from_str(&t).unwrap_or_else(|e| panic!("not JSON ({e}): {t}"))
    }

    pub fn header_str<'a>(resp: &'a Response<Body>, name: &str) -> Option<&'a str> {
        resp.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The session token from a response's `Set-Cookie`, if it sets one.
    pub fn session_from_set_cookie(resp: &Response<Body>) -> Option<String> {
        resp.headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.split(';')
                    .next()?
                    .trim()
                    .strip_prefix(app::server::auth::SESSION_COOKIE)?
                    .strip_prefix('=')
                    .map(str::to_string)
            })
            .filter(|t| !t.is_empty())
    }

    /// What reading a live stream produced.
    #[derive(Debug)]
    pub enum Next {
        Message(LiveWire),
        /// The server ended the stream.
        Ended,
        /// Nothing (but heartbeats) before the deadline; the stream is open.
        Quiet,
    }

    /// An open `/api/live` response body, read message by message.
    pub struct LiveStream {
        body: Body,
        buf: String,
        ended: bool,
        /// Comment-only events (heartbeats) seen so far.
        pub heartbeats: usize,
        /// The data of the last message, as sent.
        pub last_data: String,
    }

    impl LiveStream {
        pub fn new(resp: Response<Body>) -> Self {
            Self {
                body: resp.into_body(),
                buf: String::new(),
                ended: false,
                heartbeats: 0,
                last_data: String::new(),
            }
        }

        /// The next message, the end of the stream, or `Quiet` after `within`.
        pub async fn next(&mut self, within: Duration) -> Next {
            let deadline = tokio::time::Instant::now() + within;
            loop {
                if let Some(msg) = self.take_message() {
                    return Next::Message(msg);
                }
                if self.ended {
                    return Next::Ended;
                }
                match tokio::time::timeout_at(deadline, self.body.frame()).await {
                    Err(_) => return Next::Quiet,
                    Ok(None) => self.ended = true,
                    Ok(Some(Err(e))) => panic!("live stream failed: {e}"),
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            self.buf
                                .push_str(std::str::from_utf8(&data).expect("utf-8 stream"));
                        }
                    }
                }
            }
        }

        /// The next message; fails the test on end of stream or timeout.
        pub async fn expect_message(&mut self, within: Duration) -> LiveWire {
            match self.next(within).await {
                Next::Message(m) => m,
                other => panic!("expected a live message within {within:?}, got {other:?}"),
            }
        }

        /// Parses one complete SSE event out of the buffer, skipping
        /// comment-only events (heartbeats).
        fn take_message(&mut self) -> Option<LiveWire> {
            loop {
                let norm = self.buf.replace("\r\n", "\n");
                self.buf = norm;
                let end = self.buf.find("\n\n")?;
                let event: String = self.buf.drain(..end + 2).collect();
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect();
                if data.is_empty() {
                    if event.lines().any(|l| l.starts_with(':')) {
                        self.heartbeats += 1;
                    }
                    continue;
                }
                let data = data.join("\n");
                self.last_data = data.clone();
                return Some(
                    serde_json::from_str(&data)
                        .unwrap_or_else(|e| panic!("unreadable live message {data:?}: {e}")),
                );
            }
        }
    }
}
pub mod fhir;
pub mod smtp;

/// Every log line of this test binary, in order (see [`init_logging`]).
static LOGGED: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

#[derive(Clone, Copy)]
struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGGED.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One subscriber for the whole test binary, on every thread: warnings and
/// errors, with the spans they happened in, go to the failing test's output
/// and to [`LOGGED`]. A subscriber set for one thread only does not work
/// here: sqlx's SQLite worker threads drop the spans of the queries they
/// run, and tracing-subscriber closes a span's parent through that
/// thread's subscriber, which panics on a span it never saw and kills the
/// connection's worker (the next query on that connection then never
/// answers: a test hung on it).
pub fn init_logging() {
    use tracing_subscriber::fmt::writer::MakeWriterExt;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let shown = tracing_subscriber::filter::filter_fn(|m| {
        if m.is_span() {
            *m.level() <= tracing::Level::INFO
        } else {
            *m.level() <= tracing::Level::WARN
        }
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(tracing_subscriber::fmt::TestWriter::new().and(|| CaptureWriter));
    // A filter for the whole subscriber, not one for the layer: a
    // per-layer filter was seen to drop every later event of a thread
    // after the PostgreSQL driver's log records went through it.
    let _ = tracing_subscriber::registry()
        .with(shown)
        .with(layer)
        .try_init();
}

/// What this binary logs from now on. Tests run side by side, so the text
/// may hold other tests' lines too: look for what only this test logs.
pub struct LogCapture {
    from: usize,
}

impl LogCapture {
    pub fn start() -> LogCapture {
        init_logging();
        LogCapture {
            from: LOGGED.lock().unwrap().len(),
        }
    }

    /// Everything logged since `start`.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&LOGGED.lock().unwrap()[self.from..]).into_owned()
    }
}
