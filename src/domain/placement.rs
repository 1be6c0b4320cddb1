//! Placement on the 9-quadrant grid and triage urgency, from the rules in `assets/placement.json`.
//!
//! Each axis is a list of levels, most severe first, each with rules. The chosen level is the
//! first with a rule that fired; every rule that fired on any level is kept as a reason.

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use super::instrument::Source;
use super::quadrant::{CellId, Level};
use super::scoring::EvalContext;

/// Triage urgency, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Triage {
    Emergent,
    Urgent,
    Routine,
}

impl Triage {
    pub fn as_str(self) -> &'static str {
        match self {
            Triage::Emergent => "emergent",
            Triage::Urgent => "urgent",
            Triage::Routine => "routine",
        }
    }
}

impl std::fmt::Display for Triage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub reason: String,
    pub when: Condition,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleLevel<L> {
    pub level: L,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet<L> {
    pub default: L,
    pub default_reason: String,
    pub levels: Vec<RuleLevel<L>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementRules {
    pub id: String,
    pub version: String,
    pub source: Source,
    pub mh_severity: RuleSet<Level>,
    pub addiction_acuity: RuleSet<Level>,
    pub triage: RuleSet<Triage>,
}

/// A rule that fired, kept as a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub rule: String,
    pub level: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision<L> {
    pub level: L,
    /// Every rule that fired, most severe level first; the default reason when none fired.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub mh_severity: Decision<Level>,
    pub addiction_acuity: Decision<Level>,
    pub cell: CellId,
}

impl<L: Copy + Serialize> RuleSet<L> {
    /// Apply the rules: first level with a fired rule wins; all fired rules are reasons.
    pub fn decide(&self, ctx: &EvalContext<'_>) -> Decision<L> {
        let mut chosen = None;
        let mut reasons = Vec::new();
        for lvl in &self.levels {
            for rule in &lvl.rules {
                if rule.when.eval(ctx, "") {
                    chosen.get_or_insert(lvl.level);
                    reasons.push(Reason {
                        rule: rule.id.clone(),
                        level: level_name(&lvl.level),
                        reason: rule.reason.clone(),
                    });
                }
            }
        }
        let level = chosen.unwrap_or(self.default);
        if reasons.is_empty() {
            reasons.push(Reason {
                rule: "default".to_owned(),
                level: level_name(&level),
                reason: self.default_reason.clone(),
            });
        }
        Decision { level, reasons }
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.levels.iter().flat_map(|l| l.rules.iter())
    }
}

fn level_name<L: Serialize>(l: &L) -> String {
    serde_json::to_value(l)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl PlacementRules {
    /// The computed cell from the scored instruments.
    pub fn place(&self, ctx: &EvalContext<'_>) -> Placement {
        let mh_severity = self.mh_severity.decide(ctx);
        let addiction_acuity = self.addiction_acuity.decide(ctx);
        let cell = CellId {
            mh: mh_severity.level,
            acuity: addiction_acuity.level,
        };
        Placement {
            mh_severity,
            addiction_acuity,
            cell,
        }
    }

    /// Triage urgency, given the cell the encounter is placed in (computed or overridden).
    pub fn triage(&self, ctx: &mut EvalContext<'_>, cell: CellId) -> Decision<Triage> {
        ctx.cell = Some(cell.id());
        self.triage.decide(ctx)
    }

    /// Triage for a placement the screener may have overridden: the more urgent of the
    /// computed and the chosen cell's decisions, so an override can raise urgency but never
    /// lower it.
    pub fn triage_with_override(
        &self,
        ctx: &mut EvalContext<'_>,
        computed: CellId,
        chosen: CellId,
    ) -> Decision<Triage> {
        let by_chosen = self.triage(ctx, chosen);
        if chosen == computed {
            return by_chosen;
        }
        let by_computed = self.triage(ctx, computed);
        ctx.cell = Some(chosen.id());
        // Triage orders most urgent first.
        if by_computed.level < by_chosen.level {
            by_computed
        } else {
            by_chosen
        }
    }

    pub fn all_rules(&self) -> impl Iterator<Item = &Rule> {
        self.mh_severity
            .rules()
            .chain(self.addiction_acuity.rules())
            .chain(self.triage.rules())
    }
}
