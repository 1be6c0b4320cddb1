//! The headless `accessline assess` contract: answers JSON in, result JSON out
//! (schema in `docs/assess.md`). Input is checked strictly; the first problem is reported.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::Definitions;
use super::error::InputError;
use super::instrument::ItemKind;
use super::outcome::{CALLER_TYPES, Intake, MEDI_CAL, Outcome, OutcomeInput, SEXES};
use super::quadrant::CellId;
use super::scoring::{AnswerValue, Answers, score_all};

pub const INPUT_SCHEMA: &str = "accessline.assess.input/1";
pub const OUTPUT_SCHEMA: &str = "accessline.assess.result/1";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    #[serde(default)]
    schema: Option<String>,
    received_at: DateTime<FixedOffset>,
    intake: Intake,
    #[serde(default)]
    crisis_opened: bool,
    #[serde(default)]
    override_cell: Option<String>,
    answers: BTreeMap<String, Vec<Value>>,
}

/// A checked request.
#[derive(Debug, Clone)]
pub struct AssessInput {
    pub received_at: DateTime<FixedOffset>,
    pub intake: Intake,
    pub crisis_opened: bool,
    pub override_cell: Option<CellId>,
    pub answers: Answers,
}

/// The JSON printed by `assess`.
#[derive(Debug, Clone, Serialize)]
pub struct AssessOutput {
    pub schema: &'static str,
    pub definitions: BTreeMap<String, String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Parse and check an `assess` request.
pub fn parse_input(defs: &Definitions, text: &str) -> Result<AssessInput, InputError> {
    let value: Value = serde_json::from_str(text).map_err(|e| InputError::Json(e.to_string()))?;
    let raw: RawInput = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        InputError::field(
            if path == "." {
                "input".to_owned()
            } else {
                path
            },
            msg,
        )
    })?;
    if let Some(s) = &raw.schema
        && s != INPUT_SCHEMA
    {
        return Err(InputError::field(
            "schema",
            format!("`{s}` is not supported (expected `{INPUT_SCHEMA}`)"),
        ));
    }
    check_intake(defs, &raw)?;
    let override_cell = match &raw.override_cell {
        None => None,
        Some(c) => Some(CellId::parse(c).ok_or_else(|| {
            InputError::field(
                "override_cell",
                format!("`{c}` is not a cell id such as `moderate_low`"),
            )
        })?),
    };
    let answers = check_answers(defs, &raw)?;
    Ok(AssessInput {
        received_at: raw.received_at,
        intake: raw.intake,
        crisis_opened: raw.crisis_opened,
        override_cell,
        answers,
    })
}

fn one_of(path: &str, value: &Option<String>, allowed: &[&str]) -> Result<(), InputError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(InputError::field(
            path,
            format!("`{v}` is not one of {}", allowed.join(", ")),
        )),
        _ => Ok(()),
    }
}

fn check_intake(defs: &Definitions, raw: &RawInput) -> Result<(), InputError> {
    let i = &raw.intake;
    let day = raw.received_at.date_naive();
    one_of("intake.sex", &i.sex, SEXES)?;
    one_of("intake.caller_type", &i.caller_type, CALLER_TYPES)?;
    one_of("intake.medi_cal", &i.medi_cal, MEDI_CAL)?;
    if let Some(dob) = i.date_of_birth
        && dob > day
    {
        return Err(InputError::field(
            "intake.date_of_birth",
            format!("{dob} is after the call ({day})"),
        ));
    }
    if let (Some(age), Some(_)) = (i.age, i.date_of_birth) {
        let computed = Intake {
            age: None,
            ..i.clone()
        }
        .age_on(day);
        if computed != Some(age) {
            return Err(InputError::field(
                "intake.age",
                format!(
                    "{age} disagrees with date_of_birth (age {} on {day})",
                    computed.unwrap_or(0)
                ),
            ));
        }
    }
    match i.age_on(day) {
        None => {
            return Err(InputError::field(
                "intake",
                "needs `age` or `date_of_birth` (the screening tool depends on age)",
            ));
        }
        Some(a) if a > 120 => {
            return Err(InputError::field(
                "intake.age",
                format!("{a} is not a plausible age"),
            ));
        }
        _ => {}
    }
    if let Some(l) = &i.language
        && !defs.directory.languages.iter().any(|x| &x.code == l)
    {
        let codes: Vec<&str> = defs
            .directory
            .languages
            .iter()
            .map(|l| l.code.as_str())
            .collect();
        return Err(InputError::field(
            "intake.language",
            format!("`{l}` is not one of {}", codes.join(", ")),
        ));
    }
    if let Some(a) = i.service_area
        && !(1..=8).contains(&a)
    {
        return Err(InputError::field(
            "intake.service_area",
            format!("{a} is not a county service area (1-8)"),
        ));
    }
    if let Some(z) = &i.zip
        && (z.len() != 5 || !z.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(InputError::field(
            "intake.zip",
            format!("`{z}` is not a 5-digit ZIP code"),
        ));
    }
    if i.anonymous && i.caller_name.is_some() {
        return Err(InputError::field(
            "intake.caller_name",
            "given for an anonymous caller",
        ));
    }
    Ok(())
}

/// Turn the per-instrument arrays into answers, checking instrument, count, type, range and
/// skip logic. Instruments are checked in flow order because skip logic looks back.
fn check_answers(defs: &Definitions, raw: &RawInput) -> Result<Answers, InputError> {
    if let Some(unknown) = raw.answers.keys().find(|k| defs.instrument(k).is_none()) {
        let known: Vec<&str> = defs.instruments_in_order().map(|i| i.id.as_str()).collect();
        return Err(InputError::field(
            format!("answers.{unknown}"),
            format!("unknown instrument (known: {})", known.join(", ")),
        ));
    }
    let mut answers = Answers::new();
    for inst in defs.instruments_in_order() {
        let Some(values) = raw.answers.get(&inst.id) else {
            continue;
        };
        let path = format!("answers.{}", inst.id);
        if values.len() != inst.items.len() {
            let ids: Vec<&str> = inst.items.iter().map(|i| i.id.as_str()).collect();
            let what = if values.len() < inst.items.len() {
                "missing"
            } else {
                "extra"
            };
            return Err(InputError::field(
                &path,
                format!(
                    "{what} item: {} values given, {} expected in order ({}; null for items skip logic hides)",
                    values.len(),
                    inst.items.len(),
                    ids.join(", ")
                ),
            ));
        }
        let mut given = BTreeMap::new();
        for (item, v) in inst.items.iter().zip(values) {
            let at = format!(
                "{path}[{}] ({})",
                inst.items.iter().position(|x| x.id == item.id).unwrap_or(0),
                item.id
            );
            let value = match (item.kind, v) {
                (_, Value::Null) => continue,
                (ItemKind::YesNo, Value::Bool(b)) => AnswerValue::Bool(*b),
                (ItemKind::Choice, Value::Number(n)) if n.as_i64().is_some() => {
                    AnswerValue::Int(n.as_i64().unwrap_or_default())
                }
                (ItemKind::YesNo, other) => {
                    return Err(InputError::field(
                        at,
                        format!("expects true or false, got {other}"),
                    ));
                }
                (ItemKind::Choice, other) => {
                    let opts: Vec<String> = inst
                        .options_of(item)
                        .iter()
                        .map(|o| o.value.to_string())
                        .collect();
                    return Err(InputError::field(
                        at,
                        format!(
                            "expects a whole number (one of {}), got {other}",
                            opts.join(", ")
                        ),
                    ));
                }
            };
            super::scoring::check_answer(inst, &item.id, value)
                .map_err(|p| InputError::field(&at, p))?;
            given.insert(item.id.clone(), value);
        }
        answers.insert(inst.id.clone(), given);
    }
    // Skip logic: score with everything, then reject answers to hidden items or instruments.
    let day = raw.received_at.date_naive();
    let facts = raw.intake.facts(day);
    let ctx = score_all(defs, &facts, &answers, &Default::default());
    let eval = ctx.evaluation(defs);
    // A crisis call goes to crisis services first: only the safety step must be complete.
    let crisis = raw.crisis_opened || eval.crisis_flags().next().is_some();
    let safety: Vec<&String> = defs
        .flow
        .steps
        .iter()
        .filter(|s| s.id == "safety")
        .flat_map(|s| &s.instruments)
        .collect();
    for inst in defs.instruments_in_order() {
        let r = eval.result(&inst.id).expect("every instrument is scored");
        let path = format!("answers.{}", inst.id);
        match answers.get(&inst.id) {
            Some(given)
                if !r.applies && (!given.is_empty() || raw.answers.contains_key(&inst.id)) =>
            {
                return Err(InputError::field(
                    path,
                    "skip logic does not apply this instrument to this caller (e.g. adult vs youth tool by age, or no positive substance-use screen); leave it out",
                ));
            }
            Some(_) if !r.applies => {}
            Some(given) => {
                if let Some(hidden) = given.keys().find(|k| !r.shown.contains(k)) {
                    return Err(InputError::field(
                        format!("{path} ({hidden})"),
                        "answered, but skip logic hides this item; give null",
                    ));
                }
                if let Some(m) = r.missing.first() {
                    return Err(InputError::field(
                        format!("{path} ({m})"),
                        "missing answer to a required item",
                    ));
                }
            }
            None if r.applies && inst.required && (!crisis || safety.contains(&&inst.id)) => {
                return Err(InputError::field(
                    path,
                    format!("missing: {} is required for this caller", inst.short_title),
                ));
            }
            None => {}
        }
    }
    Ok(answers)
}

/// Run an assessment on checked input.
pub fn assess(defs: &Definitions, input: &AssessInput) -> AssessOutput {
    let outcome = defs.outcome(&OutcomeInput {
        intake: &input.intake,
        answers: &input.answers,
        crisis_opened: input.crisis_opened,
        received_at: input.received_at,
        override_cell: input.override_cell,
        require_language: false,
        require_area: false,
    });
    AssessOutput {
        schema: OUTPUT_SCHEMA,
        definitions: defs.versions(),
        outcome,
    }
}

/// Parse, check and assess; the whole `assess` command minus I/O.
pub fn assess_json(defs: &Definitions, text: &str) -> Result<String, InputError> {
    let input = parse_input(defs, text)?;
    let out = assess(defs, &input);
    Ok(serde_json::to_string_pretty(&out).expect("result serializes"))
}
