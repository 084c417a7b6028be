//! The Dispatch board: pending session requests, oldest first, live, with a
//! ticking "Pending For" counter and the Assign dialog (Accept for a
//! provider at one requested time, or Decline, with a Response to Requester).

use super::dialog::Modal;
use super::error_alert;
use super::notice::{Message, Notice};
use crate::api::requests::{get_assign_options, get_dispatch_board, AcceptRequest, DeclineRequest};
use crate::domain::live::topic;
use crate::domain::request::{pending_for, RequestMode};
use crate::live::{use_live_version, use_ticking_clock};
use crate::model::{AssignOptions, DispatchRow};
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DispatchPage() -> impl IntoView {
    view! {
        <Title text="Dispatch" />
        <Guard need=Need::Staff children=|_me| view! { <Board /> } />
    }
}

#[component]
fn Board() -> impl IntoView {
    let clinic = RwSignal::new(None::<i64>);
    let assigning = RwSignal::new(None::<i64>);
    let accept = ServerAction::<AcceptRequest>::new();
    let decline = ServerAction::<DeclineRequest>::new();
    let version = use_live_version(&[topic::REQUEST, topic::AVAILABILITY]);
    let board = Resource::new(
        move || {
            (
                version.get(),
                clinic.get(),
                accept.version().get(),
                decline.version().get(),
            )
        },
        |(_, c, _, _)| get_dispatch_board(c),
    );
    let server_now = Signal::derive(move || board.get().and_then(|b| b.ok()).map(|b| b.now));
    let now = use_ticking_clock(server_now);
    // Close the dialog once its answer went through.
    Effect::new(move |_| {
        if matches!(accept.value().get(), Some(Ok(_)))
            || matches!(decline.value().get(), Some(Ok(_)))
        {
            assigning.set(None);
        }
    });
    // One banner: what the latest answer did.
    let notice = Notice::new();
    notice.on_ok(accept.value(), accept.pending(), |id| {
        Some(Message::ok(format!(
            "Accepted. Appointment #{id} is booked and the requester can see it."
        )))
    });
    notice.on_ok(decline.value(), decline.pending(), |_| {
        Some(Message::ok(
            "The request was declined. The requester can see your response.",
        ))
    });

    view! {
        <h1>"Dispatch"</h1>
        {notice.view()}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Ok(b) => {
                        let filter = (!b.clinics.is_empty()).then(|| {
                            view! {
                                <div class="filters">
                                    <div>
                                        <label for="dispatch-clinic">"Clinic"</label>
                                        <select
                                            id="dispatch-clinic"
                                            on:change=move |e| clinic.set(event_target_value(&e).parse().ok())
                                        >
                                            <option value="" selected=move || clinic.get().is_none()>"All clinics"</option>
                                            {b.clinics
                                                .iter()
                                                .map(|(id, name)| {
                                                    let id = *id;
                                                    view! {
                                                        <option value=id.to_string() selected=move || clinic.get() == Some(id)>
                                                            {name.clone()}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()}
                                        </select>
                                    </div>
                                </div>
                            }
                        });
                        let body = if b.rows.is_empty() {
                            view! { <p class="muted">"No pending requests."</p> }.into_any()
                        } else {
                            view! { <Rows rows=b.rows now assigning /> }.into_any()
                        };
                        view! { {filter} {body} }.into_any()
                    }
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || assigning.get().map(|id| view! { <AssignDialog request_id=id accept decline on_close=move || assigning.set(None) /> })}
    }
}

#[component]
fn Rows(
    rows: Vec<DispatchRow>,
    now: Signal<i64>,
    assigning: RwSignal<Option<i64>>,
) -> impl IntoView {
    view! {
        <table class="table dispatch" aria-label="Pending requests">
            <thead>
                <tr>
                    <th>"Request #"</th>
                    <th>"Requestor"</th>
                    <th>"Request Type"</th>
                    <th>"Patient Group"</th>
                    <th>"Host Group"</th>
                    <th>"Request To"</th>
                    <th>"Service"</th>
                    <th>"Request Pending For"</th>
                    <th>"Request Time(s)"</th>
                    <th>"Request Note"</th>
                    <th><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|r| {
                        let created = r.created_at;
                        let waited = move || pending_for(now.get() - created);
                        let times = if r.times.is_empty() {
                            // A Now request asks for the time it was made.
                            view! { <span>"Now, asked " {r.asked.clone()}</span> }.into_any()
                        } else {
                            view! { <ul class="plain">{r.times.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul> }.into_any()
                        };
                        let id = r.id;
                        view! {
                            <tr data-request=id.to_string()>
                                <td data-label="Request #">{id}</td>
                                <td data-label="Requestor">{r.requestor}</td>
                                <td data-label="Request Type">
                                    <span class=if r.mode == RequestMode::Now { "pill live-now" } else { "pill" }>{r.mode.label()}</span>
                                </td>
                                <td data-label="Patient Group">{r.patient_group}</td>
                                <td data-label="Host Group">{r.host_group} <br /> <span class="muted">{r.clinic_name}</span></td>
                                <td data-label="Request To">{r.request_to}</td>
                                <td data-label="Service">{r.service_name}</td>
                                <td data-label="Request Pending For">
                                    <span class="waited" class:late=move || waited().1 class:fresh=move || !waited().1>
                                        {move || waited().0}
                                    </span>
                                </td>
                                <td data-label="Request Time(s)">{times}</td>
                                <td data-label="Request Note">
                                    {r.note}
                                    {r.answers
                                        .into_iter()
                                        .filter(|a| !a.answer.is_empty())
                                        .map(|a| view! { <div class="answer"><span class="muted">{a.label} ": "</span>{a.answer}</div> })
                                        .collect_view()}
                                </td>
                                <td>
                                    <button type="button" class="small" on:click=move |_| assigning.set(Some(id))>
                                        "Assign"
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn AssignDialog(
    request_id: i64,
    accept: ServerAction<AcceptRequest>,
    decline: ServerAction<DeclineRequest>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let version = use_live_version(&[topic::APPOINTMENT, topic::AVAILABILITY]);
    let options = Resource::new(
        move || version.get(),
        move |_| get_assign_options(request_id),
    );
    view! {
        <Modal label_id="assign-title" on_close=on_close class="wide">
                <h2 id="assign-title">"Assign request #" {request_id}</h2>
                {error_alert(accept.value())}
                {error_alert(decline.value())}
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match options.await {
                            Ok(o) => view! { <AssignForm o accept decline on_close /> }.into_any(),
                            Err(e) => view! {
                                <p class="alert error" role="alert">{e.message().to_string()}</p>
                                <div class="actions"><button type="button" on:click=move |_| on_close()>"Close"</button></div>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
        </Modal>
    }
}

#[component]
fn AssignForm(
    o: AssignOptions,
    accept: ServerAction<AcceptRequest>,
    decline: ServerAction<DeclineRequest>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let first_provider = o
        .providers
        .iter()
        .find(|p| p.available)
        .or(o.providers.first())
        .map(|p| p.id);
    let provider = RwSignal::new(first_provider);
    let time = RwSignal::new(o.times.first().map(|t| t.start));
    let response = RwSignal::new(String::new());
    let pending = Signal::derive(move || accept.pending().get() || decline.pending().get());
    let request_id = o.request_id;
    let now_mode = o.mode == RequestMode::Now;
    let can_accept =
        move || provider.get().is_some() && (now_mode || time.get().is_some()) && !pending.get();
    let do_accept = move |_| {
        if let Some(p) = provider.get_untracked() {
            accept.dispatch(AcceptRequest {
                request_id,
                provider_id: p,
                start: time.get_untracked(),
                response: response.get_untracked(),
            });
        }
    };
    let do_decline = move |_| {
        decline.dispatch(DeclineRequest {
            request_id,
            response: response.get_untracked(),
        });
    };
    view! {
        <dl class="facts">
            <dt>"Requestor"</dt>
            <dd>{o.requestor}</dd>
            <dt>"Service"</dt>
            <dd>{format!("{} ({} min)", o.service_name, o.duration_minutes)}</dd>
            <dt>"Request To"</dt>
            <dd>{o.request_to}</dd>
            <dt>"Request Type"</dt>
            <dd>{o.mode.label()}</dd>
            {now_mode.then(|| view! { <dt>"Request Time(s)"</dt><dd>{format!("Now, asked {}", o.asked)}</dd> })}
            {(!o.note.is_empty()).then(|| view! { <dt>"Request Note"</dt><dd>{o.note.clone()}</dd> })}
            {o.answers
                .into_iter()
                .filter(|a| !a.answer.is_empty())
                .map(|a| view! { <dt>{a.label}</dt><dd>{a.answer}</dd> })
                .collect_view()}
        </dl>
        {(!now_mode).then(|| view! {
            <fieldset class="choices">
                <legend>{format!("Request Time(s) ({})", o.time_zone)}</legend>
                {o.times
                    .into_iter()
                    .map(|t| {
                        let start = t.start;
                        view! {
                            <label class="check">
                                <input type="radio" name="assign-time" checked=move || time.get() == Some(start) on:change=move |_| time.set(Some(start)) />
                                {t.label}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
        })}
        <fieldset class="choices">
            <legend>"Provider"</legend>
            {if o.providers.is_empty() {
                view! { <p class="muted">"This clinic has no providers."</p> }.into_any()
            } else {
                view! {
                    <table class="table assign">
                        <thead><tr><th>"Provider"</th><th>"Availability"</th><th>"Possible Conflicting Sessions"</th></tr></thead>
                        <tbody>
                            {o.providers
                                .into_iter()
                                .map(|p| {
                                    let id = p.id;
                                    view! {
                                        <tr>
                                            <td data-label="Provider">
                                                <label class="check">
                                                    <input type="radio" name="assign-provider" checked=move || provider.get() == Some(id) on:change=move |_| provider.set(Some(id)) />
                                                    {p.name}
                                                    {p.addressed.then(|| view! { <span class="pill">"Requested"</span> })}
                                                </label>
                                            </td>
                                            <td data-label="Availability">
                                                <span class=if p.available { "pill ok" } else { "pill muted" }>{if p.available { "Available" } else { "Not Available" }}</span>
                                                <div class="muted small-text">{p.availability}</div>
                                            </td>
                                            <td data-label="Possible Conflicting Sessions">
                                                {if p.conflicts.is_empty() {
                                                    view! { <span class="muted">"None"</span> }.into_any()
                                                } else {
                                                    view! { <ul class="plain">{p.conflicts.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul> }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </fieldset>
        <div class="form">
            <label for="assign-response">"Response to Requester"</label>
            <textarea id="assign-response" rows="3" maxlength="1000" on:input=move |e| response.set(event_target_value(&e))></textarea>
        </div>
        <div class="actions">
            <button type="button" on:click=move |_| on_close()>"Close"</button>
            <button type="button" class="danger" disabled=move || pending.get() on:click=do_decline>"Decline"</button>
            <button type="button" class="primary-inline" disabled=move || !can_accept() on:click=do_accept>"Accept"</button>
        </div>
    }
}
