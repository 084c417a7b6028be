//! Requests over a real socket, through the listener `main.rs` serves with
//! (`server::http1::listener`): live streams and the requests around them
//! on kept-alive connections are served without hyper; what that listener
//! leaves to hyper still works. The stream's rules themselves (visibility,
//! `Connected`, expiry) are covered through the router in `router.rs`; this
//! checks they survive the socket.

mod common;

use app::domain::live::LiveWire;
use common::web::{cookie, form, Next};
use common::{demo_app, seeded_app, Backend, TestApp};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The open-stream count is per process: tests that read it take turns.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A live stream read from the raw socket: the response head, then
/// HTTP/1.1 chunks holding SSE messages.
struct Raw {
    sock: TcpStream,
    raw: Vec<u8>,
    text: Vec<u8>,
    left: usize,
    ended: bool,
    head: String,
    heartbeats: usize,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Raw {
    /// Sends `request` on `sock` and reads the response head.
    async fn on(mut sock: TcpStream, request: &str) -> Raw {
        sock.write_all(request.as_bytes()).await.expect("send");
        Raw::on_read(sock, Vec::new()).await
    }

    /// Reads a response head after the bytes `raw` already read.
    async fn on_read(mut sock: TcpStream, mut raw: Vec<u8>) -> Raw {
        let end = loop {
            if let Some(end) = find(&raw, b"\r\n\r\n") {
                break end;
            }
            let mut buf = [0u8; 1024];
            let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
                .await
                .expect("a response head within 10 s")
                .expect("read");
            assert!(n > 0, "closed before the head");
            raw.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        raw.drain(..end + 4);
        Raw {
            sock,
            raw,
            text: Vec::new(),
            left: 0,
            ended: false,
            head,
            heartbeats: 0,
        }
    }

    /// The body of a response with a `content-length`.
    async fn sized_body(&mut self) -> Vec<u8> {
        let len: usize = self
            .head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|n| n.trim().parse().ok())
            .expect("a length");
        while self.raw.len() < len {
            let mut buf = [0u8; 1024];
            let n = tokio::time::timeout(Duration::from_secs(10), self.sock.read(&mut buf))
                .await
                .expect("the body within 10 s")
                .expect("read");
            assert!(n > 0, "closed before the body's end");
            self.raw.extend_from_slice(&buf[..n]);
        }
        self.raw.drain(..len).collect()
    }

    /// Sends the next request on the same connection.
    async fn then(self, request: &str) -> Raw {
        assert!(
            self.raw.is_empty(),
            "unread bytes before the next request: {}",
            String::from_utf8_lossy(&self.raw)
        );
        Raw::on(self.sock, request).await
    }

    async fn open(addr: SocketAddr, token: Option<&str>) -> Raw {
        let sock = TcpStream::connect(addr).await.expect("connect");
        Raw::on(sock, &live_get(token)).await
    }

    /// Moves complete chunk payloads into `text`; a zero chunk ends it.
    fn dechunk(&mut self) {
        loop {
            if self.left > 0 {
                if self.raw.len() < self.left + 2 {
                    return;
                }
                self.text.extend(self.raw.drain(..self.left));
                assert_eq!(&self.raw[..2], b"\r\n", "chunk not closed");
                self.raw.drain(..2);
                self.left = 0;
            }
            let Some(eol) = find(&self.raw, b"\r\n") else {
                return;
            };
            let line = String::from_utf8_lossy(&self.raw[..eol]).to_string();
            let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
            self.raw.drain(..eol + 2);
            if size == 0 {
                self.ended = true;
                return;
            }
            self.left = size;
        }
    }

    fn take_message(&mut self) -> Option<LiveWire> {
        while let Some(end) = find(&self.text, b"\n\n") {
            let frame: Vec<u8> = self.text.drain(..end + 2).collect();
            let frame = String::from_utf8(frame).expect("utf-8");
            match frame.trim_end().strip_prefix("data: ") {
                Some(data) => return Some(serde_json::from_str(data).expect("a LiveWire")),
                None => {
                    assert_eq!(frame, ":heartbeat\n\n");
                    self.heartbeats += 1;
                }
            }
        }
        None
    }

    async fn next(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(m) = self.take_message() {
                return Next::Message(m);
            }
            if self.ended {
                return Next::Ended;
            }
            let mut buf = [0u8; 1024];
            match tokio::time::timeout_at(deadline, self.sock.read(&mut buf)).await {
                Err(_) => return Next::Quiet,
                Ok(Ok(0)) | Ok(Err(_)) => self.ended = true,
                Ok(Ok(n)) => {
                    self.raw.extend_from_slice(&buf[..n]);
                    self.dechunk();
                }
            }
        }
    }

    async fn expect(&mut self, within: Duration) -> LiveWire {
        match self.next(within).await {
            Next::Message(m) => m,
            other => panic!("expected a live message, got {other:?}"),
        }
    }
}

fn live_get(token: Option<&str>) -> String {
    let cookie = token.map(|t| format!("Cookie: {}\r\n", cookie(t)));
    format!(
        "GET /api/live HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\
         Accept-Encoding: gzip, br\r\n{}\r\n",
        cookie.unwrap_or_default()
    )
}

async fn post(addr: SocketAddr, path: &str, body: &str, token: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("http://{addr}{path}"))
        .header("cookie", cookie(token))
        .header("content-type", common::web::FORM)
        .body(body.to_string())
        .send()
        .await
        .expect("post")
}

/// The form of `POST /api/request_session` by which a patient asks
/// Northside for a video consultation now.
async fn northside_now_form(t: &TestApp) -> String {
    let clinic = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let service = t
        .id("SELECT id FROM service WHERE name = 'Video consultation'")
        .await;
    form(&[
        ("clinic_id", &clinic.to_string()),
        ("service_id", &service.to_string()),
        ("mode", "now"),
        ("answers[0]", "A sore throat"),
        ("note", ""),
    ])
}

async fn ask_northside_now(t: &TestApp, addr: SocketAddr, token: &str) -> i64 {
    let body = northside_now_form(t).await;
    let resp = post(addr, "/api/request_session", &body, token).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.text().await.expect("body").trim().parse().expect("id")
}

/// Open streams as `/metrics` tells (a loopback scrape needs no token).
async fn open_streams(addr: SocketAddr) -> f64 {
    let body = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    body.lines()
        .find_map(|l| l.strip_prefix("slotwise_live_streams "))
        .expect("the live-stream series")
        .parse()
        .expect("a number")
}

async fn events_reach_streams_on_their_own_connections(b: Backend) {
    let _turn = TURN.lock().await;
    let t = seeded_app(
        b,
        app::server::config::Config {
            demo: true,
            heartbeat_secs: 1,
            ..Default::default()
        },
    )
    .await;
    let addr = t.serve().await;
    let before = open_streams(addr).await;

    // No session: refused, with its length, and the connection stays open.
    let mut refused = Raw::open(addr, None).await;
    assert!(refused.head.starts_with("http/1.1 401"), "{}", refused.head);
    assert!(
        !refused.head.contains("connection: close"),
        "{}",
        refused.head
    );
    assert_eq!(refused.sized_body().await, b"Please log in.");

    let sched = t.session("scheduler@northside.test").await.0;
    let harbour = t.session("admin@harbour.test").await.0;
    let mut s = Raw::open(addr, Some(&sched)).await;
    assert!(s.head.starts_with("http/1.1 200"), "{}", s.head);
    assert!(
        s.head.contains("content-type: text/event-stream"),
        "{}",
        s.head
    );
    assert!(s.head.contains("transfer-encoding: chunked"), "{}", s.head);
    assert!(s.head.contains("x-request-id: "), "{}", s.head);
    assert!(!s.head.contains("content-encoding"), "{}", s.head);
    assert_eq!(s.expect(Duration::from_secs(10)).await, LiveWire::Ready);
    let mut h = Raw::open(addr, Some(&harbour)).await;
    assert_eq!(h.expect(Duration::from_secs(10)).await, LiveWire::Ready);
    assert_eq!(open_streams(addr).await, before + 2.0, "counted open");

    // A change made through hyper (another connection) reaches the stream
    // that may see it, and only that one.
    let ben = t.session("ben@patients.test").await.0;
    let id = ask_northside_now(&t, addr, &ben).await;
    match s.expect(Duration::from_secs(10)).await {
        LiveWire::Change(ev) => assert_eq!(ev.entity_id, id),
        other => panic!("expected the change, got {other:?}"),
    }
    assert!(matches!(
        h.next(Duration::from_millis(1500)).await,
        Next::Quiet
    ));
    assert!(h.heartbeats >= 1, "a heartbeat every second");

    // Logging out ends the stream (the last chunk, then the close).
    let resp = post(addr, "/api/logout", "", &sched).await;
    assert!(resp.status().is_redirection() || resp.status().is_success());
    assert!(matches!(s.next(Duration::from_secs(10)).await, Next::Ended));

    // A client that leaves is no longer counted.
    drop(h);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while open_streams(addr).await != before {
        assert!(std::time::Instant::now() < deadline, "stream still counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
both_dbs!(
    own_connections,
    events_reach_streams_on_their_own_connections
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kept_alive_connection_serves_requests_then_the_stream() {
    let t = demo_app(Backend::Sqlite).await;
    let addr = t.serve().await;
    let sched = t.session("scheduler@northside.test").await.0;
    // A request sent in pieces.
    let mut sock = TcpStream::connect(addr).await.expect("connect");
    sock.write_all(b"GET /hea").await.expect("send");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut r = Raw::on(sock, "lthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(r.head.starts_with("http/1.1 200"), "{}", r.head);
    let health = String::from_utf8(r.sized_body().await).expect("text");
    assert!(health.contains(r#""status":"ok""#), "{health}");
    // Two requests in one write (pipelined): two answers, in order; the
    // second a HEAD, answered without a body (the stream's head below
    // would not parse after one).
    let two = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n\
               HEAD /nowhere-at-all HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut r = r.then(two).await;
    assert!(r.head.starts_with("http/1.1 200"), "{}", r.head);
    r.sized_body().await;
    let rest = std::mem::take(&mut r.raw);
    let r = Raw::on_read(r.sock, rest).await;
    assert!(r.head.starts_with("http/1.1 404"), "{}", r.head);
    // A server function with a body: a patient asks for a session.
    let ben = t.session("ben@patients.test").await.0;
    let body = northside_now_form(&t).await;
    let mut s = r.then(&live_get(Some(&sched))).await;
    assert!(s.head.starts_with("http/1.1 200"), "{}", s.head);
    assert_eq!(s.expect(Duration::from_secs(10)).await, LiveWire::Ready);
    // The change, sent on another kept-alive connection after a first
    // request there, reaches the stream.
    let mut other = TcpStream::connect(addr).await.expect("connect");
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("send");
    let mut o = Raw::on(other, "").await;
    o.sized_body().await;
    let post = format!(
        "POST /api/request_session HTTP/1.1\r\nHost: localhost\r\nCookie: {}\r\n\
         Content-Type: {}\r\nContent-Length: {}\r\n\r\n{body}",
        cookie(&ben),
        common::web::FORM,
        body.len()
    );
    let mut o = o.then(&post).await;
    assert!(o.head.starts_with("http/1.1 200"), "{}", o.head);
    let id: i64 = String::from_utf8(o.sized_body().await)
        .expect("text")
        .trim()
        .parse()
        .expect("id");
    match s.expect(Duration::from_secs(10)).await {
        LiveWire::Change(ev) => assert_eq!(ev.entity_id, id),
        other => panic!("expected the change, got {other:?}"),
    }
    // `Connection: close` is honoured.
    let mut c = o
        .then("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await;
    assert!(c.head.contains("connection: close"), "{}", c.head);
    c.sized_body().await;
    let mut end = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), c.sock.read_to_end(&mut end))
        .await
        .expect("closed after the answer")
        .expect("read");
    assert!(end.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_the_listener_leaves_to_hyper_still_works() {
    let t = demo_app(Backend::Sqlite).await;
    let addr = t.serve().await;
    // A body in chunks goes to hyper, which reads it; this one is a login
    // with a wrong password, answered as any other.
    let body = "email=ann%40patients.test&password=wrong&next=";
    let chunked = format!(
        "POST /api/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: {}\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        common::web::FORM,
        body.len()
    );
    let sock = TcpStream::connect(addr).await.expect("connect");
    let r = Raw::on(sock, &chunked).await;
    assert!(r.head.starts_with("http/1.1 "), "{}", r.head);
    assert!(!r.head.starts_with("http/1.1 5"), "{}", r.head);
    assert!(r.head.contains("x-request-id: "), "{}", r.head);
    // A body over the limit is refused by the router's limit, through hyper.
    let sock = TcpStream::connect(addr).await.expect("connect");
    let big = t.state.config.max_body_bytes + 1;
    let r = Raw::on(
        sock,
        &format!("POST /api/login HTTP/1.1\r\nHost: localhost\r\nContent-Length: {big}\r\n\r\n"),
    )
    .await;
    assert!(r.head.starts_with("http/1.1 413"), "{}", r.head);
    // HTTP/1.0 is hyper's too.
    let sock = TcpStream::connect(addr).await.expect("connect");
    let r = Raw::on(sock, "GET /healthz HTTP/1.0\r\n\r\n").await;
    assert!(r.head.starts_with("http/1.0 200"), "{}", r.head);
}
