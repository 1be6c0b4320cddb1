//! The encrypted store in-process: keyed open, a wrong key refused with nothing written, a
//! plaintext database refused read-only and migrated read-write (a failed migration leaves it
//! untouched), and the audit rows for what is not a write.

#[path = "common/store.rs"]
mod common;
#[path = "common/keys.rs"]
mod keys;

use accessline::store::{AccessEvent, AuditQuery, DbKey, Risk, Store, StoreError};
use common::*;

#[test]
fn a_wrong_key_is_refused_and_writes_nothing() {
    let (dir, path) = temp_db();
    {
        let mut store = Store::open_keyed(&path, &keys::test_db_key()).unwrap();
        finalized(&mut store, at(2, 9), Risk::Low, "reason");
    }
    let snapshot = |d: &std::path::Path| {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (p.display().to_string(), std::fs::read(&p).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot(dir.path());
    let wrong = DbKey::from_bytes([1; 32]);
    for err in [
        Store::open_keyed(&path, &wrong).err().unwrap(),
        Store::open_keyed_read_only(&path, &wrong).err().unwrap(),
    ] {
        assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
        assert!(err.to_string().contains("nothing was changed"));
    }
    // Without a key an encrypted database is "not a database, or encrypted".
    let err = Store::open_unencrypted(&path).err().unwrap();
    assert!(
        err.to_string()
            .contains("encrypted one opened without its key"),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
    let store = Store::open_keyed_read_only(&path, &keys::test_db_key()).unwrap();
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn a_plaintext_database_is_refused_read_only_and_migrated_read_write() {
    let (dir, path) = temp_db();
    {
        let mut store = Store::open_unencrypted(&path).unwrap();
        for d in 1..=3 {
            finalized(&mut store, at(d, 9), Risk::High, "fentanyl relapse");
        }
    }
    let original = std::fs::read(&path).unwrap();
    let err = Store::open_keyed_read_only(&path, &keys::test_db_key())
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Unencrypted { .. }), "{err}");
    // A migration that cannot write its copy fails and leaves the original as it was.
    let staging = dir.path().join("accessline.db.encrypting");
    std::fs::create_dir(&staging).unwrap();
    std::fs::write(staging.join("x"), b"in the way").unwrap();
    let err = Store::open_keyed(&path, &keys::test_db_key())
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Encrypt { .. }), "{err}");
    assert!(err.to_string().contains("original is untouched"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), original);
    std::fs::remove_dir_all(&staging).unwrap();

    let store = Store::open_keyed(&path, &keys::test_db_key()).unwrap();
    let backup = store.migrated_backup().unwrap().to_owned();
    assert_eq!(std::fs::read(&backup).unwrap(), original);
    assert!(store.verify().unwrap().is_ok());
    assert_eq!(store.list(&Default::default()).unwrap().rows.len(), 3);
    // The search index came across too.
    let q = accessline::store::ListQuery {
        filter: accessline::store::ListFilter {
            text: Some("fentanyl".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(store.list(&q).unwrap().rows.len(), 3);
    drop(store);
    assert_ne!(&std::fs::read(&path).unwrap()[..16], b"SQLite format 3\0");
    let again = Store::open_keyed(&path, &keys::test_db_key()).unwrap();
    assert!(again.migrated_backup().is_none());
    drop(again);
    // The encrypted copy authenticates its pages with HMAC-SHA256, like a new database.
    for (hmac, reads) in [("HMAC_SHA256", true), ("HMAC_SHA512", false)] {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA cipher_hmac_algorithm = {hmac};",
            keys::test_key()
        ))
        .unwrap();
        let n = c.query_row("SELECT count(*) FROM encounter", [], |r| r.get::<_, i64>(0));
        assert_eq!(n.is_ok(), reads, "{hmac}: {n:?}");
    }
}

#[test]
fn views_denials_and_locks_are_audited_and_listed() {
    let mut store = Store::open_in_memory().unwrap();
    let id = finalized(&mut store, at(2, 9), Risk::Low, "reason");
    let sup = supervisor();
    store
        .record_access(&sup, AccessEvent::View { encounter: id })
        .unwrap();
    store
        .record_access(
            &screener(),
            AccessEvent::Denied {
                what: "review mode".into(),
            },
        )
        .unwrap();
    store.record_access(&sup, AccessEvent::Lock).unwrap();
    store.record_access(&sup, AccessEvent::Unlock).unwrap();
    store.record_access(&sup, AccessEvent::SignOut).unwrap();
    let history: Vec<String> = store
        .audit_of(id)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        history.last().map(String::as_str),
        Some("view"),
        "{history:?}"
    );
    let mut rows = Vec::new();
    store
        .for_each_audit(
            &AuditQuery {
                user: Some(sup.user.clone()),
                ..Default::default()
            },
            |e| -> Result<(), StoreError> {
                rows.push(e.action.clone());
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(rows, ["view", "lock", "unlock", "sign_out"]);
    let mut n = 0;
    store
        .for_each_audit(
            &AuditQuery {
                before: Some(at(1, 0)),
                ..Default::default()
            },
            |_| -> Result<(), StoreError> {
                n += 1;
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(n, 0, "every row is later than 1 March 2025");
    assert!(store.verify().unwrap().is_ok());
}

/// New databases authenticate their pages with HMAC-SHA256 (SQLCipher's default, SHA-512,
/// cannot read them); one made with SQLCipher's defaults before that choice still opens,
/// migrates, takes writes and stays readable as it was made.
#[test]
fn new_databases_use_hmac_sha256_and_sha512_ones_still_open() {
    let key = DbKey::from_bytes([9; 32]);
    let raw = |path: &std::path::Path, hmac: Option<&str>| -> rusqlite::Result<i64> {
        let c = rusqlite::Connection::open(path)?;
        c.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "09".repeat(32)))?;
        if let Some(h) = hmac {
            c.execute_batch(&format!("PRAGMA cipher_hmac_algorithm = {h};"))?;
        }
        c.query_row("SELECT count(*) FROM encounter", [], |r| r.get(0))
    };

    let (_new_dir, new) = temp_db();
    {
        let mut store = Store::open_keyed(&new, &key).unwrap();
        finalized(&mut store, at(2, 9), Risk::Low, "new file");
    }
    assert_eq!(raw(&new, Some("HMAC_SHA256")).unwrap(), 1);
    assert!(raw(&new, None).is_err(), "SHA-512 must not authenticate it");

    let (_old_dir, old) = temp_db();
    {
        let c = rusqlite::Connection::open(&old).unwrap();
        c.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA journal_mode = WAL;
             CREATE TABLE made_before(x); DROP TABLE made_before;",
            "09".repeat(32)
        ))
        .unwrap();
    }
    for day in [3, 4] {
        let mut store = Store::open_keyed(&old, &key).unwrap();
        finalized(&mut store, at(day, 9), Risk::Low, "old file");
    }
    assert_eq!(raw(&old, None).unwrap(), 2, "still SQLCipher's default");
    let store = Store::open_keyed_read_only(&old, &key).unwrap();
    assert!(store.verify().unwrap().is_ok());
    let wrong = DbKey::from_bytes([1; 32]);
    for path in [&new, &old] {
        let err = Store::open_keyed(path, &wrong).err().unwrap();
        assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
    }
}
