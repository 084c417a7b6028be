//! Consultations: the "Active and Pending" list (in progress, upcoming,
//! tentative), live, with "X Cancel Meeting" for hosts and "Decline" for
//! invited providers.

use super::appointment_dialogs::CancelDialog;
use super::notice::{cancelled, Message, Notice};
use crate::api::appointments::{CancelAppointment, DeclineInvitation};
use crate::api::bookings::bookings;
use crate::domain::live::topic;
use crate::live::use_live_version;
use crate::model::{BookingRow, BookingStatusFilter};
use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ConsultationsPage() -> impl IntoView {
    view! {
        <Title text="Consultations" />
        <Guard need=Need::Staff children=|_me| view! { <Consultations /> } />
    }
}

#[component]
fn Consultations() -> impl IntoView {
    let cancel = ServerAction::<CancelAppointment>::new();
    let decline = ServerAction::<DeclineInvitation>::new();
    let cancelling = RwSignal::new(None::<BookingRow>);
    let version = use_live_version(&[topic::APPOINTMENT]);
    let list = Resource::new(
        move || {
            (
                version.get(),
                cancel.version().get(),
                decline.version().get(),
            )
        },
        |_| bookings(BookingStatusFilter::Active, None, None, String::new(), 0),
    );
    Effect::new(move |_| {
        if let Some(Ok(_)) = cancel.value().get() {
            cancelling.set(None);
        }
    });
    // One banner: what the latest action did.
    let notice = Notice::new();
    notice.on_ok(cancel.value(), cancel.pending(), |n| {
        Some(Message::ok(cancelled(*n, "The meeting was cancelled.")))
    });
    notice.on_result(decline.value(), decline.pending(), |_| {
        Some(Message::ok(
            "You declined the invitation. The host has been told.",
        ))
    });
    view! {
        <h1>"Consultations"</h1>
        <h2>"Active and Pending"</h2>
        {notice.view()}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="alert error" role="alert">{e.message().to_string()}</p> }.into_any(),
                    Ok(p) if p.rows.is_empty() => {
                        view! { <p class="muted">"No active or pending consultations."</p> }.into_any()
                    }
                    Ok(p) => view! {
                        <ul class="consultations">
                            {p.rows
                                .into_iter()
                                .map(|r| view! { <ConsultationItem row=r cancelling decline /> })
                                .collect_view()}
                        </ul>
                    }
                    .into_any(),
                }
            })}
        </Transition>
        {move || cancelling.get().map(|row| view! { <CancelDialog row action=cancel on_close=move || cancelling.set(None) /> })}
    }
}

#[component]
fn ConsultationItem(
    row: BookingRow,
    cancelling: RwSignal<Option<BookingRow>>,
    decline: ServerAction<DeclineInvitation>,
) -> impl IntoView {
    let id = row.id;
    let invited = row.my_invitation.clone();
    let can_cancel = row.cancel_blocked.is_none();
    let for_dialog = row.clone();
    let status_class = match row.status_label.as_str() {
        "Tentative" => "pill pending",
        "In progress" => "pill live-now",
        _ => "pill ok",
    };
    view! {
        <li class="card consultation" aria-label=format!("Consultation with {}", row.patient)>
            <div>
                <strong>{row.patient.clone()}</strong>
                " · "
                {row.service.clone()}
                <br />
                <span>{row.when.clone()}</span>
                <span class="muted">{format!(" ({}) · {}", row.time_zone, row.practitioner)}</span>
                {row.answer_by.clone().map(|t| view! { <br /><span class="muted answer-by">{t}</span> })}
                {invited.clone().map(|s| {
                    let label = match s.as_str() {
                        "declined" => "You declined",
                        "accepted" => "You accepted",
                        _ => "You are invited",
                    };
                    view! { <span class="pill">{label}</span> }
                })}
            </div>
            <div class="consultation-actions">
                <span class=status_class>{row.status_label.clone()}</span>
                {can_cancel
                    .then(|| {
                        view! {
                            <button type="button" class="danger" on:click=move |_| cancelling.set(Some(for_dialog.clone()))>
                                // "X Cancel Meeting", or "X Cancel Booking" in person or by phone.
                                {format!("X {}", row.modality.cancel_title())}
                            </button>
                        }
                    })}
                {(invited.as_deref() == Some("needs-action") || invited.as_deref() == Some("accepted"))
                    .then(|| {
                        view! {
                            <button type="button" on:click=move |_| { decline.dispatch(DeclineInvitation { id }); }>
                                "Decline"
                            </button>
                        }
                    })}
            </div>
        </li>
    }
}
