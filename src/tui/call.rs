//! The call being taken: every answer the screener has entered, the outcome computed from them,
//! and the mapping to and from the draft's saved fields (one key per answer).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

mod intake;
pub use intake::{AgeInput, FieldKind, IntakeField, IntakeForm, choices, parse_age};

use super::text_field::TextField;
use crate::domain::Definitions;
use crate::domain::clock::county_time;
use crate::domain::outcome::{Intake, Outcome, OutcomeInput};
use crate::domain::quadrant::CellId;
use crate::domain::scoring::{AnswerValue, Answers};
use crate::store::Summary;

/// The steps of a call, in order (DESIGN section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Intake,
    Safety,
    Screening,
    Assessment,
    Placement,
    Referral,
    Notices,
    Summary,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Intake,
        Step::Safety,
        Step::Screening,
        Step::Assessment,
        Step::Placement,
        Step::Referral,
        Step::Notices,
        Step::Summary,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Step::Intake => "intake",
            Step::Safety => "safety",
            Step::Screening => "screening",
            Step::Assessment => "assessment",
            Step::Placement => "placement",
            Step::Referral => "referral",
            Step::Notices => "notices",
            Step::Summary => "summary",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Intake => "Intake",
            Step::Safety => "Safety",
            Step::Screening => "Screening",
            Step::Assessment => "Assessment",
            Step::Placement => "Placement",
            Step::Referral => "Referral",
            Step::Notices => "Notices",
            Step::Summary => "Summary",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|st| st.id() == s)
    }

    pub fn next(self) -> Step {
        let i = Step::ALL.iter().position(|s| *s == self).expect("listed");
        Step::ALL[(i + 1).min(Step::ALL.len() - 1)]
    }

    pub fn prev(self) -> Step {
        let i = Step::ALL.iter().position(|s| *s == self).expect("listed");
        Step::ALL[i.saturating_sub(1)]
    }

    /// Steps whose questions come from instrument definitions.
    pub fn is_questions(self) -> bool {
        matches!(self, Step::Safety | Step::Screening | Step::Assessment)
    }
}

/// Actions a screener can record in the crisis protocol, with the time each was done.
pub const CRISIS_ACTIONS: &[(&str, &str)] = &[
    ("called_911", "Called 911 (police, fire, ambulance)"),
    (
        "connected_988",
        "Connected caller to 988 Suicide & Crisis Lifeline",
    ),
    (
        "mobile_response",
        "Requested psychiatric mobile response team",
    ),
    (
        "stayed_on_line",
        "Kept the caller on the line until help arrived",
    ),
    ("safety_plan", "Made a safety plan with the caller"),
    (
        "means_reduced",
        "Caller agreed to reduce access to lethal means",
    ),
];

/// Notices given during the call (DESIGN section 2, step 6).
pub const NOTICES: &[(&str, &str)] = &[
    ("handbook", "Beneficiary handbook offered"),
    ("provider_directory", "Provider directory offered"),
    ("grievance_rights", "Grievance and appeal rights explained"),
    (
        "language_assistance",
        "Free language assistance and interpreters offered",
    ),
    (
        "noabd",
        "Notice of adverse benefit determination (service denied)",
    ),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrisisRecord {
    pub opened: bool,
    pub opened_at: Option<DateTime<Utc>>,
    /// Action id → when it was done.
    pub actions: BTreeMap<String, DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub service_id: String,
    /// Warm hand-off (true) or an appointment given (false).
    pub warm_handoff: bool,
}

/// Consent to share substance-use information (42 CFR Part 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consent {
    #[default]
    NotAsked,
    Given,
    Declined,
}

impl Consent {
    pub fn as_str(self) -> &'static str {
        match self {
            Consent::NotAsked => "not_asked",
            Consent::Given => "given",
            Consent::Declined => "declined",
        }
    }

    fn parse(s: &str) -> Consent {
        match s {
            "given" => Consent::Given,
            "declined" => Consent::Declined,
            _ => Consent::NotAsked,
        }
    }

    pub fn next(self) -> Consent {
        match self {
            Consent::NotAsked => Consent::Given,
            Consent::Given => Consent::Declined,
            Consent::Declined => Consent::NotAsked,
        }
    }
}

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

    /// Every field as saved in a draft (the cursor excepted).
    pub fn fields(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for f in IntakeField::ALL {
            out.insert(f.key().to_owned(), self.intake.value(f));
        }
        for (inst, items) in &self.answers {
            for (item, v) in items {
                out.insert(Call::answer_key(inst, item), json!(v));
            }
        }
        out.insert(CRISIS_KEY.into(), self.crisis_value());
        out.insert(
            OVERRIDE_KEY.into(),
            self.override_cell.map_or(Value::Null, |c| json!(c.id())),
        );
        out.insert(
            OVERRIDE_REASON_KEY.into(),
            json!(self.override_reason.value()),
        );
        out.insert(REQUIRE_LANGUAGE_KEY.into(), json!(self.require_language));
        out.insert(REQUIRE_AREA_KEY.into(), json!(self.require_area));
        out.insert(REFERRALS_KEY.into(), self.referrals_value());
        for (id, _) in NOTICES {
            out.insert(format!("notices.{id}"), json!(self.notices.contains(*id)));
        }
        out.insert(CONSENT_KEY.into(), json!(self.sud_consent.as_str()));
        out
    }

    /// Rebuild a call from a draft's saved fields; unknown or malformed fields are skipped
    /// (and reported), never fatal: a screener must always get the call back.
    pub fn from_fields(
        defs: &Definitions,
        id: Uuid,
        received_at: DateTime<Utc>,
        fields: &BTreeMap<String, Value>,
    ) -> (Call, Vec<String>) {
        let mut call = Call::new(defs, received_at);
        call.id = Some(id);
        let mut skipped = Vec::new();
        for (key, v) in fields {
            if !call.restore(defs, key, v) {
                skipped.push(key.clone());
            }
        }
        call.recompute(defs);
        (call, skipped)
    }

    /// A call rebuilt from a finalized payload (to write an addendum), with the corrections
    /// already saved for that addendum on top. Both the screener UI's payload and the demo
    /// generator's (one `referral`) are read.
    pub fn from_payload(
        defs: &Definitions,
        id: Uuid,
        received_at: DateTime<Utc>,
        payload: &Value,
        corrections: &BTreeMap<String, Value>,
    ) -> Call {
        let mut fields = BTreeMap::new();
        let intake: Intake = serde_json::from_value(payload["intake"].clone()).unwrap_or_default();
        let text = |s: &Option<String>| json!(s.clone().unwrap_or_default());
        let age = match (intake.age, intake.date_of_birth) {
            (_, Some(d)) => d.format("%Y-%m-%d").to_string(),
            (Some(a), None) => a.to_string(),
            _ => String::new(),
        };
        for (f, v) in [
            (IntakeField::CallerType, json!(intake.caller_type)),
            (IntakeField::Anonymous, json!(intake.anonymous)),
            (IntakeField::Name, text(&intake.caller_name)),
            (IntakeField::Callback, text(&intake.callback_number)),
            (IntakeField::Age, json!(age)),
            (IntakeField::Sex, json!(intake.sex)),
            (IntakeField::Language, json!(intake.language)),
            (IntakeField::Interpreter, json!(intake.interpreter)),
            (IntakeField::MediCal, json!(intake.medi_cal)),
            (IntakeField::Zip, text(&intake.zip)),
            (IntakeField::Reason, text(&intake.reason)),
        ] {
            fields.insert(f.key().to_owned(), v);
        }
        if let Some(answers) = payload["answers"].as_object() {
            for (inst, items) in answers {
                for (item, v) in items.as_object().into_iter().flatten() {
                    fields.insert(Call::answer_key(inst, item), v.clone());
                }
            }
        }
        let crisis = if payload["crisis"].is_object() {
            payload["crisis"].clone()
        } else {
            json!({ "opened": payload["crisis_opened"].as_bool().unwrap_or(false) })
        };
        fields.insert(CRISIS_KEY.into(), crisis);
        fields.insert(OVERRIDE_KEY.into(), payload["override_cell"].clone());
        fields.insert(
            OVERRIDE_REASON_KEY.into(),
            json!(payload["override_reason"].as_str().unwrap_or("")),
        );
        let referrals = match (&payload["referrals"], &payload["referral"]) {
            (Value::Array(a), _) => Value::Array(a.clone()),
            (_, Value::Object(o)) => json!([o]),
            _ => json!([]),
        };
        fields.insert(REFERRALS_KEY.into(), referrals);
        for n in payload["notices"].as_array().into_iter().flatten() {
            if let Some(id) = n.as_str() {
                fields.insert(format!("notices.{id}"), json!(true));
            }
        }
        let consent = match &payload["sud_consent"] {
            Value::Bool(true) => json!("given"),
            Value::Bool(false) => json!("declined"),
            other => other.clone(),
        };
        fields.insert(CONSENT_KEY.into(), consent);
        fields.extend(corrections.iter().map(|(k, v)| (k.clone(), v.clone())));
        Call::from_fields(defs, id, received_at, &fields).0
    }

    fn restore(&mut self, defs: &Definitions, key: &str, v: &Value) -> bool {
        if let Some(f) = IntakeField::parse(key) {
            self.intake.restore(f, v);
            return true;
        }
        if let Some(rest) = key.strip_prefix("answers.") {
            let Some((inst, item)) = rest.split_once('.') else {
                return false;
            };
            let value = match v {
                Value::Bool(b) => AnswerValue::Bool(*b),
                Value::Number(n) if n.is_i64() => AnswerValue::Int(n.as_i64().expect("checked")),
                _ => return false,
            };
            let known = defs.instrument(inst).and_then(|i| i.item(item)).is_some();
            if known {
                self.answers
                    .entry(inst.to_owned())
                    .or_default()
                    .insert(item.to_owned(), value);
            }
            return known;
        }
        if let Some(id) = key.strip_prefix("notices.") {
            if v.as_bool() == Some(true) {
                self.notices.insert(id.to_owned());
            }
            return NOTICES.iter().any(|(n, _)| *n == id);
        }
        match key {
            CRISIS_KEY => {
                self.crisis.opened = v["opened"].as_bool().unwrap_or(false);
                self.crisis.opened_at = serde_json::from_value(v["opened_at"].clone()).ok();
                self.crisis.actions =
                    serde_json::from_value(v["actions"].clone()).unwrap_or_default();
            }
            OVERRIDE_KEY => self.override_cell = v.as_str().and_then(CellId::parse),
            OVERRIDE_REASON_KEY => self.override_reason.set(v.as_str().unwrap_or("")),
            REQUIRE_LANGUAGE_KEY => self.require_language = v.as_bool().unwrap_or(false),
            REQUIRE_AREA_KEY => self.require_area = v.as_bool().unwrap_or(false),
            REFERRALS_KEY => {
                self.referrals = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| {
                        Some(Referral {
                            service_id: r["service_id"].as_str()?.to_owned(),
                            warm_handoff: r["warm_handoff"].as_bool().unwrap_or(false),
                        })
                    })
                    .collect();
            }
            CONSENT_KEY => self.sud_consent = Consent::parse(v.as_str().unwrap_or("")),
            _ => return false,
        }
        true
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
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_field_reads_ages_and_dates() {
        let today = d("2026-11-23");
        assert_eq!(parse_age("", today), AgeInput::Empty);
        assert_eq!(parse_age(" 34 ", today), AgeInput::Age(34));
        assert_eq!(
            parse_age("1990-05-01", today),
            AgeInput::Born(d("1990-05-01"))
        );
        assert_eq!(
            parse_age("05/01/1990", today),
            AgeInput::Born(d("1990-05-01"))
        );
        assert!(matches!(parse_age("130", today), AgeInput::Invalid(_)));
        assert!(matches!(
            parse_age("2027-01-01", today),
            AgeInput::Invalid(_)
        ));
        assert!(matches!(
            parse_age("1990-02-30", today),
            AgeInput::Invalid(_)
        ));
        assert!(matches!(parse_age("abc", today), AgeInput::Invalid(_)));
    }

    #[test]
    fn steps_move_in_order_and_stop_at_the_ends() {
        assert_eq!(Step::Intake.prev(), Step::Intake);
        assert_eq!(Step::Intake.next(), Step::Safety);
        assert_eq!(Step::Summary.next(), Step::Summary);
        for s in Step::ALL {
            assert_eq!(Step::parse(s.id()), Some(s));
        }
    }
}
