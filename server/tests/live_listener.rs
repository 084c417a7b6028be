//! Live streams over a real socket, through the listener `main.rs` serves
//! with (`server::sse::listener`): a stream on a connection of its own is
//! written without hyper, everything else still goes through hyper. The
//! stream's rules themselves (visibility, `Connected`, expiry) are covered
//! through the router in `router.rs`; this checks they survive the socket.

mod common;

use app::domain::live::LiveWire;
use common::web::{cookie, form, Next};
use common::{seeded_app, Backend, TestApp};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The open-stream count is per process: tests that read it take turns.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn serve(t: &TestApp) -> SocketAddr {
    let router = server::router(t.state.clone());
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("address");
    let listener = server::sse::listener(tcp, router.clone()).expect("listener");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    addr
}

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
        let mut raw = Vec::new();
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

async fn ask_northside_now(t: &TestApp, addr: SocketAddr, token: &str) -> i64 {
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
    let addr = serve(&t).await;
    let before = open_streams(addr).await;

    // No session: refused, on the same path.
    let mut refused = Raw::open(addr, None).await;
    assert!(refused.head.starts_with("http/1.1 401"), "{}", refused.head);
    assert!(
        refused.head.contains("connection: close"),
        "{}",
        refused.head
    );
    let mut body = std::mem::take(&mut refused.raw);
    tokio::time::timeout(Duration::from_secs(5), refused.sock.read_to_end(&mut body))
        .await
        .expect("closed after the answer")
        .expect("read");
    assert_eq!(String::from_utf8_lossy(&body), "Please log in.");

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
async fn other_requests_and_reused_connections_still_go_through_hyper() {
    let t = seeded_app(
        Backend::Sqlite,
        app::server::config::Config {
            demo: true,
            ..Default::default()
        },
    )
    .await;
    let addr = serve(&t).await;
    // A request sent in pieces, the first shorter than "GET /api/live".
    let mut sock = TcpStream::connect(addr).await.expect("connect");
    sock.write_all(b"GET /hea").await.expect("send");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let rest = "lthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let first = Raw::on(sock, rest).await;
    assert!(first.head.starts_with("http/1.1 200"), "{}", first.head);
    assert!(first.head.contains("content-length"), "{}", first.head);
    // The same connection, kept alive by hyper, then asks for the stream.
    let mut sock = first.sock;
    let len: usize = first
        .head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("length");
    let mut body = first.raw;
    while body.len() < len {
        let mut buf = [0u8; 256];
        let n = sock.read(&mut buf).await.expect("read");
        body.extend_from_slice(&buf[..n]);
    }
    let sched = t.session("scheduler@northside.test").await.0;
    let mut s = Raw::on(sock, &live_get(Some(&sched))).await;
    assert!(s.head.starts_with("http/1.1 200"), "{}", s.head);
    assert_eq!(s.expect(Duration::from_secs(10)).await, LiveWire::Ready);

    // A live-looking request with a body is hyper's (and refused there as
    // anywhere: the stream takes no body, but the head is answered).
    let sock = TcpStream::connect(addr).await.expect("connect");
    let other = Raw::on(
        sock,
        "GET /api/livestock HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await;
    assert!(other.head.starts_with("http/1.1 404"), "{}", other.head);
}
