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
    /// Key bindings to use instead of the defaults (see assets/keymap.toml for the format).
    #[arg(long, global = true, value_name = "FILE")]
    pub keymap: Option<PathBuf>,
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
    /// Fill a database with realistic synthetic encounters (same seed, same content).
    Demo {
        /// How many encounters (calls) to generate.
        #[arg(long, value_name = "N")]
        encounters: u64,
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
    },
    /// Check a database: integrity, the audit chain, every finalized payload's hash.
    /// Exits 1 if any fault is found.
    Verify,
    /// Open the supervisor's review queue (the same screens as `v` on the home screen).
    Review,
    /// Test aid: save answers in a loop, printing each commit (for the kill test).
    #[command(name = "__save-loop", hide = true)]
    SaveLoop {
        #[arg(long)]
        limit: Option<u64>,
    },
}
