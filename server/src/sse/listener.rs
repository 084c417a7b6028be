//! Live streams on connections of their own, without hyper's buffers.
//!
//! hyper keeps about 16 KB for every HTTP/1 connection it serves (an 8 KB
//! read buffer, an 8 KB head buffer, cached headers and the connection's
//! state), for as long as the connection is open, and none of it can be
//! configured smaller. A live stream is one long response on a connection
//! that does nothing else, so that was most of what each open stream cost
//! (`server/benches/live_streams.rs`, the "bare" floor).
//!
//! This listener looks at the first request of each new connection. When it
//! is a plain `GET /api/live` (HTTP/1.1, no body, no upgrade, nothing
//! pipelined behind it), the request still goes through the whole router
//! (session, metrics, request id, logs, headers: everything any request
//! gets), but its response is written here: the head, then each frame of
//! the body as an HTTP chunk, until the stream ends or the client leaves;
//! then the connection closes. Every other connection is handed to axum
//! and hyper as usual, with the bytes already read put back in front. A
//! live request that comes later on a reused keep-alive connection is
//! served by hyper, at hyper's cost.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, Version};
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

/// The start of every request this listener serves itself.
const LIVE: &[u8] = b"GET /api/live";
/// A longer head is left to hyper (which refuses what is too large).
const MAX_HEAD: usize = 16 * 1024;
/// A connection that sends nothing for this long is left to hyper.
const HEAD_WAIT: Duration = Duration::from_secs(30);
const MAX_HEADERS: usize = 64;

/// What `axum::serve` is given instead of the `TcpListener` (the `tap_io`
/// wrapper lets `ConnectInfo<SocketAddr>` work as with a plain listener).
pub type Listener = TapIo<LiveListener, fn(&mut Peeked)>;

/// Wraps `tcp`: live streams are answered by `router` here, the rest is
/// passed on to the server this listener is given to.
pub fn listener(tcp: TcpListener, router: Router) -> io::Result<Listener> {
    let local = tcp.local_addr()?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(accept(tcp, router, tx));
    Ok(LiveListener { rx, local }.tap_io(untouched as fn(&mut Peeked)))
}

fn untouched(_: &mut Peeked) {}

pub struct LiveListener {
    rx: mpsc::Receiver<(Peeked, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for LiveListener {
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

async fn accept(tcp: TcpListener, router: Router, tx: mpsc::Sender<(Peeked, SocketAddr)>) {
    loop {
        let (sock, addr) = match tcp.accept().await {
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
        if tx.is_closed() {
            // The server stopped (graceful shutdown): so do we.
            return;
        }
        let (router, tx) = (router.clone(), tx.clone());
        // A task's allocation is as large as its largest state, for its
        // whole life: what runs once (reading the head, the router) is
        // boxed, so an open stream's task holds only the streaming state.
        tokio::spawn(async move {
            match Box::pin(first_request(sock, addr)).await {
                First::Live(sock, req) => {
                    if let Some((sock, body)) = Box::pin(answer(sock, req, router)).await {
                        stream_body(sock, body).await;
                    }
                }
                First::Other(io) => {
                    let _ = Box::pin(tx.send((io, addr))).await;
                }
                First::Gone => {}
            }
        });
    }
}

enum First {
    Live(TcpStream, Box<Request<Body>>),
    Other(Peeked),
    Gone,
}

/// Reads just enough of the first request to tell whether it is a live
/// stream: a connection whose first bytes cannot start `GET /api/live` is
/// passed on at once, with no wait.
async fn first_request(mut sock: TcpStream, addr: SocketAddr) -> First {
    let mut head = Vec::new();
    loop {
        head.reserve(1024);
        match tokio::time::timeout(HEAD_WAIT, sock.read_buf(&mut head)).await {
            Ok(Ok(0)) if head.is_empty() => return First::Gone,
            Ok(Ok(0)) | Err(_) => return First::Other(Peeked::new(head, sock)),
            Ok(Err(_)) => return First::Gone,
            Ok(Ok(_)) => {}
        }
        let k = head.len().min(LIVE.len());
        let mismatch = head[..k] != LIVE[..k]
            || head
                .get(LIVE.len())
                .is_some_and(|b| !matches!(b, b' ' | b'?'));
        if mismatch || head.len() > MAX_HEAD {
            return First::Other(Peeked::new(head, sock));
        }
        match live_request(&head, addr) {
            Parsed::Live(req) => return First::Live(sock, req),
            Parsed::Other => return First::Other(Peeked::new(head, sock)),
            Parsed::Partial => {}
        }
    }
}

enum Parsed {
    Live(Box<Request<Body>>),
    Other,
    Partial,
}

/// A complete `GET /api/live` head this module can answer, as a request.
fn live_request(head: &[u8], addr: SocketAddr) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Request::new(&mut headers);
    let len = match r.parse(head) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    // Pipelined bytes, HTTP/1.0 (no chunks), a body, an upgrade: hyper's.
    if len != head.len() || r.method != Some("GET") || r.version != Some(1) {
        return Parsed::Other;
    }
    let path = r.path.unwrap_or("");
    if !(path == "/api/live" || path.starts_with("/api/live?")) {
        return Parsed::Other;
    }
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(path)
        .version(Version::HTTP_11);
    for h in r.headers.iter() {
        let special = [
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            header::UPGRADE,
            header::EXPECT,
        ]
        .iter()
        .any(|n| h.name.eq_ignore_ascii_case(n.as_str()));
        if special {
            return Parsed::Other;
        }
        req = req.header(h.name, h.value);
    }
    match req.body(Body::empty()) {
        Ok(mut req) => {
            req.extensions_mut().insert(ConnectInfo(addr));
            Parsed::Live(Box::new(req))
        }
        Err(_) => Parsed::Other,
    }
}

/// Answers `req` through the router and writes the response's head: a
/// body of known length is written whole (and the connection closed), a
/// stream is returned to be written chunk by chunk.
async fn answer(
    mut sock: TcpStream,
    req: Box<Request<Body>>,
    router: Router,
) -> Option<(TcpStream, Body)> {
    // Frames are small and must not wait for the previous one's ACK.
    let _ = sock.set_nodelay(true);
    let res = match router.oneshot(*req).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    let (parts, body) = res.into_parts();
    let length = axum::body::HttpBody::size_hint(&body).exact();
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(parts.status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(parts.status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        if name == header::CONNECTION || name == header::TRANSFER_ENCODING {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if !parts.headers.contains_key(header::DATE) {
        head.extend_from_slice(b"date: ");
        head.extend_from_slice(httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"connection: close\r\n");
    if let Some(n) = length {
        // A refusal (401, 400) or any answer of known length: all at once.
        if !parts.headers.contains_key(header::CONTENT_LENGTH) {
            head.extend_from_slice(format!("content-length: {n}\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        if let Ok(bytes) = axum::body::to_bytes(body, MAX_HEAD).await {
            head.extend_from_slice(&bytes);
        }
        let _ = sock.write_all(&head).await;
        let _ = sock.shutdown().await;
        return None;
    }
    head.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
    sock.write_all(&head).await.ok()?;
    Some((sock, body))
}

/// Writes `body` as chunks until it ends (then the last chunk) or the
/// client leaves (then the body is dropped, which ends the stream).
async fn stream_body(mut sock: TcpStream, body: Body) {
    let mut frames = body.into_data_stream();
    let (mut rd, mut wr) = sock.split();
    // The client sends nothing more; reading tells when it has gone.
    let mut probe = [0u8; 16];
    loop {
        tokio::select! {
            next = frames.next() => match next {
                Some(Ok(data)) if data.is_empty() => {}
                Some(Ok(data)) => {
                    let mut chunk = Vec::with_capacity(data.len() + 12);
                    chunk.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                    chunk.extend_from_slice(&data);
                    chunk.extend_from_slice(b"\r\n");
                    if wr.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
                Some(Err(_)) => return,
                None => {
                    let _ = wr.write_all(b"0\r\n\r\n").await;
                    let _ = wr.shutdown().await;
                    return;
                }
            },
            read = rd.read(&mut probe) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
        }
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

    fn addr() -> SocketAddr {
        "127.0.0.1:1".parse().unwrap()
    }

    #[test]
    fn only_a_plain_live_get_is_answered_here() {
        let live = b"GET /api/live?since=5 HTTP/1.1\r\nHost: x\r\nCookie: a=b\r\n\r\n";
        match live_request(live, addr()) {
            Parsed::Live(req) => {
                assert_eq!(req.uri(), "/api/live?since=5");
                assert_eq!(req.headers()["cookie"], "a=b");
                assert!(req.extensions().get::<ConnectInfo<SocketAddr>>().is_some());
            }
            _ => panic!("not taken"),
        }
        assert!(matches!(
            live_request(b"GET /api/live HTTP/1.1\r\nHost: x\r\n", addr()),
            Parsed::Partial
        ));
        for other in [
            &b"GET /api/livex HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"GET /api/live HTTP/1.0\r\nHost: x\r\n\r\n",
            b"GET /api/live HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            b"GET /api/live HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            b"GET /api/live HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            b"POST /api/live HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            assert!(
                matches!(live_request(other, addr()), Parsed::Other),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }
}
