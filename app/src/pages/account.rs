//! Account: the user's profile (name, mobile, time zone), email address
//! (changed by a link sent to the new one), password, and memberships.

use super::error_alert;
use super::password_reset::ok_status;
use crate::api::accounts::{my_profile, ChangeEmail, ChangePassword, SaveProfile};
use crate::model::{Me, Profile};
use crate::shell::{use_auth, use_hydrated, Guard, Need};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

/// The forms' actions, made outside the guard: a saved name reloads the
/// user, which renders the guarded page again, and their answers stay.
#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveProfile>,
    email: ServerAction<ChangeEmail>,
    password: ServerAction<ChangePassword>,
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let actions = Actions {
        save: ServerAction::new(),
        email: ServerAction::new(),
        password: ServerAction::new(),
    };
    // The header shows the name: read the user again once it changed (here,
    // outside the guard, which renders the page again when it does).
    let auth = use_auth();
    let save = actions.save;
    Effect::new(move |prev: Option<usize>| {
        let v = save.version().get();
        let ok = save.value().with_untracked(|r| matches!(r, Some(Ok(()))));
        if prev.is_some_and(|p| p != v) && ok {
            auth.me.refetch();
        }
        v
    });
    view! {
        <Title text="Account" />
        <Guard need=Need::Login children=move |me| view! { <Account me actions /> } />
    }
}

#[component]
fn Account(me: Me, actions: Actions) -> impl IntoView {
    let Actions {
        save,
        email,
        password,
    } = actions;
    let profile = Resource::new(
        move || (save.version().get(), email.version().get()),
        |_| my_profile(),
    );
    view! {
        <h1>"Account"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => view! {
                        <ProfileForm p=p.clone() save />
                        <EmailForm p email />
                    }
                    .into_any(),
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <PasswordForm change=password />
        <Memberships me />
    }
}

#[component]
fn ProfileForm(p: Profile, save: ServerAction<SaveProfile>) -> impl IntoView {
    let pending = save.pending();
    let hydrated = use_hydrated();
    view! {
        <section class="card" aria-labelledby="profile-h">
            <h2 id="profile-h">"Profile"</h2>
            {error_alert(save.value())}
            {ok_status(save.value(), |_| "Profile saved.".to_string())}
            <ActionForm action=save attr:class="form" attr:aria-label="Profile">
                <label for="profile-name">"Name"</label>
                <input id="profile-name" name="name" autocomplete="name" required maxlength="100" value=p.name />
                <label for="profile-mobile">"Mobile (with country code, for text messages)"</label>
                <input id="profile-mobile" type="tel" name="mobile" autocomplete="tel"
                    placeholder="+1 212 555 0100" value=p.mobile />
                <label for="profile-zone">"Time zone (IANA name, like America/New_York)"</label>
                <input id="profile-zone" name="time_zone" required maxlength="64" value=p.time_zone />
                <button type="submit" class="primary" disabled=move || !hydrated.get() || pending.get()>
                    "Save profile"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn EmailForm(p: Profile, email: ServerAction<ChangeEmail>) -> impl IntoView {
    let pending = email.pending();
    let hydrated = use_hydrated();
    view! {
        <section class="card" aria-labelledby="email-h">
            <h2 id="email-h">"Email address"</h2>
            <p>"Your email address is " <strong>{p.email}</strong> "."</p>
            {p.pending_email.map(|e| view! {
                <p class="alert info">
                    "Waiting for confirmation: " <strong>{e}</strong>
                    ". Open the link we sent there to use it."
                </p>
            })}
            {error_alert(email.value())}
            {ok_status(email.value(), |to| {
                format!("We sent a link to {to}. Your email address changes when you open it.")
            })}
            <ActionForm action=email attr:class="form" attr:aria-label="Change email">
                <label for="email-new">"New email address"</label>
                <input id="email-new" type="email" name="new_email" autocomplete="email" required />
                <label for="email-password">"Current password"</label>
                <input id="email-password" type="password" name="password"
                    autocomplete="current-password" required />
                <button type="submit" class="primary" disabled=move || !hydrated.get() || pending.get()>
                    "Send confirmation link"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn PasswordForm(change: ServerAction<ChangePassword>) -> impl IntoView {
    let pending = change.pending();
    let hydrated = use_hydrated();
    view! {
        <section class="card" aria-labelledby="password-h">
            <h2 id="password-h">"Password"</h2>
            {error_alert(change.value())}
            {ok_status(change.value(), |_| {
                "Your password was changed. Your other sessions were logged out.".to_string()
            })}
            <ActionForm action=change attr:class="form" attr:aria-label="Change password">
                <label for="pw-current">"Current password"</label>
                <input id="pw-current" type="password" name="current_password"
                    autocomplete="current-password" required />
                <label for="pw-new">"New password (at least 10 characters)"</label>
                <input id="pw-new" type="password" name="new_password"
                    autocomplete="new-password" required minlength="10" />
                <button type="submit" class="primary" disabled=move || !hydrated.get() || pending.get()>
                    "Change password"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Memberships(me: Me) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="roles-h">
            <h2 id="roles-h">"Clinics and roles"</h2>
            <table class="table">
                <thead>
                    <tr>
                        <th>"Clinic"</th>
                        <th>"Role"</th>
                    </tr>
                </thead>
                <tbody>
                    {me
                        .memberships
                        .iter()
                        .map(|m| {
                            view! {
                                <tr>
                                    <td>{m.clinic_name.clone()}</td>
                                    <td>{m.role.label()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {me.is_staff().then(|| view! {
                <p><a href="/account/notifications">"Notification settings"</a>" — choose email and SMS per event."</p>
            })}
        </section>
    }
}
