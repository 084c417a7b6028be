//! Router tests: the whole app (middleware, server functions, pages, the
//! live stream) driven through `server::router` with `oneshot`, no socket.
//! SQLite, except the input-boundary tests that touch no page, which run on
//! both databases (`both_dbs!`); the PostgreSQL-specific live path is in
//! `two_instances.rs`.

// Router tests run on a current-thread runtime: leptos 0.8.23's SSR
// <Suspense> can lose a wake-up when resources resolve on another worker
// thread (leptos-rs/leptos#4851), which hangs a page render now and then
// under a work-stealing runtime. See the closing note of the Foundation issue.
mod common;

use app::domain::live::{topic, LiveWire};
use app::server::config::Config;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::web::{self, form, get, post, send, LiveStream, Next};
use common::{demo_app, Backend, TestApp};
use std::time::Duration;

const PASSWORD: &str = app::server::demo::DEMO_PASSWORD;

async fn app() -> (TestApp, Router) {
    let t = demo_app(Backend::Sqlite).await;
    let router = server::router(t.state.clone());
    (t, router)
}

/// Like `app()`, with demo data on a configuration of the test's choosing.
async fn app_with(config: Config) -> (TestApp, Router) {
    let t = common::app_on(
        common::fresh_database(Backend::Sqlite).await,
        Config {
            demo: true,
            ..config
        },
    )
    .await;
    assert!(app::server::demo::seed_if_empty(&t.state)
        .await
        .expect("seed"));
    let router = server::router(t.state.clone());
    (t, router)
}

fn login_form(email: &str, password: &str, next: &str) -> String {
    form(&[("email", email), ("password", password), ("next", next)])
}

/// Logs in through `POST /api/login` and returns the session token.
async fn login(router: &Router, email: &str) -> String {
    let resp = send(
        router,
        post("/api/login", &login_form(email, PASSWORD, ""), None),
    )
    .await;
    assert!(
        resp.status().is_success() || resp.status().is_redirection(),
        "login {email}: {}",
        resp.status()
    );
    web::session_from_set_cookie(&resp)
        .unwrap_or_else(|| panic!("login {email}: no session cookie"))
}

/// `POST /api/me`: the logged-in user's email, or None.
async fn me_email(router: &Router, token: Option<&str>) -> Option<String> {
    let resp = send(router, post("/api/me", "", token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v = web::json(resp).await;
    if v.is_null() {
        return None;
    }
    Some(
        v["email"]
            .as_str()
            .unwrap_or_else(|| panic!("me without email: {v}"))
            .to_string(),
    )
}

/// The patient behind `token` asks Northside for a video consultation now,
/// through `POST /api/request_session`; returns the new request's id.
async fn ask_northside_now(t: &TestApp, router: &Router, token: &str) -> i64 {
    let clinic = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let service = t
        .id("SELECT id FROM service WHERE name = 'Video consultation'")
        .await;
    let body = form(&[
        ("clinic_id", &clinic.to_string()),
        ("service_id", &service.to_string()),
        ("mode", "now"),
        ("answers[0]", "A sore throat"),
        ("note", ""),
    ]);
    let resp = send(router, post("/api/request_session", &body, Some(token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    web::json(resp)
        .await
        .as_i64()
        .expect("the new request's id")
}

async fn sessions(t: &TestApp) -> i64 {
    t.count("SELECT COUNT(*) FROM user_session").await
}

#[tokio::test]
async fn health_check_answers_ok_and_every_response_has_a_request_id() {
    let (_t, router) = app().await;
    let resp = send(
        &router,
        Request::get("/healthz").body(Default::default()).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let id = web::header_str(&resp, "x-request-id")
        .expect("x-request-id")
        .to_string();
    assert!(!id.is_empty());
    assert!(web::header_str(&resp, "content-type")
        .unwrap_or("")
        .starts_with("application/json"));
    let body = web::json(resp).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "sqlite");

    // Each request gets its own id...
    let again = send(
        &router,
        Request::get("/healthz").body(Default::default()).unwrap(),
    )
    .await;
    assert_ne!(web::header_str(&again, "x-request-id"), Some(id.as_str()));
    // ...a proxy's id is kept...
    let proxied = Request::get("/healthz")
        .header("x-request-id", "proxy-abc-123")
        .body(Default::default())
        .unwrap();
    let resp = send(&router, proxied).await;
    assert_eq!(
        web::header_str(&resp, "x-request-id"),
        Some("proxy-abc-123")
    );
    // ...and refusals carry one too.
    let resp = send(&router, get("/no-such-page", None)).await;
    assert!(web::header_str(&resp, "x-request-id").is_some_and(|v| !v.is_empty()));
    let resp = send(&router, post("/api/request_session", "", None)).await;
    assert!(web::header_str(&resp, "x-request-id").is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn login_sets_an_http_only_lax_cookie_and_sends_each_role_home() {
    let (t, router) = app().await;
    let resp = send(
        &router,
        post(
            "/api/login",
            &login_form("scheduler@northside.test", PASSWORD, ""),
            None,
        ),
    )
    .await;
    assert!(
        resp.status().is_success() || resp.status().is_redirection(),
        "{}",
        resp.status()
    );
    assert_eq!(
        web::header_str(&resp, "location"),
        Some("/schedule"),
        "staff go to the Schedule"
    );
    let set_cookie = web::header_str(&resp, "set-cookie")
        .expect("Set-Cookie")
        .to_string();
    assert!(set_cookie.starts_with("slotwise_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain http without a public https URL: {set_cookie}"
    );
    let token = web::session_from_set_cookie(&resp).expect("token");
    assert_eq!(sessions(&t).await, 1);
    assert_eq!(
        me_email(&router, Some(&token)).await.as_deref(),
        Some("scheduler@northside.test")
    );

    // A plain form post (no JavaScript) gets a real redirect.
    let mut req = post(
        "/api/login",
        &login_form("ann@patients.test", PASSWORD, ""),
        None,
    );
    req.headers_mut()
        .insert(header::ACCEPT, web::BROWSER_ACCEPT.parse().unwrap());
    let resp = send(&router, req).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(
        web::header_str(&resp, "location"),
        Some("/portal"),
        "patients go to the Portal"
    );

    // `next` is followed when it is a local path, and only then.
    let resp = send(
        &router,
        post(
            "/api/login",
            &login_form("admin@northside.test", PASSWORD, "/dispatch"),
            None,
        ),
    )
    .await;
    assert_eq!(web::header_str(&resp, "location"), Some("/dispatch"));
    let resp = send(
        &router,
        post(
            "/api/login",
            &login_form("ben@patients.test", PASSWORD, "https://evil.test/"),
            None,
        ),
    )
    .await;
    assert_eq!(web::header_str(&resp, "location"), Some("/portal"));
    assert_eq!(sessions(&t).await, 4);
}

#[tokio::test]
async fn a_wrong_password_is_401_with_a_message_and_no_cookie() {
    let (t, router) = app().await;
    let resp = send(
        &router,
        post(
            "/api/login",
            &login_form("scheduler@northside.test", "not-the-password", ""),
            None,
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(web::session_from_set_cookie(&resp).is_none());
    assert!(web::header_str(&resp, "location").is_none());
    let body = web::text(resp).await;
    let v: serde_json::Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body}"));
    assert_eq!(v["message"], "Email or password is incorrect.", "{body}");
    assert_eq!(v["kind"], "unauthorized", "{body}");
    assert_eq!(sessions(&t).await, 0);
}

#[tokio::test]
async fn a_malformed_form_is_400_not_500() {
    let (t, router) = app().await;
    let body = form(&[("email", "scheduler@northside.test"), ("next", "")]);
    let resp = send(&router, post("/api/login", &body, None)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v = web::json(resp).await;
    assert_eq!(v["kind"], "validation", "{v}");

    // A number that is not a number.
    let body = form(&[("clinic_id", "one"), ("service_id", "1"), ("note", "")]);
    let token = t.session("ben@patients.test").await.0;
    let resp = send(&router, post("/api/request_session", &body, Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        sessions(&t).await,
        1,
        "only the session made for the second request"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let (t, router) = app().await;
    let max = t.state.config.max_body_bytes;
    assert_eq!(max, 64 * 1024, "the default limit");
    let padding = "x".repeat(max + 1);
    let big = login_form("scheduler@northside.test", &padding, "");
    assert!(big.len() > max);
    let resp = send(&router, post("/api/login", &big, None)).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Just under the limit is read (and refused only for its content).
    let fits = login_form("scheduler@northside.test", &"x".repeat(max - 200), "");
    assert!(fits.len() <= max);
    let resp = send(&router, post("/api/login", &fits, None)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

/// An oversized login streamed without `Content-Length` (chunked).
fn chunked_oversized_login(max: usize) -> Request<axum::body::Body> {
    let big = login_form("scheduler@northside.test", &"x".repeat(max + 1), "");
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(8192)
        .map(|c| Ok(String::from_utf8(c.to_vec()).unwrap()))
        .collect();
    Request::post("/api/login")
        .header(header::CONTENT_TYPE, web::FORM)
        .body(axum::body::Body::from_stream(futures::stream::iter(chunks)))
        .unwrap()
}

#[tokio::test]
async fn a_body_over_the_limit_without_content_length_is_refused() {
    let (t, router) = app().await;
    let resp = send(
        &router,
        chunked_oversized_login(t.state.config.max_body_bytes),
    )
    .await;
    assert!(
        !resp.status().is_success() && !resp.status().is_redirection(),
        "{}",
        resp.status()
    );
    assert!(web::session_from_set_cookie(&resp).is_none());
    assert_eq!(sessions(&t).await, 0);
}

/// A chunked body gives no length up front; the limit must still give 413.
#[tokio::test]
async fn a_body_over_the_limit_without_content_length_is_413() {
    let (t, router) = app().await;
    let resp = send(
        &router,
        chunked_oversized_login(t.state.config.max_body_bytes),
    )
    .await;
    let status = resp.status();
    let body = web::text(resp).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let (t, router) = app().await;
    let good = login_form("scheduler@northside.test", PASSWORD, "");
    let with = |headers: &[(&str, &str)]| {
        let mut req = post("/api/login", &good, None);
        for (k, v) in headers {
            req.headers_mut().insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        req
    };

    for headers in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "http://evil.test"), ("host", "localhost")][..],
        &[
            ("origin", "http://localhost.evil.test"),
            ("host", "localhost"),
        ][..],
        &[("origin", "null"), ("host", "localhost")][..],
        // The same host and port under another scheme is another origin
        // (the server speaks plain http; no trusted proxy says otherwise).
        &[("origin", "https://localhost"), ("host", "localhost")][..],
        &[
            ("origin", "https://localhost:3000"),
            ("host", "localhost:3000"),
            ("x-forwarded-proto", "https"),
        ][..],
    ] {
        let resp = send(&router, with(headers)).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(web::session_from_set_cookie(&resp).is_none(), "{headers:?}");
        let body = web::text(resp).await;
        assert!(
            body.contains("Cross-site requests are not allowed"),
            "{headers:?}: {body}"
        );
    }
    assert_eq!(sessions(&t).await, 0, "no refused login got through");

    // Same origin (or a browser saying so, or a client sending neither) is fine.
    for headers in [
        &[("origin", "http://localhost"), ("host", "localhost")][..],
        &[
            ("origin", "http://LOCALHOST:3000"),
            ("host", "localhost:3000"),
        ][..],
        &[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://localhost"),
            ("host", "localhost"),
        ][..],
        &[][..],
    ] {
        let resp = send(&router, with(headers)).await;
        assert_ne!(resp.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(web::session_from_set_cookie(&resp).is_some(), "{headers:?}");
    }
    assert_eq!(sessions(&t).await, 4);

    // Reading is not a state change: a cross-site GET is answered.
    let mut req = get("/healthz", None);
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(&router, req).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn staff_pages_redirect_visitors_refuse_patients_and_open_for_staff() {
    let (t, router) = app().await;

    let resp = send(&router, get("/schedule", None)).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = web::header_str(&resp, "location")
        .expect("Location")
        .to_string();
    assert_eq!(location, "/login?next=/schedule");

    let patient = t.session("ann@patients.test").await.0;
    let resp = send(&router, get("/schedule", Some(&patient))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body = web::text(resp).await;
    assert!(
        body.contains("You don't have access to this page")
            || body.contains("You don&#x27;t have access to this page")
            || body.contains("You don&#39;t have access to this page"),
        "{body}"
    );
    assert!(
        !body.contains("Times in America/New_York"),
        "the page itself is not rendered"
    );

    let staff = t.session("scheduler@northside.test").await.0;
    let resp = send(&router, get("/schedule", Some(&staff))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = web::text(resp).await;
    // The Schedule is rendered on the server with the clinic's week.
    assert!(body.contains("Times in America/New_York"), "{body}");
    assert!(!body.contains("have access to this page"));

    // A patient's own page is open to them.
    let resp = send(&router, get("/portal", Some(&patient))).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_page_is_404() {
    let (t, router) = app().await;
    let resp = send(&router, get("/no-such-page", None)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(web::text(resp).await.contains("Page not found"));
    // Logged in or not.
    let staff = t.session("scheduler@northside.test").await.0;
    let resp = send(&router, get("/no-such-page/deeper", Some(&staff))).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_live_stream_needs_a_session_and_starts_with_ready() {
    let (t, router) = app().await;
    let resp = send(&router, get("/api/live", None)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = send(&router, get("/api/live", Some("not-a-real-token"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let token = t.session("scheduler@northside.test").await.0;
    let resp = send(&router, get("/api/live", Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        web::header_str(&resp, "content-type").is_some_and(|c| c.starts_with("text/event-stream")),
        "{:?}",
        resp.headers()
    );
    let mut stream = LiveStream::new(resp);
    assert_eq!(
        stream.expect_message(Duration::from_secs(10)).await,
        LiveWire::Ready
    );
    assert_eq!(stream.last_data, r#"{"type":"ready"}"#);
    // Then quiet until something changes.
    assert!(matches!(
        stream.next(Duration::from_millis(300)).await,
        Next::Quiet
    ));
}

#[tokio::test]
async fn a_request_made_through_the_router_reaches_open_streams_that_may_see_it() {
    let (t, router) = app().await;
    let open = |token: String| {
        let router = router.clone();
        async move {
            let resp = send(&router, get("/api/live", Some(&token))).await;
            assert_eq!(resp.status(), StatusCode::OK);
            let mut s = LiveStream::new(resp);
            assert_eq!(
                s.expect_message(Duration::from_secs(10)).await,
                LiveWire::Ready
            );
            s
        }
    };
    let mut sched = open(t.session("scheduler@northside.test").await.0).await;
    let mut harbour = open(t.session("admin@harbour.test").await.0).await;
    let ben = login(&router, "ben@patients.test").await;
    let id = ask_northside_now(&t, &router, &ben).await;

    match sched.expect_message(Duration::from_secs(10)).await {
        LiveWire::Change(ev) => {
            assert_eq!(
                (ev.topic.as_str(), ev.action.as_str(), ev.entity_id),
                (topic::REQUEST, "created", id)
            );
        }
        other => panic!("expected the change, got {other:?}"),
    }
    assert!(matches!(
        harbour.next(Duration::from_millis(500)).await,
        Next::Quiet
    ));
}

#[tokio::test]
async fn logout_ends_the_session_and_its_stream() {
    let (t, router) = app().await;
    let token = login(&router, "dr.lee@northside.test").await;
    let other = login(&router, "scheduler@northside.test").await;
    assert_eq!(
        me_email(&router, Some(&token)).await.as_deref(),
        Some("dr.lee@northside.test")
    );
    let hash = app::server::auth::token_hash(&token);
    let row = format!("SELECT COUNT(*) FROM user_session WHERE token_hash = '{hash}'");
    assert_eq!(t.count(&row).await, 1);

    let resp = send(&router, get("/api/live", Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = LiveStream::new(resp);
    assert_eq!(
        stream.expect_message(Duration::from_secs(10)).await,
        LiveWire::Ready
    );

    let resp = send(&router, post("/api/logout", "", Some(&token))).await;
    assert!(
        resp.status().is_success() || resp.status().is_redirection(),
        "{}",
        resp.status()
    );
    assert_eq!(web::header_str(&resp, "location"), Some("/login"));
    let cleared = web::header_str(&resp, "set-cookie")
        .expect("Set-Cookie")
        .to_string();
    assert!(
        cleared.starts_with("slotwise_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    assert_eq!(t.count(&row).await, 0, "the session row is gone");
    assert_eq!(
        me_email(&router, Some(&token)).await,
        None,
        "the old cookie no longer works"
    );
    assert!(
        matches!(stream.next(Duration::from_secs(10)).await, Next::Ended),
        "the stream ended"
    );
    // Other sessions are untouched.
    assert_eq!(
        me_email(&router, Some(&other)).await.as_deref(),
        Some("scheduler@northside.test")
    );
    let resp = send(&router, get("/api/live", Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn patients_request_a_session_now_and_mistakes_change_nothing() {
    let (t, router) = app().await;
    let clinic = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let service = t
        .id("SELECT id FROM service WHERE name = 'Video consultation'")
        .await;
    let ben = t.session("ben@patients.test").await;
    let body = |service_id: i64| {
        form(&[
            ("clinic_id", &clinic.to_string()),
            ("service_id", &service_id.to_string()),
            ("mode", "now"),
            ("answers[0]", "A sore throat"),
            ("note", "a cough & a fever"),
        ])
    };
    let requests = "SELECT COUNT(*) FROM request";
    let before = t.count(requests).await;

    // Not logged in.
    let resp = send(&router, post("/api/request_session", &body(service), None)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(web::json(resp).await["kind"], "unauthorized");
    // An unknown service.
    let resp = send(
        &router,
        post("/api/request_session", &body(999_999), Some(&ben.0)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v = web::json(resp).await;
    assert_eq!(v["message"], "Choose a service.", "{v}");
    assert_eq!(
        t.count(requests).await,
        before,
        "refused requests write nothing"
    );

    let resp = send(
        &router,
        post("/api/request_session", &body(service), Some(&ben.0)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let id = web::json(resp)
        .await
        .as_i64()
        .expect("the new request's id");
    assert_eq!(t.count(requests).await, before + 1);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE id = {id} AND requester_id = {} AND clinic_id = {clinic} \
             AND service_id = {service} AND note = 'a cough & a fever' AND status = 'pending'",
            ben.1.me.user_id
        ))
        .await,
        1
    );
    // A second one while the first waits is a conflict.
    let resp = send(
        &router,
        post("/api/request_session", &body(service), Some(&ben.0)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(t.count(requests).await, before + 1);
}

#[tokio::test]
async fn an_open_stream_ends_when_its_session_times_out() {
    let (t, router) = app_with(Config {
        heartbeat_secs: 1,
        ..Config::default()
    })
    .await;
    let token = t.session("scheduler@northside.test").await.0;
    let resp = send(&router, get("/api/live", Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = LiveStream::new(resp);
    assert_eq!(
        stream.expect_message(Duration::from_secs(10)).await,
        LiveWire::Ready
    );

    // A live session's stream stays open past its re-checks, with heartbeats.
    assert!(matches!(
        stream.next(Duration::from_millis(2500)).await,
        Next::Quiet
    ));
    assert!(
        stream.heartbeats >= 1,
        "no heartbeat in 2.5 s at 1 s intervals"
    );

    // 30 idle minutes later the session is over, and so is the stream.
    t.clock.advance(chrono::Duration::minutes(31));
    assert!(matches!(
        stream.next(Duration::from_secs(10)).await,
        Next::Ended
    ));
}

/// The `Set-Cookie` of a login (and of the logout after it) under `config`,
/// the request carrying `headers`.
async fn cookies_with(config: Config, headers: &[(&str, &str)]) -> (String, String) {
    let (_t, router) = app_with(config).await;
    let add = |mut req: Request<axum::body::Body>| {
        for (k, v) in headers {
            req.headers_mut().insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        req
    };
    let resp = send(
        &router,
        add(post(
            "/api/login",
            &login_form("ann@patients.test", PASSWORD, ""),
            None,
        )),
    )
    .await;
    let login = web::header_str(&resp, "set-cookie")
        .expect("login cookie")
        .to_string();
    let token = web::session_from_set_cookie(&resp).expect("token");
    let resp = send(&router, add(post("/api/logout", "", Some(&token)))).await;
    let logout = web::header_str(&resp, "set-cookie")
        .expect("logout cookie")
        .to_string();
    (login, logout)
}

#[tokio::test]
async fn cookies_are_secure_over_https_only() {
    let https = [("x-forwarded-proto", "https")];
    let secure = |c: &str| c.split(';').any(|p| p.trim() == "Secure");

    // Behind a trusted TLS proxy.
    let trusted = Config {
        trust_proxy: true,
        ..Config::default()
    };
    let (login, logout) = cookies_with(trusted.clone(), &https).await;
    assert!(secure(&login) && secure(&logout), "{login} / {logout}");
    // A browser there sends its https origin, which the proxy vouches for.
    let from_browser = [
        ("x-forwarded-proto", "https"),
        ("origin", "https://clinic.example"),
        ("host", "clinic.example"),
    ];
    let (login, logout) = cookies_with(trusted.clone(), &from_browser).await;
    assert!(secure(&login) && secure(&logout), "{login} / {logout}");
    // The same proxy over plain http.
    let (login, logout) = cookies_with(trusted, &[("x-forwarded-proto", "http")]).await;
    assert!(!secure(&login) && !secure(&logout), "{login} / {logout}");
    // Anyone can send the header; without a trusted proxy it means nothing.
    let (login, logout) = cookies_with(Config::default(), &https).await;
    assert!(!secure(&login) && !secure(&logout), "{login} / {logout}");
    // A public https URL makes them Secure whatever the request says.
    let public = Config {
        public_url: Some("https://clinic.example".into()),
        ..Config::default()
    };
    let (login, logout) = cookies_with(public, &[("origin", "https://clinic.example")]).await;
    assert!(secure(&login) && secure(&logout), "{login} / {logout}");
}

#[tokio::test]
async fn a_client_behind_a_trusted_proxy_cannot_dodge_the_address_limit() {
    // One failure per account, so four per address.
    let (_t, router) = app_with(Config {
        trust_proxy: true,
        login_max_failures: 1,
        ..Config::default()
    })
    .await;
    let attempt = |email: &'static str, password: &'static str, forwarded: String| {
        let router = router.clone();
        async move {
            let mut req = post("/api/login", &login_form(email, password, ""), None);
            req.headers_mut()
                .insert("x-forwarded-for", forwarded.parse().unwrap());
            send(&router, req).await.status()
        }
    };
    // The client sends a made-up X-Forwarded-For each time; the proxy
    // appends the address it really sees.
    let accounts = [
        "admin@northside.test",
        "dr.lee@northside.test",
        "dr.patel@northside.test",
        "dr.kim@northside.test",
    ];
    for (i, email) in accounts.into_iter().enumerate() {
        let status = attempt(
            email,
            "wrong-password",
            format!("198.51.100.{i}, 203.0.113.9"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{email}");
    }
    // Four failures from 203.0.113.9: locked out, whatever it claims.
    let status = attempt(
        "scheduler@northside.test",
        PASSWORD,
        "198.51.100.77, 203.0.113.9".into(),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another client is not.
    let status = attempt("scheduler@northside.test", PASSWORD, "203.0.113.10".into()).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
}

#[tokio::test]
async fn staff_create_and_reschedule_over_http_with_clear_errors() {
    let (t, router) = app().await;
    let n = |sql: &'static str| t.id(sql);
    let clinic = n("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let patel = n("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'").await;
    let ann = n("SELECT id FROM app_user WHERE email = 'ann@patients.test'").await;
    let service = n("SELECT id FROM service WHERE name = 'Video consultation'").await;
    let sched = t.session("scheduler@northside.test").await;
    let patient = t.session("ann@patients.test").await;
    let (clinic, patel, ann, service) = (
        clinic.to_string(),
        patel.to_string(),
        ann.to_string(),
        service.to_string(),
    );
    // The test clock is Wed 4 Mar 2026, 10:00 in New York.
    let body = |date: &str, start: &str, end: &str| {
        form(&[
            ("form[clinic_id]", &clinic),
            ("form[provider_id]", &patel),
            ("form[patient_id]", &ann),
            ("form[service_id]", &service),
            ("form[date]", date),
            ("form[start]", start),
            ("form[end]", end),
            ("form[location]", ""),
        ])
    };
    let all = "SELECT COUNT(*) FROM appointment";
    let before = t.count(all).await;
    let refused = [
        (
            body("2026-03-09", "07:00", "06:30"),
            "The end must be after the start.",
        ),
        (
            body("2026-03-02", "07:00", ""),
            "Choose a start time in the future.",
        ),
        // The dialog sends a date and a time; anything else is malformed.
        (body("09/03/2026", "07:00", ""), app::error::MALFORMED),
        (body("2026-03-09", "7am", ""), app::error::MALFORMED),
    ];
    for (b, message) in refused {
        let resp = send(&router, post("/api/create_appointment", &b, Some(&sched.0))).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(web::json(resp).await["message"], message);
    }
    let ok = body("2026-03-09", "07:00", "");
    let resp = send(
        &router,
        post("/api/create_appointment", &ok, Some(&patient.0)),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "patients cannot book for providers"
    );
    assert_eq!(t.count(all).await, before, "nothing was written");

    let resp = send(
        &router,
        post("/api/create_appointment", &ok, Some(&sched.0)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(web::json(resp).await["count"], 1);
    let id = t.id("SELECT MAX(id) FROM appointment").await.to_string();
    let resp = send(
        &router,
        post("/api/create_appointment", &ok, Some(&sched.0)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(web::json(resp).await["message"]
        .as_str()
        .unwrap()
        .contains(&format!("#{id}")));

    let moved = |date: &str, scope: &str| {
        form(&[
            ("id", &id),
            ("date", date),
            ("start", "08:00"),
            ("location", "Room 1"),
            ("scope", scope),
        ])
    };
    let resp = send(
        &router,
        post(
            "/api/reschedule_appointment",
            &moved("2026-03-10", "sideways"),
            Some(&sched.0),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = send(
        &router,
        post(
            "/api/reschedule_appointment",
            &moved("2026-03-10", "this"),
            Some(&sched.0),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {id} AND location = 'Room 1'"
        ))
        .await,
        1
    );

    // The Schedule is for staff only.
    let week = form(&[("mode", "week"), ("date", "")]);
    let resp = send(&router, post("/api/schedule", &week, Some(&patient.0))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = send(&router, post("/api/schedule", &week, Some(&sched.0))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(web::json(resp).await["time_zone"], "America/New_York");
}

#[tokio::test]
async fn change_requests_refuse_bad_input_over_http_with_4xx_and_change_nothing() {
    let (t, router) = app().await;
    let req: i64 = t
        .id("SELECT id FROM request WHERE kind = 'reschedule' AND status = 'pending'")
        .await;
    let appt: i64 = t
        .id(&format!(
            "SELECT appointment_id FROM request WHERE id = {req}"
        ))
        .await;
    let sched = t.session("scheduler@northside.test").await.0;
    let ben = t.session("ben@patients.test").await.0;
    let id = req.to_string();
    let cases = [
        // (who, path, body, status)
        (
            &sched,
            "/api/answer_change_request",
            form(&[("request_id", &id), ("answer", "counter"), ("reason", "x")]),
            StatusCode::BAD_REQUEST,
        ),
        (
            &sched,
            "/api/answer_change_request",
            form(&[("request_id", &id), ("answer", "approve"), ("reason", " ")]),
            StatusCode::BAD_REQUEST,
        ),
        (
            &sched,
            "/api/answer_change_request",
            form(&[
                ("request_id", &id),
                ("answer", "propose"),
                ("reason", "x"),
                ("start", "tomorrow"),
            ]),
            StatusCode::BAD_REQUEST,
        ),
        (
            &sched,
            "/api/answer_change_request",
            form(&[
                ("request_id", "999999"),
                ("answer", "deny"),
                ("reason", "x"),
            ]),
            StatusCode::NOT_FOUND,
        ),
        (
            &ben,
            "/api/answer_change_request",
            form(&[("request_id", &id), ("answer", "deny"), ("reason", "x")]),
            StatusCode::NOT_FOUND,
        ),
        // Ben acting on Ann's appointment (swapped ids).
        (
            &ben,
            "/api/cancel_my_appointment",
            form(&[("appointment_id", &appt.to_string())]),
            StatusCode::NOT_FOUND,
        ),
        (
            &ben,
            "/api/reschedule_my_appointment",
            form(&[("appointment_id", &appt.to_string()), ("start", "1")]),
            StatusCode::NOT_FOUND,
        ),
        (
            &ben,
            "/api/answer_proposal",
            form(&[("appointment_id", &appt.to_string()), ("answer", "approve")]),
            StatusCode::NOT_FOUND,
        ),
        (
            &ben,
            "/api/answer_proposal",
            form(&[("appointment_id", &appt.to_string()), ("answer", "maybe")]),
            StatusCode::BAD_REQUEST,
        ),
        (
            &ben,
            "/api/change_requests",
            String::new(),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (who, path, body, status) in cases {
        let resp = send(&router, post(path, &body, Some(who))).await;
        assert_eq!(resp.status(), status, "{path} {body}");
    }
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM request WHERE id = {req} AND status = 'pending'"
        ))
        .await,
        1
    );
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {appt} AND status = 'booked'"
        ))
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_endpoints_refuse_bad_input_and_feeds_answer_only_their_token() {
    let (t, router) = app().await;
    let admin = t.session("admin@northside.test").await.0;
    let lee = t.session("dr.lee@northside.test").await.0;
    let ann = t.session("ann@patients.test").await.0;
    let nguyen_id = t
        .id("SELECT id FROM app_user WHERE email = 'dr.nguyen@harbour.test'")
        .await
        .to_string();
    let prefs = || t.count("SELECT COUNT(*) FROM notification_preference");
    let before = prefs().await;
    let cases = [
        (
            &lee,
            "/api/save_notification_settings",
            form(&[
                ("user_id", "0"),
                ("choices[0][event]", "birthday"),
                ("choices[0][channel]", "email"),
            ]),
            StatusCode::BAD_REQUEST,
        ),
        (
            &lee,
            "/api/save_notification_settings",
            form(&[
                ("user_id", "0"),
                ("choices[0][event]", "invited"),
                ("choices[0][channel]", "fax"),
            ]),
            StatusCode::BAD_REQUEST,
        ),
        (
            &lee,
            "/api/save_notification_settings",
            form(&[("choices", "invited:email")]),
            StatusCode::BAD_REQUEST,
        ),
        // A provider may not edit a colleague; an admin not another clinic's provider.
        (
            &lee,
            "/api/save_notification_settings",
            form(&[("user_id", &nguyen_id)]),
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            "/api/save_notification_settings",
            form(&[("user_id", &nguyen_id)]),
            StatusCode::NOT_FOUND,
        ),
        (
            &ann,
            "/api/notification_settings",
            form(&[("user_id", "0")]),
            StatusCode::FORBIDDEN,
        ),
        (
            &lee,
            "/api/outbox",
            form(&[("status", "all")]),
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            "/api/outbox",
            form(&[("status", "lost")]),
            StatusCode::BAD_REQUEST,
        ),
        (
            &admin,
            "/api/retry_message",
            form(&[("id", "999999")]),
            StatusCode::NOT_FOUND,
        ),
        (
            &ann,
            "/api/create_calendar_feed",
            String::new(),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (who, path, body, status) in cases {
        let resp = send(&router, post(path, &body, Some(who))).await;
        assert_eq!(resp.status(), status, "{path} {body}");
    }
    assert_eq!(prefs().await, before, "nothing changed");

    // A provider's feed: only its own token reads it, and revoking ends it.
    let resp = send(&router, post("/api/create_calendar_feed", "", Some(&lee))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let url: String = serde_json::from_str(&web::text(resp).await).unwrap();
    let path = url
        .split_once("/calendar/")
        .map(|(_, p)| format!("/calendar/{p}"))
        .unwrap();
    let resp = send(&router, get(&path, None)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        web::header_str(&resp, "content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let ics = web::text(resp).await;
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(
        ics.contains("BEGIN:VEVENT"),
        "Dr. Lee's demo appointments are listed"
    );
    assert!(!ics.contains("METHOD:"));
    let wrong = format!("{}x.ics", &path[..path.len() - 5]);
    assert_eq!(
        send(&router, get(&wrong, None)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&router, get("/calendar/nothing.ics", None))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let resp = send(&router, post("/api/revoke_calendar_feed", "", Some(&lee))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        send(&router, get(&path, None)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_stream_opened_from_a_fresh_page_needs_no_refetch_unless_something_changed() {
    let (t, router) = app().await;
    let open = |token: String, since: i64| {
        let router = router.clone();
        async move {
            let resp = send(
                &router,
                get(&format!("/api/live?since={since}"), Some(&token)),
            )
            .await;
            assert_eq!(resp.status(), StatusCode::OK);
            let mut s = LiveStream::new(resp);
            s.expect_message(Duration::from_secs(10)).await
        }
    };
    let sched = t.session("scheduler@northside.test").await.0;
    let harbour = t.session("admin@harbour.test").await.0;
    // A page rendered in the future (no event can be newer) and one rendered
    // now: nothing happened since either.
    let rendered = app::server::events::now_millis();
    assert_eq!(
        open(sched.clone(), rendered + 60_000).await,
        LiveWire::Connected
    );
    // Streams without `since` (a reconnection) always resynchronise.
    let resp = send(&router, get("/api/live", Some(&sched))).await;
    assert_eq!(
        LiveStream::new(resp)
            .expect_message(Duration::from_secs(10))
            .await,
        LiveWire::Ready
    );

    // Ben asks Northside for a session after both pages were rendered.
    let ben = login(&router, "ben@patients.test").await;
    ask_northside_now(&t, &router, &ben).await;

    // Northside's scheduler may see it: their page is stale.
    assert_eq!(open(sched.clone(), rendered).await, LiveWire::Ready);
    // Harbour's admin may not: their page is still current.
    assert_eq!(open(harbour.clone(), rendered).await, LiveWire::Connected);
    // A page rendered well after the request is current.
    assert_eq!(
        open(sched.clone(), app::server::events::now_millis() + 5_000).await,
        LiveWire::Connected
    );
    // A `since` that is not a number is refused, not guessed.
    let resp = send(&router, get("/api/live?since=yesterday", Some(&sched))).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

/// A site root with a hashed wasm file and its precompressed copies, as
/// `cargo leptos build --release --precompress` with `hash-files` leaves it.
fn site_with_assets() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let root = std::env::temp_dir().join(format!(
        "slotwise-assets-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site dir");
    let write = |name: &str, body: &[u8]| std::fs::write(pkg.join(name), body).expect("write");
    write("slotwise.AAAAAAAAAAAAAAAAAAAAAA.wasm", b"\0asm plain");
    write("slotwise.AAAAAAAAAAAAAAAAAAAAAA.wasm.br", b"brotli bytes");
    write("slotwise.AAAAAAAAAAAAAAAAAAAAAA.wasm.gz", b"gzip bytes");
    write("slotwise.css", b"body { margin: 0 }");
    root
}

#[tokio::test]
async fn assets_are_sent_precompressed_and_kept_by_their_hashed_names() {
    let (t, _) = app().await;
    let root = site_with_assets();
    let mut state = t.state.clone();
    state.leptos_options.site_root = root.to_string_lossy().to_string().into();
    let router = server::router(state);
    let wasm = "/pkg/slotwise.AAAAAAAAAAAAAAAAAAAAAA.wasm";
    let with = |path: &str, headers: &[(&str, &str)]| {
        let mut b = Request::get(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(axum::body::Body::empty()).expect("request")
    };

    // Brotli when the browser takes it, gzip when only that, plain otherwise.
    let resp = send(
        &router,
        with(wasm, &[("accept-encoding", "gzip, deflate, br")]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(web::header_str(&resp, "content-encoding"), Some("br"));
    assert_eq!(
        web::header_str(&resp, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(
        web::header_str(&resp, "vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "{:?}",
        resp.headers()
    );
    let modified = web::header_str(&resp, "last-modified")
        .expect("Last-Modified")
        .to_string();
    assert_eq!(web::text(resp).await, "brotli bytes");

    let resp = send(&router, with(wasm, &[("accept-encoding", "gzip")])).await;
    assert_eq!(web::header_str(&resp, "content-encoding"), Some("gzip"));
    assert_eq!(web::text(resp).await, "gzip bytes");

    let resp = send(&router, with(wasm, &[])).await;
    assert_eq!(web::header_str(&resp, "content-encoding"), None);
    assert_eq!(web::text(resp).await, "\0asm plain");

    // A repeat visit that asks anyway gets a 304 without the body.
    let resp = send(
        &router,
        with(
            wasm,
            &[("accept-encoding", "br"), ("if-modified-since", &modified)],
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(web::text(resp).await, "");

    // An unhashed name may change: revalidated every time.
    let resp = send(&router, with("/pkg/slotwise.css", &[])).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(web::header_str(&resp, "cache-control"), Some("no-cache"));

    // A hashed name that does not exist is a 404 nobody keeps.
    let resp = send(
        &router,
        with("/pkg/slotwise.BBBBBBBBBBBBBBBBBBBBBB.wasm", &[]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        web::header_str(&resp, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn pages_and_server_functions_are_compressed_and_private() {
    let (t, router) = app().await;
    let token = t.session("scheduler@northside.test").await.0;
    let mut req = get("/login", None);
    req.headers_mut()
        .insert(header::ACCEPT_ENCODING, "br".parse().expect("header"));
    let resp = send(&router, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(web::header_str(&resp, "content-encoding"), Some("br"));
    assert_eq!(
        web::header_str(&resp, "cache-control"),
        Some("private, no-cache")
    );

    let mut req = post("/api/pending_counts", "", Some(&token));
    req.headers_mut()
        .insert(header::ACCEPT_ENCODING, "gzip".parse().expect("header"));
    let resp = send(&router, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        web::header_str(&resp, "cache-control"),
        Some("private, no-cache")
    );

    // The live stream is never compressed: events must not wait in a buffer.
    let mut req = get("/api/live", Some(&token));
    req.headers_mut()
        .insert(header::ACCEPT_ENCODING, "br, gzip".parse().expect("header"));
    let resp = send(&router, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(web::header_str(&resp, "content-encoding"), None);
    assert_eq!(
        LiveStream::new(resp)
            .expect_message(Duration::from_secs(10))
            .await,
        LiveWire::Ready
    );
}

#[tokio::test]
async fn a_refused_plain_form_post_sends_the_browser_back_with_the_message() {
    let (_t, router) = app().await;
    // As a browser posts a form by itself: it wants HTML and names the page.
    let mut req = post(
        "/api/login",
        &login_form("ann@patients.test", "not-the-password", ""),
        None,
    );
    req.headers_mut().insert(
        header::ACCEPT,
        common::web::BROWSER_ACCEPT.parse().expect("header"),
    );
    req.headers_mut().insert(
        header::REFERER,
        "http://127.0.0.1:3000/login".parse().expect("header"),
    );
    let resp = send(&router, req).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = web::header_str(&resp, "location").expect("Location");
    assert!(
        location.starts_with("http://127.0.0.1:3000/login?") && location.contains("__err="),
        "{location}"
    );
    // The login page it lands on shows the message.
    let path = location.trim_start_matches("http://127.0.0.1:3000");
    let page = web::text(send(&router, get(path, None)).await).await;
    assert!(
        page.contains("Email or password is incorrect."),
        "the page does not show the error"
    );

    // The app's own calls (JSON) keep their status.
    let resp = send(
        &router,
        post(
            "/api/login",
            &login_form("ann@patients.test", "not-the-password", ""),
            None,
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

/// Every page carries a Content-Security-Policy whose nonce is the one on
/// its inline scripts (inline script without it does not run), and every
/// response the other security headers.
#[tokio::test]
async fn pages_carry_a_nonce_csp_and_every_response_the_security_headers() {
    let (_t, router) = app().await;
    let mut nonces = Vec::new();
    for path in ["/login", "/book/northside", "/no-such-page"] {
        let resp = send(&router, get(path, None)).await;
        let csp = web::header_str(&resp, "content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_string();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"))
            .to_string();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("'unsafe-inline' 'wasm"), "{csp}");
        assert_eq!(
            web::header_str(&resp, "x-content-type-options"),
            Some("nosniff")
        );
        assert_eq!(web::header_str(&resp, "x-frame-options"), Some("DENY"));
        assert_eq!(
            web::header_str(&resp, "referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        let page = web::text(resp).await;
        let scripts = page.matches("<script").count();
        let nonced = page.matches(&format!("nonce=\"{nonce}\"")).count();
        assert!(scripts > 0, "{path}: no script");
        assert_eq!(scripts, nonced, "{path}: every inline script has the nonce");
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a new nonce per response");

    // Not only pages: a server function's answer and the health check.
    for resp in [
        send(
            &router,
            post(
                "/api/login",
                &login_form("ann@patients.test", "x", ""),
                None,
            ),
        )
        .await,
        send(&router, get("/healthz", None)).await,
    ] {
        assert_eq!(
            web::header_str(&resp, "x-content-type-options"),
            Some("nosniff")
        );
        assert_eq!(web::header_str(&resp, "x-frame-options"), Some("DENY"));
    }
}

/// Dates at chrono's limits used to panic in date arithmetic (the
/// connection dropped with no answer), years like 9999 were stored, a huge
/// window wrapped round to 44 minutes, and 02:30 on the spring-forward night
/// was booked at 03:30. Each now gets a 400 with a clear message and
/// changes nothing.
async fn extreme_dates_and_times_that_do_not_exist_are_refused_with_a_message(b: Backend) {
    let t = demo_app(b).await;
    let router = server::router(t.state.clone());
    let n = |sql: &'static str| t.id(sql);
    let clinic = n("SELECT id FROM clinic WHERE slug = 'northside'")
        .await
        .to_string();
    let patel = n("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'")
        .await
        .to_string();
    let ann = n("SELECT id FROM app_user WHERE email = 'ann@patients.test'")
        .await
        .to_string();
    let service = n("SELECT id FROM service WHERE name = 'Video consultation'")
        .await
        .to_string();
    let sched = t.session("scheduler@northside.test").await.0;
    let admin = t.session("admin@northside.test").await.0;
    let create = |date: &str, start: &str, until: &str| {
        let mut pairs = vec![
            ("form[clinic_id]", clinic.as_str()),
            ("form[provider_id]", patel.as_str()),
            ("form[patient_id]", ann.as_str()),
            ("form[service_id]", service.as_str()),
            ("form[date]", date),
            ("form[start]", start),
            ("form[location]", ""),
        ];
        if !until.is_empty() {
            pairs.push(("form[repeat][interval_weeks]", "1"));
            pairs.push(("form[repeat][end][until]", until));
        }
        form(&pairs)
    };
    let years = "Enter a date between 2000 and 2100.";
    let gap = "02:30 on Sun 8 Mar 2026 does not exist here: the clocks go forward an hour then. Choose another time.";
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "/api/schedule",
            form(&[
                ("clinic_id", &clinic),
                ("mode", "week"),
                ("date", "262142-12-31"),
            ]),
            &sched,
            app::error::MALFORMED,
        ),
        (
            "/api/schedule",
            form(&[
                ("clinic_id", &clinic),
                ("mode", "day"),
                ("date", "0000-01-01"),
            ]),
            &sched,
            years,
        ),
        (
            "/api/schedule",
            form(&[
                ("clinic_id", &clinic),
                ("mode", "week"),
                ("date", "9999-12-31"),
            ]),
            &sched,
            years,
        ),
        (
            "/api/create_appointment",
            create("9999-03-09", "10:00", ""),
            &sched,
            years,
        ),
        (
            "/api/create_appointment",
            create("2026-03-09", "10:00", "2999-01-01"),
            &sched,
            years,
        ),
        (
            "/api/create_appointment",
            create("2026-03-08", "02:30", ""),
            &sched,
            gap,
        ),
        (
            "/api/add_time_off",
            form(&[
                ("clinic_id", &clinic),
                ("provider_id", &patel),
                ("from_date", "2026-03-10"),
                ("from_time", "09:00"),
                ("to_date", "9999-12-31"),
                ("to_time", "09:00"),
                ("reason", ""),
            ]),
            &sched,
            years,
        ),
        (
            "/api/save_policy",
            form(&[
                ("clinic_id", &clinic),
                ("cancel_hours", "307445734561825861"),
                ("reschedule_hours", "24"),
                ("fee", "0"),
                ("horizon_days", "90"),
            ]),
            &admin,
            "A late-notice window can be from 0 to 720 hours.",
        ),
        (
            "/api/save_policy",
            form(&[
                ("clinic_id", &clinic),
                ("cancel_hours", "24"),
                ("reschedule_hours", "24"),
                ("fee", "0"),
                ("horizon_days", "18446744073709551617"),
            ]),
            &admin,
            "Enter how many days ahead patients may book as a whole number.",
        ),
        (
            "/api/save_policy",
            form(&[
                ("clinic_id", &clinic),
                ("cancel_hours", "24"),
                ("reschedule_hours", "24"),
                ("fee", "0"),
                ("horizon_days", "4294967296"),
            ]),
            &admin,
            "Patients can be allowed to book from 1 to 365 days ahead.",
        ),
    ];
    // "This and all future" of a series, moved to the year 9999.
    let series = t
        .id("SELECT MIN(id) FROM appointment WHERE series_id IS NOT NULL AND status <> 'cancelled'")
        .await
        .to_string();
    let mut cases = cases;
    cases.push((
        "/api/reschedule_appointment",
        form(&[
            ("id", &series),
            ("date", "9999-06-01"),
            ("start", "10:00"),
            ("location", ""),
            ("scope", "future"),
        ]),
        &admin,
        years,
    ));
    let times = "SELECT id, starts_at FROM appointment ORDER BY id";
    let moved: Vec<(i64, i64)> = sqlx::query_as(times)
        .fetch_all(&t.state.db.pool)
        .await
        .expect("appointments");
    let appointments = t.count("SELECT COUNT(*) FROM appointment").await;
    let time_off = t.count("SELECT COUNT(*) FROM availability_exception").await;
    let policy: (i64, i64) = sqlx::query_as(&format!(
        "SELECT late_cancel_window_minutes, late_reschedule_window_minutes FROM clinic WHERE id = {clinic}"
    ))
    .fetch_one(&t.state.db.pool)
    .await
    .expect("policy");
    for (path, body, token, message) in cases {
        let resp = send(&router, post(path, &body, Some(token))).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        assert_eq!(web::json(resp).await["message"], message, "{path} {body}");
    }
    assert_eq!(
        t.count("SELECT COUNT(*) FROM appointment").await,
        appointments
    );
    let after_moves: Vec<(i64, i64)> = sqlx::query_as(times)
        .fetch_all(&t.state.db.pool)
        .await
        .expect("appointments");
    assert_eq!(after_moves, moved, "nothing moved");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM availability_exception").await,
        time_off
    );
    let after: (i64, i64) = sqlx::query_as(&format!(
        "SELECT late_cancel_window_minutes, late_reschedule_window_minutes FROM clinic WHERE id = {clinic}"
    ))
    .fetch_one(&t.state.db.pool)
    .await
    .expect("policy");
    assert_eq!(after, policy, "the policy is unchanged");
}
both_dbs!(
    extreme_dates,
    extreme_dates_and_times_that_do_not_exist_are_refused_with_a_message
);

/// 01:30 on the night New York's clocks go back happens twice. It is
/// booked as the first one (still daylight time), and whoever booked it is
/// told so rather than the rule being applied silently; the same for a move.
async fn a_time_that_happens_twice_is_the_first_and_the_user_is_told(b: Backend) {
    let t = demo_app(b).await;
    let router = server::router(t.state.clone());
    let n = |sql: &'static str| t.id(sql);
    let clinic = n("SELECT id FROM clinic WHERE slug = 'northside'")
        .await
        .to_string();
    let patel = n("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'")
        .await
        .to_string();
    let ann = n("SELECT id FROM app_user WHERE email = 'ann@patients.test'")
        .await
        .to_string();
    let service = n("SELECT id FROM service WHERE name = 'Video consultation'")
        .await
        .to_string();
    let sched = t.session("scheduler@northside.test").await.0;
    let body = form(&[
        ("form[clinic_id]", &clinic),
        ("form[provider_id]", &patel),
        ("form[patient_id]", &ann),
        ("form[service_id]", &service),
        ("form[date]", "2026-11-01"),
        ("form[start]", "01:30"),
        ("form[location]", ""),
    ]);
    let resp = send(
        &router,
        post("/api/create_appointment", &body, Some(&sched)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let note = "01:30 on Sun 1 Nov 2026 happens twice here (the clocks go back an hour that night): this is the first 01:30, before the clocks change.";
    assert_eq!(web::json(resp).await["warnings"], serde_json::json!([note]));
    let id = t
        .id("SELECT MAX(id) FROM appointment WHERE status = 'booked'")
        .await;
    let start = t
        .count(&format!(
            "SELECT starts_at FROM appointment WHERE id = {id}"
        ))
        .await;
    // 01:30 EDT is 05:30 UTC.
    assert_eq!(
        chrono::DateTime::from_timestamp(start, 0)
            .unwrap()
            .to_rfc3339(),
        "2026-11-01T05:30:00+00:00"
    );
    // Moved to a plain time: no note. Back to 01:30: the note again.
    for (time, want) in [
        ("09:00", serde_json::json!([])),
        ("01:30", serde_json::json!([note])),
    ] {
        let body = form(&[
            ("id", &id.to_string()),
            ("date", "2026-11-01"),
            ("start", time),
            ("location", ""),
            ("scope", "this"),
        ]);
        let resp = send(
            &router,
            post("/api/reschedule_appointment", &body, Some(&sched)),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK, "{time}");
        assert_eq!(web::json(resp).await["warnings"], want, "{time}");
    }
}
both_dbs!(
    repeated_local_time,
    a_time_that_happens_twice_is_the_first_and_the_user_is_told
);
