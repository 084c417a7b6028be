//! The app shell: document, routes, navigation by role, user menu.

mod auth;
mod nav;

pub use auth::{use_auth, Auth, Guard, Need};

use crate::live::{connect_while_logged_in, Live};
use crate::pages::{
    account, availability, booking, bookings, clinic_settings, consultations, dispatch, errors,
    login, notifications, portal, schedule, staff,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // When this page's data was read: its live stream asks the
                // server whether anything changed since (crate::live).
                <meta name=crate::live::RENDERED_AT_META content=chrono::Utc::now().timestamp_millis().to_string() />
                <AutoReload options=options.clone() />
                <HashedStylesheet id="leptos" options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Whether the app's code runs in this part of the page yet: false while it
/// is only the server's HTML, true once it is hydrated. Controls that need
/// the app (not a plain form post) stay visibly disabled until then, so a
/// click before the wasm arrives is never silently lost.
///
/// Call it in the component that renders the controls: its effect runs
/// right after that component hydrates (an app-wide flag could flip before
/// a late `Suspense` hydrates, and hydration keeps the server's attributes).
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let auth = Auth::provide();
    let live = Live::new();
    provide_context(live);
    connect_while_logged_in(live, auth.user_id());

    view! {
        <Title formatter=|t: String| if t.is_empty() { "Slotwise".to_string() } else { format!("{t} · Slotwise") } />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <nav::Header />
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <errors::NotFound /> }.into_any()>
                    <Route path=path!("/") view=Home />
                    <Route path=path!("/login") view=login::LoginPage />
                    <Route path=path!("/register") view=login::RegisterPage />
                    <Route path=path!("/portal") view=portal::PortalPage />
                    <Route path=path!("/book/:slug") view=booking::BookingPage />
                    <Route path=path!("/account") view=account::AccountPage />
                    <Route path=path!("/schedule") view=schedule::SchedulePage />
                    <Route path=path!("/consultations") view=consultations::ConsultationsPage />
                    <Route path=path!("/bookings") view=bookings::BookingsPage />
                    <Route path=path!("/dispatch") view=dispatch::DispatchPage />
                    <Route path=path!("/availability") view=availability::AvailabilityPage />
                    <Route path=path!("/settings") view=clinic_settings::ClinicSettingsPage />
                    <Route path=path!("/requests") view=staff::RequestsPage />
                    <Route path=path!("/account/notifications") view=notifications::NotificationsPage />
                    <Route path=path!("/outbox") view=notifications::OutboxPage />
                    <Route path=path!("/mailbox") view=notifications::MailboxPage />
                </Routes>
            </main>
        </Router>
    }
}

/// `/` sends each user to their home: staff to the Schedule, patients to the
/// Portal, everyone else to the login page.
#[component]
fn Home() -> impl IntoView {
    use leptos_router::components::Redirect;
    let auth = use_auth();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let path = match auth.me.await {
                    Ok(Some(me)) if me.is_staff() => "/schedule",
                    Ok(Some(_)) => "/portal",
                    _ => "/login",
                };
                view! { <Redirect path=path /> }
            })}
        </Suspense>
    }
}
