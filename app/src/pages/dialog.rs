//! The one modal dialog, following the WAI-ARIA dialog (modal) pattern:
//! on open it takes focus (the first form field, or the dialog itself),
//! keeps Tab and Shift+Tab inside, closes on Escape, makes the rest of the
//! page inert, and on close gives focus back to the control that opened it.
//!
//! All browser work happens in an effect and in cleanup (never while
//! rendering), so the dialog renders the same on the server and hydrates
//! cleanly.

use leptos::prelude::*;

/// A modal dialog named by the heading with id `label_id`. `on_close` runs
/// on Escape; the dialog's own buttons call it as well.
#[component]
pub fn Modal(
    /// The id of the element that names the dialog (its heading).
    label_id: &'static str,
    /// Closes the dialog (the owner removes it).
    on_close: impl Fn() + Send + Sync + Copy + 'static,
    /// Extra classes for the dialog box, e.g. "wide".
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    browser::manage(dialog, on_close);
    #[cfg(not(feature = "hydrate"))]
    let _ = on_close;
    let class = if class.is_empty() {
        "modal".to_string()
    } else {
        format!("modal {class}")
    };
    view! {
        <div class="modal-backdrop">
            <div
                class=class
                role="dialog"
                aria-modal="true"
                aria-labelledby=label_id
                tabindex="-1"
                node_ref=dialog
            >
                {children()}
            </div>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::__reexports::send_wrapper::SendWrapper;
    use leptos::ev;
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlElement, KeyboardEvent};

    /// What Tab may stop on.
    const FOCUSABLE: &str =
        "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), \
        select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
    /// Where focus goes first: the first form field.
    const FIELDS: &str =
        "input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled])";
    /// How many open dialogs made an element inert (dialogs can overlap
    /// for a moment when one opens another).
    const INERT_COUNT: &str = "data-modal-inert";

    struct Open {
        opener: Option<HtmlElement>,
        inerted: Vec<Element>,
        keys: Option<WindowListenerHandle>,
    }

    pub fn manage(
        dialog: NodeRef<leptos::html::Div>,
        on_close: impl Fn() + Send + Sync + Copy + 'static,
    ) {
        let state: Rc<RefCell<Option<Open>>> = Rc::new(RefCell::new(None));
        let opened = state.clone();
        Effect::new(move |_| {
            let Some(el) = dialog.get() else { return };
            if opened.borrow().is_some() {
                return;
            }
            let el: HtmlElement = el.into();
            let opener = document()
                .active_element()
                .and_then(|e| e.dyn_into::<HtmlElement>().ok());
            let inerted = make_inert(&el);
            match el
                .query_selector(FIELDS)
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<HtmlElement>().ok())
            {
                Some(field) => {
                    let _ = field.focus();
                }
                None => {
                    let _ = el.focus();
                }
            }
            let for_keys = el.clone();
            let keys = window_event_listener(ev::keydown, move |e| on_key(&e, &for_keys, on_close));
            *opened.borrow_mut() = Some(Open {
                opener,
                inerted,
                keys: Some(keys),
            });
        });
        let state = SendWrapper::new(state);
        on_cleanup(move || {
            let Some(mut open) = state.take().borrow_mut().take() else {
                return;
            };
            if let Some(keys) = open.keys.take() {
                keys.remove();
            }
            undo_inert(&open.inerted);
            restore_focus(open.opener);
        });
    }

    fn on_key(e: &KeyboardEvent, dialog: &HtmlElement, on_close: impl Fn()) {
        match e.key().as_str() {
            "Escape" if !e.default_prevented() => {
                e.prevent_default();
                on_close();
            }
            "Tab" => trap_tab(e, dialog),
            _ => {}
        }
    }

    /// Moves focus from the last stop to the first (Tab) and from the first
    /// to the last (Shift+Tab), and back inside if it ever got out.
    fn trap_tab(e: &KeyboardEvent, dialog: &HtmlElement) {
        let stops = focus_stops(dialog);
        let (Some(first), Some(last)) = (stops.first(), stops.last()) else {
            e.prevent_default();
            let _ = dialog.focus();
            return;
        };
        let active = document().active_element();
        let inside = active
            .as_ref()
            .is_some_and(|a| dialog.contains(Some(a.unchecked_ref())));
        let is = |stop: &HtmlElement| {
            active.as_ref().is_some_and(|a| {
                let a: &Element = a;
                a == stop.unchecked_ref::<Element>() || same_radio_group(a, stop)
            })
        };
        let at_dialog = active
            .as_ref()
            .is_some_and(|a| a == dialog.unchecked_ref::<Element>());
        if e.shift_key() {
            if !inside || at_dialog || is(first) {
                e.prevent_default();
                let _ = last.focus();
            }
        } else if !inside || is(last) {
            e.prevent_default();
            let _ = first.focus();
        }
    }

    /// Tab stops once per radio group, so any radio of the first or last
    /// group counts as that stop.
    fn same_radio_group(a: &Element, b: &HtmlElement) -> bool {
        let radio = |e: &Element| e.get_attribute("type").as_deref() == Some("radio");
        let b: &Element = b.unchecked_ref();
        radio(a)
            && radio(b)
            && a.get_attribute("name").is_some()
            && a.get_attribute("name") == b.get_attribute("name")
    }

    /// The visible elements Tab can reach inside the dialog, in order.
    fn focus_stops(dialog: &HtmlElement) -> Vec<HtmlElement> {
        let Ok(list) = dialog.query_selector_all(FOCUSABLE) else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
            .filter(|e| e.offset_parent().is_some())
            .collect()
    }

    /// Makes every element outside the dialog inert: the siblings of the
    /// dialog and of each of its ancestors up to <body>.
    fn make_inert(dialog: &Element) -> Vec<Element> {
        let mut inerted = Vec::new();
        let mut current = dialog.clone();
        while let Some(parent) = current.parent_element() {
            let mut sibling = parent.first_element_child();
            while let Some(s) = sibling {
                sibling = s.next_element_sibling();
                if s == current || matches!(s.tag_name().as_str(), "SCRIPT" | "STYLE" | "LINK") {
                    continue;
                }
                let count: u32 = s
                    .get_attribute(INERT_COUNT)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                // Inert for another reason: leave it alone.
                if count == 0 && s.has_attribute("inert") {
                    continue;
                }
                let _ = s.set_attribute(INERT_COUNT, &(count + 1).to_string());
                let _ = s.set_attribute("inert", "");
                inerted.push(s);
            }
            if parent.tag_name() == "BODY" {
                break;
            }
            current = parent;
        }
        inerted
    }

    fn undo_inert(inerted: &[Element]) {
        for e in inerted {
            let count: u32 = e
                .get_attribute(INERT_COUNT)
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            if count <= 1 {
                let _ = e.remove_attribute(INERT_COUNT);
                let _ = e.remove_attribute("inert");
            } else {
                let _ = e.set_attribute(INERT_COUNT, &(count - 1).to_string());
            }
        }
    }

    /// Back to the control that opened the dialog or, when that is gone
    /// (the list it was in was refreshed), to the main content.
    fn restore_focus(opener: Option<HtmlElement>) {
        let doc = document();
        match opener.filter(|o| o.is_connected() && o.offset_parent().is_some()) {
            Some(o) => {
                let _ = o.focus();
            }
            None => {
                if let Some(main) = doc
                    .get_element_by_id("main")
                    .and_then(|m| m.dyn_into::<HtmlElement>().ok())
                {
                    let _ = main.focus();
                }
            }
        }
    }
}
