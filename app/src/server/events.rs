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
use std::sync::Arc;
use tokio::sync::broadcast;

pub const PG_CHANNEL: &str = "slotwise_events";

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
        Self { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusMessage>> {
        self.tx.subscribe()
    }

    /// Delivers to this instance's subscribers only.
    pub fn publish_local(&self, msg: BusMessage) {
        // No subscribers is fine: nobody is watching.
        let _ = self.tx.send(Arc::new(msg));
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
