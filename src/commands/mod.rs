//! What each subcommand does, between the parsed command line and the library; `main` only
//! dispatches. Exit codes: 0 ok, 1 a check failed, 2 bad input (nothing changed).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::domain::Definitions;
use crate::store::demo::{self, DemoOptions};
use crate::store::{StoreError, default_db_path, save_loop};

pub mod audit;
pub mod session;
mod sync;
pub mod users;

pub use sync::{export, import, keys, sync};

use session::{Mode, Need};

/// Bad input (a file, an argument), a refused sign-in or a missing role: nothing was changed.
pub const BAD_INPUT: u8 = 2;

pub(crate) fn db_path(db: Option<PathBuf>) -> Result<PathBuf, StoreError> {
    db.map_or_else(default_db_path, Ok)
}

pub(crate) fn fail(what: &str, e: impl std::fmt::Display) -> ExitCode {
    if what.is_empty() {
        eprintln!("accessline: {e}");
    } else {
        eprintln!("accessline {what}: {e}");
    }
    ExitCode::from(BAD_INPUT)
}

pub fn assess(defs: &Definitions, file: &str) -> ExitCode {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(file)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => return fail("assess", format_args!("cannot read {file}: {e}")),
    };
    match crate::domain::assess::assess_json(defs, &text) {
        Ok(json) => {
            use std::io::Write;
            // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
            match writeln!(std::io::stdout().lock(), "{json}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail("assess", format_args!("cannot write the result: {e}")),
            }
        }
        Err(e) => fail("assess", e),
    }
}

pub fn demo(
    db: Option<PathBuf>,
    user: Option<String>,
    defs: &Definitions,
    encounters: u64,
    seed: u64,
) -> ExitCode {
    let mut store = match session::open(db, user, "demo", Need::Admin, Mode::ReadWrite) {
        Ok(s) => s.store,
        Err(code) => return code,
    };
    match demo::generate(&mut store, defs, &DemoOptions { encounters, seed }) {
        Ok(s) => {
            let secs = s.elapsed.as_secs_f64();
            println!(
                "demo: wrote {} encounters ({} finalized, {} drafts; {} reviews, {} returned; {} addenda) to {} in {secs:.2} s ({:.0} encounters/s)",
                s.encounters,
                s.finalized,
                s.drafts,
                s.reviews,
                s.returned,
                s.addenda,
                store.path().display(),
                s.encounters as f64 / secs.max(1e-9)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("accessline demo: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn verify(db: Option<PathBuf>, user: Option<String>) -> ExitCode {
    let store = match session::open(db, user, "verify", Need::Review, Mode::ReadOnly) {
        Ok(s) => s.store,
        Err(code) => return code,
    };
    println!("database: {}", store.path().display());
    let backup = crate::store::encrypt::backup_path(store.path());
    if backup.exists() {
        eprintln!(
            "accessline verify: warning: {} is the unencrypted copy kept when the database was encrypted; it holds PHI in the clear — delete it once the database is checked",
            backup.display()
        );
    }
    match store.verify() {
        Ok(report) => {
            println!("{report}");
            if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("accessline verify: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn save_loop(db: Option<PathBuf>, user: Option<String>, limit: Option<u64>) -> ExitCode {
    let store = match session::open(db, user, "__save-loop", Need::Any, Mode::ReadWrite) {
        Ok(s) => s.store,
        Err(code) => return code,
    };
    match save_loop::run(store, limit, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("__save-loop", e),
    }
}

/// Logs go to a file beside the database, never to the screen the UI owns; no PHI is logged
/// (ids and events only).
fn start_logging(db: &std::path::Path) -> Option<PathBuf> {
    let path = db.with_extension("log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    // The panic report goes to the log; ratatui's own hook (installed later, around this one)
    // restores the terminal first.
    let previous = std::panic::take_hook();
    let shown = path.display().to_string();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("panic: {info}");
        previous(info);
        eprintln!(
            "accessline stopped because of an internal error. The call in progress is saved: \
             start accessline again to resume it. Details are in {shown}."
        );
    }));
    Some(path)
}

/// The keymap: the defaults, with the user's overrides from `--keymap FILE` or
/// `<config dir>/keymap.toml` when it exists.
fn keymap(file: Option<PathBuf>) -> Result<crate::tui::keymap::Keymap, String> {
    use crate::tui::keymap::Keymap;
    let path = file.or_else(|| {
        directories::ProjectDirs::from("org", "LA County", "accessline")
            .map(|d| d.config_dir().join("keymap.toml"))
            .filter(|p| p.exists())
    });
    let Some(path) = path else {
        return Ok(Keymap::default_map());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read keymap {}: {e}", path.display()))?;
    Keymap::with_overrides(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn tui(
    db: Option<PathBuf>,
    user: Option<String>,
    keymap_file: Option<PathBuf>,
    defs: Definitions,
    review: bool,
    lock_after: chrono::TimeDelta,
) -> ExitCode {
    use std::io::IsTerminal;
    let keymap = match keymap(keymap_file) {
        Ok(k) => k,
        Err(e) => return fail("", e),
    };
    if !std::io::stdout().is_terminal() {
        return fail(
            "",
            "the screener UI needs a terminal (for scripts, see `accessline --help`)",
        );
    }
    let path = match db_path(db) {
        Ok(p) => p,
        Err(e) => return fail("", e),
    };
    // Everything that can be refused before the screen starts is refused here, in plain
    // words: an unreadable key file, a malformed ACCESSLINE_DB_KEY, an encrypted database
    // whose key file is missing.
    let vault = match crate::security::Vault::for_db(&path) {
        Ok(v) => v,
        Err(e) => return fail("", e),
    };
    let env_key = match session::env_key() {
        Ok(k) => k,
        Err(e) => return fail("", e),
    };
    if vault.needs_setup() && env_key.is_none() {
        match crate::security::setup_state(&vault, &path) {
            crate::security::AuthError::NotSetUp => {}
            other => return fail("", other),
        }
    }
    start_logging(&path);
    tracing::info!(db = %path.display(), "accessline started");
    let start = crate::tui::Start {
        device: crate::security::device_name(),
        user: user
            .or_else(|| std::env::var("ACCESSLINE_USER").ok())
            .filter(|u| !u.trim().is_empty()),
        review,
        idle_limit: lock_after,
    };
    let backend = crate::tui::effect::Backend::signing_in(path, vault, env_key);
    match crate::tui::run(backend, defs, keymap, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("terminal error: {e}");
            eprintln!("accessline: terminal error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `accessline report`: see `crate::report` and docs/reports.md. Exit 2 (nothing written) on a
/// bad argument or a missing database, 1 if the database cannot be read to the end.
pub fn report(
    db: Option<PathBuf>,
    user: Option<String>,
    defs: &Definitions,
    kind: crate::cli::ReportKind,
) -> ExitCode {
    use crate::cli::ReportKind;
    use crate::report::{Failure, Kind, Request};
    let (period, kind) = match kind {
        ReportKind::InitialRequests { period } => (period, Kind::InitialRequests),
        ReportKind::Timeliness {
            period,
            detail,
            as_of,
        } => (period, Kind::Timeliness { detail, as_of }),
    };
    let request = Request {
        kind,
        from: period.from,
        to: period.to,
        out: period.out,
    };
    let open = || match session::open(db, user, "report", Need::Review, Mode::ReadOnly) {
        Ok(s) => Ok(s.store),
        Err(code) => Err(code),
    };
    match crate::report::run(&request, open, defs) {
        Ok(done) => {
            if let Some(out) = &request.out {
                eprintln!(
                    "report: wrote {} encounters to {}",
                    done.encounters,
                    out.display()
                );
            }
            if done.unreadable > 0 {
                eprintln!(
                    "accessline report: warning: {} stored records could not be read and are listed from their summary only; run `accessline verify`",
                    done.unreadable
                );
            }
            ExitCode::SUCCESS
        }
        Err(Failure::BadInput(e)) => fail("report", e),
        Err(Failure::Refused(code)) => code,
        Err(Failure::Failed(e)) => {
            eprintln!("accessline report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The database a sync command works on: it must exist (a typo must not create an empty one).
fn existing_db(db: Option<PathBuf>, what: &str) -> Result<PathBuf, ExitCode> {
    let path = db_path(db).map_err(|e| fail(what, e))?;
    if !path.exists() {
        return Err(fail(
            what,
            format_args!("{}: no such database file", path.display()),
        ));
    }
    Ok(path)
}
