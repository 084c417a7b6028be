//! Server-only code (feature "ssr"): configuration, storage, authentication,
//! the event bus and the service layer every state change goes through.

pub mod auth;
pub mod change;
pub mod clock;
pub mod config;
pub mod ctx;
pub mod db;
pub mod demo;
pub mod events;
pub mod notify;
pub mod outbox;
pub mod service;
pub mod state;
pub mod throttle;
pub mod timers;
pub mod zones;
