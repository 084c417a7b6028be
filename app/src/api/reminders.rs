//! Issue 15: reminders server functions (see service/reminders.rs).
