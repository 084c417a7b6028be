//! Pure domain types and rules: no I/O, no clock reads, no database.
//! Everything here compiles for both the browser and the server and is unit
//! tested on its own.

pub mod api_client;
pub mod appointment;
pub mod audit;
pub mod booking;
pub mod datetime_style;
pub mod feed;
pub mod fhir;
pub mod form;
pub mod live;
pub mod modality;
pub mod notify;
pub mod pms;
pub mod policy;
pub mod proposal;
pub mod recurrence;
pub mod reminder;
pub mod request;
pub mod role;
pub mod schedule;
pub mod session;
pub mod slots;
pub mod validate;
pub mod waitlist;
