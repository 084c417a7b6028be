//! `/api/live`: the Server-Sent Events stream of live events.
//!
//! Each stream sends `Ready` first (the client refetches: this is how a
//! reconnecting client resynchronises), or `Connected` when the page it
//! came from was rendered after the last event it may see (no refetch: the
//! page is current), then only the events its session may
//! see, with a heartbeat comment every few seconds so proxies keep it open.
//! It ends when the session logs out (on any instance) or expires.

use app::domain::live::LiveWire;
use app::server::auth::{session_alive, Session};
use app::server::events::BusMessage;
use app::server::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast::error::RecvError, mpsc};

/// `?since=<unix ms>`: when the page that opens the stream was rendered.
#[derive(Deserialize)]
pub struct LiveQuery {
    since: Option<i64>,
}

/// Clocks of several instances differ a little: a page rendered by one and
/// streamed by another counts events from this much earlier.
const CLOCK_SLACK_MS: i64 = 2_000;

pub async fn live(
    State(state): State<AppState>,
    session: Option<Extension<Session>>,
    Query(q): Query<LiveQuery>,
) -> Response {
    let Some(Extension(session)) = session else {
        return (StatusCode::UNAUTHORIZED, "Please log in.").into_response();
    };
    let viewer = session.viewer();
    let mut bus = state.bus.subscribe();
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
    let (out, out_rx) = mpsc::channel::<Event>(64);
    let heartbeat = Duration::from_secs(state.config.heartbeat_secs.max(1));

    tokio::spawn(async move {
        // Counted open while this task runs (`/metrics`).
        let _open = crate::metrics::LiveStreamGuard::open();
        let send =
            |w: &LiveWire| Event::default().data(serde_json::to_string(w).unwrap_or_default());
        if out.send(send(&first)).await.is_err() {
            return;
        }
        // Re-check the session now and then: idle and absolute timeouts
        // apply to open streams too.
        let mut check = tokio::time::interval(heartbeat * 2);
        check.tick().await;
        loop {
            tokio::select! {
                msg = bus.recv() => {
                    let wire = match msg {
                        Ok(m) => match &*m {
                            BusMessage::Event(ev) if ev.visible_to(&viewer) => {
                                Some(LiveWire::Change(ev.clone()))
                            }
                            BusMessage::Event(_) => None,
                            BusMessage::SessionEnded { token_hash } if *token_hash == session.token_hash => break,
                            BusMessage::SessionEnded { .. } => None,
                            BusMessage::Resync => Some(LiveWire::Resync),
                        },
                        // This stream fell behind and missed events.
                        Err(RecvError::Lagged(_)) => Some(LiveWire::Resync),
                        Err(RecvError::Closed) => break,
                    };
                    if let Some(w) = wire {
                        if out.send(send(&w)).await.is_err() {
                            break;
                        }
                    }
                }
                _ = check.tick() => {
                    if !session_alive(&state.db, &state.config.session, &session.token_hash, state.now()).await {
                        break;
                    }
                }
                _ = out.closed() => break,
            }
        }
    });

    let stream = futures::stream::unfold(out_rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response()
}
