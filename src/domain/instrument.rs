//! Instrument definitions (read from `assets/instruments/*.json`) and their validation.

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use super::error::DefinitionError;

/// Where a definition comes from: every clinical file carries one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub citation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How an item is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// Answered `true`/`false`; scored through `yes_score` / `no_score`.
    YesNo,
    /// Answered with one option's `value` (an integer); scored through the option's `score`.
    Choice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    pub value: i64,
    pub label: String,
    pub score: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loinc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub text: String,
    pub kind: ItemKind,
    /// For `choice` items: the name of an entry of the instrument's `option_sets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
    /// For `yes_no` items: points for "yes" (default 1) and "no" (default 0).
    /// DAST-10 item 3 is reverse-scored with `yes_score: 0, no_score: 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yes_score: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_score: Option<i64>,
    /// Counted in the total (default true).
    #[serde(default = "yes")]
    pub scored: bool,
    /// Must be answered when shown (default true).
    #[serde(default = "yes")]
    pub required: bool,
    /// Skip logic: the item is shown (and may be answered) only when this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    /// Prompts shown to the screener (e.g. ASAM dimension questions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loinc: Option<String>,
    /// Marks 42 CFR Part 2 substance-use content at item level when the instrument is mixed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sud: bool,
}

fn yes() -> bool {
    true
}

/// A band (or risk level). Either a total range (`min`..=`max`) or a rule (`when`); the first
/// band that matches wins, so rule bands are listed from most to least severe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Severity rank used for display colour: 0 none … 4 severe.
    #[serde(default)]
    pub severity: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagRule {
    pub id: String,
    pub message: String,
    pub when: Condition,
    /// Opens the crisis protocol when raised.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub crisis: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// `sum` of item scores, or `none` (result comes from rule bands only).
    pub method: ScoringMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loinc: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringMethod {
    Sum,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    pub id: String,
    pub version: String,
    pub title: String,
    pub short_title: String,
    pub source: Source,
    /// Instructions read to the caller or the screener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Instrument-level skip logic (e.g. adult vs youth tool by age).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_if: Option<Condition>,
    /// Must be completed before finalize when it applies.
    #[serde(default)]
    pub required: bool,
    /// Substance-use content (42 CFR Part 2): withheld from exports without consent.
    #[serde(default)]
    pub sud: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loinc_panel: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub option_sets: std::collections::BTreeMap<String, Vec<AnswerOption>>,
    pub items: Vec<Item>,
    pub scoring: Scoring,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<Band>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<FlagRule>,
}

impl Instrument {
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn options_of(&self, item: &Item) -> &[AnswerOption] {
        item.options
            .as_deref()
            .and_then(|name| self.option_sets.get(name))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Score of one answer value (`1`/`0` for yes/no), `None` if the value is not allowed.
    pub fn score_of(&self, item: &Item, value: i64) -> Option<i64> {
        match item.kind {
            ItemKind::YesNo => match value {
                1 => Some(item.yes_score.unwrap_or(1)),
                0 => Some(item.no_score.unwrap_or(0)),
                _ => None,
            },
            ItemKind::Choice => self
                .options_of(item)
                .iter()
                .find(|o| o.value == value)
                .map(|o| o.score),
        }
    }

    /// Highest possible total, from the definition (used to check `scoring.max`).
    fn computed_max(&self) -> i64 {
        self.items
            .iter()
            .filter(|i| i.scored)
            .map(|i| match i.kind {
                ItemKind::YesNo => i.yes_score.unwrap_or(1).max(i.no_score.unwrap_or(0)),
                ItemKind::Choice => self
                    .options_of(i)
                    .iter()
                    .map(|o| o.score)
                    .max()
                    .unwrap_or(0),
            })
            .sum()
    }

    /// Check the definition's internal consistency. `file` names the file in errors.
    pub fn validate(&self, file: &str) -> Result<(), DefinitionError> {
        let err = |field: String, problem: String| DefinitionError::Invalid {
            file: file.to_owned(),
            field,
            problem,
        };
        if self.id.trim().is_empty() {
            return Err(err("id".into(), "must not be empty".into()));
        }
        if self.version.trim().is_empty() {
            return Err(err("version".into(), "must not be empty".into()));
        }
        if self.source.citation.trim().is_empty() {
            return Err(err("source.citation".into(), "must not be empty".into()));
        }
        if self.items.is_empty() {
            return Err(err("items".into(), "must list at least one item".into()));
        }
        for (name, opts) in &self.option_sets {
            if opts.is_empty() {
                return Err(err(format!("option_sets.{name}"), "is empty".into()));
            }
            let mut seen = std::collections::HashSet::new();
            for o in opts {
                if !seen.insert(o.value) {
                    return Err(err(
                        format!("option_sets.{name}"),
                        format!("duplicate option value {}", o.value),
                    ));
                }
                if o.score < 0 {
                    return Err(err(
                        format!("option_sets.{name}[{}].score", o.value),
                        format!("score {} is negative", o.score),
                    ));
                }
            }
        }
        let mut ids = std::collections::HashSet::new();
        for (n, item) in self.items.iter().enumerate() {
            let at = format!("items[{n}]");
            if item.id.trim().is_empty() {
                return Err(err(format!("{at}.id"), "must not be empty".into()));
            }
            if !ids.insert(item.id.as_str()) {
                return Err(err(
                    format!("{at}.id"),
                    format!("duplicate item id `{}`", item.id),
                ));
            }
            if item.text.trim().is_empty() {
                return Err(err(format!("{at}.text"), "must not be empty".into()));
            }
            match item.kind {
                ItemKind::Choice => match &item.options {
                    None => {
                        return Err(err(
                            format!("{at}.options"),
                            "choice item needs options".into(),
                        ));
                    }
                    Some(name) if !self.option_sets.contains_key(name) => {
                        return Err(err(
                            format!("{at}.options"),
                            format!("unknown option set `{name}`"),
                        ));
                    }
                    Some(_) => {}
                },
                ItemKind::YesNo => {
                    if item.options.is_some() {
                        return Err(err(
                            format!("{at}.options"),
                            "yes_no items take no options".into(),
                        ));
                    }
                    for (f, s) in [("yes_score", item.yes_score), ("no_score", item.no_score)] {
                        if s.is_some_and(|s| s < 0) {
                            return Err(err(format!("{at}.{f}"), "score is negative".into()));
                        }
                    }
                }
            }
            if let Some(c) = &item.show_if {
                let mut refs = Vec::new();
                c.item_refs(&self.id, &mut refs);
                for (inst, it) in refs {
                    // Skip logic may only look back at earlier items of the same instrument.
                    let earlier = self.items[..n].iter().any(|p| p.id == it);
                    if inst == self.id && !earlier {
                        return Err(err(
                            format!("{at}.show_if"),
                            format!("refers to `{it}`, which is not an earlier item"),
                        ));
                    }
                }
            }
        }
        if let (Some(min), Some(max)) = (self.scoring.min, self.scoring.max) {
            if min > max {
                return Err(err("scoring".into(), format!("min {min} > max {max}")));
            }
            if self.scoring.method == ScoringMethod::Sum && self.computed_max() != max {
                return Err(err(
                    "scoring.max".into(),
                    format!("says {max} but the items add up to {}", self.computed_max()),
                ));
            }
        }
        let mut band_ids = std::collections::HashSet::new();
        for (n, b) in self.bands.iter().enumerate() {
            let at = format!("bands[{n}]");
            if !band_ids.insert(b.id.as_str()) {
                return Err(err(
                    format!("{at}.id"),
                    format!("duplicate band id `{}`", b.id),
                ));
            }
            match (b.min, b.max, &b.when) {
                (Some(lo), Some(hi), None) if lo <= hi => {}
                (None, None, Some(_)) => {}
                _ => {
                    return Err(err(
                        at,
                        "needs either min and max (min <= max) or a `when` rule".into(),
                    ));
                }
            }
        }
        self.validate_band_coverage(file)?;
        let mut flag_ids = std::collections::HashSet::new();
        for (n, f) in self.flags.iter().enumerate() {
            if !flag_ids.insert(f.id.as_str()) {
                return Err(err(
                    format!("flags[{n}].id"),
                    format!("duplicate flag id `{}`", f.id),
                ));
            }
        }
        Ok(())
    }

    /// Range bands must tile the score range exactly: no gap, no overlap.
    fn validate_band_coverage(&self, file: &str) -> Result<(), DefinitionError> {
        let mut ranges: Vec<(i64, i64, &str)> = self
            .bands
            .iter()
            .filter_map(|b| Some((b.min?, b.max?, b.id.as_str())))
            .collect();
        if ranges.is_empty() {
            return Ok(());
        }
        ranges.sort();
        let (Some(min), Some(max)) = (self.scoring.min, self.scoring.max) else {
            return Err(DefinitionError::Invalid {
                file: file.into(),
                field: "scoring".into(),
                problem: "range bands need scoring.min and scoring.max".into(),
            });
        };
        let mut next = min;
        for (lo, hi, id) in &ranges {
            if *lo != next {
                return Err(DefinitionError::Invalid {
                    file: file.into(),
                    field: format!("bands.{id}"),
                    problem: format!("starts at {lo}, expected {next} (gap or overlap)"),
                });
            }
            next = hi + 1;
        }
        if next != max + 1 {
            return Err(DefinitionError::Invalid {
                file: file.into(),
                field: "bands".into(),
                problem: format!("end at {}, but the score range ends at {max}", next - 1),
            });
        }
        Ok(())
    }
}
