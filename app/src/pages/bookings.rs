//! Bookings: every booking the user may see, filtered by status, date range
//! and patient name, with a ⋯ menu per row (Cancel, Reschedule, Mark FTA,
//! Mark DNA).

use super::appointment_dialogs::{CancelDialog, Invitees, RescheduleDialog, Saved};
use super::error_alert;
use crate::api::{bookings, CancelAppointment, MarkNoShow, RescheduleAppointment};
use crate::domain::live::topic;
use crate::live::use_live_version;
use crate::model::{BookingRow, BookingStatusFilter};
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn BookingsPage() -> impl IntoView {
    view! {
        <Title text="Bookings" />
        <Guard need=Need::Staff children=|_me| view! { <Bookings /> } />
    }
}

#[component]
fn Bookings() -> impl IntoView {
    let status = RwSignal::new(BookingStatusFilter::Upcoming);
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(0i64);
    let cancel = ServerAction::<CancelAppointment>::new();
    let noshow = ServerAction::<MarkNoShow>::new();
    let cancelling = RwSignal::new(None::<BookingRow>);
    let reschedule = ServerAction::<RescheduleAppointment>::new();
    let rescheduling = RwSignal::new(None::<BookingRow>);
    let version = use_live_version(&[topic::APPOINTMENT]);
    let list = Resource::new(
        move || {
            (
                status.get().as_str().to_string(),
                from.get(),
                to.get(),
                search.get(),
                page.get(),
                version.get(),
                cancel.version().get(),
                noshow.version().get(),
                reschedule.version().get(),
            )
        },
        |(s, f, t, q, p, ..)| bookings(s, f, t, q, p),
    );
    // Close the dialog once the cancel went through.
    Effect::new(move |_| {
        if let Some(Ok(_)) = cancel.value().get() {
            cancelling.set(None);
        }
        if let Some(Ok(_)) = reschedule.value().get() {
            rescheduling.set(None);
        }
    });

    view! {
        <h1>"Bookings"</h1>
        {move || {
            cancel
                .value()
                .get()
                .and_then(|r| r.ok())
                .map(|n| {
                    let what = if n == 1 { "The booking was cancelled.".to_string() } else { format!("{n} meetings were cancelled.") };
                    view! { <p class="alert ok" role="status">{what}</p> }
                })
        }}
        <Saved value=reschedule.value() one="The booking was rescheduled." many="{n} meetings were rescheduled." />
        {error_alert(noshow.value())}
        <form class="filters" on:submit=|e| e.prevent_default()>
            <div>
                <label for="bk-status">"Status"</label>
                <select
                    id="bk-status"
                    on:change=move |e| {
                        if let Some(f) = BookingStatusFilter::parse(&event_target_value(&e)) {
                            status.set(f);
                            page.set(0);
                        }
                    }
                >
                    {BookingStatusFilter::ALL
                        .into_iter()
                        .map(|f| {
                            view! {
                                <option value=f.as_str() selected=move || status.get() == f>
                                    {f.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="bk-from">"From"</label>
                <input id="bk-from" type="date" on:change=move |e| { from.set(event_target_value(&e)); page.set(0); } />
            </div>
            <div>
                <label for="bk-to">"To"</label>
                <input id="bk-to" type="date" on:change=move |e| { to.set(event_target_value(&e)); page.set(0); } />
            </div>
            <div class="grow">
                <label for="bk-search">"Patient name"</label>
                <input
                    id="bk-search"
                    type="search"
                    placeholder="Search by patient name"
                    on:input=move |e| { search.set(event_target_value(&e)); page.set(0); }
                />
            </div>
        </form>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="alert error" role="alert">{e.message().to_string()}</p> }.into_any(),
                    Ok(p) if p.rows.is_empty() => view! { <p class="muted">"No bookings match."</p> }.into_any(),
                    Ok(p) => {
                        let last_page = (p.total - 1).max(0) / p.page_size;
                        let shown = format!(
                            "{}–{} of {}",
                            p.page * p.page_size + 1,
                            p.page * p.page_size + p.rows.len() as i64,
                            p.total
                        );
                        view! {
                            <table class="table" aria-label="Bookings">
                                <thead>
                                    <tr>
                                        <th>"Patient"</th>
                                        <th>"Time"</th>
                                        <th>"Practitioner"</th>
                                        <th>"Appointment type"</th>
                                        <th>"Status"</th>
                                        <th><span class="sr-only">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.rows
                                        .into_iter()
                                        .map(|r| view! { <BookingLine row=r cancelling rescheduling noshow /> })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                <button type="button" disabled={p.page == 0} on:click=move |_| page.update(|x| *x -= 1)>
                                    "Previous"
                                </button>
                                <span>{shown}</span>
                                <button type="button" disabled={p.page >= last_page} on:click=move |_| page.update(|x| *x += 1)>
                                    "Next"
                                </button>
                            </nav>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
        {move || cancelling.get().map(|row| view! { <CancelDialog row action=cancel on_close=move || cancelling.set(None) /> })}
        {move || rescheduling.get().map(|row| view! { <RescheduleDialog row action=reschedule on_close=move || rescheduling.set(None) /> })}
    }
}

#[component]
fn BookingLine(
    row: BookingRow,
    cancelling: RwSignal<Option<BookingRow>>,
    rescheduling: RwSignal<Option<BookingRow>>,
    noshow: ServerAction<MarkNoShow>,
) -> impl IntoView {
    let id = row.id;
    let cancel_blocked = row.cancel_blocked.clone();
    let reschedule_blocked = row.reschedule_blocked.clone();
    let for_reschedule = row.clone();
    let noshow_blocked = row.noshow_blocked.clone();
    let for_dialog = row.clone();
    let menu_open = RwSignal::new(false);
    let status_class = match row.status_label.as_str() {
        "Cancelled" => "pill muted",
        "Tentative" => "pill pending",
        "Upcoming" | "In progress" => "pill ok",
        _ => "pill",
    };
    view! {
        <tr>
            <td data-label="Patient">{row.patient.clone()}</td>
            <td data-label="Time">{row.when.clone()} " " <span class="muted">{format!("({})", row.time_zone)}</span></td>
            <td data-label="Practitioner">{row.practitioner.clone()} <Invitees list=row.participants.clone() /></td>
            <td data-label="Appointment type">{row.service.clone()} {row.in_series.then_some(" · recurring")}</td>
            <td data-label="Status">
                <span class=status_class>{row.status_label.clone()}</span>
                {row.cancel_reason.clone().map(|r| view! { <span class="muted">" " {r}</span> })}
                {match row.pms_sync.as_str() {
                    "pending" => Some(view! { <br /><span class="pill pending pms-sync">"PMS: sending"</span> }.into_any()),
                    "synced" => Some(view! { <br /><span class="pill ok pms-sync">"PMS: synced"</span> }.into_any()),
                    "failed" => Some(view! { <br /><span class="pill danger pms-sync" title="The PMS did not accept the last update. An admin can retry it from the Outbox.">"PMS sync failed"</span> }.into_any()),
                    _ => None,
                }}
            </td>
            <td>
                // Controlled, so choosing an action closes the menu.
                <details class="row-menu" prop:open=move || menu_open.get()>
                    <summary
                        aria-label=format!("Actions for booking {id}")
                        on:click=move |e| {
                            e.prevent_default();
                            menu_open.update(|o| *o = !*o);
                        }
                    >
                        "⋯"
                    </summary>
                    <div class="menu">
                        <MenuItem label="Cancel" blocked=cancel_blocked menu_open on_pick=move || cancelling.set(Some(for_dialog.clone())) />
                        <MenuItem label="Reschedule" blocked=reschedule_blocked menu_open on_pick=move || rescheduling.set(Some(for_reschedule.clone())) />
                        <MenuItem label="Mark FTA" blocked=noshow_blocked.clone() menu_open on_pick=move || { noshow.dispatch(MarkNoShow { id, kind: "fta".into() }); } />
                        <MenuItem label="Mark DNA" blocked=noshow_blocked menu_open on_pick=move || { noshow.dispatch(MarkNoShow { id, kind: "dna".into() }); } />
                    </div>
                </details>
            </td>
        </tr>
    }
}

/// One action of a row's ⋯ menu: disabled with the reason as its tooltip
/// when not allowed; picking it closes the menu.
#[component]
fn MenuItem(
    label: &'static str,
    blocked: Option<String>,
    menu_open: RwSignal<bool>,
    on_pick: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <button
            type="button"
            disabled=blocked.is_some()
            title=blocked.clone().unwrap_or_default()
            on:click=move |_| {
                menu_open.set(false);
                on_pick();
            }
        >
            {label}
        </button>
    }
}
