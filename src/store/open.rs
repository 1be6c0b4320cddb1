//! Opening a database: refuse bad input before anything is written, then set the PRAGMAs and
//! bring the schema up to date.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::error::{Result, StoreError};
use super::key::DbKey;
use super::migrations::{MIGRATIONS, SCHEMA_VERSION};

/// The first 16 bytes of every unencrypted SQLite 3 database file. An encrypted file starts
/// with its random salt instead.
pub(crate) const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// What the first bytes of a database file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// Absent or empty: a new database.
    New,
    /// An unencrypted SQLite file.
    Plain,
    /// Anything else: an encrypted database (or not a database at all; only the key tells).
    Opaque,
}

/// Make sure SQLCipher has started, then silence its log; once per process, before any
/// connection of the store's is opened.
///
/// SQLite marks itself initialised *before* it runs SQLCipher's start-up (`SQLITE_EXTRA_INIT`
/// runs last, outside SQLite's own init mutex). A thread whose first connection arrives while
/// another thread is still in that start-up finds SQLite ready and SQLCipher not: its
/// `PRAGMA key` fails ("An error occurred with PRAGMA key or rekey"), and a log level set then
/// is reset to SQLCipher's default when the start-up finishes. Measured: 7 first opens in
/// 1,000 processes failed so (tests/store_first_open.rs). So this waits until a key can be
/// set on an in-memory database, whichever thread runs the start-up.
///
/// The log is silenced because SQLCipher writes decryption failures (a wrong key) to standard
/// error, which would corrupt the screen the TUI owns; the setting is process-wide.
pub(crate) fn sqlcipher_ready() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // A start-up takes well under a millisecond; give up after a second (a SQLCipher that
        // cannot start then fails the open with its own error).
        for _ in 0..1000 {
            let ready = Connection::open_in_memory().is_ok_and(|c| {
                c.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "00".repeat(32)))
                    .is_ok()
            });
            if ready {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Ok(c) = Connection::open_in_memory() {
            let _ = c.execute_batch("PRAGMA cipher_log_level = NONE;");
        }
    });
}

/// How SQLCipher authenticates each page of an encrypted database (the HMAC over the page,
/// checked on every read).
///
/// New databases use HMAC-SHA256. SQLCipher 4's default, HMAC-SHA512, runs at 257 MB/s on
/// this fleet's CPUs (`openssl speed -evp sha512`, 4 KiB blocks) against 840 MB/s for SHA-256
/// with the CPU's SHA extensions: it was 31 % of an export's CPU time and 9 % of the demo
/// writer's. A 256-bit HMAC tag under a 256-bit key is well beyond any forgery attempt; the
/// pages stay AES-256 encrypted either way. Databases made before this choice keep SHA-512
/// and open as before (see [`open_keyed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageHmac {
    Sha256,
    /// SQLCipher 4's default: databases encrypted before HMAC-SHA256 was chosen.
    Sha512,
}

impl PageHmac {
    /// What a new encrypted database is made with.
    pub(crate) const NEW: PageHmac = PageHmac::Sha256;

    /// The SQLCipher setting, for `PRAGMA [schema.]cipher_hmac_algorithm = …`.
    pub(crate) fn setting(self) -> &'static str {
        match self {
            PageHmac::Sha256 => "HMAC_SHA256",
            PageHmac::Sha512 => "HMAC_SHA512",
        }
    }
}

/// The statements that key a connection (the first on it) for pages authenticated by `hmac`.
pub(crate) fn key_pragmas(key: &DbKey, hmac: PageHmac) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(format!(
        "PRAGMA key = {}; PRAGMA cipher_hmac_algorithm = {};",
        key.sql_literal().as_str(),
        hmac.setting()
    ))
}

/// Open `path` and key it, proving the key by reading the schema (SQLCipher only notices a
/// wrong key at the first read). A new or HMAC-SHA256 database opens at the first try; one
/// made with SQLCipher's default HMAC-SHA512 fails that read and opens at the second (a
/// wrong key fails both).
fn open_keyed(path: &Path, flags: OpenFlags, key: &DbKey) -> Result<Connection> {
    for hmac in [PageHmac::NEW, PageHmac::Sha512] {
        let conn = Connection::open_with_flags(path, flags).map_err(|e| map_open(path, e))?;
        conn.execute_batch(&key_pragmas(key, hmac))
            .map_err(|e| map_open(path, e))?;
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(_) => return Ok(conn),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => continue,
            Err(e) => return Err(map_open(path, e)),
        }
    }
    Err(StoreError::WrongKey { path: path.into() })
}

pub(crate) fn file_kind(path: &Path) -> Result<FileKind> {
    let mut head = Vec::with_capacity(16);
    match File::open(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(FileKind::New),
        other => other
            .and_then(|f| f.take(16).read_to_end(&mut head))
            .map_err(|e| StoreError::Unreadable {
                path: path.into(),
                reason: e.to_string(),
            })?,
    };
    Ok(if head.is_empty() {
        FileKind::New
    } else if head.as_slice() == SQLITE_HEADER {
        FileKind::Plain
    } else {
        FileKind::Opaque
    })
}

/// How long a write waits for another process's write to finish before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a waiting write looks again.
const BUSY_POLL: Duration = Duration::from_millis(1);

/// Wait for the lock by looking again every millisecond, for up to [`BUSY_TIMEOUT`].
///
/// SQLite's own `busy_timeout` sleeps longer and longer between looks (up to 100 ms), so a
/// connection that writes back to back — an import, the demo, a second copy saving fast —
/// can keep the lock through every look for five seconds and starve the other one into
/// "database is locked". Short, even looks find the gap between its transactions.
fn wait_for_lock(attempts: i32) -> bool {
    let waited = BUSY_POLL * u32::try_from(attempts).unwrap_or(u32::MAX);
    if waited >= BUSY_TIMEOUT {
        return false;
    }
    std::thread::sleep(BUSY_POLL);
    true
}

/// `<per-user data dir>/accessline.db`, creating the folder on first run.
pub fn default_db_path() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("org", "LA County", "accessline")
        .ok_or(StoreError::NoDataDir)?;
    let dir = dirs.data_dir();
    fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    Ok(dir.join("accessline.db"))
}

/// Open read-write: check the file, key it (if `key`), set PRAGMAs, migrate.
pub(crate) fn open_rw(path: &Path, key: Option<&DbKey>) -> Result<Connection> {
    sqlcipher_ready();
    check_file(path, true, key.is_some())?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = match key {
        Some(key) => open_keyed(path, flags, key)?,
        None => Connection::open_with_flags(path, flags).map_err(|e| map_open(path, e))?,
    };
    conn.busy_handler(Some(wait_for_lock))
        .map_err(|e| map_open(path, e))?;
    super::packed::register(&conn).map_err(|e| map_open(path, e))?;
    // Read the version before changing anything: a newer schema is refused untouched.
    let found = user_version(&conn, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.into(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| map_open(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Open {
            path: path.into(),
            source: rusqlite::Error::InvalidParameterName(format!("journal_mode stayed {mode}")),
        });
    }
    // In WAL mode, synchronous=NORMAL skips the fsync at commit, so a power cut can lose the
    // last committed transactions. A finalized encounter must survive a power cut: FULL.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| map_open(path, e))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| map_open(path, e))?;
    // Statement journals and sorts stay in memory: no temporary files holding PHI, and no
    // write() per statement that has a trigger.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| map_open(path, e))?;
    MIGRATIONS
        .to_latest(&mut conn)
        .map_err(|source| StoreError::Migrate {
            path: path.into(),
            source,
        })?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// An in-memory database with the same schema (no WAL: there is no file).
pub(crate) fn open_memory() -> Result<Connection> {
    sqlcipher_ready();
    let path = Path::new(":memory:");
    let mut conn = Connection::open_in_memory().map_err(|e| map_open(path, e))?;
    super::packed::register(&conn).map_err(|e| map_open(path, e))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| map_open(path, e))?;
    MIGRATIONS
        .to_latest(&mut conn)
        .map_err(|source| StoreError::Migrate {
            path: path.into(),
            source,
        })?;
    Ok(conn)
}

/// Open read-only (for `verify`): nothing is written, not even a migration.
pub(crate) fn open_ro(path: &Path, key: Option<&DbKey>) -> Result<Connection> {
    sqlcipher_ready();
    if !path.exists() {
        return Err(StoreError::Missing { path: path.into() });
    }
    check_file(path, false, key.is_some())?;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match key {
        Some(key) => open_keyed(path, flags, key)?,
        None => Connection::open_with_flags(path, flags).map_err(|e| map_open(path, e))?,
    };
    conn.busy_handler(Some(wait_for_lock))
        .map_err(|e| map_open(path, e))?;
    super::packed::register(&conn).map_err(|e| map_open(path, e))?;
    let found = user_version(&conn, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.into(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        return Err(StoreError::TooOld {
            path: path.into(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(conn)
}

fn user_version(conn: &Connection, path: &Path) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| map_open(path, e))
}

/// Refuse what SQLite would report obscurely, or only after writing: a directory, a file we
/// may not read or write, a file that is not SQLite, a missing folder. With a key (`keyed`), a
/// plaintext file is refused as [`StoreError::Unencrypted`] (the caller migrates it).
pub(crate) fn check_file(path: &Path, write: bool, keyed: bool) -> Result<()> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return match path.parent() {
                Some(p) if !p.as_os_str().is_empty() && !p.is_dir() => {
                    Err(StoreError::MissingFolder {
                        path: path.into(),
                        parent: p.into(),
                    })
                }
                _ => Ok(()),
            };
        }
        Err(e) => {
            return Err(StoreError::Unreadable {
                path: path.into(),
                reason: e.to_string(),
            });
        }
    };
    if meta.is_dir() {
        return Err(StoreError::IsDirectory { path: path.into() });
    }
    // Permission bits are checked as well as the open below, because root can open any file:
    // a database someone deliberately locked down must not be used anyway.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o444 == 0 {
            return Err(StoreError::Unreadable {
                path: path.into(),
                reason: "its permissions allow nobody to read it".into(),
            });
        }
    }
    let mut head = Vec::with_capacity(16);
    File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .map_err(|e| StoreError::Unreadable {
            path: path.into(),
            reason: e.to_string(),
        })?;
    // An empty file is a new database to SQLite; without a key anything else must carry the
    // header; with a key, the header means "not encrypted yet".
    if keyed && head.as_slice() == SQLITE_HEADER {
        return Err(StoreError::Unencrypted { path: path.into() });
    }
    if !keyed && !head.is_empty() && head.as_slice() != SQLITE_HEADER {
        return Err(StoreError::NotADatabase { path: path.into() });
    }
    if write {
        if meta.permissions().readonly() {
            return Err(StoreError::ReadOnly { path: path.into() });
        }
        if let Err(e) = OpenOptions::new().write(true).open(path) {
            return Err(if e.kind() == ErrorKind::PermissionDenied {
                StoreError::ReadOnly { path: path.into() }
            } else {
                StoreError::Unreadable {
                    path: path.into(),
                    reason: e.to_string(),
                }
            });
        }
    }
    Ok(())
}

fn map_open(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path: path.into() },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path: path.into() },
        _ => StoreError::Open {
            path: path.into(),
            source: e,
        },
    }
}
