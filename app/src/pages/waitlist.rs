//! Issue 15: waitlist pages and components.
