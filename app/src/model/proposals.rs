//! Issue 15: proposals (see service/proposals.rs).
