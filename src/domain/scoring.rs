//! Scoring every instrument of an encounter: skip logic, totals, bands and flags.
//!
//! Pure: takes the definitions, the intake facts and the answers, returns an [`Evaluation`].
//! Instruments are evaluated in flow order so later skip logic can look at earlier results.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::catalog::Definitions;
use super::condition::Context;
use super::instrument::{Instrument, ItemKind, ScoringMethod};

/// One answer as entered: yes/no or the value of a choice option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    Bool(bool),
    Int(i64),
}

impl AnswerValue {
    /// The value used by conditions and scoring (yes = 1, no = 0).
    pub fn as_i64(self) -> i64 {
        match self {
            AnswerValue::Bool(b) => i64::from(b),
            AnswerValue::Int(v) => v,
        }
    }
}

/// instrument id → item id → answer.
pub type Answers = BTreeMap<String, BTreeMap<String, AnswerValue>>;

/// Intake facts that conditions may test (`age`, `sex`, …).
pub type Facts = BTreeMap<String, serde_json::Value>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandResult {
    pub id: String,
    pub label: String,
    pub severity: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagResult {
    pub id: String,
    pub instrument: String,
    pub message: String,
    pub crisis: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentResult {
    pub instrument: String,
    pub version: String,
    /// Instrument-level skip logic allows it for this caller.
    pub applies: bool,
    /// Some answer was given.
    pub started: bool,
    /// Every shown, required item is answered.
    pub complete: bool,
    /// Sum of scored, shown, answered items (partial while incomplete); `None` if not scored.
    pub total: Option<i64>,
    pub max: Option<i64>,
    /// Range bands only once complete; rule bands as soon as a non-zero level is certain.
    pub band: Option<BandResult>,
    pub flags: Vec<FlagResult>,
    /// Items currently shown by skip logic, in order.
    pub shown: Vec<String>,
    /// Shown, required items still unanswered.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Evaluation {
    /// In flow order.
    pub results: Vec<InstrumentResult>,
    /// Every raised flag (instrument flags and encounter flags such as `crisis_opened`).
    pub flags: BTreeSet<String>,
}

impl Evaluation {
    pub fn result(&self, instrument: &str) -> Option<&InstrumentResult> {
        self.results.iter().find(|r| r.instrument == instrument)
    }

    /// Any raised flag that calls for the crisis protocol.
    pub fn crisis_flags(&self) -> impl Iterator<Item = &FlagResult> {
        self.results
            .iter()
            .flat_map(|r| r.flags.iter())
            .filter(|f| f.crisis)
    }
}

/// The state conditions are evaluated against; grows as instruments are scored.
pub struct EvalContext<'a> {
    pub facts: &'a Facts,
    pub answers: &'a Answers,
    pub results: BTreeMap<String, InstrumentResult>,
    pub flags: BTreeSet<String>,
    pub cell: Option<String>,
}

impl<'a> EvalContext<'a> {
    pub fn new(facts: &'a Facts, answers: &'a Answers, encounter_flags: &BTreeSet<String>) -> Self {
        EvalContext {
            facts,
            answers,
            results: BTreeMap::new(),
            flags: encounter_flags.clone(),
            cell: None,
        }
    }

    /// The results in flow order, with every raised flag.
    pub fn evaluation(&self, defs: &Definitions) -> Evaluation {
        Evaluation {
            results: defs
                .instruments_in_order()
                .filter_map(|i| self.results.get(&i.id).cloned())
                .collect(),
            flags: self.flags.clone(),
        }
    }

    /// The results in flow order, moved out of the context (which is done with them).
    pub fn into_evaluation(self, defs: &Definitions) -> Evaluation {
        let mut results = self.results;
        Evaluation {
            results: defs
                .instruments_in_order()
                .filter_map(|i| results.remove(&i.id))
                .collect(),
            flags: self.flags,
        }
    }

    /// Items shown so far by an instrument's skip logic (hidden answers never count). They are
    /// the `shown` list of its result, which is published as soon as scoring it starts.
    fn shown(&self, instrument: &str) -> Option<&[String]> {
        self.results.get(instrument).map(|r| r.shown.as_slice())
    }

    fn shown_answer(&self, instrument: &str, item: &str) -> Option<AnswerValue> {
        let shown = self.shown(instrument)?;
        if !shown.iter().any(|s| s == item) {
            return None;
        }
        self.answers.get(instrument)?.get(item).copied()
    }
}

impl Context for EvalContext<'_> {
    fn answer(&self, instrument: &str, item: &str) -> Option<f64> {
        self.shown_answer(instrument, item)
            .map(|v| v.as_i64() as f64)
    }

    fn answers_of(&self, instrument: &str) -> Vec<f64> {
        let Some(shown) = self.shown(instrument) else {
            return Vec::new();
        };
        self.answers
            .get(instrument)
            .into_iter()
            .flatten()
            .filter(|(item, _)| shown.contains(*item))
            .map(|(_, v)| v.as_i64() as f64)
            .collect()
    }

    fn any_answer(&self, instrument: &str, test: &dyn Fn(f64) -> bool) -> bool {
        let Some(shown) = self.shown(instrument) else {
            return false;
        };
        self.answers
            .get(instrument)
            .into_iter()
            .flatten()
            .filter(|(item, _)| shown.contains(*item))
            .any(|(_, v)| test(v.as_i64() as f64))
    }

    fn total(&self, instrument: &str) -> Option<f64> {
        self.results.get(instrument)?.total.map(|t| t as f64)
    }

    fn band(&self, instrument: &str) -> Option<&str> {
        self.results
            .get(instrument)?
            .band
            .as_ref()
            .map(|b| b.id.as_str())
    }

    fn flag(&self, flag: &str) -> bool {
        self.flags.contains(flag)
    }

    fn fact(&self, fact: &str) -> Option<&serde_json::Value> {
        self.facts.get(fact)
    }

    fn cell(&self) -> Option<&str> {
        self.cell.as_deref()
    }
}

/// Score every instrument of the flow, in order, returning the evaluation and the context
/// (which placement rules read next).
pub fn score_all<'a>(
    defs: &Definitions,
    facts: &'a Facts,
    answers: &'a Answers,
    encounter_flags: &BTreeSet<String>,
) -> EvalContext<'a> {
    let mut ctx = EvalContext::new(facts, answers, encounter_flags);
    for inst in defs.instruments_in_order() {
        score_in_place(inst, &mut ctx);
        let flags = &ctx.results[&inst.id].flags;
        for f in flags {
            if !ctx.flags.contains(&f.id) {
                ctx.flags.insert(f.id.clone());
            }
        }
    }
    ctx
}

/// Score one instrument against the context built so far and record which items are shown.
pub fn score_instrument(inst: &Instrument, ctx: &mut EvalContext<'_>) -> InstrumentResult {
    score_in_place(inst, ctx);
    ctx.results[&inst.id].clone()
}

/// Score one instrument into `ctx.results`. The result is published at once (not started, no
/// total or band, nothing shown) and filled in as scoring goes: items it shows count for the
/// skip logic of its later items, its total for its bands, its band for its flags.
fn score_in_place(inst: &Instrument, ctx: &mut EvalContext<'_>) {
    let applies = inst
        .applies_if
        .as_ref()
        .is_none_or(|c| c.eval(ctx, &inst.id));
    let given = ctx.answers.get(&inst.id);
    let scored = inst.scoring.method == ScoringMethod::Sum;
    ctx.results.insert(
        inst.id.clone(),
        InstrumentResult {
            instrument: inst.id.clone(),
            version: inst.version.clone(),
            applies,
            started: false,
            complete: false,
            total: None,
            max: scored.then_some(inst.scoring.max).flatten(),
            band: None,
            flags: Vec::new(),
            shown: Vec::new(),
            missing: Vec::new(),
        },
    );
    let mut missing = Vec::new();
    let mut total = 0i64;
    if applies {
        for item in &inst.items {
            let visible = item.show_if.as_ref().is_none_or(|c| c.eval(ctx, &inst.id));
            if !visible {
                continue;
            }
            ctx.results
                .get_mut(&inst.id)
                .expect("inserted above")
                .shown
                .push(item.id.clone());
            match given.and_then(|g| g.get(&item.id)) {
                Some(v) if item.scored => {
                    total += inst.score_of(item, v.as_i64()).unwrap_or(0);
                }
                Some(_) => {}
                None if item.required => missing.push(item.id.clone()),
                None => {}
            }
        }
    }
    let result = ctx.results.get_mut(&inst.id).expect("inserted above");
    let started = applies && given.is_some_and(|g| g.keys().any(|k| result.shown.contains(k)));
    let complete = applies && missing.is_empty();
    result.started = started;
    result.complete = complete;
    result.total = (scored && started).then_some(total);
    result.missing = missing;
    if !started {
        return;
    }
    // Bands and flags may read this instrument's total, flags its band.
    let band = pick_band(inst, ctx, complete, total);
    ctx.results.get_mut(&inst.id).expect("inserted above").band = band;
    let flags = inst
        .flags
        .iter()
        .filter(|f| f.when.eval(ctx, &inst.id))
        .map(|f| FlagResult {
            id: f.id.clone(),
            instrument: inst.id.clone(),
            message: f.message.clone(),
            crisis: f.crisis,
        })
        .collect();
    ctx.results.get_mut(&inst.id).expect("inserted above").flags = flags;
}

fn pick_band(
    inst: &Instrument,
    ctx: &EvalContext<'_>,
    complete: bool,
    total: i64,
) -> Option<BandResult> {
    for band in &inst.bands {
        let hit = match (&band.when, band.min, band.max) {
            (Some(rule), _, _) => rule.eval(ctx, &inst.id) && (complete || band.severity > 0),
            (None, Some(lo), Some(hi)) => complete && (lo..=hi).contains(&total),
            _ => false,
        };
        if hit {
            return Some(BandResult {
                id: band.id.clone(),
                label: band.label.clone(),
                severity: band.severity,
            });
        }
    }
    None
}

/// Check one answer against its item: type and allowed values. `Err` is a readable problem.
pub fn check_answer(inst: &Instrument, item_id: &str, value: AnswerValue) -> Result<(), String> {
    let Some(item) = inst.item(item_id) else {
        return Err(format!("`{item_id}` is not an item of {}", inst.id));
    };
    match (item.kind, value) {
        (ItemKind::YesNo, AnswerValue::Bool(_)) => Ok(()),
        (ItemKind::YesNo, AnswerValue::Int(_)) => {
            Err("expects true or false (a yes/no item)".to_owned())
        }
        (ItemKind::Choice, AnswerValue::Bool(_)) => {
            Err(format!("expects a number ({})", allowed(inst, item)))
        }
        (ItemKind::Choice, AnswerValue::Int(v)) => {
            if inst.score_of(item, v).is_some() {
                Ok(())
            } else {
                Err(format!("{v} is out of range ({})", allowed(inst, item)))
            }
        }
    }
}

fn allowed(inst: &Instrument, item: &super::instrument::Item) -> String {
    let values: Vec<String> = inst
        .options_of(item)
        .iter()
        .map(|o| o.value.to_string())
        .collect();
    format!("one of {}", values.join(", "))
}
