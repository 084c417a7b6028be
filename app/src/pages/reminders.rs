//! Issue 15: reminders pages and components.
