//! Bookings: every booking the user may see, filtered by status, date range
//! and patient name, with a ⋯ menu per row (Cancel, Mark FTA, Mark DNA).

use super::error_alert;
use crate::api::{bookings, CancelAppointment, MarkNoShow};
use crate::domain::booking::{CancelReason, MAX_CANCEL_NOTE};
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
            )
        },
        |(s, f, t, q, p, ..)| bookings(s, f, t, q, p),
    );
    // Close the dialog once the cancel went through.
    Effect::new(move |_| {
        if let Some(Ok(_)) = cancel.value().get() {
            cancelling.set(None);
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
                                        .map(|r| view! { <BookingLine row=r cancelling noshow /> })
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
    }
}

#[component]
fn BookingLine(
    row: BookingRow,
    cancelling: RwSignal<Option<BookingRow>>,
    noshow: ServerAction<MarkNoShow>,
) -> impl IntoView {
    let id = row.id;
    let cancel_blocked = row.cancel_blocked.clone();
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
            <td data-label="Practitioner">{row.practitioner.clone()}</td>
            <td data-label="Appointment type">{row.service.clone()} {row.in_series.then_some(" · recurring")}</td>
            <td data-label="Status">
                <span class=status_class>{row.status_label.clone()}</span>
                {row.cancel_reason.clone().map(|r| view! { <span class="muted">" " {r}</span> })}
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
                        <button
                            type="button"
                            disabled=cancel_blocked.is_some()
                            title=cancel_blocked.clone().unwrap_or_default()
                            on:click=move |_| {
                                menu_open.set(false);
                                cancelling.set(Some(for_dialog.clone()));
                            }
                        >
                            "Cancel"
                        </button>
                        <button
                            type="button"
                            disabled=noshow_blocked.is_some()
                            title=noshow_blocked.clone().unwrap_or_default()
                            on:click=move |_| {
                                menu_open.set(false);
                                noshow.dispatch(MarkNoShow { id, kind: "fta".into() });
                            }
                        >
                            "Mark FTA"
                        </button>
                        <button
                            type="button"
                            disabled=noshow_blocked.is_some()
                            title=noshow_blocked.clone().unwrap_or_default()
                            on:click=move |_| {
                                menu_open.set(false);
                                noshow.dispatch(MarkNoShow { id, kind: "dna".into() });
                            }
                        >
                            "Mark DNA"
                        </button>
                    </div>
                </details>
            </td>
        </tr>
    }
}

/// The one cancel dialog: booking summary, reason (FHIR-coded; "Other"
/// needs an explanation), note with a counter, message to the patient, the
/// irreversibility warning, and confirm buttons enabled only when valid.
#[component]
pub fn CancelDialog(
    row: BookingRow,
    action: ServerAction<CancelAppointment>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let count = move || note.with(|n| n.chars().count());
    let valid = move || {
        let r = reason.get();
        !r.is_empty()
            && count() <= MAX_CANCEL_NOTE
            && (r != "other" || !note.get().trim().is_empty())
    };
    let pending = action.pending();
    let id = row.id;
    let submit = move |scope: &'static str| {
        action.dispatch(CancelAppointment {
            id,
            scope: scope.into(),
            reason: reason.get_untracked(),
            note: note.get_untracked(),
            message: message.get_untracked(),
        });
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="cancel-title">
                <h2 id="cancel-title">"Cancel Meeting"</h2>
                <dl class="facts">
                    <dt>"Patient"</dt>
                    <dd>{row.patient.clone()}</dd>
                    <dt>"Time"</dt>
                    <dd>{format!("{} ({})", row.when, row.time_zone)}</dd>
                    <dt>"Practitioner"</dt>
                    <dd>{row.practitioner.clone()}</dd>
                    <dt>"Appointment type"</dt>
                    <dd>{row.service.clone()}</dd>
                </dl>
                {error_alert(action.value())}
                <div class="form">
                    <label for="cancel-reason">"Reason"</label>
                    <select id="cancel-reason" on:change=move |e| reason.set(event_target_value(&e))>
                        <option value="">"Choose a reason…"</option>
                        {CancelReason::ALL
                            .into_iter()
                            .map(|r| view! { <option value=r.fhir_code()>{r.label()}</option> })
                            .collect_view()}
                    </select>
                    <label for="cancel-note">
                        {move || if reason.get() == "other" { "Explanation (required)" } else { "Note (optional)" }}
                    </label>
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
                </div>
                <div class="actions">
                    <button type="button" on:click=move |_| on_close()>"Keep the booking"</button>
                    {if row.in_series {
                        view! {
                            <button type="button" class="danger" disabled=move || !valid() || pending.get() on:click=move |_| submit("this")>
                                "Cancel This Meeting Only"
                            </button>
                            <button type="button" class="danger" disabled=move || !valid() || pending.get() on:click=move |_| submit("series")>
                                "Cancel All Meetings in This Series"
                            </button>
                        }
                        .into_any()
                    } else {
                        view! {
                            <button type="button" class="danger" disabled=move || !valid() || pending.get() on:click=move |_| submit("this")>
                                "Cancel Meeting"
                            </button>
                        }
                        .into_any()
                    }}
                </div>
            </div>
        </div>
    }
}
