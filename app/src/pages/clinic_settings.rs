//! Clinic settings (admins): services (each video, in person or phone),
//! where appointments take place and the cancellation-reason policy, group
//! names and the pre-request form.

use super::error_alert;
use crate::api::clinic_settings::{
    get_clinic_settings, AddQuestion, EditQuestion, SaveDateStyle, SaveGroups, SavePms, SavePolicy,
    SaveService, SaveVenue, SetServiceActive,
};
use crate::domain::datetime_style::DateStyle;
use crate::domain::form::{Question, QuestionKind};
use crate::domain::live::topic;
use crate::domain::modality::{Modality, MAX_ADDRESS, MAX_CALL_PHONE};
use crate::domain::pms::PmsConnector;
use crate::domain::policy::{Policy, HORIZON_DAYS};
use crate::live::{successes, use_live_version};
use crate::model::{money, ClinicSettings, QuestionEdit, ServiceRow};
use crate::shell::{Guard, Need};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ClinicSettingsPage() -> impl IntoView {
    view! {
        <Title text="Clinic settings" />
        <Guard need=Need::Staff children=|_me| view! { <Settings /> } />
    }
}

#[derive(Clone, Copy)]
struct Actions {
    service: ServerAction<SaveService>,
    active: ServerAction<SetServiceActive>,
    groups: ServerAction<SaveGroups>,
    add_q: ServerAction<AddQuestion>,
    edit_q: ServerAction<EditQuestion>,
    policy: ServerAction<SavePolicy>,
    pms: ServerAction<SavePms>,
    venue: ServerAction<SaveVenue>,
    date_style: ServerAction<SaveDateStyle>,
}

#[component]
fn Settings() -> impl IntoView {
    let clinic = RwSignal::new(None::<i64>);
    let a = Actions {
        service: ServerAction::new(),
        active: ServerAction::new(),
        groups: ServerAction::new(),
        add_q: ServerAction::new(),
        edit_q: ServerAction::new(),
        policy: ServerAction::new(),
        pms: ServerAction::new(),
        venue: ServerAction::new(),
        date_style: ServerAction::new(),
    };
    let version = use_live_version(&[topic::AVAILABILITY]);
    let counts = [
        successes(a.service),
        successes(a.active),
        successes(a.groups),
        successes(a.add_q),
        successes(a.edit_q),
        successes(a.policy),
        successes(a.pms),
        successes(a.venue),
        successes(a.date_style),
    ];
    let saved = Memo::new(move |_| counts.iter().map(|c| c.get()).sum::<u64>());
    let data = Resource::new(
        move || (version.get(), clinic.get(), saved.get()),
        |(_, c, _)| get_clinic_settings(c),
    );
    view! {
        <h1>"Clinic settings"</h1>
        {error_alert(a.service.value())}
        {error_alert(a.active.value())}
        {error_alert(a.groups.value())}
        {error_alert(a.add_q.value())}
        {error_alert(a.edit_q.value())}
        {error_alert(a.policy.value())}
        {error_alert(a.pms.value())}
        {error_alert(a.venue.value())}
        {error_alert(a.date_style.value())}
        {move || a.date_style.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="alert ok" role="status">"Date and time style saved."</p> })}
        {move || a.venue.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="alert ok" role="status">"Appointment details saved."</p> })}
        {move || a.pms.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="alert ok" role="status">"Practice-management connection saved."</p> })}
        {move || a.policy.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="alert ok" role="status">"Booking and cancellation policy saved."</p> })}
        {move || a.groups.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="alert ok" role="status">"Group names saved."</p> })}
        {move || a.service.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="alert ok" role="status">"Service saved."</p> })}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(s) => view! { <Editor s clinic a /> }.into_any(),
                    Err(e) => view! { <p class="alert error">{e.message().to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Editor(s: ClinicSettings, clinic: RwSignal<Option<i64>>, a: Actions) -> impl IntoView {
    let cid = s.clinic_id;
    view! {
        {(s.clinics.len() > 1).then(|| view! {
            <div class="filters">
                <div>
                    <label for="set-clinic">"Clinic"</label>
                    <select id="set-clinic" on:change=move |e| clinic.set(event_target_value(&e).parse().ok())>
                        {s.clinics.iter().map(|(id, n)| view! { <option value=id.to_string() selected=*id == cid>{n.clone()}</option> }).collect_view()}
                    </select>
                </div>
            </div>
        })}
        <p class="muted">
            {s.name.clone()} " (" {s.time_zone.clone()} "). Public booking page: "
            <a href=format!("/book/{}", s.slug)>{format!("/book/{}", s.slug)}</a>
        </p>
        <ServicesSection services=s.services cid a />
        <VenueSection address=s.address call_phone=s.call_phone reason_required=s.cancel_reason_required cid a />
        <DateStyleSection style=s.date_style cid a />
        <PolicySection policy=s.policy cid a />
        <crate::pages::reminders::RemindersSection s=s.reminders cid />
        <crate::pages::proposals::ProposalExpirySection s=s.proposals />
        <crate::pages::waitlist::WaitlistSettingsSection cid mode=s.waitlist_mode claim_minutes=s.waitlist_claim_minutes />
        <PmsSection connector=s.pms_connector url=s.pms_url secret_set=s.pms_secret_set cid a />
        <GroupsSection patient_group_name=s.patient_group_name host_group_name=s.host_group_name cid a />
        <QuestionsSection questions=s.questions cid a />
    }
}

/// The services the clinic offers, and the form that adds one or edits the
/// one picked in the table.
#[component]
fn ServicesSection(services: Vec<ServiceRow>, cid: i64, a: Actions) -> impl IntoView {
    let editing = RwSignal::new(None::<ServiceRow>);
    view! {
        <section class="card">
            <h2>"Services"</h2>
            <ServiceTable services editing a />
            <ServiceForm editing cid a />
        </section>
    }
}

/// Each service with its Edit and Stop offering / Offer again buttons.
#[component]
fn ServiceTable(
    services: Vec<ServiceRow>,
    editing: RwSignal<Option<ServiceRow>>,
    a: Actions,
) -> impl IntoView {
    view! {
        <table class="table">
            <thead><tr><th>"Service"</th><th>"Type"</th><th>"Duration"</th><th>"Payment"</th><th>"Status"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>
                {services.into_iter().map(|svc| {
                    let row = svc.clone();
                    let id = svc.id;
                    let active = svc.active;
                    view! {
                        <tr>
                            <td data-label="Service"><strong>{svc.name}</strong><br /><span class="muted">{svc.description}</span></td>
                            <td data-label="Type">{svc.modality.label()}</td>
                            <td data-label="Duration">{svc.duration_minutes} " min"</td>
                            <td data-label="Payment">{if svc.payment_required { money(svc.price_cents) } else { "None".into() }}</td>
                            <td data-label="Status"><span class=if active { "pill ok" } else { "pill muted" }>{if active { "Offered" } else { "Not offered" }}</span></td>
                            <td>
                                <button type="button" class="small" on:click=move |_| editing.set(Some(row.clone()))>"Edit"</button>
                                " "
                                <button type="button" class="small" on:click=move |_| { a.active.dispatch(SetServiceActive { service_id: id, active: !active }); }>
                                    {if active { "Stop offering" } else { "Offer again" }}
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Add a service, or edit the one being edited.
#[component]
fn ServiceForm(editing: RwSignal<Option<ServiceRow>>, cid: i64, a: Actions) -> impl IntoView {
    move || {
        let e = editing.get();
        let title = if e.is_some() {
            "Edit service"
        } else {
            "Add a service"
        };
        let e = e.unwrap_or(ServiceRow {
            id: 0,
            name: String::new(),
            description: String::new(),
            duration_minutes: 30,
            payment_required: false,
            price_cents: 0,
            active: true,
            modality: Modality::Video,
        });
        let price = if e.price_cents > 0 {
            format!("{}.{:02}", e.price_cents / 100, e.price_cents % 100)
        } else {
            String::new()
        };
        view! {
            <h3>{title}</h3>
            <ActionForm action=a.service attr:class="form service-form" attr:aria-label=title>
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <input type="hidden" name="service_id" value=e.id.to_string() />
                <label for="svc-name">"Name"</label>
                <input id="svc-name" name="name" maxlength="100" required value=e.name />
                <label for="svc-desc">"Description"</label>
                <textarea id="svc-desc" name="description" rows="2" maxlength="1000">{e.description}</textarea>
                <label for="svc-duration">"Duration (minutes)"</label>
                <input id="svc-duration" name="duration_minutes" type="number" min="5" max="480" required value=e.duration_minutes.to_string() />
                <fieldset>
                    <legend>"How it takes place"</legend>
                    {Modality::ALL.into_iter().map(|m| view! {
                        <label class="check">
                            <input type="radio" name="modality" value=m.as_str() checked={e.modality == m} />
                            " " {m.label()}
                        </label>
                    }).collect_view()}
                </fieldset>
                <label class="check"><input type="checkbox" name="payment_required" checked=e.payment_required />" Payment required"</label>
                <label for="svc-price">"Price"</label>
                <input id="svc-price" name="price" inputmode="decimal" placeholder="e.g. 45.00" value=price />
                <div class="actions">
                    {(e.id != 0).then(|| view! { <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button> })}
                    <button type="submit" class="primary-inline">{if e.id == 0 { "Add service" } else { "Save service" }}</button>
                </div>
            </ActionForm>
        }
    }
}

/// Where appointments take place (the address for in-person ones, the
/// number to call for phone ones) and whether staff must give a reason to
/// cancel.
#[component]
fn VenueSection(
    address: String,
    call_phone: String,
    reason_required: bool,
    cid: i64,
    a: Actions,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Appointments"</h2>
            <p class="muted">
                "In-person appointments show this address (and the room, if staff give one); phone appointments show the number to call, or that the clinic will call. Video appointments get a join link, meeting ID and passcode."
            </p>
            <ActionForm action=a.venue attr:class="form service-form" attr:aria-label="Appointments">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <label for="venue-address">"Clinic address"</label>
                <textarea id="venue-address" name="address" rows="2" maxlength=MAX_ADDRESS.to_string()>{address}</textarea>
                <label for="venue-phone">"Number patients call for phone appointments"</label>
                <input id="venue-phone" name="call_phone" type="tel" maxlength=MAX_CALL_PHONE.to_string() aria-describedby="venue-phone-help" value=call_phone />
                <p class="muted" id="venue-phone-help">"Leave it blank if the clinic calls the patient."</p>
                <label class="check">
                    <input type="checkbox" name="reason_required" checked=reason_required />
                    " Staff must choose a reason when cancelling"
                </label>
                <div class="actions"><button type="submit" class="primary-inline">"Save appointment details"</button></div>
            </ActionForm>
        </section>
    }
}

/// How the clinic writes dates and times on its pages and in its messages.
#[component]
fn DateStyleSection(style: String, cid: i64, a: Actions) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Dates and times"</h2>
            <ActionForm action=a.date_style attr:class="form service-form" attr:aria-label="Dates and times">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <label for="date-style">"How pages and messages write dates and times"</label>
                <select id="date-style" name="date_style">
                    {DateStyle::ALL.into_iter().map(|d| view! {
                        <option value=d.code() selected=d.code() == style>{d.label()}</option>
                    }).collect_view()}
                </select>
                <div class="actions"><button type="submit" class="primary-inline">"Save date and time style"</button></div>
            </ActionForm>
        </section>
    }
}

/// How late patients may cancel or reschedule on their own, the
/// late-cancellation fee and the booking horizon.
#[component]
fn PolicySection(policy: Policy, cid: i64, a: Actions) -> impl IntoView {
    let fee = match policy.late_cancel_fee_cents {
        0 => String::new(),
        c => format!("{}.{:02}", c / 100, c % 100),
    };
    view! {
        <section class="card">
            <h2>"Booking and cancellation policy"</h2>
            <p class="muted">
                "Patients may cancel or reschedule on their own until the late-notice window begins; inside it they are asked to contact the clinic, and a late cancellation may cost the fee."
            </p>
            <ActionForm action=a.policy attr:class="form service-form" attr:aria-label="Booking and cancellation policy">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <label for="pol-cancel">"Late-notice window for cancelling (hours before the start)"</label>
                <input id="pol-cancel" name="cancel_hours" type="number" min="0" max="720" required value=(policy.cancel_window_minutes / 60).to_string() />
                <label for="pol-resched">"Late-notice window for rescheduling (hours before the start)"</label>
                <input id="pol-resched" name="reschedule_hours" type="number" min="0" max="720" required value=(policy.reschedule_window_minutes / 60).to_string() />
                <label class="check">
                    <input type="checkbox" name="needs_approval" checked=policy.needs_approval />
                    " Changes made before the window need the practice's approval"
                </label>
                <label for="pol-fee">"Late-cancellation fee"</label>
                <input id="pol-fee" name="fee" inputmode="decimal" placeholder="e.g. 25.00" value=fee />
                <label for="pol-horizon">"Patients may book up to (days ahead)"</label>
                <input id="pol-horizon" name="horizon_days" type="number" min=HORIZON_DAYS.start().to_string() max=HORIZON_DAYS.end().to_string() required aria-describedby="pol-horizon-help" value=policy.booking_horizon_days.to_string() />
                <p class="muted" id="pol-horizon-help">"The booking page offers free times this far ahead, and patients cannot request or move an appointment later than that. Staff can still book any date."</p>
                <div class="actions"><button type="submit" class="primary-inline">"Save policy"</button></div>
            </ActionForm>
        </section>
    }
}

/// The practice-management connection: connector, endpoint and signing secret.
#[component]
fn PmsSection(
    connector: PmsConnector,
    url: String,
    secret_set: bool,
    cid: i64,
    a: Actions,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Practice-management system"</h2>
            <p class="muted">
                "Appointments created, rescheduled and cancelled here are sent to the PMS as signed HTTP requests (HMAC-SHA256 of the timestamp and body in X-Slotwise-Signature), retried until it accepts them. Each booking shows its sync state."
            </p>
            <ActionForm action=a.pms attr:class="form service-form" attr:aria-label="Practice-management system">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <fieldset>
                    <legend>"Connection"</legend>
                    {PmsConnector::ALL.into_iter().map(|c| view! {
                        <label class="check">
                            <input type="radio" name="connector" value=c.as_str() checked={connector == c} />
                            " " {c.label()}
                        </label>
                    }).collect_view()}
                </fieldset>
                <label for="pms-url">"PMS endpoint"</label>
                <input id="pms-url" name="url" type="url" placeholder="https://pms.example.com/slotwise" value=url />
                <label for="pms-secret">"Signing secret"</label>
                <input id="pms-secret" name="secret" type="password" autocomplete="new-password"
                    placeholder=if secret_set { "(set; leave blank to keep it)" } else { "at least 16 characters" } />
                <div class="actions"><button type="submit" class="primary-inline">"Save connection"</button></div>
            </ActionForm>
        </section>
    }
}

/// The names of the clinic's patient and host groups.
#[component]
fn GroupsSection(
    patient_group_name: String,
    host_group_name: String,
    cid: i64,
    a: Actions,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Groups"</h2>
            <ActionForm action=a.groups attr:class="form" attr:aria-label="Group names">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <label for="grp-patients">"Patient group name"</label>
                <input id="grp-patients" name="patient_group_name" maxlength="60" required value=patient_group_name />
                <label for="grp-hosts">"Host group name"</label>
                <input id="grp-hosts" name="host_group_name" maxlength="60" required value=host_group_name />
                <div class="actions"><button type="submit" class="primary-inline">"Save group names"</button></div>
            </ActionForm>
        </section>
    }
}

/// The pre-request form: its questions (move up, remove) and adding one.
#[component]
fn QuestionsSection(questions: Vec<Question>, cid: i64, a: Actions) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Pre-request form"</h2>
            <p class="muted">"Patients answer these questions when they request a session."</p>
            {if questions.is_empty() {
                view! { <p class="muted">"No questions yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="questions">
                        {questions.into_iter().enumerate().map(|(i, q)| {
                            let (l1, l2) = (q.label.clone(), q.label.clone());
                            view! {
                                <li>
                                    <strong>{q.label.clone()}</strong>
                                    <span class="muted">
                                        {match q.kind { QuestionKind::Text => " · Text".to_string(), QuestionKind::Choice => format!(" · Choice: {}", q.options.join(", ")) }}
                                        {if q.required { " · Required" } else { " · Optional" }}
                                    </span>
                                    " "
                                    {(i > 0).then(|| view! {
                                        <button type="button" class="link-button" on:click=move |_| { a.edit_q.dispatch(EditQuestion { clinic_id: cid, op: QuestionEdit::Up, index: i, label: l1.clone() }); }>"Move up"</button>
                                    })}
                                    " "
                                    <button type="button" class="link-button" on:click=move |_| { a.edit_q.dispatch(EditQuestion { clinic_id: cid, op: QuestionEdit::Remove, index: i, label: l2.clone() }); }>"Remove"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            <h3>"Add a question"</h3>
            <ActionForm action=a.add_q attr:class="form" attr:aria-label="Add a question">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <label for="q-label">"Question"</label>
                <input id="q-label" name="label" maxlength="200" required />
                <label for="q-kind">"Answer type"</label>
                <select id="q-kind" name="kind">
                    <option value="text">"Text"</option>
                    <option value="choice">"Choice"</option>
                </select>
                <label for="q-options">"Options (for Choice; one per line or comma-separated)"</label>
                <textarea id="q-options" name="options" rows="2"></textarea>
                <label class="check"><input type="checkbox" name="required" />" Required"</label>
                <div class="actions"><button type="submit" class="primary-inline">"Add question"</button></div>
            </ActionForm>
        </section>
    }
}
