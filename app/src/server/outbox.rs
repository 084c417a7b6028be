//! The outbox worker: delivers what changes queued (email over SMTP, SMS
//! through an HTTP provider) after their transactions commit, with retries
//! and backoff, and records each message's status.
//!
//! Several instances may run it against one database: a message is claimed
//! by moving its `next_attempt_at` forward (a lease) with a compare-and-set
//! update, so exactly one worker attempts it at a time. A worker that dies
//! mid-delivery leaves the lease to expire and the message is tried again;
//! the SMTP Message-ID and the SMS Idempotency-Key are derived from the
//! message's idempotency key so a receiver can drop such a repeat.
//!
//! Without an SMTP server (or SMS provider) configured, messages are kept
//! in the dev mailbox instead: marked sent with transport `mailbox` and
//! shown on the Mailbox page exactly as they would have been delivered.

use super::config::{Config, Smtp, SmtpTls};
use super::state::AppState;
use crate::domain::notify::{retry_delay, MAX_ATTEMPTS};
use crate::error::AppResult;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::time::Duration;

/// How long a claimed message is reserved for the worker delivering it.
const LEASE_SECS: i64 = 300;
/// Messages claimed per pass.
const BATCH: i64 = 64;

/// Failed delivery attempts in this process, by channel (email, sms, pms;
/// retried or given up): read by the server's `/metrics`.
pub static DELIVERY_FAILURES: [std::sync::atomic::AtomicU64; 3] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 3];
/// The channels, in `DELIVERY_FAILURES`' order.
pub const CHANNELS: [&str; 3] = ["email", "sms", "pms"];

/// The ways out, built once from the configuration.
#[derive(Clone)]
pub struct Transports {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    http: reqwest::Client,
    sms: Option<super::config::Sms>,
    from: Mailbox,
}

impl Transports {
    pub fn new(config: &Config) -> Result<Transports, String> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| format!("SLOTWISE_MAIL_FROM={:?}: {e}", config.mail_from))?;
        let smtp = match &config.smtp {
            None => None,
            Some(s) => Some(smtp_transport(s, config.outbox_concurrency)?),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Transports {
            smtp,
            http,
            sms: config.sms.clone(),
            from,
        })
    }
}

/// One pooled connection per message delivered at once: lettre writes a
/// message's body and its closing dot separately, so on a reused
/// connection each message waits out the receiver's delayed ACK (~40 ms on
/// Linux); throughput comes from delivering several at once.
fn smtp_transport(
    s: &Smtp,
    connections: usize,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match s.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
            .map_err(|e| format!("SMTP {}: {e}", s.host))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
            .map_err(|e| format!("SMTP {}: {e}", s.host))?,
    };
    let mut builder = builder
        .port(s.port)
        .timeout(Some(Duration::from_secs(15)))
        .pool_config(PoolConfig::new().max_size(connections.clamp(1, 64) as u32));
    if let (Some(u), Some(p)) = (&s.username, &s.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(builder.build())
}

/// Runs the worker until the process ends: a pass whenever a commit queued
/// messages, and at least every `outbox_poll_ms` for retries that fall due.
pub fn spawn(state: AppState) -> Result<tokio::task::JoinHandle<()>, String> {
    let transports = Transports::new(&state.config)?;
    Ok(tokio::spawn(async move {
        let poll = Duration::from_millis(state.config.outbox_poll_ms.max(10));
        loop {
            match deliver_due(&state, &transports).await {
                // A full batch: there may be more waiting.
                Ok(n) if n as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message(), "outbox pass failed"),
            }
            let _ = tokio::time::timeout(poll, state.outbox_wake.notified()).await;
        }
    }))
}

/// A claimed message.
#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    channel: String,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: String,
    attachment: Option<String>,
    attachment_extra: Option<String>,
    #[sqlx(rename = "idempotency_key")]
    key: String,
    attempts: i64,
    clinic_id: Option<i64>,
    appointment_id: Option<i64>,
}

/// One pass: claims the messages that are due (one statement), delivers
/// them several at once, and records the outcomes (the sent ones in one
/// statement). Returns how many it attempted.
pub async fn deliver_due(state: &AppState, t: &Transports) -> AppResult<usize> {
    use futures::StreamExt;
    let now = state.now();
    // The claim moves each message's next attempt past a lease, so another
    // worker skips it; the outer conditions are re-checked on PostgreSQL
    // against a row a competing claim just changed, so exactly one wins.
    // PMS messages go in order per appointment: one waits while an earlier
    // one for the same appointment is still pending.
    let turn = state.db.write_turn().await;
    let mut due = sqlx::query_as::<_, Due>(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1 \
         WHERE status = 'pending' AND next_attempt_at <= $2 AND id IN (\
           SELECT id FROM outbox o WHERE status = 'pending' AND next_attempt_at <= $2 \
           AND (channel <> 'pms' OR NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = 'pms' \
           AND e.appointment_id = o.appointment_id AND e.status = 'pending' AND e.id < o.id)) \
           ORDER BY next_attempt_at, id LIMIT $3) \
         RETURNING id, channel, recipient, subject, body_text, body_html, attachment, \
         idempotency_key, attempts, clinic_id, appointment_id, attachment_extra",
    )
    .bind(now + LEASE_SECS)
    .bind(now)
    .bind(BATCH)
    .fetch_all(&state.db.pool)
    .await?;
    drop(turn);
    // Oldest first, and a PMS message before a later one (RETURNING keeps no order).
    due.sort_by_key(|m| m.id);
    let n = due.len();
    let results: Vec<(Due, Outcome)> = futures::stream::iter(due)
        .map(|m| async move {
            let outcome = match m.channel.as_str() {
                "email" => send_email(t, &m).await,
                "sms" => send_sms(t, &m).await,
                "pms" => send_pms(state, t, &m).await,
                other => Outcome::Fail(format!("unknown channel {other}")),
            };
            (m, outcome)
        })
        .buffer_unordered(state.config.outbox_concurrency)
        .collect()
        .await;
    record(state, results).await?;
    Ok(n)
}

/// Writes what each attempt came to.
async fn record(state: &AppState, mut results: Vec<(Due, Outcome)>) -> AppResult<()> {
    results.sort_by_key(|(m, _)| m.id);
    let now = state.now();
    for (m, outcome) in &results {
        if m.channel == "pms" {
            pms_state(state, m, outcome).await?;
        }
    }
    // Sent messages, one statement per way they went.
    for transport in ["smtp", "http", "mailbox"] {
        let ids: Vec<i64> = results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Sent(t) if *t == transport))
            .map(|(m, _)| m.id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let _turn = state.db.write_turn().await;
        sqlx::query(&format!(
            "UPDATE outbox SET status = 'sent', sent_at = $1, transport = $2, last_error = NULL \
             WHERE id IN ({})",
            super::db::id_list(&ids)
        ))
        .bind(now)
        .bind(transport)
        .execute(&state.db.pool)
        .await?;
    }
    for (m, outcome) in results {
        if !matches!(outcome, Outcome::Sent(_)) {
            if let Some(i) = CHANNELS.iter().position(|c| *c == m.channel) {
                DELIVERY_FAILURES[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        match outcome {
            Outcome::Sent(_) => {}
            Outcome::Retry(e) if m.attempts < MAX_ATTEMPTS => {
                tracing::info!(id = m.id, attempts = m.attempts, error = %e, "delivery failed; will retry");
                let _turn = state.db.write_turn().await;
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3",
                )
                .bind(now + retry_delay(m.attempts))
                .bind(e)
                .bind(m.id)
                .execute(&state.db.pool)
                .await?;
            }
            Outcome::Retry(e) | Outcome::Fail(e) => {
                tracing::warn!(id = m.id, attempts = m.attempts, error = %e, "delivery failed for good");
                let _turn = state.db.write_turn().await;
                sqlx::query("UPDATE outbox SET status = 'failed', last_error = $1 WHERE id = $2")
                    .bind(e)
                    .bind(m.id)
                    .execute(&state.db.pool)
                    .await?;
            }
        }
    }
    Ok(())
}

/// How one attempt ended.
enum Outcome {
    Sent(&'static str),
    /// Worth trying again later (the receiver is down or busy).
    Retry(String),
    /// Will never work as it is (a malformed address, a refused request).
    Fail(String),
}

/// A stable Message-ID from the idempotency key: the same message always
/// carries the same one.
fn message_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@slotwise>")
}

/// The email as it goes over the wire (also what the dev mailbox shows).
fn build_email(from: &Mailbox, m: &Due) -> Result<lettre::Message, String> {
    let to: Mailbox = m
        .recipient
        .parse()
        .map_err(|e| format!("bad recipient {:?}: {e}", m.recipient))?;
    let builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(message_id(&m.key)));
    let body = MultiPart::alternative_plain_html(m.body_text.clone(), m.body_html.clone());
    let calendar = |name: &str, ics: &str| -> Result<lettre::message::SinglePart, String> {
        let method = if ics.contains("\r\nMETHOD:CANCEL\r\n") {
            "CANCEL"
        } else {
            "REQUEST"
        };
        let kind = ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
            .map_err(|e| e.to_string())?;
        Ok(Attachment::new(name.into()).body(ics.to_string(), kind))
    };
    let email = match (&m.attachment, &m.attachment_extra) {
        (None, _) => builder.multipart(body),
        (Some(ics), extra) => {
            let mut all = MultiPart::mixed()
                .multipart(body)
                .singlepart(calendar("invite.ics", ics)?);
            if let Some(earlier) = extra {
                all = all.singlepart(calendar("earlier-meetings.ics", earlier)?);
            }
            builder.multipart(all)
        }
    };
    email.map_err(|e| e.to_string())
}

async fn send_email(t: &Transports, m: &Due) -> Outcome {
    let email = match build_email(&t.from, m) {
        Ok(e) => e,
        Err(e) => return Outcome::Fail(e),
    };
    let Some(smtp) = &t.smtp else {
        return Outcome::Sent("mailbox");
    };
    match smtp.send(email).await {
        Ok(_) => Outcome::Sent("smtp"),
        // 5xx: the server refuses this message for good.
        Err(e) if e.is_permanent() => Outcome::Fail(format!("SMTP refused: {e}")),
        Err(e) => Outcome::Retry(format!("SMTP: {e}")),
    }
}

async fn send_sms(t: &Transports, m: &Due) -> Outcome {
    let Some(sms) = &t.sms else {
        return Outcome::Sent("mailbox");
    };
    let url = format!("{}/Accounts/{}/Messages.json", sms.base_url, sms.account);
    let sent = t
        .http
        .post(&url)
        .basic_auth(&sms.account, Some(&sms.token))
        .header("Idempotency-Key", message_id(&m.key))
        .form(&[
            ("To", m.recipient.as_str()),
            ("From", sms.from.as_str()),
            ("Body", m.body_text.as_str()),
        ])
        .send()
        .await;
    match sent {
        Ok(resp) if resp.status().is_success() => Outcome::Sent("http"),
        Ok(resp) if resp.status().as_u16() == 429 || resp.status().is_server_error() => {
            Outcome::Retry(format!("SMS provider answered {}", resp.status()))
        }
        Ok(resp) => Outcome::Fail(format!("SMS provider refused: {}", resp.status())),
        Err(e) => Outcome::Retry(format!("SMS provider: {e}")),
    }
}

async fn send_pms(state: &AppState, t: &Transports, m: &Due) -> Outcome {
    let secret: Option<String> =
        match sqlx::query_scalar("SELECT pms_secret FROM clinic WHERE id = $1")
            .bind(m.clinic_id)
            .fetch_optional(&state.db.pool)
            .await
        {
            Ok(s) => s,
            Err(e) => return Outcome::Retry(format!("reading the clinic's PMS secret: {e}")),
        };
    let Some(secret) = secret else {
        return Outcome::Fail("the clinic no longer exists".into());
    };
    // Wall-clock time, not the injectable clock: the PMS checks freshness.
    let timestamp = chrono::Utc::now().timestamp();
    let sent = t
        .http
        .post(&m.recipient)
        .header("Content-Type", "application/json")
        .header("X-Slotwise-Timestamp", timestamp.to_string())
        .header(
            "X-Slotwise-Signature",
            format!(
                "sha256={}",
                super::notify::pms::signature(&secret, timestamp, &m.body_text)
            ),
        )
        .header("Idempotency-Key", message_id(&m.key))
        .body(m.body_text.clone())
        .send()
        .await;
    match sent {
        Ok(resp) if resp.status().is_success() => Outcome::Sent("http"),
        Ok(resp) if resp.status().as_u16() == 429 || resp.status().is_server_error() => {
            Outcome::Retry(format!("PMS answered {}", resp.status()))
        }
        Ok(resp) => Outcome::Fail(format!("PMS refused: {}", resp.status())),
        Err(e) => Outcome::Retry(format!("PMS unreachable: {e}")),
    }
}

/// Records the appointment's PMS sync state after an attempt; a message
/// that failed for good alerts the clinic's admins by email.
async fn pms_state(state: &AppState, m: &Due, outcome: &Outcome) -> AppResult<()> {
    let Some(appointment) = m.appointment_id else {
        return Ok(());
    };
    let final_failure = match outcome {
        Outcome::Sent(_) => false,
        Outcome::Retry(_) if m.attempts < MAX_ATTEMPTS => return Ok(()),
        Outcome::Retry(_) | Outcome::Fail(_) => true,
    };
    let error = match outcome {
        Outcome::Retry(e) | Outcome::Fail(e) => e.clone(),
        Outcome::Sent(_) => String::new(),
    };
    let mut change = super::change::Change::begin(state).await?;
    if final_failure {
        sqlx::query("UPDATE appointment SET pms_sync_state = 'failed' WHERE id = $1")
            .bind(appointment)
            .execute(change.conn())
            .await?;
        let admins = sqlx::query(
            "SELECT u.id, u.email, c.name AS clinic_name FROM membership m JOIN app_user u ON u.id = m.user_id \
             JOIN clinic c ON c.id = m.clinic_id WHERE m.clinic_id = $1 AND m.role = 'admin'",
        )
        .bind(m.clinic_id)
        .fetch_all(change.conn())
        .await?;
        let base = change.base_url().to_string();
        for a in &admins {
            let admin_id: i64 = a.get("id");
            let clinic: String = a.get("clinic_name");
            let text = format!(
                "The practice-management system did not accept an update for appointment {appointment} \
                 after {} attempts.\n\nUpdate: {}\nLast error: {error}\n\nThe appointment is marked \
                 \"PMS sync failed\" in Bookings. Fix the connection, then retry the message from the \
                 Outbox: {base}/outbox\n\n{clinic}\n",
                m.attempts, m.subject
            );
            change
                .outbox(super::change::OutboxMessage {
                    recipient_user_id: Some(admin_id),
                    recipient: a.get("email"),
                    channel: "email",
                    event: "pms_failed".into(),
                    subject: format!("[{clinic}] PMS sync failed for appointment {appointment}"),
                    body_html: format!(
                        "<!doctype html><html><body style=\"font-family:sans-serif\"><pre style=\"white-space:pre-wrap;font:inherit\">{}</pre></body></html>",
                        super::notify::render::esc(&text)
                    ),
                    body_text: text,
                    attachment: None,
                    attachment_extra: None,
                    idempotency_key: format!("pms-failed/{}/{}", m.id, admin_id),
                    clinic_id: m.clinic_id,
                    appointment_id: Some(appointment),
                })
                .await?;
        }
    } else {
        // Synced, unless a later update is still on its way.
        sqlx::query(
            "UPDATE appointment SET pms_sync_state = 'synced' WHERE id = $1 AND NOT EXISTS \
             (SELECT 1 FROM outbox WHERE channel = 'pms' AND appointment_id = $1 \
             AND status = 'pending' AND id <> $2)",
        )
        .bind(appointment)
        .bind(m.id)
        .execute(change.conn())
        .await?;
    }
    change
        .emit(crate::domain::live::LiveEvent {
            topic: crate::domain::live::topic::APPOINTMENT.into(),
            action: "pms_sync".into(),
            entity_id: appointment,
            clinic_id: m.clinic_id,
            user_ids: Vec::new(),
            at_us: 0,
        })
        .await?;
    change.commit().await
}
