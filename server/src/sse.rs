//! `/api/live`: the Server-Sent Events stream of live events.
//!
//! Each stream sends `Ready` first (the client refetches: this is how a
//! reconnecting client resynchronises), or `Connected` when the page it
//! came from was rendered after the last event it may see (no refetch: the
//! page is current), then only the events its session may
//! see, with a heartbeat comment every few seconds so proxies keep it open.
//! It ends when the session logs out (on any instance) or expires.
//!
//! Ten thousand of these may be open at once, so each is kept small
//! (`server/benches/live_streams.rs` measures it): the response body itself
//! is the stream, a state machine over the bus receiver, with no task or
//! channel of its own, and an event's frame is serialised once and shared
//! by every stream that sends it. Its size while idle is checked by a test
//! below. Its connection is served without hyper (`crate::http1`), whose
//! buffers cost more than all the rest.

use app::domain::live::{LiveEvent, LiveWire, Viewer};
use app::server::auth::{session_alive, Session};
use app::server::clock::SharedClock;
use app::server::config::Config;
use app::server::db::Db;
use app::server::events::BusMessage;
use app::server::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Interval, MissedTickBehavior};

/// `?since=<unix ms>`: when the page that opens the stream was rendered.
#[derive(Deserialize)]
pub struct LiveQuery {
    since: Option<i64>,
}

/// Clocks of several instances differ a little: a page rendered by one and
/// streamed by another counts events from this much earlier.
const CLOCK_SLACK_MS: i64 = 2_000;

/// The comment sent as a heartbeat (as axum's `KeepAlive::text` wrote it).
const HEARTBEAT: &[u8] = b":heartbeat\n\n";

pub async fn live(
    State(state): State<AppState>,
    session: Option<Extension<Session>>,
    Query(q): Query<LiveQuery>,
) -> Response {
    let Some(Extension(session)) = session else {
        return (StatusCode::UNAUTHORIZED, "Please log in.").into_response();
    };
    let viewer = session.viewer();
    let bus = state.bus.subscribe();
    // After subscribing, so an event is either remembered or received.
    let first = match q.since {
        Some(since)
            if !state
                .bus
                .missed_since(since.saturating_sub(CLOCK_SLACK_MS), |m| match m {
                    BusMessage::Event(ev) => ev.visible_to(&viewer),
                    BusMessage::Resync => true,
                    BusMessage::SessionEnded { .. } => false,
                }) =>
        {
            LiveWire::Connected
        }
        _ => LiveWire::Ready,
    };
    let heartbeat = Duration::from_secs(state.config.heartbeat_secs.max(1));
    let mut ticks = tokio::time::interval(heartbeat);
    // A stream that was not polled for a while owes one heartbeat, not many.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let live = Live {
        first: Some(frame(&first)),
        bus,
        viewer,
        token_hash: session.token_hash.into(),
        ticks,
        beats: 0,
        db: state.db.clone(),
        config: state.config.clone(),
        clock: state.clock.clone(),
        _open: crate::metrics::LiveStreamGuard::open(),
    };
    let body = Body::from_stream(futures::stream::unfold(live, Live::step));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// One open stream: what it must remember between messages.
struct Live {
    /// The first message, until it is sent.
    first: Option<Bytes>,
    bus: broadcast::Receiver<Arc<BusMessage>>,
    viewer: Viewer,
    token_hash: Box<str>,
    /// Heartbeats; every second one also re-checks the session.
    ticks: Interval,
    beats: u32,
    db: Db,
    config: Arc<Config>,
    clock: SharedClock,
    /// Counted open while the body exists (`/metrics`): hyper drops it when
    /// the client leaves.
    _open: crate::metrics::LiveStreamGuard,
}

type Item = Result<Bytes, Infallible>;

impl Live {
    /// The next frame to send, or `None` to end the stream.
    async fn step(mut self) -> Option<(Item, Live)> {
        if let Some(first) = self.first.take() {
            // The first tick of an interval is immediate: consume it so the
            // first heartbeat comes one period after the first message.
            self.ticks.tick().await;
            return Some((Ok(first), self));
        }
        loop {
            tokio::select! {
                msg = self.bus.recv() => {
                    let out = match msg {
                        Ok(m) => match &*m {
                            BusMessage::Event(ev) if ev.visible_to(&self.viewer) => {
                                Some(shared_frame(&m, ev))
                            }
                            BusMessage::Event(_) => None,
                            BusMessage::SessionEnded { token_hash }
                                if **token_hash == *self.token_hash => return None,
                            BusMessage::SessionEnded { .. } => None,
                            BusMessage::Resync => Some(frame(&LiveWire::Resync)),
                        },
                        // This stream fell behind and missed events.
                        Err(RecvError::Lagged(_)) => Some(frame(&LiveWire::Resync)),
                        Err(RecvError::Closed) => return None,
                    };
                    if let Some(out) = out {
                        return Some((Ok(out), self));
                    }
                }
                _ = self.ticks.tick() => {
                    self.beats = self.beats.wrapping_add(1);
                    // Idle and absolute timeouts apply to open streams too.
                    // Boxed: the query's future is held only while it runs.
                    if self.beats.is_multiple_of(2) && !Box::pin(self.alive()).await {
                        return None;
                    }
                    return Some((Ok(Bytes::from_static(HEARTBEAT)), self));
                }
            }
        }
    }

    async fn alive(&self) -> bool {
        let now = self.clock.now().timestamp();
        session_alive(&self.db, &self.config.session, &self.token_hash, now).await
    }
}

/// One SSE message carrying `wire` as its data.
fn frame(wire: &LiveWire) -> Bytes {
    let json = serde_json::to_string(wire).unwrap_or_default();
    let mut out = Vec::with_capacity(json.len() + 8);
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(json.as_bytes());
    out.extend_from_slice(b"\n\n");
    out.into()
}

/// The frame of the event in `msg`, made by the first stream that sends it
/// and shared (by reference count) with the others: one serialisation per
/// event instead of one per stream. Keyed by the message's allocation; the
/// `Weak` keeps that address from being reused while it is remembered.
fn shared_frame(msg: &Arc<BusMessage>, ev: &LiveEvent) -> Bytes {
    static LAST: Mutex<Option<(Weak<BusMessage>, Bytes)>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((m, bytes)) = last.as_ref() {
        if std::ptr::eq(m.as_ptr(), Arc::as_ptr(msg)) {
            return bytes.clone();
        }
    }
    let bytes = frame(&LiveWire::Change(ev.clone()));
    *last = Some((Arc::downgrade(msg), bytes.clone()));
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_serialised_once_for_every_stream() {
        let ev = LiveEvent {
            topic: "request".into(),
            action: "created".into(),
            entity_id: 7,
            clinic_id: Some(1),
            user_ids: vec![],
            at_us: 1,
        };
        let msg = Arc::new(BusMessage::Event(ev.clone()));
        let a = shared_frame(&msg, &ev);
        let b = shared_frame(&msg, &ev);
        assert_eq!(a.as_ptr(), b.as_ptr(), "the same bytes, not a copy");
        let text = std::str::from_utf8(&a).unwrap();
        let data = text.strip_prefix("data: ").unwrap().strip_suffix("\n\n");
        let wire: LiveWire = serde_json::from_str(data.unwrap()).unwrap();
        assert_eq!(wire, LiveWire::Change(ev.clone()));
        // Another message (even an equal one) gets its own frame.
        let other = Arc::new(BusMessage::Event(ev.clone()));
        assert_ne!(shared_frame(&other, &ev).as_ptr(), a.as_ptr());
    }

    #[test]
    fn an_idle_stream_holds_little() {
        // What stays allocated per open stream besides the connection:
        // this state and the future of the step it waits in.
        assert!(
            std::mem::size_of::<Live>() <= 256,
            "{}",
            std::mem::size_of::<Live>()
        );
    }
}
