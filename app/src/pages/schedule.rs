//! The Schedule: Week (a column per day) and Day (a column per provider)
//! views on a time grid in the clinic's zone. Appointments are coloured by
//! status; click one for its details (Reschedule, Cancel Meeting, Decline),
//! or use the red X to cancel straight away. Live: any change refetches.

use super::appointment_dialogs::{CancelDialog, CreateDialog, Invitees, RescheduleDialog};
use super::dialog::Modal;
use super::notice::{cancelled, Message, Notice};
use crate::api::appointments::{
    CancelAppointment, CreateAppointment, DeclineInvitation, RescheduleAppointment,
};
use crate::api::schedule::schedule;
use crate::domain::live::topic;
use crate::live::use_live_version;
use crate::model::{from_wire, BookingRow, ScheduleItem, ScheduleMode, ScheduleView};
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SchedulePage() -> impl IntoView {
    view! {
        <Title text="Schedule" />
        <Guard need=Need::Staff children=|_me| view! { <Schedule /> } />
    }
}

/// Everything a grid item can ask the page to do.
#[derive(Clone, Copy)]
struct Actions {
    selected: RwSignal<Option<ScheduleItem>>,
    cancelling: RwSignal<Option<BookingRow>>,
    rescheduling: RwSignal<Option<BookingRow>>,
    decline: ServerAction<DeclineInvitation>,
}

#[component]
fn Schedule() -> impl IntoView {
    // `?view=day&date=2026-03-09` opens a given view and date (links, tests).
    let query = leptos_router::hooks::use_query_map();
    let (initial_mode, initial_date) = query.with_untracked(|q| {
        (
            q.get("view").and_then(|v| from_wire::<ScheduleMode>(&v)),
            q.get("date").unwrap_or_default(),
        )
    });
    let mode = RwSignal::new(initial_mode.unwrap_or_default());
    let date = RwSignal::new(initial_date);
    let clinic = RwSignal::new(None::<i64>);
    // Chosen providers (admins and schedulers); empty = all.
    let providers = RwSignal::new(Vec::<i64>::new());
    let cancel = ServerAction::<CancelAppointment>::new();
    let reschedule = ServerAction::<RescheduleAppointment>::new();
    let create = ServerAction::<CreateAppointment>::new();
    let decline = ServerAction::<DeclineInvitation>::new();
    let actions = Actions {
        selected: RwSignal::new(None),
        cancelling: RwSignal::new(None),
        rescheduling: RwSignal::new(None),
        decline,
    };
    let creating = RwSignal::new(None::<(i64, String)>);
    let version = use_live_version(&[topic::APPOINTMENT]);
    let data = Resource::new(
        move || {
            (
                clinic.get(),
                mode.get(),
                date.get(),
                providers.get(),
                version.get(),
                cancel.version().get(),
                reschedule.version().get(),
                create.version().get(),
                decline.version().get(),
            )
        },
        // A date that does not read (a hand-edited link) shows today.
        |(c, m, d, p, ..)| schedule(c, m, d.parse().ok(), p),
    );
    // Close dialogs once their action went through.
    Effect::new(move |_| {
        if let Some(Ok(_)) = cancel.value().get() {
            actions.cancelling.set(None);
            actions.selected.set(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = reschedule.value().get() {
            actions.rescheduling.set(None);
            actions.selected.set(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            creating.set(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = decline.value().get() {
            actions.selected.set(None);
        }
    });
    // One banner: what the latest action did.
    let notice = Notice::new();
    notice.on_ok(cancel.value(), cancel.pending(), |n| {
        Some(Message::ok(cancelled(*n, "The meeting was cancelled.")))
    });
    notice.on_ok(reschedule.value(), reschedule.pending(), |o| {
        Some(Message::saved(
            o,
            "The meeting was rescheduled.",
            "{n} meetings were rescheduled.",
        ))
    });
    notice.on_ok(create.value(), create.pending(), |o| {
        Some(Message::saved(
            o,
            "The appointment was created.",
            "{n} appointments were created.",
        ))
    });
    notice.on_result(decline.value(), decline.pending(), |_| {
        Some(Message::ok(
            "You declined the invitation. The host has been told.",
        ))
    });

    // Erased into AnyView in parts: one nested view type this deep
    // overflows the compiler's query depth.
    let banners = notice.view().into_any();
    let grid = view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="alert error" role="alert">{e.message().to_string()}</p> }.into_any(),
                    Ok(v) => view! { <ScheduleBody v mode date clinic providers creating actions /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any();
    let dialogs = view! {
        {move || actions.selected.get().map(|item| view! { <Details item actions /> })}
        {move || actions.cancelling.get().map(|row| view! {
            <CancelDialog row action=cancel on_close=move || actions.cancelling.set(None) />
        })}
        {move || actions.rescheduling.get().map(|row| view! {
            <RescheduleDialog row action=reschedule on_close=move || actions.rescheduling.set(None) />
        })}
        {move || creating.get().map(|(clinic_id, date)| view! {
            <CreateDialog clinic_id date action=create on_close=move || creating.set(None) />
        })}
    }
    .into_any();
    view! {
        <h1>"Schedule"</h1>
        {banners}
        {grid}
        {dialogs}
    }
}

#[component]
fn ScheduleBody(
    v: ScheduleView,
    mode: RwSignal<ScheduleMode>,
    date: RwSignal<String>,
    clinic: RwSignal<Option<i64>>,
    providers: RwSignal<Vec<i64>>,
    creating: RwSignal<Option<(i64, String)>>,
    actions: Actions,
) -> impl IntoView {
    let (prev, next, today) = (v.prev.clone(), v.next.clone(), v.today.clone());
    let anchor = v.date.clone();
    let clinic_id = v.clinic_id;
    let hours = v.last_hour - v.first_hour;
    let shown_count = v.providers.iter().filter(|p| p.shown).count();
    let all_ids: Vec<i64> = v.providers.iter().map(|p| p.id).collect();
    let shown_ids: Vec<i64> = v
        .providers
        .iter()
        .filter(|p| p.shown)
        .map(|p| p.id)
        .collect();
    let grid_style = format!("--hours: {hours}; --cols: {}", v.columns.len().max(1));
    let first_hour = v.first_hour;
    view! {
        <div class="sched-toolbar">
            <div class="segmented" role="group" aria-label="View">
                <button type="button" aria-pressed=move || (mode.get() == ScheduleMode::Week).to_string()
                    on:click=move |_| mode.set(ScheduleMode::Week)>"Week"</button>
                <button type="button" aria-pressed=move || (mode.get() == ScheduleMode::Day).to_string()
                    on:click=move |_| mode.set(ScheduleMode::Day)>"Day"</button>
            </div>
            <div class="segmented" role="group" aria-label="Dates">
                <button type="button" aria-label="Previous" on:click=move |_| date.set(prev.clone())>"‹"</button>
                <button type="button" on:click=move |_| date.set(today.clone())>"Today"</button>
                <button type="button" aria-label="Next" on:click=move |_| date.set(next.clone())>"›"</button>
            </div>
            <h2 class="sched-title">{v.title.clone()}</h2>
            <span class="muted zone">{format!("Times in {} ({})", v.time_zone, v.clinic_name)}</span>
            <button type="button" class="primary" on:click=move |_| creating.set(Some((clinic_id, anchor.clone())))>
                "New appointment"
            </button>
        </div>
        {(v.clinics.len() > 1).then(|| {
            let clinics = v.clinics.clone();
            view! {
                <label for="sched-clinic">"Clinic"</label>
                <select id="sched-clinic" on:change=move |e| {
                    clinic.set(event_target_value(&e).parse().ok());
                    providers.set(Vec::new());
                }>
                    {clinics.into_iter().map(|(id, name)| view! {
                        <option value=id.to_string() selected={id == clinic_id}>{name}</option>
                    }).collect_view()}
                </select>
            }
        })}
        {v.choose_providers.then(|| {
            let list = v.providers.clone();
            view! {
                <details class="provider-picker">
                    <summary>{format!("Providers shown: {shown_count} of {}", list.len())}</summary>
                    <div class="choices">
                        {list.into_iter().map(|p| {
                            let id = p.id;
                            let all_ids = all_ids.clone();
                            let shown_ids = shown_ids.clone();
                            view! {
                                <label>
                                    <input type="checkbox" checked=p.shown on:change=move |e| {
                                        let on = event_target_checked(&e);
                                        let mut next: Vec<i64> = shown_ids.clone();
                                        next.retain(|x| *x != id);
                                        if on { next.push(id); }
                                        // Showing everyone is the default (empty list).
                                        if next.is_empty() || next.len() == all_ids.len() { next.clear(); }
                                        next.sort_unstable();
                                        providers.set(next);
                                    } />
                                    " " {p.name}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </details>
            }
        })}
        <div class="sched-scroll">
            <div class=if v.mode == ScheduleMode::Day { "sched day" } else { "sched week" } style=grid_style aria-label=format!("{} schedule", if v.mode == ScheduleMode::Week { "Week" } else { "Day" })>
                <div class="sched-corner"></div>
                {v.columns.iter().map(|c| view! { <div class="sched-head">{c.label.clone()}</div> }).collect_view()}
                <div class="sched-times" aria-hidden="true">
                    {v.hour_labels.iter().map(|h| view! { <div class="sched-hour">{h.clone()}</div> }).collect_view()}
                </div>
                {v.columns.into_iter().map(|c| {
                    let label = c.label.clone();
                    view! {
                        <div class="sched-col" role="list" aria-label=label>
                            {c.items.into_iter().map(|item| view! { <GridItem item first_hour hours actions /> }).collect_view()}
                        </div>
                    }
                }).collect_view()}
            </div>
        </div>
        {(shown_count == 0 && v.choose_providers).then(|| view! { <p class="muted">"This clinic has no providers yet."</p> })}
    }
}

fn status_class(b: &BookingRow, invitation: Option<&str>) -> &'static str {
    match (b.status.as_str(), invitation) {
        (_, Some("declined")) => "appt declined",
        ("noshow", _) => "appt noshow",
        ("pending" | "proposed", _) => "appt tentative",
        ("fulfilled", _) => "appt past",
        _ if b.status_label == "Past" => "appt past",
        _ if invitation.is_some() => "appt invited",
        _ => "appt booked",
    }
}

#[component]
fn GridItem(item: ScheduleItem, first_hour: u32, hours: u32, actions: Actions) -> impl IntoView {
    let b = item.booking.clone();
    let total = f64::from(hours * 60);
    let top = (item.start_minute - i64::from(first_hour) * 60) as f64 / total * 100.0;
    let height = (item.end_minute - item.start_minute) as f64 / total * 100.0;
    let width = 100.0 / f64::from(item.lanes.max(1));
    let style = format!(
        "top: {top:.3}%; height: {height:.3}%; left: {:.3}%; width: {width:.3}%",
        f64::from(item.lane) * width
    );
    let class = status_class(&b, item.invitation.as_deref());
    let time = b.time_label.clone();
    let label = format!("{} {} with {}", time, b.service, b.patient);
    let for_open = item.clone();
    let for_cancel = b.clone();
    let can_cancel = b.cancel_blocked.is_none();
    view! {
        <div class=class style=style role="listitem">
            <button type="button" class="appt-open" title=label.clone() on:click=move |_| actions.selected.set(Some(for_open.clone()))>
                // Tags first, so a short block still shows them.
                <span class="appt-line">
                    {item.invitation.as_deref().map(|s| view! { <span class="appt-tag">{if s == "declined" { "Declined" } else { "Invited" }}</span> })}
                    {matches!(b.status.as_str(), "pending" | "proposed").then(|| view! { <span class="appt-tag">"Tentative"</span> })}
                    {item.overlap_warning.is_some().then(|| view! { <span class="appt-tag warn" title=item.overlap_warning.clone().unwrap_or_default()>"Overlap"</span> })}
                    <span class="appt-time">{time}</span>
                    " "
                    <span class="appt-patient">{b.patient.clone()}</span>
                </span>
                <span class="appt-meta">{b.practitioner.clone()} " · " {b.service.clone()}</span>
            </button>
            {can_cancel.then(|| view! {
                <button type="button" class="appt-x" aria-label=format!("{}: {label}", b.modality.cancel_title()) title=b.modality.cancel_title()
                    on:click=move |_| actions.cancelling.set(Some(for_cancel.clone()))>"×"</button>
            })}
        </div>
    }
}

#[component]
fn Details(item: ScheduleItem, actions: Actions) -> impl IntoView {
    let b = item.booking.clone();
    let id = b.id;
    let for_cancel = b.clone();
    let for_reschedule = b.clone();
    let can_decline = matches!(b.my_invitation.as_deref(), Some(s) if s != "declined");
    let pending = actions.decline.pending();
    let close = move || actions.selected.set(None);
    view! {
        <Modal label_id="details-title" on_close=close>
                <h2 id="details-title">{format!("{} with {}", b.service, b.patient)}</h2>
                {item.overlap_warning.clone().map(|w| view! { <p class="alert warn">{w}</p> })}
                <dl class="facts">
                    <dt>"Time"</dt>
                    <dd>{format!("{} ({})", b.when, b.time_zone)}</dd>
                    <dt>"Status"</dt>
                    <dd>{b.status_label.clone()} {b.in_series.then_some(" · recurring")}</dd>
                    <dt>"Practitioner"</dt>
                    <dd>{b.practitioner.clone()} <Invitees list=b.participants.clone() /></dd>
                    <dt>"Patient"</dt>
                    <dd>{b.patient.clone()}</dd>
                    <dt>"Location"</dt>
                    <dd>{b.place.clone()}</dd>
                    // Only a video meeting has a join link and credentials.
                    {(!b.video_url.is_empty()).then(|| view! {
                        <dt>"Join link"</dt>
                        <dd><a href=b.video_url.clone() target="_blank" rel="noopener">{b.video_url.clone()}</a></dd>
                        <dt>"Meeting ID"</dt>
                        <dd>{b.meeting_id.clone()} " · passcode " {b.passcode.clone()}</dd>
                    })}
                    {b.my_invitation.clone().map(|s| view! {
                        <dt>"Your invitation"</dt>
                        <dd>{if s == "declined" { "Declined" } else if s == "accepted" { "Accepted" } else { "Awaiting your answer" }}</dd>
                    })}
                </dl>
                <div class="actions">
                    <button type="button" on:click=move |_| close()>"Close"</button>
                    {can_decline.then(|| view! {
                        <button type="button" disabled=move || pending.get()
                            on:click=move |_| { actions.decline.dispatch(DeclineInvitation { id }); }>"Decline"</button>
                    })}
                    <button type="button" disabled=b.reschedule_blocked.is_some() title=b.reschedule_blocked.clone().unwrap_or_default()
                        on:click=move |_| { actions.selected.set(None); actions.rescheduling.set(Some(for_reschedule.clone())); }>
                        "Reschedule"
                    </button>
                    <button type="button" class="danger" disabled=b.cancel_blocked.is_some() title=b.cancel_blocked.clone().unwrap_or_default()
                        on:click=move |_| { actions.selected.set(None); actions.cancelling.set(Some(for_cancel.clone())); }>
                        {b.modality.cancel_title()}
                    </button>
                </div>
        </Modal>
    }
}
