//! Account: the user's profile and memberships.

use crate::shell::{Guard, Need};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account" />
        <Guard
            need=Need::Login
            children=|me| {
                view! {
                    <h1>"Account"</h1>
                    <section class="card">
                        <h2>"Profile"</h2>
                        <dl class="facts">
                            <dt>"Name"</dt>
                            <dd>{me.name.clone()}</dd>
                            <dt>"Email"</dt>
                            <dd>{me.email.clone()}</dd>
                        </dl>
                        <h2>"Clinics and roles"</h2>
                        <table class="table">
                            <thead>
                                <tr>
                                    <th>"Clinic"</th>
                                    <th>"Role"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {me
                                    .memberships
                                    .iter()
                                    .map(|m| {
                                        view! {
                                            <tr>
                                                <td>{m.clinic_name.clone()}</td>
                                                <td>{m.role.label()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                        {me.is_staff().then(|| view! {
                            <p><a href="/account/notifications">"Notification settings"</a>" — choose email and SMS per event."</p>
                        })}
                    </section>
                }
            }
        />
    }
}
