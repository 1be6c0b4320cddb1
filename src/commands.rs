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
            println!("{json}");
            ExitCode::SUCCESS
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
