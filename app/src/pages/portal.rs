//! The patient portal: book with a clinic, and follow one's requests live
//! (status, the clinic's response, and the meeting once accepted).

use super::error_alert;
use crate::api::clinic_options;
use crate::api::requests::{my_requests, WithdrawRequest};
use crate::domain::live::topic;
use crate::domain::request::RequestStatus;
use crate::live::use_live_version;
use crate::model::MyRequest;
use crate::shell::{Guard, Need};
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
    let withdraw = ServerAction::<WithdrawRequest>::new();
    let version = use_live_version(&[topic::REQUEST, topic::APPOINTMENT]);
    let mine = Resource::new(
        move || (version.get(), withdraw.version().get()),
        |_| my_requests(),
    );
    let clinics = Resource::new(|| (), |_| clinic_options());

    view! {
        <h1>"Welcome, " {name}</h1>
        <div class="grid-2">
            <section class="card">
                <h2>"Book a session"</h2>
                <p class="muted">"Choose a clinic to see its services and free times, or to ask for a session now."</p>
                <Suspense fallback=|| view! { <p class="loading">"Loading clinics…"</p> }>
                    {move || Suspend::new(async move {
                        let list = clinics.await.unwrap_or_default();
                        view! {
                            <ul class="plain clinic-list">
                                {list.into_iter().map(|c| view! {
                                    <li><a class="button-link" href=format!("/book/{}", c.slug)>{c.name}</a> <span class="muted">{c.time_zone}</span></li>
                                }).collect_view()}
                            </ul>
                        }
                    })}
                </Suspense>
            </section>
            <section class="card">
                <h2>"My requests"</h2>
                {error_alert(withdraw.value())}
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match mine.await {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="muted">"You have no requests yet."</p> }.into_any()
                            }
                            Ok(list) => view! {
                                <ul class="plain requests">
                                    {list.into_iter().map(|r| view! { <RequestCard r withdraw /> }).collect_view()}
                                </ul>
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
fn RequestCard(r: MyRequest, withdraw: ServerAction<WithdrawRequest>) -> impl IntoView {
    let cls = match r.status {
        RequestStatus::Pending => "pill pending",
        RequestStatus::Accepted => "pill ok",
        _ => "pill muted",
    };
    let id = r.id;
    let pending = r.status == RequestStatus::Pending;
    view! {
        <li class="request-card" data-request=id.to_string()>
            <div class="request-head">
                <strong>"Request #" {id}</strong>
                <span class=cls>{r.status.label()}</span>
            </div>
            <dl class="facts">
                <dt>"Clinic"</dt>
                <dd>{r.clinic_name}</dd>
                <dt>"Service"</dt>
                <dd>{r.service_name}</dd>
                <dt>"Request Type"</dt>
                <dd>{r.mode.label()}</dd>
                <dt>"Request To"</dt>
                <dd>{r.request_to}</dd>
                {(!r.times.is_empty()).then(|| view! {
                    <dt>"Request Time(s)"</dt>
                    <dd>{r.times.join("; ")}</dd>
                })}
                {r.response.map(|text| view! {
                    <dt>"Response"</dt>
                    <dd class="response">{text} {r.responder.map(|w| view! { <span class="muted">" — " {w}</span> })}</dd>
                })}
            </dl>
            {r.meeting.map(|m| view! {
                <div class="meeting">
                    <strong>"Your meeting"</strong>
                    <dl class="facts">
                        <dt>"When"</dt>
                        <dd>{m.when}</dd>
                        <dt>"With"</dt>
                        <dd>{m.provider}</dd>
                        <dt>"Status"</dt>
                        <dd>{m.status.label()}</dd>
                        <dt>"Join"</dt>
                        <dd><a href=m.video_url.clone() rel="noopener" target="_blank">{m.video_url.clone()}</a></dd>
                        <dt>"Meeting ID"</dt>
                        <dd>{m.meeting_id}</dd>
                        <dt>"Passcode"</dt>
                        <dd>{m.passcode}</dd>
                    </dl>
                </div>
            })}
            {pending.then(|| view! {
                <button type="button" class="small" disabled=move || withdraw.pending().get()
                    on:click=move |_| { withdraw.dispatch(WithdrawRequest { request_id: id }); }>
                    "Withdraw request"
                </button>
            })}
        </li>
    }
}
