//! `/metrics`: what an operator scrapes, in the Prometheus text exposition
//! format (version 0.0.4).
//!
//! Counted as requests pass (atomics; one read-locked map lookup per
//! request): requests and their latency per route template and per server
//! function, open live streams. Counted where they happen, in the app
//! crate: failed logins (`service::accounts`), failed delivery attempts per
//! channel (`outbox`). Read when scraped: the outbox backlog and the
//! messages given up, per channel (two indexed `COUNT`s), and the database
//! pool's connections.
//!
//! Labels name the route as the router knows it (`/book/{slug}`, the
//! server function's `/api/bookings`), never the address asked for, so
//! their number is bounded by the routes; anything no route matched is
//! `unmatched`. Counters are per process, as Prometheus expects.
//!
//! Who may scrape: with `SLOTWISE_METRICS_TOKEN` set, only a request with
//! `Authorization: Bearer <token>` (otherwise 401, no data); with
//! `SLOTWISE_METRICS_ADDR` set, `/metrics` is served on that address only;
//! with neither, only to this machine (a loopback client that did not come
//! through a proxy), else 403.

use app::server::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, State};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Instant;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Methods get a label of their own; anything else is `OTHER`.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "OTHER",
];

/// One route and method: requests by status class, and the latency histogram.
#[derive(Default)]
struct Series {
    /// 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Not cumulative: bucket i counts durations in (BUCKETS[i-1], BUCKETS[i]].
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_us: AtomicU64,
}

impl Series {
    fn observe(&self, status: u16, micros: u64) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Relaxed);
        let secs = micros as f64 / 1e6;
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_us.fetch_add(micros, Relaxed);
    }

    fn count(&self) -> u64 {
        self.by_class.iter().map(|c| c.load(Relaxed)).sum()
    }
}

/// Per route template, one series per method.
type Routes = HashMap<Box<str>, Arc<[Series; METHODS.len()]>>;

static ROUTES: LazyLock<RwLock<Routes>> = LazyLock::new(RwLock::default);
static LIVE_STREAMS: AtomicI64 = AtomicI64::new(0);

/// Held by each open live stream: the gauge counts it while it lives.
pub struct LiveStreamGuard(());

impl LiveStreamGuard {
    pub fn open() -> LiveStreamGuard {
        LIVE_STREAMS.fetch_add(1, Relaxed);
        LiveStreamGuard(())
    }
}

impl Drop for LiveStreamGuard {
    fn drop(&mut self) {
        LIVE_STREAMS.fetch_sub(1, Relaxed);
    }
}

fn method_index(m: &Method) -> usize {
    METHODS
        .iter()
        .position(|x| *x == m.as_str())
        .unwrap_or(METHODS.len() - 1)
}

fn series_for(route: &str) -> Arc<[Series; METHODS.len()]> {
    if let Some(s) = ROUTES.read().ok().and_then(|r| r.get(route).cloned()) {
        return s;
    }
    let mut routes = ROUTES.write().unwrap_or_else(|e| e.into_inner());
    routes.entry(route.into()).or_default().clone()
}

/// Middleware: counts each request under its route template and times it
/// (until the response's head is ready: a live stream's life is not its
/// latency).
pub async fn track(req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = method_index(req.method());
    // An Arc inside: cloning it allocates nothing.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let res = next.run(req).await;
    let micros = started.elapsed().as_micros().min(u64::MAX as u128) as u64;
    let series = series_for(route.as_ref().map_or("unmatched", |r| r.as_str()));
    series[method].observe(res.status().as_u16(), micros);
    res
}

/// `GET /metrics` on the app's own address (when no separate one is set).
pub async fn scrape(State(state): State<AppState>, req: Request<Body>) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Some(refused) = refusal(&state, req.headers(), peer, false) {
        return refused;
    }
    respond(&state).await
}

/// `GET /metrics` on `SLOTWISE_METRICS_ADDR`: the address is the
/// protection (the token too, when one is set).
pub async fn scrape_dedicated(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&state, &headers, None, true) {
        return refused;
    }
    respond(&state).await
}

/// The router served on `SLOTWISE_METRICS_ADDR`: `/metrics` and nothing else.
pub fn dedicated_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(scrape_dedicated))
        .with_state(state)
}

async fn respond(state: &AppState) -> Response {
    (
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        render(state).await,
    )
        .into_response()
}

/// The answer to a request that may not read the metrics (see the
/// module's comment); None when it may.
fn refusal(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    dedicated: bool,
) -> Option<Response> {
    if let Some(token) = state.config.metrics_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        return match given {
            Some(g) if same(g.as_bytes(), token.as_bytes()) => None,
            _ => Some(
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    "A valid metrics token is required.",
                )
                    .into_response(),
            ),
        };
    }
    let proxied = headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded");
    let local = peer.is_some_and(|p| p.ip().is_loopback()) && !proxied;
    if dedicated || local {
        None
    } else {
        Some(
            (
                StatusCode::FORBIDDEN,
                "Metrics are served to this machine only; set SLOTWISE_METRICS_TOKEN or \
             SLOTWISE_METRICS_ADDR to scrape from elsewhere.",
            )
                .into_response(),
        )
    }
}

/// Compares in time independent of where the two first differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The whole exposition.
pub async fn render(state: &AppState) -> String {
    let mut out = String::with_capacity(16 * 1024);
    render_requests(&mut out);
    render_process(&mut out);
    render_database(&mut out, state).await;
    out
}

/// A label value, escaped as the format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Server functions (`/api/<name>`, but not the live stream) and other routes.
fn is_server_fn(route: &str) -> bool {
    route.starts_with("/api/") && route != "/api/live"
}

fn render_requests(out: &mut String) {
    let mut routes: Vec<(String, Arc<[Series; METHODS.len()]>)> = ROUTES
        .read()
        .map(|r| r.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
        .unwrap_or_default();
    routes.sort_by(|a, b| a.0.cmp(&b.0));
    for (server_fn, prefix, key, what) in [
        (false, "slotwise_http_request", "route", "HTTP requests"),
        (
            true,
            "slotwise_server_fn_call",
            "fn",
            "Server function calls",
        ),
    ] {
        let picked: Vec<_> = routes
            .iter()
            .filter(|(r, _)| is_server_fn(r) == server_fn)
            .collect();
        let total = format!("{prefix}s_total");
        family(
            out,
            &total,
            "counter",
            &format!("{what} by method, {key} and status class."),
        );
        for (route, series) in &picked {
            for (m, s) in series.iter().enumerate() {
                for (c, n) in s.by_class.iter().enumerate() {
                    let n = n.load(Relaxed);
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "{total}{{method=\"{}\",{key}=\"{}\",status=\"{}xx\"}} {n}",
                            METHODS[m],
                            label(route),
                            c + 1
                        );
                    }
                }
            }
        }
        let hist = format!("{prefix}_duration_seconds");
        family(
            out,
            &hist,
            "histogram",
            &format!("{what}: time until the response head, by method and {key}."),
        );
        for (route, series) in &picked {
            for (m, s) in series.iter().enumerate() {
                let labels = format!("method=\"{}\",{key}=\"{}\"", METHODS[m], label(route));
                histogram(out, &hist, &labels, s);
            }
        }
    }
}

fn histogram(out: &mut String, name: &str, labels: &str, s: &Series) {
    let count = s.count();
    if count == 0 {
        return;
    }
    let mut cumulative = 0;
    for (i, b) in s.buckets.iter().enumerate() {
        cumulative += b.load(Relaxed);
        let le = BUCKETS
            .get(i)
            .map(|b| b.to_string())
            .unwrap_or_else(|| "+Inf".into());
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
    }
    let sum = s.sum_us.load(Relaxed) as f64 / 1e6;
    let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
}

fn render_process(out: &mut String) {
    use app::server::outbox::{CHANNELS, DELIVERY_FAILURES};
    use app::server::service::accounts::{LOGIN_FAILURES, LOGIN_RATE_LIMITED};
    family(
        out,
        "slotwise_live_streams",
        "gauge",
        "Live event streams (/api/live) open now.",
    );
    let _ = writeln!(out, "slotwise_live_streams {}", LIVE_STREAMS.load(Relaxed));
    family(
        out,
        "slotwise_login_failures_total",
        "counter",
        "Failed logins (wrong email or password, or a wrong current password).",
    );
    let _ = writeln!(
        out,
        "slotwise_login_failures_total {}",
        LOGIN_FAILURES.load(Relaxed)
    );
    family(
        out,
        "slotwise_login_rate_limited_total",
        "counter",
        "Login attempts refused because of too many failures.",
    );
    let _ = writeln!(
        out,
        "slotwise_login_rate_limited_total {}",
        LOGIN_RATE_LIMITED.load(Relaxed)
    );
    family(
        out,
        "slotwise_outbox_delivery_failures_total",
        "counter",
        "Failed delivery attempts (to be retried or given up), by channel.",
    );
    for (c, n) in CHANNELS.iter().zip(&DELIVERY_FAILURES) {
        let _ = writeln!(
            out,
            "slotwise_outbox_delivery_failures_total{{channel=\"{c}\"}} {}",
            n.load(Relaxed)
        );
    }
}

/// The outbox backlog and the pool, read now. A database that does not
/// answer leaves the outbox series out and says so in `slotwise_database_up`.
async fn render_database(out: &mut String, state: &AppState) {
    use app::server::outbox::CHANNELS;
    use sqlx::Row;
    let pool = &state.db.pool;
    family(
        out,
        "slotwise_db_pool_connections",
        "gauge",
        "Database pool connections: open (in use or idle), idle, and the maximum.",
    );
    let (size, idle) = (pool.size(), pool.num_idle());
    let _ = writeln!(out, "slotwise_db_pool_connections{{state=\"open\"}} {size}");
    let _ = writeln!(out, "slotwise_db_pool_connections{{state=\"idle\"}} {idle}");
    let _ = writeln!(
        out,
        "slotwise_db_pool_connections{{state=\"max\"}} {}",
        state.config.db_max_connections
    );
    // `outbox_due (status, next_attempt_at)` serves both counts.
    let rows = sqlx::query(
        "SELECT status, channel, COUNT(*) AS n FROM outbox \
         WHERE status IN ('pending', 'failed') GROUP BY status, channel",
    )
    .fetch_all(pool)
    .await;
    family(
        out,
        "slotwise_database_up",
        "gauge",
        "Whether the database answered this scrape (1) or not (0).",
    );
    let rows = match rows {
        Ok(rows) => {
            let _ = writeln!(out, "slotwise_database_up 1");
            rows
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: outbox counts unavailable");
            let _ = writeln!(out, "slotwise_database_up 0");
            return;
        }
    };
    let n = |status: &str, channel: &str| -> i64 {
        rows.iter()
            .find(|r| {
                r.get::<String, _>("status") == status && r.get::<String, _>("channel") == channel
            })
            .map(|r| r.get::<i64, _>("n"))
            .unwrap_or(0)
    };
    for (status, name, help) in [
        (
            "pending",
            "slotwise_outbox_pending",
            "Messages waiting to be delivered (the backlog), by channel.",
        ),
        (
            "failed",
            "slotwise_outbox_failed",
            "Messages given up after every attempt (until retried), by channel.",
        ),
    ] {
        family(out, name, "gauge", help);
        for c in CHANNELS {
            let _ = writeln!(out, "{name}{{channel=\"{c}\"}} {}", n(status, c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_their_bucket() {
        let s = Series::default();
        s.observe(200, 4_000); // 4 ms: the first bucket
        s.observe(404, 5_000); // exactly 5 ms: still the first (le is inclusive)
        s.observe(500, 20_000_000); // 20 s: +Inf
        assert_eq!(s.buckets[0].load(Relaxed), 2);
        assert_eq!(s.buckets[BUCKETS.len()].load(Relaxed), 1);
        assert_eq!(s.by_class[1].load(Relaxed), 1);
        assert_eq!(s.by_class[3].load(Relaxed), 1);
        assert_eq!(s.by_class[4].load(Relaxed), 1);
        assert_eq!(s.count(), 3);
        let mut out = String::new();
        histogram(&mut out, "h", "route=\"/x\"", &s);
        assert!(out.contains("h_bucket{route=\"/x\",le=\"0.005\"} 2\n"));
        assert!(out.contains("h_bucket{route=\"/x\",le=\"10\"} 2\n"));
        assert!(out.contains("h_bucket{route=\"/x\",le=\"+Inf\"} 3\n"));
        assert!(out.contains("h_count{route=\"/x\"} 3\n"));
    }

    #[test]
    fn label_values_are_escaped_and_tokens_compared_whole() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
        assert!(is_server_fn("/api/bookings"));
        assert!(!is_server_fn("/api/live"));
        assert!(!is_server_fn("/book/{slug}"));
    }
}
