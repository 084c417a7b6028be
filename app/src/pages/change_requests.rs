//! Appointment Requests: patients' pending reschedule and cancellation
//! requests, oldest first and live, with the original and requested time,
//! an alert for a cancellation inside the policy window, and the practice's
//! answers (Approve, Deny, Propose Changes, Cancel, Update Appointment),
//! each with a reason and an optional message to the patient.

use super::dialog::Modal;
use super::error_alert;
use super::notice::{Message, Notice};
use crate::api::change_requests::{change_requests, AnswerChangeRequest};
use crate::domain::live::topic;
use crate::domain::request::{
    pending_for, ChangeAnswer, RequestKind, MAX_RESPONSE_MESSAGE, MAX_RESPONSE_REASON,
};
use crate::live::{use_live_version, use_ticking_clock};
use crate::model::ChangeRequestRow;
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn RequestsPage() -> impl IntoView {
    view! {
        <Title text="Appointment Requests" />
        <Guard need=Need::Staff children=|_me| view! { <Queue /> } />
    }
}

fn kind_label(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Cancel => "Cancellation",
        RequestKind::Reschedule => "Reschedule",
        RequestKind::NewSession => "New session",
    }
}

#[component]
fn Queue() -> impl IntoView {
    let answering = RwSignal::new(None::<(ChangeRequestRow, ChangeAnswer)>);
    let answer = ServerAction::<AnswerChangeRequest>::new();
    let version = use_live_version(&[topic::REQUEST, topic::APPOINTMENT]);
    let queue = Resource::new(
        move || (version.get(), answer.version().get()),
        |_| change_requests(),
    );
    let server_now = Signal::derive(move || queue.get().and_then(|q| q.ok()).map(|q| q.server_now));
    let now = use_ticking_clock(server_now);
    // Which answer the open (or last) dialog gives, for the banner.
    let last = RwSignal::new(None::<ChangeAnswer>);
    // A newly opened dialog starts without the previous answer's error.
    Effect::new(move |_| {
        if let Some(a) = answering.with(|o| o.as_ref().map(|(_, a)| *a)) {
            last.set(Some(a));
            answer.value().set(None);
        }
    });
    Effect::new(move |_| {
        if matches!(answer.value().get(), Some(Ok(()))) {
            answering.set(None);
        }
    });
    // One banner: what the latest answer did.
    let notice = Notice::new();
    notice.on_ok(answer.value(), answer.pending(), move |_| {
        let text = match last.get_untracked()? {
            ChangeAnswer::Approve => {
                "Approved. The change has taken effect and the patient has been told."
            }
            ChangeAnswer::Deny => {
                "Denied. The original appointment stays and the patient has been told."
            }
            ChangeAnswer::Propose => {
                "New time proposed. The appointment is Tentative until the patient approves it."
            }
            ChangeAnswer::Cancel => "The appointment is cancelled and the patient has been told.",
            ChangeAnswer::Update => "The appointment is updated and the patient has been told.",
        };
        Some(Message::ok(text))
    });
    view! {
        <h1>"Appointment Requests"</h1>
        <p class="muted">"Patients' reschedule and cancellation requests, oldest first."</p>
        {notice.view()}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(q) if q.rows.is_empty() => view! { <p class="muted">"No pending requests."</p> }.into_any(),
                    Ok(q) => view! {
                        <ul class="plain change-requests" aria-label="Pending appointment requests">
                            {q.rows.into_iter().map(|r| view! { <RequestItem r now answering /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || answering.get().map(|(r, a)| view! { <AnswerDialog r a answer on_close=move || answering.set(None) /> })}
    }
}

#[component]
fn RequestItem(
    r: ChangeRequestRow,
    now: Signal<i64>,
    answering: RwSignal<Option<(ChangeRequestRow, ChangeAnswer)>>,
) -> impl IntoView {
    let created = r.created_at;
    let waited = move || pending_for(now.get() - created);
    let alert = (r.within_window && r.kind == RequestKind::Cancel).then(|| {
        let fee = r
            .fee
            .clone()
            .map(|f| format!(" Approving it records the late-cancellation fee of {f}."))
            .unwrap_or_default();
        view! { <p class="alert warn" role="note">{format!("Within the policy window: this cancellation is late.{fee}")}</p> }
    });
    let late_reschedule = (r.within_window && r.kind == RequestKind::Reschedule)
        .then(|| view! { <p class="alert warn" role="note">"Within the policy window: sent inside the notice period."</p> });
    let row = r.clone();
    view! {
        <li class="request-card" data-request=r.id.to_string()>
            <div class="request-head">
                <strong>{format!("#{} · {} · {}", r.id, kind_label(r.kind), r.patient)}</strong>
                <span class=move || if waited().1 { "pill late" } else { "pill pending" }>{move || format!("Pending for {}", waited().0)}</span>
            </div>
            {alert}
            {late_reschedule}
            <dl class="facts">
                <dt>"Appointment"</dt>
                <dd>{format!("{} with {} · {}", r.service, r.provider, r.clinic_name)}</dd>
                <dt>"Original time"</dt>
                <dd>{format!("{} ({})", r.original, r.time_zone)}</dd>
                {r.requested.clone().map(|t| view! { <dt>"Requested time"</dt><dd>{format!("{t} ({})", r.time_zone)}</dd> })}
                {(!r.note.is_empty()).then(|| view! { <dt>"Patient's note"</dt><dd>{r.note.clone()}</dd> })}
            </dl>
            <div class="actions">
                {ChangeAnswer::ALL
                    .into_iter()
                    .map(|a| {
                        let row = row.clone();
                        let cls = match a {
                            ChangeAnswer::Approve => "primary",
                            ChangeAnswer::Cancel => "danger",
                            _ => "",
                        };
                        view! {
                            <button type="button" class=cls on:click=move |_| answering.set(Some((row.clone(), a)))>
                                {a.label(row.kind)}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        </li>
    }
}

/// Asks for the reason (required), an optional message to the patient and,
/// for Propose Changes and Update Appointment, the new date and time.
#[component]
fn AnswerDialog(
    r: ChangeRequestRow,
    a: ChangeAnswer,
    answer: ServerAction<AnswerChangeRequest>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let start = RwSignal::new(r.default_start.clone());
    let pending = answer.pending();
    // The datetime-local input's value, "2026-03-05T10:00" (seconds when set).
    let new_start = move || {
        start.with(|v| {
            chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
                .ok()
        })
    };
    let valid = move || {
        let n = reason.with(|t| t.trim().chars().count());
        n > 0 && n <= MAX_RESPONSE_REASON && (!a.needs_time() || new_start().is_some())
    };
    let id = r.id;
    let title = a.label(r.kind);
    let explain = match (a, r.kind) {
        (ChangeAnswer::Approve, RequestKind::Cancel) => {
            "The appointment will be cancelled as the patient asked."
        }
        (ChangeAnswer::Approve, _) => "The appointment moves to the requested time.",
        (ChangeAnswer::Deny, _) => "The original appointment stays as it is.",
        (ChangeAnswer::Propose, _) => {
            "The appointment moves to the new time as Tentative until the patient approves it."
        }
        (ChangeAnswer::Cancel, _) => "The clinic cancels the appointment. This cannot be undone.",
        (ChangeAnswer::Update, _) => {
            "The appointment moves to the new time without asking the patient."
        }
    };
    view! {
        <Modal label_id="answer-title" on_close=on_close>
                <h2 id="answer-title">{title}</h2>
                <dl class="facts">
                    <dt>"Patient"</dt>
                    <dd>{r.patient.clone()}</dd>
                    <dt>"Appointment"</dt>
                    <dd>{format!("{} with {}", r.service, r.provider)}</dd>
                    <dt>"Original time"</dt>
                    <dd>{format!("{} ({})", r.original, r.time_zone)}</dd>
                    {r.requested.clone().map(|t| view! { <dt>"Requested time"</dt><dd>{t}</dd> })}
                </dl>
                <p class="muted">{explain}</p>
                {error_alert(answer.value())}
                <div class="form">
                    {a.needs_time().then(|| view! {
                        <label for="answer-start">{format!("New date and time ({})", r.time_zone)}</label>
                        <input id="answer-start" type="datetime-local" prop:value=move || start.get()
                            on:input=move |e| start.set(event_target_value(&e)) />
                    })}
                    <label for="answer-reason">"Reason (the patient receives it)"</label>
                    <textarea id="answer-reason" rows="2" maxlength=MAX_RESPONSE_REASON.to_string()
                        on:input=move |e| reason.set(event_target_value(&e))></textarea>
                    <label for="answer-message">"Message to the patient (optional)"</label>
                    <textarea id="answer-message" rows="3" maxlength=MAX_RESPONSE_MESSAGE.to_string()
                        on:input=move |e| message.set(event_target_value(&e))></textarea>
                </div>
                <div class="actions">
                    <button type="button" on:click=move |_| on_close()>"Back"</button>
                    <button type="button" class=if a == ChangeAnswer::Cancel { "danger" } else { "primary" }
                        disabled=move || !valid() || pending.get()
                        on:click=move |_| {
                            answer.dispatch(AnswerChangeRequest {
                                request_id: id,
                                answer: a,
                                reason: reason.get_untracked(),
                                message: message.get_untracked(),
                                start: if a.needs_time() { untrack(new_start) } else { None },
                            });
                        }>
                        {title}
                    </button>
                </div>
        </Modal>
    }
}
