//! `/metrics` on both databases, read as Prometheus would: the exposition
//! text is parsed (every sample line, its labels, its family's TYPE) and
//! the numbers compared before and after what the test does.
//!
//! The request, login and delivery counters are per process, so the tests
//! of this binary take turns (`TURN`): each compares its own two scrapes.

mod common;

use app::server::change::{Change, OutboxMessage};
use app::server::config::{Config, Sms};
use app::server::outbox::{deliver_due, Transports};
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::web::{form, get, post, send, text};
use common::{seeded_app, Backend, TestApp};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One sample line.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text format: `# TYPE` lines, then `name{k="v",...} value`.
/// Panics on anything malformed, and on a sample whose family has no TYPE.
fn parse(body: &str) -> Vec<Sample> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram"].contains(&kind),
                "type {kind}"
            );
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment: {line}");
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value in {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((n, rest)) => (
                n.to_string(),
                parse_labels(rest.strip_suffix('}').expect("closing brace")),
            ),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(&name);
        assert!(types.contains_key(family), "no TYPE for {name}");
        out.push(Sample {
            name,
            labels,
            value,
        });
    }
    out
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = s.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "quoted value in {s}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => panic!("dangling escape in {s}"),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_string(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

/// The value of the sample `name` whose labels include `want` (0 when the
/// series has no sample yet: a counter that never counted).
fn value(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            want.iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(found.len() <= 1, "{name} {want:?} is ambiguous: {found:?}");
    found.first().map_or(0.0, |s| s.value)
}

fn from(req: Request<axum::body::Body>, peer: &str) -> Request<axum::body::Body> {
    let mut req = req;
    let addr: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

/// Scrapes as a client on this machine; asserts the content type.
async fn scrape(router: &Router) -> Vec<Sample> {
    let resp = send(router, from(get("/metrics", None), "127.0.0.1:40000")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    parse(&text(resp).await)
}

async fn app(b: Backend, config: Config) -> (TestApp, Router) {
    let t = seeded_app(
        b,
        Config {
            demo: true,
            ..config
        },
    )
    .await;
    let router = server::router(t.state.clone());
    (t, router)
}

async fn every_named_series_is_exposed(b: Backend) {
    let _turn = TURN.lock().await;
    let (_t, router) = app(b, Config::default()).await;
    send(&router, get("/healthz", None)).await;
    send(&router, post("/api/me", "", None)).await;
    let samples = scrape(&router).await;
    for name in [
        "slotwise_http_requests_total",
        "slotwise_http_request_duration_seconds_bucket",
        "slotwise_http_request_duration_seconds_sum",
        "slotwise_http_request_duration_seconds_count",
        "slotwise_server_fn_calls_total",
        "slotwise_server_fn_call_duration_seconds_count",
        "slotwise_live_streams",
        "slotwise_outbox_pending",
        "slotwise_outbox_failed",
        "slotwise_outbox_delivery_failures_total",
        "slotwise_db_pool_connections",
        "slotwise_database_up",
        "slotwise_login_failures_total",
        "slotwise_login_rate_limited_total",
    ] {
        assert!(samples.iter().any(|s| s.name == name), "missing {name}");
    }
    for channel in ["email", "sms", "pms"] {
        for name in [
            "slotwise_outbox_pending",
            "slotwise_outbox_failed",
            "slotwise_outbox_delivery_failures_total",
        ] {
            assert!(
                samples
                    .iter()
                    .any(|s| s.name == name && s.labels["channel"] == channel),
                "{name} for {channel}"
            );
        }
    }
    assert_eq!(value(&samples, "slotwise_database_up", &[]), 1.0);
    let max = value(
        &samples,
        "slotwise_db_pool_connections",
        &[("state", "max")],
    );
    assert_eq!(max, 8.0);
    let open = value(
        &samples,
        "slotwise_db_pool_connections",
        &[("state", "open")],
    );
    let idle = value(
        &samples,
        "slotwise_db_pool_connections",
        &[("state", "idle")],
    );
    assert!(open >= 1.0 && open <= max && idle <= open, "{open} {idle}");
    // Labels are route templates and server function paths, never raw URLs.
    for s in samples.iter().filter(|s| s.labels.contains_key("route")) {
        assert!(!s.labels["route"].contains("nowhere"), "{s:?}");
    }
}
both_dbs!(every_named_series, every_named_series_is_exposed);

async fn a_request_is_counted_once_under_its_template(b: Backend) {
    let _turn = TURN.lock().await;
    let (_t, router) = app(b, Config::default()).await;
    let feed = [("method", "GET"), ("route", "/calendar/{file}")];
    let feed_404 = [
        ("method", "GET"),
        ("route", "/calendar/{file}"),
        ("status", "4xx"),
    ];
    let health = [("method", "GET"), ("route", "/healthz"), ("status", "2xx")];
    let me = [("method", "POST"), ("fn", "/api/me"), ("status", "2xx")];
    let before = scrape(&router).await;
    for file in ["nowhere-1.ics", "nowhere-2.ics", "nowhere-3.ics"] {
        let resp = send(&router, get(&format!("/calendar/{file}"), None)).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
    send(&router, get("/healthz", None)).await;
    send(&router, post("/api/me", "", None)).await;
    send(&router, post("/api/me", "", None)).await;
    let after = scrape(&router).await;
    let rose = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(rose("slotwise_http_requests_total", &feed_404), 3.0);
    assert_eq!(
        rose("slotwise_http_request_duration_seconds_count", &feed),
        3.0
    );
    assert_eq!(
        rose(
            "slotwise_http_request_duration_seconds_bucket",
            &[feed[0], feed[1], ("le", "+Inf")]
        ),
        3.0
    );
    assert!(rose("slotwise_http_request_duration_seconds_sum", &feed) > 0.0);
    assert_eq!(rose("slotwise_http_requests_total", &health), 1.0);
    assert_eq!(rose("slotwise_server_fn_calls_total", &me), 2.0);
    assert_eq!(
        rose(
            "slotwise_server_fn_call_duration_seconds_count",
            &[me[0], me[1]]
        ),
        2.0
    );
    // The first scrape itself was counted once, after it answered.
    assert_eq!(
        rose(
            "slotwise_http_requests_total",
            &[("method", "GET"), ("route", "/metrics"), ("status", "2xx")]
        ),
        1.0
    );
}
both_dbs!(
    request_counted,
    a_request_is_counted_once_under_its_template
);

async fn a_wrong_token_gets_nothing(b: Backend) {
    let _turn = TURN.lock().await;
    let config = Config {
        metrics_token: Some("s3cret-metrics".into()),
        ..Config::default()
    };
    let (_t, router) = app(b, config).await;
    let with = |auth: Option<&str>, peer: &str| {
        let mut req = get("/metrics", None);
        if let Some(a) = auth {
            req.headers_mut()
                .insert(header::AUTHORIZATION, a.parse().unwrap());
        }
        from(req, peer)
    };
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer s3cret-metric"),
        Some("Basic s3cret-metrics"),
    ] {
        // Even from this machine: a token, once set, is always needed.
        let resp = send(&router, with(auth, "127.0.0.1:1")).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert!(!text(resp).await.contains("slotwise_"), "{auth:?}");
    }
    let resp = send(
        &router,
        with(Some("Bearer s3cret-metrics"), "203.0.113.9:1"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(parse(&text(resp).await)
        .iter()
        .any(|s| s.name == "slotwise_live_streams"));

    // Without a token, only this machine, and not through a proxy.
    let (_t, open) = app(b, Config::default()).await;
    for (peer, forwarded) in [("203.0.113.9:1", false), ("127.0.0.1:1", true)] {
        let mut req = get("/metrics", None);
        if forwarded {
            req.headers_mut()
                .insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        }
        let resp = send(&open, from(req, peer)).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{peer}");
        assert!(!text(resp).await.contains("slotwise_"));
    }
    let resp = send(&open, get("/metrics", None)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "no peer address");

    // With an address of its own, the app's address does not serve it.
    let (t, moved) = app(
        b,
        Config {
            metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
            ..Config::default()
        },
    )
    .await;
    let resp = send(&moved, from(get("/metrics", None), "127.0.0.1:1")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let dedicated = server::metrics::dedicated_router(t.state.clone());
    let resp = send(&dedicated, get("/metrics", None)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}
both_dbs!(token_refusal, a_wrong_token_gets_nothing);

/// Queues one message through the one place changes queue them.
async fn queue(t: &TestApp, channel: &'static str, key: &str) {
    let mut change = Change::begin(&t.state).await.unwrap();
    change
        .outbox(OutboxMessage {
            recipient_user_id: None,
            recipient: if channel == "sms" {
                "+15555550100".into()
            } else {
                "ops@example.test".into()
            },
            channel,
            event: "test".into(),
            subject: "Test".into(),
            body_text: "Test".into(),
            body_html: String::new(),
            attachment: None,
            attachment_extra: None,
            idempotency_key: key.into(),
            clinic_id: None,
            appointment_id: None,
        })
        .await
        .unwrap();
    change.commit().await.unwrap();
}

async fn the_backlog_and_failures_show(b: Backend) {
    let _turn = TURN.lock().await;
    // An SMS provider that refuses connections: a port just let go of.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let config = Config {
        sms: Some(Sms {
            base_url: format!("http://{closed}"),
            account: "AC1".into(),
            token: "t".into(),
            from: "+15555550199".into(),
        }),
        ..Config::default()
    };
    let (t, router) = app(b, config).await;
    // Delivers what the demo queued (email goes to the mailbox).
    let transports = Transports::new(&t.state.config).unwrap();
    while deliver_due(&t.state, &transports).await.unwrap() > 0 {}
    let before = scrape(&router).await;
    let rose = |now: &[Sample], name: &str, channel: &str| {
        value(now, name, &[("channel", channel)]) - value(&before, name, &[("channel", channel)])
    };
    queue(&t, "email", "metrics-test-email").await;
    queue(&t, "sms", "metrics-test-sms").await;
    let queued = scrape(&router).await;
    assert_eq!(rose(&queued, "slotwise_outbox_pending", "email"), 1.0);
    assert_eq!(rose(&queued, "slotwise_outbox_pending", "sms"), 1.0);
    assert_eq!(rose(&queued, "slotwise_outbox_pending", "pms"), 0.0);

    // The email is kept in the mailbox; the SMS fails and waits for a retry.
    assert_eq!(deliver_due(&t.state, &transports).await.unwrap(), 2);
    let delivered = scrape(&router).await;
    assert_eq!(rose(&delivered, "slotwise_outbox_pending", "email"), 0.0);
    assert_eq!(
        rose(&delivered, "slotwise_outbox_pending", "sms"),
        1.0,
        "waiting for its retry"
    );
    let failures = "slotwise_outbox_delivery_failures_total";
    assert_eq!(rose(&delivered, failures, "sms"), 1.0);
    assert_eq!(rose(&delivered, failures, "email"), 0.0);
    // Given up: counted as failed, no longer as backlog.
    sqlx::query("UPDATE outbox SET status = 'failed' WHERE idempotency_key = 'metrics-test-sms'")
        .execute(&t.state.db.pool)
        .await
        .unwrap();
    let given_up = scrape(&router).await;
    assert_eq!(rose(&given_up, "slotwise_outbox_pending", "sms"), 0.0);
    assert_eq!(rose(&given_up, "slotwise_outbox_failed", "sms"), 1.0);
}
both_dbs!(outbox_backlog, the_backlog_and_failures_show);

async fn a_failed_login_is_counted(b: Backend) {
    let _turn = TURN.lock().await;
    let (_t, router) = app(b, Config::default()).await;
    let login = |password: &str| {
        post(
            "/api/login",
            &form(&[
                ("email", "ann@patients.test"),
                ("password", password),
                ("next", ""),
            ]),
            None,
        )
    };
    let failures = |s: &[Sample]| value(s, "slotwise_login_failures_total", &[]);
    let before = scrape(&router).await;
    let resp = send(&router, login("not-the-password")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = send(&router, login("also-wrong")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let after = scrape(&router).await;
    assert_eq!(failures(&after) - failures(&before), 2.0);
    // A successful login is not a failure.
    let resp = send(&router, login(app::server::demo::DEMO_PASSWORD)).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let ok = scrape(&router).await;
    assert_eq!(failures(&ok), failures(&after));
    assert_eq!(
        value(
            &ok,
            "slotwise_server_fn_calls_total",
            &[("fn", "/api/login"), ("status", "4xx")]
        ) - value(
            &before,
            "slotwise_server_fn_calls_total",
            &[("fn", "/api/login"), ("status", "4xx")]
        ),
        2.0
    );
}
both_dbs!(login_failures, a_failed_login_is_counted);

async fn open_live_streams_are_counted(b: Backend) {
    let _turn = TURN.lock().await;
    let (t, router) = app(b, Config::default()).await;
    let (token, _) = t.session("admin@northside.test").await;
    let streams = |s: &[Sample]| value(s, "slotwise_live_streams", &[]);
    let before = streams(&scrape(&router).await);
    let resp = send(&router, get("/api/live", Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut live = common::web::LiveStream::new(resp);
    live.expect_message(std::time::Duration::from_secs(5)).await;
    assert_eq!(streams(&scrape(&router).await), before + 1.0);
    drop(live);
    // The stream's task ends when it notices the client left.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if streams(&scrape(&router).await) == before {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "stream still counted");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
both_dbs!(live_streams, open_live_streams_are_counted);
