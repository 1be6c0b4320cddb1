//! The NDJSON export writes exactly the bytes it wrote before withheld views were kept in the
//! store (issue 6): a demo database's export is compared with the export of the same database
//! by `accessline` at 6008ae7 (before `encounter_view`), byte for byte through their SHA-256,
//! whether the views are read from the store, made at export (a database from before
//! migration 0009) or kept under other rules, and whether payloads are stored packed (since
//! migration 0013) or as text.

use std::path::Path;

use accessline::domain::Definitions;
use accessline::store::demo::{self, DemoOptions};
use accessline::store::{Actor, Selection, Store};
use accessline::sync::{self, ExportOptions, Format};
use sha2::{Digest, Sha256};

const ENCOUNTERS: u64 = 2_000;
const SEED: u64 = 5;
/// `accessline demo --encounters 2000 --seed 5` then `accessline export --format ndjson --all
/// --plaintext --batch-size 100000`, both by the program at 6008ae7: SHA-256 of the data files
/// (one per device) concatenated in name order.
const GOLDEN: &str = "95be6f11f573dbc83282179cd91e5a9cc5e81e5d56dc6b0169a8eae78263c672";
/// What that demo database holds (every finalized revision's id, revision and payload hash,
/// every review), so a change of the demo generator is told apart from a change of the export.
const DEMO_INPUT: &str = "0c5fad33338ace66e680c0defaf66766ab7ad3d4ddc05646b45bd8a2bb84abf2";

fn demo_store(dir: &Path) -> (Store, Definitions) {
    let defs = Definitions::builtin().unwrap();
    let mut store = Store::open_unencrypted(dir.join("device.db")).unwrap();
    demo::generate(
        &mut store,
        &defs,
        &DemoOptions {
            encounters: ENCOUNTERS,
            seed: SEED,
        },
    )
    .unwrap();
    (store, defs)
}

fn input_hash(store: &Store) -> String {
    let mut h = Sha256::new();
    for sql in [
        "SELECT encounter_id || ' ' || revision || ' ' || payload_sha256 FROM encounter
         WHERE status = 'finalized' ORDER BY encounter_id, revision",
        "SELECT review_id || ' ' || encounter_id || ' ' || revision || ' ' || decision
         FROM review ORDER BY review_id",
    ] {
        let mut st = store.connection().prepare(sql).unwrap();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            h.update(r.get::<_, String>(0).unwrap().as_bytes());
            h.update(b"\n");
        }
    }
    hex::encode(h.finalize())
}

/// Export everything (one file per device) and hash the data files in name order.
fn export_hash(store: &mut Store, defs: &Definitions, out: &Path) -> String {
    let report = sync::export(
        store,
        defs,
        &Actor::new("golden", "golden-device"),
        &ExportOptions {
            format: Format::Ndjson,
            out: out.to_owned(),
            selection: Selection::All,
            recipients: None,
            device: None,
            batch_size: 100_000,
        },
    )
    .unwrap();
    let mut files: Vec<_> = report.batches.iter().map(|b| b.data_path.clone()).collect();
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(std::fs::read(f).unwrap());
    }
    hex::encode(h.finalize())
}

fn views(store: &Store, which: &str) -> i64 {
    store
        .connection()
        .query_row(
            &format!("SELECT count(*) FROM encounter_view WHERE {which}"),
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn the_export_writes_the_bytes_it_wrote_before_views_were_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, defs) = demo_store(dir.path());
    let input = input_hash(&store);
    let finalized: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM encounter WHERE status = 'finalized'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // The demo keeps a view of every finalized revision, as finalizing does.
    assert_eq!(views(&store, "1"), finalized);
    assert!(views(&store, "withheld = 1") > 0);
    let golden = |what: &str, got: String| {
        assert!(
            got == GOLDEN,
            "{what}: the export's bytes changed (got {got}); the demo input is {input}{}",
            if input == DEMO_INPUT {
                " as when the golden was made"
            } else {
                ", NOT the one the golden was made from: the demo generator changed, remake the \
                 golden with the commands on GOLDEN"
            }
        );
    };

    // Views read from the store.
    golden(
        "kept views",
        export_hash(&mut store, &defs, &dir.path().join("a")),
    );

    // A database from before views were kept: made at export, as before, then kept.
    store
        .connection()
        .execute_batch("DELETE FROM encounter_view")
        .unwrap();
    golden(
        "no views kept",
        export_hash(&mut store, &defs, &dir.path().join("b")),
    );
    assert_eq!(views(&store, "1"), finalized, "kept after the export");
    golden(
        "views kept by the export",
        export_hash(&mut store, &defs, &dir.path().join("c")),
    );

    // Views kept under other rules are not used (and are made again).
    store
        .connection()
        .execute_batch("UPDATE encounter_view SET policy = 'other rules'")
        .unwrap();
    golden(
        "other rules",
        export_hash(&mut store, &defs, &dir.path().join("d")),
    );
    assert_eq!(views(&store, "policy = 'other rules'"), 0);

    // Views kept from the stored payloads (what an export does past the memory it holds made
    // views in): the same views.
    let ids: Vec<(uuid::Uuid, u32)> = {
        let mut st = store
            .connection()
            .prepare("SELECT encounter_id, revision FROM encounter WHERE status = 'finalized'")
            .unwrap();
        st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?.parse().unwrap(), r.get::<_, u32>(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    store
        .connection()
        .execute_batch("DELETE FROM encounter_view")
        .unwrap();
    store
        .keep_views(&sync::withhold::SudPolicy::new(&defs), &ids)
        .unwrap();
    assert_eq!(views(&store, "1"), finalized);
    golden(
        "views kept from the stored payloads",
        export_hash(&mut store, &defs, &dir.path().join("e")),
    );

    // Payloads and views stored as text, as rows written before migration 0013 are: the same
    // bytes leave, and `verify` finds nothing wrong.
    let packed = |table: &str| -> i64 {
        store
            .connection()
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE typeof(payload) = 'blob'"),
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(packed("encounter"), finalized);
    store
        .connection()
        .execute_batch(
            "DROP TRIGGER encounter_finalized_no_update;
             UPDATE encounter SET payload = payload_text(payload);
             UPDATE encounter_view SET payload = payload_text(payload);",
        )
        .unwrap();
    assert_eq!((packed("encounter"), packed("encounter_view")), (0, 0));
    golden(
        "payloads stored as text",
        export_hash(&mut store, &defs, &dir.path().join("f")),
    );
    let report = store.verify().unwrap();
    assert!(
        report
            .faults
            .iter()
            .all(|f| f.to_string().contains("encounter_finalized_no_update")),
        "{report}"
    );
}

#[test]
fn the_demo_input_is_the_one_the_golden_export_was_made_from() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = demo_store(dir.path());
    assert_eq!(input_hash(&store), DEMO_INPUT);
}

#[test]
fn a_damaged_kept_view_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, defs) = demo_store(dir.path());
    // Edited and packed again (the stored form, store::packed), its hash left alone.
    let (rowid, text): (i64, String) = store
        .connection()
        .query_row(
            "SELECT rowid, payload_text(payload) FROM encounter_view
             WHERE rowid = (SELECT min(rowid) FROM encounter_view WHERE withheld = 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let edited = text.replace("\"sud_consent\"", "\"sud_consent \"");
    assert_ne!(edited, text);
    store
        .connection()
        .execute(
            "UPDATE encounter_view SET payload = ?2 WHERE rowid = ?1",
            rusqlite::params![rowid, accessline::store::packed::pack(&edited)],
        )
        .unwrap();
    let err = export_all(&mut store, &defs, dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("no longer matches its SHA-256"),
        "{err}"
    );
}

#[test]
fn a_kept_view_that_does_not_unpack_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, defs) = demo_store(dir.path());
    store
        .connection()
        .execute_batch(
            "UPDATE encounter_view SET payload = substr(payload, 1, length(payload) - 1)
             WHERE rowid = (SELECT min(rowid) FROM encounter_view WHERE withheld = 1)",
        )
        .unwrap();
    let err = export_all(&mut store, &defs, dir.path()).unwrap_err();
    assert!(err.to_string().contains("does not decompress"), "{err}");
}

fn export_all(store: &mut Store, defs: &Definitions, dir: &Path) -> Result<(), sync::SyncError> {
    sync::export(
        store,
        defs,
        &Actor::new("golden", "golden-device"),
        &ExportOptions {
            format: Format::Ndjson,
            out: dir.join("out"),
            selection: Selection::All,
            recipients: None,
            device: None,
            batch_size: 100_000,
        },
    )
    .map(|_| ())
}
