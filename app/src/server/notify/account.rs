//! The account emails: a password reset link, and the link that confirms
//! a new email address. They concern one person, not an appointment or a
//! clinic: always email (nobody opts out of their own reset link), no
//! calendar, and no clinic's Outbox page lists them. They go through the
//! outbox like every other message, so they are written in the same
//! transaction as the token they carry and delivered with retries.

use super::super::change::{Change, OutboxMessage};
use super::render::esc;
use crate::error::AppResult;

/// Which account email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountMail {
    PasswordReset,
    ConfirmEmail,
}

impl AccountMail {
    /// The outbox `event` code.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountMail::PasswordReset => "password_reset",
            AccountMail::ConfirmEmail => "email_confirm",
        }
    }
}

/// (subject, plain text, HTML) of an account email to `name`, with the
/// one-time `url`, valid for `valid_minutes`.
pub fn render(
    kind: AccountMail,
    name: &str,
    url: &str,
    valid_minutes: i64,
) -> (String, String, String) {
    let (subject, intro, action, ignore) = match kind {
        AccountMail::PasswordReset => (
            "Reset your Slotwise password",
            "Someone (we hope you) asked to reset the password of your Slotwise account.",
            "Choose a new password",
            "If you did not ask, ignore this email: your password stays as it is.",
        ),
        AccountMail::ConfirmEmail => (
            "Confirm your new email address",
            "You asked to use this address for your Slotwise account.",
            "Confirm this email address",
            "If you did not ask, ignore this email: the account keeps its current address.",
        ),
    };
    let limit = format!("The link works once, within {valid_minutes} minutes.");
    let text = format!("Hello {name},\n\n{intro}\n\n{action}: {url}\n\n{limit}\n{ignore}\n");
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;color:#1f2933\">\
         <p>Hello {},</p><p>{}</p><p><a href=\"{}\">{}</a></p><p>{}<br>{}</p></body></html>",
        esc(name),
        esc(intro),
        esc(url),
        esc(action),
        esc(&limit),
        esc(ignore)
    );
    (subject.to_string(), text, html)
}

/// One account email to write to the outbox.
pub struct AccountNotice<'a> {
    pub kind: AccountMail,
    pub user_id: i64,
    pub name: &'a str,
    /// Where it goes (for a new address: that address, not the account's).
    pub to: &'a str,
    /// The app path with the token, e.g. `/reset-password?token=…`.
    pub path: &'a str,
    /// The stored token's hash: one message per token.
    pub token_hash: &'a str,
    pub valid_minutes: i64,
}

/// Writes the email to the outbox, inside `change`'s transaction.
pub async fn queue(change: &mut Change, n: AccountNotice<'_>) -> AppResult<()> {
    let url = format!("{}{}", change.base_url(), n.path);
    let (subject, body_text, body_html) = render(n.kind, n.name, &url, n.valid_minutes);
    change
        .outbox(OutboxMessage {
            recipient_user_id: Some(n.user_id),
            recipient: n.to.to_string(),
            channel: "email",
            event: n.kind.as_str().to_string(),
            subject,
            body_text,
            body_html,
            attachment: None,
            attachment_extra: None,
            idempotency_key: format!("{}/{}", n.kind.as_str(), n.token_hash),
            clinic_id: None,
            appointment_id: None,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_email_carries_the_link_and_says_it_is_one_time() {
        let (subject, text, html) = render(
            AccountMail::PasswordReset,
            "Ann <Smith>",
            "https://clinic.example/reset-password?token=abc",
            60,
        );
        assert_eq!(subject, "Reset your Slotwise password");
        assert!(
            text.contains("Choose a new password: https://clinic.example/reset-password?token=abc")
        );
        assert!(text.contains("works once, within 60 minutes"));
        assert!(html.contains("href=\"https://clinic.example/reset-password?token=abc\""));
        assert!(html.contains("Hello Ann &lt;Smith&gt;,"));
    }

    #[test]
    fn a_confirmation_email_says_what_it_confirms() {
        let (subject, text, _) =
            render(AccountMail::ConfirmEmail, "Ben", "http://x/c?token=t", 1440);
        assert_eq!(subject, "Confirm your new email address");
        assert!(text.contains("Confirm this email address: http://x/c?token=t"));
    }
}
