//! Staff pages. The Appointment Requests view is built in its own issue.

use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn StaffPage(title: &'static str, intro: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <Guard
            need=Need::Staff
            children=move |_me| {
                view! {
                    <h1>{title}</h1>
                    <p class="muted">{intro}</p>
                }
            }
        />
    }
}

#[component]
pub fn RequestsPage() -> impl IntoView {
    view! { <StaffPage title="Appointment Requests" intro="Patients' reschedule and cancellation requests." /> }
}
