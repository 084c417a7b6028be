//! Log in and patient self-registration.
//!
//! Each form is a plain form posting to its server function, so it works
//! before the app has loaded; once it runs, the form's submit dispatches
//! the action with the fields' values. Not `ActionForm`: it decodes the
//! form into the arguments with a query-string deserializer that made up
//! about 30 KB of the patient bundle for these two forms alone.

use super::error_alert;
use crate::api::accounts::{clinic_options, demo_logins, Login, Register};
use crate::error::AppError;
use crate::shell::use_auth;
use leptos::html::{Input, Select};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    // The fields are the browser's own (no `prop:value`): what a person
    // types before the app has loaded stays there when it hydrates, and a
    // plain form post sends it.
    let email = NodeRef::<Input>::new();
    let password = NodeRef::<Input>::new();
    let demos = Resource::new(|| (), |_| demo_logins());
    let pending = auth.login.pending();

    view! {
        <Title text="Log in" />
        <section class="card narrow">
            <h1>"Log in to Slotwise"</h1>
            {error_alert(auth.login.value())}
            {error_alert(posted_without_app::<Login>(auth.login))}
            <form class="form" method="post" action=Login::url() on:submit=move |ev| {
                ev.prevent_default();
                auth.login.dispatch(Login { email: val(email), password: val(password), next: next() });
            }>
                <input type="hidden" name="next" prop:value=next />
                <label for="login-email">"Email"</label>
                <input
                    id="login-email"
                    type="email"
                    name="email"
                    autocomplete="username"
                    required
                    node_ref=email
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                    node_ref=password
                />
                <button type="submit" class="primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
            <p><a href="/forgot-password">"Forgot password?"</a></p>
            <p>"New patient? " <a href="/register">"Create an account"</a></p>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = demos.await.unwrap_or_default();
                (!list.is_empty()).then(|| {
                    view! {
                        <section class="card narrow demo">
                            <h2>"Demo accounts"</h2>
                            <p class="muted">"Every demo account's password is " <code>"slotwise-demo"</code> "."</p>
                            <ul class="demo-list">
                                {list
                                    .into_iter()
                                    .map(|d| {
                                        let e = d.email.clone();
                                        view! {
                                            <li>
                                                <button
                                                    type="button"
                                                    class="link-button"
                                                    on:click=move |_| {
                                                        if let (Some(em), Some(pw)) = (email.get(), password.get()) {
                                                            em.set_value(&e);
                                                            pw.set_value("slotwise-demo");
                                                        }
                                                    }
                                                >
                                                    {d.email.clone()}
                                                </button>
                                                <span class="muted">" " {d.description}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })
            })}
        </Suspense>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = use_auth();
    let clinics = Resource::new(|| (), |_| clinic_options());
    let pending = auth.register.pending();
    // Coming from a clinic's booking page: back there afterwards, that clinic chosen.
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let clinic_slug = move || query.with(|q| q.get("clinic").unwrap_or_default());
    let (name, email, password) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let clinic = NodeRef::<Select>::new();
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        auth.register.dispatch(Register {
            name: val(name),
            email: val(email),
            password: val(password),
            clinic_id: clinic
                .get_untracked()
                .and_then(|c| c.value().parse().ok())
                .unwrap_or(0),
            next: next(),
        });
    };
    view! {
        <Title text="Create an account" />
        <section class="card narrow">
            <h1>"Create your patient account"</h1>
            {error_alert(auth.register.value())}
            {error_alert(posted_without_app::<Register>(auth.register))}
            <form class="form" method="post" action=Register::url() on:submit=send>
                <input type="hidden" name="next" prop:value=next />
                <label for="reg-name">"Full name"</label>
                <input id="reg-name" name="name" autocomplete="name" required maxlength="100" node_ref=name />
                <label for="reg-email">"Email"</label>
                <input id="reg-email" type="email" name="email" autocomplete="email" required node_ref=email />
                <label for="reg-password">"Password (at least 10 characters)"</label>
                <input
                    id="reg-password"
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    required
                    minlength="10"
                    node_ref=password
                />
                <label for="reg-clinic">"Clinic"</label>
                <Suspense fallback=|| view! { <select id="reg-clinic" disabled></select> }>
                    {move || Suspend::new(async move {
                        let list = clinics.await.unwrap_or_default();
                        view! {
                            <select id="reg-clinic" name="clinic_id" required node_ref=clinic>
                                {list
                                    .into_iter()
                                    .map(|c| {
                                        let chosen = c.slug == clinic_slug();
                                        view! { <option value=c.id.to_string() selected=chosen>{c.name}</option> }
                                    })
                                    .collect_view()}
                            </select>
                        }
                    })}
                </Suspense>
                <button type="submit" class="primary" disabled=move || pending.get()>
                    "Create account"
                </button>
            </form>
            <p>
                "Already registered? "
                <a href=move || {
                    let n = next();
                    if n.is_empty() { "/login".to_string() } else { format!("/login?next={n}") }
                }>"Log in"</a>
            </p>
        </section>
    }
}

/// A field's current value (what a plain form post would send).
fn val(n: NodeRef<Input>) -> String {
    n.get_untracked().map(|e| e.value()).unwrap_or_default()
}

/// The error of a form posted before the app had loaded: the server sends
/// the browser back here with it in the URL, which only an action created
/// under the router can read (the shell's `Auth` actions are created above
/// it). Hidden once the app has sent the form itself.
fn posted_without_app<S>(live: ServerAction<S>) -> Signal<Option<Result<S::Output, AppError>>>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let from_url = ServerAction::<S>::new();
    Signal::derive(move || {
        if live.value().with(Option::is_some) || live.pending().get() {
            None
        } else {
            from_url.value().get()
        }
    })
}
