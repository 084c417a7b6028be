#![recursion_limit = "256"]
//! Slotwise: the Leptos app shared by the server (SSR) and the browser
//! (hydration). Domain types and rules live in `domain`, server functions in
//! `api`, server-only code in `server` (feature "ssr").

pub mod api;
pub mod domain;
pub mod error;
pub mod live;
pub mod model;
pub mod pages;
pub mod shell;

#[cfg(feature = "ssr")]
pub mod server;

pub use shell::{shell, App};
