//! Staff pages. The Requests view is built in its own issue; the Dispatch
//! board lists the pending session requests of the user's clinics, live.

use crate::api::dispatch_queue;
use crate::domain::live::topic;
use crate::live::use_live_version;
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn StaffPage(title: &'static str, intro: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <Guard
            need=Need::Staff
            children=move |_me| {
                view! {
                    <h1>{title}</h1>
                    <p class="muted">{intro}</p>
                }
            }
        />
    }
}

#[component]
pub fn RequestsPage() -> impl IntoView {
    view! { <StaffPage title="Appointment Requests" intro="Patients' reschedule and cancellation requests." /> }
}

#[component]
pub fn DispatchPage() -> impl IntoView {
    view! {
        <Title text="Dispatch" />
        <Guard need=Need::Staff children=|_me| view! { <DispatchBoard /> } />
    }
}

#[component]
fn DispatchBoard() -> impl IntoView {
    let version = use_live_version(&[topic::REQUEST]);
    let rows = Resource::new(move || version.get(), |_| dispatch_queue(None));
    view! {
        <h1>"Dispatch"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="muted">"No pending requests."</p> }.into_any()
                    }
                    Ok(list) => view! {
                        <table class="table" aria-label="Pending requests">
                            <thead>
                                <tr>
                                    <th>"Request #"</th>
                                    <th>"Requestor"</th>
                                    <th>"Request Type"</th>
                                    <th>"Clinic"</th>
                                    <th>"Request To"</th>
                                    <th>"Service"</th>
                                    <th>"Request Note"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list
                                    .into_iter()
                                    .map(|r| {
                                        view! {
                                            <tr>
                                                <td data-label="Request #">{r.id}</td>
                                                <td data-label="Requestor">{r.requestor}</td>
                                                <td data-label="Request Type">{r.mode.label()}</td>
                                                <td data-label="Clinic">{r.clinic_name}</td>
                                                <td data-label="Request To">{r.request_to}</td>
                                                <td data-label="Service">{r.service_name}</td>
                                                <td data-label="Request Note">{r.note}</td>
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
    }
}
