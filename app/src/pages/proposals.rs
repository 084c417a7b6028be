//! Issue 15: proposals pages and components.
