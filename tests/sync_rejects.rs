//! What a hub refuses or quarantines, and that it is left unchanged: a flipped byte, a
//! truncated file, swapped lines, a conflicting revision, a newer schema, the wrong key.

mod sync_common;

use std::path::{Path, PathBuf};

use accessline::store::Decision;
use accessline::sync::{self, SyncError, crypto::Identities};
use sync_common::*;

/// A device with 8 encounters exported in one plaintext batch, and a hub that already holds
/// an earlier batch (so "unchanged" means something).
struct Setup {
    _dir: tempfile::TempDir,
    hub: PathBuf,
    manifest: PathBuf,
    data: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    device(&dev, 8);
    let first = export(
        &dev,
        &accessline::sync::ExportOptions {
            device: Some(DEVICE.into()),
            ..plaintext(&dir.path().join("first"), 5)
        },
    );
    import_all(&hub, &manifests(&first)[..1]);
    let report = export(&dev, &plaintext(&dir.path().join("out"), 100));
    let b = &report.batches[0];
    Setup {
        hub,
        manifest: b.manifest_path.clone(),
        data: b.data_path.clone(),
        _dir: dir,
    }
}

fn try_import(
    hub: &Path,
    file: &Path,
    ids: Option<&Identities>,
) -> Result<sync::FileImport, SyncError> {
    let mut store = keys::open_db(hub).unwrap();
    sync::import_file(&mut store, &hub_actor(), file, ids)
}

/// Import must fail with a message containing each of `needles`, leaving the hub as it was.
fn rejected(s: &Setup, needles: &[&str]) -> SyncError {
    let before = dump(&s.hub);
    let audit_before = keys::open_db(&s.hub).unwrap().audit_tail(1).unwrap();
    let err = try_import(&s.hub, &s.manifest, None).unwrap_err();
    let msg = err.to_string();
    for n in needles {
        assert!(msg.contains(n), "`{n}` not in: {msg}");
    }
    assert!(err.is_bad_input(), "{msg}");
    assert_eq!(dump(&s.hub), before, "the hub changed");
    assert_eq!(
        keys::open_db(&s.hub).unwrap().audit_tail(1).unwrap(),
        audit_before,
        "not even an audit row"
    );
    err
}

fn lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn a_flipped_byte_is_named_by_line_and_imports_nothing() {
    let s = setup();
    let original = std::fs::read(&s.data).unwrap();
    let ls = lines(&s.data);
    let start_of = |n: usize| ls[..n - 1].iter().map(Vec::len).sum::<usize>();
    // In the payload of line 3, in the metadata of line 5, and in the checksum of line 7.
    let third = start_of(3) + ls[2].len() / 2;
    let fifth = start_of(5) + 60;
    let seventh = start_of(7) + ls[6].len() - 10;
    for (at, line) in [(third, "line 3:"), (fifth, "line 5:"), (seventh, "line 7:")] {
        let mut bytes = original.clone();
        bytes[at] ^= 0x04;
        std::fs::write(&s.data, &bytes).unwrap();
        let err = rejected(&s, &[line, "nothing from this file was imported"]);
        assert!(matches!(err, SyncError::Line { .. }), "{err}");
    }
    // A flipped newline joins two lines.
    let mut bytes = original.clone();
    bytes[start_of(2) - 1] = b' ';
    std::fs::write(&s.data, &bytes).unwrap();
    rejected(&s, &["line 1:"]);
    std::fs::write(&s.data, &original).unwrap();
    try_import(&s.hub, &s.manifest, None).unwrap();
}

#[test]
fn a_truncated_file_imports_nothing() {
    let s = setup();
    let original = std::fs::read(&s.data).unwrap();
    let ls = lines(&s.data);
    // Cut in the middle of line 4.
    let cut = ls[..3].iter().map(Vec::len).sum::<usize>() + 100;
    std::fs::write(&s.data, &original[..cut]).unwrap();
    rejected(&s, &["line 4:", "truncated"]);
    // Cut at a line boundary: every line is fine, the count is not.
    let cut = ls[..6].iter().map(Vec::len).sum::<usize>();
    std::fs::write(&s.data, &original[..cut]).unwrap();
    rejected(&s, &["has 6 records", "truncated after line 6"]);
    // Empty.
    std::fs::write(&s.data, b"").unwrap();
    rejected(&s, &["has 0 records"]);
}

#[test]
fn swapped_lines_are_refused() {
    let s = setup();
    let mut ls = lines(&s.data);
    ls.swap(2, 3);
    std::fs::write(&s.data, ls.concat()).unwrap();
    rejected(&s, &["line 4:", "out of order"]);
    // Also when the manifest's hashes are made to match (only the order gives it away).
    let (sha, bytes) = sync::crypto::file_sha256(&s.data).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&s.manifest).unwrap()).unwrap();
    m["sha256"] = sha.clone().into();
    m["content_sha256"] = sha.into();
    m["bytes"] = bytes.into();
    std::fs::write(&s.manifest, m.to_string()).unwrap();
    rejected(&s, &["line 4:", "does not follow"]);
    // A repeated line.
    let mut ls = lines(&s.data);
    ls.swap(2, 3);
    let dup = ls[1].clone();
    ls[2] = dup;
    std::fs::write(&s.data, ls.concat()).unwrap();
    rejected(&s, &["line 3:", "repeated"]);
}

#[test]
fn a_newer_schema_is_named_as_such() {
    let s = setup();
    let original_manifest = std::fs::read_to_string(&s.manifest).unwrap();
    std::fs::write(
        &s.manifest,
        original_manifest.replace("accessline.sync.manifest/1", "accessline.sync.manifest/2"),
    )
    .unwrap();
    rejected(&s, &["manifest schema", "newer", "upgrade accessline"]);
    std::fs::write(&s.manifest, &original_manifest).unwrap();
    // A line written by a newer program.
    let text = std::fs::read_to_string(&s.data).unwrap();
    let mut ls: Vec<String> = text.lines().map(str::to_owned).collect();
    ls[1] = ls[1].replacen("accessline.sync/1", "accessline.sync/2", 1);
    std::fs::write(&s.data, ls.join("\n") + "\n").unwrap();
    rejected(
        &s,
        &["line 2:", "record schema `accessline.sync/2` is newer"],
    );
}

#[test]
fn a_malformed_line_is_named() {
    let s = setup();
    let text = std::fs::read_to_string(&s.data).unwrap();
    let mut ls: Vec<String> = text.lines().map(str::to_owned).collect();
    ls[4] = "{\"schema\":\"accessline.sync/1\",\"kind\":\"encounter\",".into();
    std::fs::write(&s.data, ls.join("\n") + "\n").unwrap();
    rejected(&s, &["line 5:", "not a complete JSON record"]);
    ls[4] = "hello".into();
    std::fs::write(&s.data, ls.join("\n") + "\n").unwrap();
    rejected(&s, &["line 5:", "not a valid JSON record"]);
    // A manifest that is missing.
    std::fs::remove_file(&s.manifest).unwrap();
    let before = dump(&s.hub);
    let err = try_import(&s.hub, &s.data, None).unwrap_err();
    assert!(err.to_string().contains("no manifest"), "{err}");
    assert_eq!(dump(&s.hub), before);
}

#[test]
fn the_wrong_key_or_no_key_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    device(&dev, 5);
    let (county_key, county_pub, _) = sync::crypto::generate(&dir.path().join("county")).unwrap();
    let (other_key, _, _) = sync::crypto::generate(&dir.path().join("other")).unwrap();
    let report = export(
        &dev,
        &encrypted(&dir.path().join("out"), 100, county_pub.to_str().unwrap()),
    );
    let b = &report.batches[0];
    assert!(b.data_path.to_string_lossy().ends_with(".ndjson.age"));
    let bytes = std::fs::read(&b.data_path).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    let manifest = std::fs::read_to_string(&b.manifest_path).unwrap();
    for secret in [
        "Ramírez",
        "Caller",
        "screener.nguyen",
        "encounter_id",
        "(323)",
    ] {
        assert!(!manifest.contains(secret), "manifest leaks `{secret}`");
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "ciphertext leaks `{secret}`"
        );
    }
    keys::open_db(&hub).unwrap();
    let before = dump(&hub);
    let other = Identities::read(&other_key).unwrap();
    let err = try_import(&hub, &b.manifest_path, Some(&other)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SyncError::Key(_)), "{msg}");
    assert!(msg.contains("wrong key") && !msg.contains('\n'), "{msg}");
    let err = try_import(&hub, &b.manifest_path, None).unwrap_err();
    assert!(err.to_string().contains("pass --identity"), "{err}");
    // A recipient file where the identity belongs.
    let err = Identities::read(&county_pub).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("public recipient"), "{err}");
    assert_eq!(dump(&hub), before);
    // A damaged ciphertext is caught by its hash before decryption.
    let mut damaged = bytes.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 1;
    std::fs::write(&b.data_path, &damaged).unwrap();
    let county = Identities::read(&county_key).unwrap();
    let err = try_import(&hub, &b.manifest_path, Some(&county)).unwrap_err();
    assert!(
        err.to_string().contains("does not match its manifest"),
        "{err}"
    );
    assert_eq!(dump(&hub), before);
    // The right key imports.
    std::fs::write(&b.data_path, &bytes).unwrap();
    let done = try_import(&hub, &b.manifest_path, Some(&county)).unwrap();
    assert_eq!(done.summary.new, report.records);
    // Re-encrypted plaintext equals the original records: decrypt and compare with a
    // plaintext export of the same database.
    let plain = export(&dev, &plaintext(&dir.path().join("plain"), 100));
    let hub2 = dir.path().join("hub2.db");
    import_all(&hub2, &manifests(&plain));
    assert_eq!(dump(&hub2), dump(&hub));
}

#[test]
fn a_conflicting_revision_is_quarantined_never_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    let ids = device(&dev, 4);
    let target = ids[1];
    // The database is copied (a restored backup, a cloned laptop); both copies then write a
    // different addendum to the same encounter: same id and revision, different content.
    let twin = dir.path().join("twin.db");
    copy_db(&dev, &twin);
    let defs = defs();
    let at = base_time();
    let c = call(&defs, 1, at);
    for (db, words) in [
        (&dev, "from the laptop"),
        (&twin, "from the restored backup"),
    ] {
        let mut store = keys::open_db(db).unwrap();
        let mut p = c.payload.clone();
        p["intake"]["reason"] = serde_json::json!(words);
        store
            .add_addendum(&screener(), target, &p, &c.summary, &defs.versions(), words)
            .unwrap();
    }
    // The laptop also reviews its revision 2 and corrects it again (revision 3).
    {
        let mut store = keys::open_db(&dev).unwrap();
        store
            .add_review(&supervisor(), target, 2, Decision::Approved, None)
            .unwrap();
        let mut p = c.payload.clone();
        p["intake"]["reason"] = serde_json::json!("third");
        store
            .add_addendum(
                &screener(),
                target,
                &p,
                &c.summary,
                &defs.versions(),
                "third",
            )
            .unwrap();
    }
    let twin_report = export(&twin, &plaintext(&dir.path().join("twin"), 100));
    import_all(&hub, &manifests(&twin_report));
    let held_r2 = keys::open_db(&hub)
        .unwrap()
        .encounter(target, Some(2))
        .unwrap();
    let before_records = {
        let h = keys::open_db(&hub).unwrap();
        (h.revisions(target).unwrap(), h.reviews(target).unwrap())
    };
    let report = export(&dev, &plaintext(&dir.path().join("dev"), 100));
    let imported = import_all(&hub, &manifests(&report));
    let conflicts = &imported[0].summary.conflicts;
    // Revision 2 (different content), the review of the laptop's revision 2, and revision 3
    // (it builds on the laptop's revision 2): all quarantined.
    assert_eq!(conflicts.len(), 3, "{conflicts:#?}");
    assert!(conflicts.iter().all(|c| c.encounter_id == target));
    assert_eq!(
        conflicts
            .iter()
            .map(|c| (c.kind.as_str(), c.revision))
            .collect::<Vec<_>>(),
        [("encounter", 2), ("review", 2), ("encounter", 3)]
    );
    assert_eq!(
        conflicts[0].held_sha256,
        held_r2.payload_sha256.clone().unwrap()
    );
    assert!(conflicts[0].why.contains("different content"));
    let h = keys::open_db(&hub).unwrap();
    assert_eq!(
        (h.revisions(target).unwrap(), h.reviews(target).unwrap()),
        before_records,
        "never overwritten"
    );
    assert_eq!(h.sync_conflicts().unwrap(), *conflicts);
    assert_eq!(h.sync_counts().unwrap().quarantined, 3);
    assert!(h.verify().unwrap().is_ok());
    // The conflicts are in the audit log of the encounter.
    let audit = h.audit_of(target).unwrap();
    assert_eq!(
        audit.iter().filter(|a| a.action == "sync_conflict").count(),
        3
    );
    // Re-importing lists nothing new and changes nothing.
    let before = dump(&hub);
    let again = import_all(&hub, &manifests(&report));
    assert!(again[0].summary.conflicts.is_empty());
    assert_eq!(dump(&hub), before);
}
