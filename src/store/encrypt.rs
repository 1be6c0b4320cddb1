//! Encrypting an existing unencrypted database in place (docs/security.md, "Migration").
//!
//! Order, so that a failure at any step leaves the original untouched: copy the file to
//! `<db>.unencrypted-backup` (owner-only), `sqlcipher_export` into `<db>.encrypting`, check the
//! copy (integrity check, the same row count in every table, the same schema version), then
//! rename it over the original and sync the folder.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::error::{Result, StoreError};
use super::key::DbKey;
use super::open::{PageHmac, key_pragmas};

/// Where the plaintext copy is kept after a migration.
pub fn backup_path(db: &Path) -> PathBuf {
    with_suffix(db, ".unencrypted-backup")
}

pub(crate) fn with_suffix(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Encrypt the unencrypted database at `db` with `key`; returns the backup's path.
pub(crate) fn encrypt_in_place(db: &Path, key: &DbKey) -> Result<PathBuf> {
    let fail = |problem: String| StoreError::Encrypt {
        path: db.into(),
        problem,
    };
    let backup = backup_path(db);
    let staging = with_suffix(db, ".encrypting");
    super::open::sqlcipher_ready();
    let result = (|| -> Result<()> {
        let plain = Connection::open(db).map_err(|e| fail(e.to_string()))?;
        super::packed::register(&plain).map_err(|e| fail(e.to_string()))?;
        plain
            .busy_timeout(super::open::BUSY_TIMEOUT)
            .map_err(|e| fail(e.to_string()))?;
        // Fold the WAL into the main file so the copy below is complete.
        plain
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|e| fail(format!("checkpoint: {e}")))?;
        let version: i64 = plain
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| fail(e.to_string()))?;
        if version > super::migrations::SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: db.into(),
                found: version,
                supported: super::migrations::SCHEMA_VERSION,
            });
        }
        copy_private(db, &backup).map_err(|e| fail(format!("backup: {e}")))?;
        let _ = fs::remove_file(&staging);
        create_private(&staging).map_err(|e| fail(format!("{}: {e}", staging.display())))?;
        let staging_sql = staging.to_string_lossy().replace('\'', "''");
        let attach = zeroize::Zeroizing::new(format!(
            "ATTACH DATABASE '{staging_sql}' AS encrypted KEY {};
             PRAGMA encrypted.cipher_hmac_algorithm = {};
             SELECT sqlcipher_export('encrypted');
             PRAGMA encrypted.user_version = {version};
             DETACH DATABASE encrypted;",
            key.sql_literal().as_str(),
            PageHmac::NEW.setting()
        ));
        plain
            .execute_batch(&attach)
            .map_err(|e| fail(format!("export: {e}")))?;
        check_copy(&plain, &staging, key, version).map_err(fail)?;
        drop(plain);
        File::open(&staging)
            .and_then(|f| f.sync_all())
            .map_err(|e| fail(e.to_string()))?;
        // What is left of the plaintext's WAL (empty after the checkpoint) must not be applied
        // to the new file.
        for suffix in ["-wal", "-shm"] {
            let _ = fs::remove_file(with_suffix(db, suffix));
        }
        fs::rename(&staging, db).map_err(|e| fail(format!("replace: {e}")))?;
        sync_dir(db);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&staging);
    }
    result.map(|()| backup)
}

/// The encrypted copy opens with the key, passes the integrity check, and holds as many rows
/// in every table as the original.
fn check_copy(plain: &Connection, copy: &Path, key: &DbKey, version: i64) -> Result<(), String> {
    let enc = Connection::open(copy).map_err(|e| e.to_string())?;
    enc.execute_batch(&key_pragmas(key, PageHmac::NEW))
        .map_err(|e| e.to_string())?;
    let ok: String = enc
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("the encrypted copy cannot be read: {e}"))?;
    if ok != "ok" {
        return Err(format!(
            "the encrypted copy fails the integrity check: {ok}"
        ));
    }
    let v: i64 = enc
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if v != version {
        return Err(format!(
            "schema version {v} in the copy, {version} in the original"
        ));
    }
    let tables: Vec<String> = plain
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    for t in tables {
        let sql = format!("SELECT count(*) FROM \"{}\"", t.replace('"', "\"\""));
        let a: i64 = plain
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        let b: i64 = enc
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| format!("table {t} missing from the copy: {e}"))?;
        if a != b {
            return Err(format!(
                "table {t}: {a} rows in the original, {b} in the copy"
            ));
        }
    }
    Ok(())
}

/// A new, empty file only the owner can read.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    let partial = with_suffix(to, ".partial");
    let mut out = create_private(&partial)?;
    let mut src = File::open(from)?;
    std::io::copy(&mut src, &mut out)?;
    out.flush()?;
    out.sync_all()?;
    fs::rename(&partial, to)?;
    sync_dir(to);
    Ok(())
}

/// Make a rename durable (best effort: not every file system supports syncing a folder).
pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}
