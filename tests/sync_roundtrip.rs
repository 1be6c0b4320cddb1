//! Device → batch files → hub: every field arrives identical, re-import changes nothing, and
//! any import order gives the same hub.

mod sync_common;

use std::path::PathBuf;

use accessline::store::{Selection, SyncState};
use sync_common::*;

#[test]
fn every_field_arrives_identical_and_the_hub_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    let ids = device(&dev, 24);
    let report = export(&dev, &plaintext(&dir.path().join("out"), 10));
    // 24 encounters + 5 addenda + 10 reviews (5 returned, 5 approved after the addendum) + 6
    // approvals (every 3rd that is not every 5th: 3, 6, 9, 12, 18, 21).
    assert_eq!(report.records, 24 + 5 + 10 + 6);
    assert_eq!(report.batches.len(), 5, "10 records per file");
    let imported = import_all(&hub, &manifests(&report));
    let new: u64 = imported
        .iter()
        .map(|f| f.summary.new + f.summary.settled)
        .sum();
    assert_eq!(new, report.records);
    assert!(imported.iter().all(|f| f.summary.conflicts.is_empty()));

    let (d, h) = (keys::open_db(&dev).unwrap(), keys::open_db(&hub).unwrap());
    let defs = defs();
    let policy = accessline::sync::withhold::SudPolicy::new(&defs);
    for id in &ids {
        let (dr, hr) = (d.revisions(*id).unwrap(), h.revisions(*id).unwrap());
        assert_eq!(dr.len(), hr.len());
        for (a, b) in dr.iter().zip(&hr) {
            // Without the caller's consent the hub holds the withheld view (tests/sync_consent.rs
            // checks it field by field): its payload, hash, cells and deadline.
            let mut a = a.clone();
            if let Some(view) = policy.view(a.payload.as_ref().unwrap(), None).unwrap() {
                a.payload = Some(view.payload);
                a.payload_sha256 = Some(view.sha256);
                a.summary.cell_computed = None;
                a.summary.cell_chosen = None;
                a.summary.deadline_at = b.summary.deadline_at;
            }
            let a = &a;
            assert_eq!(a.payload, b.payload, "payload bytes");
            assert_eq!(a.payload_sha256, b.payload_sha256);
            assert_eq!(
                accessline::store::payload_sha256(b.payload.as_ref().unwrap()),
                *b.payload_sha256.as_ref().unwrap()
            );
            assert_eq!(a.sync_state, Some(SyncState::Exported));
            assert_eq!(b.sync_state, Some(SyncState::Acknowledged));
            let mut b = b.clone();
            b.sync_state = a.sync_state;
            assert_eq!(*a, b, "every other field identical");
        }
        let strip = |mut v: Vec<accessline::store::Review>| {
            v.iter_mut().for_each(|r| r.review_id = 0);
            v
        };
        assert_eq!(
            strip(d.reviews(*id).unwrap()),
            strip(h.reviews(*id).unwrap())
        );
    }
    let report = h.verify().unwrap();
    assert!(report.is_ok(), "{report}");
    let counts = h.sync_counts().unwrap();
    assert_eq!(
        (counts.received, counts.quarantined, counts.waiting),
        (45, 0, 0)
    );
    let device_counts = d.sync_counts().unwrap();
    assert_eq!((device_counts.pending, device_counts.exported), (0, 45));
    assert!(device_counts.line().contains("0 pending · 45 exported"));
    // The counts are kept by the database (migration 12): `verify` recounts them, and a
    // kept count that is wrong is a fault.
    let report = d.verify().unwrap();
    assert!(report.is_ok(), "{report}");
    d.connection()
        .execute_batch("UPDATE outbox_count SET n = n + 1 WHERE state = 'exported'")
        .unwrap();
    let report = d.verify().unwrap();
    assert!(
        report
            .to_string()
            .contains("outbox_count: 46 kept for \"exported\", 45 counted"),
        "{report}"
    );
    assert_eq!(
        d.sync_counts().unwrap().exported,
        46,
        "read from the kept count"
    );
    // The hub's supervisor list works on imported records (current revision, review state).
    let received = h.received_ranges().unwrap();
    assert_eq!(received[DEVICE], vec![(1, 45)]);
}

#[test]
fn reimport_changes_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    device(&dev, 12);
    let report = export(&dev, &plaintext(&dir.path().join("out"), 7));
    import_all(&hub, &manifests(&report));
    let before = dump(&hub);
    let again = import_all(&hub, &manifests(&report));
    for f in &again {
        let s = &f.summary;
        assert!(s.batch_seen_before);
        assert_eq!((s.new, s.parked, s.settled), (0, 0, 0));
        assert!(s.conflicts.is_empty());
        assert_eq!(s.already_received, f.manifest.count);
    }
    assert_eq!(dump(&hub), before);
    // A second export of everything (new batch ids, same records) is also a no-op.
    let report2 = export(&dev, &plaintext(&dir.path().join("out2"), 100));
    let third = import_all(&hub, &manifests(&report2));
    assert_eq!(third[0].summary.new, 0);
    assert_eq!(third[0].summary.already_received, report2.records);
    assert_eq!(dump(&hub), before);
    assert!(keys::open_db(&hub).unwrap().verify().unwrap().is_ok());
}

/// A fixed permutation from a seed (Fisher–Yates with the fixture's generator).
fn shuffled(files: &[PathBuf], seed: u64) -> Vec<PathBuf> {
    let mut v = files.to_vec();
    let mut rng = Lcg::new(seed);
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i as u64 + 1) as usize);
    }
    v
}

#[test]
fn any_import_order_gives_the_same_hub() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev.db");
    device(&dev, 30);
    // Small batches: addenda and reviews land in other files than what they build on.
    let report = export(&dev, &plaintext(&dir.path().join("out"), 4));
    let files = manifests(&report);
    assert!(files.len() >= 10);
    let forward = dir.path().join("forward.db");
    import_all(&forward, &files);
    let expected = dump(&forward);
    assert!(!expected.contains("\"parked\""));

    let reversed: Vec<PathBuf> = files.iter().rev().cloned().collect();
    for (n, order) in [reversed, shuffled(&files, 1), shuffled(&files, 2)]
        .into_iter()
        .enumerate()
    {
        let hub = dir.path().join(format!("hub{n}.db"));
        let imported = import_all(&hub, &order);
        let parked: u64 = imported.iter().map(|f| f.summary.parked).sum();
        let settled: u64 = imported.iter().map(|f| f.summary.settled).sum();
        assert_eq!(parked, settled, "everything parked was settled in the end");
        if n == 0 {
            assert!(
                parked > 0,
                "in reverse order, addenda and reviews wait for their revision"
            );
        }
        assert_eq!(dump(&hub), expected, "order {n}");
        let h = keys::open_db(&hub).unwrap();
        assert!(h.verify().unwrap().is_ok());
    }
    // Reversed order parks addenda and reviews until their revision arrives.
    let hub = dir.path().join("partial.db");
    let last = files.last().unwrap().clone();
    let imported = import_all(&hub, &[last]);
    let counts = keys::open_db(&hub).unwrap().sync_counts().unwrap();
    assert_eq!(counts.waiting, imported[0].summary.parked);
}

#[test]
fn pending_exports_only_what_was_not_exported_and_an_empty_export_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev.db");
    device(&dev, 6);
    let opts = accessline::sync::ExportOptions {
        selection: Selection::Pending,
        ..plaintext(&dir.path().join("a"), 100)
    };
    let first = export(&dev, &opts);
    assert_eq!(first.records, 6 + 2 + 4 + 1);
    let again = export(&dev, &opts);
    assert!(again.batches.is_empty());
    // A new call after the export goes out alone in the next batch.
    {
        let mut store = keys::open_db(&dev).unwrap();
        let defs = defs();
        let at = base_time() + chrono::Duration::days(3);
        let c = call(&defs, 99, at);
        let id = store.start_draft(&screener(), at).unwrap();
        store
            .finalize(&screener(), id, &c.payload, &c.summary, &defs.versions())
            .unwrap();
    }
    let next = export(&dev, &opts);
    assert_eq!(next.records, 1);
    let m = &next.batches[0].manifest;
    assert_eq!((m.first_seq, m.last_seq), (Some(14), Some(14)));
    // The reconciliation report lists every record with its state and batch.
    let store = keys::open_db(&dev).unwrap();
    let mut rows = Vec::new();
    store
        .for_each_reconciliation(|r| {
            rows.push(r.clone());
            Ok::<(), accessline::store::StoreError>(())
        })
        .unwrap();
    assert_eq!(rows.len(), 14);
    assert!(
        rows.iter()
            .all(|r| r.state == "exported" && r.batch_id.is_some())
    );
    assert_eq!(
        rows[13].batch_id.as_deref(),
        Some(m.batch_id.to_string().as_str())
    );
}

#[test]
fn receipts_acknowledge_what_the_hub_holds_and_flag_conflicts() {
    use accessline::sync::receipt;
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    let ids = device(&dev, 6);
    // A restored copy of the laptop writes another revision 2 of the same encounter.
    let twin = dir.path().join("twin.db");
    copy_db(&dev, &twin);
    let defs = defs();
    let c = call(&defs, 1, base_time());
    for (db, words) in [(&dev, "laptop"), (&twin, "backup")] {
        let mut p = c.payload.clone();
        p["intake"]["reason"] = serde_json::json!(words);
        keys::open_db(db)
            .unwrap()
            .add_addendum(&screener(), ids[1], &p, &c.summary, &defs.versions(), words)
            .unwrap();
    }
    let twin_report = export(&twin, &plaintext(&dir.path().join("twin"), 100));
    import_all(&hub, &manifests(&twin_report));
    let report = export(&dev, &plaintext(&dir.path().join("dev"), 100));
    let imported = import_all(&hub, &manifests(&report));
    assert_eq!(imported[0].summary.conflicts.len(), 1);
    let hub_store = keys::open_db(&hub).unwrap();
    let receipts = dir.path().join("receipts");
    let path = receipt::write(&hub_store, &imported[0], "county-hub", &receipts).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("Caller") && !text.contains(&ids[0].to_string()));

    let mut store = keys::open_db(&dev).unwrap();
    let done = receipt::apply(&mut store, &path).unwrap();
    let total = report.records;
    assert_eq!((done.acknowledged, done.conflicts), (total - 1, 1));
    assert!(done.mismatched.is_empty());
    let counts = store.sync_counts().unwrap();
    assert_eq!(
        (
            counts.pending,
            counts.exported,
            counts.acknowledged,
            counts.conflict
        ),
        (0, 0, total - 1, 1)
    );
    let r2 = store.encounter(ids[1], Some(2)).unwrap();
    assert_eq!(r2.sync_state, Some(SyncState::Conflict));
    assert_eq!(
        store.encounter(ids[2], None).unwrap().sync_state,
        Some(SyncState::Acknowledged)
    );
    // The receipt of the laptop's batch applied on the twin: its revision 2 is another record.
    let mut twin_store = keys::open_db(&twin).unwrap();
    let other = receipt::apply(&mut twin_store, &path).unwrap();
    assert_eq!(other.mismatched.len(), 1);
}
