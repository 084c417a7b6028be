#![recursion_limit = "256"]
//! The wasm entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    #[cfg(feature = "patient-bundle")]
    app::shell::redirect_by_page_load();
    leptos::mount::hydrate_body(app::App);
}
