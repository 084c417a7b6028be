//! Appointment requests and dispatch. For now all of it is in `answer.rs`
//! (moved whole from `requests.rs` so its history follows it).

mod answer;

pub use answer::*;
