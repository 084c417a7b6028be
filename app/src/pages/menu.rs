//! The WAI-ARIA menu button: a `<button aria-haspopup="menu">` that opens a
//! `role="menu"` of `role="menuitem"` items. Enter, Space, ArrowDown open it
//! on the first item (ArrowUp on the last); arrows, Home and End move
//! between items; Escape closes it and returns focus to the button; Tab or a
//! click outside closes it.
//!
//! The page writes the markup and wires these handlers:
//! `node_ref=menu.root` on the wrapper, `node_ref=menu.button`,
//! `on:click`/`on:keydown` on the button, `node_ref=menu.list` and
//! `on:keydown` on the `role="menu"` element, items with `tabindex="-1"`.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Menu {
    pub open: RwSignal<bool>,
    pub root: NodeRef<leptos::html::Div>,
    pub button: NodeRef<leptos::html::Button>,
    pub list: NodeRef<leptos::html::Div>,
}

#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Target {
    First,
    Last,
    Next,
    Previous,
}

impl Menu {
    pub fn new() -> Self {
        let menu = Menu {
            open: RwSignal::new(false),
            root: NodeRef::new(),
            button: NodeRef::new(),
            list: NodeRef::new(),
        };
        #[cfg(feature = "hydrate")]
        browser::close_on_outside_click(menu);
        menu
    }

    /// `aria-expanded` for the button.
    pub fn expanded(self) -> impl Fn() -> &'static str + Send + Sync + Copy + 'static {
        move || if self.open.get() { "true" } else { "false" }
    }

    /// The button was clicked (or Enter / Space pressed on it).
    pub fn toggle(self) {
        if self.open.get_untracked() {
            self.open.set(false);
        } else {
            self.open.set(true);
            self.focus_later(Target::First);
        }
    }

    pub fn on_button_keydown(self, e: KeyboardEvent) {
        let target = match e.key().as_str() {
            "ArrowDown" => Target::First,
            "ArrowUp" => Target::Last,
            _ => return,
        };
        e.prevent_default();
        self.open.set(true);
        self.focus_later(target);
    }

    pub fn on_menu_keydown(self, e: KeyboardEvent) {
        let target = match e.key().as_str() {
            "ArrowDown" => Target::Next,
            "ArrowUp" => Target::Previous,
            "Home" => Target::First,
            "End" => Target::Last,
            "Escape" => {
                e.prevent_default();
                e.stop_propagation();
                self.close_to_button();
                return;
            }
            "Tab" => {
                self.open.set(false);
                return;
            }
            _ => return,
        };
        e.prevent_default();
        self.focus_item(target);
    }

    /// Closes the menu and puts focus back on its button (after picking an
    /// item, so a dialog it opens returns focus there too).
    pub fn close_to_button(self) {
        self.open.set(false);
        if let Some(b) = self.button.get_untracked() {
            let _ = b.focus();
        }
    }

    /// Focus once the menu is shown (it renders on the next tick).
    fn focus_later(self, target: Target) {
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || self.focus_item(target));
        #[cfg(not(feature = "hydrate"))]
        let _ = target;
    }

    fn focus_item(self, target: Target) {
        #[cfg(feature = "hydrate")]
        browser::focus_item(self, target);
        #[cfg(not(feature = "hydrate"))]
        let _ = target;
    }
}

impl Default for Menu {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{Menu, Target};
    use leptos::ev;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{HtmlElement, Node};

    pub fn focus_item(menu: Menu, target: Target) {
        let Some(list) = menu.list.get_untracked() else {
            return;
        };
        let Ok(nodes) = list.query_selector_all("[role=menuitem]") else {
            return;
        };
        let items: Vec<HtmlElement> = (0..nodes.length())
            .filter_map(|i| nodes.item(i))
            .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
            .collect();
        if items.is_empty() {
            return;
        }
        let current = document().active_element().and_then(|a| {
            items
                .iter()
                .position(|i| i.unchecked_ref::<web_sys::Element>() == &a)
        });
        let n = items.len();
        let index = match (target, current) {
            (Target::First, _) | (Target::Next, None) => 0,
            (Target::Last, _) | (Target::Previous, None) => n - 1,
            (Target::Next, Some(i)) => (i + 1) % n,
            (Target::Previous, Some(i)) => (i + n - 1) % n,
        };
        let _ = items[index].focus();
    }

    pub fn close_on_outside_click(menu: Menu) {
        Effect::new(move |_| {
            if !menu.open.get() {
                return;
            }
            let handle = window_event_listener(ev::pointerdown, move |e| {
                let inside = match (menu.root.get_untracked(), e.target()) {
                    (Some(root), Some(t)) => {
                        t.dyn_ref::<Node>().is_some_and(|n| root.contains(Some(n)))
                    }
                    _ => false,
                };
                if !inside {
                    menu.open.set(false);
                }
            });
            on_cleanup(move || handle.remove());
        });
    }
}
