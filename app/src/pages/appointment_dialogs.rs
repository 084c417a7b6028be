//! The dialogs that change an appointment, shared by the Schedule,
//! Consultations and Bookings: Cancel, Reschedule and New appointment.

use super::dialog::Modal;
use super::error_alert;
use crate::api::appointments::{
    CancelAppointment, CreateAppointment, MarkNoShow, RescheduleAppointment,
};
use crate::api::schedule::create_options;
use crate::domain::booking::{cancel_form, CancelReason, NoShowKind, MAX_CANCEL_NOTE};
use crate::domain::recurrence::{End, Weekly};
use crate::model::{
    from_wire, AppointmentForm, BookingRow, CancelScope, RescheduleScope, ServiceOption,
};
use leptos::prelude::*;

/// The booking a dialog acts on: patient, time (in the clinic's zone),
/// practitioner and appointment type.
fn summary(row: &BookingRow, time_label: &'static str, service: String) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>"Patient"</dt>
            <dd>{row.patient.clone()}</dd>
            <dt>{time_label}</dt>
            <dd>{format!("{} ({})", row.when, row.time_zone)}</dd>
            <dt>"Practitioner"</dt>
            <dd>{row.practitioner.clone()}</dd>
            <dt>"Appointment type"</dt>
            <dd>{service}</dd>
        </dl>
    }
}

/// The one cancel dialog, in the clinic's words: "Cancel Meeting" for a
/// video meeting, "Cancel Booking" for an in-person or phone one. Booking
/// summary; where the clinic requires a reason, the FHIR-coded list
/// ("Other" needs an explanation) and a note, otherwise an optional reason
/// in words; a counter, the message to the patient, the irreversibility
/// warning, and confirm buttons enabled only when valid.
#[component]
pub fn CancelDialog(
    row: BookingRow,
    action: ServerAction<CancelAppointment>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let reason = RwSignal::new(None::<CancelReason>);
    let note = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let count = move || note.with(|n| n.chars().count());
    let required = row.cancel_reason_required;
    // The server's own rules, so the buttons open exactly when it would accept.
    let valid = move || {
        note.with(|n| {
            message.with(|m| {
                cancel_form(reason.get(), n, m)
                    .and_then(|f| f.meets_policy(required))
                    .is_ok()
            })
        })
    };
    let pending = action.pending();
    let id = row.id;
    let submit = move |scope: CancelScope| {
        action.dispatch(CancelAppointment {
            id,
            scope,
            reason: reason.get_untracked(),
            note: note.get_untracked(),
            message: message.get_untracked(),
        });
    };
    let title = row.modality.cancel_title();
    let confirm = move |scope: CancelScope, label: String| {
        view! {
            <button type="button" class="danger" disabled=move || !valid() || pending.get() on:click=move |_| submit(scope)>
                {label}
            </button>
        }
    };
    let noun = capitalised(row.modality.noun());
    let buttons = if row.in_series {
        view! {
            {confirm(CancelScope::This, format!("Cancel This {noun} Only"))}
            {confirm(CancelScope::Series, format!("Cancel All {noun}s in This Series"))}
        }
        .into_any()
    } else {
        confirm(CancelScope::This, title.to_string()).into_any()
    };
    view! {
        <Modal label_id="cancel-title" on_close=on_close>
                <h2 id="cancel-title">{title}</h2>
                {summary(&row, "Time", row.service.clone())}
                {error_alert(action.value())}
                <div class="form">
                    {if required {
                        view! { <CancelReasonChoice reason /> }.into_any()
                    } else {
                        view! { <label for="cancel-note">"Reason (optional)"</label> }.into_any()
                    }}
                    <textarea
                        id="cancel-note"
                        rows="3"
                        maxlength=MAX_CANCEL_NOTE.to_string()
                        on:input=move |e| note.set(event_target_value(&e))
                    ></textarea>
                    <p class="muted counter" aria-live="polite">{move || format!("{} / {MAX_CANCEL_NOTE}", count())}</p>
                    <label for="cancel-message">"Message to the patient (optional)"</label>
                    <textarea id="cancel-message" rows="2" on:input=move |e| message.set(event_target_value(&e))></textarea>
                    <p class="alert warn">"This action cannot be undone."</p>
                    {row.pms_manual_cancel.then(|| view! {
                        <p class="alert warn manual-update" role="note">
                            <strong>"Manual update required. "</strong>
                            "This clinic's practice-management system does not take cancellations automatically: after cancelling here, cancel the appointment in the PMS as well."
                        </p>
                    })}
                </div>
                <div class="actions">
                    <button type="button" on:click=move |_| on_close()>"Keep the booking"</button>
                    {buttons}
                </div>
        </Modal>
    }
}

/// The required reason: a choice from the FHIR-coded list, and the label of
/// the note under it ("Other" needs an explanation).
#[component]
fn CancelReasonChoice(reason: RwSignal<Option<CancelReason>>) -> impl IntoView {
    view! {
        <label for="cancel-reason">"Reason"</label>
        <select id="cancel-reason" on:change=move |e| reason.set(from_wire(&event_target_value(&e)))>
            <option value="">"Choose a reason…"</option>
            {CancelReason::ALL
                .into_iter()
                .map(|r| view! { <option value=r.code()>{r.label()}</option> })
                .collect_view()}
        </select>
        <label for="cancel-note">
            {move || if reason.get() == Some(CancelReason::Other) { "Explanation (required)" } else { "Note (optional)" }}
        </label>
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Asks before marking a past booking FTA (failed to attend) or DNA (did
/// not attend): the summary, what the mark means, and the confirm button.
/// The action's error stays in the dialog; the page says what happened.
#[component]
pub fn NoShowDialog(
    row: BookingRow,
    kind: NoShowKind,
    action: ServerAction<MarkNoShow>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let pending = action.pending();
    let id = row.id;
    let (title, meaning) = match kind {
        NoShowKind::Fta => (
            "Mark FTA",
            "Record that the patient failed to attend (FTA) this booking.",
        ),
        NoShowKind::Dna => (
            "Mark DNA",
            "Record that the patient did not attend (DNA) this booking.",
        ),
    };
    view! {
        <Modal label_id="noshow-title" on_close=on_close>
            <h2 id="noshow-title">{title}</h2>
            {summary(&row, "Time", row.service.clone())}
            {error_alert(action.value())}
            <p>{meaning}</p>
            <p class="alert warn">"It is closed as a no-show. This action cannot be undone."</p>
            <div class="actions">
                <button type="button" on:click=move |_| on_close()>"Keep as is"</button>
                <button type="button" class="danger" disabled=move || pending.get()
                    on:click=move |_| { action.dispatch(MarkNoShow { id, kind }); }>
                    {title}
                </button>
            </div>
        </Modal>
    }
}

/// Reschedule by staff: new date, time and location; for a series, "This
/// event" or "This and all future events" (the series is split there).
#[component]
pub fn RescheduleDialog(
    row: BookingRow,
    action: ServerAction<RescheduleAppointment>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let date = RwSignal::new(row.start_date.clone());
    let time = RwSignal::new(row.start_time.clone());
    let location = RwSignal::new(row.location.clone());
    let scope = RwSignal::new(RescheduleScope::This);
    let pending = action.pending();
    let id = row.id;
    let new_date = move || date.with(|d| parse_date(d));
    let new_time = move || time.with(|t| parse_time(t));
    let valid = move || new_date().is_some() && new_time().is_some();
    let submit = move |_| {
        let (Some(date), Some(start)) = (new_date(), new_time()) else {
            return;
        };
        action.dispatch(RescheduleAppointment {
            id,
            date,
            start,
            location: location.get_untracked(),
            scope: scope.get_untracked(),
        });
    };
    view! {
        <Modal label_id="resched-title" on_close=on_close>
                <h2 id="resched-title">"Reschedule"</h2>
                {summary(&row, "Now", format!("{} · {} min", row.service, row.minutes))}
                {error_alert(action.value())}
                <div class="form">
                    <div class="grid-2">
                        <div>
                            <label for="resched-date">"New date"</label>
                            <input id="resched-date" type="date" prop:value=move || date.get()
                                on:input=move |e| date.set(event_target_value(&e)) />
                        </div>
                        <div>
                            <label for="resched-time">{format!("New start time ({})", row.time_zone)}</label>
                            <input id="resched-time" type="time" prop:value=move || time.get()
                                on:input=move |e| time.set(event_target_value(&e)) />
                        </div>
                    </div>
                    <label for="resched-location">"Location"</label>
                    <input id="resched-location" type="text" maxlength="200" placeholder="Video (online)"
                        prop:value=move || location.get() on:input=move |e| location.set(event_target_value(&e)) />
                    {row.in_series.then(|| view! {
                        <fieldset class="choices">
                            <legend>"Which meetings?"</legend>
                            <label><input type="radio" name="resched-scope" checked on:change=move |_| scope.set(RescheduleScope::This) />" This event"</label>
                            <label><input type="radio" name="resched-scope" on:change=move |_| scope.set(RescheduleScope::Future) />" This and all future events"</label>
                        </fieldset>
                    })}
                </div>
                <div class="actions">
                    <button type="button" on:click=move |_| on_close()>"Keep the time"</button>
                    <button type="button" class="primary" disabled=move || !valid() || pending.get() on:click=submit>
                        "Reschedule"
                    </button>
                </div>
        </Modal>
    }
}

/// A date input's value (YYYY-MM-DD), if it holds one.
fn parse_date(v: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok()
}

/// A time input's value (HH:MM, maybe with seconds), if it holds one.
fn parse_time(v: &str) -> Option<chrono::NaiveTime> {
    v.trim().parse().ok()
}

fn add_minutes(hhmm: &str, minutes: i64) -> String {
    match parse_time(hhmm) {
        Some(t) => (t + chrono::Duration::minutes(minutes))
            .format("%H:%M")
            .to_string(),
        None => String::new(),
    }
}

/// New appointment: host (fixed for a provider booking for themself),
/// patient, service, date and time (the end follows the service's length
/// and can be edited), location, invited providers, and an optional weekly
/// repeat by count or end date.
#[component]
pub fn CreateDialog(
    clinic_id: i64,
    /// Prefills the date (YYYY-MM-DD).
    date: String,
    action: ServerAction<CreateAppointment>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let options = Resource::new(move || Some(clinic_id), create_options);
    let provider = RwSignal::new(None::<i64>);
    let patient = RwSignal::new(None::<i64>);
    let service = RwSignal::new(None::<i64>);
    let duration = RwSignal::new(30i64);
    let day = RwSignal::new(date);
    let start = RwSignal::new("09:00".to_string());
    let end = RwSignal::new("09:30".to_string());
    let location = RwSignal::new(String::new());
    let invited = RwSignal::new(Vec::<i64>::new());
    let repeat = RwSignal::new(false);
    let every = RwSignal::new(1u32);
    // Ends after `count` meetings, or on `until` when `by_date`.
    let by_date = RwSignal::new(false);
    let count = RwSignal::new(4u32);
    let until = RwSignal::new(String::new());
    let pending = action.pending();
    // The form as typed, once every required field reads; the server checks
    // the rest (times in the future, the series' length) and says why.
    let form = move || -> Option<AppointmentForm> {
        let repeat = if repeat.get() {
            let end = if by_date.get() {
                End::Until(until.with(|u| parse_date(u))?)
            } else {
                End::Count(count.get())
            };
            Some(Weekly {
                interval_weeks: every.get(),
                end,
            })
        } else {
            None
        };
        Some(AppointmentForm {
            clinic_id,
            provider_id: provider.get()?,
            patient_id: patient.get()?,
            service_id: service.get()?,
            date: day.with(|d| parse_date(d))?,
            start: start.with(|t| parse_time(t))?,
            end: end.with(|t| parse_time(t)),
            location: location.get(),
            invited: invited.get(),
            repeat,
        })
    };
    let valid = move || form().is_some();
    let submit = move |_| {
        if let Some(form) = untrack(form) {
            action.dispatch(CreateAppointment { form });
        }
    };
    view! {
        <Modal label_id="create-title" on_close=on_close>
                <h2 id="create-title">"New appointment"</h2>
                {error_alert(action.value())}
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match options.await {
                            Err(e) => view! { <p class="alert error" role="alert">{e.message().to_string()}</p> }.into_any(),
                            Ok(o) => {
                                // A provider who may only book for themselves
                                // is the host: set by an effect, which runs
                                // after this render (a signal written while
                                // rendering re-runs what is being rendered;
                                // reading the resource in an effect outside
                                // this Suspense would suspend the page).
                                if let Some(me) = o.only_provider {
                                    Effect::new(move |_| provider.set(Some(me)));
                                }
                                let fixed_host = o.only_provider.is_some();
                                let invitable = o.providers.clone();
                                view! {
                                    <div class="form">
                                        <p class="muted">{format!("Times are in {}.", o.time_zone)}</p>
                                        <CreateWho providers=o.providers patients=o.patients services=o.services fixed_host provider patient service duration start end />
                                        <CreateWhen today=o.today day start end duration />
                                        <CreateWhere invitable location provider invited />
                                        <CreateRepeat repeat every by_date count until />
                                        <p class="muted">"A video appointment gets a join link, meeting ID and passcode; an in-person one shows the clinic's address (and the room, as its location)."</p>
                                    </div>
                                }.into_any()
                            }
                        }
                    })}
                </Suspense>
                <div class="actions">
                    <button type="button" on:click=move |_| on_close()>"Close"</button>
                    <button type="button" class="primary" disabled=move || !valid() || pending.get() on:click=submit>
                        "Create appointment"
                    </button>
                </div>
        </Modal>
    }
}

/// The create dialog's who: host provider (fixed for a provider booking for
/// themself), patient and appointment type; a type sets the end time from
/// its length.
#[component]
fn CreateWho(
    providers: Vec<(i64, String)>,
    patients: Vec<(i64, String)>,
    services: Vec<ServiceOption>,
    fixed_host: bool,
    provider: RwSignal<Option<i64>>,
    patient: RwSignal<Option<i64>>,
    service: RwSignal<Option<i64>>,
    duration: RwSignal<i64>,
    start: RwSignal<String>,
    end: RwSignal<String>,
) -> impl IntoView {
    let services_for_change = services.clone();
    view! {
        <label for="new-provider">"Host provider"</label>
        <select id="new-provider" disabled=fixed_host
            on:change=move |e| provider.set(event_target_value(&e).parse().ok())>
            <option value="">"Choose a provider…"</option>
            {providers.into_iter().map(|(id, name)| view! {
                <option value=id.to_string() selected=move || provider.get() == Some(id)>{name}</option>
            }).collect_view()}
        </select>
        <label for="new-patient">"Patient"</label>
        <select id="new-patient" on:change=move |e| patient.set(event_target_value(&e).parse().ok())>
            <option value="">"Choose a patient…"</option>
            {patients.into_iter().map(|(id, name)| view! {
                <option value=id.to_string()>{name}</option>
            }).collect_view()}
        </select>
        <label for="new-service">"Appointment type"</label>
        <select id="new-service" on:change=move |e| {
            let id: Option<i64> = event_target_value(&e).parse().ok();
            service.set(id);
            if let Some(s) = services_for_change.iter().find(|s| Some(s.id) == id) {
                duration.set(s.duration_minutes);
                end.set(add_minutes(&start.get_untracked(), s.duration_minutes));
            }
        }>
            <option value="">"Choose a service…"</option>
            {services.into_iter().map(|s| view! {
                <option value=s.id.to_string()>{format!("{} ({} min)", s.name, s.duration_minutes)}</option>
            }).collect_view()}
        </select>
    }
}

/// The create dialog's when: date, start and end (a new start moves the end
/// by the appointment's length).
#[component]
fn CreateWhen(
    today: String,
    day: RwSignal<String>,
    start: RwSignal<String>,
    end: RwSignal<String>,
    duration: RwSignal<i64>,
) -> impl IntoView {
    view! {
        <div class="grid-3">
            <div>
                <label for="new-date">"Date"</label>
                <input id="new-date" type="date" min=today prop:value=move || day.get()
                    on:input=move |e| day.set(event_target_value(&e)) />
            </div>
            <div>
                <label for="new-start">"Start"</label>
                <input id="new-start" type="time" prop:value=move || start.get()
                    on:input=move |e| {
                        let v = event_target_value(&e);
                        end.set(add_minutes(&v, duration.get_untracked()));
                        start.set(v);
                    } />
            </div>
            <div>
                <label for="new-end">"End"</label>
                <input id="new-end" type="time" prop:value=move || end.get()
                    on:input=move |e| end.set(event_target_value(&e)) />
            </div>
        </div>
    }
}

/// The create dialog's location and invited providers (the host is hidden
/// from the invite list).
#[component]
fn CreateWhere(
    invitable: Vec<(i64, String)>,
    location: RwSignal<String>,
    provider: RwSignal<Option<i64>>,
    invited: RwSignal<Vec<i64>>,
) -> impl IntoView {
    view! {
        <label for="new-location">"Location"</label>
        <input id="new-location" type="text" maxlength="200" placeholder="Video (online)"
            on:input=move |e| location.set(event_target_value(&e)) />
        <fieldset class="choices">
            <legend>"Invite providers"</legend>
            {invitable.into_iter().map(|(id, name)| view! {
                <label class=move || if provider.get() == Some(id) { "hidden" } else { "" }>
                    <input type="checkbox" on:change=move |e| {
                        let on = event_target_checked(&e);
                        invited.update(|v| { v.retain(|x| *x != id); if on { v.push(id); } });
                    } />
                    " " {name}
                </label>
            }).collect_view()}
        </fieldset>
    }
}

/// The create dialog's weekly repeat: every N weeks, ending after a number
/// of meetings or on a date.
#[component]
fn CreateRepeat(
    repeat: RwSignal<bool>,
    every: RwSignal<u32>,
    by_date: RwSignal<bool>,
    count: RwSignal<u32>,
    until: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label class="check">
            <input id="new-repeat" type="checkbox" on:change=move |e| repeat.set(event_target_checked(&e)) />
            " Repeats weekly"
        </label>
        <Show when=move || repeat.get()>
            <div class="grid-3">
                <div>
                    <label for="new-every">"Every (weeks)"</label>
                    <input id="new-every" type="number" min="1" max="52" prop:value=move || every.get().to_string()
                        on:input=move |e| every.set(event_target_value(&e).parse().unwrap_or(0)) />
                </div>
                <div>
                    <label for="new-ends">"Ends"</label>
                    <select id="new-ends" on:change=move |e| by_date.set(event_target_value(&e) == "until")>
                        <option value="count">"After N meetings"</option>
                        <option value="until">"On a date"</option>
                    </select>
                </div>
                <div>
                    {move || if !by_date.get() {
                        view! {
                            <label for="new-count">"Meetings"</label>
                            <input id="new-count" type="number" min="1" max="104" prop:value=move || count.get().to_string()
                                on:input=move |e| count.set(event_target_value(&e).parse().unwrap_or(0)) />
                        }.into_any()
                    } else {
                        view! {
                            <label for="new-until">"Last date"</label>
                            <input id="new-until" type="date" prop:value=move || until.get()
                                on:input=move |e| until.set(event_target_value(&e)) />
                        }.into_any()
                    }}
                </div>
            </div>
        </Show>
    }
}

/// Invited providers and their answers ("Dr Patel · declined"), so the host
/// sees who declined.
#[component]
pub fn Invitees(list: Vec<crate::model::Invitee>) -> impl IntoView {
    (!list.is_empty()).then(|| {
        view! {
            <ul class="invitees" aria-label="Invited providers">
                {list
                    .into_iter()
                    .map(|i| {
                        let class = format!("invitee {}", i.status_label());
                        view! { <li class=class>{i.name.clone()} " · " {i.status_label()}</li> }
                    })
                    .collect_view()}
            </ul>
        }
    })
}
