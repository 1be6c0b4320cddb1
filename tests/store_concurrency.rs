//! Two writers and readers on one file at once, as two threads with their own connections and
//! as two processes: busy timeout plus BEGIN IMMEDIATE means no "database is locked".

#[path = "common/store.rs"]
mod common;
#[path = "common/keys.rs"]
mod keys;

use std::process::{Command, Stdio};

use accessline::store::{Actor, Decision, ListFilter, ListQuery, ReviewState, Risk};
use common::*;
use serde_json::json;

#[test]
fn two_connections_write_and_read_at_once_without_errors() {
    let (_dir, path) = temp_db();
    keys::open_db(&path).unwrap();
    const CALLS: usize = 400;
    let screener_side = {
        let path = path.clone();
        std::thread::spawn(move || {
            let mut store = keys::open_db(&path).unwrap();
            let me = Actor::new("screener.nguyen", "hq-desk-01");
            let mut ops = 0;
            for n in 0..CALLS {
                let received = at(12, 8) + chrono::Duration::minutes(n as i64);
                let id = store.start_draft(&me, received).unwrap();
                store
                    .save_field(&me, id, "intake.caller_name", &json!(format!("Caller {n}")))
                    .unwrap();
                store
                    .save_field(&me, id, "answers.phq9.q1", &json!(n % 4))
                    .unwrap();
                let s = summary(received, &format!("Caller {n}"), Risk::Low, "anxiety");
                store
                    .finalize(&me, id, &payload(n as u32), &s, &versions())
                    .unwrap();
                ops += 4 + usize::from(store.drafts_of(&me.user).unwrap().is_empty());
            }
            ops
        })
    };
    let mut store = keys::open_db(&path).unwrap();
    let boss = supervisor();
    let (mut ops, mut reviewed) = (0, 0);
    let awaiting = ListQuery {
        filter: ListFilter {
            review_state: Some(ReviewState::Awaiting),
            ..Default::default()
        },
        limit: 20,
        ..Default::default()
    };
    while !screener_side.is_finished() || reviewed < CALLS {
        let page = store.list(&awaiting).unwrap();
        ops += 1;
        for row in page
            .rows
            .iter()
            .filter(|r| r.status == accessline::store::Status::Finalized)
        {
            store
                .add_review(
                    &boss,
                    row.encounter_id,
                    row.revision,
                    Decision::Approved,
                    None,
                )
                .unwrap();
            reviewed += 1;
            ops += 1;
        }
        store.list(&ListQuery::default()).unwrap();
        ops += 1;
        if screener_side.is_finished() && page.rows.is_empty() {
            break;
        }
    }
    let written = screener_side
        .join()
        .expect("the screener thread saw no error");
    assert_eq!(reviewed, CALLS, "every finalized call was reviewed");
    assert!(written + ops >= 2_000, "{written} + {ops} operations");
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn a_second_process_writes_while_this_one_does() {
    let (_dir, path) = temp_db();
    let mut store = keys::open_db(&path).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_accessline"))
        .env("ACCESSLINE_DB_KEY", keys::test_key())
        .args(["__save-loop", "--limit", "300", "--db"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let me = screener();
    for n in 0..150 {
        let id = store.start_draft(&me, at(13, 8)).unwrap();
        store
            .save_field(&me, id, "answers.gad7.q1", &json!(n % 4))
            .unwrap();
        store.list(&ListQuery::default()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stderr}");
    let saved = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("saved "))
        .count();
    assert_eq!(saved, 300);
    assert_eq!(store.drafts_of(&me.user).unwrap().len(), 150);
    assert!(store.verify().unwrap().is_ok());
}
