//! The patient portal: book with a clinic, and follow one's requests live
//! (status, the clinic's response, and the meeting once accepted).

use super::error_alert;
use crate::api::clinic_options;
use crate::api::requests::{my_appointments, my_requests, WithdrawRequest};
use crate::domain::live::topic;
use crate::domain::policy::Decision;
use crate::domain::request::RequestStatus;
use crate::live::use_live_version;
use crate::model::{money, MyAppointment, MyAppointmentTab, MyRequest};
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
        <MyAppointments />
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

/// The patient's appointments by list, with what the clinic's policy says
/// about changing each one.
#[component]
fn MyAppointments() -> impl IntoView {
    let version = use_live_version(&[topic::APPOINTMENT]);
    let list = Resource::new(move || version.get(), |_| my_appointments());
    let tab = RwSignal::new(MyAppointmentTab::Upcoming);
    view! {
        <section class="card">
            <h2>"My appointments"</h2>
            <div class="segmented" role="group" aria-label="Which appointments">
                {MyAppointmentTab::ALL
                    .into_iter()
                    .map(|t| view! {
                        <button type="button" aria-pressed=move || (tab.get() == t).to_string() on:click=move |_| tab.set(t)>
                            {t.label()}
                        </button>
                    })
                    .collect_view()}
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let t = tab.get();
                    Suspend::new(async move {
                        match list.await {
                            Ok(all) => {
                                let shown: Vec<MyAppointment> = all.into_iter().filter(|a| a.tab == t).collect();
                                if shown.is_empty() {
                                    view! { <p class="muted">{format!("No {} appointments.", t.label().to_lowercase())}</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="plain requests">
                                            {shown.into_iter().map(|a| view! { <AppointmentCard a /> }).collect_view()}
                                        </ul>
                                    }
                                    .into_any()
                                }
                            }
                            Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

/// What the policy means for changing this appointment, in words.
fn policy_hint(a: &MyAppointment) -> Option<String> {
    let phone = if a.clinic_phone.is_empty() {
        "the clinic".to_string()
    } else {
        a.clinic_phone.clone()
    };
    match a.cancel? {
        Decision::Direct => Some(format!("You can cancel or reschedule online until {}.", a.cancel_deadline)),
        Decision::NeedsApproval => Some(format!(
            "Changes you ask for before {} go to the clinic for approval.",
            a.cancel_deadline
        )),
        Decision::InsideWindow { fee_cents } => Some(format!(
            "This appointment is within the clinic's notice period. To change it, please call {phone}.{}",
            if fee_cents > 0 { format!(" A late-cancellation fee of {} may apply.", money(fee_cents)) } else { String::new() }
        )),
    }
}

#[component]
fn AppointmentCard(a: MyAppointment) -> impl IntoView {
    let hint = policy_hint(&a);
    let upcoming = matches!(
        a.tab,
        MyAppointmentTab::Upcoming | MyAppointmentTab::Tentative
    );
    view! {
        <li class="request-card" data-appointment=a.id.to_string()>
            <div class="request-head">
                <strong>{a.service.clone()} " with " {a.provider.clone()}</strong>
                <span class=if upcoming { "pill ok" } else { "pill muted" }>{a.status.label()}</span>
            </div>
            <dl class="facts">
                <dt>"When"</dt>
                <dd>{a.when_clinic.clone()}</dd>
                {a.when_mine.clone().map(|w| view! { <dt>"Your time"</dt><dd>{w}</dd> })}
                <dt>"Clinic"</dt>
                <dd>{a.clinic_name.clone()}</dd>
                {(!a.location.is_empty()).then(|| view! { <dt>"Location"</dt><dd>{a.location.clone()}</dd> })}
                {(upcoming && !a.video_url.is_empty()).then(|| view! {
                    <dt>"Join"</dt>
                    <dd><a href=a.video_url.clone() rel="noopener" target="_blank">{a.video_url.clone()}</a></dd>
                    <dt>"Meeting ID"</dt>
                    <dd>{a.meeting_id.clone()} " · passcode " {a.passcode.clone()}</dd>
                })}
                {a.cancellation.clone().map(|c| view! { <dt>"Cancelled"</dt><dd>{c}</dd> })}
            </dl>
            {hint.map(|h| view! { <p class="muted small-text policy-hint">{h}</p> })}
            {a.rebook_link.clone().map(|href| view! {
                <a class="button-link" href=href>{format!("Book again with {}", a.provider)}</a>
            })}
        </li>
    }
}
