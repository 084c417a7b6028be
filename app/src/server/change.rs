//! The unit of work every state change is written in: `Change`, a write
//! transaction with the audit entry, outbox messages and live events that
//! must commit with it or not at all. Its own module, beside the service
//! layer rather than in it, so notifications, the PMS sync and the outbox
//! worker write through it without reaching into the service folder.

use super::db::{DbKind, Tx};
use super::events::{BusMessage, EventBus};
use super::state::AppState;
use crate::domain::live::LiveEvent;
use crate::error::AppResult;
use serde_json::Value;

/// One audit entry (append-only).
pub struct Audit<'a> {
    pub actor_id: Option<i64>,
    pub on_behalf_of_id: Option<i64>,
    pub clinic_id: Option<i64>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A message for the delivery worker.
pub struct OutboxMessage {
    pub recipient_user_id: Option<i64>,
    pub recipient: String,
    pub channel: &'static str,
    pub event: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attachment: Option<String>,
    /// A second calendar (the earlier part of a split series).
    pub attachment_extra: Option<String>,
    /// Same key, same message: a retried change never sends twice.
    pub idempotency_key: String,
    /// The clinic whose admins see it on the Outbox page.
    pub clinic_id: Option<i64>,
    pub appointment_id: Option<i64>,
}

/// A write transaction with its audit, outbox and live-event obligations.
pub struct Change {
    tx: Tx,
    kind: DbKind,
    bus: EventBus,
    events: Vec<LiveEvent>,
    /// "Now" for this change, from the injectable clock (unix seconds).
    pub now: i64,
    now_us: i64,
    config: std::sync::Arc<super::config::Config>,
    outbox_wake: std::sync::Arc<tokio::sync::Notify>,
    queued_messages: bool,
    /// Declared after `tx`, so the turn ends after the transaction does.
    _turn: super::db::WriteTurn,
}

impl Change {
    pub async fn begin(state: &AppState) -> AppResult<Change> {
        let turn = state.db.write_turn().await;
        let tx = state.db.begin_write().await?;
        let now = state.clock.now();
        Ok(Change {
            tx,
            kind: state.db.kind,
            bus: state.bus.clone(),
            events: Vec::new(),
            now: now.timestamp(),
            now_us: now.timestamp_micros(),
            config: state.config.clone(),
            outbox_wake: state.outbox_wake.clone(),
            queued_messages: false,
            _turn: turn,
        })
    }

    /// The app's public origin, for links in messages.
    pub fn base_url(&self) -> &str {
        self.config.link_base()
    }

    /// The address messages are sent from.
    pub fn mail_from(&self) -> &str {
        let from = self.config.mail_from.as_str();
        // "Name <address>" or a bare address.
        match (from.find('<'), from.rfind('>')) {
            (Some(a), Some(b)) if a < b => &from[a + 1..b],
            _ => from,
        }
    }

    /// The transaction's connection, for the change's own queries.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// The transaction itself, for helpers that take one.
    pub fn tx_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }

    pub async fn audit(&mut self, a: Audit<'_>) -> AppResult<()> {
        sqlx::query(
            "INSERT INTO audit (at, actor_id, on_behalf_of_id, clinic_id, action, entity, entity_id, \
             before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(self.now)
        .bind(a.actor_id)
        .bind(a.on_behalf_of_id)
        .bind(a.clinic_id)
        .bind(a.action)
        .bind(a.entity)
        .bind(a.entity_id)
        .bind(a.before.map(|v| v.to_string()))
        .bind(a.after.map(|v| v.to_string()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// An admin's change to one of a clinic's settings: its audit entry,
    /// on the clinic, as every settings save writes it.
    pub async fn audit_clinic(
        &mut self,
        actor_id: i64,
        clinic_id: i64,
        action: &str,
        before: Option<Value>,
        after: Value,
    ) -> AppResult<()> {
        self.audit(Audit {
            actor_id: Some(actor_id),
            on_behalf_of_id: None,
            clinic_id: Some(clinic_id),
            action,
            entity: "clinic",
            entity_id: clinic_id,
            before,
            after: Some(after),
        })
        .await
    }

    pub async fn outbox(&mut self, m: OutboxMessage) -> AppResult<()> {
        // A duplicate key means this message is already queued: keep the first.
        sqlx::query(
            "INSERT INTO outbox (recipient_user_id, recipient, channel, event, subject, body_text, \
             body_html, attachment, status, attempts, next_attempt_at, idempotency_key, created_at, \
             clinic_id, appointment_id, attachment_extra) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $10, $9, $11, $12, $13) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(m.recipient_user_id)
        .bind(m.recipient)
        .bind(m.channel)
        .bind(m.event)
        .bind(m.subject)
        .bind(m.body_text)
        .bind(m.body_html)
        .bind(m.attachment)
        .bind(self.now)
        .bind(m.idempotency_key)
        .bind(m.clinic_id)
        .bind(m.appointment_id)
        .bind(m.attachment_extra)
        .execute(&mut *self.tx)
        .await?;
        self.queued_messages = true;
        Ok(())
    }

    /// Serialises writers that touch one provider's time. SQLite's
    /// `BEGIN IMMEDIATE` already serialises every writer; on PostgreSQL a
    /// transaction-scoped advisory lock per provider does it, so a
    /// check-then-insert cannot interleave with a competing one.
    pub async fn lock_provider(&mut self, provider_id: i64) -> AppResult<()> {
        if self.kind == DbKind::Postgres {
            sqlx::query("SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
                .bind(provider_id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Queues a live event. On PostgreSQL it is sent with `pg_notify` inside
    /// the transaction (delivered only if it commits); on SQLite it is
    /// published right after the commit.
    pub async fn emit(&mut self, mut ev: LiveEvent) -> AppResult<()> {
        ev.at_us = self.now_us;
        if self.kind == DbKind::Postgres {
            super::events::pg_notify(&mut *self.tx, &BusMessage::Event(ev)).await?;
        } else {
            self.events.push(ev);
        }
        Ok(())
    }

    pub async fn commit(self) -> AppResult<()> {
        self.tx.commit().await?;
        drop(self._turn);
        if self.queued_messages {
            self.outbox_wake.notify_one();
        }
        for mut ev in self.events {
            // Stamp the real commit time so latency figures start here.
            ev.at_us = chrono::Utc::now().timestamp_micros();
            self.bus.publish_local(BusMessage::Event(ev));
        }
        Ok(())
    }
}
