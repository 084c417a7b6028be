//! A provider's Dashboard, their landing page: the requests addressed to
//! them or their host group (one Accept per requested time, Decline with a
//! note), today's and upcoming meetings, their invitations (Accept or
//! Decline, one meeting or the rest of a series) and their booking links.
//! Live: any change to a request or an appointment they see refetches it.

use super::dialog::Modal;
use super::error_alert;
use super::notice::{Message, Notice};
use crate::api::appointments::AnswerInvitation;
use crate::api::dashboard::get_dashboard;
use crate::api::requests::{AcceptRequest, DeclineRequest};
use crate::domain::appointment::ParticipantStatus;
use crate::domain::live::topic;
use crate::domain::request::{pending_for, RequestMode};
use crate::live::{use_live_version, use_ticking_clock};
use crate::model::{
    invitation_label, BookingLink, DashboardMeeting, DashboardRequest, Invitation,
    InvitationAnswer, InvitationScope,
};
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard" />
        <Guard need=Need::Staff children=|me| view! { <Board user_id=me.user_id /> } />
    }
}

/// The actions the Dashboard's buttons dispatch.
#[derive(Clone, Copy)]
struct Actions {
    accept: ServerAction<AcceptRequest>,
    decline: ServerAction<DeclineRequest>,
    answer: ServerAction<AnswerInvitation>,
}

impl Actions {
    fn busy(self) -> bool {
        self.accept.pending().get() || self.decline.pending().get() || self.answer.pending().get()
    }
}

#[component]
fn Board(user_id: i64) -> impl IntoView {
    let acts = Actions {
        accept: ServerAction::new(),
        decline: ServerAction::new(),
        answer: ServerAction::new(),
    };
    let declining = RwSignal::new(None::<(i64, String)>);
    let version = use_live_version(&[topic::REQUEST, topic::APPOINTMENT]);
    let board = Resource::new(
        move || {
            (
                version.get(),
                acts.accept.version().get(),
                acts.decline.version().get(),
                acts.answer.version().get(),
            )
        },
        |_| get_dashboard(),
    );
    let server_now = Signal::derive(move || board.get().and_then(|b| b.ok()).map(|b| b.now));
    let now = use_ticking_clock(server_now);
    let notice = Notice::new();
    notice.on_result(acts.accept.value(), acts.accept.pending(), |id| {
        Some(Message::ok(format!(
            "Accepted. Appointment #{id} is booked and the requester can see it."
        )))
    });
    notice.on_ok(acts.decline.value(), acts.decline.pending(), |_| {
        Some(Message::ok(
            "The request was declined. The requester can see your note.",
        ))
    });
    notice.on_result(acts.answer.value(), acts.answer.pending(), |n| {
        Some(Message::ok(match n {
            1 => "Your answer was saved.".to_string(),
            n => format!("Your answer was saved for {n} meetings."),
        }))
    });
    Effect::new(move |_| {
        if matches!(acts.decline.value().get(), Some(Ok(_))) {
            declining.set(None);
        }
    });
    view! {
        <h1>"Dashboard"</h1>
        {notice.view()}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Ok(d) => view! {
                        <Requests rows=d.requests now acts declining user_id />
                        <Meetings title="Today" empty="No meetings today." rows=d.today />
                        <Meetings title="Upcoming" empty="No upcoming meetings in the next 30 days." rows=d.upcoming />
                        <Invitations rows=d.invitations acts />
                        <Links links=d.links />
                    }.into_any(),
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || declining.get().map(|(id, who)| view! {
            <DeclineDialog request_id=id requestor=who decline=acts.decline on_close=move || declining.set(None) />
        })}
    }
}

#[component]
fn Requests(
    rows: Vec<DashboardRequest>,
    now: Signal<i64>,
    acts: Actions,
    declining: RwSignal<Option<(i64, String)>>,
    user_id: i64,
) -> impl IntoView {
    view! {
        <section class="card dashboard-requests" aria-labelledby="dash-requests">
            <h2 id="dash-requests">"Requests"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"No pending requests for you or your host group."</p> }.into_any()
            } else {
                view! {
                    <div class="requests">
                        {rows.into_iter().map(|r| view! { <RequestCard r now acts declining user_id /> }).collect_view()}
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn RequestCard(
    r: DashboardRequest,
    now: Signal<i64>,
    acts: Actions,
    declining: RwSignal<Option<(i64, String)>>,
    user_id: i64,
) -> impl IntoView {
    let row = r.row;
    let id = row.id;
    let created = row.created_at;
    let waited = move || pending_for(now.get() - created);
    let accept = move |start: Option<i64>| {
        acts.accept.dispatch(AcceptRequest {
            request_id: id,
            provider_id: user_id,
            start,
            response: String::new(),
        });
    };
    let buttons = if row.mode == RequestMode::Now {
        view! {
            <button type="button" class="primary-inline" disabled=move || acts.busy() on:click=move |_| accept(None)>
                "Accept now"
            </button>
        }
        .into_any()
    } else {
        r.choices
            .into_iter()
            .map(|t| {
                let start = t.start;
                view! {
                    <button type="button" class="primary-inline" disabled=move || acts.busy() on:click=move |_| accept(Some(start))>
                        "Accept " {t.label}
                    </button>
                }
            })
            .collect_view()
            .into_any()
    };
    let requestor = row.requestor.clone();
    let when = if row.mode == RequestMode::Now {
        format!("Now, asked {}", row.asked)
    } else {
        row.times.join("; ")
    };
    view! {
        <article class="request-card" data-request=id.to_string()>
            <div class="request-head">
                <strong>{format!("#{id} · {} · {}", row.requestor, row.service_name)}</strong>
                <span class=if row.mode == RequestMode::Now { "pill live-now" } else { "pill" }>{row.mode.label()}</span>
            </div>
            <dl class="facts">
                <dt>"Request To"</dt>
                <dd>{format!("{} ({})", row.request_to, row.clinic_name)}</dd>
                <dt>"Request Time(s)"</dt>
                <dd>{when}</dd>
                <dt>"Pending For"</dt>
                <dd><span class="waited" class:late=move || waited().1 class:fresh=move || !waited().1>{move || waited().0}</span></dd>
                {(!row.note.is_empty()).then(|| view! { <dt>"Request Note"</dt><dd>{row.note.clone()}</dd> })}
                {row.answers
                    .into_iter()
                    .filter(|a| !a.answer.is_empty())
                    .map(|a| view! { <dt>{a.label}</dt><dd>{a.answer}</dd> })
                    .collect_view()}
            </dl>
            <div class="actions">
                {buttons}
                <button type="button" class="danger" disabled=move || acts.busy() on:click=move |_| declining.set(Some((id, requestor.clone())))>
                    "Decline"
                </button>
            </div>
        </article>
    }
}

/// Decline with a note the requester sees.
#[component]
fn DeclineDialog(
    request_id: i64,
    requestor: String,
    decline: ServerAction<DeclineRequest>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let note = RwSignal::new(String::new());
    let send = move |_| {
        decline.dispatch(DeclineRequest {
            request_id,
            response: note.get_untracked(),
        });
    };
    view! {
        <Modal label_id="decline-title" on_close=on_close>
            <h2 id="decline-title">"Decline request #" {request_id}</h2>
            <p>{format!("{requestor} sees your note with the answer.")}</p>
            {error_alert(decline.value())}
            <div class="form">
                <label for="decline-note">"Note to the requester (optional)"</label>
                <textarea id="decline-note" rows="3" maxlength="1000" on:input=move |e| note.set(event_target_value(&e))></textarea>
            </div>
            <div class="actions">
                <button type="button" on:click=move |_| on_close()>"Close"</button>
                <button type="button" class="danger" disabled=move || decline.pending().get() on:click=send>"Decline request"</button>
            </div>
        </Modal>
    }
}

#[component]
fn Meetings(
    title: &'static str,
    empty: &'static str,
    rows: Vec<DashboardMeeting>,
) -> impl IntoView {
    let id = format!("dash-{}", title.to_lowercase());
    let labelled_by = id.clone();
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=id>{title}</h2>
            {if rows.is_empty() {
                view! { <p class="muted">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="plain requests">
                        {rows.into_iter().map(|m| view! {
                            <li class="request-card" data-appointment=m.id.to_string()>
                                <div class="request-head">
                                    <strong>{m.when}</strong>
                                    <span class="pill">{m.status}</span>
                                </div>
                                {format!("{} with {}", m.service, m.patient)}
                                <br />
                                <span class="muted">
                                    {m.clinic_name}
                                    {m.invited_by.map(|h| format!(" · hosted by {h}"))}
                                </span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Invitations(rows: Vec<Invitation>, acts: Actions) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="dash-invitations">
            <h2 id="dash-invitations">"Invitations"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"No invitations to meetings in the next 30 days."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain requests">
                        {rows.into_iter().map(|i| view! { <InvitationCard i acts /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn InvitationCard(i: Invitation, acts: Actions) -> impl IntoView {
    let id = i.appointment_id;
    let answer = move |answer: InvitationAnswer, scope: InvitationScope| {
        acts.answer.dispatch(AnswerInvitation { id, answer, scope });
    };
    let button = move |label: String, a: InvitationAnswer, s: InvitationScope, shown: bool| {
        shown.then(|| {
            let class = if a == InvitationAnswer::Accept { "primary-inline" } else { "" };
            view! { <button type="button" class=class disabled=move || acts.busy() on:click=move |_| answer(a, s)>{label}</button> }
        })
    };
    let (accepted, declined) = (
        i.status == ParticipantStatus::Accepted,
        i.status == ParticipantStatus::Declined,
    );
    let pill = match i.status {
        ParticipantStatus::Accepted => "pill ok",
        ParticipantStatus::Declined => "pill muted",
        ParticipantStatus::NeedsAction => "pill pending",
    };
    let series = i.series_left.filter(|n| *n > 1);
    use InvitationAnswer::{Accept, Decline};
    use InvitationScope::{Series, This};
    view! {
        <li class="request-card" data-invitation=id.to_string()>
            <div class="request-head">
                <strong>{i.when}</strong>
                <span class=pill>{invitation_label(i.status)}</span>
            </div>
            {format!("{} with {}, hosted by {}", i.service, i.patient, i.host)}
            <br />
            <span class="muted">
                {i.clinic_name}
                {series.map(|n| format!(" · recurring: {n} meetings to come"))}
            </span>
            <div class="actions">
                {button("Accept".into(), Accept, This, !accepted)}
                {button("Decline".into(), Decline, This, !declined)}
                {series.map(|n| view! {
                    {button(format!("Accept all {n}"), Accept, Series, true)}
                    {button(format!("Decline all {n}"), Decline, Series, true)}
                })}
            </div>
        </li>
    }
}

/// Their personal booking link per clinic, to share with clients.
#[component]
fn Links(links: Vec<BookingLink>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="dash-links">
            <h2 id="dash-links">"Your booking link"</h2>
            <p class="muted">"Share it with your clients: it opens the clinic's booking page with you chosen."</p>
            {links.into_iter().enumerate().map(|(n, l)| {
                let id = format!("booking-link-{n}");
                view! {
                    <div class="form">
                        <label for=id.clone()>{l.clinic_name}</label>
                        <input id=id type="text" readonly value=l.url.clone() />
                        <a href=l.path.clone()>"Open my booking page"</a>
                    </div>
                }
            }).collect_view()}
        </section>
    }
}
