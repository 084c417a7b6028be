//! Account › Profile and the password reset (issue 12, part 6), on both
//! databases, with the emails delivered for real to a test SMTP server:
//! profile changes and the bad input that changes nothing; a new email
//! taking effect only when the link sent to it is opened; a password
//! change ending the other sessions; reset links that work once and
//! expire; the same answer (and no email) for an unknown address.

mod common;

use app::error::AppError;
use app::server::config::Config;
use app::server::outbox::{deliver_due, Transports};
use app::server::service::accounts::{
    self as accounts, change_password, confirm_email, request_email_change, request_password_reset,
    reset_password, update_profile, ProfileEdit,
};
use axum::http::StatusCode;
use common::smtp::SmtpServer;
use common::web::{form, post, send};
use common::{Backend, TestApp};

const PASSWORD: &str = app::server::demo::DEMO_PASSWORD;
const ANN: &str = "ann@patients.test";

struct Ctx {
    t: TestApp,
    transports: Transports,
    smtp: SmtpServer,
}

async fn ctx(b: Backend) -> Ctx {
    let smtp = SmtpServer::start().await;
    let config = Config {
        public_url: Some("https://clinic.example".into()),
        ..smtp.demo_config()
    };
    let t = common::seeded_app(b, config).await;
    let transports = Transports::new(&t.state.config).unwrap();
    Ctx {
        t,
        transports,
        smtp,
    }
}

/// One email as received: (to, subject, plain text).
type Mail = (String, String, String);

impl Ctx {
    /// Delivers everything due and returns the emails received since `from`.
    async fn mail_since(&self, from: usize) -> Vec<Mail> {
        while deliver_due(&self.t.state, &self.transports).await.unwrap() > 0 {}
        self.smtp.messages()[from..]
            .iter()
            .map(|r| {
                let m = mail_parser::MessageParser::default()
                    .parse(r.data.as_bytes())
                    .expect("a parsable email");
                (
                    // The SMTP envelope's RCPT TO:<address>.
                    r.to.join(",").replace(['<', '>'], ""),
                    m.subject().unwrap_or_default().to_string(),
                    m.body_text(0).unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    fn sent(&self) -> usize {
        self.smtp.messages().len()
    }

    async fn user(&self, email: &str) -> (String, String, String, String) {
        sqlx::query_as("SELECT name, email, mobile, time_zone FROM app_user WHERE email = $1")
            .bind(email)
            .fetch_one(&self.t.state.db.pool)
            .await
            .unwrap()
    }

    async fn password_hash(&self, email: &str) -> String {
        sqlx::query_scalar("SELECT password_hash FROM app_user WHERE email = $1")
            .bind(email)
            .fetch_one(&self.t.state.db.pool)
            .await
            .unwrap()
    }

    async fn sessions_of(&self, email: &str) -> i64 {
        let sql = format!(
            "SELECT COUNT(*) FROM user_session s JOIN app_user u ON u.id = s.user_id \
             WHERE u.email = '{email}'"
        );
        self.t.count(&sql).await
    }

    async fn can_log_in(&self, email: &str, password: &str) -> bool {
        accounts::login(&self.t.state, email, password, "test", "test")
            .await
            .is_ok()
    }
}

/// The one-time link in an email's text, and its token.
fn link_in(text: &str, path: &str) -> (String, String) {
    let start = text
        .find(&format!("https://clinic.example{path}?token="))
        .unwrap_or_else(|| panic!("no {path} link in: {text}"));
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let token = url.split_once("token=").unwrap().1.to_string();
    (url, token)
}

fn assert_4xx(r: Result<impl std::fmt::Debug, AppError>, status: u16, says: &str) {
    let e = r.expect_err("should be refused");
    assert_eq!(e.status(), status, "{e:?}");
    assert!(e.message().contains(says), "{e:?} should say {says:?}");
}

async fn profile_changes_are_saved_and_bad_input_changes_nothing(b: Backend) {
    let c = ctx(b).await;
    let (_, s) = c.t.session(ANN).await;
    let edit = |name: &str, mobile: &str, zone: &str| ProfileEdit {
        name: name.into(),
        mobile: mobile.into(),
        time_zone: zone.into(),
    };
    let before = c.user(ANN).await;
    for (e, says) in [
        (
            edit("Ann Lee", "call me maybe", "Europe/London"),
            "mobile number",
        ),
        (edit("Ann Lee", "+1 555", "Europe/London"), "mobile number"),
        (
            edit("Ann Lee", "+44 7700 900123", "Mars/Olympus"),
            "time zone",
        ),
        (
            edit("  ", "+44 7700 900123", "Europe/London"),
            "Enter your name",
        ),
    ] {
        assert_4xx(update_profile(&c.t.state, &s, e).await, 400, says);
        assert_eq!(c.user(ANN).await, before, "nothing changed");
    }
    update_profile(
        &c.t.state,
        &s,
        edit(" Ann Lee ", "+44 (7700) 900-123", "europe/london"),
    )
    .await
    .unwrap();
    assert_eq!(
        c.user(ANN).await,
        (
            "Ann Lee".into(),
            ANN.into(),
            "+447700900123".into(),
            "Europe/London".into()
        )
    );
    let p = accounts::profile(&c.t.state, s.me.user_id).await.unwrap();
    assert_eq!((p.name.as_str(), p.pending_email), ("Ann Lee", None));
}
both_dbs!(
    profile_changes,
    profile_changes_are_saved_and_bad_input_changes_nothing
);

async fn a_new_email_takes_effect_only_when_its_link_is_opened(b: Backend) {
    let c = ctx(b).await;
    let (_, s) = c.t.session(ANN).await;
    let state = &c.t.state;
    let new = "ann.new@patients.test";
    // Bad input: nothing queued, nothing changed.
    let wrong = request_email_change(state, &s, new, "not-my-password").await;
    assert_4xx(wrong, 400, "current password is not correct");
    let taken = request_email_change(state, &s, "ben@patients.test", PASSWORD).await;
    assert_4xx(taken, 409, "Another account already uses");
    let invalid = request_email_change(state, &s, "ann@", PASSWORD).await;
    assert_4xx(invalid, 400, "valid email address");
    assert_eq!(c.t.count("SELECT COUNT(*) FROM account_token").await, 0);
    assert!(c.mail_since(0).await.is_empty());

    let to = request_email_change(state, &s, " Ann.New@Patients.test ", PASSWORD)
        .await
        .unwrap();
    assert_eq!(to, new);
    // Until the link is opened the account keeps its address.
    assert_eq!(c.user(ANN).await.1, ANN);
    let p = accounts::profile(state, s.me.user_id).await.unwrap();
    assert_eq!(p.pending_email.as_deref(), Some(new));
    let mails = c.mail_since(0).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (mail_to, subject, text) = &mails[0];
    assert_eq!(
        (mail_to.as_str(), subject.as_str()),
        (new, "Confirm your new email address")
    );
    let (_, token) = link_in(text, "/confirm-email");
    // Only a hash of the token is stored.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM account_token")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_ne!(stored, token);

    assert_4xx(confirm_email(state, "forged").await, 400, "not valid");
    assert_eq!(confirm_email(state, &token).await.unwrap(), new);
    assert_eq!(c.user(new).await.1, new);
    assert!(c.can_log_in(new, PASSWORD).await);
    assert!(!c.can_log_in(ANN, PASSWORD).await);
    // The link works once.
    assert_4xx(confirm_email(state, &token).await, 409, "already been used");
}
both_dbs!(
    email_change,
    a_new_email_takes_effect_only_when_its_link_is_opened
);

async fn a_password_change_needs_the_current_one_and_ends_other_sessions(b: Backend) {
    let c = ctx(b).await;
    let (_, here) = c.t.session(ANN).await;
    let (_other, _) = c.t.session(ANN).await;
    assert_eq!(c.sessions_of(ANN).await, 2);
    let state = &c.t.state;
    let hash = c.password_hash(ANN).await;
    let new = "a-new-long-password";
    for (current, next, status, says) in [
        (
            "wrong-password",
            new,
            400,
            "current password is not correct",
        ),
        ("", new, 400, "Enter your current password"),
        (PASSWORD, "short", 400, "at least 10 characters"),
        (PASSWORD, PASSWORD, 400, "different from your current one"),
    ] {
        assert_4xx(
            change_password(state, &here, current, next).await,
            status,
            says,
        );
        assert_eq!(c.password_hash(ANN).await, hash, "nothing changed");
        assert_eq!(c.sessions_of(ANN).await, 2);
    }
    change_password(state, &here, PASSWORD, new).await.unwrap();
    assert_eq!(c.sessions_of(ANN).await, 1, "the other session ended");
    let still: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_session WHERE token_hash = $1")
        .bind(&here.token_hash)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(still, 1, "this session stays");
    assert!(c.can_log_in(ANN, new).await);
    assert!(!c.can_log_in(ANN, PASSWORD).await);
}
both_dbs!(
    password_change,
    a_password_change_needs_the_current_one_and_ends_other_sessions
);

/// Asks for a reset of `email` and returns the token from the email sent.
async fn reset_link(c: &Ctx, email: &str) -> String {
    let from = c.sent();
    request_password_reset(&c.t.state, email, "10.0.0.1")
        .await
        .unwrap();
    let mails = c.mail_since(from).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].0, email);
    assert_eq!(mails[0].1, "Reset your Slotwise password");
    link_in(&mails[0].2, "/reset-password").1
}

async fn a_reset_link_works_once_and_ends_every_session(b: Backend) {
    let c = ctx(b).await;
    let state = &c.t.state;
    c.t.session(ANN).await;
    c.t.session(ANN).await;
    let token = reset_link(&c, ANN).await;
    let hash = c.password_hash(ANN).await;
    // A weak password is refused and the link stays usable.
    assert_4xx(
        reset_password(state, &token, "short").await,
        400,
        "at least 10",
    );
    assert_4xx(
        reset_password(state, "forged-token", "a-new-long-password").await,
        400,
        "not valid",
    );
    assert_eq!(c.password_hash(ANN).await, hash);
    assert_eq!(c.sessions_of(ANN).await, 2);

    reset_password(state, &token, "a-new-long-password")
        .await
        .unwrap();
    assert_eq!(c.sessions_of(ANN).await, 0, "every session ended");
    assert!(c.can_log_in(ANN, "a-new-long-password").await);
    assert!(!c.can_log_in(ANN, PASSWORD).await);
    // Used: refused, and the password stays the one it set.
    let again = reset_password(state, &token, "yet-another-password").await;
    assert_4xx(again, 409, "already been used");
    assert!(c.can_log_in(ANN, "a-new-long-password").await);
}
both_dbs!(reset_once, a_reset_link_works_once_and_ends_every_session);

async fn an_expired_reset_link_is_refused(b: Backend) {
    let c = ctx(b).await;
    let token = reset_link(&c, ANN).await;
    // The link was issued long ago: it expired (no waiting in the test).
    let now = c.t.state.now();
    sqlx::query("UPDATE account_token SET created_at = $1, expires_at = $2")
        .bind(now - 7200)
        .bind(now - 3600)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    let hash = c.password_hash(ANN).await;
    let r = reset_password(&c.t.state, &token, "a-new-long-password").await;
    assert_4xx(r, 400, "has expired");
    assert_eq!(c.password_hash(ANN).await, hash);
    // One second before its expiry a fresh link still works.
    let fresh = reset_link(&c, ANN).await;
    c.t.clock
        .advance(chrono::Duration::seconds(accounts::RESET_VALID_SECS - 1));
    reset_password(&c.t.state, &fresh, "a-new-long-password")
        .await
        .unwrap();
}
both_dbs!(reset_expiry, an_expired_reset_link_is_refused);

async fn two_uses_of_one_link_at_once_let_exactly_one_through(b: Backend) {
    let c = ctx(b).await;
    let token = reset_link(&c, ANN).await;
    let (a, b2) = tokio::join!(
        reset_password(&c.t.state, &token, "first-new-password"),
        reset_password(&c.t.state, &token, "second-new-password"),
    );
    assert_eq!(
        [a.is_ok(), b2.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b2:?}"
    );
    let winner = if a.is_ok() {
        "first-new-password"
    } else {
        "second-new-password"
    };
    assert!(c.can_log_in(ANN, winner).await);
}
both_dbs!(
    reset_race,
    two_uses_of_one_link_at_once_let_exactly_one_through
);

async fn an_unknown_address_hears_the_same_and_gets_no_email(b: Backend) {
    let c = ctx(b).await;
    let router = server::router(c.t.state.clone());
    let ask = |email: &str| post("/api/forgot_password", &form(&[("email", email)]), None);
    let known = send(&router, ask(ANN)).await;
    let unknown = send(&router, ask("nobody@patients.test")).await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), known.status());
    let (k, u) = (
        common::web::text(known).await,
        common::web::text(unknown).await,
    );
    assert_eq!(k, u, "the same answer");
    let mails = c.mail_since(0).await;
    assert_eq!(
        mails.len(),
        1,
        "only the account's owner is emailed: {mails:?}"
    );
    assert_eq!(mails[0].0, ANN);
    assert_eq!(c.t.count("SELECT COUNT(*) FROM account_token").await, 1);
    // A malformed address is a 400 (it says nothing about accounts).
    let bad = send(&router, ask("not-an-address")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // A bad link through HTTP: a 400 with its message.
    let body = form(&[("token", "nope"), ("password", "a-new-long-password")]);
    let resp = send(&router, post("/api/reset_password", &body, None)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(common::web::text(resp).await.contains("not valid"));
}
both_dbs!(
    no_enumeration,
    an_unknown_address_hears_the_same_and_gets_no_email
);

async fn reset_requests_are_rate_limited_alike_for_every_address(b: Backend) {
    let c = ctx(b).await;
    let state = &c.t.state;
    for email in [ANN, "nobody@patients.test"] {
        for _ in 0..accounts::RESET_MAX_PER_ACCOUNT {
            request_password_reset(state, email, "10.0.0.2")
                .await
                .unwrap();
        }
        let r = request_password_reset(state, email, "10.0.0.2").await;
        assert_4xx(r, 429, "Too many password reset requests");
    }
    assert_eq!(
        c.mail_since(0).await.len() as i64,
        accounts::RESET_MAX_PER_ACCOUNT,
        "only the allowed requests for the real account sent mail"
    );
    // The window passes: the owner may ask again.
    c.t.clock.advance(chrono::Duration::seconds(3601));
    request_password_reset(state, ANN, "10.0.0.2")
        .await
        .unwrap();
}
both_dbs!(
    reset_rate_limit,
    reset_requests_are_rate_limited_alike_for_every_address
);
