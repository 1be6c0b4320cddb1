//! One synthetic encounter, built through the real domain code: a caller with latent levels of
//! need, every answer they would give, skip logic and scoring by `score_all` (inside
//! `Definitions::outcome`), placement, triage, deadlines and programs by `Definitions::outcome`.
//! Works with whatever instruments the definitions contain; what it knows about them it reads
//! from their bands, flags and weights (see [`Plan`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use rand::Rng;
use serde::Serialize;

use super::caller::{self, Vocab};
use crate::domain::Definitions;
use crate::domain::condition::Condition;
use crate::domain::instrument::{Instrument, Item, ItemKind, ScoringMethod};
use crate::domain::outcome::{Intake, OutcomeInput, ProgramMatch};
use crate::domain::placement::{Decision, Placement, Triage};
use crate::domain::quadrant::{CellId, Level};
use crate::domain::scoring::{AnswerValue, Answers, Evaluation, score_all};
use crate::domain::timeliness::Due;
use crate::store::encounters::payload_sha256;
use crate::store::model::Summary;

/// How unwell one caller is on each axis, as standard-normal scores (0 = the line's typical
/// caller, +1 = worse than 84 % of callers). Suicide risk and substance use both rise with
/// mental-health severity.
#[derive(Debug, Clone, Copy)]
pub(super) struct Profile {
    pub mh: f64,
    pub sud: f64,
    pub risk: f64,
}

impl Profile {
    fn draw<R: Rng>(rng: &mut R) -> Profile {
        let mh = normal(rng);
        Profile {
            mh,
            risk: 0.5 * mh + 0.75f64.sqrt() * normal(rng),
            sud: 0.2 * mh + 0.96f64.sqrt() * normal(rng),
        }
    }

    fn level(&self, axis: Axis) -> f64 {
        match axis {
            Axis::Risk => self.risk,
            Axis::Mh => self.mh,
            Axis::Sud => self.sud,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Risk,
    Mh,
    Sud,
}

impl Axis {
    /// How much an item on this axis follows the caller's level rather than chance: risk items
    /// are strongly nested (nearly everyone with a plan also has the thoughts), symptom items
    /// less so.
    fn loading(self) -> f64 {
        match self {
            Axis::Risk => 0.7,
            Axis::Mh => 0.65,
            Axis::Sud => 0.85,
        }
    }
}

/// Share of callers who answer "yes" to a risk item, by the severity of what it raises: the
/// most severe band or flag of its instrument whose rule names the item (a crisis flag counts
/// as 4). So C-SSRS Q1–Q2 (low risk) are common, Q3 and lifetime behaviour (moderate) rarer,
/// Q4, Q5, recent behaviour and the imminent-danger questions (crisis) rarer still; a PHQ-9
/// item 9 answer above 0 (a non-crisis flag) comes in about one call in ten.
fn risk_rate(severity: u8) -> f64 {
    match severity {
        4.. => 0.012,
        3 => 0.055,
        2 => 0.105,
        _ => 0.13,
    }
}

/// Share of callers who answer "yes" to a yes/no item off the risk axis. Items worth more
/// points in a screening tool describe rarer situations; unscored mental-health history items
/// each decide the highest placement level on their own, so they are rare.
fn yes_rate(axis: Axis, weight: Option<i64>) -> f64 {
    match (axis, weight) {
        (Axis::Sud, _) => 0.09,
        (_, None) => 0.028,
        (_, Some(w)) if w >= 3 => 0.05,
        (_, Some(2)) => 0.16,
        _ => 0.30,
    }
}

/// Share of callers at or above each answer level of a choice item (level 1, 2, ...): symptom
/// frequencies on the MH axis (the line's callers are distressed: the median PHQ-9 total is
/// about 9), consumption and ASAM ratings on the SUD axis, and risk answers halving per level.
fn choice_rates(axis: Axis, risk_severity: u8, levels: usize) -> Vec<f64> {
    let rates: Vec<f64> = match axis {
        Axis::Mh => vec![0.62, 0.36, 0.17, 0.065],
        Axis::Sud => vec![0.3, 0.14, 0.05, 0.016],
        Axis::Risk => {
            let first = risk_rate(risk_severity);
            (0..levels).map(|k| first / f64::from(1 << k)).collect()
        }
    };
    (0..levels)
        .map(|k| {
            rates
                .get(k)
                .copied()
                .unwrap_or(rates[rates.len() - 1] / 2.0)
        })
        .collect()
}

struct PlanItem {
    id: String,
    axis: Axis,
    /// Latent cut-offs, ascending: the answer is the number of cut-offs the item's latent
    /// value exceeds (for yes/no items, 1 = the scored "yes", or "no" when reverse-scored).
    cuts: Vec<f64>,
    /// Choice values in order of score; empty for yes/no items.
    values: Vec<i64>,
    /// "Yes" scores lower than "no" (DAST-10 item 3).
    reverse: bool,
    /// Which of the caller's chance draws this item uses: the same yes/no question asked by
    /// two instruments (hospitalization in the DHCS tool and the MH history) shares one, so
    /// the caller gives the same answer twice.
    chance: usize,
}

struct PlanInstrument {
    id: String,
    step: String,
    items: Vec<PlanItem>,
}

/// How to answer each item of the definitions, worked out once from them:
/// - an item goes on the **risk** axis when it is in the safety step or a band or flag of its
///   instrument names it (PHQ-9 item 9, the DHCS safety questions), on the **SUD** axis when
///   it or its instrument is substance-use content, else on the **MH** axis;
/// - its answer follows the caller's level on that axis, with the rates above: each item's
///   latent value is `loading × level + √(1 − loading²) × chance`, both standard normal, cut at
///   the normal quantiles of the item's target rates.
pub(super) struct Plan {
    instruments: Vec<PlanInstrument>,
    chances: usize,
    pub vocab: Vocab,
}

/// Does `c` name `item` of `inst` (in a `yes`, `no` or `answer` test)?
fn names(c: &Condition, inst: &Instrument, item: &Item) -> bool {
    let mut refs = Vec::new();
    c.item_refs(&inst.id, &mut refs);
    refs.iter().any(|(i, it)| *i == inst.id && *it == item.id)
}

/// The most severe band or flag of the instrument whose rule names the item.
fn risk_severity(inst: &Instrument, item: &Item) -> Option<u8> {
    let bands = inst
        .bands
        .iter()
        .filter(|b| b.when.as_ref().is_some_and(|c| names(c, inst, item)))
        .map(|b| b.severity);
    let flags = inst
        .flags
        .iter()
        .filter(|f| names(&f.when, inst, item))
        .map(|f| if f.crisis { 4 } else { 2 });
    bands.chain(flags).max()
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
        // First pass: axis and target rates of every item.
        let mut shared: Vec<(Axis, String, Vec<f64>)> = Vec::new();
        let mut instruments = Vec::new();
        for inst in defs.instruments_in_order() {
            let step = step_of(&inst.id).to_owned();
            let mut items = Vec::new();
            for item in &inst.items {
                let severity = risk_severity(inst, item);
                let axis = if step == "safety" || severity.is_some() {
                    Axis::Risk
                } else if inst.sud || item.sud {
                    Axis::Sud
                } else {
                    Axis::Mh
                };
                let severity = severity.unwrap_or(1);
                let (rates, values, reverse) = match item.kind {
                    ItemKind::YesNo => {
                        let weight = (inst.scoring.method == ScoringMethod::Sum && item.scored)
                            .then(|| item.yes_score.unwrap_or(1));
                        let rate = match axis {
                            Axis::Risk => risk_rate(severity),
                            _ => yes_rate(axis, weight),
                        };
                        let reverse = item.yes_score.unwrap_or(1) < item.no_score.unwrap_or(0);
                        (vec![rate], Vec::new(), reverse)
                    }
                    ItemKind::Choice => {
                        let mut opts: Vec<_> = inst
                            .options_of(item)
                            .iter()
                            .map(|o| (o.score, o.value))
                            .collect();
                        opts.sort();
                        let levels = opts.len().saturating_sub(1);
                        let values = opts.into_iter().map(|(_, v)| v).collect();
                        (choice_rates(axis, severity, levels), values, false)
                    }
                };
                // The same yes/no question in two instruments: one rate (the rarer), one draw.
                let share = (item.kind == ItemKind::YesNo).then(|| {
                    match shared
                        .iter()
                        .position(|(a, id, _)| *a == axis && *id == item.id)
                    {
                        Some(at) => {
                            shared[at].2[0] = shared[at].2[0].min(rates[0]);
                            at
                        }
                        None => {
                            shared.push((axis, item.id.clone(), rates.clone()));
                            shared.len() - 1
                        }
                    }
                });
                items.push((item.id.clone(), axis, rates, values, reverse, share));
            }
            instruments.push((inst.id.clone(), step, items));
        }
        // Second pass: cut-offs; shared questions use the shared rate and draw, every other
        // item a draw of its own after those.
        let mut chances = shared.len();
        let instruments = instruments
            .into_iter()
            .map(|(id, step, items)| PlanInstrument {
                id,
                step,
                items: items
                    .into_iter()
                    .map(|(id, axis, rates, values, reverse, share)| {
                        let (rates, chance) = match share {
                            Some(at) => (shared[at].2.clone(), at),
                            None => {
                                chances += 1;
                                (rates, chances - 1)
                            }
                        };
                        PlanItem {
                            id,
                            axis,
                            cuts: rates.iter().map(|p| probit(1.0 - p)).collect(),
                            values,
                            reverse,
                            chance,
                        }
                    })
                    .collect(),
            })
            .collect();
        Plan {
            instruments,
            chances,
            vocab: Vocab::new(defs),
        }
    }

    /// An answer for every item, shown or not; skip logic decides later which count.
    fn answer_all<R: Rng>(&self, p: &Profile, rng: &mut R) -> Answers {
        let chance: Vec<f64> = (0..self.chances).map(|_| normal(rng)).collect();
        let mut answers = Answers::new();
        for inst in &self.instruments {
            let given = answers.entry(inst.id.clone()).or_default();
            for item in &inst.items {
                let l = item.axis.loading();
                let latent = l * p.level(item.axis) + (1.0 - l * l).sqrt() * chance[item.chance];
                let level = item.cuts.iter().filter(|c| latent > **c).count();
                let value = if item.values.is_empty() {
                    AnswerValue::Bool((level > 0) != item.reverse)
                } else {
                    AnswerValue::Int(item.values[level.min(item.values.len() - 1)])
                };
                given.insert(item.id.clone(), value);
            }
        }
        answers
    }
}

/// A standard normal draw (Box–Muller).
fn normal<R: Rng>(rng: &mut R) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

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
    fn probit_inverts_the_normal_cdf() {
        for (p, z) in [
            (0.5, 0.0),
            (0.841_344_7, 1.0),
            (0.975, 1.959_964),
            (0.01, -2.326_348),
        ] {
            assert!((probit(p) - z).abs() < 1e-5, "{p}: {}", probit(p));
        }
    }

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

    #[test]
    fn risk_items_are_found_from_bands_and_flags() {
        let defs = Definitions::builtin().unwrap();
        let plan = Plan::new(&defs);
        let axis = |inst: &str, item: &str| {
            plan.instruments
                .iter()
                .find(|i| i.id == inst)
                .and_then(|i| i.items.iter().find(|x| x.id == item))
                .map(|x| x.axis)
        };
        assert_eq!(axis("phq9", "q9"), Some(Axis::Risk));
        assert_eq!(axis("phq9", "q1"), Some(Axis::Mh));
        assert_eq!(axis("dhcs_adult", "safety_mh"), Some(Axis::Risk));
        assert_eq!(axis("dhcs_adult", "impairment"), Some(Axis::Mh));
        assert_eq!(axis("cssrs_screen", "q4"), Some(Axis::Risk));
        assert_eq!(axis("dast10", "q1"), Some(Axis::Sud));
        assert_eq!(axis("auditc", "q1"), Some(Axis::Sud));
    }
}
