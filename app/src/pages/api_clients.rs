//! API clients (clinic admins, `/api-clients`): the clinic's FHIR API
//! clients with their access, when each was made and last used, and
//! whether it is revoked; a form that makes one and shows its token once;
//! Revoke, after a confirmation dialog.
//!
//! One resource and one Transition, like the audit page: the token shown
//! after a create lives outside them, so reloading the list keeps it.

use super::dialog::Modal;
use super::error_alert;
use crate::api::api_clients::{api_clients, CreateApiClient, RevokeApiClient};
use crate::domain::api_client::{ApiScope, NAME_MAX};
use crate::model::{ApiClientRow, ApiClientsPage, NewApiClient};
use crate::shell::{use_hydrated, Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiClientsPage() -> impl IntoView {
    view! {
        <Title text="API clients" />
        <h1>"API clients"</h1>
        <Guard need=Need::Staff children=|_me| view! { <ApiClients /> } />
    }
}

#[component]
fn ApiClients() -> impl IntoView {
    let clinic = RwSignal::new(None::<i64>);
    let create = ServerAction::<CreateApiClient>::new();
    let revoke = ServerAction::<RevokeApiClient>::new();
    let data = Resource::new(
        move || (clinic.get(), create.version().get(), revoke.version().get()),
        |(c, ..)| api_clients(c),
    );
    // The client being revoked (its id and name), while the dialog is open.
    let revoking = RwSignal::new(None::<(i64, String)>);
    let revoked = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            revoked.set(revoking.get_untracked().map(|r| r.1));
            revoking.set(None);
        }
    });
    view! {
        <p class="muted">"Systems that read this clinic's schedule or book into it through the FHIR API (" <code>"/fhir"</code> ") identify themselves with a client's token. Read only lets them read and search; read and write also lets them hold and book times. Revoke a client to stop its token at once."</p>
        <NewToken create />
        {move || revoked.get().map(|n| view! { <p class="alert ok" role="status">"“" {n} "” was revoked: its token no longer works."</p> })}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="alert error" role="alert">{e.message().to_string()}</p> }.into_any(),
                    Ok(p) => view! { <Clients p clinic create revoking /> }.into_any(),
                }
            })}
        </Transition>
        {move || revoking.get().map(|(id, name)| view! { <RevokeDialog id name revoke revoking /> })}
    }
}

/// The token of the client just made: shown once, until dismissed.
#[component]
fn NewToken(create: ServerAction<CreateApiClient>) -> impl IntoView {
    let shown = RwSignal::new(None::<NewApiClient>);
    Effect::new(move |_| {
        if let Some(Ok(n)) = create.value().get() {
            shown.set(Some(n));
        }
    });
    Effect::new(move |_| {
        if create.pending().get() {
            shown.set(None);
        }
    });
    move || {
        shown.get().map(|n| {
            view! {
                <section class="alert ok new-token" role="status" aria-labelledby="ac-token-title">
                    <h2 id="ac-token-title">"“" {n.name.clone()} "” was created (" {n.scope.label().to_lowercase()} ")"</h2>
                    <p><strong>"Copy its token now: it will not be shown again."</strong> " Only a fingerprint of it is kept, so if it is lost, revoke this client and make a new one."</p>
                    <label for="ac-token">"Token"</label>
                    <input id="ac-token" type="text" readonly class="feed-url" value=n.token.clone() />
                    <p class="muted">"Select it and copy (Ctrl+C, or ⌘C on a Mac). The system sends it with every request: " <code>"Authorization: Bearer <token>"</code></p>
                    <div class="actions">
                        <button type="button" on:click=move |_| shown.set(None)>"I have copied it"</button>
                    </div>
                </section>
            }
        })
    }
}

/// The clinic choice, the create form and the list.
#[component]
fn Clients(
    p: ApiClientsPage,
    clinic: RwSignal<Option<i64>>,
    create: ServerAction<CreateApiClient>,
    revoking: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let cid = p.clinic_id;
    view! {
        {(p.clinics.len() > 1).then(|| view! {
            <div class="filters"><div>
                <label for="ac-clinic">"Clinic"</label>
                <select id="ac-clinic" on:change=move |e| clinic.set(event_target_value(&e).parse().ok())>
                    {p.clinics.iter().map(|(id, n)| view! { <option value=id.to_string() selected=*id == cid>{n.clone()}</option> }).collect_view()}
                </select>
            </div></div>
        })}
        <section class="card">
            <h2>"New API client"</h2>
            <ActionForm action=create attr:class="form service-form" attr:aria-label="New API client">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <label for="ac-name">"Name"</label>
                <input id="ac-name" name="name" required maxlength=NAME_MAX.to_string() autocomplete="off"
                    placeholder="e.g. Front desk PMS" />
                <label for="ac-scope">"Access"</label>
                <select id="ac-scope" name="scope">
                    {ApiScope::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=s == ApiScope::Read>{s.label()}</option>
                    }).collect_view()}
                </select>
                <div class="actions">
                    <button type="submit" class="primary-inline" disabled=move || create.pending().get()>"Create API client"</button>
                </div>
            </ActionForm>
            {error_alert(create.value())}
        </section>
        <section class="card">
            <h2>"Clients"</h2>
            {if p.clients.is_empty() {
                view! { <p class="muted">"This clinic has no API clients."</p> }.into_any()
            } else {
                view! { <ClientTable rows=p.clients revoking /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn ClientTable(
    rows: Vec<ApiClientRow>,
    revoking: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    // Revoke opens a dialog, which needs the app: off until it runs.
    let hydrated = use_hydrated();
    view! {
        <table class="table" aria-label="API clients">
            <thead>
                <tr><th>"Name"</th><th>"Access"</th><th>"Created"</th><th>"Last used"</th><th>"Status"</th><th><span class="sr-only">"Actions"</span></th></tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let (id, name) = (r.id, r.name.clone());
                    let active = r.is_active();
                    let status = if active { "Active".to_string() } else { format!("Revoked {}", r.revoked) };
                    let by = r.created_by.map(|b| format!(" by {b}")).unwrap_or_default();
                    view! {
                        <tr data-client=id.to_string() data-active=active.to_string()>
                            <td data-label="Name" style="overflow-wrap:anywhere"><strong>{r.name}</strong></td>
                            <td data-label="Access">{r.scope.label()}</td>
                            <td data-label="Created">{r.created}{by}</td>
                            <td data-label="Last used">{r.last_used}</td>
                            <td data-label="Status">{status}</td>
                            <td>
                                {r.revoked_at.is_none().then(|| view! {
                                    <button type="button" class="danger" aria-label=format!("Revoke {name}") disabled=move || !hydrated.get()
                                        on:click=move |_| revoking.set(Some((id, name.clone())))>"Revoke"</button>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// "Revoke …?": the token stops working at once; it cannot be undone.
#[component]
fn RevokeDialog(
    id: i64,
    name: String,
    revoke: ServerAction<RevokeApiClient>,
    revoking: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let close = move || revoking.set(None);
    revoke.value().set(None);
    view! {
        <Modal label_id="ac-revoke-title" on_close=close>
            <h2 id="ac-revoke-title">"Revoke “" {name} "”?"</h2>
            <p>"Systems using this client's token will be refused from now on. This cannot be undone: to connect again, make a new client."</p>
            {error_alert(revoke.value())}
            <div class="actions">
                <button type="button" class="danger" disabled=move || revoke.pending().get()
                    on:click=move |_| { revoke.dispatch(RevokeApiClient { id }); }>"Revoke"</button>
                <button type="button" on:click=move |_| close()>"Keep it"</button>
            </div>
        </Modal>
    }
}
