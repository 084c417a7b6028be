//! Issue 15, part 3: the Clinic settings section where admins choose how
//! long patients have to answer a proposed time and what happens after.

use super::error_alert;
use crate::api::proposals::SaveProposalSettings;
use crate::domain::proposal::{OnExpiry, EXPIRY_HOURS};
use crate::model::ProposalSettings;
use leptos::form::ActionForm;
use leptos::prelude::*;

/// Mounted on the Clinic settings page with the clinic's settings, read
/// with the rest of the page (no load of its own: a resource created inside
/// the page's Suspense broke its hydration).
#[component]
pub fn ProposalExpirySection(s: ProposalSettings) -> impl IntoView {
    let save = ServerAction::<SaveProposalSettings>::new();
    let cid = s.clinic_id;
    view! {
        <section class="card">
            <h2>"Proposed times"</h2>
            <p class="muted">
                "When the clinic proposes a new time, the appointment is Tentative until the patient answers. If they do not answer in time, the proposal expires and the patient and whoever proposed it are told."
            </p>
            {error_alert(save.value())}
            {move || save.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="alert ok" role="status">"Proposal settings saved."</p> })}
            <ActionForm action=save attr:class="form service-form" attr:aria-label="Proposed times">
                <input type="hidden" name="clinic_id" value=cid.to_string() />
                <label for="prop-hours">"Hours patients have to answer"</label>
                <input id="prop-hours" name="hours" type="number" required
                    min=EXPIRY_HOURS.start().to_string() max=EXPIRY_HOURS.end().to_string()
                    aria-describedby="prop-hours-help" value=s.expiry_hours.to_string() />
                <p class="muted" id="prop-hours-help">"Never later than the proposed time itself."</p>
                <fieldset>
                    <legend>"When nobody answers"</legend>
                    {OnExpiry::ALL.into_iter().map(|o| view! {
                        <label class="check">
                            <input type="radio" name="on_expiry" value=o.as_str() checked=s.on_expiry == o.as_str() />
                            " " {o.label()}
                        </label>
                    }).collect_view()}
                </fieldset>
                <div class="actions"><button type="submit" class="primary-inline">"Save proposal settings"</button></div>
            </ActionForm>
        </section>
    }
}
