//! The county's reports as CSV (`accessline report`; rules and columns in docs/reports.md):
//!
//! - **initial requests** — the written log of initial requests for services that DHCS requires
//!   of a county mental-health plan and DMC-ODS: who (name or "Anonymous"), when, the nature of
//!   the request and the initial disposition, one row per call;
//! - **timeliness** — deadlines met, missed and pending by triage level, or one row per call.
//!
//! Both read the current finalized revision of each encounter received in a period of county
//! days, in call order, streaming (see `store/reports.rs`): memory stays flat however long the
//! period. The CSV is RFC 4180 (header row, CRLF, fields quoted when they need it) in UTF-8, and
//! a cell that a spreadsheet would run as a formula is defused (see [`Csv`]).

mod csv;
mod facts;
mod initial_requests;
mod period;
mod timeliness;

pub use csv::Csv;
pub use initial_requests::{INITIAL_REQUESTS_HEADER, initial_requests};
pub use period::{Period, county_midnight, local_iso, parse_date};
pub use timeliness::{TIMELINESS_DETAIL_HEADER, TIMELINESS_HEADER, Timely, timeliness};

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::domain::Definitions;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write the report: {0}")]
    Io(#[from] io::Error),
}

/// What a report wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Encounters read (data rows of the initial-requests log and the timeliness detail).
    pub encounters: u64,
    /// Encounters whose stored payload could not be read (listed from their summary columns).
    pub unreadable: u64,
}

// ---------------------------------------------------------------------------------------------
// The command

/// Which report, as the command line asked for it (dates still as typed).
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: Kind,
    pub from: String,
    pub to: String,
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    InitialRequests,
    Timeliness {
        detail: bool,
        /// Judge deadlines at the end of this county day (default: now).
        as_of: Option<String>,
    },
}

/// Why a report was not written.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments, a missing database, an output file that cannot be created: nothing was
    /// written (exit code 2).
    BadInput(String),
    /// The database could not be read to the end (exit code 1); no output file is left behind.
    Failed(String),
    /// Sign-in or the role check refused (the message is already printed): this exit code.
    Refused(std::process::ExitCode),
}

/// Run a report: check every argument, open the database read-only, write the CSV to `--out`
/// (through a temporary file renamed at the end, so a failed run leaves no half report) or to
/// standard output. `db` signs in and opens the database (read-only) once the arguments are
/// known to be good, or returns the exit code of its refusal.
pub fn run(
    request: &Request,
    db: impl FnOnce() -> Result<Store, std::process::ExitCode>,
    defs: &Definitions,
) -> Result<Written, Failure> {
    let bad = Failure::BadInput;
    let period = Period::parse(&request.from, &request.to).map_err(bad)?;
    let as_of = match &request.kind {
        Kind::Timeliness {
            as_of: Some(day), ..
        } => {
            let day = parse_date(day).map_err(|e| bad(format!("--as-of: {e}")))?;
            county_midnight(day.succ_opt().expect("a date before chrono's last"))
        }
        _ => Utc::now(),
    };
    if let Some(out) = &request.out
        && out.is_dir()
    {
        return Err(bad(format!("--out {}: is a directory", out.display())));
    }
    let store = db().map_err(Failure::Refused)?;
    let write = |w: &mut dyn Write| match &request.kind {
        Kind::InitialRequests => initial_requests(&store, defs, &period, w),
        Kind::Timeliness { detail, .. } => timeliness(&store, &period, as_of, *detail, w),
    };
    match &request.out {
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::with_capacity(1 << 16, stdout.lock());
            match write(&mut w) {
                Ok(done) => Ok(done),
                // A closed pipe (`| head`) is the reader's choice.
                Err(ReportError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                    Ok(Written::default())
                }
                Err(e) => Err(Failure::Failed(e.to_string())),
            }
        }
        Some(out) => write_file(out, write),
    }
}

fn write_file(
    out: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<Written, ReportError>,
) -> Result<Written, Failure> {
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = std::fs::File::create(&partial)
        .map_err(|e| Failure::BadInput(format!("--out {}: {e}", out.display())))?;
    let mut w = io::BufWriter::with_capacity(1 << 16, file);
    let result = write(&mut w)
        .and_then(|done| {
            let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
            Ok(done)
        })
        .and_then(|done| {
            std::fs::rename(&partial, out)?;
            Ok(done)
        });
    result.map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        Failure::Failed(format!("{}: {e}", out.display()))
    })
}
