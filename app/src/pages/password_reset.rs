//! The pages an emailed one-time link leads to, and the form that asks for
//! one: "Forgot password?" (`/forgot-password`), the reset link
//! (`/reset-password?token=…`) and the link confirming a new email address
//! (`/confirm-email?token=…`); and the forms all account pages share.
//!
//! Public pages of the patient bundle, which is size-sensitive: every form
//! here (and on Account) goes through ONE action type, `FormAction`, whose
//! input names the call. A `ServerAction` and `ActionForm` per server
//! function compiled their own copy of the action, form-decoding and
//! URL-error machinery into the bundle for each (about 160 KB of wasm for
//! seven forms).

use crate::api::accounts as api;
use crate::error::AppError;
use crate::shell::use_hydrated;
use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What an account form asks the server.
#[derive(Clone, Debug)]
pub enum Call {
    SaveProfile {
        name: String,
        mobile: String,
        time_zone: String,
    },
    ChangeEmail {
        new_email: String,
        password: String,
    },
    ChangePassword {
        current: String,
        new: String,
    },
    Forgot {
        email: String,
    },
    Reset {
        token: String,
        password: String,
    },
    Confirm {
        token: String,
    },
}

/// Runs the call; on success, the confirmation to show.
async fn run(call: Call) -> Result<String, AppError> {
    Ok(match call {
        Call::SaveProfile {
            name,
            mobile,
            time_zone,
        } => {
            api::save_profile(name, mobile, time_zone).await?;
            "Profile saved.".into()
        }
        Call::ChangeEmail {
            new_email,
            password,
        } => {
            let to = api::change_email(new_email, password).await?;
            format!("We sent a link to {to}. Your email address changes when you open it.")
        }
        Call::ChangePassword { current, new } => {
            api::change_password(current, new).await?;
            "Your password was changed. Your other sessions were logged out.".into()
        }
        Call::Forgot { email } => {
            api::forgot_password(email).await?;
            "If an account uses that address, we have emailed it a link to choose a new password. The link works once, within an hour.".into()
        }
        Call::Reset { token, password } => {
            api::reset_password(token, password).await?;
            "Your password was changed, and every session of your account was logged out.".into()
        }
        Call::Confirm { token } => {
            let email = api::confirm_email(token).await?;
            format!("Your account's email address is now {email}.")
        }
    })
}

pub type FormAction = Action<Call, Result<String, AppError>>;

pub fn form_action() -> FormAction {
    Action::new(|c: &Call| run(c.clone()))
}

/// Whether the action's last call succeeded.
pub fn succeeded(a: FormAction) -> bool {
    a.value().with(|v| matches!(v, Some(Ok(_))))
}

/// The action's answer: its error (an alert) or its confirmation.
pub fn answer(a: FormAction) -> impl IntoView {
    move || {
        a.value().get().map(|r| match r {
            Ok(m) => view! { <p class="alert ok" role="status">{m}</p> }.into_any(),
            Err(e) => view! { <p class="alert error" role="alert">{e.message().to_string()}</p> }
                .into_any(),
        })
    }
}

/// A field's current value.
pub fn val(n: NodeRef<Input>) -> String {
    n.get_untracked().map(|e| e.value()).unwrap_or_default()
}

/// A form that sends `call()` when submitted. Its button waits for the app
/// (the answer is shown by it) and for the previous call.
#[component]
pub fn CallForm(
    action: FormAction,
    label: &'static str,
    button: &'static str,
    call: impl Fn() -> Call + 'static,
    children: Children,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let pending = action.pending();
    view! {
        <form class="form" aria-label=label on:submit=move |ev| {
            ev.prevent_default();
            action.dispatch(call());
        }>
            {children()}
            <button type="submit" class="primary" disabled=move || !hydrated.get() || pending.get()>
                {button}
            </button>
        </form>
    }
}

/// The link's token, from the address the email pointed at.
fn token_from_url() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || query.with(|q| q.get("token").unwrap_or_default())
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let ask = form_action();
    let email = NodeRef::<Input>::new();
    view! {
        <Title text="Forgot password" />
        <section class="card narrow">
            <h1>"Forgot your password?"</h1>
            <p>"Enter the email address of your account. We will send it a link to choose a new password."</p>
            {answer(ask)}
            <CallForm action=ask label="Forgot password" button="Email me a reset link"
                call=move || Call::Forgot { email: val(email) }>
                <label for="forgot-email">"Email"</label>
                <input id="forgot-email" type="email" autocomplete="email" required node_ref=email />
            </CallForm>
            <p><a href="/login">"Back to log in"</a></p>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let reset = form_action();
    let token = token_from_url();
    let password = NodeRef::<Input>::new();
    view! {
        <Title text="Choose a new password" />
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            {answer(reset)}
            <Show
                when=move || succeeded(reset)
                fallback=move || view! {
                    <CallForm action=reset label="New password" button="Set new password"
                        call=move || Call::Reset { token: token(), password: val(password) }>
                        <label for="reset-password">"New password (at least 10 characters)"</label>
                        <input id="reset-password" type="password" autocomplete="new-password"
                            required minlength="10" node_ref=password />
                    </CallForm>
                    <p><a href="/forgot-password">"Ask for a new link"</a></p>
                }
            >
                <p><a href="/login">"Log in with your new password"</a></p>
            </Show>
        </section>
    }
}

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let confirm = form_action();
    let token = token_from_url();
    view! {
        <Title text="Confirm your email address" />
        <section class="card narrow">
            <h1>"Confirm your new email address"</h1>
            {answer(confirm)}
            // A button, not on opening: mail scanners that fetch every link
            // must not confirm an address nobody read.
            <CallForm action=confirm label="Confirm email" button="Confirm email address"
                call=move || Call::Confirm { token: token() }>
                ""
            </CallForm>
            <p><a href="/account">"Go to your account"</a></p>
        </section>
    }
}
