//! Issue 15: waitlist (see service/waitlist.rs).
