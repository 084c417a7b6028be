//! Notification settings, the Outbox and the Mailbox.

use serde::{Deserialize, Serialize};

/// Which Outbox messages the admins' Outbox lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutboxFilter {
    #[default]
    All,
    Pending,
    Sent,
    Failed,
}

/// One ticked box of Account > Notifications: this event by this channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NotifyChoice {
    pub event: crate::domain::notify::NotifyEvent,
    pub channel: crate::domain::notify::Channel,
}

/// Account > Notifications for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub mobile: String,
    pub rows: Vec<NotificationRow>,
    /// The people a clinic admin may pick (themselves first); empty for
    /// everyone else.
    pub choices: Vec<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    /// The event's code (`NotifyEvent::as_str`).
    pub event: String,
    pub label: String,
    pub email: bool,
    pub sms: bool,
}

/// The admins' Outbox page for one clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxView {
    pub clinic_id: i64,
    pub clinics: Vec<(i64, String)>,
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub rows: Vec<OutboxEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub created: String,
    pub channel: String,
    pub event: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// smtp, http or mailbox (once sent).
    pub transport: String,
    pub sent: Option<String>,
    pub next_attempt: Option<String>,
}

/// A message kept in the dev mailbox, as the recipient would see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMessage {
    pub id: i64,
    pub channel: String,
    pub event: String,
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The iCalendar attachment, if any.
    pub attachment: Option<String>,
    /// A second calendar (the earlier part of a split series).
    pub attachment_extra: Option<String>,
    pub at: String,
}
