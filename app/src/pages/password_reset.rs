//! The pages an emailed one-time link leads to, and the form that asks for
//! one: "Forgot password?" (`/forgot-password`), the reset link
//! (`/reset-password?token=…`) and the link confirming a new email address
//! (`/confirm-email?token=…`). Public pages of the patient bundle: plain
//! forms, no dialogs, nothing the bundle does not already carry.

use super::error_alert;
use crate::api::accounts::{ConfirmEmail, ForgotPassword, ResetPassword};
use crate::error::AppError;
use crate::shell::use_hydrated;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A confirmation shown once the action succeeded.
pub fn ok_status<S, T>(
    value: S,
    text: impl Fn(T) -> String + Send + Sync + 'static,
) -> impl IntoView
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    T: 'static,
{
    move || {
        value
            .get()
            .and_then(Result::ok)
            .map(|v| view! { <p class="alert ok" role="status">{text(v)}</p> })
    }
}

/// The link's token, from the address the email pointed at.
fn token_from_url() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || query.with(|q| q.get("token").unwrap_or_default())
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let ask = ServerAction::<ForgotPassword>::new();
    let pending = ask.pending();
    // The answer is shown by the app, so the button waits for it.
    let hydrated = use_hydrated();
    view! {
        <Title text="Forgot password" />
        <section class="card narrow">
            <h1>"Forgot your password?"</h1>
            <p>"Enter the email address of your account. We will send it a link to choose a new password."</p>
            {error_alert(ask.value())}
            {ok_status(ask.value(), |_| {
                "If an account uses that address, we have emailed it a link to choose a new password. The link works once, within an hour.".to_string()
            })}
            <ActionForm action=ask attr:class="form">
                <label for="forgot-email">"Email"</label>
                <input id="forgot-email" type="email" name="email" autocomplete="email" required />
                <button type="submit" class="primary" disabled=move || !hydrated.get() || pending.get()>
                    "Email me a reset link"
                </button>
            </ActionForm>
            <p><a href="/login">"Back to log in"</a></p>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let pending = reset.pending();
    let hydrated = use_hydrated();
    let token = token_from_url();
    let done = move || matches!(reset.value().get(), Some(Ok(())));
    view! {
        <Title text="Choose a new password" />
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            {error_alert(reset.value())}
            <Show
                when=done
                fallback=move || view! {
                    <ActionForm action=reset attr:class="form">
                        <input type="hidden" name="token" prop:value=token />
                        <label for="reset-password">"New password (at least 10 characters)"</label>
                        <input id="reset-password" type="password" name="password"
                            autocomplete="new-password" required minlength="10" />
                        <button type="submit" class="primary" disabled=move || !hydrated.get() || pending.get()>
                            "Set new password"
                        </button>
                    </ActionForm>
                    <p><a href="/forgot-password">"Ask for a new link"</a></p>
                }
            >
                <p class="alert ok" role="status">
                    "Your password was changed, and every session of your account was logged out."
                </p>
                <p><a href="/login">"Log in with your new password"</a></p>
            </Show>
        </section>
    }
}

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmEmail>::new();
    let pending = confirm.pending();
    let hydrated = use_hydrated();
    let token = token_from_url();
    view! {
        <Title text="Confirm your email address" />
        <section class="card narrow">
            <h1>"Confirm your new email address"</h1>
            {error_alert(confirm.value())}
            {ok_status(confirm.value(), |email| {
                format!("Your account's email address is now {email}.")
            })}
            // A button, not on opening: mail scanners that fetch every link
            // must not confirm an address nobody read.
            <ActionForm action=confirm attr:class="form">
                <input type="hidden" name="token" prop:value=token />
                <button type="submit" class="primary" disabled=move || !hydrated.get() || pending.get()>
                    "Confirm email address"
                </button>
            </ActionForm>
            <p><a href="/account">"Go to your account"</a></p>
        </section>
    }
}
