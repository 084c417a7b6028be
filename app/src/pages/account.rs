//! Account: the user's profile (name, mobile, time zone), email address
//! (changed by a link sent to the new one), password, and memberships.

use super::password_reset::{answer, form_action, val, Call, CallForm, FormAction};
use crate::api::accounts::my_profile;
use crate::model::{Me, Profile};
use crate::shell::{use_auth, Guard, Need};
use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;

/// The forms' actions, made outside the guard: a saved name reloads the
/// user, which renders the guarded page again, and their answers stay.
#[derive(Clone, Copy)]
struct Actions {
    save: FormAction,
    email: FormAction,
    password: FormAction,
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let actions = Actions {
        save: form_action(),
        email: form_action(),
        password: form_action(),
    };
    // The header shows the name: read the user again once it changed (here,
    // outside the guard, which renders the page again when it does).
    let auth = use_auth();
    let save = actions.save;
    Effect::new(move |prev: Option<usize>| {
        let v = save.version().get();
        let ok = save.value().with_untracked(|r| matches!(r, Some(Ok(_))));
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
fn ProfileForm(p: Profile, save: FormAction) -> impl IntoView {
    let (name, mobile, zone) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let call = move || Call::SaveProfile {
        name: val(name),
        mobile: val(mobile),
        time_zone: val(zone),
    };
    view! {
        <section class="card" aria-labelledby="profile-h">
            <h2 id="profile-h">"Profile"</h2>
            {answer(save)}
            <CallForm action=save label="Profile" button="Save profile" call>
                <label for="profile-name">"Name"</label>
                <input id="profile-name" autocomplete="name" required maxlength="100" value=p.name node_ref=name />
                <label for="profile-mobile">"Mobile (with country code, for text messages)"</label>
                <input id="profile-mobile" type="tel" autocomplete="tel"
                    placeholder="+1 212 555 0100" value=p.mobile node_ref=mobile />
                <label for="profile-zone">"Time zone (IANA name, like America/New_York)"</label>
                <input id="profile-zone" required maxlength="64" value=p.time_zone node_ref=zone />
            </CallForm>
        </section>
    }
}

#[component]
fn EmailForm(p: Profile, email: FormAction) -> impl IntoView {
    let (new_email, password) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let call = move || Call::ChangeEmail {
        new_email: val(new_email),
        password: val(password),
    };
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
            {answer(email)}
            <CallForm action=email label="Change email" button="Send confirmation link" call>
                <label for="email-new">"New email address"</label>
                <input id="email-new" type="email" autocomplete="email" required node_ref=new_email />
                <label for="email-password">"Current password"</label>
                <input id="email-password" type="password" autocomplete="current-password"
                    required node_ref=password />
            </CallForm>
        </section>
    }
}

#[component]
fn PasswordForm(change: FormAction) -> impl IntoView {
    let (current, new) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let call = move || Call::ChangePassword {
        current: val(current),
        new: val(new),
    };
    view! {
        <section class="card" aria-labelledby="password-h">
            <h2 id="password-h">"Password"</h2>
            {answer(change)}
            <CallForm action=change label="Change password" button="Change password" call>
                <label for="pw-current">"Current password"</label>
                <input id="pw-current" type="password" autocomplete="current-password"
                    required node_ref=current />
                <label for="pw-new">"New password (at least 10 characters)"</label>
                <input id="pw-new" type="password" autocomplete="new-password"
                    required minlength="10" node_ref=new />
            </CallForm>
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
