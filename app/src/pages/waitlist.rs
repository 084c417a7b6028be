//! The waitlist (issue 15, point 2). For patients (patient bundle, kept
//! small): the join form used by the booking page and the portal, and the
//! portal's list of waiting entries and open offers with Claim. For a
//! clinic's admins and schedulers (full bundle, `/waitlist`): the waiting
//! patients in order with Remove and "Offer a time", the current offers,
//! and the clinic's settings section (mode, claim window).

use super::dialog::Modal;
use super::error_alert;
use super::patient_calls::{confirmation_alert, patient_action, PatientCall};
use crate::api::accounts::clinic_options;
use crate::api::waitlist::{
    get_my_waitlist, get_waitlist_board, get_waitlist_choices, waitlist_offer_times, LeaveWaitlist,
    OfferWaitlistTime, SaveWaitlistSettings,
};
use crate::domain::live::topic;
use crate::domain::waitlist::DayParts;
use crate::domain::waitlist::OfferMode;
use crate::live::use_live_version;
use crate::model::{WaitlistBoard, WaitlistChoices, WaitlistEntryView, WAITLIST_TOPIC};
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/waitlist/join?clinic=&service=&provider=`: a patient joins a clinic's
/// waitlist (service, provider or any, dates, times of day); the booking
/// page's "Join the waitlist" opens it with its choices. Served with the
/// full bundle, like the account pages: it is opened seldom, and the
/// portal, opened every time, stays within the patient bundle's budget.
#[component]
pub fn WaitlistJoinPage() -> impl IntoView {
    view! {
        <Title text="Join the waitlist" />
        <h1>"Join the waitlist"</h1>
        <Guard need=Need::Login children=|_me| view! { <JoinPicker /> } />
    }
}

/// The clinic, then the form for it.
#[component]
fn JoinPicker() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let num = move |k: &str| {
        query.with_untracked(|q| q.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0))
    };
    let first = num("clinic");
    let (service, provider) = (num("service"), num("provider"));
    let clinic = RwSignal::new(first);
    let clinics = Resource::new(|| (), |_| clinic_options());
    let choices = Resource::new(
        move || clinic.get(),
        |c| async move {
            match c {
                0 => Ok(None),
                c => get_waitlist_choices(c).await.map(Some),
            }
        },
    );
    view! {
        <section class="card narrow">
            <p class="muted">"When a time that suits you frees up, we offer it to you by email and in your portal, and you can claim it there."</p>
            <Suspense fallback=|| view! { <p class="loading">"Loading clinics…"</p> }>
                {move || Suspend::new(async move {
                    let list = clinics.await.unwrap_or_default();
                    view! {
                        <div class="form">
                        <label for="wl-clinic">"Clinic"</label>
                        <select id="wl-clinic" prop:value=move || clinic.get().to_string()
                            on:change=move |e| clinic.set(event_target_value(&e).parse().unwrap_or(0))>
                            <option value="0">"Choose a clinic…"</option>
                            {list.into_iter().map(|c| view! { <option value=c.id.to_string() selected=c.id == first>{c.name}</option> }).collect_view()}
                        </select>
                        </div>
                    }
                })}
            </Suspense>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok(Some(c)) => {
                            // What the booking page chose holds for its clinic only.
                            let (service, provider) = if c.clinic_id == first { (service, provider) } else { (0, 0) };
                            view! { <JoinForm c service provider /> }.into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <p><a href="/portal">"Back to your portal"</a></p>
        </section>
    }
}

#[component]
fn JoinForm(c: WaitlistChoices, service: i64, provider: i64) -> impl IntoView {
    let join = patient_action();
    let id = c.clinic_id;
    let first = c.services.first().map_or(0, |s| s.0);
    let service = RwSignal::new(if service > 0 { service } else { first });
    let provider = RwSignal::new(provider);
    let from = RwSignal::new(c.today.clone());
    let to = RwSignal::new(c.today.clone());
    let parts = [
        RwSignal::new(true),
        RwSignal::new(true),
        RwSignal::new(true),
    ];
    let send = move |_| {
        join.dispatch(PatientCall::Join(crate::model::WaitlistJoin {
            clinic_id: id,
            service_id: service.get_untracked(),
            provider_id: Some(provider.get_untracked()).filter(|p| *p > 0),
            date_from: from.get_untracked(),
            date_to: to.get_untracked(),
            parts: DayParts {
                morning: parts[0].get_untracked(),
                afternoon: parts[1].get_untracked(),
                evening: parts[2].get_untracked(),
            },
        }));
    };
    let f = |s: &str| format!("wl-{s}-{id}");
    view! {
        <div class="form waitlist-join" role="group" aria-label="Join the waitlist">
            <label for=f("service")>"Service"</label>
            <select id=f("service") on:change=move |e| service.set(event_target_value(&e).parse().unwrap_or(0))>
                {c.services.iter().map(|(i, n)| view! { <option value=i.to_string() selected=service.get_untracked() == *i>{n.clone()}</option> }).collect_view()}
            </select>
            <label for=f("provider")>"Provider"</label>
            <select id=f("provider") on:change=move |e| provider.set(event_target_value(&e).parse().unwrap_or(0))>
                <option value="0">"Any provider"</option>
                {c.providers.iter().map(|(i, n)| view! { <option value=i.to_string() selected=provider.get_untracked() == *i>{n.clone()}</option> }).collect_view()}
            </select>
            <label for=f("from")>"From"</label>
            <input id=f("from") type="date" min=c.today.clone() max=c.last_day.clone() prop:value=move || from.get() on:input=move |e| from.set(event_target_value(&e)) />
            <label for=f("to")>"To"</label>
            <input id=f("to") type="date" min=c.today.clone() max=c.last_day.clone() prop:value=move || to.get() on:input=move |e| to.set(event_target_value(&e)) />
            <fieldset class="choices">
                <legend>"Times of day"</legend>
                {["Morning", "Afternoon", "Evening"].into_iter().zip(parts).map(|(l, s)| view! {
                    <label class="check"><input type="checkbox" prop:checked=move || s.get() on:change=move |e| s.set(event_target_checked(&e)) />{l}</label>
                }).collect_view()}
            </fieldset>
            <div class="actions">
                <button type="button" class="primary" disabled=move || join.pending().get() on:click=send>"Join the waitlist"</button>
            </div>
            {confirmation_alert(join)}
            {error_alert(join.value())}
        </div>
    }
}

/// The portal's waitlist: open offers (Claim), waiting entries (Leave),
/// and the way to join one (`WaitlistJoinPage`).
#[component]
pub fn MyWaitlistSection() -> impl IntoView {
    let claim = patient_action();
    let leave = patient_action();
    let version = use_live_version(&[WAITLIST_TOPIC, topic::APPOINTMENT]);
    let list = Resource::new(
        move || (version.get(), claim.version().get(), leave.version().get()),
        |_| get_my_waitlist(),
    );
    view! {
        <section class="card waitlist">
            <h2>"Waitlist"</h2>
            {confirmation_alert(claim)}
            {error_alert(claim.value())}
            {confirmation_alert(leave)}
            {error_alert(leave.value())}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let w = list.await.unwrap_or_default();
                    view! {
                        {(w.offers.is_empty() && w.entries.is_empty()).then(|| view! { <p class="muted">"You are not on any waitlist."</p> })}
                        <ul class="plain requests">
                            {w.offers.into_iter().map(|o| view! {
                                <li class="request-card offer" data-offer=o.id.to_string()>
                                    <div class="request-head"><strong>"A time is free: " {o.service} " with " {o.provider}</strong><span class="pill ok">"Offer"</span></div>
                                    <p>{o.when} <br /><span class="muted">{o.clinic_name}</span></p>
                                    <div class="actions">
                                        <button type="button" class="primary" disabled=move || claim.pending().get()
                                            on:click=move |_| { claim.dispatch(PatientCall::Claim { offer_id: o.id }); }>"Claim"</button>
                                        <span class="muted">"Claim by " {o.claim_by}</span>
                                    </div>
                                </li>
                            }).collect_view()}
                            // One whose dates ran out says so, without Leave.
                            {w.entries.into_iter().map(|e| { let waiting = e.ended.is_none(); view! {
                                <li class="request-card" data-entry=e.id.to_string()>
                                    <div class="request-head"><strong>{e.service} " · " {e.provider}</strong><span class=if waiting { "pill pending" } else { "pill muted" }>{if waiting { "Waiting" } else { "Ended" }}</span></div>
                                    <p>{e.dates} " · " {e.times_of_day}<br /><span class="muted">{e.ended} " " {e.clinic_name}</span></p>
                                    {waiting.then(|| view! { <button type="button" class="small" disabled=move || leave.pending().get()
                                        on:click=move |_| { leave.dispatch(PatientCall::Leave { entry_id: e.id }); }>"Leave the waitlist"</button> })}
                                </li>
                            }}).collect_view()}
                        </ul>
                    }
                })}
            </Transition>
            <a class="button-link" href="/waitlist/join">"Join a clinic's waitlist"</a>
        </section>
    }
}

/// The staff page: a clinic's waitlist.
#[component]
pub fn WaitlistPage() -> impl IntoView {
    view! {
        <Title text="Waitlist" />
        <h1>"Waitlist"</h1>
        <Guard need=Need::Staff children=|_me| view! { <Board /> } />
    }
}

#[component]
fn Board() -> impl IntoView {
    let clinic = RwSignal::new(None::<i64>);
    let remove = ServerAction::<LeaveWaitlist>::new();
    let offer = ServerAction::<OfferWaitlistTime>::new();
    let version = use_live_version(&[WAITLIST_TOPIC, topic::APPOINTMENT]);
    let board = Resource::new(
        move || {
            (
                clinic.get(),
                version.get(),
                remove.version().get(),
                offer.version().get(),
            )
        },
        |(c, ..)| get_waitlist_board(c),
    );
    let offering = RwSignal::new(None::<WaitlistEntryView>);
    Effect::new(move |_| {
        if matches!(offer.value().get(), Some(Ok(_))) {
            offering.set(None);
        }
    });
    view! {
        {error_alert(remove.value())}
        {move || matches!(offer.value().get(), Some(Ok(_))).then(|| view! { <p class="alert ok" role="status">"The time was offered to the patient."</p> })}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Ok(b) => view! { <BoardView b clinic remove offering /> }.into_any(),
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || offering.get().map(|e| view! { <OfferDialog e offer offering /> })}
    }
}

#[component]
fn BoardView(
    b: WaitlistBoard,
    clinic: RwSignal<Option<i64>>,
    remove: ServerAction<LeaveWaitlist>,
    offering: RwSignal<Option<WaitlistEntryView>>,
) -> impl IntoView {
    let cid = b.clinic_id;
    view! {
        {(b.clinics.len() > 1).then(|| view! {
            <div class="filters"><div>
                <label for="wl-board-clinic">"Clinic"</label>
                <select id="wl-board-clinic" on:change=move |e| clinic.set(event_target_value(&e).parse().ok())>
                    {b.clinics.iter().map(|(id, n)| view! { <option value=id.to_string() selected=*id == cid>{n.clone()}</option> }).collect_view()}
                </select>
            </div></div>
        })}
        <p class="muted">{b.mode.label()} ". Claim window: " {b.claim_minutes} " minutes."</p>
        <section class="card">
            <h2>"Waiting patients"</h2>
            {b.entries.is_empty().then(|| view! { <p class="muted">"Nobody is waiting."</p> })}
            <ol class="plain requests waiting">
                {b.entries.into_iter().enumerate().map(|(i, e)| {
                    let (id, entry) = (e.id, e.clone());
                    view! {
                        <li class="request-card" data-entry=id.to_string()>
                            <div class="request-head"><strong>{i + 1} ". " {e.patient}</strong><span class="muted">"Joined " {e.joined}</span></div>
                            <p>{e.service} " · " {e.provider}<br />{e.dates} " · " {e.times_of_day}</p>
                            <div class="actions">
                                <button type="button" on:click=move |_| offering.set(Some(entry.clone()))>"Offer a time"</button>
                                <button type="button" class="danger" disabled=move || remove.pending().get()
                                    on:click=move |_| { remove.dispatch(LeaveWaitlist { entry_id: id }); }>"Remove"</button>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
        {(!b.ended.is_empty()).then(|| view! {
            <section class="card">
                <h2>"Ended this week"</h2>
                <ul class="plain requests ended">
                    {b.ended.into_iter().map(|e| view! {
                        <li class="request-card" data-entry=e.id.to_string()>
                            <div class="request-head"><strong>{e.patient}</strong><span class="pill muted">"Ended"</span></div>
                            <p>{e.service} " · " {e.provider}<br />{e.dates} ". " {e.ended}</p>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        <section class="card">
            <h2>"Offers"</h2>
            {b.offers.is_empty().then(|| view! { <p class="muted">"No offers this week."</p> })}
            <ul class="plain requests offers">
                {b.offers.into_iter().map(|o| view! {
                    <li class="request-card" data-offer=o.id.to_string()>
                        <div class="request-head"><strong>{o.patient}</strong><span class="pill muted">{o.status.clone()}</span></div>
                        <p>{o.service} " with " {o.provider} ", " {o.when}
                            {(o.status == "open").then(|| view! { <br /><span class="muted">"Claim by " {o.claim_by.clone()}</span> })}
                        </p>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// Staff choose one of the entry's free times to offer.
#[component]
fn OfferDialog(
    e: WaitlistEntryView,
    offer: ServerAction<OfferWaitlistTime>,
    offering: RwSignal<Option<WaitlistEntryView>>,
) -> impl IntoView {
    let entry_id = e.id;
    let times = Resource::new(move || entry_id, waitlist_offer_times);
    let chosen = RwSignal::new(String::new());
    let close = move || offering.set(None);
    offer.value().set(None);
    view! {
        <Modal label_id="wl-offer-title" on_close=close>
            <h2 id="wl-offer-title">"Offer a time to " {e.patient.clone()}</h2>
            <p class="muted">{e.service.clone()} " · " {e.provider.clone()} " · " {e.dates.clone()}</p>
            {error_alert(offer.value())}
            <Suspense fallback=|| view! { <p class="loading">"Loading free times…"</p> }>
                {move || Suspend::new(async move {
                    match times.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No free time matches this patient's wish."</p> }.into_any(),
                        Ok(list) => view! {
                            <label for="wl-offer-time">"Free time"</label>
                            <select id="wl-offer-time" on:change=move |e| chosen.set(event_target_value(&e))>
                                <option value="">"Choose a time…"</option>
                                {list.into_iter().map(|c| view! { <option value=format!("{}:{}", c.provider_id, c.start)>{c.label}</option> }).collect_view()}
                            </select>
                        }.into_any(),
                        Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <div class="actions">
                <button type="button" class="primary" disabled=move || chosen.with(String::is_empty) || offer.pending().get()
                    on:click=move |_| { offer.dispatch(OfferWaitlistTime { entry_id, choice: chosen.get_untracked() }); }>"Offer this time"</button>
                <button type="button" on:click=move |_| close()>"Close"</button>
            </div>
        </Modal>
    }
}

/// The Clinic settings page's waitlist section, with the values read with
/// the rest of the page (no load of its own: a resource created inside the
/// page's Suspense broke its hydration).
#[component]
pub fn WaitlistSettingsSection(cid: i64, mode: OfferMode, claim_minutes: i64) -> impl IntoView {
    let save = ServerAction::<SaveWaitlistSettings>::new();
    view! {
        <section class="card">
            <h2>"Waitlist"</h2>
            <ActionForm action=save attr:class="form service-form" attr:aria-label="Waitlist">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <label for="wl-mode">"When a time frees up, offer it to"</label>
                <select id="wl-mode" name="mode">
                    {[OfferMode::InTurn, OfferMode::AllAtOnce].into_iter().map(|m| view! {
                        <option value=m.as_str() selected=m == mode>{m.label()}</option>
                    }).collect_view()}
                </select>
                <label for="wl-minutes">"Claim window (minutes)"</label>
                <input id="wl-minutes" name="claim_minutes" inputmode="numeric" value=claim_minutes.to_string() />
                <div class="actions"><button type="submit" class="primary-inline">"Save waitlist settings"</button></div>
            </ActionForm>
            {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! { <p class="alert ok" role="status">"Waitlist settings saved."</p> })}
            {error_alert(save.value())}
        </section>
    }
}
