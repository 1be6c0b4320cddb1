//! What each subcommand does, between the parsed command line and the library; `main` only
//! dispatches. Exit codes: 0 ok, 1 a check failed, 2 bad input (nothing changed).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::domain::Definitions;
use crate::store::demo::{self, DemoOptions};
use crate::store::{Store, StoreError, default_db_path, save_loop};

/// Bad input (a file, an argument): nothing was changed.
pub const BAD_INPUT: u8 = 2;

fn db_path(db: Option<PathBuf>) -> Result<PathBuf, StoreError> {
    db.map_or_else(default_db_path, Ok)
}

fn fail(what: &str, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("accessline {what}: {e}");
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

pub fn demo(db: Option<PathBuf>, defs: &Definitions, encounters: u64, seed: u64) -> ExitCode {
    let mut store = match db_path(db).and_then(Store::open) {
        Ok(s) => s,
        Err(e) => return fail("demo", e),
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

pub fn verify(db: Option<PathBuf>) -> ExitCode {
    let store = match db_path(db).and_then(Store::open_read_only) {
        Ok(s) => s,
        Err(e) => return fail("verify", e),
    };
    println!("database: {}", store.path().display());
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

pub fn save_loop(db: Option<PathBuf>, limit: Option<u64>) -> ExitCode {
    let path = match db_path(db) {
        Ok(p) => p,
        Err(e) => return fail("__save-loop", e),
    };
    match save_loop::run(&path, limit, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("__save-loop", e),
    }
}

/// Who is at the keyboard until sign-in exists: `ACCESSLINE_USER`, else the login name; the
/// device is the host name.
fn actor() -> crate::store::Actor {
    let user = std::env::var("ACCESSLINE_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "screener".into());
    let device = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "device".into());
    crate::store::Actor::new(user, device)
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
    keymap_file: Option<PathBuf>,
    defs: Definitions,
    review: bool,
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
    let store = match Store::open(&path) {
        Ok(s) => s,
        Err(e) => return fail("", e),
    };
    start_logging(&path);
    tracing::info!(db = %path.display(), "accessline started");
    match crate::tui::run(store, defs, keymap, actor(), review) {
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
pub fn report(db: Option<PathBuf>, defs: &Definitions, kind: crate::cli::ReportKind) -> ExitCode {
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
    match crate::report::run(&request, || db_path(db), defs) {
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
        Err(Failure::Failed(e)) => {
            eprintln!("accessline report: {e}");
            ExitCode::FAILURE
        }
    }
}
