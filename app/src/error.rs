//! The one error type every server function returns.
//!
//! It crosses the wire as JSON, carries the HTTP status it maps to, and keeps
//! internal detail out of the browser: `Internal` is logged on the server with
//! its cause and shown to users as a generic message.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, ServerFnErrorErr};

/// Re-exported so the rest of the crate names one path for these traits.
mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum AppError {
    /// No valid session: the user must log in (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Logged in, but this account may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist, or the caller may not know that it does (404).
    #[error("{0}")]
    NotFound(String),
    /// The input is wrong; the message says what to fix (400).
    #[error("{0}")]
    Validation(String),
    /// Someone else got there first or the state changed (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again later (429).
    #[error("{0}")]
    RateLimited(String),
    /// Something broke on our side (500). The message is generic on purpose.
    #[error("{0}")]
    Internal(String),
    /// The request never reached the server or its answer was unreadable.
    #[error("{0}")]
    Network(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(msg: impl Into<String>) -> Self {
        Self::Validation(msg.into())
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Conflict(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
    pub fn login_required() -> Self {
        Self::Unauthorized("Please log in to continue.".into())
    }
    /// The message users see for anything unexpected.
    pub fn internal() -> Self {
        Self::Internal("Something went wrong on our side. Please try again.".into())
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Validation(_) => 400,
            Self::Conflict(_) => 409,
            Self::RateLimited(_) => 429,
            Self::Internal(_) => 500,
            Self::Network(_) => 503,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Validation(m)
            | Self::Conflict(m)
            | Self::RateLimited(m)
            | Self::Internal(m)
            | Self::Network(m) => m,
        }
    }
}

/// What the caller of a server function hears when its arguments could not
/// be decoded (HTTP 400).
pub const MALFORMED: &str =
    "The form was incomplete or had a value that is not one of its choices. Reload the page and try again.";

impl FromServerFnError for AppError {
    type Encoder = server_fn_error::JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let err = match value {
            // Bad or missing arguments are the caller's mistake, not ours:
            // a value missing, not a number, or not one of an enum's names.
            // The app's own pages always send well-formed arguments, so the
            // decoder's detail is for the server log, not for users.
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                #[cfg(feature = "ssr")]
                tracing::info!(detail = %m, "malformed server function arguments");
                #[cfg(not(feature = "ssr"))]
                let _ = m;
                Self::Validation(MALFORMED.into())
            }
            ServerFnErrorErr::Request(m) => {
                Self::Network(format!("Could not reach the server: {m}"))
            }
            // On the server, what could not be decoded is the request: the
            // caller's mistake (a body that is not UTF-8, say), a 400.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => {
                Self::Validation("The form could not be read: send it as UTF-8 text.".into())
            }
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Deserialization(_) => {
                Self::Network("The server's answer could not be read.".into())
            }
            ServerFnErrorErr::Response(_) => {
                Self::Network("The server's answer could not be read.".into())
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failure");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                Self::internal()
            }
        };
        // On the server this runs inside the request, so the status is set
        // here for argument errors that never reach the function body.
        #[cfg(feature = "ssr")]
        crate::server::ctx::set_status(err.status());
        err
    }
}

/// A database failure is never the caller's to read: its detail is logged
/// with the place it happened (`?` passes its own location here) and the
/// caller gets the generic message. Failures that mean something to the
/// user (a double booking, a duplicate) are mapped before they get here.
#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    #[track_caller]
    fn from(e: sqlx::Error) -> Self {
        let at = std::panic::Location::caller();
        tracing::error!(error = %e, at = %at, "database error");
        AppError::internal()
    }
}
