//! Command-line interface (DESIGN section 8: a stable contract for scripts and QA).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// County reports as CSV, from the database (read-only): see docs/reports.md.
    Report {
        #[command(subcommand)]
        report: ReportKind,
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

/// The reports of `accessline report`.
#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// The written log of initial requests for services: caller (name or Anonymous), date,
    /// nature of the request, initial disposition; one row per call.
    InitialRequests {
        #[command(flatten)]
        period: ReportPeriod,
    },
    /// Deadlines met, missed and pending by triage level (`--detail`: one row per call).
    Timeliness {
        #[command(flatten)]
        period: ReportPeriod,
        /// One row per call instead of totals by triage level.
        #[arg(long)]
        detail: bool,
        /// Judge deadlines as of the end of this county day (default: now).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ReportPeriod {
    /// First county day of the period, inclusive: YYYY-MM-DD (or MM/DD/YYYY).
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// Last county day of the period, inclusive: YYYY-MM-DD (or MM/DD/YYYY).
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// Write the CSV to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
