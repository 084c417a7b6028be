//! The patient portal: book with a clinic, and follow one's requests live
//! (status, the clinic's response, and the meeting once accepted).

use super::error_alert;
use super::patient_calls::{confirmation, patient_action, PatientAction, PatientCall};
use crate::api::accounts::clinic_options;
use crate::api::portal::reschedule_times;
use crate::api::requests::{my_appointments, my_requests};
use crate::domain::live::topic;
use crate::domain::modality::Modality;
use crate::domain::policy::Decision;
use crate::domain::request::RequestStatus;
use crate::live::use_live_version;
use crate::model::{money, MyAppointment, MyAppointmentTab, MyRequest, ProposalAnswer};
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
    let withdraw = patient_action();
    let version = use_live_version(&[topic::REQUEST, topic::APPOINTMENT]);
    let mine = Resource::new(
        move || (version.get(), withdraw.version().get()),
        |_| my_requests(),
    );
    let clinics = Resource::new(|| (), |_| clinic_options());

    view! {
        <h1>"Welcome, " {name}</h1>
        <MyAppointments />
        <crate::pages::waitlist::MyWaitlistSection />
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
fn RequestCard(r: MyRequest, withdraw: PatientAction) -> impl IntoView {
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
                        // Only a video meeting has a join link.
                        {(!m.video_url.is_empty()).then(|| view! {
                            <dt>"Join"</dt>
                            <dd><a href=m.video_url.clone() rel="noopener" target="_blank">{m.video_url.clone()}</a></dd>
                            <dt>"Meeting ID"</dt>
                            <dd>{m.meeting_id}</dd>
                            <dt>"Passcode"</dt>
                            <dd>{m.passcode}</dd>
                        })}
                    </dl>
                </div>
            })}
            {pending.then(|| view! {
                <button type="button" class="small" disabled=move || withdraw.pending().get()
                    on:click=move |_| { withdraw.dispatch(PatientCall::Withdraw { request_id: id }); }>
                    "Withdraw request"
                </button>
            })}
        </li>
    }
}

/// The patient's own changes: cancel, reschedule, answer a proposal.
#[derive(Clone, Copy)]
struct Changes {
    cancel: PatientAction,
    reschedule: PatientAction,
    proposal: PatientAction,
}

/// The patient's appointments by list, with what the clinic's policy says
/// about changing each one.
#[component]
fn MyAppointments() -> impl IntoView {
    let changes = Changes {
        cancel: patient_action(),
        reschedule: patient_action(),
        proposal: patient_action(),
    };
    let version = use_live_version(&[topic::APPOINTMENT, topic::REQUEST]);
    let list = Resource::new(
        move || {
            (
                version.get(),
                changes.cancel.version().get(),
                changes.reschedule.version().get(),
                changes.proposal.version().get(),
            )
        },
        |_| my_appointments(),
    );
    let tab = RwSignal::new(MyAppointmentTab::Upcoming);
    let hydrated = crate::shell::use_hydrated();
    // Which card has which form open: (appointment, "cancel" | "reschedule").
    let open = RwSignal::new(None::<(i64, &'static str)>);
    let banner = RwSignal::new(None::<String>);
    for action in [changes.cancel, changes.reschedule, changes.proposal] {
        Effect::new(move |_| {
            if let Some(text) = confirmation(action) {
                banner.set(Some(text));
                open.set(None);
            }
        });
    }
    // Only the latest change's outcome: a new one clears the old banner.
    let pending = (
        changes.cancel.pending(),
        changes.reschedule.pending(),
        changes.proposal.pending(),
    );
    Effect::new(move |_| {
        if pending.0.get() || pending.1.get() || pending.2.get() {
            banner.set(None);
        }
    });
    // A change's outcome shows above the list: bring it into view, since the
    // card the patient used may have moved to another tab.
    let result = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if banner.with(Option::is_some) || matches!(changes.proposal.value().get(), Some(Err(_))) {
            super::reveal(result);
        }
    });
    view! {
        <section class="card">
            <h2>"My appointments"</h2>
            <p class="muted"><a href="/export/my-record.csv" download>"Download my appointments and requests (CSV)"</a></p>
            <div class="change-result" node_ref=result>
                {move || banner.get().map(|t| view! { <p class="alert ok" role="status">{t}</p> })}
                {error_alert(changes.proposal.value())}
            </div>
            // Every action here needs the app: disabled until it runs.
            <fieldset class="plain" disabled=move || !hydrated.get()>
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
                                            {shown.into_iter().map(|a| view! { <AppointmentCard a changes open /> }).collect_view()}
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
            </fieldset>
        </section>
    }
}

fn phone_of(a: &MyAppointment) -> String {
    if a.clinic_phone.is_empty() {
        "the clinic".to_string()
    } else {
        a.clinic_phone.clone()
    }
}

/// What the policy means for changing this appointment, in words.
fn policy_hint(a: &MyAppointment) -> Option<String> {
    match a.cancel? {
        Decision::Direct => Some(format!("You can cancel or reschedule online until {}.", a.cancel_deadline)),
        Decision::NeedsApproval => Some(format!(
            "Changes you ask for before {} go to the clinic for approval.",
            a.cancel_deadline
        )),
        Decision::InsideWindow { fee_cents } => Some(format!(
            "This appointment is within the clinic's notice period. To change it, please call {}.{}",
            phone_of(a),
            if fee_cents > 0 { format!(" A late-cancellation fee of {} may apply.", money(fee_cents)) } else { String::new() }
        )),
    }
}

#[component]
fn AppointmentCard(
    a: MyAppointment,
    changes: Changes,
    open: RwSignal<Option<(i64, &'static str)>>,
) -> impl IntoView {
    let hint = policy_hint(&a);
    let upcoming = matches!(
        a.tab,
        MyAppointmentTab::Upcoming | MyAppointmentTab::Tentative
    );
    let id = a.id;
    // The patient may change it themself: booked, not started, nothing asked yet.
    let changeable =
        a.tab == MyAppointmentTab::Upcoming && a.cancel.is_some() && a.pending_change.is_none();
    let proposal = a.proposed_instead_of.clone();
    let which = move || open.get().filter(|(i, _)| *i == id).map(|(_, w)| w);
    let toggle = move |w: &'static str| {
        open.update(|o| {
            *o = if *o == Some((id, w)) {
                None
            } else {
                Some((id, w))
            }
        })
    };
    let card = a.clone();
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
                <dt>{match a.modality { Modality::InPerson => "Address", Modality::Phone => "Phone", Modality::Video => "Location" }}</dt>
                <dd class="place">{a.location.clone()}</dd>
                // A video meeting's link and credentials; nothing of the
                // kind for an in-person or phone appointment.
                {(upcoming && a.modality.has_meeting_link() && !a.video_url.is_empty()).then(|| view! {
                    <dt>"Join"</dt>
                    <dd><a href=a.video_url.clone() rel="noopener" target="_blank">{a.video_url.clone()}</a></dd>
                    <dt>"Meeting ID"</dt>
                    <dd>{a.meeting_id.clone()} " · passcode " {a.passcode.clone()}</dd>
                })}
                {a.cancellation.clone().map(|c| view! { <dt>"Cancelled"</dt><dd>{c}</dd> })}
                {a.clinic_answer.clone().map(|c| view! { <dt>"Clinic's answer"</dt><dd class="response">{c}</dd> })}
            </dl>
            {proposal.map(|was| view! {
                <div class="alert warn proposal" role="note">
                    <p>{format!("The clinic proposes this new time instead of {was}. Please approve it or cancel the appointment.")}</p>
                    <div class="actions">
                        <button type="button" class="primary" disabled=move || changes.proposal.pending().get()
                            on:click=move |_| { changes.proposal.dispatch(PatientCall::Answer { appointment_id: id, answer: ProposalAnswer::Approve }); }>
                            "Approve new time"
                        </button>
                        <button type="button" class="danger" disabled=move || changes.proposal.pending().get()
                            on:click=move |_| { changes.proposal.dispatch(PatientCall::Answer { appointment_id: id, answer: ProposalAnswer::Cancel }); }>
                            "Cancel appointment"
                        </button>
                    </div>
                </div>
            })}
            {a.answer_by.clone().map(|t| view! { <p class="alert info answer-by" role="note">{t}</p> })}
            {a.pending_change.clone().map(|t| view! { <p class="alert info pending-change" role="note">{t}</p> })}
            {hint.filter(|_| changeable).map(|h| view! { <p class="muted small-text policy-hint">{h}</p> })}
            {changeable.then(|| view! {
                <div class="actions">
                    <button type="button" aria-expanded=move || (which() == Some("cancel")).to_string() on:click=move |_| toggle("cancel")>"Cancel…"</button>
                    <button type="button" aria-expanded=move || (which() == Some("reschedule")).to_string() on:click=move |_| toggle("reschedule")>"Reschedule…"</button>
                </div>
            })}
            {move || match which() {
                Some("cancel") => Some(view! { <CancelForm a=card.clone() changes /> }.into_any()),
                Some("reschedule") => Some(view! { <RescheduleForm a=card.clone() changes /> }.into_any()),
                _ => None,
            }}
            {a.rebook_link.clone().map(|href| view! {
                <a class="button-link" href=href>{format!("Book again with {}", a.provider)}</a>
            })}
        </li>
    }
}

/// The words and button for sending a change under the policy's decision.
fn decision_text(
    d: Decision,
    what: &str,
    a: &MyAppointment,
) -> (Option<String>, &'static str, bool) {
    match (d, what) {
        (Decision::Direct, "cancel") => (Some("Your appointment will be cancelled at once.".into()), "Cancel appointment", false),
        (Decision::Direct, _) => (Some("Your appointment will move at once.".into()), "Move appointment", false),
        (Decision::NeedsApproval, "cancel") => (Some("The clinic approves cancellations; your request goes to them.".into()), "Send cancellation request", false),
        (Decision::NeedsApproval, _) => (Some("The clinic approves changes; your request goes to them.".into()), "Send reschedule request", false),
        (Decision::InsideWindow { fee_cents }, _) => (
            Some(format!(
                "This appointment is within the clinic's notice period. Please call {} to {what} it.{} You can still send your request; the clinic will see it is late.",
                phone_of(a),
                if fee_cents > 0 && what == "cancel" { format!(" A late-cancellation fee of {} may apply.", money(fee_cents)) } else { String::new() }
            )),
            "Send request anyway",
            true,
        ),
    }
}

#[component]
fn CancelForm(a: MyAppointment, changes: Changes) -> impl IntoView {
    let Some(d) = a.cancel else {
        return ().into_any();
    };
    let (text, button, anyway) = decision_text(d, "cancel", &a);
    let reason = RwSignal::new(String::new());
    let action = changes.cancel;
    let id = a.id;
    view! {
        <div class="change-form" role="group" aria-label="Cancel this appointment">
            {text.map(|t| view! { <p class=if anyway { "alert warn" } else { "muted" }>{t}</p> })}
            {error_alert(action.value())}
            <label for=format!("cancel-reason-{id}")>"Reason (optional)"</label>
            <textarea id=format!("cancel-reason-{id}") rows="2" maxlength="255" on:input=move |e| reason.set(event_target_value(&e))></textarea>
            <button type="button" class="danger" disabled=move || action.pending().get()
                on:click=move |_| {
                    action.dispatch(PatientCall::Cancel {
                        appointment_id: id,
                        reason: reason.get_untracked(),
                        anyway,
                    });
                }>
                {button}
            </button>
        </div>
    }
    .into_any()
}

#[component]
fn RescheduleForm(a: MyAppointment, changes: Changes) -> impl IntoView {
    let Some(d) = a.reschedule else {
        return ().into_any();
    };
    let (text, button, anyway) = decision_text(d, "reschedule", &a);
    let id = a.id;
    let times = Resource::new(move || id, reschedule_times);
    let chosen = RwSignal::new(0i64);
    let note = RwSignal::new(String::new());
    let action = changes.reschedule;
    view! {
        <div class="change-form" role="group" aria-label="Reschedule this appointment">
            {text.map(|t| view! { <p class=if anyway { "alert warn" } else { "muted" }>{t}</p> })}
            {error_alert(action.value())}
            <Suspense fallback=|| view! { <p class="loading">"Loading free times…"</p> }>
                {move || Suspend::new(async move {
                    match times.await {
                        Ok(days) if days.is_empty() => view! { <p class="muted">"No free times with this provider can be booked online just now. Please call the clinic."</p> }.into_any(),
                        Ok(days) => view! {
                            <label for=format!("reschedule-time-{id}")>"New time (clinic time)"</label>
                            <select id=format!("reschedule-time-{id}") on:change=move |e| chosen.set(event_target_value(&e).parse().unwrap_or(0))>
                                <option value="0">"Choose a time…"</option>
                                {days.into_iter().map(|d| view! {
                                    <optgroup label=d.label.clone()>
                                        {d.slots.into_iter().map(|s| view! {
                                            <option value=s.start.to_string()>{format!("{} {}", d.label, s.label)}</option>
                                        }).collect_view()}
                                    </optgroup>
                                }).collect_view()}
                            </select>
                        }.into_any(),
                        Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <label for=format!("reschedule-note-{id}")>"Note to the clinic (optional)"</label>
            <textarea id=format!("reschedule-note-{id}") rows="2" maxlength="255" on:input=move |e| note.set(event_target_value(&e))></textarea>
            <button type="button" class="primary" disabled=move || chosen.get() == 0 || action.pending().get()
                on:click=move |_| {
                    action.dispatch(PatientCall::Reschedule {
                        appointment_id: id,
                        start: chosen.get_untracked(),
                        note: note.get_untracked(),
                        anyway,
                    });
                }>
                {button}
            </button>
        </div>
    }
    .into_any()
}
