//! Issue 15: proposals server functions (see service/proposals.rs).
