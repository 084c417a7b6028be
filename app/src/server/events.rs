//! The live event bus.
//!
//! On SQLite (one process) events go through an in-process broadcast channel
//! after the transaction commits. On PostgreSQL the transaction itself issues
//! `pg_notify`, which PostgreSQL delivers only on commit, and every instance
//! (this one included) receives it through its LISTEN connection and
//! rebroadcasts locally, so several instances share one stream of events.

use crate::domain::live::LiveEvent;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many recent messages each instance remembers (see `missed_since`).
const RECENT: usize = 1024;

pub const PG_CHANNEL: &str = "slotwise_events";

/// Sends `msg` to every instance's LISTEN connection on `PG_CHANNEL`. Inside
/// a transaction PostgreSQL delivers it only if the transaction commits.
/// The one place the statement is written.
pub async fn pg_notify<'e, E>(executor: E, msg: &BusMessage) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let payload = serde_json::to_string(msg).unwrap_or_default();
    sqlx::query("SELECT COUNT(*) FROM (SELECT pg_notify($1, $2)) AS sent")
        .bind(PG_CHANNEL)
        .bind(payload)
        .execute(executor)
        .await
        .map(|_| ())
}

/// What travels on the bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum BusMessage {
    Event(LiveEvent),
    /// A session was ended (logout): its open streams close.
    SessionEnded {
        token_hash: String,
    },
    /// Events may have been missed (a lost LISTEN connection): every client
    /// should refetch what it shows.
    Resync,
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<BusMessage>>,
    recent: Arc<Mutex<Recent>>,
}

/// The latest messages with the moment (unix milliseconds, wall clock) this
/// instance heard them. A page rendered on the server already shows what was
/// true then; when its live stream opens, this tells whether anything it may
/// see happened in between, so the page refetches only if it did.
#[derive(Default)]
struct Recent {
    items: VecDeque<(i64, Arc<BusMessage>)>,
    /// When the newest message that no longer fits was heard (0: none).
    forgotten_at: i64,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        // Generous: a slow stream that falls this far behind gets a Resync.
        let (tx, _) = broadcast::channel(4096);
        Self {
            tx,
            recent: Arc::default(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusMessage>> {
        self.tx.subscribe()
    }

    /// Delivers to this instance's subscribers only.
    pub fn publish_local(&self, msg: BusMessage) {
        let msg = Arc::new(msg);
        // Remembered before it is sent: a stream that subscribes and then
        // asks `missed_since` sees every message either way.
        if let Ok(mut recent) = self.recent.lock() {
            if recent.items.len() == RECENT {
                if let Some((at, _)) = recent.items.pop_front() {
                    recent.forgotten_at = at;
                }
            }
            recent.items.push_back((now_millis(), msg.clone()));
        }
        // No subscribers is fine: nobody is watching.
        let _ = self.tx.send(msg);
    }

    /// Whether a message that `relevant` accepts was heard at or after
    /// `since` (unix ms), or may have been (it is older than what is
    /// remembered). Subscribe first, then ask, so nothing falls in between.
    pub fn missed_since(&self, since: i64, relevant: impl Fn(&BusMessage) -> bool) -> bool {
        let Ok(recent) = self.recent.lock() else {
            return true;
        };
        recent.forgotten_at >= since
            || recent
                .items
                .iter()
                .rev()
                .take_while(|(at, _)| *at >= since)
                .any(|(_, m)| relevant(m))
    }

    /// Listens on PostgreSQL and rebroadcasts every notification locally.
    /// Runs until the process ends; reconnects after connection loss and
    /// tells clients to resynchronise, since notifications sent meanwhile
    /// are lost.
    pub fn spawn_pg_listener(&self, url: String) -> tokio::task::JoinHandle<()> {
        let bus = self.clone();
        tokio::spawn(async move {
            let mut first = true;
            loop {
                match PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(PG_CHANNEL).await {
                            tracing::error!(error = %e, "LISTEN failed");
                        } else {
                            if !first {
                                bus.publish_local(BusMessage::Resync);
                            }
                            first = false;
                            tracing::info!("listening for live events on PostgreSQL");
                            loop {
                                // `try_recv` returns Ok(None) when the
                                // connection was lost (and re-established on
                                // the next call), which means missed events.
                                match listener.try_recv().await {
                                    Ok(Some(n)) => match serde_json::from_str(n.payload()) {
                                        Ok(msg) => bus.publish_local(msg),
                                        Err(e) => {
                                            tracing::warn!(error = %e, "unreadable notification")
                                        }
                                    },
                                    Ok(None) => {
                                        tracing::warn!("LISTEN connection lost; resynchronising");
                                        bus.publish_local(BusMessage::Resync);
                                    }
                                    Err(e) => {
                                        tracing::error!(error = %e, "LISTEN failed");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot connect the event listener"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        })
    }
}

/// Wall-clock milliseconds: transport bookkeeping, not a policy decision, so
/// not the injectable clock (pages carry the same clock's reading).
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resync_only(m: &BusMessage) -> bool {
        matches!(m, BusMessage::Resync)
    }

    #[test]
    fn missed_since_sees_only_relevant_messages_after_the_moment() {
        let bus = EventBus::new();
        let before = now_millis();
        assert!(!bus.missed_since(before, |_| true), "nothing heard yet");
        bus.publish_local(BusMessage::SessionEnded {
            token_hash: "x".into(),
        });
        assert!(bus.missed_since(before, |_| true));
        assert!(!bus.missed_since(before, resync_only), "not relevant");
        assert!(!bus.missed_since(now_millis() + 1_000, |_| true), "too old");
        bus.publish_local(BusMessage::Resync);
        assert!(bus.missed_since(before, resync_only));
    }

    #[test]
    fn a_moment_older_than_what_is_remembered_counts_as_missed() {
        let bus = EventBus::new();
        let start = now_millis();
        for _ in 0..=RECENT {
            bus.publish_local(BusMessage::SessionEnded {
                token_hash: "x".into(),
            });
        }
        assert!(bus.missed_since(start, |_| false));
        assert!(!bus.missed_since(now_millis() + 1_000, |_| false));
    }
}
