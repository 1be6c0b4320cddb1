//! Command-line interface (DESIGN section 8: a stable contract for scripts and QA).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "accessline",
    version,
    about = "Behavioral-health 24/7 access line: screening, placement, referral"
)]
pub struct Cli {
    /// SQLite database file (default: the per-user data directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Assess an encounter's answers (JSON, see docs/assess.md) and print the result as JSON.
    Assess {
        /// Input file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: String,
    },
    /// Check the shipped clinical definitions and print their versions.
    Definitions,
}
