//! Everything the store can refuse, as one enum with messages a screener or an admin can act on.

use std::path::PathBuf;

use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: no such database file")]
    Missing { path: PathBuf },
    #[error("{path}: is a directory, not a database file")]
    IsDirectory { path: PathBuf },
    #[error("{path}: cannot be read ({reason})")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path}: the file is read-only; accessline needs to write to its database")]
    ReadOnly { path: PathBuf },
    #[error(
        "{path}: not an accessline database (not a SQLite file), or an encrypted one opened without its key"
    )]
    NotADatabase { path: PathBuf },
    #[error(
        "{path}: the database key is wrong for this database (or the file is not an accessline database); nothing was changed"
    )]
    WrongKey { path: PathBuf },
    #[error("{path}: the database is not encrypted yet; open it with its key to encrypt it")]
    Unencrypted { path: PathBuf },
    #[error("{path}: encrypting the database failed, the original is untouched: {problem}")]
    Encrypt { path: PathBuf, problem: String },
    #[error(
        "{path}: written by a newer accessline (schema version {found}, this program knows up to {supported}); refusing to open it — upgrade accessline"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "{path}: schema version {found} is older than this program's {supported}; open it once with `accessline` to upgrade it"
    )]
    TooOld {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{path}: the folder {} does not exist", parent.display())]
    MissingFolder { path: PathBuf, parent: PathBuf },
    #[error("no per-user data folder could be found (is HOME set?); pass --db PATH")]
    NoDataDir,
    #[error("{path}: cannot create the folder: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot open the database: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: cannot upgrade the database schema: {source}")]
    Migrate {
        path: PathBuf,
        source: rusqlite_migration::Error,
    },
    #[error("encounter {id} does not exist")]
    NotFound { id: Uuid },
    #[error("encounter {id} revision {revision} does not exist")]
    RevisionNotFound { id: Uuid, revision: u32 },
    #[error("encounter {id} is finalized; corrections are addenda, not edits")]
    Finalized { id: Uuid },
    #[error("encounter {id} is still a draft; finalize it first")]
    NotFinalized { id: Uuid },
    #[error(
        "encounter {id} revision {revision} was superseded by revision {current}; review the current one"
    )]
    Superseded {
        id: Uuid,
        revision: u32,
        current: u32,
    },
    #[error("encounter {id} already exists")]
    AlreadyExists { id: Uuid },
    #[error("returning an encounter needs a note saying what to change")]
    NoteRequired,
    #[error("invalid {what}: {problem}")]
    Invalid { what: &'static str, problem: String },
    #[error("outbox entry {device}#{seq} does not exist")]
    NoOutboxEntry { device: String, seq: i64 },
    #[error("the database holds a damaged value ({what}); run `accessline verify`")]
    Corrupt { what: String },
    #[error("{}", describe(.0))]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// The disk (or the file system holding the database) has no room: nothing was written.
    pub fn is_disk_full(&self) -> bool {
        let code = match self {
            StoreError::Sqlite(e) | StoreError::Open { source: e, .. } => e.sqlite_error_code(),
            _ => None,
        };
        code == Some(rusqlite::ErrorCode::DiskFull)
    }
}

/// SQLite's own words, except where a person at the terminal needs to know what to do.
fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => {
            "the disk is full, so nothing was written; free some disk space and try again"
                .to_owned()
        }
        _ => format!("database error: {e}"),
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: std::ffi::c_int) -> StoreError {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            None,
        ))
    }

    #[test]
    fn a_full_disk_says_so_and_what_to_do() {
        let e = sqlite(rusqlite::ffi::SQLITE_FULL);
        assert!(e.is_disk_full());
        assert_eq!(
            e.to_string(),
            "the disk is full, so nothing was written; free some disk space and try again"
        );
        let other = sqlite(rusqlite::ffi::SQLITE_BUSY);
        assert!(!other.is_disk_full());
        assert!(other.to_string().starts_with("database error: "));
    }
}
