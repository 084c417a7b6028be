//! A clinic's public booking page: its services and the free slots of the
//! clinic's booking horizon (90 days unless the clinic sets otherwise) in the clinic's zone. Anyone may browse; sending a
//! request (Now, or Scheduled with up to 3 preferred times) needs a login.

use super::error_alert;
use crate::api::requests::{booking_page, free_slots, RequestSession};
use crate::domain::form::{Question, QuestionKind};
use crate::domain::live::topic;
use crate::domain::request::{RequestMode, MAX_REQUESTED_TIMES};
use crate::error::AppError;
use crate::live::use_live_version;
use crate::model::{money, BookingPageInfo, PublicProvider, PublicService, SlotDay};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn BookingPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let info = Resource::new(slug, booking_page);
    view! {
        <Title text="Book a session" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(i) => view! { <Booking info=i /> }.into_any(),
                    Err(e) => view! { <h1>"Book a session"</h1><p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Booking(info: BookingPageInfo) -> impl IntoView {
    let clinic_id = info.clinic_id;
    let service = RwSignal::new(info.services.first().map(|s| s.id));
    // "Book again with the same provider" links name the provider.
    let asked = leptos_router::hooks::use_query_map()
        .with_untracked(|q| q.get("provider").and_then(|p| p.parse::<i64>().ok()))
        .filter(|p| info.providers.iter().any(|x| x.id == *p));
    // None: anyone in the host group.
    let provider = RwSignal::new(asked);
    let providers = StoredValue::new(info.providers.clone());
    let now_possible = Memo::new(move |_| {
        providers.with_value(|ps| match provider.get() {
            None => ps.iter().any(|p| p.available_now),
            Some(id) => ps.iter().any(|p| p.id == id && p.available_now),
        })
    });
    let mode = RwSignal::new(RequestMode::Scheduled);
    let chosen = RwSignal::new(Vec::<(i64, String)>::new());
    // The day whose free times are shown (an index into the slot days).
    let day = RwSignal::new(0usize);
    let answers: Vec<RwSignal<String>> = info
        .questions
        .iter()
        .map(|_| RwSignal::new(String::new()))
        .collect();
    let note = RwSignal::new(String::new());
    let send = ServerAction::<RequestSession>::new();
    let version = use_live_version(&[topic::APPOINTMENT, topic::AVAILABILITY]);
    let slots = Resource::new(
        move || {
            (
                version.get(),
                service.get(),
                provider.get(),
                send.version().get(),
            )
        },
        move |(_, s, p, _)| async move {
            match s {
                None => Ok(Vec::new()),
                Some(s) => free_slots(clinic_id, s, p).await,
            }
        },
    );
    // A different service or provider has different slots.
    Effect::new(move |_| {
        service.track();
        provider.track();
        chosen.set(Vec::new());
        day.set(0);
    });
    Effect::new(move |_| {
        if !now_possible.get() && mode.get_untracked() == RequestMode::Now {
            mode.set(RequestMode::Scheduled);
        }
    });
    let hydrated = crate::shell::use_hydrated();
    // The answer shows next to the Send button; a sent form starts afresh.
    let result = NodeRef::<leptos::html::Div>::new();
    let answers_for_reset = answers.clone();
    Effect::new(move |_| {
        let Some(r) = send.value().get() else { return };
        if r.is_ok() {
            chosen.set(Vec::new());
            note.set(String::new());
            for a in &answers_for_reset {
                a.set(String::new());
            }
            mode.set(RequestMode::Scheduled);
            day.set(0);
        }
        super::reveal(result);
    });
    let next = format!("/book/{}", info.slug);

    view! {
        <h1>{info.name.clone()}</h1>
        <p class="muted">
            "Book a video session. Times are shown in the clinic's time zone, "
            <strong>{info.time_zone.clone()}</strong>
            "."
            {(!info.phone.is_empty()).then(|| format!(" Questions? Call {}.", info.phone))}
        </p>
        // Disabled (visibly, natively) until the app runs: choosing a
        // time or sending needs it, and a click before then would be lost.
        <fieldset class="booking" disabled=move || !hydrated.get()>
            <ServiceSection services=info.services providers=info.providers host_group=info.host_group asked service provider />
            <WhenSection mode now_possible chosen day slots />
            <section class="card book-about">
                <h2>"3. About your visit"</h2>
                <VisitQuestions questions=info.questions answers=answers.clone() note />
                <SendRequest logged_in=info.logged_in next=next.clone() slug=info.slug clinic_id service provider mode chosen answers note send result />
            </section>
            <WaitlistOffer logged_in=info.logged_in next clinic_id service provider />
        </fieldset>
    }
}

/// 1. Service: the clinic's services, and whom the request goes to (anyone
/// in the host group, or one provider).
#[component]
fn ServiceSection(
    services: Vec<PublicService>,
    providers: Vec<PublicProvider>,
    host_group: String,
    /// The provider named by a "book again" link.
    asked: Option<i64>,
    service: RwSignal<Option<i64>>,
    provider: RwSignal<Option<i64>>,
) -> impl IntoView {
    view! {
        <section class="card book-service">
            <h2>"1. Service"</h2>
            {if services.is_empty() {
                view! { <p class="muted">"This clinic offers no services online yet."</p> }.into_any()
            } else {
                view! {
                    <fieldset class="choices services">
                        <legend class="sr-only">"Service"</legend>
                        {services.into_iter().map(|s| {
                            let id = s.id;
                            view! {
                                <label class="check service">
                                    <input type="radio" name="service" checked=move || service.get() == Some(id) on:change=move |_| service.set(Some(id)) />
                                    <span>
                                        <strong>{s.name}</strong>
                                        " · " {s.duration_minutes} " min"
                                        {s.payment_required.then(|| format!(" · {}", money(s.price_cents)))}
                                        {(!s.description.is_empty()).then(|| view! { <br /><span class="muted">{s.description.clone()}</span> })}
                                    </span>
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                }.into_any()
            }}
            <label for="book-provider" class="field-label">"Request To"</label>
            <select id="book-provider" on:change=move |e| provider.set(event_target_value(&e).parse().ok())>
                <option value="">{format!("Anyone in {}", host_group)}</option>
                {providers.iter().map(|p| view! {
                    <option value=p.id.to_string() selected=asked == Some(p.id)>{p.name.clone()}{p.available_now.then_some(" (available now)")}</option>
                }).collect_view()}
            </select>
        </section>
    }
}

/// 2. When: Now or Scheduled, the chosen times, and the free times to
/// choose from.
#[component]
fn WhenSection(
    mode: RwSignal<RequestMode>,
    now_possible: Memo<bool>,
    chosen: RwSignal<Vec<(i64, String)>>,
    day: RwSignal<usize>,
    slots: Resource<Result<Vec<SlotDay>, AppError>>,
) -> impl IntoView {
    let toggle = move |start: i64, label: String| {
        chosen.update(|c| {
            if let Some(i) = c.iter().position(|x| x.0 == start) {
                c.remove(i);
            } else if c.len() < MAX_REQUESTED_TIMES {
                c.push((start, label));
                c.sort();
            }
        })
    };
    view! {
        <section class="card book-when">
            <h2>"2. When"</h2>
            <div class="segmented" role="group" aria-label="Request Type">
                <button type="button" aria-pressed=move || (mode.get() == RequestMode::Now).to_string() disabled=move || !now_possible.get() on:click=move |_| mode.set(RequestMode::Now)>"Now"</button>
                <button type="button" aria-pressed=move || (mode.get() == RequestMode::Scheduled).to_string() on:click=move |_| mode.set(RequestMode::Scheduled)>"Scheduled"</button>
            </div>
            {
                move || (!now_possible.get()).then(|| view! { <p class="muted">"Nobody is available right now; choose a time instead."</p> })
            }
            <Show when=move || mode.get() == RequestMode::Now>
                <p>"A clinician who is available now will pick up your request and start the session."</p>
            </Show>
            <Show when=move || mode.get() == RequestMode::Scheduled>
                <p class="muted">{format!("Choose up to {MAX_REQUESTED_TIMES} times that suit you; the clinic confirms one.")}</p>
                <div class="chosen" aria-live="polite">
                    {move || chosen.get().into_iter().map(|(start, label)| {
                        let l2 = label.clone();
                        view! {
                            <button type="button" class="chip" on:click=move |_| toggle(start, l2.clone()) aria-label=format!("Remove {label}")>
                                {label.clone()} " ×"
                            </button>
                        }
                    }).collect_view()}
                </div>
                <Transition fallback=|| view! { <p class="loading">"Loading free times…"</p> }>
                    {move || Suspend::new(async move {
                        match slots.await {
                            Ok(days) if days.is_empty() => view! { <p class="muted">"No free times can be booked online just now. Try another provider or service, or call the clinic."</p> }.into_any(),
                            Ok(days) => view! { <SlotPicker days chosen day toggle /> }.into_any(),
                            Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </Show>
        </section>
    }
}

/// 3. About your visit: the clinic's questions and the request note.
#[component]
fn VisitQuestions(
    questions: Vec<Question>,
    answers: Vec<RwSignal<String>>,
    note: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="form">
            {questions.iter().zip(answers.iter().copied()).enumerate().map(|(i, (q, a))| {
                let id = format!("q-{i}");
                let label = format!("{}{}", q.label, if q.required { "" } else { " (optional)" });
                match q.kind {
                    QuestionKind::Text => view! {
                        <label for=id.clone()>{label}</label>
                        <textarea id=id rows="2" maxlength="1000" required=q.required prop:value=move || a.get() on:input=move |e| a.set(event_target_value(&e))></textarea>
                    }.into_any(),
                    QuestionKind::Choice => view! {
                        <label for=id.clone()>{label}</label>
                        <select id=id prop:value=move || a.get() on:change=move |e| a.set(event_target_value(&e))>
                            <option value="">"Choose…"</option>
                            {q.options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                        </select>
                    }.into_any(),
                }
            }).collect_view()}
            <label for="book-note">"Request Note (optional)"</label>
            <textarea id="book-note" rows="3" maxlength="1000" prop:value=move || note.get() on:input=move |e| note.set(event_target_value(&e))></textarea>
        </div>
    }
}

/// The Send button and its answer (a logged-in visitor), or the links to
/// log in or register.
#[component]
fn SendRequest(
    logged_in: bool,
    /// This page, to come back to after logging in.
    next: String,
    slug: String,
    clinic_id: i64,
    service: RwSignal<Option<i64>>,
    provider: RwSignal<Option<i64>>,
    mode: RwSignal<RequestMode>,
    chosen: RwSignal<Vec<(i64, String)>>,
    answers: Vec<RwSignal<String>>,
    note: RwSignal<String>,
    send: ServerAction<RequestSession>,
    result: NodeRef<leptos::html::Div>,
) -> impl IntoView {
    let submit = move |_| {
        let Some(service_id) = service.get_untracked() else {
            return;
        };
        let mode = mode.get_untracked();
        send.dispatch(RequestSession {
            clinic_id,
            service_id,
            mode,
            provider_id: provider.get_untracked(),
            times: match mode {
                RequestMode::Now => Vec::new(),
                RequestMode::Scheduled => {
                    chosen.with_untracked(|c| c.iter().map(|c| c.0).collect())
                }
            },
            answers: answers.iter().map(|a| a.get_untracked()).collect(),
            note: note.get_untracked(),
        });
    };
    let ready = move || {
        service.get().is_some()
            && (mode.get() == RequestMode::Now || !chosen.with(Vec::is_empty))
            && !send.pending().get()
    };
    view! {
        {if logged_in {
            view! {
                <button type="button" class="primary send" disabled=move || !ready() on:click=submit>"Send request"</button>
                <div class="send-result" node_ref=result>
                    {move || send.value().get().and_then(|r| r.ok()).map(|id| view! {
                        <p class="alert ok" role="status">
                            "Request #" {id} " sent. You can follow it in your " <a href="/portal">"portal"</a> "."
                        </p>
                    })}
                    {error_alert(send.value())}
                </div>
            }.into_any()
        } else {
            view! {
                <p class="alert warn">
                    "To send a request, "
                    <a href=format!("/login?next={next}")>"log in"</a>
                    " or "
                    <a href=format!("/register?next={next}&clinic={}", slug)>"create an account"</a>
                    "."
                </p>
            }.into_any()
        }}
    }
}

/// Free times one day at a time: a strip of days (those with free times),
/// previous/next day, and the chosen day's times.
#[component]
fn SlotPicker(
    days: Vec<SlotDay>,
    chosen: RwSignal<Vec<(i64, String)>>,
    day: RwSignal<usize>,
    toggle: impl Fn(i64, String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let count = days.len();
    // Live updates may shorten the list under the chosen day.
    let current = move || day.get().min(count.saturating_sub(1));
    let starts: Vec<Vec<i64>> = days
        .iter()
        .map(|d| d.slots.iter().map(|s| s.start).collect())
        .collect();
    let days = StoredValue::new(days);
    let strip = NodeRef::<leptos::html::Div>::new();
    let go = move |i: usize| {
        day.set(i);
        // Keep the chosen day visible in the strip.
        super::reveal_child(strip, i);
    };
    view! {
        <div class="day-strip" role="group" aria-label="Day" node_ref=strip>
            {days.with_value(|d| d.to_vec()).into_iter().zip(starts).enumerate().map(|(i, (d, starts))| {
                let (dow, date) = d.label.split_once(' ').map(|(a, b)| (a.trim_end_matches(',').to_string(), b.to_string())).unwrap_or((d.label.clone(), String::new()));
                let picked = move || chosen.with(|c| c.iter().any(|x| starts.contains(&x.0)));
                view! {
                    <button type="button" class="day" class:has-chosen=picked aria-pressed=move || (current() == i).to_string()
                        on:click=move |_| go(i)>
                        <span class="dow">{dow}</span>
                        " "
                        <span class="dom">{date}</span>
                    </button>
                }
            }).collect_view()}
        </div>
        <div class="day-nav">
            <button type="button" aria-label="Previous day" disabled=move || current() == 0 on:click=move |_| go(current().saturating_sub(1))>"‹"</button>
            <h3 aria-live="polite">{move || days.with_value(|d| {
                let d = &d[current()];
                format!("{} · {} free {}", d.label, d.slots.len(), if d.slots.len() == 1 { "time" } else { "times" })
            })}</h3>
            <button type="button" aria-label="Next day" disabled=move || { current() + 1 >= count } on:click=move |_| go(current() + 1)>"›"</button>
        </div>
        {move || {
            let d = days.with_value(|d| d[current()].clone());
            let day_label = d.label.clone();
            view! {
                <div class="slots" role="group" aria-label=format!("Free times on {day_label}")>
                    {d.slots.into_iter().map(|s| {
                        let start = s.start;
                        let full = format!("{}, {}", day_label, s.label);
                        let picked = move || chosen.with(|c| c.iter().any(|x| x.0 == start));
                        view! {
                            <button type="button" class="slot" aria-pressed=move || picked().to_string() aria-label=full.clone()
                                on:click={ let full = full.clone(); move |_| toggle(start, full.clone()) }>
                                {s.label}
                            </button>
                        }
                    }).collect_view()}
                </div>
            }
        }}
    }
}

/// No time suits: join the clinic's waitlist (`/waitlist/join`, opened for
/// this clinic, service and provider); a visitor is asked to log in first.
/// The form is not on this page: created inside the page's suspense, it
/// panicked in tachys' hydration code (release build), and it would weigh
/// on the patient bundle.
#[component]
fn WaitlistOffer(
    logged_in: bool,
    next: String,
    clinic_id: i64,
    service: RwSignal<Option<i64>>,
    provider: RwSignal<Option<i64>>,
) -> impl IntoView {
    let href = move || {
        format!(
            "/waitlist/join?clinic={clinic_id}&service={}&provider={}",
            service.get().unwrap_or(0),
            provider.get().unwrap_or(0)
        )
    };
    view! {
        <section class="card book-waitlist">
            <h2>"No time suits?"</h2>
            {if logged_in {
                view! {
                    <p class="muted">"Wait for a time: when one that suits you frees up, we offer it to you."</p>
                    <a class="button-link" href=href>"Join the waitlist"</a>
                }.into_any()
            } else {
                view! { <p class="muted">"To join the waitlist, " <a href=format!("/login?next={next}")>"log in"</a> "."</p> }.into_any()
            }}
        </section>
    }
}
