//! The call being taken: every answer the screener has entered, the outcome computed from them,
//! and the mapping to and from the draft's saved fields (one key per answer).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

mod intake;
mod saved;
mod step;
pub use intake::{AgeInput, FieldKind, IntakeField, IntakeForm, choices, parse_age};
pub use step::{CRISIS_ACTIONS, Consent, CrisisRecord, NOTICES, Referral, Step};

use super::text_field::TextField;
use crate::domain::Definitions;
use crate::domain::clock::county_time;
use crate::domain::outcome::{Intake, Outcome, OutcomeInput};
use crate::domain::quadrant::CellId;
use crate::domain::scoring::{AnswerValue, Answers};
use crate::store::Summary;

pub const OVERRIDE_KEY: &str = "placement.override_cell";
pub const OVERRIDE_REASON_KEY: &str = "placement.override_reason";
pub const REFERRALS_KEY: &str = "referral.selected";
pub const REQUIRE_LANGUAGE_KEY: &str = "referral.require_language";
pub const REQUIRE_AREA_KEY: &str = "referral.require_area";
pub const CONSENT_KEY: &str = "consent.sud";
pub const CRISIS_KEY: &str = "crisis";
pub const PAYLOAD_SCHEMA: &str = "accessline.encounter/1";

/// One call in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: Option<Uuid>,
    pub received_at: DateTime<Utc>,
    pub intake: IntakeForm,
    /// Every answer entered, including ones later hidden by skip logic (kept so that flipping
    /// an answer back restores them; only shown answers are finalized).
    pub answers: Answers,
    pub crisis: CrisisRecord,
    pub override_cell: Option<CellId>,
    pub override_reason: TextField,
    pub require_language: bool,
    pub require_area: bool,
    pub referrals: Vec<Referral>,
    pub notices: BTreeSet<String>,
    pub sud_consent: Consent,
    pub outcome: Outcome,
}

impl Call {
    pub fn new(defs: &Definitions, received_at: DateTime<Utc>) -> Call {
        let intake = IntakeForm::new();
        let answers = Answers::new();
        let outcome = defs.outcome(&OutcomeInput {
            intake: &Intake::default(),
            answers: &answers,
            crisis_opened: false,
            received_at: county_time(received_at),
            override_cell: None,
            require_language: false,
            require_area: false,
        });
        Call {
            id: None,
            received_at,
            intake,
            answers,
            crisis: CrisisRecord::default(),
            override_cell: None,
            override_reason: TextField::new(500),
            require_language: false,
            require_area: false,
            referrals: Vec::new(),
            notices: BTreeSet::new(),
            sud_consent: Consent::NotAsked,
            outcome,
        }
    }

    pub fn today(&self) -> NaiveDate {
        county_time(self.received_at).date_naive()
    }

    pub fn age_input(&self) -> AgeInput {
        parse_age(self.intake.age.value(), self.today())
    }

    /// The intake facts the domain sees.
    pub fn intake_facts(&self) -> Intake {
        let f = &self.intake;
        let text = |t: &TextField| {
            let v = t.value().trim();
            (!v.is_empty()).then(|| v.to_owned())
        };
        let (age, date_of_birth) = match self.age_input() {
            AgeInput::Age(a) => (Some(a), None),
            AgeInput::Born(d) => (None, Some(d)),
            _ => (None, None),
        };
        let zip = text(&f.zip).filter(|z| z.len() == 5 && z.bytes().all(|b| b.is_ascii_digit()));
        Intake {
            caller_type: f.caller_type.clone(),
            anonymous: f.anonymous,
            caller_name: if f.anonymous { None } else { text(&f.name) },
            callback_number: text(&f.callback),
            age,
            date_of_birth,
            sex: f.sex.clone(),
            language: f.language.clone(),
            interpreter: f.interpreter,
            medi_cal: f.medi_cal.clone(),
            zip,
            service_area: None,
            reason: text(&f.reason),
        }
    }

    /// Recompute everything that depends on the answers.
    pub fn recompute(&mut self, defs: &Definitions) {
        let intake = self.intake_facts();
        self.outcome = defs.outcome(&OutcomeInput {
            intake: &intake,
            answers: &self.answers,
            crisis_opened: self.crisis.opened,
            received_at: county_time(self.received_at),
            override_cell: self.override_cell,
            require_language: self.require_language,
            require_area: self.require_area,
        });
        // A referral to a program that no longer fits the chosen cell is dropped.
        let fits: BTreeSet<&str> = self
            .outcome
            .programs
            .iter()
            .map(|p| p.service.service_id.as_str())
            .collect();
        self.referrals
            .retain(|r| fits.contains(r.service_id.as_str()));
    }

    /// The questions shown on a step now: (instrument, item), in flow order.
    pub fn questions(&self, defs: &Definitions, step: Step) -> Vec<(String, String)> {
        let Some(flow) = defs.flow.steps.iter().find(|s| s.id == step.id()) else {
            return Vec::new();
        };
        flow.instruments
            .iter()
            .filter_map(|id| self.outcome.evaluation.result(id))
            .filter(|r| r.applies)
            .flat_map(|r| {
                r.shown
                    .iter()
                    .map(|item| (r.instrument.clone(), item.clone()))
            })
            .collect()
    }

    pub fn answer(&self, instrument: &str, item: &str) -> Option<AnswerValue> {
        self.answers.get(instrument)?.get(item).copied()
    }

    /// Answers to the questions currently shown (what is finalized).
    pub fn shown_answers(&self) -> Answers {
        let mut out = Answers::new();
        for r in self.outcome.evaluation.results.iter().filter(|r| r.applies) {
            for item in &r.shown {
                if let Some(v) = self.answer(&r.instrument, item) {
                    out.entry(r.instrument.clone())
                        .or_default()
                        .insert(item.clone(), v);
                }
            }
        }
        out
    }

    pub fn answer_key(instrument: &str, item: &str) -> String {
        format!("answers.{instrument}.{item}")
    }

    pub fn crisis_value(&self) -> Value {
        json!({
            "opened": self.crisis.opened,
            "opened_at": self.crisis.opened_at,
            "actions": self.crisis.actions,
        })
    }

    pub fn referrals_value(&self) -> Value {
        Value::Array(
            self.referrals
                .iter()
                .map(|r| json!({ "service_id": r.service_id, "warm_handoff": r.warm_handoff }))
                .collect(),
        )
    }

    /// What must be done before the call can be finalized; empty when it can.
    pub fn blockers(&self, defs: &Definitions) -> Vec<(Step, String)> {
        let mut out = Vec::new();
        let crisis = self.crisis.opened;
        if crisis && self.crisis.actions.is_empty() {
            out.push((
                Step::Safety,
                "Crisis protocol: record at least one action taken".to_owned(),
            ));
        }
        match self.age_input() {
            AgeInput::Invalid(why) => out.push((Step::Intake, format!("Age: {why}"))),
            AgeInput::Empty if !crisis => out.push((
                Step::Intake,
                "Age or date of birth is needed to choose the screening tool".to_owned(),
            )),
            _ => {}
        }
        let zip = self.intake.zip.value().trim();
        if !zip.is_empty() && self.intake_facts().zip.is_none() {
            out.push((Step::Intake, "ZIP code must be 5 digits".to_owned()));
        }
        for step in [Step::Safety, Step::Screening, Step::Assessment] {
            // In a crisis only the safety check is required (DESIGN section 2).
            if crisis && step != Step::Safety {
                continue;
            }
            let Some(flow) = defs.flow.steps.iter().find(|s| s.id == step.id()) else {
                continue;
            };
            for id in &flow.instruments {
                let Some(r) = self.outcome.evaluation.result(id) else {
                    continue;
                };
                let required = defs.instrument(id).is_some_and(|i| i.required);
                if r.applies && required && !r.missing.is_empty() {
                    let title = defs.instrument(id).map_or(id.as_str(), |i| &i.short_title);
                    out.push((step, format!("{title}: {} unanswered", r.missing.len())));
                }
            }
        }
        if self.override_cell.is_some() && self.override_reason.value().trim().is_empty() {
            out.push((
                Step::Placement,
                "Placement override needs a reason".to_owned(),
            ));
        }
        out
    }

    /// The finalized record's content.
    pub fn payload(&self) -> Value {
        json!({
            "schema": PAYLOAD_SCHEMA,
            "received_at": county_time(self.received_at),
            "intake": self.intake_facts(),
            "crisis": self.crisis_value(),
            "crisis_opened": self.crisis.opened,
            "override_cell": self.override_cell.map(CellId::id),
            "override_reason": self.override_cell.map(|_| self.override_reason.value().trim()),
            "answers": self.shown_answers(),
            "outcome": self.outcome,
            "referrals": self.referrals_value(),
            "notices": self.notices,
            "sud_consent": self.sud_consent.as_str(),
        })
    }

    pub fn summary(&self) -> Summary {
        Summary::from_outcome(
            &self.intake_facts(),
            &self.outcome,
            self.crisis.opened,
            county_time(self.received_at),
        )
    }
}

#[cfg(test)]
mod tests;
