//! The app shell: document, routes, navigation by role, user menu.

mod auth;
mod nav;

pub use auth::{use_auth, Auth, Guard, Need};

use crate::live::{connect_while_logged_in, Live};
use crate::pages::{booking, errors, login, notifications, portal};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
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
                <HydrationScripts options=bundle_options(options.clone()) />
                <MetaTags />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A page's Content-Security-Policy: inline script only with this
/// response's nonce (leptos puts it on its hydration and streaming scripts),
/// other scripts, the wasm and every fetch from this origin only; no
/// plugins, no `<base>`, forms post here, and no other site may frame it.
/// Inline styles stay allowed: the Schedule sizes its grid with `style`.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sends the policy with this response's nonce (leptos_axum makes one per
/// request). The server adds the other security headers to every response.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce)) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
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

/// Which wasm bundle hydrates a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bundle {
    /// Everything: the pages opened seldom (settings, availability,
    /// account, audit, outbox, notifications) and any page a build without
    /// the other bundles serves.
    Full,
    /// The staff pages of every day (feature "staff-bundle"): Schedule,
    /// Consultations, Bookings, Dispatch, Requests, Dashboard, Waitlist,
    /// without the seldom ones (`full_page!`), which would otherwise weigh
    /// on every staff member's first visit.
    Staff,
    /// The public and patient pages only (feature "patient-bundle"): less
    /// than half the download, for the pages patients open on their phones.
    Patient,
}

impl Bundle {
    /// The output name of its files (its project in the workspace
    /// Cargo.toml) and the file its content hashes are written to; none for
    /// the full bundle, which the options name already.
    pub fn files(self) -> Option<(&'static str, &'static str)> {
        match self {
            Bundle::Full => None,
            Bundle::Staff => Some(("slotwise-staff", "hash-staff.txt")),
            Bundle::Patient => Some(("slotwise-patient", "hash-patient.txt")),
        }
    }
}

/// The bundle a page at `path` is served with. Every path here must be a
/// route its bundle renders itself: the patient bundle's not through
/// `staff_page!` or `full_page!`, the staff bundle's not through
/// `full_page!` (the lists sit side by side in this file, and the
/// end-to-end tests load every page of every role with the bundle this
/// chooses).
pub fn bundle_for(path: &str) -> Bundle {
    let path = path.trim_end_matches('/');
    let patient = matches!(path, "" | "/login" | "/register" | "/portal" | "/mailbox")
        || path
            .strip_prefix("/book/")
            .is_some_and(|slug| !slug.is_empty() && !slug.contains('/'));
    let staff = matches!(
        path,
        "/schedule"
            | "/consultations"
            | "/bookings"
            | "/dispatch"
            | "/requests"
            | "/dashboard"
            | "/waitlist"
    );
    if patient {
        Bundle::Patient
    } else if staff {
        Bundle::Staff
    } else {
        Bundle::Full
    }
}

/// The options `HydrationScripts` links the bundle with: the bundle's name
/// and hash file on the pages `bundle_for` gives it, when it was built (a
/// build of the full bundle alone serves every page with it).
fn bundle_options(options: LeptosOptions) -> LeptosOptions {
    #[cfg(feature = "ssr")]
    {
        let path = use_context::<http::request::Parts>().map(|p| p.uri.path().to_string());
        let files = path.as_deref().map(bundle_for).and_then(Bundle::files);
        if let Some((name, hash_file)) = files.filter(|f| bundle_built(&options, *f)) {
            let mut options = options;
            options.output_name = name.into();
            options.hash_file = hash_file.into();
            return options;
        }
    }
    options
}

/// Whether a bundle's files are there (checked once per bundle).
#[cfg(feature = "ssr")]
fn bundle_built(options: &LeptosOptions, (name, hash_file): (&'static str, &'static str)) -> bool {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static BUILT: Mutex<Option<HashMap<&'static str, bool>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    *built
        .get_or_insert_with(HashMap::new)
        .entry(name)
        .or_insert_with(|| {
            if options.hash_files {
                // leptos reads hash files next to the server binary.
                std::env::current_exe()
                    .ok()
                    .and_then(|exe| exe.parent().map(|dir| dir.join(hash_file)))
                    .is_some_and(|file| file.exists())
            } else {
                std::path::Path::new(&*options.site_root)
                    .join(&*options.site_pkg_dir)
                    .join(format!("{name}.wasm"))
                    .exists()
            }
        })
}

/// In the patient bundle, a server function's redirect (after logging in,
/// registering, logging out) loads the page from the server instead of
/// routing to it in the browser: a staff member's home is a page this
/// bundle does not have, and going through `PageElsewhere` would show
/// it twice. Set before the router mounts (the first hook set wins).
#[cfg(all(feature = "patient-bundle", feature = "hydrate"))]
pub fn redirect_by_page_load() {
    let _ = leptos::server_fn::redirect::set_redirect_hook(|loc: &str| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(loc);
        }
    });
}

/// A staff page's component, or in the patient bundle `PageElsewhere`:
/// the compiler then leaves the staff pages' code out of that bundle.
macro_rules! staff_page {
    ($page:path) => {{
        #[cfg(not(feature = "patient-bundle"))]
        let page = $page;
        #[cfg(feature = "patient-bundle")]
        let page = PageElsewhere;
        page
    }};
}

/// A page opened seldom, in the full bundle only: in the patient and staff
/// bundles `PageElsewhere`.
macro_rules! full_page {
    ($page:path) => {{
        #[cfg(not(any(feature = "patient-bundle", feature = "staff-bundle")))]
        let page = $page;
        #[cfg(any(feature = "patient-bundle", feature = "staff-bundle"))]
        let page = PageElsewhere;
        page
    }};
}

/// A page this bundle leaves out, reached by a link from one it has (the
/// Mailbox links to the Schedule, the Schedule to Clinic settings): the
/// server serves it with a bundle that has it, so load it from there. Never
/// hydrated: the server does not give this bundle to that page
/// (`bundle_for`).
#[cfg(any(feature = "patient-bundle", feature = "staff-bundle"))]
#[component]
fn PageElsewhere() -> impl IntoView {
    // Where the router is going (it puts the address in the bar only after
    // the new page has rendered, so the bar still shows the old one).
    let location = leptos_router::hooks::use_location();
    let mut href = location.pathname.get_untracked();
    let search = location.search.get_untracked();
    if !search.is_empty() {
        href.push('?');
        href.push_str(&search);
    }
    let hash = location.hash.get_untracked();
    if !hash.is_empty() && !hash.starts_with('#') {
        href.push('#');
    }
    href.push_str(&hash);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(window) = web_sys::window() {
            // Replace, not assign: the router adds the history entry itself.
            let _ = window.location().replace(&href);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = href;
    view! { <p class="loading">"Loading…"</p> }
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
                    // Pages opened seldom come with the full bundle only
                    // (`full_page!`): the patient and staff bundles stay within
                    // the budgets of the pages opened every time (issue 11).
                    <Route path=path!("/forgot-password") view=full_page!(crate::pages::password_reset::ForgotPasswordPage) />
                    <Route path=path!("/reset-password") view=full_page!(crate::pages::password_reset::ResetPasswordPage) />
                    <Route path=path!("/confirm-email") view=full_page!(crate::pages::password_reset::ConfirmEmailPage) />
                    <Route path=path!("/portal") view=portal::PortalPage />
                    <Route path=path!("/book/:slug") view=booking::BookingPage />
                    <Route path=path!("/account") view=full_page!(crate::pages::account::AccountPage) />
                    <Route path=path!("/schedule") view=staff_page!(crate::pages::schedule::SchedulePage) />
                    <Route path=path!("/consultations") view=staff_page!(crate::pages::consultations::ConsultationsPage) />
                    <Route path=path!("/bookings") view=staff_page!(crate::pages::bookings::BookingsPage) />
                    <Route path=path!("/dispatch") view=staff_page!(crate::pages::dispatch::DispatchPage) />
                    <Route path=path!("/dashboard") view=staff_page!(crate::pages::dashboard::DashboardPage) />
                    <Route path=path!("/availability") view=full_page!(crate::pages::availability::AvailabilityPage) />
                    <Route path=path!("/settings") view=full_page!(crate::pages::clinic_settings::ClinicSettingsPage) />
                    <Route path=path!("/requests") view=staff_page!(crate::pages::change_requests::RequestsPage) />
                    <Route path=path!("/waitlist") view=staff_page!(crate::pages::waitlist::WaitlistPage) />
                    <Route path=path!("/waitlist/join") view=full_page!(crate::pages::waitlist::WaitlistJoinPage) />
                    <Route path=path!("/account/notifications") view=full_page!(crate::pages::notifications::NotificationsPage) />
                    <Route path=path!("/outbox") view=full_page!(crate::pages::notifications::OutboxPage) />
                    <Route path=path!("/audit") view=full_page!(crate::pages::audit::AuditPage) />
                    <Route path=path!("/api-clients") view=full_page!(crate::pages::api_clients::ApiClientsPage) />
                    <Route path=path!("/mailbox") view=notifications::MailboxPage />
                </Routes>
            </main>
        </Router>
    }
}

/// `/` sends each user to their home (`model::home_path`): admins and
/// schedulers to the Schedule, providers to their Dashboard, patients to the
/// Portal, everyone else to the login page.
#[component]
fn Home() -> impl IntoView {
    use leptos_router::components::Redirect;
    let auth = use_auth();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let path = match auth.me.await {
                    Ok(Some(me)) => crate::model::home_path(&me.memberships),
                    _ => "/login",
                };
                view! { <Redirect path=path /> }
            })}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::{bundle_for, Bundle};

    #[test]
    fn inline_script_needs_the_nonce() {
        let csp = super::content_security_policy("abc123");
        let script = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        assert_eq!(
            script,
            "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"
        );
        assert!(!csp
            .split_whitespace()
            .any(|t| t == "'unsafe-eval'" || t == "'unsafe-eval';"));
        assert!(!script.contains("'unsafe-inline'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn patients_pages_get_the_patient_bundle() {
        for path in [
            "/",
            "/login",
            "/register",
            "/portal",
            "/portal/",
            "/mailbox",
            "/book/northside",
        ] {
            assert_eq!(bundle_for(path), Bundle::Patient, "{path}");
        }
    }

    #[test]
    fn the_staff_pages_of_every_day_get_the_staff_bundle() {
        for path in [
            "/schedule",
            "/schedule/",
            "/consultations",
            "/bookings",
            "/dispatch",
            "/dashboard",
            "/requests",
            "/waitlist",
        ] {
            assert_eq!(bundle_for(path), Bundle::Staff, "{path}");
        }
    }

    #[test]
    fn seldom_pages_and_unknown_paths_get_the_full_bundle() {
        for path in [
            "/waitlist/join",
            "/availability",
            "/settings",
            "/account",
            "/account/notifications",
            "/forgot-password",
            "/reset-password",
            "/confirm-email",
            "/outbox",
            "/audit",
            "/api-clients",
            "/book/",
            "/book/northside/extra",
            "/nowhere",
        ] {
            assert_eq!(bundle_for(path), Bundle::Full, "{path}");
        }
    }
}
