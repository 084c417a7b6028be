//! The one application state handed to the router and to server functions.

use super::clock::SharedClock;
use super::config::Config;
use super::db::{Db, DbKind};
use super::events::{BusMessage, EventBus};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub bus: EventBus,
    pub clock: SharedClock,
    pub config: Arc<Config>,
    /// Wakes the outbox worker when a commit queued messages.
    pub outbox_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Connects the database, runs migrations, and starts the PostgreSQL
    /// listener when there is one.
    pub async fn new(
        config: Config,
        clock: SharedClock,
        leptos_options: LeptosOptions,
    ) -> Result<Self, String> {
        let db = Db::connect(&config.database_url, config.db_max_connections)
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?;
        db.migrate()
            .await
            .map_err(|e| format!("cannot migrate the database: {e}"))?;
        let bus = EventBus::new();
        if db.kind == DbKind::Postgres {
            bus.spawn_pg_listener(config.database_url.clone());
        }
        Ok(Self {
            leptos_options,
            db,
            bus,
            clock,
            config: Arc::new(config),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Sends a bus message to every instance: through PostgreSQL when there
    /// is one (so other instances hear it too), else locally.
    pub async fn broadcast(&self, msg: BusMessage) {
        if self.db.kind == DbKind::Postgres {
            if let Err(e) = super::events::pg_notify(&self.db.pool, &msg).await {
                tracing::error!(error = %e, "pg_notify failed; delivering locally");
                self.bus.publish_local(msg);
            }
        } else {
            self.bus.publish_local(msg);
        }
    }
}
