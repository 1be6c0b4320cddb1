//! One synthetic encounter, built through the real domain code: intake and answers from a
//! latent caller profile, skip logic and scoring by `score_all`, the outcome by
//! `Definitions::outcome`. Works with whatever instruments the definitions contain.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};
use rand::Rng;
use serde::Serialize;

use super::caller::{self, Vocab};
use crate::domain::Definitions;
use crate::domain::instrument::ItemKind;
use crate::domain::outcome::{Intake, Outcome, OutcomeInput};
use crate::domain::quadrant::{CellId, Level};
use crate::domain::scoring::{AnswerValue, Answers, score_all};
use crate::store::model::Summary;

/// How unwell the caller is on each axis, 0 (not at all) to 1 (most).
#[derive(Debug, Clone, Copy)]
pub(super) struct Profile {
    pub mh: f64,
    pub sud: f64,
    pub risk: f64,
}

impl Profile {
    fn draw<R: Rng>(rng: &mut R) -> Profile {
        let band = |rng: &mut R, cuts: &[(u32, f64, f64)]| {
            let mut x = rng.random_range(0..100);
            for (w, lo, hi) in cuts {
                if x < *w {
                    return rng.random_range(*lo..*hi);
                }
                x -= w;
            }
            0.0
        };
        Profile {
            mh: band(rng, &[(50, 0.0, 0.35), (30, 0.35, 0.7), (20, 0.7, 1.0)]),
            sud: band(rng, &[(55, 0.0, 0.2), (28, 0.2, 0.6), (17, 0.6, 1.0)]),
            risk: band(
                rng,
                &[
                    (60, 0.0, 0.2),
                    (15, 0.2, 0.45),
                    (12, 0.45, 0.65),
                    (8, 0.65, 0.85),
                    (5, 0.85, 1.0),
                ],
            ),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Axis {
    Risk,
    Mh,
    Sud,
}

struct PlanItem {
    id: String,
    axis: Axis,
    kind: ItemKind,
    /// Choice values, lowest score first.
    values: Vec<i64>,
    /// "Yes" scores lower than "no" (e.g. DAST-10 item 3).
    reverse: bool,
}

struct PlanInstrument {
    id: String,
    step: String,
    items: Vec<PlanItem>,
}

/// How to answer each item of the definitions, worked out once.
pub(super) struct Plan {
    instruments: Vec<PlanInstrument>,
    pub vocab: Vocab,
}

impl Plan {
    pub fn new(defs: &Definitions) -> Plan {
        let step_of = |id: &str| {
            defs.flow
                .steps
                .iter()
                .find(|s| s.instruments.iter().any(|i| i == id))
                .map_or("assessment", |s| s.id.as_str())
        };
        let instruments = defs
            .instruments_in_order()
            .map(|inst| {
                let step = step_of(&inst.id).to_owned();
                let items = inst
                    .items
                    .iter()
                    .map(|item| {
                        let mut opts: Vec<_> = inst
                            .options_of(item)
                            .iter()
                            .map(|o| (o.score, o.value))
                            .collect();
                        opts.sort();
                        PlanItem {
                            id: item.id.clone(),
                            axis: if step == "safety" {
                                Axis::Risk
                            } else if inst.sud || item.sud {
                                Axis::Sud
                            } else {
                                Axis::Mh
                            },
                            kind: item.kind,
                            values: opts.into_iter().map(|(_, v)| v).collect(),
                            reverse: item.yes_score.unwrap_or(1) < item.no_score.unwrap_or(0),
                        }
                    })
                    .collect();
                PlanInstrument {
                    id: inst.id.clone(),
                    step,
                    items,
                }
            })
            .collect();
        Plan {
            instruments,
            vocab: Vocab::new(defs),
        }
    }

    /// An answer for every item, shown or not; skip logic is applied afterwards.
    fn answer_all<R: Rng>(&self, p: &Profile, rng: &mut R) -> Answers {
        let mut answers = Answers::new();
        for inst in &self.instruments {
            let given = answers.entry(inst.id.clone()).or_default();
            for item in &inst.items {
                let latent = match item.axis {
                    Axis::Risk => p.risk,
                    Axis::Mh => p.mh,
                    Axis::Sud => p.sud,
                };
                let value = match item.kind {
                    ItemKind::YesNo => {
                        // Safety and history items (psychosis, hospitalization) are rare below the
                        // top of their axis; substance-use symptoms rise steadily with severity.
                        let chance = match item.axis {
                            Axis::Risk => latent.powi(6),
                            Axis::Mh => 0.01 + 0.5 * latent.powi(3),
                            Axis::Sud => 0.04 + 0.9 * latent * latent,
                        };
                        AnswerValue::Bool(rng.random_bool(chance.clamp(0.0, 1.0)) != item.reverse)
                    }
                    ItemKind::Choice => {
                        let n = item.values.len();
                        let x = latent + rng.random_range(-0.25..0.25);
                        let at =
                            ((x * n as f64).floor().max(0.0) as usize).min(n.saturating_sub(1));
                        AnswerValue::Int(item.values.get(at).copied().unwrap_or(0))
                    }
                };
                given.insert(item.id.clone(), value);
            }
        }
        answers
    }
}

/// Los Angeles local time (US Pacific rules: DST from the second Sunday of March to the first
/// Sunday of November, 2 a.m. local), without a time-zone database.
pub(super) fn pacific(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    let year = t.year();
    let nth_sunday = |month: u32, n: u8| {
        NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n).expect("exists")
    };
    let start = Utc.from_utc_datetime(&nth_sunday(3, 2).and_hms_opt(10, 0, 0).expect("valid"));
    let end = Utc.from_utc_datetime(&nth_sunday(11, 1).and_hms_opt(9, 0, 0).expect("valid"));
    let hours = if (start..end).contains(&t) { -7 } else { -8 };
    t.with_timezone(&FixedOffset::east_opt(hours * 3600).expect("valid offset"))
}

/// The stored payload of a finalized encounter.
#[derive(Serialize)]
struct Payload<'a> {
    schema: &'static str,
    received_at: DateTime<FixedOffset>,
    intake: &'a Intake,
    crisis_opened: bool,
    override_cell: Option<String>,
    override_reason: Option<&'static str>,
    answers: &'a Answers,
    outcome: &'a Outcome,
    referral: Option<serde_json::Value>,
    sud_consent: bool,
    correction: Option<&'static str>,
}

pub(super) const PAYLOAD_SCHEMA: &str = "accessline.encounter/1";

const OVERRIDE_REASONS: &[&str] = &[
    "Caller declines residential care; outpatient with close follow-up agreed.",
    "Recent discharge plan already places caller with this program.",
    "Screener judgment: severity understated by caller, family report is more concerning.",
    "No capacity in the computed cell's programs this week; nearest suitable level chosen.",
];

/// Everything a finished call produces.
pub(super) struct Assessed {
    pub intake: Intake,
    pub answers: Answers,
    /// Shown items in flow order: `(step, instrument, item)`.
    pub shown: Vec<(String, String, String)>,
    pub payload: String,
    pub summary: Summary,
}

pub(super) fn assess<R: Rng>(
    defs: &Definitions,
    plan: &Plan,
    rng: &mut R,
    received_at: DateTime<Utc>,
) -> Assessed {
    let local = pacific(received_at);
    let profile = Profile::draw(rng);
    let intake = caller::intake(rng, &plan.vocab, &profile, local.date_naive());
    let facts = intake.facts(local.date_naive());
    let all = plan.answer_all(&profile, rng);
    // score_all decides which items are shown; answers to hidden items are dropped, so the
    // stored answers are exactly what a screener could have entered.
    let mut flags = BTreeSet::new();
    let mut eval = score_all(defs, &facts, &all, &flags).evaluation(defs);
    let crisis_opened = eval.crisis_flags().next().is_some();
    if crisis_opened {
        flags.insert("crisis_opened".to_owned());
        eval = score_all(defs, &facts, &all, &flags).evaluation(defs);
    }
    let mut answers = Answers::new();
    let mut shown = Vec::new();
    for (r, inst) in eval.results.iter().zip(&plan.instruments) {
        if !r.applies {
            continue;
        }
        let given = answers.entry(r.instrument.clone()).or_default();
        for item in &r.shown {
            if let Some(v) = all.get(&r.instrument).and_then(|a| a.get(item)) {
                given.insert(item.clone(), *v);
                shown.push((inst.step.clone(), r.instrument.clone(), item.clone()));
            }
        }
    }
    let mut input = OutcomeInput {
        intake: &intake,
        answers: &answers,
        crisis_opened,
        received_at: local,
        override_cell: None,
        require_language: false,
        require_area: false,
    };
    let mut outcome = defs.outcome(&input);
    let mut override_reason = None;
    if rng.random_bool(0.07) {
        input.override_cell = Some(neighbour(outcome.placement.cell, rng));
        override_reason = Some(OVERRIDE_REASONS[rng.random_range(0..OVERRIDE_REASONS.len())]);
        outcome = defs.outcome(&input);
    }
    let top = outcome.programs.len().min(3);
    let referral = (top > 0).then(|| &outcome.programs[rng.random_range(0..top)]).map(|m| {
        serde_json::json!({ "service_id": m.service.service_id, "warm_handoff": rng.random_bool(0.4) })
    });
    let summary = Summary::from_outcome(&intake, &outcome, crisis_opened, local);
    let payload = serde_json::to_string(&Payload {
        schema: PAYLOAD_SCHEMA,
        received_at: local,
        intake: &intake,
        crisis_opened,
        override_cell: input.override_cell.map(CellId::id),
        override_reason,
        answers: &answers,
        outcome: &outcome,
        referral,
        sud_consent: rng.random_bool(0.7),
        correction: None,
    })
    .expect("payload serializes");
    Assessed {
        intake,
        answers,
        shown,
        payload,
        summary,
    }
}

/// The same payload with a correction note (an addendum's content).
pub(super) fn corrected(payload: &str, note: &'static str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(payload).expect("our own JSON");
    v["correction"] = serde_json::Value::String(note.to_owned());
    v.to_string()
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
