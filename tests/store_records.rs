//! Round trips of every record type, and the append-only rules at the SQL level.

#[path = "common/store.rs"]
mod common;

use accessline::store::{
    Actor, Cursor, Decision, ReviewState, Risk, Status, Store, StoreError, SyncState,
    payload_sha256,
};
use common::*;
use rusqlite::Connection;
use serde_json::json;

#[test]
fn migrations_validate_and_set_the_schema_version() {
    accessline::store::MIGRATIONS
        .validate()
        .expect("every migration applies to an empty database");
    let (_dir, path) = temp_db();
    let store = Store::open_unencrypted(&path).unwrap();
    let v: i64 = store
        .connection()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, accessline::store::SCHEMA_VERSION);
}

#[test]
fn a_draft_resumes_at_the_same_step_and_field() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let me = screener();
    let id = store.start_draft(&me, at(3, 9)).unwrap();
    store
        .save_field(&me, id, "intake.caller_name", &json!("Maria Lopez"))
        .unwrap();
    store.save_field(&me, id, "intake.age", &json!(34)).unwrap();
    store
        .save_field(&me, id, "answers.phq9.q1", &json!(2))
        .unwrap();
    store
        .save_field(&me, id, "answers.phq9.q1", &json!(3))
        .unwrap();
    let cursor = Cursor {
        step: "assessment".into(),
        focus: "answers.phq9.q2".into(),
    };
    store.save_cursor(&me, id, &cursor).unwrap();
    drop(store);

    let store = Store::open_unencrypted(&path).unwrap();
    let draft = store.load_draft(id).unwrap();
    assert_eq!(draft.cursor, Some(cursor.clone()));
    assert_eq!(draft.screener, me.user);
    assert_eq!(draft.received_at, at(3, 9));
    assert_eq!(
        draft.fields.len(),
        3,
        "the cursor is not a field: {:?}",
        draft.fields
    );
    assert_eq!(
        draft.fields["answers.phq9.q1"],
        json!(3),
        "the last save wins"
    );
    assert_eq!(draft.fields["intake.caller_name"], json!("Maria Lopez"));

    let queue = store.drafts_of(&me.user).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].encounter_id, id);
    assert_eq!(queue[0].caller_display, "Maria Lopez");
    assert_eq!(queue[0].cursor, Some(cursor));
    assert!(store.drafts_of("someone.else").unwrap().is_empty());
}

#[test]
fn drafts_are_listed_newest_first_and_anonymous_by_default() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let me = screener();
    let older = store.start_draft(&me, at(3, 9)).unwrap();
    let newer = store.start_draft(&me, at(3, 10)).unwrap();
    store
        .save_field(&me, newer, "intake.reason", &json!("x"))
        .unwrap();
    // Timestamps have millisecond resolution: make "touched later" unambiguous.
    std::thread::sleep(std::time::Duration::from_millis(5));
    store
        .save_field(&me, older, "intake.caller_name", &json!("  "))
        .unwrap();
    let queue = store.drafts_of(&me.user).unwrap();
    assert_eq!(
        queue.iter().map(|d| d.encounter_id).collect::<Vec<_>>(),
        vec![older, newer]
    );
    assert!(queue.iter().all(|d| d.caller_display == "Anonymous"));
    assert!(matches!(
        store.save_field(&me, older, " ", &json!(1)),
        Err(StoreError::Invalid { .. })
    ));
    let unknown = uuid::Uuid::now_v7();
    assert!(matches!(
        store.save_field(&me, unknown, "k", &json!(1)),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn finalize_locks_the_record_and_queues_it() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let me = screener();
    let id = store.start_draft(&me, at(3, 9)).unwrap();
    store.save_field(&me, id, "intake.age", &json!(34)).unwrap();
    let s = summary(
        at(3, 9),
        "Maria Lopez",
        Risk::Moderate,
        "feeling hopeless since eviction",
    );
    let done = store
        .finalize(&me, id, &payload(7), &s, &versions())
        .unwrap();
    assert_eq!((done.revision, done.outbox_seq), (1, 1));

    let rec = store.encounter(id, None).unwrap();
    assert_eq!(rec.status, Status::Finalized);
    assert_eq!(rec.summary, s);
    assert_eq!(rec.definitions, versions());
    let stored = rec.payload.clone().unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stored).unwrap(),
        payload(7)
    );
    assert_eq!(
        rec.payload_sha256.as_deref(),
        Some(payload_sha256(&stored).as_str())
    );
    assert_eq!(done.payload_sha256, payload_sha256(&stored));
    assert_eq!(
        (rec.review_state, rec.sync_state),
        (Some(ReviewState::Awaiting), Some(SyncState::Pending))
    );
    assert!(rec.finalized_at.is_some());

    let fields: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM draft_field", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        fields, 0,
        "finalize removes the draft's fields in the same transaction"
    );
    assert!(matches!(
        store.load_draft(id),
        Err(StoreError::Finalized { .. })
    ));
    assert!(matches!(
        store.save_field(&me, id, "intake.age", &json!(35)),
        Err(StoreError::Finalized { .. })
    ));
    assert!(matches!(
        store.finalize(&me, id, &payload(8), &s, &versions()),
        Err(StoreError::Finalized { .. })
    ));
    assert!(store.drafts_of(&me.user).unwrap().is_empty());

    let pending = store.outbox_pending(&me.device, 10).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].kind.as_str(),
            pending[0].encounter_id,
            pending[0].seq
        ),
        ("encounter", id, 1)
    );
    let audit = store.audit_tail(1).unwrap();
    assert_eq!(audit[0].action, "finalized");
    assert_eq!(audit[0].record, format!("encounter/{id}/1"));
    assert!(audit[0].detail.contains(&done.payload_sha256));
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn finalize_without_a_draft_writes_revision_one() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let id = uuid::Uuid::now_v7();
    let s = summary(at(4, 9), "Anonymous", Risk::None, "info only");
    store
        .finalize(&screener(), id, &payload(1), &s, &versions())
        .unwrap();
    assert_eq!(
        store.encounter(id, Some(1)).unwrap().status,
        Status::Finalized
    );
    assert!(matches!(
        store.encounter(id, Some(2)),
        Err(StoreError::RevisionNotFound { revision: 2, .. })
    ));
}

#[test]
fn addenda_are_new_revisions_and_the_latest_is_current() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let me = screener();
    let id = finalized(&mut store, at(5, 9), Risk::Low, "anxiety");
    let s2 = summary(
        at(5, 9),
        "Maria Lopez-Garcia",
        Risk::High,
        "anxiety; corrected",
    );
    let add = store
        .add_addendum(
            &me,
            id,
            &payload(2),
            &s2,
            &versions(),
            "corrected caller name",
        )
        .unwrap();
    assert_eq!(add.revision, 2);
    let current = store.encounter(id, None).unwrap();
    assert_eq!((current.revision, current.supersedes), (2, Some(1)));
    assert_eq!(current.note.as_deref(), Some("corrected caller name"));
    assert_eq!(current.summary.caller_display, "Maria Lopez-Garcia");
    let all = store.revisions(id).unwrap();
    assert_eq!(
        all.iter().map(|r| r.revision).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        all[0].summary.caller_display, "Maria Lopez",
        "revision 1 is untouched"
    );

    assert!(matches!(
        store.add_addendum(&me, id, &payload(3), &s2, &versions(), "  "),
        Err(StoreError::Invalid { .. })
    ));
    let draft = store.start_draft(&me, at(5, 10)).unwrap();
    assert!(matches!(
        store.add_addendum(&me, draft, &payload(3), &s2, &versions(), "n"),
        Err(StoreError::NotFinalized { .. })
    ));
    let unknown = uuid::Uuid::now_v7();
    assert!(matches!(
        store.add_addendum(&me, unknown, &payload(3), &s2, &versions(), "n"),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn an_addendum_in_progress_is_saved_field_by_field_and_cleared_when_added() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let me = screener();
    let id = finalized(&mut store, at(5, 9), Risk::Low, "anxiety");
    store
        .save_amend_field(&me, id, 1, "intake.callback", &json!("(213) 555-0100"))
        .unwrap();
    store
        .save_amend_field(&me, id, 1, "intake.callback", &json!("(213) 555-0199"))
        .unwrap();
    // Saved durably: another connection (a restarted program) reads it.
    let other = Store::open_unencrypted(&path).unwrap();
    let saved = other.amend_fields(id, 1).unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved["intake.callback"], "(213) 555-0199");
    // The finalized revision itself is untouched.
    assert_eq!(store.encounter(id, Some(1)).unwrap().payload_sha256, {
        let r = other.encounter(id, Some(1)).unwrap();
        r.payload_sha256
    });
    let s2 = summary(at(5, 9), "Maria Lopez", Risk::Low, "anxiety");
    store
        .add_addendum(&me, id, &payload(2), &s2, &versions(), "callback added")
        .unwrap();
    assert!(store.amend_fields(id, 1).unwrap().is_empty());
    // Corrections against a superseded revision, a draft or an unknown id are refused.
    assert!(matches!(
        store.save_amend_field(&me, id, 1, "intake.zip", &json!("90012")),
        Err(StoreError::Invalid { .. })
    ));
    let draft = store.start_draft(&me, at(5, 10)).unwrap();
    assert!(matches!(
        store.save_amend_field(&me, draft, 1, "intake.zip", &json!("90012")),
        Err(StoreError::NotFinalized { .. })
    ));
    assert!(matches!(
        store.save_amend_field(&me, uuid::Uuid::now_v7(), 1, "k", &json!(1)),
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn reviews_are_per_revision_and_returned_items_reach_the_screener() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let (me, boss) = (screener(), supervisor());
    let id = finalized(&mut store, at(6, 9), Risk::Low, "alcohol use");
    assert!(matches!(
        store.add_review(&boss, id, 1, Decision::NeedsChanges, None),
        Err(StoreError::NoteRequired)
    ));
    assert!(matches!(
        store.add_review(&boss, id, 1, Decision::NeedsChanges, Some(" ")),
        Err(StoreError::NoteRequired)
    ));
    let r = store
        .add_review(
            &boss,
            id,
            1,
            Decision::NeedsChanges,
            Some("Document the callback number"),
        )
        .unwrap();
    assert_eq!(store.reviews(id).unwrap(), vec![r.clone()]);
    assert_eq!(
        store.encounter(id, None).unwrap().review_state,
        Some(ReviewState::NeedsChanges)
    );

    let returned = store.returned_to(&me.user).unwrap();
    assert_eq!(returned.len(), 1);
    assert_eq!(
        (returned[0].encounter_id, returned[0].note.as_str()),
        (id, "Document the callback number")
    );
    assert_eq!(returned[0].reviewer, boss.user);

    let s2 = summary(at(6, 9), "Maria Lopez", Risk::Low, "alcohol use");
    store
        .add_addendum(
            &me,
            id,
            &payload(2),
            &s2,
            &versions(),
            "added callback number",
        )
        .unwrap();
    assert!(
        store.returned_to(&me.user).unwrap().is_empty(),
        "the addendum answers the return"
    );
    assert!(matches!(
        store.add_review(&boss, id, 1, Decision::Approved, None),
        Err(StoreError::Superseded {
            revision: 1,
            current: 2,
            ..
        })
    ));
    let ok = store
        .add_review(&boss, id, 2, Decision::Approved, None)
        .unwrap();
    assert_eq!(store.reviews(id).unwrap(), vec![r, ok]);
    assert_eq!(
        store.encounter(id, None).unwrap().review_state,
        Some(ReviewState::Approved)
    );
    assert_eq!(
        store.encounter(id, Some(1)).unwrap().review_state,
        Some(ReviewState::NeedsChanges)
    );

    let draft = store.start_draft(&me, at(6, 10)).unwrap();
    assert!(matches!(
        store.add_review(&boss, draft, 1, Decision::Approved, None),
        Err(StoreError::NotFinalized { .. })
    ));
    assert!(matches!(
        store.add_review(&boss, id, 9, Decision::Approved, None),
        Err(StoreError::RevisionNotFound { .. })
    ));
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn outbox_numbers_each_device_monotonically_and_tracks_sync_state() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let field = Actor::new("screener.kim", "field-laptop-02");
    let a = finalized(&mut store, at(7, 9), Risk::None, "a");
    let b = store.start_draft(&field, at(7, 10)).unwrap();
    let s = summary(at(7, 10), "X", Risk::None, "b");
    let fb = store
        .finalize(&field, b, &payload(1), &s, &versions())
        .unwrap();
    let c = finalized(&mut store, at(7, 11), Risk::None, "c");
    store
        .add_review(&supervisor(), c, 1, Decision::Approved, None)
        .unwrap();
    assert_eq!(fb.outbox_seq, 1, "each device counts from 1");
    let hq = store.outbox_pending("hq-desk-01", 10).unwrap();
    assert_eq!(hq.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        hq.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec!["encounter", "encounter", "review"]
    );
    assert_eq!(
        (hq[0].encounter_id, hq[1].encounter_id, hq[2].encounter_id),
        (a, c, c)
    );
    assert!(hq[2].review_id.is_some());

    store
        .set_sync_state(
            "hq-desk-01",
            1,
            SyncState::Conflict,
            Some("hash differs on server"),
        )
        .unwrap();
    store
        .set_sync_state("hq-desk-01", 2, SyncState::Acknowledged, None)
        .unwrap();
    assert_eq!(store.outbox_pending("hq-desk-01", 10).unwrap().len(), 1);
    assert_eq!(
        store.encounter(a, None).unwrap().sync_state,
        Some(SyncState::Conflict)
    );
    assert_eq!(
        store.encounter(c, None).unwrap().sync_state,
        Some(SyncState::Acknowledged)
    );
    assert!(matches!(
        store.set_sync_state("hq-desk-01", 99, SyncState::Exported, None),
        Err(StoreError::NoOutboxEntry { .. })
    ));
}

fn raw(path: &std::path::Path) -> Connection {
    Connection::open(path).unwrap()
}

fn refused(conn: &Connection, sql: &str, why: &str) {
    let err = conn.execute(sql, []).expect_err(sql);
    assert!(err.to_string().contains(why), "{sql}: {err}");
}

#[test]
fn finalized_rows_reviews_audit_and_outbox_refuse_change_at_the_sql_level() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_unencrypted(&path).unwrap();
    let id = finalized(&mut store, at(8, 9), Risk::Low, "x");
    store
        .add_review(&supervisor(), id, 1, Decision::Approved, None)
        .unwrap();
    let draft = store.start_draft(&screener(), at(8, 10)).unwrap();
    drop(store);

    let c = raw(&path);
    refused(
        &c,
        &format!("UPDATE encounter SET payload = '{{}}' WHERE encounter_id = '{id}'"),
        "immutable",
    );
    refused(
        &c,
        &format!("UPDATE encounter SET caller_display = 'X' WHERE encounter_id = '{id}'"),
        "immutable",
    );
    refused(
        &c,
        &format!("DELETE FROM encounter WHERE encounter_id = '{id}'"),
        "cannot be deleted",
    );
    refused(&c, "UPDATE review SET note = 'x'", "append-only");
    refused(&c, "DELETE FROM review", "append-only");
    refused(
        &c,
        "UPDATE audit SET actor = 'x' WHERE seq = 1",
        "append-only",
    );
    refused(&c, "DELETE FROM audit WHERE seq = 1", "append-only");
    refused(&c, "DELETE FROM outbox", "never deleted");
    refused(
        &c,
        "UPDATE outbox SET seq = seq + 10",
        "only changes its sync state",
    );
    refused(
        &c,
        &format!(
            "INSERT INTO draft_field (encounter_id, key, value, updated_at) VALUES ('{id}', 'k', '1', 'now')"
        ),
        "only be saved to a draft",
    );
    // Vocabularies are enforced by CHECK constraints.
    refused(
        &c,
        &format!("UPDATE encounter SET risk = 'extreme' WHERE encounter_id = '{draft}'"),
        "CHECK constraint failed",
    );
    refused(
        &c,
        "UPDATE outbox SET state = 'lost'",
        "CHECK constraint failed",
    );
    refused(
        &c,
        "UPDATE encounter_state SET review_state = 'maybe'",
        "CHECK constraint failed",
    );
    // The guards are specific: drafts and sync state stay writable.
    assert_eq!(
        c.execute(
            &format!("UPDATE encounter SET caller_display = 'Y' WHERE encounter_id = '{draft}'"),
            []
        )
        .unwrap(),
        1
    );
    assert_eq!(
        c.execute("UPDATE outbox SET state = 'exported'", [])
            .unwrap(),
        2
    );
    // Stored packed (store::packed); unpacked, it is the payload finalized.
    let packed: Vec<u8> = c
        .query_row(
            &format!("SELECT payload FROM encounter WHERE encounter_id = '{id}'"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    let payload = accessline::store::packed::unpack(&packed).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&payload).unwrap(),
        payload_json()
    );
}

fn payload_json() -> serde_json::Value {
    payload(1)
}
