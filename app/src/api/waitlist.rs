//! Issue 15: waitlist server functions (see service/waitlist.rs).
