//! accessline: a keyboard-driven terminal application for a county behavioral-health
//! 24/7 access line. See README.md and docs/.

pub mod cli;
pub mod commands;
pub mod domain;
pub mod report;
pub mod security;
pub mod store;
pub mod sync;
pub mod tui;
