//! The header: brand, navigation by role (with live pending counts for
//! staff), the live-connection indicator and the user menu.

use super::auth::use_auth;
use crate::api::accounts::Logout;
use crate::api::requests::get_pending_counts;
use crate::domain::live::topic;
use crate::live::{use_live_version, Live};
use crate::model::Me;
use crate::pages::menu::Menu;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Slotwise"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match auth.me.await {
                        Ok(Some(me)) => view! { <SignedIn me /> }.into_any(),
                        _ => view! {
                            <nav class="nav" aria-label="Main">
                                <A href="/login">"Log in"</A>
                                <A href="/register">"Register"</A>
                            </nav>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}

#[component]
fn SignedIn(me: Me) -> impl IntoView {
    let auth = use_auth();
    let live = expect_context::<Live>();
    let links = if me.is_staff() {
        let admin = me
            .memberships
            .iter()
            .any(|m| m.role == crate::domain::role::Role::Admin);
        let provider = me
            .memberships
            .iter()
            .any(|m| m.role == crate::domain::role::Role::Provider);
        view! { <StaffLinks admin provider /> }.into_any()
    } else {
        view! {
            <A href="/portal">"Portal"</A>
            <A href="/account">"Account"</A>
        }
        .into_any()
    };
    let roles = me.roles_label();
    let staff = me.is_staff();
    let menu = Menu::new();
    let admin = me
        .memberships
        .iter()
        .any(|m| m.role == crate::domain::role::Role::Admin);
    view! {
        <nav class="nav" aria-label="Main">
            {links}
        </nav>
        <span
            class="live"
            class:on=move || live.connected.get()
            title=move || if live.connected.get() { "Live updates on" } else { "Reconnecting…" }
        >
            {move || if live.connected.get() { "● Live" } else { "○ Offline" }}
        </span>
        <div class="user-menu" node_ref=menu.root>
            <button
                type="button"
                id="user-menu-button"
                class="menu-button"
                aria-haspopup="menu"
                aria-expanded=menu.expanded()
                aria-controls="user-menu-list"
                aria-label=format!("{} (user menu)", me.name)
                node_ref=menu.button
                on:click=move |_| menu.toggle()
                on:keydown=move |e| menu.on_button_keydown(e)
            >
                {me.name.clone()}
            </button>
            <div class="menu" hidden=move || !menu.open.get()>
                <p class="who">
                    <strong>{me.name.clone()}</strong>
                    <br />
                    <span class="muted">{me.email.clone()}</span>
                    <br />
                    <span class="muted">{roles}</span>
                </p>
                <div
                    role="menu"
                    id="user-menu-list"
                    aria-labelledby="user-menu-button"
                    node_ref=menu.list
                    on:keydown=move |e| menu.on_menu_keydown(e)
                    // Choosing a page closes the menu (the header stays).
                    on:click=move |_| menu.open.set(false)
                >
                    <a role="menuitem" tabindex="-1" href="/account">"Account"</a>
                    {staff.then(|| view! { <a role="menuitem" tabindex="-1" href="/account/notifications">"Notifications"</a> })}
                    <a role="menuitem" tabindex="-1" href="/mailbox">"Mailbox"</a>
                    {admin.then(|| view! { <a role="menuitem" tabindex="-1" href="/outbox">"Outbox"</a> })}
                    {admin.then(|| view! { <a role="menuitem" tabindex="-1" href="/audit">"Audit trail"</a> })}
                    {admin.then(|| view! { <a role="menuitem" tabindex="-1" href="/api-clients">"API clients"</a> })}
                    <button
                        type="button"
                        role="menuitem"
                        tabindex="-1"
                        class="link-button"
                        on:click=move |_| {
                            auth.logout.dispatch(Logout {});
                        }
                    >
                        "Log out"
                    </button>
                </div>
            </div>
        </div>
    }
}

/// Staff links with the number of pending requests in the user's clinics,
/// refetched whenever a request changes anywhere they may see. Providers
/// have a Dashboard, their landing page.
#[component]
fn StaffLinks(admin: bool, provider: bool) -> impl IntoView {
    let version = use_live_version(&[topic::REQUEST]);
    let counts = Resource::new(move || version.get(), |_| get_pending_counts());
    let badge = move |pick: fn(&crate::model::PendingCounts) -> i64, label: &'static str| {
        view! {
            <Transition fallback=|| ()>
                {move || {
                    counts
                        .get()
                        .and_then(|r| r.ok())
                        .map(|c| pick(&c))
                        .filter(|n| *n > 0)
                        .map(|n| {
                            view! {
                                <span class="badge" aria-label=format!("{n} pending {label}")>
                                    {n}
                                </span>
                            }
                        })
                }}
            </Transition>
        }
    };
    view! {
        {provider.then(|| view! { <A href="/dashboard">"Dashboard"</A> })}
        <A href="/schedule">"Schedule"</A>
        <A href="/consultations">"Consultations"</A>
        <A href="/bookings">"Bookings"</A>
        <A href="/dispatch">"Dispatch" {badge(|c| c.dispatch, "session requests")}</A>
        <A href="/requests">"Requests" {badge(|c| c.changes, "change requests")}</A>
        <A href="/waitlist">"Waitlist"</A>
        <A href="/availability">"Availability"</A>
        {admin.then(|| view! { <A href="/settings">"Clinic"</A> })}
        <A href="/account">"Account"</A>
    }
}
