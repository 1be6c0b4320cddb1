//! One synthetic encounter, built through the real domain code: a caller with latent levels of
//! need, every answer they would give, skip logic and scoring by `score_all` (inside
//! `Definitions::outcome`), placement, triage, deadlines and programs by `Definitions::outcome`.
//! Works with whatever instruments the definitions contain; what it knows about them it reads
//! from their bands, flags and weights (see [`Plan`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use rand::Rng;
use serde::Serialize;

use super::caller;
use super::plan::{Plan, Profile};
use crate::domain::Definitions;
use crate::domain::outcome::{Intake, OutcomeInput, ProgramMatch};
use crate::domain::placement::{Decision, Placement, Triage};
use crate::domain::quadrant::{CellId, Level};
use crate::domain::scoring::{AnswerValue, Answers, Evaluation, score_all};
use crate::domain::timeliness::Due;
use crate::store::encounters::payload_sha256;
use crate::store::model::Summary;

/// The stored payload of a finalized encounter, in the shape the screener's application
/// stores (`tui::call::Call::payload`, read back by the record screen): what was asked and
/// answered, what the domain decided, and what the screener did. `correction` stays last (see
/// [`corrected`]).
#[derive(Serialize)]
struct Payload<'a> {
    schema: &'static str,
    received_at: DateTime<FixedOffset>,
    intake: &'a Intake,
    crisis: Crisis,
    crisis_opened: bool,
    override_cell: Option<String>,
    override_reason: Option<&'static str>,
    answers: ShownAnswers<'a>,
    outcome: Recorded<'a>,
    referrals: Vec<Referral<'a>>,
    notices: Vec<&'static str>,
    sud_consent: &'static str,
    correction: Option<&'static str>,
}

/// The crisis protocol as recorded: when it was opened and when each action was taken (the
/// application's action ids).
#[derive(Serialize)]
struct Crisis {
    opened: bool,
    opened_at: Option<DateTime<Utc>>,
    actions: BTreeMap<&'static str, DateTime<Utc>>,
}

/// The outcome as recorded: every score, flag, reason and deadline the domain produced; of the
/// matching programs only the one referred to (with its due date), and not the help lines (the
/// same fixed list for every call, named by the directory version stamped on the row). Reads
/// back as a `domain::outcome::Outcome`.
#[derive(Serialize)]
struct Recorded<'a> {
    age: Option<u32>,
    service_area: Option<u8>,
    evaluation: &'a Evaluation,
    crisis_indicated: bool,
    placement: &'a Placement,
    chosen_cell: CellId,
    triage: &'a Decision<Triage>,
    deadlines: &'a [Due],
    programs: &'a [ProgramMatch],
    programs_matched: usize,
}

#[derive(Serialize)]
struct Referral<'a> {
    service_id: &'a str,
    warm_handoff: bool,
}

/// Crisis actions (the application's ids) and how often a screener takes each.
const CRISIS_ACTIONS: &[(&str, f64)] = &[
    ("connected_988", 0.7),
    ("mobile_response", 0.4),
    ("called_911", 0.25),
];
/// Notices (the application's ids) and how often each is given.
const NOTICES: &[(&str, f64)] = &[
    ("handbook", 0.5),
    ("provider_directory", 0.6),
    ("grievance_rights", 0.3),
];

pub(super) const PAYLOAD_SCHEMA: &str = "accessline.encounter/1";

const OVERRIDE_REASONS: &[&str] = &[
    "Caller declines residential care; outpatient with close follow-up agreed.",
    "Recent discharge plan already places caller with this program.",
    "Screener judgment: severity understated by caller, family report is more concerning.",
    "No capacity in the computed cell's programs this week; nearest suitable level chosen.",
];

/// A caller: who they are and every answer they would give.
pub(super) struct Caller {
    pub intake: Intake,
    all: Answers,
    local: DateTime<FixedOffset>,
}

pub(super) fn caller<R: Rng>(plan: &Plan, rng: &mut R, received_at: DateTime<Utc>) -> Caller {
    let local = crate::domain::clock::county_time(received_at);
    let profile = Profile::draw(rng);
    let intake = caller::intake(rng, &plan.vocab, &profile, local.date_naive());
    let all = plan.answer_all(&profile, rng);
    Caller { intake, all, local }
}

/// The items a screener would be shown, in flow order, with the caller's answers:
/// `(step, instrument, item, answer)`. Skip logic is `score_all`'s.
pub(super) fn shown<'p>(
    defs: &Definitions,
    plan: &'p Plan,
    c: &Caller,
) -> Vec<(&'p str, &'p str, &'p str, AnswerValue)> {
    let facts = c.intake.facts(c.local.date_naive());
    let eval = score_all(defs, &facts, &c.all, &Default::default());
    let mut out = Vec::new();
    for inst in &plan.instruments {
        let Some(r) = eval.results.get(&inst.id).filter(|r| r.applies) else {
            continue;
        };
        for item in &inst.items {
            if r.shown.contains(&item.id) {
                out.push((
                    inst.step.as_str(),
                    inst.id.as_str(),
                    item.id.as_str(),
                    c.all[&inst.id][&item.id],
                ));
            }
        }
    }
    out
}

/// What the dashboard reads from a payload (`dashboard_fact`, migration 0005), known here
/// without parsing it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DashboardFacts {
    pub interpreter: bool,
    pub warm_handoff: bool,
    pub crisis_actions: usize,
}

/// A finished call, ready to store.
pub(super) struct Assessed {
    pub payload: String,
    pub sha256: String,
    pub summary: Summary,
    pub facts: DashboardFacts,
    #[cfg(test)]
    pub outcome: crate::domain::outcome::Outcome,
}

/// Assess a call: one `Definitions::outcome` (two if the answers open the crisis protocol, and
/// one more for a screener's override), the answers to hidden items dropped.
pub(super) fn assess<R: Rng>(defs: &Definitions, rng: &mut R, c: Caller) -> Assessed {
    // `score_all` only ever reads answers to shown items, so the outcome of every answer the
    // caller would give is the outcome of the answers a screener records (tested).
    let mut input = OutcomeInput {
        intake: &c.intake,
        answers: &c.all,
        crisis_opened: false,
        received_at: c.local,
        override_cell: None,
        require_language: false,
        require_area: false,
    };
    let mut outcome = defs.outcome(&input);
    if outcome.crisis_indicated {
        // The screener opens the crisis protocol, which the outcome records.
        input.crisis_opened = true;
        outcome = defs.outcome(&input);
    }
    let mut override_reason = None;
    if rng.random_bool(0.07) {
        input.override_cell = Some(neighbour(outcome.placement.cell, rng));
        override_reason = Some(OVERRIDE_REASONS[rng.random_range(0..OVERRIDE_REASONS.len())]);
        outcome = defs.outcome(&input);
    }
    // The screener refers to one of the first few programs listed.
    let top = outcome.programs.len().min(3);
    let referred = match top {
        0 => &[][..],
        _ => std::slice::from_ref(&outcome.programs[rng.random_range(0..top)]),
    };
    let referrals: Vec<Referral<'_>> = referred
        .iter()
        .map(|m| Referral {
            service_id: &m.service.service_id,
            warm_handoff: rng.random_bool(0.4),
        })
        .collect();
    let at = c.local.with_timezone(&Utc);
    let crisis = if input.crisis_opened {
        let opened_at = at + minutes(rng, 1, 4);
        let mut actions = BTreeMap::new();
        for (id, p) in CRISIS_ACTIONS {
            if rng.random_bool(*p) {
                actions.insert(*id, opened_at + minutes(rng, 1, 10));
            }
        }
        if actions.is_empty() {
            actions.insert(CRISIS_ACTIONS[0].0, opened_at + minutes(rng, 1, 10));
        }
        Crisis {
            opened: true,
            opened_at: Some(opened_at),
            actions,
        }
    } else {
        Crisis {
            opened: false,
            opened_at: None,
            actions: BTreeMap::new(),
        }
    };
    let notices = NOTICES
        .iter()
        .filter(|(_, p)| rng.random_bool(*p))
        .map(|(id, _)| *id)
        .collect();
    let sud_consent = match rng.random_range(0..100) {
        0..60 => "given",
        60..75 => "declined",
        _ => "not_asked",
    };
    let summary = Summary::from_outcome(&c.intake, &outcome, input.crisis_opened, c.local);
    let facts = DashboardFacts {
        interpreter: c.intake.interpreter,
        warm_handoff: referrals.iter().any(|r| r.warm_handoff),
        crisis_actions: crisis.actions.len(),
    };
    let payload = serde_json::to_string(&Payload {
        schema: PAYLOAD_SCHEMA,
        received_at: c.local,
        intake: &c.intake,
        crisis,
        crisis_opened: input.crisis_opened,
        override_cell: input.override_cell.map(CellId::id),
        override_reason,
        answers: ShownAnswers {
            all: &c.all,
            eval: &outcome.evaluation,
        },
        outcome: Recorded {
            age: outcome.age,
            service_area: outcome.service_area,
            evaluation: &outcome.evaluation,
            crisis_indicated: outcome.crisis_indicated,
            placement: &outcome.placement,
            chosen_cell: outcome.chosen_cell,
            triage: &outcome.triage,
            deadlines: &outcome.deadlines,
            programs: referred,
            programs_matched: outcome.programs.len(),
        },
        referrals,
        notices,
        sud_consent,
        correction: None,
    })
    .expect("payload serializes");
    Assessed {
        sha256: payload_sha256(&payload),
        payload,
        summary,
        facts,
        #[cfg(test)]
        outcome,
    }
}

/// The answers a screener records: those to the items the evaluation showed, in the
/// instruments that apply (`instrument → item → answer`, in flow and item order). Serialized
/// straight from the caller's answers, without building the map.
struct ShownAnswers<'a> {
    all: &'a Answers,
    eval: &'a Evaluation,
}

impl ShownAnswers<'_> {
    fn instruments(&self) -> impl Iterator<Item = (&String, ShownItems<'_>)> {
        self.eval
            .results
            .iter()
            .filter(|r| r.applies)
            .filter_map(|r| {
                let given = self.all.get(&r.instrument)?;
                Some((
                    &r.instrument,
                    ShownItems {
                        given,
                        shown: &r.shown,
                    },
                ))
            })
    }

    #[cfg(test)]
    fn to_answers(&self) -> Answers {
        self.instruments()
            .map(|(id, items)| {
                let kept = items.items().map(|(k, v)| (k.clone(), *v)).collect();
                (id.clone(), kept)
            })
            .collect()
    }
}

struct ShownItems<'a> {
    given: &'a BTreeMap<String, AnswerValue>,
    shown: &'a [String],
}

impl ShownItems<'_> {
    fn items(&self) -> impl Iterator<Item = (&String, &AnswerValue)> {
        self.shown
            .iter()
            .filter_map(|item| self.given.get(item).map(|v| (item, v)))
    }
}

impl Serialize for ShownAnswers<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.instruments())
    }
}

impl Serialize for ShownItems<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.items())
    }
}

/// The same payload with a correction note (an addendum's content): `correction` is the last
/// field, so it is replaced in place instead of parsing the payload again.
pub(super) fn corrected(payload: &str, note: &'static str) -> String {
    let head = payload
        .strip_suffix("null}")
        .filter(|h| h.ends_with("\"correction\":"))
        .expect("a payload ends with its correction");
    let note = serde_json::to_string(note).expect("a string serializes");
    let mut out = String::with_capacity(head.len() + note.len() + 1);
    out.push_str(head);
    out.push_str(&note);
    out.push('}');
    out
}

/// A cell one step away on one axis (a screener's override).
fn neighbour<R: Rng>(cell: CellId, rng: &mut R) -> CellId {
    let step = |l: Level, up: bool| match (l, up) {
        (Level::Low, _) => Level::Moderate,
        (Level::High, _) => Level::Moderate,
        (Level::Moderate, true) => Level::High,
        (Level::Moderate, false) => Level::Low,
    };
    if rng.random_bool(0.5) {
        CellId {
            mh: step(cell.mh, rng.random_bool(0.5)),
            ..cell
        }
    } else {
        CellId {
            acuity: step(cell.acuity, rng.random_bool(0.5)),
            ..cell
        }
    }
}

pub(super) fn minutes<R: Rng>(rng: &mut R, lo: i64, hi: i64) -> Duration {
    Duration::seconds(rng.random_range(lo * 60..hi * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_of_all_answers_is_the_outcome_of_the_shown_ones() {
        use rand::SeedableRng;
        let defs = Definitions::builtin().unwrap();
        let plan = Plan::new(&defs);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for i in 0..300 {
            let at = super::super::base_time() + Duration::minutes(i);
            let c = caller(&plan, &mut rng, at);
            let (intake, local, all) = (c.intake.clone(), c.local, c.all.clone());
            let assessed = assess(&defs, &mut rng, c);
            let outcome = assessed.outcome;
            // The record screen reads the stored outcome back as an `Outcome`.
            let stored: serde_json::Value = serde_json::from_str(&assessed.payload).unwrap();
            let read: crate::domain::outcome::Outcome =
                serde_json::from_value(stored["outcome"].clone()).unwrap();
            assert_eq!(
                (
                    &read.evaluation,
                    &read.placement,
                    &read.triage,
                    &read.deadlines
                ),
                (
                    &outcome.evaluation,
                    &outcome.placement,
                    &outcome.triage,
                    &outcome.deadlines
                )
            );
            assert!(read.programs.len() <= 1 && read.help_lines.is_empty());
            let answers = ShownAnswers {
                all: &all,
                eval: &outcome.evaluation,
            }
            .to_answers();
            let stored: serde_json::Value = serde_json::to_value(ShownAnswers {
                all: &all,
                eval: &outcome.evaluation,
            })
            .unwrap();
            assert_eq!(stored, serde_json::to_value(&answers).unwrap());
            let again = defs.outcome(&OutcomeInput {
                intake: &intake,
                answers: &answers,
                crisis_opened: outcome.evaluation.flags.contains("crisis_opened"),
                received_at: local,
                override_cell: Some(outcome.chosen_cell),
                require_language: false,
                require_area: false,
            });
            assert_eq!(again, outcome, "call {i}");
        }
    }
}
