//! A small condition language shared by skip logic, bands, flags and placement rules.
//!
//! Conditions are data (JSON in `assets/`), evaluated against a [`Context`] that knows
//! answers, totals, bands, flags and intake facts. Inside an instrument, `instrument` may be
//! omitted and means "this instrument".

use serde::{Deserialize, Serialize};

/// Comparison operator used by numeric conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
}

impl Op {
    pub fn apply(self, left: f64, right: f64) -> bool {
        match self {
            Op::Eq => left == right,
            Op::Ne => left != right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Lt => left < right,
            Op::Le => left <= right,
        }
    }
}

/// A boolean expression over an encounter's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Every sub-condition holds (true when empty).
    All(Vec<Condition>),
    /// At least one sub-condition holds (false when empty).
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// A yes/no item was answered "yes".
    Yes(ItemRef),
    /// A yes/no item was answered "no".
    No(ItemRef),
    /// An item's answer value compared with a number (unanswered items never match).
    Answer(AnswerTest),
    /// Any answered item of the instrument compared with a number.
    AnyAnswer(AnyAnswerTest),
    /// The instrument's total score compared with a number (false when not scored).
    Total(TotalTest),
    /// The instrument's band (or risk level) id equals the given one.
    Band(BandTest),
    /// A flag (instrument flag or encounter flag such as `crisis_opened`) is raised.
    Flag(String),
    /// An intake fact compared with a value (`age` numeric; `sex` etc. by string).
    Fact(FactTest),
    /// The computed quadrant cell id equals the given one (placement-stage rules only).
    Cell(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    pub item: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerTest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    pub item: String,
    pub op: Op,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnyAnswerTest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    pub op: Op,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotalTest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    pub op: Op,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandTest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    pub is: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactTest {
    pub fact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Op>,
    pub value: serde_json::Value,
}

/// What a condition can ask about. Implemented by the scoring and placement stages.
pub trait Context {
    /// Numeric value of an answer (yes = 1, no = 0), `None` when unanswered or hidden.
    fn answer(&self, instrument: &str, item: &str) -> Option<f64>;
    /// All answered values of an instrument.
    fn answers_of(&self, instrument: &str) -> Vec<f64>;
    /// Does any answered value of the instrument pass `test`? (What `any_answer` asks; an
    /// implementation may answer it without collecting the values.)
    fn any_answer(&self, instrument: &str, test: &dyn Fn(f64) -> bool) -> bool {
        self.answers_of(instrument).into_iter().any(test)
    }
    fn total(&self, instrument: &str) -> Option<f64>;
    fn band(&self, instrument: &str) -> Option<&str>;
    fn flag(&self, flag: &str) -> bool;
    fn fact(&self, fact: &str) -> Option<&serde_json::Value>;
    fn cell(&self) -> Option<&str>;
}

impl Condition {
    /// Evaluate with `default_instrument` standing in for an omitted `instrument`.
    pub fn eval(&self, ctx: &dyn Context, default_instrument: &str) -> bool {
        // Borrowed, not cloned: conditions run many times per answer (and per demo call).
        fn or<'a>(i: &'a Option<String>, default: &'a str) -> &'a str {
            i.as_deref().unwrap_or(default)
        }
        let inst = |i| or(i, default_instrument);
        match self {
            Condition::All(cs) => cs.iter().all(|c| c.eval(ctx, default_instrument)),
            Condition::Any(cs) => cs.iter().any(|c| c.eval(ctx, default_instrument)),
            Condition::Not(c) => !c.eval(ctx, default_instrument),
            Condition::Yes(r) => ctx.answer(inst(&r.instrument), &r.item) == Some(1.0),
            Condition::No(r) => ctx.answer(inst(&r.instrument), &r.item) == Some(0.0),
            Condition::Answer(t) => ctx
                .answer(inst(&t.instrument), &t.item)
                .is_some_and(|v| t.op.apply(v, t.value)),
            Condition::AnyAnswer(t) => {
                ctx.any_answer(inst(&t.instrument), &|v| t.op.apply(v, t.value))
            }
            Condition::Total(t) => ctx
                .total(inst(&t.instrument))
                .is_some_and(|v| t.op.apply(v, t.value)),
            Condition::Band(t) => ctx.band(inst(&t.instrument)) == Some(t.is.as_str()),
            Condition::Flag(f) => ctx.flag(f),
            Condition::Fact(t) => eval_fact(ctx.fact(&t.fact), t),
            Condition::Cell(c) => ctx.cell() == Some(c.as_str()),
        }
    }

    /// Every `(instrument, item)` the condition names, for validation.
    pub fn item_refs(&self, default_instrument: &str, out: &mut Vec<(String, String)>) {
        let inst = |i: &Option<String>| i.clone().unwrap_or_else(|| default_instrument.to_owned());
        match self {
            Condition::All(cs) | Condition::Any(cs) => {
                cs.iter().for_each(|c| c.item_refs(default_instrument, out))
            }
            Condition::Not(c) => c.item_refs(default_instrument, out),
            Condition::Yes(r) | Condition::No(r) => out.push((inst(&r.instrument), r.item.clone())),
            Condition::Answer(t) => out.push((inst(&t.instrument), t.item.clone())),
            _ => {}
        }
    }

    /// Every flag the condition tests.
    pub fn flag_refs(&self, out: &mut Vec<String>) {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| c.flag_refs(out)),
            Condition::Not(c) => c.flag_refs(out),
            Condition::Flag(f) => out.push(f.clone()),
            _ => {}
        }
    }

    /// Every instrument the condition names (explicitly or by default).
    pub fn instrument_refs(&self, default_instrument: &str, out: &mut Vec<String>) {
        let inst = |i: &Option<String>| i.clone().unwrap_or_else(|| default_instrument.to_owned());
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs
                .iter()
                .for_each(|c| c.instrument_refs(default_instrument, out)),
            Condition::Not(c) => c.instrument_refs(default_instrument, out),
            Condition::Yes(r) | Condition::No(r) => out.push(inst(&r.instrument)),
            Condition::Answer(t) => out.push(inst(&t.instrument)),
            Condition::AnyAnswer(t) => out.push(inst(&t.instrument)),
            Condition::Total(t) => out.push(inst(&t.instrument)),
            Condition::Band(t) => out.push(inst(&t.instrument)),
            Condition::Flag(_) | Condition::Fact(_) | Condition::Cell(_) => {}
        }
    }
}

fn eval_fact(actual: Option<&serde_json::Value>, t: &FactTest) -> bool {
    let Some(actual) = actual else { return false };
    match (t.op, actual.as_f64(), t.value.as_f64()) {
        (Some(op), Some(a), Some(b)) => op.apply(a, b),
        (Some(Op::Ne), _, _) => *actual != t.value,
        (Some(Op::Eq) | None, _, _) => *actual == t.value,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Ctx {
        answers: HashMap<(String, String), f64>,
        facts: HashMap<String, serde_json::Value>,
    }
    impl Context for Ctx {
        fn answer(&self, i: &str, item: &str) -> Option<f64> {
            self.answers.get(&(i.into(), item.into())).copied()
        }
        fn answers_of(&self, i: &str) -> Vec<f64> {
            self.answers
                .iter()
                .filter(|((ii, _), _)| ii == i)
                .map(|(_, v)| *v)
                .collect()
        }
        fn total(&self, i: &str) -> Option<f64> {
            let v = self.answers_of(i);
            (!v.is_empty()).then(|| v.iter().sum())
        }
        fn band(&self, _: &str) -> Option<&str> {
            None
        }
        fn flag(&self, f: &str) -> bool {
            f == "up"
        }
        fn fact(&self, f: &str) -> Option<&serde_json::Value> {
            self.facts.get(f)
        }
        fn cell(&self) -> Option<&str> {
            Some("high_high")
        }
    }

    fn parse(s: &str) -> Condition {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn operators_and_combinators() {
        let mut c = Ctx::default();
        c.answers.insert(("x".into(), "q1".into()), 1.0);
        c.answers.insert(("x".into(), "q2".into()), 3.0);
        c.facts.insert("age".into(), serde_json::json!(17));
        c.facts.insert("sex".into(), serde_json::json!("female"));
        let cases = [
            (r#"{"yes":{"item":"q1"}}"#, true),
            (r#"{"no":{"item":"q1"}}"#, false),
            (r#"{"yes":{"item":"missing"}}"#, false),
            (r#"{"answer":{"item":"q2","op":">=","value":3}}"#, true),
            (r#"{"answer":{"item":"q2","op":">","value":3}}"#, false),
            (r#"{"any_answer":{"op":"==","value":3}}"#, true),
            (r#"{"total":{"op":"==","value":4}}"#, true),
            (r#"{"total":{"instrument":"y","op":">=","value":0}}"#, false),
            (r#"{"flag":"up"}"#, true),
            (r#"{"flag":"down"}"#, false),
            (r#"{"fact":{"fact":"age","op":"<","value":21}}"#, true),
            (r#"{"fact":{"fact":"sex","value":"female"}}"#, true),
            (
                r#"{"fact":{"fact":"sex","op":"!=","value":"female"}}"#,
                false,
            ),
            (r#"{"fact":{"fact":"unknown","value":1}}"#, false),
            (r#"{"cell":"high_high"}"#, true),
            (r#"{"all":[]}"#, true),
            (r#"{"any":[]}"#, false),
            (r#"{"not":{"flag":"down"}}"#, true),
            (
                r#"{"all":[{"flag":"up"},{"any":[{"flag":"down"},{"yes":{"item":"q1"}}]}]}"#,
                true,
            ),
        ];
        for (src, want) in cases {
            assert_eq!(parse(src).eval(&c, "x"), want, "{src}");
        }
    }

    #[test]
    fn unknown_operator_is_rejected() {
        assert!(serde_json::from_str::<Condition>(r#"{"frobnicate":1}"#).is_err());
        assert!(
            serde_json::from_str::<Condition>(r#"{"answer":{"item":"q","op":"~","value":1}}"#)
                .is_err()
        );
    }
}
