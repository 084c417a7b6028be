//! Configuration from environment variables (documented in the README).

use crate::domain::session::SessionPolicy;
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path/to/file.db` (default) or `postgres://...`.
    pub database_url: String,
    /// Load demo data into an empty database and list demo logins.
    pub demo: bool,
    pub session: SessionPolicy,
    /// Public origin (scheme://host[:port]) used for the cross-site check and
    /// for links; when it is https, cookies are marked Secure.
    pub public_url: Option<String>,
    /// The address this server listens on, as a URL (set once it is
    /// bound): links in messages use it when `public_url` is not set.
    pub listen_url: Option<String>,
    /// Trust `X-Forwarded-Proto` / `X-Forwarded-For` from a reverse proxy.
    pub trust_proxy: bool,
    pub max_body_bytes: usize,
    /// Failed logins allowed per account (and per client address, x4) per window.
    pub login_max_failures: usize,
    pub login_window_secs: i64,
    /// New accounts per client address per hour (self-registration).
    pub register_max_per_hour: i64,
    pub db_max_connections: u32,
    /// Seconds between SSE heartbeats.
    pub heartbeat_secs: u64,
    pub addr: Option<SocketAddr>,
    /// Where email goes; None keeps it in the dev mailbox.
    pub smtp: Option<Smtp>,
    /// Where SMS goes; None keeps it in the dev mailbox.
    pub sms: Option<Sms>,
    /// The sender of every email (`Name <address>` or an address).
    pub mail_from: String,
    /// How often the outbox worker looks for due messages when nothing
    /// wakes it (a commit with new messages wakes it at once).
    pub outbox_poll_ms: u64,
    /// Messages the worker delivers at once.
    pub outbox_concurrency: usize,
    /// How often the timers look for reminders, offers and proposals that
    /// fell due (`timers`).
    pub timer_poll_ms: u64,
    /// `/metrics` answers only with `Authorization: Bearer <token>` when set.
    pub metrics_token: Option<String>,
    /// Serve `/metrics` on this address only (not on `addr`).
    pub metrics_addr: Option<SocketAddr>,
}

/// An SMTP relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    /// `none` (plain, for a local relay), `starttls` or `tls` (implicit).
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

/// A Twilio-style SMS API: `POST {base_url}/Accounts/{account}/Messages.json`
/// with form fields To, From, Body and basic auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub base_url: String,
    pub account: String,
    pub token: String,
    pub from: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://slotwise.db".into(),
            demo: false,
            session: SessionPolicy::default(),
            public_url: None,
            listen_url: None,
            trust_proxy: false,
            max_body_bytes: 64 * 1024,
            login_max_failures: 5,
            login_window_secs: 15 * 60,
            register_max_per_hour: 20,
            db_max_connections: 8,
            heartbeat_secs: 15,
            addr: None,
            smtp: None,
            sms: None,
            mail_from: "Slotwise <no-reply@slotwise.local>".into(),
            outbox_poll_ms: 1000,
            outbox_concurrency: 16,
            timer_poll_ms: 1000,
            metrics_token: None,
            metrics_addr: None,
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a valid value")),
    }
}

fn flag(name: &str, default: bool) -> Result<bool, String> {
    match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(format!("{name}={v:?} should be true or false")),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let d = Self::default();
        let database_url = match var("DATABASE_URL") {
            Some(url) => url,
            None => format!(
                "sqlite://{}",
                var("SLOTWISE_SQLITE_PATH").unwrap_or_else(|| "slotwise.db".into())
            ),
        };
        let session = SessionPolicy::new(
            parse("SLOTWISE_SESSION_IDLE_MINUTES", 30i64)?.saturating_mul(60),
            parse("SLOTWISE_SESSION_MAX_HOURS", 12i64)?.saturating_mul(3600),
        );
        if session.idle_secs <= 0 || session.absolute_secs <= 0 {
            return Err("session timeouts must be positive".into());
        }
        Ok(Self {
            database_url,
            demo: flag("SLOTWISE_DEMO", false)?,
            session,
            public_url: var("SLOTWISE_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string()),
            listen_url: None,
            trust_proxy: flag("SLOTWISE_TRUST_PROXY", false)?,
            max_body_bytes: parse("SLOTWISE_MAX_BODY_BYTES", d.max_body_bytes)?,
            login_max_failures: parse("SLOTWISE_LOGIN_MAX_FAILURES", d.login_max_failures)?,
            login_window_secs: parse("SLOTWISE_LOGIN_WINDOW_MINUTES", 15i64)? * 60,
            register_max_per_hour: parse(
                "SLOTWISE_REGISTER_MAX_PER_HOUR",
                d.register_max_per_hour,
            )?,
            db_max_connections: parse("SLOTWISE_DB_MAX_CONNECTIONS", d.db_max_connections)?,
            heartbeat_secs: parse("SLOTWISE_HEARTBEAT_SECS", d.heartbeat_secs)?,
            addr: match var("SLOTWISE_ADDR") {
                Some(a) => Some(
                    a.parse()
                        .map_err(|_| format!("SLOTWISE_ADDR={a:?} is not host:port"))?,
                ),
                None => None,
            },
            smtp: match var("SLOTWISE_SMTP_HOST") {
                None => None,
                Some(host) => {
                    let tls = match var("SLOTWISE_SMTP_TLS")
                        .as_deref()
                        .map(str::to_ascii_lowercase)
                        .as_deref()
                    {
                        None | Some("starttls") => SmtpTls::StartTls,
                        Some("tls") => SmtpTls::Tls,
                        Some("none") => SmtpTls::None,
                        Some(v) => {
                            return Err(format!(
                                "SLOTWISE_SMTP_TLS={v:?} should be none, starttls or tls"
                            ))
                        }
                    };
                    let default_port = match tls {
                        SmtpTls::None => 25,
                        SmtpTls::StartTls => 587,
                        SmtpTls::Tls => 465,
                    };
                    Some(Smtp {
                        host: host.trim().to_string(),
                        port: parse("SLOTWISE_SMTP_PORT", default_port)?,
                        tls,
                        username: var("SLOTWISE_SMTP_USERNAME"),
                        password: var("SLOTWISE_SMTP_PASSWORD"),
                    })
                }
            },
            sms: var("SLOTWISE_SMS_URL").map(|url| Sms {
                base_url: url.trim_end_matches('/').to_string(),
                account: var("SLOTWISE_SMS_ACCOUNT").unwrap_or_default(),
                token: var("SLOTWISE_SMS_TOKEN").unwrap_or_default(),
                from: var("SLOTWISE_SMS_FROM").unwrap_or_default(),
            }),
            mail_from: var("SLOTWISE_MAIL_FROM").unwrap_or(d.mail_from),
            outbox_poll_ms: parse("SLOTWISE_OUTBOX_POLL_MS", d.outbox_poll_ms)?,
            outbox_concurrency: parse("SLOTWISE_OUTBOX_CONCURRENCY", d.outbox_concurrency)?.max(1),
            timer_poll_ms: parse("SLOTWISE_TIMER_POLL_MS", d.timer_poll_ms)?,
            metrics_token: var("SLOTWISE_METRICS_TOKEN").map(|t| t.trim().to_string()),
            metrics_addr: match var("SLOTWISE_METRICS_ADDR") {
                Some(a) => Some(
                    a.trim()
                        .parse()
                        .map_err(|_| format!("SLOTWISE_METRICS_ADDR={a:?} is not host:port"))?,
                ),
                None => None,
            },
        })
    }

    /// Where links in messages point: the public URL, else the address
    /// this server listens on.
    pub fn link_base(&self) -> &str {
        self.public_url
            .as_deref()
            .or(self.listen_url.as_deref())
            .unwrap_or("http://127.0.0.1:3000")
    }

    /// The URL of a listening address. An address that listens on every
    /// interface (0.0.0.0, ::) is not one a browser can open: links name
    /// this machine as `localhost` instead.
    pub fn url_of(addr: std::net::SocketAddr) -> String {
        if addr.ip().is_unspecified() {
            format!("http://localhost:{}", addr.port())
        } else {
            format!("http://{addr}")
        }
    }

    /// Cookies are Secure when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn links_use_the_public_url_else_the_address_listened_on() {
        let mut c = Config::default();
        assert_eq!(c.link_base(), "http://127.0.0.1:3000");
        c.listen_url = Some(Config::url_of("127.0.0.1:8123".parse().unwrap()));
        assert_eq!(c.link_base(), "http://127.0.0.1:8123");
        c.public_url = Some("https://clinic.example".into());
        assert_eq!(c.link_base(), "https://clinic.example");
    }

    #[test]
    fn every_interface_is_named_localhost() {
        assert_eq!(
            Config::url_of("0.0.0.0:3000".parse().unwrap()),
            "http://localhost:3000"
        );
        assert_eq!(
            Config::url_of("[::]:3000".parse().unwrap()),
            "http://localhost:3000"
        );
        assert_eq!(
            Config::url_of("[::1]:3000".parse().unwrap()),
            "http://[::1]:3000"
        );
    }
}
