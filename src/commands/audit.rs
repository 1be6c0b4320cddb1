//! `accessline audit --from DATE --to DATE [--by NAME]`: the audit log, tab-separated, oldest
//! first (supervisor or admin; read-only).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::session::{self, Mode, Need};
use super::{BAD_INPUT, fail};
use crate::report::{Period, local_iso};
use crate::store::{AuditQuery, StoreError};

pub const HEADER: &str = "seq\tat\tactor\tdevice\taction\trecord\tdetail";

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
}

pub fn run(
    db: Option<PathBuf>,
    user: Option<String>,
    from: &str,
    to: &str,
    by: Option<String>,
) -> ExitCode {
    let period = match Period::parse(from, to) {
        Ok(p) => p,
        Err(e) => return fail("audit", e),
    };
    let session = match session::open(db, user, "audit", Need::Review, Mode::ReadOnly) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let query = AuditQuery {
        from: Some(period.start()),
        before: Some(period.end()),
        user: by,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = (|| -> Result<(), Failure> {
        writeln!(out, "{HEADER}")?;
        session
            .store
            .for_each_audit(&query, |e| -> Result<(), Failure> {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    e.seq,
                    local_iso(e.at),
                    clean(&e.actor),
                    clean(&e.device),
                    clean(&e.action),
                    clean(&e.record),
                    clean(&e.detail)
                )?;
                Ok(())
            })?;
        out.flush()?;
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e @ Failure::Io(_)) => {
            eprintln!("accessline audit: {e}");
            ExitCode::from(BAD_INPUT)
        }
        Err(e) => {
            eprintln!("accessline audit: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One field per column: tabs and line breaks inside a value become spaces.
fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}
