//! Fixtures shared by the store tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use accessline::domain::placement::Triage;
use accessline::domain::quadrant::{CellId, Level};
use accessline::store::{Actor, Risk, Store, Summary};
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

pub fn screener() -> Actor {
    Actor::new("screener.alvarez", "hq-desk-01")
}

pub fn supervisor() -> Actor {
    Actor::new("supervisor.lee", "hq-desk-01")
}

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, 0, 0).unwrap()
}

pub fn summary(received_at: DateTime<Utc>, name: &str, risk: Risk, reason: &str) -> Summary {
    Summary {
        received_at,
        caller_display: name.to_owned(),
        language: Some("es".into()),
        age: Some(34),
        cell_computed: Some(CellId {
            mh: Level::Moderate,
            acuity: Level::Low,
        }),
        cell_chosen: Some(CellId {
            mh: Level::Moderate,
            acuity: Level::Moderate,
        }),
        risk,
        triage: Some(Triage::Routine),
        crisis: false,
        deadline_at: Some(received_at + chrono::Duration::days(14)),
        reason: Some(reason.to_owned()),
    }
}

pub fn versions() -> BTreeMap<String, String> {
    [("phq9", "1.0.0"), ("flow", "1.0.0")]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
}

pub fn payload(n: u32) -> serde_json::Value {
    serde_json::json!({ "schema": "test/1", "answers": { "phq9": { "q1": n } } })
}

/// A finalized encounter received at `received_at`.
pub fn finalized(store: &mut Store, received_at: DateTime<Utc>, risk: Risk, reason: &str) -> Uuid {
    let id = store.start_draft(&screener(), received_at).unwrap();
    let s = summary(received_at, "Maria Lopez", risk, reason);
    store
        .finalize(&screener(), id, &payload(1), &s, &versions())
        .unwrap();
    id
}

pub fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accessline.db");
    (dir, path)
}
