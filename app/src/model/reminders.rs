//! Issue 15: reminders (see service/reminders.rs).
