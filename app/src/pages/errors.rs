//! The 403 and 404 pages. During server rendering they also set the status.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::ctx::set_status(403);
    view! {
        <Title text="Not allowed" />
        <section class="error-page">
            <p class="code">"403"</p>
            <h1>"You don't have access to this page"</h1>
            <p>"This page is for clinic staff. If you think you should have access, ask your clinic's administrator."</p>
            <p><a href="/">"Go to your home page"</a></p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::ctx::set_status(404);
    view! {
        <Title text="Page not found" />
        <section class="error-page">
            <p class="code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. Check the link, or start again from your home page."</p>
            <p><a href="/">"Go to your home page"</a></p>
        </section>
    }
}
