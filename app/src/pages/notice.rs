//! The page's one banner: what the latest action did. Starting another
//! action clears it, so a page never shows a stale confirmation next to a
//! newer result.

use crate::error::AppError;
use crate::model::WriteOutcome;
use leptos::prelude::*;

#[derive(Clone, PartialEq, Debug)]
pub struct Message {
    pub text: String,
    /// Warnings shown under the confirmation (for example busy invitees).
    pub warnings: Vec<String>,
    pub error: bool,
}

impl Message {
    pub fn ok(text: impl Into<String>) -> Self {
        Message {
            text: text.into(),
            warnings: Vec::new(),
            error: false,
        }
    }

    /// "The booking was rescheduled." or "3 meetings were rescheduled.",
    /// with the outcome's warnings.
    pub fn saved(o: &WriteOutcome, one: &str, many: &str) -> Self {
        let text = if o.count == 1 {
            one.to_string()
        } else {
            many.replace("{n}", &o.count.to_string())
        };
        Message {
            text,
            warnings: o.warnings.clone(),
            error: false,
        }
    }
}

/// "The meeting was cancelled." or "3 meetings were cancelled."
pub fn cancelled(n: usize, one: &str) -> String {
    if n == 1 {
        one.to_string()
    } else {
        format!("{n} meetings were cancelled.")
    }
}

#[derive(Clone, Copy)]
pub struct Notice(RwSignal<Option<Message>>);

impl Notice {
    pub fn new() -> Self {
        Notice(RwSignal::new(None))
    }

    pub fn set(self, m: Message) {
        self.0.set(Some(m));
    }

    pub fn clear(self) {
        self.0.set(None);
    }

    /// Follows an action whose errors show elsewhere (in its dialog): clears
    /// the banner when it starts and shows `message` when it succeeds.
    pub fn on_ok<T, V>(
        self,
        value: V,
        pending: Memo<bool>,
        message: impl Fn(&T) -> Option<Message> + 'static,
    ) where
        T: 'static,
        V: With<Value = Option<Result<T, AppError>>> + 'static,
    {
        self.follow(value, pending, message, false);
    }

    /// Like [`Notice::on_ok`], and its errors are the banner too.
    pub fn on_result<T, V>(
        self,
        value: V,
        pending: Memo<bool>,
        message: impl Fn(&T) -> Option<Message> + 'static,
    ) where
        T: 'static,
        V: With<Value = Option<Result<T, AppError>>> + 'static,
    {
        self.follow(value, pending, message, true);
    }

    fn follow<T, V>(
        self,
        value: V,
        pending: Memo<bool>,
        message: impl Fn(&T) -> Option<Message> + 'static,
        errors: bool,
    ) where
        T: 'static,
        V: With<Value = Option<Result<T, AppError>>> + 'static,
    {
        Effect::new(move |_| {
            if pending.get() {
                self.clear();
            }
        });
        Effect::new(move |_| {
            let m = value.with(|v| match v {
                Some(Ok(t)) => message(t),
                Some(Err(e)) if errors => Some(Message {
                    text: e.message().to_string(),
                    warnings: Vec::new(),
                    error: true,
                }),
                _ => None,
            });
            if let Some(m) = m {
                self.set(m);
            }
        });
    }

    /// The banner: `role="status"` for a confirmation, `role="alert"` for
    /// an error.
    pub fn view(self) -> impl IntoView {
        move || {
            self.0.get().map(|m| {
                let warnings = m
                    .warnings
                    .into_iter()
                    .map(|w| view! { <p class="alert warn" role="status">{w}</p> })
                    .collect_view();
                if m.error {
                    view! { <p class="alert error" role="alert">{m.text}</p> {warnings} }.into_any()
                } else {
                    view! { <p class="alert ok" role="status">{m.text}</p> {warnings} }.into_any()
                }
            })
        }
    }
}

impl Default for Notice {
    fn default() -> Self {
        Self::new()
    }
}
