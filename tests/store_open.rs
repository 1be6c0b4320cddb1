//! Bad input on open: one clear error, and nothing written.

#[path = "common/store.rs"]
mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use accessline::store::{SCHEMA_VERSION, Store, StoreError};
use common::*;

fn bytes(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap()
}

fn make_db(path: &Path) {
    let mut store = Store::open_unencrypted(path).unwrap();
    finalized(&mut store, at(3, 9), accessline::store::Risk::Low, "x");
}

#[test]
fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open_unencrypted(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::IsDirectory { .. }), "{err}");
    assert!(err.to_string().contains("is a directory"), "{err}");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing was created"
    );
}

#[test]
fn an_unreadable_file_is_refused() {
    let (_dir, path) = temp_db();
    make_db(&path);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    let err = Store::open_unencrypted(&path).err().unwrap();
    assert!(matches!(err, StoreError::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("cannot be read"), "{err}");
    let err = Store::open_unencrypted_read_only(&path).err().unwrap();
    assert!(matches!(err, StoreError::Unreadable { .. }), "{err}");
}

#[test]
fn a_read_only_file_is_refused_untouched() {
    let (_dir, path) = temp_db();
    make_db(&path);
    let before = bytes(&path);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let err = Store::open_unencrypted(&path).err().unwrap();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(bytes(&path), before);
    // Read-only access is what verify needs, and it works on such a file.
    assert!(
        Store::open_unencrypted_read_only(&path)
            .unwrap()
            .verify()
            .unwrap()
            .is_ok()
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let (dir, path) = temp_db();
    fs::write(&path, "name,age\nMaria,34\n").unwrap();
    let err = Store::open_unencrypted(&path).err().unwrap();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    assert!(
        err.to_string().contains("not an accessline database"),
        "{err}"
    );
    assert_eq!(bytes(&path), b"name,age\nMaria,34\n");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no -wal or -shm left behind"
    );
}

#[test]
fn a_file_with_a_sqlite_header_but_garbage_is_refused() {
    let (_dir, path) = temp_db();
    let mut junk = b"SQLite format 3\0".to_vec();
    junk.extend(std::iter::repeat_n(0xA5u8, 4096));
    fs::write(&path, &junk).unwrap();
    let err = Store::open_unencrypted(&path).err().unwrap();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    assert_eq!(bytes(&path), junk);
}

#[test]
fn a_newer_schema_is_refused_not_migrated() {
    let (_dir, path) = temp_db();
    make_db(&path);
    let newer = SCHEMA_VERSION + 1;
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let before = bytes(&path);
    let err = Store::open_unencrypted(&path).err().unwrap();
    assert!(
        matches!(err, StoreError::TooNew { found, supported, .. } if found == newer && supported == SCHEMA_VERSION),
        "{err}"
    );
    assert!(err.to_string().contains("newer accessline"), "{err}");
    assert_eq!(bytes(&path), before);
    assert!(matches!(
        Store::open_unencrypted_read_only(&path).err().unwrap(),
        StoreError::TooNew { .. }
    ));
}

#[test]
fn an_older_schema_is_migrated_by_open_but_not_by_verify() {
    let (_dir, path) = temp_db();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); PRAGMA user_version = 0;")
        .unwrap();
    let err = Store::open_unencrypted_read_only(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooOld { found: 0, .. }), "{err}");
    Store::open_unencrypted(&path).unwrap();
    let v: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
}

#[test]
fn a_missing_folder_or_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/folder/a.db");
    let err = Store::open_unencrypted(&path).err().unwrap();
    assert!(matches!(err, StoreError::MissingFolder { .. }), "{err}");
    assert!(!dir.path().join("no").exists());
    let err = Store::open_unencrypted_read_only(dir.path().join("absent.db"))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    assert!(!dir.path().join("absent.db").exists());
}

#[test]
fn open_sets_wal_full_sync_and_foreign_keys() {
    let (_dir, path) = temp_db();
    let store = Store::open_unencrypted(&path).unwrap();
    let c = store.connection();
    let get = |p: &str| -> String {
        c.query_row(&format!("PRAGMA {p}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| format!("{v:?}"))
        .unwrap()
    };
    assert_eq!(get("journal_mode"), "Text(\"wal\")");
    assert_eq!(get("synchronous"), "Integer(2)", "FULL");
    assert_eq!(get("foreign_keys"), "Integer(1)");
}

#[test]
fn a_write_waits_for_another_connections_write_instead_of_failing() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    // Another program holds the write lock for 300 ms.
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (held, release) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        held.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    release.recv().unwrap();
    let started = std::time::Instant::now();
    let me = accessline::store::Actor::new("screener.test", "desk-01");
    store
        .start_draft(&me, chrono::Utc::now())
        .expect("waited for the lock, then wrote");
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(200),
        "it should have waited: {waited:?}"
    );
    holder.join().unwrap();
}
