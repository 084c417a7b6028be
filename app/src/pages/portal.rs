//! The patient portal: request a session and follow one's requests live.

use super::error_alert;
use crate::api::{clinic_options, my_requests, RequestSessionNow};
use crate::domain::live::topic;
use crate::domain::request::RequestStatus;
use crate::live::use_live_version;
use crate::model::ClinicOption;
use crate::shell::{Guard, Need};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PortalPage() -> impl IntoView {
    view! {
        <Title text="Portal" />
        <Guard need=Need::Login children=|me| view! { <Portal name=me.name /> } />
    }
}

#[component]
fn Portal(name: String) -> impl IntoView {
    let request = ServerAction::<RequestSessionNow>::new();
    let version = use_live_version(&[topic::REQUEST]);
    let mine = Resource::new(
        move || (version.get(), request.version().get()),
        |_| my_requests(),
    );
    let clinics = Resource::new(|| (), |_| clinic_options());

    view! {
        <h1>"Welcome, " {name}</h1>
        <div class="grid-2">
            <section class="card">
                <h2>"Request a session now"</h2>
                <p class="muted">"A clinician who is available will pick up your request."</p>
                {error_alert(request.value())}
                {move || {
                    request
                        .value()
                        .get()
                        .and_then(|r| r.ok())
                        .map(|id| {
                            view! {
                                <p class="alert ok" role="status">
                                    "Request #" {id} " sent. You'll see the answer below."
                                </p>
                            }
                        })
                }}
                <Suspense fallback=|| view! { <p class="loading">"Loading clinics…"</p> }>
                    {move || Suspend::new(async move {
                        let list = clinics.await.unwrap_or_default();
                        view! { <RequestForm clinics=list action=request /> }
                    })}
                </Suspense>
            </section>
            <section class="card">
                <h2>"My requests"</h2>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match mine.await {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="muted">"You have no requests yet."</p> }.into_any()
                            }
                            Ok(list) => view! {
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th>"Request #"</th>
                                            <th>"Clinic"</th>
                                            <th>"Service"</th>
                                            <th>"Type"</th>
                                            <th>"Status"</th>
                                            <th>"Response"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|r| {
                                                let cls = match r.status {
                                                    RequestStatus::Pending => "pill pending",
                                                    RequestStatus::Accepted => "pill ok",
                                                    _ => "pill muted",
                                                };
                                                view! {
                                                    <tr>
                                                        <td data-label="Request #">{r.id}</td>
                                                        <td data-label="Clinic">{r.clinic_name}</td>
                                                        <td data-label="Service">{r.service_name}</td>
                                                        <td data-label="Type">{r.mode.label()}</td>
                                                        <td data-label="Status"><span class=cls>{r.status.label()}</span></td>
                                                        <td data-label="Response">{r.response.unwrap_or_default()}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                            .into_any(),
                            Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}

#[component]
fn RequestForm(
    clinics: Vec<ClinicOption>,
    action: ServerAction<RequestSessionNow>,
) -> impl IntoView {
    let first = clinics.first().map(|c| c.id).unwrap_or_default();
    let clinic = RwSignal::new(first);
    let clinics = StoredValue::new(clinics);
    let services = move || {
        clinics.with_value(|cs| {
            cs.iter()
                .find(|c| c.id == clinic.get())
                .map(|c| c.services.clone())
                .unwrap_or_default()
        })
    };
    let pending = action.pending();
    view! {
        <ActionForm action attr:class="form">
            <label for="req-clinic">"Clinic"</label>
            <select
                id="req-clinic"
                name="clinic_id"
                on:change=move |e| clinic.set(event_target_value(&e).parse().unwrap_or_default())
            >
                {clinics
                    .get_value()
                    .into_iter()
                    .map(|c| view! { <option value=c.id.to_string()>{c.name}</option> })
                    .collect_view()}
            </select>
            <label for="req-service">"Service"</label>
            <select id="req-service" name="service_id">
                {move || {
                    services()
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.id.to_string()>
                                    {format!("{} ({} min)", s.name, s.duration_minutes)}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
            <label for="req-note">"Note for the clinician (optional)"</label>
            <textarea id="req-note" name="note" maxlength="1000" rows="3"></textarea>
            <button type="submit" class="primary" disabled=move || pending.get()>
                "Request a session now"
            </button>
        </ActionForm>
    }
}
