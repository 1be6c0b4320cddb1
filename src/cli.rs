//! Command-line interface (DESIGN section 8: a stable contract for scripts and QA).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Lock the screen after this many minutes without a key (1–60).
    #[arg(long, global = true, value_name = "MINUTES", env = "ACCESSLINE_LOCK_AFTER",
          default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=60))]
    pub lock_after: u16,
    /// Who signs in (default: ACCESSLINE_USER, else the login name). The PIN is read from the
    /// terminal, or from ACCESSLINE_PIN for scripts; ACCESSLINE_DB_KEY (the device secret)
    /// runs unattended as `service`. See docs/security.md.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
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
    /// Write finalized encounters and reviews as batch files with manifests (see docs/sync.md),
    /// encrypted to the county's public key.
    Export(ExportArgs),
    /// Import NDJSON batch files on a hub: each file is checked whole and imported in one
    /// transaction; re-sent records are no-ops, contradicting ones are quarantined.
    Import {
        /// Batch data files or their manifests.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The county's identity file (from `accessline keys generate`), for encrypted batches.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Write a receipt per imported file into DIR (no PHI), for `accessline sync ack` on
        /// the device.
        #[arg(long, value_name = "DIR")]
        receipts: Option<PathBuf>,
    },
    /// Encryption keys for exports.
    Keys {
        #[command(subcommand)]
        keys: KeysCommand,
    },
    /// Where records are in sync.
    Sync {
        #[command(subcommand)]
        sync: SyncCommand,
    },
    /// Users and roles (admin only). The first `users add NAME --role admin` on a new device
    /// sets it up: the device secret, the key file, the encrypted database.
    Users {
        #[command(subcommand)]
        users: UsersCommand,
    },
    /// Print the audit log (supervisor or admin), tab-separated, oldest first.
    Audit {
        /// First county day, inclusive: YYYY-MM-DD (or MM/DD/YYYY).
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Last county day, inclusive: YYYY-MM-DD (or MM/DD/YYYY).
        #[arg(long, value_name = "DATE")]
        to: String,
        /// Only rows by this user (`--user` is who signs in).
        #[arg(long = "by", value_name = "NAME", alias = "actor")]
        by: Option<String>,
    },
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Canonical NDJSON, for `accessline import` on the hub.
    Ndjson,
    /// FHIR R4 transaction bundles (one per finalized revision), for a FHIR server.
    Fhir,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Folder to write the batch files and manifests to (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Every record, whatever its sync state (a re-send).
    #[arg(long, conflicts_with = "pending")]
    pub all: bool,
    /// Only records not yet exported (the default).
    #[arg(long)]
    pub pending: bool,
    /// The county's public key: a recipient file or the key itself (age1…). May be repeated.
    /// Default: the ACCESSLINE_RECIPIENT environment variable.
    #[arg(long, value_name = "FILE|age1…")]
    pub recipient: Vec<String>,
    /// Write unencrypted files (PHI in the clear: for tests and secure transfers only).
    #[arg(long, conflicts_with = "recipient")]
    pub plaintext: bool,
    /// Only this device's outbox (default: every device in the database).
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// Records per file at most.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub batch_size: usize,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make the county's key pair: DIR/county.key (identity: keep at the hub) and
    /// DIR/county.pub (recipient: give to devices).
    Generate {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Counts by sync state, conflicts, sequence gaps; `--list` adds every record.
    Status {
        /// The reconciliation report: every record with its encounter id, revision, state and
        /// batch (tab-separated).
        #[arg(long)]
        list: bool,
    },
    /// On a device: apply the hub's receipts (from `accessline import --receipts`), moving
    /// records the hub holds to `acknowledged` and those it quarantined to `conflict`.
    Ack {
        #[arg(required = true, value_name = "RECEIPT")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Enrol a user; their PIN is typed twice (or ACCESSLINE_NEW_PIN).
    Add {
        name: String,
        #[arg(long, value_parser = ["screener", "supervisor", "admin"])]
        role: String,
        /// The name shown on screen (default: NAME).
        #[arg(long, value_name = "TEXT")]
        display_name: Option<String>,
    },
    /// Every user with role, status and lockout.
    List,
    /// Disable a user: their key slot is removed and they can no longer sign in.
    Disable { name: String },
    /// Give a user a new PIN (typed twice, or ACCESSLINE_NEW_PIN); clears a lockout.
    ResetPin { name: String },
    /// Print the device secret (for ACCESSLINE_DB_KEY on hubs and scripts). Guard it like the
    /// data itself.
    DbKey,
}
