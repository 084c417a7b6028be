//! Small helpers server functions use to reach the request and the state.
//!
//! leptos_axum provides the request `Parts` and `ResponseOptions` as context;
//! the session middleware has already put the resolved `Session` (if any)
//! into the request extensions.

use super::auth::Session;
use super::state::AppState;
use crate::error::{AppError, AppResult};
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

pub fn state() -> AppResult<AppState> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::internal()
    })
}

pub fn session() -> Option<Session> {
    use_context::<Parts>().and_then(|p| p.extensions.get::<Session>().cloned())
}

pub fn require_session() -> AppResult<Session> {
    session().ok_or_else(AppError::login_required)
}

pub fn header(name: header::HeaderName) -> Option<String> {
    use_context::<Parts>().and_then(|p| {
        p.headers
            .get(name)
            .and_then(|v| v.to_str().ok().map(String::from))
    })
}

/// The client address as the middleware recorded it.
pub fn client_addr() -> String {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<ClientAddr>().map(|a| a.0.clone()))
        .unwrap_or_else(|| "unknown".into())
}

/// Set by the server's middleware: the caller's address (proxy-aware).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

/// Whether cookies must be `Secure`: the public URL is https, or a trusted
/// proxy says the browser's connection is.
pub fn secure_cookies(state: &AppState) -> bool {
    state.config.secure_cookies()
        || (state.config.trust_proxy
            && header(header::HeaderName::from_static("x-forwarded-proto")).as_deref()
                == Some("https"))
}

pub fn set_status(code: u16) {
    if let (Some(res), Ok(code)) = (use_context::<ResponseOptions>(), StatusCode::from_u16(code)) {
        res.set_status(code);
    }
}

pub fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        res.append_header(header::SET_COOKIE, v);
    }
}

/// Runs a server function body and gives any error its HTTP status.
pub async fn run<T>(f: impl std::future::Future<Output = AppResult<T>>) -> AppResult<T> {
    let r = f.await;
    if let Err(e) = &r {
        set_status(e.status());
    }
    r
}
