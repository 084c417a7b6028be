//! The service layer: every state change goes through here.
//!
//! A service function authorizes the caller (role, clinic, on-behalf-of),
//! applies the domain rule, and writes the change, its audit entry, any
//! outbox entries and its live event in one transaction (`Change`), so
//! either all of them happen or none does.

pub mod accounts;
pub mod api_clients;
mod appointment_state;
pub mod appointments;
pub mod audit;
pub mod authz;
pub mod availability;
pub mod booking_rows;
pub mod bookings;
pub mod calendar_feed;
pub mod change_requests;
pub mod clinic_settings;
pub mod clinics;
pub mod dashboard;
pub mod exports;
pub mod fhir;
pub mod notifications;
pub mod portal;
pub mod proposals;
pub mod reminders;
pub mod requests;
pub mod schedule;
pub mod waitlist;

// The unit of work lives beside the services; they name it from here.
pub use super::change::{Audit, Change, OutboxMessage};
