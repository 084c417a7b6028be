//! Availability: a provider's weekly slots in the clinic's zone, time off,
//! and the "Available now" toggle that Dispatch sees live. Schedulers and
//! admins edit any provider of their clinic.

use super::error_alert;
use crate::api::availability::{
    availability, AddSlot, AddTimeOff, RemoveAvailability, SetAvailableNow,
};
use crate::domain::datetime_style::DateStyle;
use crate::domain::live::topic;
use crate::domain::slots::weekday_label;
use crate::live::{successes, use_live_version};
use crate::model::{AvailabilityEntry, AvailabilityView};
use crate::shell::{Guard, Need};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AvailabilityPage() -> impl IntoView {
    view! {
        <Title text="Availability" />
        <Guard need=Need::Staff children=|_me| view! { <Availability /> } />
    }
}

#[component]
fn Availability() -> impl IntoView {
    let clinic = RwSignal::new(None::<i64>);
    let provider = RwSignal::new(None::<i64>);
    let add_slot = ServerAction::<AddSlot>::new();
    let remove = ServerAction::<RemoveAvailability>::new();
    let add_off = ServerAction::<AddTimeOff>::new();
    let toggle = ServerAction::<SetAvailableNow>::new();
    let version = use_live_version(&[topic::AVAILABILITY]);
    let counts = [
        successes(add_slot),
        successes(remove),
        successes(add_off),
        successes(toggle),
    ];
    let saved = Memo::new(move |_| counts.iter().map(|c| c.get()).sum::<u64>());
    let data = Resource::new(
        move || (version.get(), clinic.get(), provider.get(), saved.get()),
        |(_, c, p, _)| availability(c, p),
    );
    view! {
        <h1>"Availability"</h1>
        {error_alert(add_slot.value())}
        {error_alert(remove.value())}
        {error_alert(add_off.value())}
        {error_alert(toggle.value())}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <Editor v clinic provider add_slot remove add_off toggle /> }.into_any(),
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Editor(
    v: AvailabilityView,
    clinic: RwSignal<Option<i64>>,
    provider: RwSignal<Option<i64>>,
    add_slot: ServerAction<AddSlot>,
    remove: ServerAction<RemoveAvailability>,
    add_off: ServerAction<AddTimeOff>,
    toggle: ServerAction<SetAvailableNow>,
) -> impl IntoView {
    let (cid, pid) = (v.clinic_id, v.provider_id);
    let on = v.available_now;
    let pickers = view! {
        <div class="filters">
            {(v.clinics.len() > 1).then(|| view! {
                <div>
                    <label for="av-clinic">"Clinic"</label>
                    <select id="av-clinic" on:change=move |e| { provider.set(None); clinic.set(event_target_value(&e).parse().ok()); }>
                        {v.clinics.iter().map(|(id, n)| view! { <option value=id.to_string() selected=*id == cid>{n.clone()}</option> }).collect_view()}
                    </select>
                </div>
            })}
            {(v.providers.len() > 1).then(|| view! {
                <div>
                    <label for="av-provider">"Provider"</label>
                    <select id="av-provider" on:change=move |e| provider.set(event_target_value(&e).parse().ok())>
                        {v.providers.iter().map(|(id, n)| view! { <option value=id.to_string() selected=*id == pid>{n.clone()}</option> }).collect_view()}
                    </select>
                </div>
            })}
        </div>
    };
    // The clinic's way of writing times (the inputs stay HH:MM).
    let style = DateStyle::parse(&v.date_style).unwrap_or_default();
    let by_day: Vec<(u8, Vec<_>)> = (0u8..7)
        .map(|d| {
            (
                d,
                v.windows
                    .iter()
                    .filter(|w| w.weekday == d)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    view! {
        {pickers}
        <p class="muted">
            {v.provider_name.clone()} " at " {v.clinic_name.clone()} ". Times are in " <strong>{v.time_zone.clone()}</strong> "."
        </p>
        <section class="card">
            <h2>"Available now"</h2>
            <label class="check switch">
                <input type="checkbox" checked=on disabled=move || toggle.pending().get()
                    on:change=move |e| { toggle.dispatch(SetAvailableNow { clinic_id: cid, provider_id: pid, on: event_target_checked(&e) }); } />
                {if on { "Available now: Dispatch can send on-demand requests." } else { "Not available now." }}
            </label>
        </section>
        <section class="card">
            <h2>"Weekly slots"</h2>
            <table class="table weekly">
                <tbody>
                    {by_day.into_iter().map(|(d, ws)| view! {
                        <tr>
                            <th scope="row">{weekday_label(d)}</th>
                            <td>
                                {if ws.is_empty() {
                                    view! { <span class="muted">"Not available"</span> }.into_any()
                                } else {
                                    ws.into_iter().map(|w| {
                                        let text = format!("{}–{}", style.minutes(w.start_minute), style.minutes(w.end_minute));
                                        view! {
                                            <span class="chip">
                                                {text.clone()}
                                                <button type="button" class="link-button" aria-label=format!("Remove {} {text}", weekday_label(d))
                                                    on:click=move |_| { remove.dispatch(RemoveAvailability { what: AvailabilityEntry::Slot, id: w.id }); }>"×"</button>
                                            </span>
                                        }
                                    }).collect_view().into_any()
                                }}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <ActionForm action=add_slot attr:class="inline-form" attr:aria-label="Add a weekly slot">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <input type="hidden" name="provider_id" value=pid.to_string() />
                <div>
                    <label for="slot-day">"Day"</label>
                    <select id="slot-day" name="weekday">
                        {(0u8..7).map(|d| view! { <option value=d.to_string()>{weekday_label(d)}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="slot-start">"From"</label>
                    <input id="slot-start" type="time" name="start" value="09:00" required />
                </div>
                <div>
                    <label for="slot-end">"To"</label>
                    <input id="slot-end" type="time" name="end" value="17:00" required />
                </div>
                <button type="submit" class="primary-inline">"Add slot"</button>
            </ActionForm>
        </section>
        <section class="card">
            <h2>"Time off"</h2>
            {if v.time_off.is_empty() {
                view! { <p class="muted">"No time off planned."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {v.time_off.into_iter().map(|t| view! {
                            <li class="time-off">
                                {t.label.clone()} {(!t.reason.is_empty()).then(|| format!(" · {}", t.reason))} " "
                                <button type="button" class="link-button" aria-label=format!("Remove time off {}", t.label)
                                    on:click=move |_| { remove.dispatch(RemoveAvailability { what: AvailabilityEntry::TimeOff, id: t.id }); }>"Remove"</button>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ActionForm action=add_off attr:class="inline-form" attr:aria-label="Add time off">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <input type="hidden" name="provider_id" value=pid.to_string() />
                <div><label for="off-from-date">"Start date"</label><input id="off-from-date" type="date" name="from_date" required /></div>
                <div><label for="off-from-time">"Start time"</label><input id="off-from-time" type="time" name="from_time" value="00:00" required /></div>
                <div><label for="off-to-date">"End date"</label><input id="off-to-date" type="date" name="to_date" required /></div>
                <div><label for="off-to-time">"End time"</label><input id="off-to-time" type="time" name="to_time" value="23:59" required /></div>
                <div class="grow"><label for="off-reason">"Reason (optional)"</label><input id="off-reason" name="reason" maxlength="200" /></div>
                <button type="submit" class="primary-inline">"Add time off"</button>
            </ActionForm>
        </section>
    }
}
