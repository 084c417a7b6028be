//! Who is logged in, and the guard that protects pages.

use crate::api::accounts::{current_user, Login, Logout, Register};
use crate::error::AppError;
use crate::model::Me;
use crate::pages::errors::Forbidden;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

#[derive(Clone, Copy)]
pub struct Auth {
    /// Blocking, so the server knows the user before it sends any HTML and
    /// can answer with a redirect or a 403 status.
    pub me: Resource<Result<Option<Me>, AppError>>,
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    pub register: ServerAction<Register>,
}

impl Auth {
    pub fn provide() -> Self {
        let login = ServerAction::<Login>::new();
        let logout = ServerAction::<Logout>::new();
        let register = ServerAction::<Register>::new();
        let me = Resource::new_blocking(
            move || {
                (
                    login.version().get(),
                    logout.version().get(),
                    register.version().get(),
                )
            },
            |_| current_user(),
        );
        let auth = Auth {
            me,
            login,
            logout,
            register,
        };
        provide_context(auth);
        auth
    }

    /// The logged-in user's id, for things that follow the login state.
    pub fn user_id(self) -> Signal<Option<i64>> {
        let me = self.me;
        Signal::derive(move || me.get().and_then(|r| r.ok()).flatten().map(|m| m.user_id))
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// What a page needs from its visitor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Need {
    /// Any logged-in user.
    Login,
    /// Clinic staff (admin, scheduler or provider).
    Staff,
}

/// Renders `children` with the user when allowed; otherwise sends visitors
/// who are not logged in to the login page (coming back here afterwards)
/// and shows the 403 page to users without access.
#[component]
pub fn Guard<F, V>(need: Need, children: F) -> impl IntoView
where
    F: Fn(Me) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let auth = use_auth();
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let children = children.clone();
                move || {
                    let children = children.clone();
                    Suspend::new(async move {
                        match auth.me.await {
                            Ok(Some(me)) if need == Need::Login || me.is_staff() => {
                                children(me).into_any()
                            }
                            Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                            _ => {
                                let here = location.pathname.get_untracked();
                                let path = format!("/login?next={}", urlencode(&here));
                                view! { <Redirect path=path /> }.into_any()
                            }
                        }
                    })
                }
            }
        </Suspense>
    }
}

/// Percent-encodes a path for use as a query value.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn urlencode_keeps_paths_readable() {
        assert_eq!(super::urlencode("/dispatch"), "/dispatch");
        assert_eq!(super::urlencode("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
    }
}
