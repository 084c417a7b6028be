//! Clinic settings › Reminders (admins): on or off, when the two reminders
//! go before each appointment, and by which channels (issue 15, point 1).
//! Mounted by the Clinic settings page, which loads its values; saves on its own.

use super::error_alert;
use crate::api::reminders::SaveReminderSettings;
use crate::domain::reminder::{ReminderSettings, OFFSET_MINUTES};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// Mounted on the Clinic settings page with the clinic's settings, read
/// with the rest of the page (no load of its own: a second Suspense on the
/// page broke its hydration now and then).
#[component]
pub fn RemindersSection(s: ReminderSettings, cid: i64) -> impl IntoView {
    let save = ServerAction::<SaveReminderSettings>::new();
    view! {
        <section class="card" aria-labelledby="rem-title">
            <h2 id="rem-title">"Reminders"</h2>
            <p class="muted">
                "Patients get up to two reminders before each appointment, with links to confirm or cancel it (cancelling follows the policy above: inside the late-notice window they are asked to call). Request, reschedule and cancellation emails are sent either way."
            </p>
            {error_alert(save.value())}
            {move || save.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="alert ok" role="status">"Reminder settings saved."</p> })}
            <RemindersForm s cid save />
        </section>
    }
}

#[component]
fn RemindersForm(
    s: ReminderSettings,
    cid: i64,
    save: ServerAction<SaveReminderSettings>,
) -> impl IntoView {
    let (min, max) = (
        OFFSET_MINUTES.start().to_string(),
        OFFSET_MINUTES.end().to_string(),
    );
    view! {
        <ActionForm action=save attr:class="form service-form" attr:aria-label="Reminders">
            <input type="hidden" name="clinic_id" value=cid.to_string() />
            <label class="check">
                <input type="checkbox" name="on" checked=s.on />
                " Send reminders"
            </label>
            <label for="rem-first">"First reminder (minutes before the start)"</label>
            <input id="rem-first" name="first_minutes" type="number" min=min.clone() max=max.clone() required aria-describedby="rem-help" value=s.first_minutes.to_string() />
            <label for="rem-second">"Second reminder (minutes before the start; blank for none)"</label>
            <input id="rem-second" name="second_minutes" type="number" min=min max=max aria-describedby="rem-help" value=s.second_minutes.map(|m| m.to_string()).unwrap_or_default() />
            <p class="muted" id="rem-help">"1440 minutes is 24 hours, 120 is 2 hours. The second goes closer to the start than the first. A reminder whose moment has already passed when an appointment is booked is not sent."</p>
            <fieldset>
                <legend>"Send by"</legend>
                <label class="check"><input type="checkbox" name="email" checked=s.email />" Email"</label>
                <label class="check"><input type="checkbox" name="sms" checked=s.sms />" SMS (to patients with a mobile number)"</label>
            </fieldset>
            <div class="actions"><button type="submit" class="primary-inline">"Save reminders"</button></div>
        </ActionForm>
    }
}
