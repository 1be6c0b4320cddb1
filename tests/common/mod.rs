//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use accessline::domain::Definitions;
use accessline::domain::outcome::{Intake, Outcome, OutcomeInput};
use accessline::domain::scoring::{AnswerValue, Answers, InstrumentResult, score_all};
use chrono::{DateTime, FixedOffset};

pub fn defs() -> Definitions {
    Definitions::builtin().expect("shipped definitions are valid")
}

/// Answers for one instrument from values in item order (`None` = unanswered/hidden).
pub fn positional(
    defs: &Definitions,
    id: &str,
    values: &[Option<AnswerValue>],
) -> BTreeMap<String, AnswerValue> {
    let inst = defs.instrument(id).expect("instrument exists");
    inst.items
        .iter()
        .zip(values)
        .filter_map(|(item, v)| v.map(|v| (item.id.clone(), v)))
        .collect()
}

pub fn ints(values: &[i64]) -> Vec<Option<AnswerValue>> {
    values.iter().map(|v| Some(AnswerValue::Int(*v))).collect()
}

pub fn bools(values: &[bool]) -> Vec<Option<AnswerValue>> {
    values.iter().map(|v| Some(AnswerValue::Bool(*v))).collect()
}

pub fn facts(age: u32, sex: &str) -> accessline::domain::scoring::Facts {
    let mut f = accessline::domain::scoring::Facts::new();
    f.insert("age".into(), age.into());
    f.insert("sex".into(), sex.into());
    f
}

/// Score one instrument alone for a caller of the given age and sex.
pub fn score(
    defs: &Definitions,
    id: &str,
    values: &[Option<AnswerValue>],
    age: u32,
    sex: &str,
) -> InstrumentResult {
    let mut answers = Answers::new();
    answers.insert(id.to_owned(), positional(defs, id, values));
    let f = facts(age, sex);
    let ctx = score_all(defs, &f, &answers, &Default::default());
    ctx.results[id].clone()
}

pub fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("valid time")
}

pub fn outcome(defs: &Definitions, intake: &Intake, answers: &Answers, received: &str) -> Outcome {
    defs.outcome(&OutcomeInput {
        intake,
        answers,
        crisis_opened: false,
        received_at: at(received),
        override_cell: None,
        require_language: false,
        require_area: false,
    })
}

pub mod keys;
#[allow(unused_imports)]
pub use keys::{provision_admin, test_key};
