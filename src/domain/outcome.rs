//! From an encounter's facts and answers to its clinical outcome: scores, flags, placement,
//! triage, deadlines and matching programs. Pure and deterministic (the clock is an input).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::catalog::Definitions;
use super::directory::{HelpLine, Match, Query};
use super::placement::{Decision, Placement, Triage};
use super::quadrant::CellId;
use super::scoring::{Answers, Evaluation, Facts, score_all};
use super::timeliness::Due;

/// Intake facts a screener records at the start of a call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    /// `self`, `family`, `provider`, `law_enforcement` or `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_type: Option<String>,
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    /// `female`, `male`, `other` or `unspecified` (AUDIT-C cut-off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Language code from the directory's list (county threshold languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default)]
    pub interpreter: bool,
    /// `enrolled`, `pending`, `not_enrolled` or `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medi_cal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    /// County service area 1–8; derived from the ZIP when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_area: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub const SEXES: &[&str] = &["female", "male", "other", "unspecified"];
pub const CALLER_TYPES: &[&str] = &["self", "family", "provider", "law_enforcement", "other"];
pub const MEDI_CAL: &[&str] = &["enrolled", "pending", "not_enrolled", "unknown"];

impl Intake {
    /// Age on `on`: the stated age, else computed from the date of birth.
    pub fn age_on(&self, on: NaiveDate) -> Option<u32> {
        self.age.or_else(|| {
            let dob = self.date_of_birth?;
            let mut years = on.year() - dob.year();
            if (on.month(), on.day()) < (dob.month(), dob.day()) {
                years -= 1;
            }
            u32::try_from(years).ok()
        })
    }

    /// Facts that conditions can test.
    pub fn facts(&self, on: NaiveDate) -> Facts {
        let mut f = Facts::new();
        if let Some(age) = self.age_on(on) {
            f.insert("age".into(), age.into());
        }
        f.insert(
            "sex".into(),
            self.sex
                .clone()
                .unwrap_or_else(|| "unspecified".into())
                .into(),
        );
        f
    }
}

/// A directory match with the date the referral is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramMatch {
    #[serde(flatten)]
    pub service: Match,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<Due>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub age: Option<u32>,
    pub service_area: Option<u8>,
    pub evaluation: Evaluation,
    /// A safety answer or C-SSRS result calls for the crisis protocol.
    pub crisis_indicated: bool,
    pub placement: Placement,
    /// The cell used for referral: the screener's override, or the computed one.
    pub chosen_cell: CellId,
    pub triage: Decision<Triage>,
    /// Governing deadlines for the triage level and the chosen cell's programs.
    pub deadlines: Vec<Due>,
    #[serde(default)]
    pub programs: Vec<ProgramMatch>,
    #[serde(default)]
    pub help_lines: Vec<HelpLine>,
}

/// Directory categories that serve a crisis now (ranked first only when the call is emergent).
pub const CRISIS_CATEGORIES: &[&str] = &["crisis", "psychiatric_emergency", "helpline"];

/// Everything the outcome depends on.
#[derive(Debug, Clone)]
pub struct OutcomeInput<'a> {
    pub intake: &'a Intake,
    pub answers: &'a Answers,
    pub crisis_opened: bool,
    pub received_at: DateTime<FixedOffset>,
    pub override_cell: Option<CellId>,
    /// Extra directory filters chosen on the referral screen.
    pub require_language: bool,
    pub require_area: bool,
}

impl Definitions {
    pub fn service_area_of(&self, intake: &Intake) -> Option<u8> {
        intake.service_area.or_else(|| {
            intake
                .zip
                .as_deref()
                .and_then(|z| self.service_areas.area_of_zip(z))
        })
    }

    pub fn outcome(&self, input: &OutcomeInput<'_>) -> Outcome {
        let day = input.received_at.date_naive();
        let facts = input.intake.facts(day);
        let mut flags = BTreeSet::new();
        if input.crisis_opened {
            flags.insert("crisis_opened".to_owned());
        }
        let mut ctx = score_all(self, &facts, input.answers, &flags);
        let placement = self.placement.place(&ctx);
        let chosen_cell = input.override_cell.unwrap_or(placement.cell);
        let triage = self
            .placement
            .triage_with_override(&mut ctx, placement.cell, chosen_cell);
        // Placement and triage only read the scores (and set the cell): the evaluation can
        // take them instead of copying them.
        let evaluation = ctx.into_evaluation(self);
        let cell = self.quadrants.cell(chosen_cell);
        // Many programs share a standard: each standard's due date is worked out once.
        let mut dues: Vec<(&str, Due)> = Vec::new();
        let mut due_of = |category: &str| -> Option<Due> {
            let s = self.timeliness.governing(triage.level, category)?;
            if let Some((_, d)) = dues.iter().find(|(id, _)| *id == s.id) {
                return Some(d.clone());
            }
            let d = s.due(input.received_at, &self.calendar);
            dues.push((s.id.as_str(), d.clone()));
            Some(d)
        };
        let mut deadlines: Vec<Due> = Vec::new();
        for p in &cell.programs {
            if let Some(due) = due_of(&p.category)
                && !deadlines.iter().any(|d| d.standard == due.standard)
            {
                deadlines.push(due);
            }
        }
        let age = input.intake.age_on(day);
        let service_area = self.service_area_of(input.intake);
        let query = Query {
            cell: Some(chosen_cell),
            age,
            language: input.intake.language.clone(),
            service_area,
            require_language: input.require_language,
            require_area: input.require_area,
        };
        let mut programs: Vec<ProgramMatch> = self
            .directory
            .find(&query)
            .into_iter()
            .map(|m| ProgramMatch {
                due: due_of(&m.category),
                service: m,
            })
            .collect();
        // Crisis services lead an emergent call's list; otherwise they go last, so a routine
        // caller is not referred to a crisis line by the first key press (the help lines are
        // always shown in the crisis protocol anyway). The sort is stable: the directory's
        // ranking holds within each group.
        let emergent = triage.level == Triage::Emergent;
        programs
            .sort_by_key(|p| CRISIS_CATEGORIES.contains(&p.service.category.as_str()) != emergent);
        let crisis_indicated = evaluation.crisis_flags().next().is_some();
        Outcome {
            age,
            service_area,
            crisis_indicated,
            evaluation,
            placement,
            chosen_cell,
            triage,
            deadlines,
            programs,
            help_lines: self.directory.help_lines.clone(),
        }
    }
}
