//! Why a sign-in or a user change was refused.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::Role;
use crate::store::StoreError;

/// Why a sign-in or a user change was refused. `Display` is one line fit for the sign-in
/// screen: it never contains a PIN or key, and never says whether a name exists.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("unknown user or wrong PIN")]
    WrongPin,
    #[error(
        "too many wrong PINs: locked until {} ({failures} failed attempts)",
        hhmm(.until)
    )]
    LockedOut { until: DateTime<Utc>, failures: u32 },
    #[error("this account is disabled; ask an administrator")]
    Disabled { user: String },
    #[error("a PIN needs at least {min} characters")]
    PinTooShort { min: usize },
    #[error("a user name is 1–64 letters, digits, '.', '-' or '_' (got `{name}`)")]
    BadName { name: String },
    #[error("{user} already has an account")]
    UserExists { user: String },
    #[error("no such user: {user}")]
    NoSuchUser { user: String },
    #[error("accessline is already set up on this device: sign in")]
    AlreadySetUp,
    #[error(
        "no users yet: create the first administrator with `accessline users add NAME --role admin`"
    )]
    NotSetUp,
    #[error(
        "the database {} is encrypted but its key file {} is missing: restore it from a backup, or set ACCESSLINE_DB_KEY",
        .db.display(), .keys.display()
    )]
    KeyFileMissing { db: PathBuf, keys: PathBuf },
    #[error("the key file {} is damaged or was altered ({problem}); nothing was changed", .path.display())]
    KeyFile { path: PathBuf, problem: String },
    #[error("the database key does not belong to this key file; nothing was changed")]
    KeyMismatch,
    #[error("{what} needs the {need} role (signed in as {user}, {role})")]
    Forbidden {
        user: String,
        role: Role,
        what: String,
        need: &'static str,
    },
    #[error("{0}")]
    Refused(String),
    #[error("the key file is locked in this session: sign in first")]
    NotUnlocked,
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// A time as the county's clock shows it (hours and minutes).
fn hhmm(t: &DateTime<Utc>) -> String {
    crate::domain::clock::county_time(*t)
        .format("%H:%M")
        .to_string()
}

impl AuthError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> AuthError {
        AuthError::Io {
            path: path.into(),
            source,
        }
    }
}
