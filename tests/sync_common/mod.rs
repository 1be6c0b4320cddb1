//! Fixtures for the sync tests: a field device's database filled through the store's public
//! API with realistic encounters (payloads shaped like the screener UI's `Call::payload`),
//! addenda and supervisor reviews; helpers to export and import.
#![allow(dead_code)]

#[path = "../common/keys.rs"]
pub mod keys;

use std::path::{Path, PathBuf};

use accessline::domain::Definitions;
use accessline::domain::instrument::ItemKind;
use accessline::domain::outcome::{Intake, Outcome, OutcomeInput};
use accessline::domain::scoring::{AnswerValue, Answers};
use accessline::store::{Actor, Decision, Selection, Summary};
use accessline::sync::{self, ExportOptions, ExportReport, Format, crypto::Recipients};
use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

pub const DEVICE: &str = "field-laptop-07";

pub fn defs() -> Definitions {
    Definitions::builtin().expect("shipped definitions are valid")
}

pub fn screener() -> Actor {
    Actor::new("screener.nguyen", DEVICE)
}

pub fn supervisor() -> Actor {
    Actor::new("supervisor.lee", DEVICE)
}

pub fn hub_actor() -> Actor {
    Actor::new("sync.operator", "county-hub")
}

/// A small deterministic generator (no dependency on the demo generator, which changes).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn pacific(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&FixedOffset::west_opt(8 * 3600).unwrap())
}

/// One call: intake, answers to every item the screener would see, the outcome, and the
/// payload and summary the screener UI would finalize.
pub struct CallData {
    pub intake: Intake,
    pub outcome: Outcome,
    pub payload: Value,
    pub summary: Summary,
}

pub fn call(defs: &Definitions, i: u64, received_at: DateTime<Utc>) -> CallData {
    let mut rng = Lcg::new(i * 7919 + 17);
    let anonymous = i.is_multiple_of(4);
    let languages = ["en", "es", "ko", "vi", "hy"];
    let intake = Intake {
        caller_type: Some(
            if i.is_multiple_of(5) {
                "family"
            } else {
                "self"
            }
            .into(),
        ),
        anonymous,
        caller_name: (!anonymous).then(|| format!("Caller {i} Ramírez")),
        callback_number: (!anonymous).then(|| format!("(323) 555-{:04}", i % 10_000)),
        age: Some(16 + (i * 7 % 60) as u32),
        date_of_birth: None,
        sex: Some(["female", "male", "other", "unspecified"][(i % 4) as usize].into()),
        language: Some(languages[(i % 5) as usize].into()),
        interpreter: i % 5 > 1,
        medi_cal: Some("enrolled".into()),
        zip: Some(["90004", "90022", "91011", "93510"][(i % 4) as usize].into()),
        service_area: None,
        reason: Some(format!(
            "Caller {i} reports low mood and trouble sleeping; asks about \"counseling\" nearby."
        )),
    };
    let mut answers = Answers::new();
    for inst in defs.instruments.values() {
        let items = answers.entry(inst.id.clone()).or_default();
        for item in &inst.items {
            let v = match item.kind {
                ItemKind::YesNo => {
                    let risky = inst.id == "safety_check" || inst.id == "cssrs_screen";
                    AnswerValue::Bool(if risky {
                        i.is_multiple_of(13)
                    } else {
                        rng.chance(25)
                    })
                }
                ItemKind::Choice => {
                    let options = inst.options_of(item);
                    AnswerValue::Int(options[rng.below(options.len() as u64) as usize].value)
                }
            };
            items.insert(item.id.clone(), v);
        }
    }
    let local = pacific(received_at);
    let mut input = OutcomeInput {
        intake: &intake,
        answers: &answers,
        crisis_opened: false,
        received_at: local,
        override_cell: None,
        require_language: false,
        require_area: false,
    };
    let mut outcome = defs.outcome(&input);
    if outcome.crisis_indicated {
        input.crisis_opened = true;
        outcome = defs.outcome(&input);
    }
    // Only the answers shown are kept (as the UI does).
    let mut shown = Answers::new();
    for r in outcome.evaluation.results.iter().filter(|r| r.applies) {
        for item in &r.shown {
            if let Some(v) = answers.get(&r.instrument).and_then(|m| m.get(item)) {
                shown
                    .entry(r.instrument.clone())
                    .or_default()
                    .insert(item.clone(), *v);
            }
        }
    }
    let referrals: Vec<Value> = outcome
        .programs
        .iter()
        .take(1 + (i % 2) as usize)
        .map(|p| json!({ "service_id": p.service.service_id, "warm_handoff": i.is_multiple_of(3) }))
        .collect();
    let consent = ["given", "declined", "not_asked"][(i % 3) as usize];
    let crisis_at = input
        .crisis_opened
        .then_some(received_at + Duration::minutes(2));
    let payload = json!({
        "schema": "accessline.encounter/1",
        "received_at": local,
        "intake": intake,
        "crisis": {
            "opened": input.crisis_opened,
            "opened_at": crisis_at,
            "actions": if input.crisis_opened { json!({ "called_911": crisis_at }) } else { json!({}) },
        },
        "crisis_opened": input.crisis_opened,
        "override_cell": null,
        "override_reason": null,
        "answers": shown,
        "outcome": outcome,
        "referrals": referrals,
        "notices": ["beneficiary_handbook", "grievance_rights"],
        "sud_consent": consent,
    });
    let summary = Summary::from_outcome(&intake, &outcome, input.crisis_opened, local);
    CallData {
        intake,
        outcome,
        payload,
        summary,
    }
}

pub fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 16, 0, 0).unwrap()
}

/// A device database at `path` with `n` finalized encounters: every 5th has an addendum
/// (after a supervisor returned it), every 3rd is approved. Returns the encounter ids.
pub fn device(path: &Path, n: u64) -> Vec<Uuid> {
    let defs = defs();
    let mut store = keys::open_db(path).unwrap();
    let versions = defs.versions();
    let mut ids = Vec::new();
    for i in 0..n {
        let at = base_time() + Duration::minutes(37 * i as i64);
        let c = call(&defs, i, at);
        let id = store.start_draft(&screener(), at).unwrap();
        store
            .finalize(&screener(), id, &c.payload, &c.summary, &versions)
            .unwrap();
        if i.is_multiple_of(5) {
            store
                .add_review(
                    &supervisor(),
                    id,
                    1,
                    Decision::NeedsChanges,
                    Some("Please record the callback time."),
                )
                .unwrap();
            let mut p = c.payload.clone();
            p["intake"]["reason"] = json!(format!("{} Callback at 3 pm agreed.", i));
            store
                .add_addendum(
                    &screener(),
                    id,
                    &p,
                    &c.summary,
                    &versions,
                    "Added the agreed callback time.",
                )
                .unwrap();
            store
                .add_review(&supervisor(), id, 2, Decision::Approved, None)
                .unwrap();
        } else if i.is_multiple_of(3) {
            store
                .add_review(&supervisor(), id, 1, Decision::Approved, None)
                .unwrap();
        }
        ids.push(id);
    }
    ids
}

pub fn plaintext(out: &Path, batch_size: usize) -> ExportOptions {
    ExportOptions {
        format: Format::Ndjson,
        out: out.to_owned(),
        selection: Selection::All,
        recipients: None,
        device: None,
        batch_size,
    }
}

pub fn encrypted(out: &Path, batch_size: usize, recipient: &str) -> ExportOptions {
    ExportOptions {
        recipients: Some(Recipients::parse(recipient).unwrap()),
        ..plaintext(out, batch_size)
    }
}

pub fn export(db: &Path, opts: &ExportOptions) -> ExportReport {
    let mut store = keys::open_db(db).unwrap();
    sync::export(&mut store, &defs(), &screener(), opts).unwrap()
}

/// The manifests of a report, in the order written.
pub fn manifests(report: &ExportReport) -> Vec<PathBuf> {
    report
        .batches
        .iter()
        .map(|b| b.manifest_path.clone())
        .collect()
}

/// Import files into the hub at `hub`, panicking on any rejected file.
pub fn import_all(hub: &Path, files: &[PathBuf]) -> Vec<sync::FileImport> {
    let mut store = keys::open_db(hub).unwrap();
    files
        .iter()
        .map(|f| sync::import_file(&mut store, &hub_actor(), f, None).unwrap())
        .collect()
}

pub fn dump(db: &Path) -> String {
    sync::canonical_dump(&keys::open_db(db).unwrap()).unwrap()
}

/// A copy of a database (with its WAL checkpointed first).
pub fn copy_db(from: &Path, to: &Path) {
    {
        let store = keys::open_db(from).unwrap();
        store
            .connection()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    std::fs::copy(from, to).unwrap();
}
