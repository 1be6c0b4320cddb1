//! Tampering as an attacker with `sqlite3` would (dropping the guard triggers first) is found
//! by `verify`, which names the rows concerned.

#[path = "common/store.rs"]
mod common;

use std::path::Path;

use accessline::store::{Decision, Fault, Risk, Store, VerifyReport};
use common::*;
use rusqlite::Connection;

/// Three finalized encounters (one reviewed), one draft: 10 audit rows.
fn sample(path: &Path) -> Vec<uuid::Uuid> {
    let mut store = Store::open_unencrypted(path).unwrap();
    let ids: Vec<_> = (0..3)
        .map(|n| finalized(&mut store, at(10, 9 + n), Risk::Low, "reason"))
        .collect();
    store
        .add_review(&supervisor(), ids[1], 1, Decision::Approved, None)
        .unwrap();
    let d = store.start_draft(&screener(), at(10, 13)).unwrap();
    store
        .save_field(&screener(), d, "intake.age", &serde_json::json!(40))
        .unwrap();
    assert!(store.verify().unwrap().is_ok());
    ids
}

fn tamper(path: &Path, sql: &str) {
    Connection::open(path).unwrap().execute_batch(sql).unwrap();
}

fn verify(path: &Path) -> VerifyReport {
    Store::open_unencrypted_read_only(path)
        .unwrap()
        .verify()
        .unwrap()
}

#[test]
fn a_clean_database_verifies_with_counts() {
    let (_dir, path) = temp_db();
    sample(&path);
    let r = verify(&path);
    assert!(r.is_ok(), "{r}");
    assert_eq!(
        (
            r.encounters,
            r.finalized_revisions,
            r.drafts,
            r.reviews,
            r.outbox_entries
        ),
        (4, 3, 1, 1, 4)
    );
    assert_eq!(r.audit_rows, 3 * 2 + 1 + 2);
}

#[test]
fn an_altered_audit_row_is_found_by_its_hash() {
    let (_dir, path) = temp_db();
    sample(&path);
    tamper(
        &path,
        "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 3;",
    );
    let r = verify(&path);
    assert!(r.faults.contains(&Fault::AuditHash { seq: 3 }), "{r}");
    assert!(
        r.faults
            .contains(&Fault::MissingTrigger("audit_no_update".into())),
        "{r}"
    );
    assert_eq!(
        r.faults.len(),
        2,
        "one altered row is one fault, not a cascade: {r}"
    );
    assert!(
        r.to_string().contains("audit row 3: hash does not match"),
        "{r}"
    );
}

#[test]
fn a_deleted_audit_row_breaks_the_chain_and_orphans_its_record() {
    let (_dir, path) = temp_db();
    let ids = sample(&path);
    // Rows: 1 draft_started, 2 finalized (ids[0]), 3 draft_started, 4 finalized (ids[1]), ...
    tamper(
        &path,
        "DROP TRIGGER audit_no_delete; CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT 1; END; DELETE FROM audit WHERE seq = 4;",
    );
    let r = verify(&path);
    assert!(
        r.faults.contains(&Fault::AuditGap {
            expected: 4,
            seq: 5
        }),
        "{r}"
    );
    assert!(
        r.faults.contains(&Fault::MissingAudit {
            record: format!("encounter/{}/1", ids[1])
        }),
        "{r}"
    );
}

#[test]
fn deleting_the_last_audit_row_is_caught_by_the_record_it_covered() {
    let (_dir, path) = temp_db();
    let ids = sample(&path);
    let c = Connection::open(&path).unwrap();
    c.execute_batch("DROP TRIGGER audit_no_delete;").unwrap();
    // Remove the trailing rows back to (and including) the last finalize.
    let seq: i64 = c
        .query_row(
            &format!(
                "SELECT seq FROM audit WHERE record = 'encounter/{}/1' AND action = 'finalized'",
                ids[2]
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    c.execute("DELETE FROM audit WHERE seq >= ?1", [seq])
        .unwrap();
    drop(c);
    let r = verify(&path);
    assert!(
        r.faults.contains(&Fault::MissingAudit {
            record: format!("encounter/{}/1", ids[2])
        }),
        "{r}"
    );
}

#[test]
fn a_tampered_finalized_payload_is_found() {
    let (_dir, path) = temp_db();
    let ids = sample(&path);
    // Unpacked, edited and packed again (the stored form, store::packed), hash left alone.
    let packed: Vec<u8> = Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT payload FROM encounter WHERE encounter_id = ?1",
            [ids[0].to_string()],
            |r| r.get(0),
        )
        .unwrap();
    let edited = accessline::store::packed::unpack(&packed)
        .unwrap()
        .replace('1', "2");
    let repacked: String = accessline::store::packed::pack(&edited)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    tamper(&path, &format!(
        "DROP TRIGGER encounter_finalized_no_update;
         UPDATE encounter SET payload = x'{repacked}' WHERE encounter_id = '{}';
         CREATE TRIGGER encounter_finalized_no_update BEFORE UPDATE ON encounter WHEN OLD.status = 'finalized'
         BEGIN SELECT RAISE(ABORT, 'finalized encounter revisions are immutable: write an addendum'); END;",
        ids[0]
    ));
    let r = verify(&path);
    assert_eq!(
        r.faults,
        vec![Fault::PayloadHash {
            record: format!("encounter/{}/1", ids[0])
        }],
        "{r}"
    );
}

#[test]
fn a_stored_payload_that_does_not_unpack_is_found() {
    let (_dir, path) = temp_db();
    let ids = sample(&path);
    // The frame's last byte (part of its checksum) cut off.
    tamper(&path, &format!(
        "DROP TRIGGER encounter_finalized_no_update;
         UPDATE encounter SET payload = substr(payload, 1, length(payload) - 1) WHERE encounter_id = '{}';",
        ids[1]
    ));
    let r = verify(&path);
    assert!(
        r.faults.contains(&Fault::PayloadHash {
            record: format!("encounter/{}/1", ids[1])
        }),
        "{r}"
    );
}

#[test]
fn a_payload_rewritten_with_a_fresh_hash_disagrees_with_the_audit_chain() {
    let (_dir, path) = temp_db();
    let ids = sample(&path);
    let forged = serde_json::json!({ "schema": "test/1", "answers": {} }).to_string();
    let sha = accessline::store::payload_sha256(&forged);
    tamper(&path, &format!(
        "DROP TRIGGER encounter_finalized_no_update;
         UPDATE encounter SET payload = '{forged}', payload_sha256 = '{sha}' WHERE encounter_id = '{}';",
        ids[2]
    ));
    let r = verify(&path);
    let record = format!("encounter/{}/1", ids[2]);
    assert!(
        r.faults
            .iter()
            .any(|f| matches!(f, Fault::AuditMismatch { record: x, .. } if *x == record)),
        "{r}"
    );
    assert!(
        !r.faults
            .iter()
            .any(|f| matches!(f, Fault::PayloadHash { .. })),
        "{r}"
    );
}

#[test]
fn a_changed_review_decision_is_found() {
    let (_dir, path) = temp_db();
    sample(&path);
    tamper(
        &path,
        "DROP TRIGGER review_no_update; UPDATE review SET decision = 'needs_changes', note = 'x';",
    );
    let r = verify(&path);
    assert!(
        r.faults
            .iter()
            .any(|f| matches!(f, Fault::AuditMismatch { record, .. } if record == "review/1")),
        "{r}"
    );
    assert!(
        r.faults
            .contains(&Fault::MissingTrigger("review_no_update".into())),
        "{r}"
    );
}

/// A writer running without triggers (as the demo's bulk load does) could write what the
/// insert guards refuse; `verify` looks for it afterwards.
#[test]
fn rows_the_insert_guards_refuse_are_found() {
    let (_dir, path) = temp_db();
    let ids = sample(&path);
    let c = Connection::open(&path).unwrap();
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER,
        false,
    )
    .unwrap();
    let draft: String = c
        .query_row(
            "SELECT encounter_id FROM encounter WHERE status = 'draft'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    c.execute(
        "INSERT INTO draft_field (encounter_id, key, value, updated_at)
         VALUES (?1, 'intake.age', '41', '2025-03-10T12:00:00Z')",
        [ids[0].to_string()],
    )
    .unwrap();
    c.execute(
        "INSERT INTO review (review_id, encounter_id, revision, decision, reviewer, device,
                             reviewed_at, audit_seq)
         VALUES (99, ?1, 1, 'approved', 'supervisor.lee', 'hq-desk-01', '2025-03-10T12:00:00Z', 1)",
        [&draft],
    )
    .unwrap();
    drop(c);
    let r = verify(&path);
    for (record, problem) in [
        (
            format!("encounter/{}/1", ids[0]),
            "draft fields kept for a call that is not a draft",
        ),
        (
            "review/99".to_owned(),
            "reviews a revision that is not finalized",
        ),
    ] {
        assert!(
            r.faults.contains(&Fault::Refused { record, problem }),
            "{r}"
        );
    }
}
