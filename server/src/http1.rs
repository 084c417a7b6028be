//! HTTP/1.1 connections served without hyper's per-connection buffers.
//!
//! hyper keeps about 16 KB for every HTTP/1 connection it serves (an 8 KB
//! read buffer, an 8 KB write buffer, cached headers and the connection's
//! state) for as long as the connection is open, and none of it can be
//! configured smaller. A live stream (`/api/live`) is one response that
//! lasts for hours, and a browser sends it on whichever kept-alive
//! connection is idle (Chromium reports the stream's connection as reused
//! after the page's own requests), so that was most of what each open
//! stream cost (`server/benches/live_streams.rs`).
//!
//! So this listener serves the connections itself, one request after
//! another: it reads a request's head (parsed by `httparse`, hyper's own
//! parser) and its body when it has a `Content-Length`, passes the request
//! through the whole router (session, metrics, request id, logs, headers:
//! everything any request gets) and writes the response: with its length,
//! or as chunks as the body yields them, until the body ends or the client
//! leaves. Between requests a connection holds only its socket and the
//! bytes already read.
//!
//! What it does not serve (a request body sent in chunks or larger than the
//! limit, `Expect`, an upgrade, HTTP/1.0, HTTP/2, a head it cannot parse)
//! is handed, with the rest of the connection and the bytes already read,
//! to axum and hyper, which serve it as they always did.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, Response, StatusCode, Version};
use axum::serve::{ListenerExt, TapIo};
use axum::Router;
use futures::StreamExt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tower::ServiceExt;

/// A longer head is left to hyper (which refuses what is too large).
const MAX_HEAD: usize = 16 * 1024;
/// How long a request may take to arrive once it has begun; a client that
/// is slower is left to hyper.
const REQUEST_WAIT: Duration = Duration::from_secs(30);
/// A kept-alive connection with no request for this long is closed, as
/// browsers expect (they retry on a fresh one).
const IDLE_WAIT: Duration = Duration::from_secs(120);
const MAX_HEADERS: usize = 64;

/// What `axum::serve` is given instead of the `TcpListener` (the `tap_io`
/// wrapper lets `ConnectInfo<SocketAddr>` work as with a plain listener).
pub type Listener = TapIo<Http1Listener, fn(&mut Peeked)>;

/// Wraps `tcp`: requests are answered by `router` here (bodies of up to
/// `max_body` bytes); connections this module does not serve are passed on
/// to the server this listener is given to.
pub fn listener(tcp: TcpListener, router: Router, max_body: usize) -> io::Result<Listener> {
    let local = tcp.local_addr()?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(accept(tcp, router, max_body, tx));
    Ok(Http1Listener { rx, local }.tap_io(untouched as fn(&mut Peeked)))
}

fn untouched(_: &mut Peeked) {}

pub struct Http1Listener {
    rx: mpsc::Receiver<(Peeked, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for Http1Listener {
    type Io = Peeked;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Peeked, SocketAddr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept loop stopped: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

type ToHyper = mpsc::Sender<(Peeked, SocketAddr)>;

async fn accept(tcp: TcpListener, router: Router, max_body: usize, tx: ToHyper) {
    loop {
        let accepted = tokio::select! {
            accepted = tcp.accept() => accepted,
            // The server stopped (graceful shutdown): so do we, closing
            // the port at once.
            _ = tx.closed() => return,
        };
        let (sock, addr) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // As axum does: a failed handshake is the client's problem;
                // anything else (out of descriptors) is worth a pause.
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) {
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        tokio::spawn(connection(sock, addr, router.clone(), max_body, tx.clone()));
    }
}

/// Serves one connection until it closes or is handed to hyper.
///
/// A task's allocation is as large as its largest state, for its whole
/// life: what runs once per request (reading it, the router) is boxed, so
/// a connection that streams holds only the streaming state.
async fn connection(
    sock: TcpStream,
    addr: SocketAddr,
    router: Router,
    max_body: usize,
    tx: ToHyper,
) {
    // Frames are small and must not wait for the previous one's ACK.
    let _ = sock.set_nodelay(true);
    let mut conn = Conn {
        sock,
        read: Vec::new(),
    };
    loop {
        let mut req = match Box::pin(conn.next_request(max_body)).await {
            Next::Request(req) => req,
            Next::Hyper => {
                let Conn { sock, read } = conn;
                let _ = Box::pin(tx.send((Peeked::new(read, sock), addr))).await;
                return;
            }
            Next::Closed => return,
        };
        req.extensions_mut().insert(ConnectInfo(addr));
        let head_only = req.method() == Method::HEAD;
        let close = asks_to_close(req.headers());
        let res = {
            let _busy = Busy::start();
            match Box::pin(router.clone().oneshot(*req)).await {
                Ok(res) => res,
                Err(never) => match never {},
            }
        };
        if !conn.respond(res, head_only, close).await {
            return;
        }
    }
}

/// Requests being answered by the router now (not counting the bodies
/// they stream afterwards): a graceful shutdown waits for them.
static BUSY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Busy;

impl Busy {
    fn start() -> Busy {
        BUSY.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Busy
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// After the server stopped accepting: waits (up to `limit`) for the
/// requests this listener is answering, so that a change being made when
/// the server is told to stop is finished and answered, not cut off.
pub async fn drain(limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while BUSY.load(std::sync::atomic::Ordering::SeqCst) > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

enum Next {
    Request(Box<Request<Body>>),
    Hyper,
    Closed,
}

struct Conn {
    sock: TcpStream,
    /// Bytes read and not yet used: the start of the next request.
    read: Vec<u8>,
}

impl Conn {
    /// Reads the next request, head and body.
    async fn next_request(&mut self, max_body: usize) -> Next {
        loop {
            if !self.read.is_empty() {
                match parse(&self.read, max_body) {
                    Parsed::Request(req, head, body) => {
                        return self.with_body(req, head, body).await
                    }
                    Parsed::Other => return Next::Hyper,
                    Parsed::Partial if self.read.len() > MAX_HEAD => return Next::Hyper,
                    Parsed::Partial => {}
                }
            }
            let wait = if self.read.is_empty() {
                IDLE_WAIT
            } else {
                REQUEST_WAIT
            };
            self.read.reserve(1024);
            match tokio::time::timeout(wait, self.sock.read_buf(&mut self.read)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return Next::Closed,
                Ok(Ok(_)) => {}
                Err(_) if self.read.is_empty() => return Next::Closed,
                Err(_) => return Next::Hyper,
            }
        }
    }

    /// Reads the `body` bytes after the `head` bytes of `req`, and keeps
    /// what follows them for the next request.
    async fn with_body(&mut self, mut req: Box<Request<Body>>, head: usize, body: usize) -> Next {
        let end = head + body;
        while self.read.len() < end {
            self.read.reserve(end - self.read.len());
            match tokio::time::timeout(REQUEST_WAIT, self.sock.read_buf(&mut self.read)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return Next::Closed,
            }
        }
        if body > 0 {
            *req.body_mut() = Body::from(Bytes::copy_from_slice(&self.read[head..end]));
        }
        self.read.drain(..end);
        if self.read.is_empty() {
            // An idle connection (or a stream) keeps no buffer.
            self.read = Vec::new();
        }
        Next::Request(req)
    }

    /// Writes `res`; false when the connection is to close after it.
    async fn respond(&mut self, res: Response<Body>, head_only: bool, close: bool) -> bool {
        let (parts, body) = res.into_parts();
        let close = close || asks_to_close(&parts.headers);
        let bodiless = head_only
            || parts.status.is_informational()
            || parts.status == StatusCode::NO_CONTENT
            || parts.status == StatusCode::NOT_MODIFIED;
        let length = declared_length(&parts.headers).or(body.size_hint().exact());
        let framing = match (bodiless, length) {
            (true, _) => Framing::None,
            (false, Some(n)) => Framing::Length(n),
            (false, None) => Framing::Chunked,
        };
        let head = response_head(parts.status, &parts.headers, framing, close);
        if self.sock.write_all(&head).await.is_err() {
            return false;
        }
        drop(head);
        if matches!(framing, Framing::None) {
            return !close;
        }
        self.write_body(body, framing).await && !close
    }

    /// Writes the body as it comes, watching the socket meanwhile: a client
    /// that leaves ends it (dropping a live stream's body ends the stream),
    /// and what a client sends early is kept for its next request.
    async fn write_body(&mut self, body: Body, framing: Framing) -> bool {
        let mut frames = body.into_data_stream();
        let mut written: u64 = 0;
        let Conn { sock, read } = self;
        let (mut rd, mut wr) = sock.split();
        let mut probe = [0u8; 64];
        loop {
            let listening = read.len() < MAX_HEAD;
            tokio::select! {
                next = frames.next() => match next {
                    Some(Ok(data)) if data.is_empty() => {}
                    Some(Ok(data)) => {
                        written += data.len() as u64;
                        if matches!(framing, Framing::Length(n) if written > n) {
                            // More than it said: the rest cannot be framed.
                            return false;
                        }
                        let sent = match framing {
                            Framing::Chunked => {
                                let mut chunk = Vec::with_capacity(data.len() + 12);
                                chunk.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                                chunk.extend_from_slice(&data);
                                chunk.extend_from_slice(b"\r\n");
                                wr.write_all(&chunk).await
                            }
                            _ => wr.write_all(&data).await,
                        };
                        if sent.is_err() {
                            return false;
                        }
                    }
                    // A body that fails midway: the client must not take
                    // what it got for the whole, so the connection closes
                    // (before the last chunk, or short of its length).
                    Some(Err(_)) => return false,
                    None => {
                        return match framing {
                            Framing::Chunked => wr.write_all(b"0\r\n\r\n").await.is_ok(),
                            Framing::Length(n) => written == n,
                            Framing::None => true,
                        };
                    }
                },
                got = rd.read(&mut probe), if listening => match got {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => read.extend_from_slice(&probe[..n]),
                },
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Framing {
    None,
    Length(u64),
    Chunked,
}

fn response_head(
    status: StatusCode,
    headers: &HeaderMap,
    framing: Framing,
    close: bool,
) -> Vec<u8> {
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        let framed_here = name == header::CONNECTION
            || name == header::TRANSFER_ENCODING
            || (name == header::CONTENT_LENGTH && !matches!(framing, Framing::None));
        if framed_here {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if !headers.contains_key(header::DATE) {
        head.extend_from_slice(b"date: ");
        head.extend_from_slice(httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    match framing {
        Framing::Length(n) => head.extend_from_slice(format!("content-length: {n}\r\n").as_bytes()),
        Framing::Chunked => head.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Framing::None => {}
    }
    if close {
        head.extend_from_slice(b"connection: close\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// A `Connection: close` among the headers.
fn asks_to_close(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONNECTION).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    })
}

/// The response's own `Content-Length`, when it has one that parses.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

enum Parsed {
    /// The request (body still empty), the head's length, the body's.
    Request(Box<Request<Body>>, usize, usize),
    Other,
    Partial,
}

/// A complete request head at the start of `read` that this module serves.
fn parse(read: &[u8], max_body: usize) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Request::new(&mut headers);
    let len = match r.parse(read) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    // HTTP/1.0 (no chunks, other keep-alive rules) and CONNECT: hyper's.
    let method = match r.method.map(|m| Method::from_bytes(m.as_bytes())) {
        Some(Ok(m)) if m != Method::CONNECT => m,
        _ => return Parsed::Other,
    };
    if r.version != Some(1) {
        return Parsed::Other;
    }
    let mut req = Request::builder()
        .method(method)
        .uri(r.path.unwrap_or(""))
        .version(Version::HTTP_11);
    let mut body = None;
    for h in r.headers.iter() {
        // A chunked body, an upgrade, `Expect: 100-continue`: hyper's.
        let theirs = [header::TRANSFER_ENCODING, header::UPGRADE, header::EXPECT]
            .iter()
            .any(|n| h.name.eq_ignore_ascii_case(n.as_str()));
        if theirs {
            return Parsed::Other;
        }
        if h.name.eq_ignore_ascii_case(header::CONTENT_LENGTH.as_str()) {
            // One length, digits only, within the limit; anything else
            // (two lengths, a sign, too large) is refused by hyper.
            let n = std::str::from_utf8(h.value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<usize>().ok());
            match (body, n) {
                (None, Some(n)) if n <= max_body => body = Some(n),
                _ => return Parsed::Other,
            }
        }
        req = req.header(h.name, h.value);
    }
    match req.body(Body::empty()) {
        Ok(req) => Parsed::Request(Box::new(req), len, body.unwrap_or(0)),
        Err(_) => Parsed::Other,
    }
}

/// A connection passed on to hyper, with the bytes already read from it
/// returned first.
pub struct Peeked {
    read: Vec<u8>,
    at: usize,
    io: TcpStream,
}

impl Peeked {
    fn new(read: Vec<u8>, io: TcpStream) -> Self {
        Self { read, at: 0, io }
    }
}

impl AsyncRead for Peeked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.at < this.read.len() {
            let n = (this.read.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.read[this.at..this.at + n]);
            this.at += n;
            if this.at == this.read.len() {
                this.read = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Peeked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn parsed(head: &[u8]) -> Parsed {
        parse(head, 1024)
    }

    #[test]
    fn requests_with_a_length_or_no_body_are_served_here() {
        let live = b"GET /api/live?since=5 HTTP/1.1\r\nHost: x\r\nCookie: a=b\r\n\r\n";
        match parsed(live) {
            Parsed::Request(req, head, 0) => {
                assert_eq!(req.uri(), "/api/live?since=5");
                assert_eq!(req.headers()["cookie"], "a=b");
                assert_eq!(head, live.len());
            }
            _ => panic!("not taken"),
        }
        let post = b"POST /api/login HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET";
        match parsed(post) {
            Parsed::Request(req, head, 3) => {
                assert_eq!(req.method(), Method::POST);
                assert_eq!(&post[head..head + 3], b"abc");
            }
            _ => panic!("not taken"),
        }
        assert!(matches!(
            parsed(b"GET /api/live HTTP/1.1\r\nHost: x\r\n"),
            Parsed::Partial
        ));
    }

    #[test]
    fn what_hyper_does_better_is_left_to_it() {
        for other in [
            &b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n",
            b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
            b"CONNECT x:443 HTTP/1.1\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01",
        ] {
            assert!(
                matches!(parsed(other), Parsed::Other),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn the_head_frames_the_body_itself() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let head = response_head(StatusCode::OK, &headers, Framing::Length(5), true);
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("content-length: 5\r\n"), "{head}");
        assert!(
            !head.contains("99") && !head.contains("keep-alive"),
            "{head}"
        );
        assert!(head.contains("connection: close\r\n") && head.ends_with("\r\n\r\n"));
        let head = response_head(StatusCode::OK, &headers, Framing::Chunked, false);
        let head = String::from_utf8(head).unwrap();
        assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
        assert!(!head.contains("content-length") && !head.contains("connection"));
        // HEAD and 304 keep the length they describe, and send no body.
        let head = response_head(StatusCode::OK, &headers, Framing::None, false);
        assert!(String::from_utf8(head)
            .unwrap()
            .contains("content-length: 99"));
    }

    #[test]
    fn close_is_read_among_the_tokens() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Close"),
        );
        assert!(asks_to_close(&h));
        h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        assert!(!asks_to_close(&h));
    }
}
