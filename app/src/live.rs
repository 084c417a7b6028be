//! The client side of live updates.
//!
//! One `EventSource` per logged-in tab streams `/api/live`. Views ask for a
//! version signal for the topics they show (`use_live_version`) and use it as
//! a resource source, so they refetch when something relevant changes. On
//! (re)connection the server sends `Ready`, which makes every view refetch:
//! that is the resynchronisation after a gap. While the stream is down the
//! helper falls back to polling: every view is told to refetch on a timer.

use leptos::prelude::*;

/// Shared live-update state, provided once by the app shell.
#[derive(Clone, Copy)]
pub struct Live {
    /// (sequence, topic) of the latest notice; topic None = refetch everything.
    last: RwSignal<(u64, Option<String>)>,
    /// Whether the stream is open right now.
    pub connected: RwSignal<bool>,
}

impl Live {
    pub fn new() -> Self {
        Self {
            last: RwSignal::new((0, None)),
            connected: RwSignal::new(false),
        }
    }

    /// Records a notice (None = every topic).
    pub fn notify(&self, topic: Option<String>) {
        self.last.update(|(seq, t)| {
            *seq += 1;
            *t = topic;
        });
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

/// A counter that goes up whenever one of `topics` changes (or on resync).
/// Use it as the source of a `Resource` to refetch live.
pub fn use_live_version(topics: &'static [&'static str]) -> ReadSignal<u64> {
    let live = expect_context::<Live>();
    let (version, set_version) = signal(0u64);
    Effect::new(move |prev: Option<u64>| {
        let (seq, topic) = live.last.get();
        if prev.is_some_and(|p| p != seq) && topic.as_deref().is_none_or(|t| topics.contains(&t)) {
            set_version.update(|v| *v += 1);
        }
        seq
    });
    version
}

/// A clock that ticks every second in the browser (gloo-timers), following
/// the server's clock: `server_now` is the server's time (unix seconds) when
/// the data was fetched; the browser's clock only measures what elapsed
/// since, so a wrong browser clock does not skew counters.
pub fn use_ticking_clock(server_now: Signal<Option<i64>>) -> Signal<i64> {
    let (now, set_now) = signal(0i64);
    // Server time minus browser time, in seconds.
    let offset = StoredValue::new(0i64);
    Effect::new(move |_| {
        if let Some(n) = server_now.get() {
            offset.set_value(n - chrono::Utc::now().timestamp());
            set_now.set(n);
        }
    });
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        loop {
            gloo_timers::future::TimeoutFuture::new(1_000).await;
            // The owner is gone once the view unmounts: stop ticking.
            let Some(off) = offset.try_get_value() else {
                break;
            };
            if set_now
                .try_set(chrono::Utc::now().timestamp() + off)
                .is_some()
            {
                break;
            }
        }
    });
    // Effects do not run while rendering on the server: use its time there.
    Signal::derive(move || match now.get() {
        0 => server_now.get().unwrap_or(0),
        n => n,
    })
}

/// The `<meta>` that carries when the server rendered the page (unix ms).
pub const RENDERED_AT_META: &str = "slotwise-rendered-at";

/// Keeps the stream open while `user` (a logged-in user id) is Some.
/// Browser only: the server renders without a stream.
pub fn connect_while_logged_in(live: Live, user: Signal<Option<i64>>) {
    #[cfg(feature = "hydrate")]
    {
        let generation = StoredValue::new(0u64);
        Effect::new(move |_| {
            let current = user.get();
            generation.update_value(|g| *g += 1);
            if current.is_some() {
                let my_gen = generation.get_value();
                leptos::task::spawn_local(client::run(live, move || {
                    generation.try_get_value() == Some(my_gen)
                }));
            } else {
                live.connected.set(false);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, user);
}

#[cfg(feature = "hydrate")]
mod client {
    use super::Live;
    use crate::domain::live::LiveWire;
    use gloo_timers::future::TimeoutFuture;
    use leptos::prelude::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;
    use web_sys::{EventSource, MessageEvent};

    /// While the stream is down this long, views are refreshed by polling.
    const POLL_EVERY_MS: u32 = 10_000;

    /// When the server rendered this page, read once: only the first stream
    /// of a page load may skip the refetch (later ones follow a gap).
    fn rendered_at() -> Option<String> {
        thread_local!(static TAKEN: Cell<bool> = const { Cell::new(false) });
        if TAKEN.with(|t| t.replace(true)) {
            return None;
        }
        let selector = format!("meta[name=\"{}\"]", super::RENDERED_AT_META);
        web_sys::window()?
            .document()?
            .query_selector(&selector)
            .ok()??
            .get_attribute("content")
    }

    pub async fn run(live: Live, still_wanted: impl Fn() -> bool + 'static) {
        let mut backoff_ms: u32 = 1_000;
        while still_wanted() {
            let url = match rendered_at() {
                Some(ms) => format!("/api/live?since={ms}"),
                None => "/api/live".to_string(),
            };
            let Ok(es) = EventSource::new(&url) else {
                TimeoutFuture::new(backoff_ms).await;
                continue;
            };
            let opened = Rc::new(Cell::new(false));
            let on_message = {
                let opened = opened.clone();
                Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                    opened.set(true);
                    let Some(text) = e.data().as_string() else {
                        return;
                    };
                    match serde_json::from_str::<LiveWire>(&text) {
                        Ok(LiveWire::Ready) => {
                            live.connected.set(true);
                            live.notify(None);
                        }
                        // The server-rendered page is current.
                        Ok(LiveWire::Connected) => live.connected.set(true),
                        Ok(LiveWire::Resync) => live.notify(None),
                        Ok(LiveWire::Change(ev)) => live.notify(Some(ev.topic)),
                        Err(_) => {}
                    }
                })
            };
            let on_error = Closure::<dyn FnMut()>::new(move || live.connected.set(false));
            es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            es.set_onerror(Some(on_error.as_ref().unchecked_ref()));

            // Watch the stream; poll while it is down; rebuild it if the
            // browser gives up (readyState CLOSED, e.g. after a 401 or 503).
            let mut down_ms: u32 = 0;
            loop {
                TimeoutFuture::new(1_000).await;
                if !still_wanted() {
                    break;
                }
                if es.ready_state() == EventSource::CLOSED {
                    break;
                }
                if live.connected.get_untracked() {
                    down_ms = 0;
                    backoff_ms = 1_000;
                } else {
                    down_ms += 1_000;
                    if down_ms.is_multiple_of(POLL_EVERY_MS) {
                        live.notify(None);
                    }
                }
            }
            es.close();
            live.connected.set(false);
            drop((on_message, on_error));
            if !still_wanted() {
                break;
            }
            // Refresh once while waiting to reconnect, then back off.
            live.notify(None);
            TimeoutFuture::new(backoff_ms).await;
            backoff_ms = (backoff_ms * 2).min(30_000);
        }
    }
}

/// A counter that goes up each time `action` succeeds. Views refetch on it
/// (not on every dispatch), so a refused save leaves the form as typed.
pub fn successes<I, O, E>(action: leptos::prelude::ServerAction<I>) -> ReadSignal<u64>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = E> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    let (count, set_count) = signal(0u64);
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            set_count.update(|c| *c += 1);
        }
    });
    count
}
