//! Pages, one module per area.

pub mod account;
pub mod api_clients;
pub mod appointment_dialogs;
pub mod audit;
pub mod availability;
pub mod booking;
pub mod bookings;
pub mod change_requests;
pub mod clinic_settings;
pub mod consultations;
pub mod dashboard;
pub mod dialog;
pub mod dispatch;
pub mod errors;
pub mod login;
pub mod menu;
pub mod notice;
pub mod notifications;
pub mod password_reset;
pub mod patient_calls;
pub mod portal;
pub mod proposals;
pub mod reminders;
pub mod schedule;
pub mod waitlist;

use crate::error::AppError;
use leptos::prelude::*;

/// The message of a failed action, in an alert region screen readers announce.
pub fn error_alert<S, T>(value: S) -> impl IntoView
where
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    T: 'static,
{
    move || {
        value.with(|v| match v {
            Some(Err(e)) => {
                Some(view! { <p class="alert error" role="alert">{e.message().to_string()}</p> })
            }
            _ => None,
        })
    }
}

/// Scrolls an element into view if it is not (its nearest edge), once the
/// browser has laid it out: feedback appears where the person is looking.
pub fn reveal(node: NodeRef<leptos::html::Div>) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        if let Some(el) = node.get_untracked() {
            scroll_nearest(el.as_ref());
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = node;
}

/// Scrolls the `index`th child of an element into view (say, the chosen
/// day of a scrolling strip of days).
pub fn reveal_child(node: NodeRef<leptos::html::Div>, index: usize) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use web_sys::js_sys::Reflect;
        let Some(el) = node.get_untracked() else {
            return;
        };
        if let Ok(children) = Reflect::get(el.as_ref(), &"children".into()) {
            if let Ok(child) = Reflect::get_u32(&children, index as u32) {
                if !child.is_undefined() {
                    scroll_nearest(&child);
                }
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (node, index);
}

#[cfg(feature = "hydrate")]
fn scroll_nearest(el: &wasm_bindgen::JsValue) {
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::{Function, Object, Reflect};
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"block".into(), &"nearest".into());
    let _ = Reflect::set(&opts, &"inline".into(), &"nearest".into());
    if let Ok(f) = Reflect::get(el, &"scrollIntoView".into()).and_then(|f| f.dyn_into::<Function>())
    {
        let _ = f.call1(el, &opts);
    }
}
