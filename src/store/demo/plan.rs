//! Who the synthetic caller is and what they would answer: latent levels of need per axis,
//! and for every item of every instrument the chance of each answer, read from the
//! instruments' own bands, flags and weights (see [`Plan`]).

use rand::Rng;

use super::caller::Vocab;
use crate::domain::Definitions;
use crate::domain::condition::Condition;
use crate::domain::instrument::{Instrument, Item, ItemKind, ScoringMethod};
use crate::domain::scoring::{AnswerValue, Answers};

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
    pub(super) fn draw<R: Rng>(rng: &mut R) -> Profile {
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

pub(super) struct PlanItem {
    pub(super) id: String,
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

pub(super) struct PlanInstrument {
    pub(super) id: String,
    pub(super) step: String,
    pub(super) items: Vec<PlanItem>,
}

/// How to answer each item of the definitions, worked out once from them:
/// - an item goes on the **risk** axis when it is in the safety step or a band or flag of its
///   instrument names it (PHQ-9 item 9, the DHCS safety questions), on the **SUD** axis when
///   it or its instrument is substance-use content, else on the **MH** axis;
/// - its answer follows the caller's level on that axis, with the rates above: each item's
///   latent value is `loading × level + √(1 − loading²) × chance`, both standard normal, cut at
///   the normal quantiles of the item's target rates.
pub(super) struct Plan {
    pub(super) instruments: Vec<PlanInstrument>,
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
    pub(super) fn answer_all<R: Rng>(&self, p: &Profile, rng: &mut R) -> Answers {
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
