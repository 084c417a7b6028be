//! Bookings: every booking the user may see, filtered by status, date range
//! and patient name, with a ⋯ menu per row (Cancel, Reschedule, Mark FTA,
//! Mark DNA).

use super::appointment_dialogs::{CancelDialog, Invitees, NoShowDialog, RescheduleDialog};
use super::menu::Menu;
use super::notice::{cancelled, Message, Notice};
use crate::api::appointments::{CancelAppointment, MarkNoShow, RescheduleAppointment};
use crate::api::bookings::bookings;
use crate::domain::booking::NoShowKind;
use crate::domain::live::topic;
use crate::live::use_live_version;
use crate::model::{
    bookings_csv_href, from_wire, wire_name, BookingPage, BookingRow, BookingStatusFilter,
};
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
    let from = RwSignal::new(None::<chrono::NaiveDate>);
    let to = RwSignal::new(None::<chrono::NaiveDate>);
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
                status.get(),
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
    // One banner: what the latest action did.
    let notice = Notice::new();
    // The booking being marked FTA/DNA (its dialog asks first), and what
    // the banner will say once it is done.
    let marking = RwSignal::new(None::<(BookingRow, NoShowKind)>);
    let marked = RwSignal::new(String::new());
    notice.on_ok(cancel.value(), cancel.pending(), |n| {
        Some(Message::ok(cancelled(*n, "The booking was cancelled.")))
    });
    notice.on_ok(reschedule.value(), reschedule.pending(), |o| {
        Some(Message::saved(
            o,
            "The booking was rescheduled.",
            "{n} meetings were rescheduled.",
        ))
    });
    // Errors stay in the dialog; the banner says what was marked.
    notice.on_ok(noshow.value(), noshow.pending(), move |_| {
        Some(Message::ok(marked.get_untracked()))
    });
    // Close the dialog once the cancel went through.
    Effect::new(move |_| {
        if let Some(Ok(_)) = cancel.value().get() {
            cancelling.set(None);
        }
        if let Some(Ok(_)) = reschedule.value().get() {
            rescheduling.set(None);
        }
        if let Some(Ok(_)) = noshow.value().get() {
            marking.set(None);
        }
    });

    view! {
        <h1>"Bookings"</h1>
        {notice.view()}
        <BookingFilters status from to search page />
        // Every page of what the filters select, as the clinic writes times;
        // `download` keeps the client-side router from taking the link.
        <p>
            <a class="button-link" href=move || bookings_csv_href(status.get(), from.get(), to.get(), &search.get()) download>
                "Download CSV"
            </a>
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="alert error" role="alert">{e.message().to_string()}</p> }.into_any(),
                    Ok(p) if p.rows.is_empty() => view! { <p class="muted">"No bookings match."</p> }.into_any(),
                    Ok(p) => view! { <BookingList p page cancelling rescheduling marking marked /> }.into_any(),
                }
            })}
        </Transition>
        {move || cancelling.get().map(|row| view! { <CancelDialog row action=cancel on_close=move || cancelling.set(None) /> })}
        {move || rescheduling.get().map(|row| view! { <RescheduleDialog row action=reschedule on_close=move || rescheduling.set(None) /> })}
        {move || marking.get().map(|(row, kind)| view! { <NoShowDialog row kind action=noshow on_close=move || marking.set(None) /> })}
    }
}

/// The filters above the list: status, date range and patient name; each
/// change goes back to the first page.
#[component]
fn BookingFilters(
    status: RwSignal<BookingStatusFilter>,
    from: RwSignal<Option<chrono::NaiveDate>>,
    to: RwSignal<Option<chrono::NaiveDate>>,
    search: RwSignal<String>,
    page: RwSignal<i64>,
) -> impl IntoView {
    view! {
        <form class="filters" on:submit=|e| e.prevent_default()>
            <div>
                <label for="bk-status">"Status"</label>
                <select
                    id="bk-status"
                    on:change=move |e| {
                        if let Some(f) = from_wire::<BookingStatusFilter>(&event_target_value(&e)) {
                            status.set(f);
                            page.set(0);
                        }
                    }
                >
                    {BookingStatusFilter::ALL
                        .into_iter()
                        .map(|f| {
                            view! {
                                <option value=wire_name(&f) selected=move || status.get() == f>
                                    {f.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="bk-from">"From"</label>
                <input id="bk-from" type="date" on:change=move |e| { from.set(event_target_value(&e).parse().ok()); page.set(0); } />
            </div>
            <div>
                <label for="bk-to">"To"</label>
                <input id="bk-to" type="date" on:change=move |e| { to.set(event_target_value(&e).parse().ok()); page.set(0); } />
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
    }
}

/// One page of bookings: the table and the pager.
#[component]
fn BookingList(
    p: BookingPage,
    page: RwSignal<i64>,
    cancelling: RwSignal<Option<BookingRow>>,
    rescheduling: RwSignal<Option<BookingRow>>,
    marking: RwSignal<Option<(BookingRow, NoShowKind)>>,
    marked: RwSignal<String>,
) -> impl IntoView {
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
                    .map(|r| view! { <BookingLine row=r cancelling rescheduling marking marked /> })
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
}

#[component]
fn BookingLine(
    row: BookingRow,
    cancelling: RwSignal<Option<BookingRow>>,
    rescheduling: RwSignal<Option<BookingRow>>,
    marking: RwSignal<Option<(BookingRow, NoShowKind)>>,
    marked: RwSignal<String>,
) -> impl IntoView {
    let id = row.id;
    let for_noshow = row.clone();
    // Opens the FTA/DNA dialog, with the banner's words ready for success.
    let mark = move |kind: NoShowKind| {
        let r = for_noshow.clone();
        let words = match kind {
            NoShowKind::Fta => "failed to attend",
            NoShowKind::Dna => "did not attend",
        };
        marked.set(format!(
            "Marked {} ({words}): {}, {}.",
            kind.label(),
            r.patient,
            r.when
        ));
        marking.set(Some((r, kind)));
    };
    let mark_dna = mark.clone();
    let cancel_blocked = row.cancel_blocked.clone();
    let reschedule_blocked = row.reschedule_blocked.clone();
    let for_reschedule = row.clone();
    let noshow_blocked = row.noshow_blocked.clone();
    let for_dialog = row.clone();
    let menu = Menu::new();
    let menu_id = format!("booking-menu-{id}");
    let button_id = format!("booking-menu-button-{id}");
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
                {row.late_fee.clone().map(|f| view! { <br /><span class="late-fee">"Late cancellation fee " {f}</span> })}
                {row.confirmed.then(|| view! { <br /><span class="pill ok confirmed">"Confirmed"</span> })}
                {row.reminder.clone().map(|r| view! { <br /><span class="muted reminder-state">{r}</span> })}
                {row.answer_by.clone().map(|t| view! { <br /><span class="muted answer-by">{t}</span> })}
                {match row.pms_sync.as_str() {
                    "pending" => Some(view! { <br /><span class="pill pending pms-sync">"PMS: sending"</span> }.into_any()),
                    "synced" => Some(view! { <br /><span class="pill ok pms-sync">"PMS: synced"</span> }.into_any()),
                    "failed" => Some(view! { <br /><span class="pill danger pms-sync" title="The PMS did not accept the last update. An admin can retry it from the Outbox.">"PMS sync failed"</span> }.into_any()),
                    _ => None,
                }}
            </td>
            <td>
                <div class="row-menu" node_ref=menu.root>
                    <button
                        type="button"
                        class="menu-button"
                        id=button_id.clone()
                        aria-haspopup="menu"
                        aria-expanded=menu.expanded()
                        aria-controls=menu_id.clone()
                        aria-label=format!("Actions for booking {id}")
                        node_ref=menu.button
                        on:click=move |_| menu.toggle()
                        on:keydown=move |e| menu.on_button_keydown(e)
                    >
                        "⋯"
                    </button>
                    <div
                        class="menu"
                        id=menu_id
                        role="menu"
                        aria-labelledby=button_id
                        hidden=move || !menu.open.get()
                        node_ref=menu.list
                        on:keydown=move |e| menu.on_menu_keydown(e)
                    >
                        <MenuItem label="Cancel" blocked=cancel_blocked menu on_pick=move || cancelling.set(Some(for_dialog.clone())) />
                        <MenuItem label="Reschedule" blocked=reschedule_blocked menu on_pick=move || rescheduling.set(Some(for_reschedule.clone())) />
                        <MenuItem label="Mark FTA" blocked=noshow_blocked.clone() menu on_pick=move || mark(NoShowKind::Fta) />
                        <MenuItem label="Mark DNA" blocked=noshow_blocked menu on_pick=move || mark_dna(NoShowKind::Dna) />
                    </div>
                </div>
            </td>
        </tr>
    }
}

/// One action of a row's ⋯ menu: when not allowed it stays focusable but
/// is marked disabled, with the reason as its tooltip; picking it closes the
/// menu and returns focus to the ⋯ button.
#[component]
fn MenuItem(
    label: &'static str,
    blocked: Option<String>,
    menu: Menu,
    on_pick: impl Fn() + 'static,
) -> impl IntoView {
    let disabled = blocked.is_some();
    view! {
        <button
            type="button"
            role="menuitem"
            tabindex="-1"
            aria-disabled=disabled.then_some("true")
            title=blocked.clone().unwrap_or_default()
            on:click=move |_| {
                if disabled {
                    return;
                }
                menu.close_to_button();
                on_pick();
            }
        >
            {label}
        </button>
    }
}
