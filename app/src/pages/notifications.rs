//! Account > Notifications (per event: Email and SMS), the admins' Outbox
//! and the dev Mailbox.

use super::error_alert;
use crate::api::notifications::{
    calendar_feed_names, calendar_feed_status, get_notification_settings, mailbox, outbox,
    CreateCalendarFeed, RetryMessage, RevokeCalendarFeed, SaveNotificationSettings,
    SetCalendarFeedNames,
};
use crate::domain::live::topic;
use crate::domain::notify::{Channel, NotifyEvent};
use crate::live::{successes, use_live_version};
use crate::model::{
    from_wire, wire_name, MailboxMessage, NotificationSettings, NotifyChoice, OutboxFilter,
};
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    view! {
        <Title text="Notifications" />
        <Guard need=Need::Staff children=|me| {
            let provider = me.memberships.iter().any(|m| m.role == crate::domain::role::Role::Provider);
            view! {
                <Notifications />
                {provider.then(|| view! { <CalendarFeed /> })}
            }
        } />
    }
}

/// The provider's private calendar feed: make a link (shown once), or
/// revoke it.
#[component]
fn CalendarFeed() -> impl IntoView {
    let create = ServerAction::<CreateCalendarFeed>::new();
    let revoke = ServerAction::<RevokeCalendarFeed>::new();
    let (made, gone) = (successes(create), successes(revoke));
    // Whether there is a feed, read in the browser once the page runs (and
    // again after each change). No Suspense: a second streamed boundary in
    // this page, beside the settings', failed to hydrate ("expected a marker
    // node"), leaving the buttons dead. Until it is known, a plain reactive
    // view shows "Loading…" on the server and in the browser alike.
    let has_feed = RwSignal::new(None::<bool>);
    Effect::new(move |_| {
        let _ = (made.get(), gone.get());
        leptos::task::spawn_local(async move {
            has_feed.set(Some(calendar_feed_status().await.unwrap_or(false)));
        });
    });
    // The new link is shown until it is revoked (it cannot be shown again).
    let url = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(u)) = create.value().get() {
            url.set(Some(u));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            url.set(None);
        }
    });
    view! {
        <section class="card" aria-labelledby="feed-title">
            <h2 id="feed-title">"Calendar feed"</h2>
            <p class="muted">"Subscribe to your appointments from any calendar app. The link is private: anyone who has it can read your schedule, so revoke it if it leaks."</p>
            {error_alert(create.value())}
            {error_alert(revoke.value())}
            {move || url.get().map(|url| view! {
                <p class="alert ok" role="status">"Your new feed link (copy it now; it is shown only once): "<br /><code class="feed-url">{url}</code></p>
            })}
            {move || match has_feed.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(has) => view! {
                    <p>{if has { "You have a calendar feed." } else { "You have no calendar feed." }}</p>
                    <div class="actions">
                        <button type="button" class="primary-inline" on:click=move |_| { create.dispatch(CreateCalendarFeed {}); }>
                            {if has { "Make a new link (ends the old one)" } else { "Make a feed link" }}
                        </button>
                        {has.then(|| view! {
                            " "
                            <button type="button" on:click=move |_| { revoke.dispatch(RevokeCalendarFeed {}); }>"Revoke"</button>
                        })}
                    </div>
                }
                .into_any(),
            }}
            <FeedPrivacy />
        </section>
    }
}

/// The provider's opt-in to patient names in their feed's event titles
/// (off: "Appointment — Initial consultation").
#[component]
fn FeedPrivacy() -> impl IntoView {
    let set = ServerAction::<SetCalendarFeedNames>::new();
    let done = successes(set);
    // Read in the browser, as the feed's status is (see CalendarFeed).
    let names = RwSignal::new(None::<bool>);
    Effect::new(move |_| {
        let _ = done.get();
        leptos::task::spawn_local(async move {
            names.set(calendar_feed_names().await.ok());
        });
    });
    view! {
        {error_alert(set.value())}
        {move || names.get().map(|on| view! {
            <p>
                <label>
                    <input
                        type="checkbox"
                        id="feed-names"
                        prop:checked=on
                        disabled=move || set.pending().get()
                        on:change=move |e| { set.dispatch(SetCalendarFeedNames { on: event_target_checked(&e) }); }
                    />
                    " Show patient names in event titles"
                </label>
                <br />
                <span class="muted">{if on {
                    "Your calendar shows each patient's name. Anyone who sees your calendar sees them too."
                } else {
                    "Events are titled like \"Appointment — Video consultation\": no patient names."
                }}</span>
            </p>
        })}
    }
}

#[component]
fn Notifications() -> impl IntoView {
    // None: the caller's own settings.
    let who = RwSignal::new(None::<i64>);
    let save = ServerAction::<SaveNotificationSettings>::new();
    let saved = successes(save);
    let data = Resource::new(
        move || (who.get(), saved.get()),
        |(w, _)| get_notification_settings(w),
    );
    view! {
        <p class="crumbs"><a href="/account">"Account"</a> " › Notifications"</p>
        <h1>"Notifications"</h1>
        {error_alert(save.value())}
        {move || save.value().get().and_then(|r| r.ok()).map(|_| view! {
            <p class="alert ok" role="status">"Notification settings saved."</p>
        })}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(s) => view! { <SettingsForm s who save /> }.into_any(),
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SettingsForm(
    s: NotificationSettings,
    who: RwSignal<Option<i64>>,
    save: ServerAction<SaveNotificationSettings>,
) -> impl IntoView {
    let user_id = s.user_id;
    // (event, email, sms) as the form shows them.
    let picks: Vec<(String, RwSignal<bool>, RwSignal<bool>)> = s
        .rows
        .iter()
        .map(|r| {
            (
                r.event.clone(),
                RwSignal::new(r.email),
                RwSignal::new(r.sms),
            )
        })
        .collect();
    let all = picks.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut choices = Vec::new();
        for (code, email, sms) in &all {
            let Some(event) = from_wire::<NotifyEvent>(code) else {
                continue;
            };
            for (on, channel) in [(email, Channel::Email), (sms, Channel::Sms)] {
                if on.get_untracked() {
                    choices.push(NotifyChoice { event, channel });
                }
            }
        }
        save.dispatch(SaveNotificationSettings { user_id, choices });
    };
    let no_mobile = s.mobile.trim().is_empty();
    view! {
        {(!s.choices.is_empty()).then(|| view! {
            <div class="filters">
                <div>
                    <label for="notify-who">"Provider"</label>
                    <select id="notify-who" on:change=move |e| who.set(event_target_value(&e).parse().ok())>
                        {s.choices.iter().map(|(id, n)| view! {
                            <option value=id.to_string() selected=*id == user_id>{n.clone()}</option>
                        }).collect_view()}
                    </select>
                </div>
            </div>
        })}
        <section class="card">
            <dl class="facts">
                <dt>"Name"</dt><dd>{s.name.clone()}</dd>
                <dt>"Email"</dt><dd>{s.email.clone()}</dd>
                <dt>"Mobile"</dt>
                <dd>{if no_mobile { "None on the profile (SMS unavailable)".to_string() } else { s.mobile.clone() }}</dd>
            </dl>
            <form class="form" aria-label="Notification settings" on:submit=submit>
                <table class="table notify-table">
                    <thead><tr><th>"Event"</th><th>"Email"</th><th>"SMS"</th></tr></thead>
                    <tbody>
                        {s.rows.iter().zip(picks).map(|(r, (event, email, sms))| {
                            let label = r.label.clone();
                            let (l1, l2) = (format!("Email: {label}"), format!("SMS: {label}"));
                            view! {
                                <tr data-event=event>
                                    <td data-label="Event">{label}</td>
                                    <td data-label="Email">
                                        <input type="checkbox" aria-label=l1 prop:checked=move || email.get()
                                            on:change=move |e| email.set(event_target_checked(&e)) />
                                    </td>
                                    <td data-label="SMS">
                                        <input type="checkbox" aria-label=l2 disabled=no_mobile prop:checked=move || sms.get()
                                            on:change=move |e| sms.set(event_target_checked(&e)) />
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="muted">"Patients always receive email about their own requests, reschedules, proposals and cancellations."</p>
                <div class="actions">
                    <button type="submit" class="primary-inline" disabled=move || save.pending().get()>"Save"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    view! {
        <Title text="Outbox" />
        <Guard need=Need::Staff children=|_me| view! { <Outbox /> } />
    }
}

/// The Outbox's status filter, as the select lists it.
const OUTBOX_FILTERS: [(OutboxFilter, &str); 4] = [
    (OutboxFilter::All, "All"),
    (OutboxFilter::Pending, "Pending"),
    (OutboxFilter::Sent, "Sent"),
    (OutboxFilter::Failed, "Failed"),
];

#[component]
fn Outbox() -> impl IntoView {
    let clinic = RwSignal::new(None::<i64>);
    let status = RwSignal::new(OutboxFilter::All);
    let retry = ServerAction::<RetryMessage>::new();
    let retried = successes(retry);
    let version = use_live_version(&[topic::APPOINTMENT, topic::REQUEST]);
    let data = Resource::new(
        move || (clinic.get(), status.get(), retried.get(), version.get()),
        |(c, s, _, _)| outbox(c, s),
    );
    view! {
        <h1>"Outbox"</h1>
        <p class="muted">"Every email and SMS Slotwise sends, with its delivery status. Failed messages were tried several times; Retry sends them again."</p>
        {error_alert(retry.value())}
        <div class="filters">
            <div>
                <label for="ob-status">"Status"</label>
                <select id="ob-status" on:change=move |e| {
                    status.set(from_wire(&event_target_value(&e)).unwrap_or_default());
                }>
                    {OUTBOX_FILTERS.iter().map(|(f, label)| view! {
                        <option value=wire_name(f)>{*label}</option>
                    }).collect_view()}
                </select>
            </div>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => {
                        let cid = v.clinic_id;
                        view! {
                            {(v.clinics.len() > 1).then(|| view! {
                                <div class="filters"><div>
                                    <label for="ob-clinic">"Clinic"</label>
                                    <select id="ob-clinic" on:change=move |e| clinic.set(event_target_value(&e).parse().ok())>
                                        {v.clinics.iter().map(|(id, n)| view! { <option value=id.to_string() selected=*id == cid>{n.clone()}</option> }).collect_view()}
                                    </select>
                                </div></div>
                            })}
                            <p class="counts">
                                <span class="pill">{format!("{} pending", v.pending)}</span> " "
                                <span class="pill ok">{format!("{} sent", v.sent)}</span> " "
                                <span class={if v.failed > 0 { "pill danger" } else { "pill muted" }}>{format!("{} failed", v.failed)}</span>
                            </p>
                            {if v.rows.is_empty() {
                                view! { <p class="muted">"No messages."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="table outbox">
                                        <thead><tr><th>"Queued"</th><th>"To"</th><th>"Event"</th><th>"Subject"</th><th>"Status"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                                        <tbody>
                                            {v.rows.into_iter().map(|r| {
                                                let id = r.id;
                                                let failed = r.status == "failed";
                                                let status_text = match r.status.as_str() {
                                                    "sent" => format!("Sent {} via {}", r.sent.clone().unwrap_or_default(), r.transport),
                                                    "failed" => format!("Failed after {} attempts", r.attempts),
                                                    _ if r.attempts > 0 => format!("Retrying at {} ({} attempts)", r.next_attempt.clone().unwrap_or_default(), r.attempts),
                                                    _ => "Pending".to_string(),
                                                };
                                                view! {
                                                    <tr data-status=r.status.clone()>
                                                        <td data-label="Queued">{r.created}</td>
                                                        <td data-label="To">{r.recipient}<br /><span class="muted">{r.channel.to_uppercase()}</span></td>
                                                        <td data-label="Event">{r.event}</td>
                                                        <td data-label="Subject">{r.subject}</td>
                                                        <td data-label="Status">
                                                            {status_text}
                                                            {r.last_error.map(|e| view! { <br /><span class="muted small-text">{e}</span> })}
                                                        </td>
                                                        <td>{failed.then(|| view! {
                                                            <button type="button" class="small" on:click=move |_| { retry.dispatch(RetryMessage { id }); }>"Retry"</button>
                                                        })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn MailboxPage() -> impl IntoView {
    view! {
        <Title text="Mailbox" />
        <Guard need=Need::Login children=|_me| view! { <Mailbox /> } />
    }
}

#[component]
fn Mailbox() -> impl IntoView {
    let version = use_live_version(&[topic::APPOINTMENT, topic::REQUEST]);
    let data = Resource::new(move || version.get(), |_| mailbox());
    let open = RwSignal::new(None::<i64>);
    view! {
        <h1>"Mailbox"</h1>
        <p class="muted">
            "No mail server is configured, so Slotwise keeps the email and SMS it would send here, exactly as each recipient would receive them."
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No messages yet. Book or cancel an appointment and watch them arrive."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="mailbox" aria-label="Messages">
                            {list.into_iter().map(|m| view! { <MailItem m open /> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MailItem(m: MailboxMessage, open: RwSignal<Option<i64>>) -> impl IntoView {
    let id = m.id;
    let is_open = move || open.get() == Some(id);
    let to = if m.to_name.is_empty() {
        m.to.clone()
    } else {
        format!("{} <{}>", m.to_name, m.to)
    };
    let sms = m.channel == "sms";
    let title = if sms {
        m.text.clone()
    } else {
        m.subject.clone()
    };
    let ics = m.attachment.clone();
    let earlier = m.attachment_extra.clone();
    view! {
        <li class="mail" data-to=m.to.clone() data-channel=m.channel.clone()>
            <button type="button" class="mail-head" aria-expanded=move || is_open().to_string()
                on:click=move |_| open.update(|o| *o = if *o == Some(id) { None } else { Some(id) })>
                <span class="pill muted">{if sms { "SMS" } else { "Email" }}</span>
                " " <strong class="mail-to">{to}</strong>
                " " <span class="mail-subject">{title}</span>
                " " <span class="muted">{m.at.clone()}</span>
            </button>
            {move || is_open().then(|| {
                let html = m.html.clone();
                let text = m.text.clone();
                let ics = ics.clone();
                let earlier = earlier.clone();
                view! {
                    <div class="mail-body">
                        {if sms {
                            view! { <p>{text}</p> }.into_any()
                        } else {
                            view! {
                                // The HTML part, sandboxed: no scripts, no same-origin access.
                                <iframe class="mail-html" title="Email" sandbox="" srcdoc=html></iframe>
                                <details><summary>"Plain text"</summary><pre>{text}</pre></details>
                            }.into_any()
                        }}
                        {ics.map(|c| view! {
                            <details><summary>"Calendar attachment (invite.ics)"</summary><pre class="ics">{c}</pre></details>
                        })}
                        {earlier.map(|c| view! {
                            <details><summary>"Calendar attachment (earlier-meetings.ics)"</summary><pre class="ics">{c}</pre></details>
                        })}
                    </div>
                }
            })}
        </li>
    }
}
