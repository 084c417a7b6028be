//! Audit trail (clinic admins): who did what and when, filtered by date,
//! actor, patient, appointment and action, newest first, each entry's
//! before and after as "changed from → to"; the current filter downloads
//! as CSV.

use crate::api::audit::{audit_trail, AUDIT_CSV_PATH};
use crate::domain::live::topic;
use crate::live::use_live_version;
use crate::model::{AuditEntry, AuditFilter, AuditPage};
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Title text="Audit trail" />
        <Guard need=Need::Staff children=|_me| view! { <Audit /> } />
    }
}

#[component]
fn Audit() -> impl IntoView {
    let filter = RwSignal::new(AuditFilter::default());
    // The cursors of the pages shown so far: the last is this page's.
    let cursors = RwSignal::new(vec![None::<i64>]);
    let clinics = RwSignal::new(Vec::<(i64, String)>::new());
    let actions = RwSignal::new(Vec::<(String, String)>::new());
    let version = use_live_version(&[topic::APPOINTMENT, topic::REQUEST]);
    let data = Resource::new(
        move || {
            (
                filter.get(),
                cursors.get().last().copied().flatten(),
                version.get(),
            )
        },
        |(f, before, _)| {
            audit_trail(
                f.clinic_id,
                f.from,
                f.to,
                f.actor,
                f.patient,
                f.appointment_id,
                f.action,
                before,
            )
        },
    );
    // The choices come with each page (the clinic's own actions).
    Effect::new(move |_| {
        if let Some(Ok(p)) = data.get() {
            clinics.set(p.clinics.clone());
            actions.set(p.actions.clone());
        }
    });
    // Any change of filter starts again from the newest entry.
    let set = move |f: &dyn Fn(&mut AuditFilter)| {
        filter.update(|x| f(x));
        cursors.set(vec![None]);
    };
    let csv_href = move || format!("{AUDIT_CSV_PATH}?{}", filter.get().csv_query());
    view! {
        <h1>"Audit trail"</h1>
        <p class="muted">"Every change made in this clinic: who made it, when, and what it changed. Times are the clinic's."</p>
        <AuditFilters filter clinics actions set />
        <p><a class="button" href=csv_href download>"Download CSV"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="alert error" role="alert">{e.message().to_string()}</p> }.into_any(),
                    Ok(p) if p.rows.is_empty() => view! { <p class="muted">"No entries match."</p> }.into_any(),
                    Ok(p) => view! { <AuditList p cursors /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The filters; each change goes back to the newest entries.
#[component]
fn AuditFilters(
    filter: RwSignal<AuditFilter>,
    clinics: RwSignal<Vec<(i64, String)>>,
    actions: RwSignal<Vec<(String, String)>>,
    set: impl Fn(&dyn Fn(&mut AuditFilter)) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let text = |e: &leptos::ev::Event| event_target_value(e).trim().to_string();
    view! {
        <form class="filters" on:submit=|e| e.prevent_default()>
            {move || (clinics.get().len() > 1).then(|| view! {
                <div>
                    <label for="au-clinic">"Clinic"</label>
                    <select id="au-clinic" on:change=move |e| {
                        let c = event_target_value(&e).parse().ok();
                        set(&|f| { f.clinic_id = c; f.action.clear(); });
                    }>
                        {clinics.get().into_iter().map(|(id, n)| view! {
                            <option value=id.to_string() selected=move || filter.get().clinic_id == Some(id)>{n}</option>
                        }).collect_view()}
                    </select>
                </div>
            })}
            <div>
                <label for="au-from">"From"</label>
                <input id="au-from" type="date" on:change=move |e| { let d = text(&e).parse().ok(); set(&|f| f.from = d); } />
            </div>
            <div>
                <label for="au-to">"To"</label>
                <input id="au-to" type="date" on:change=move |e| { let d = text(&e).parse().ok(); set(&|f| f.to = d); } />
            </div>
            <div class="grow">
                <label for="au-actor">"Done by"</label>
                <input id="au-actor" type="search" placeholder="Name or email" maxlength="100"
                    on:input=move |e| { let v = text(&e); set(&|f| f.actor = v.clone()); } />
            </div>
            <div class="grow">
                <label for="au-patient">"Patient"</label>
                <input id="au-patient" type="search" placeholder="Name or email" maxlength="100"
                    on:input=move |e| { let v = text(&e); set(&|f| f.patient = v.clone()); } />
            </div>
            <div>
                <label for="au-appointment">"Appointment #"</label>
                <input id="au-appointment" type="number" min="1" inputmode="numeric"
                    on:input=move |e| { let a = text(&e).parse().ok(); set(&|f| f.appointment_id = a); } />
            </div>
            <div>
                <label for="au-action">"Action"</label>
                <select id="au-action" on:change=move |e| { let a = event_target_value(&e); set(&|f| f.action = a.clone()); }>
                    <option value="" selected=move || filter.get().action.is_empty()>"Any action"</option>
                    {move || actions.get().into_iter().map(|(code, label)| {
                        let is = code.clone();
                        view! { <option value=code selected=move || filter.get().action == is>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
        </form>
    }
}

/// One page of entries and the pager (newer / older).
#[component]
fn AuditList(p: AuditPage, cursors: RwSignal<Vec<Option<i64>>>) -> impl IntoView {
    let next = p.next_before;
    let first = cursors.with_untracked(|c| c.len() <= 1);
    view! {
        <table class="table" aria-label="Audit trail">
            <thead>
                <tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"About"</th><th>"Changes"</th></tr>
            </thead>
            <tbody>
                {p.rows.into_iter().map(|r| view! { <AuditLine r /> }).collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            <button type="button" disabled=first on:click=move |_| cursors.update(|c| { c.pop(); })>
                "Newer"
            </button>
            <button type="button" disabled=next.is_none() on:click=move |_| cursors.update(|c| c.push(next))>
                "Older"
            </button>
        </nav>
    }
}

#[component]
fn AuditLine(r: AuditEntry) -> impl IntoView {
    let about = format!("{} #{}", r.entity, r.entity_id);
    view! {
        <tr data-action=r.action.clone()>
            <td data-label="When">{r.at}</td>
            <td data-label="Who" style="overflow-wrap:anywhere">
                {r.actor}
                {r.on_behalf_of.map(|o| view! { <br /><span class="muted">"for " {o}</span> })}
            </td>
            <td data-label="Action">{r.action_label}</td>
            <td data-label="About">{about}</td>
            <td data-label="Changes" style="overflow-wrap:anywhere">
                {if r.changes.is_empty() {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else {
                    view! {
                        <ul class="changes">
                            {r.changes.into_iter().map(|c| view! {
                                <li><strong>{c.field}</strong> ": " {c.from} " → " {c.to}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
