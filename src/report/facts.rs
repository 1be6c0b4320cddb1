//! What the reports read from a stored payload.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, Utc};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use crate::domain::Definitions;
use crate::store::ReportRow;

/// The few facts the reports need from a stored payload. Both payload shapes are read: the
/// screener UI's (`crisis` with the actions taken, `referrals` as a list, `notices`, the
/// outcome's `programs` with their names) and the demo generator's (`crisis_opened` only, one
/// optional `referral` carrying its program's name). Anything missing or `null` is empty.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Facts {
    #[serde(deserialize_with = "lenient")]
    pub(super) intake: IntakeFacts,
    #[serde(deserialize_with = "lenient")]
    pub(super) crisis: CrisisFacts,
    #[serde(deserialize_with = "lenient")]
    crisis_opened: bool,
    pub(super) override_cell: Option<String>,
    pub(super) override_reason: Option<String>,
    #[serde(deserialize_with = "lenient")]
    outcome: OutcomeFacts,
    #[serde(deserialize_with = "lenient")]
    referrals: Vec<ReferralFacts>,
    referral: Option<ReferralFacts>,
    #[serde(deserialize_with = "lenient")]
    notices: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IntakeFacts {
    pub(super) caller_type: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(super) interpreter: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CrisisFacts {
    #[serde(deserialize_with = "lenient")]
    opened: bool,
    /// Action id → when it was done.
    #[serde(deserialize_with = "lenient")]
    pub(super) actions: BTreeMap<String, IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OutcomeFacts {
    #[serde(deserialize_with = "lenient")]
    deadlines: Vec<DueFacts>,
    #[serde(deserialize_with = "lenient")]
    programs: Vec<ProgramFacts>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DueFacts {
    label: Option<String>,
    due_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ProgramFacts {
    service_id: String,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ReferralFacts {
    service_id: String,
    name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    warm_handoff: bool,
}

/// `null` reads as the default.
fn lenient<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Facts {
    /// The payload's facts, or `None` when it cannot be read (then the report still lists the
    /// call, from the stored summary columns, and says the record is unreadable).
    pub(super) fn read(payload: &str) -> Option<Facts> {
        serde_json::from_str(payload).ok()
    }

    pub(super) fn referrals(&self) -> impl Iterator<Item = &ReferralFacts> {
        self.referrals.iter().chain(self.referral.as_ref())
    }

    pub(super) fn warm_handoff(&self) -> bool {
        self.referrals().any(|r| r.warm_handoff)
    }

    /// The label of the earliest deadline (the one the summary's `deadline_at` is).
    pub(super) fn deadline_label(&self, due: Option<DateTime<Utc>>) -> Option<&str> {
        let at = |d: &DueFacts| {
            d.due_at
                .as_deref()
                .and_then(|s| DateTime::<FixedOffset>::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let exact = due.and_then(|due| self.outcome.deadlines.iter().find(|d| at(d) == Some(due)));
        exact
            .or_else(|| self.outcome.deadlines.iter().min_by_key(|d| at(d)))
            .and_then(|d| d.label.as_deref())
    }
}

/// Crisis actions in the order the crisis screen lists them, as the log words them.
const CRISIS_ACTIONS: &[(&str, &str)] = &[
    ("called_911", "911"),
    ("connected_988", "988"),
    ("mobile_response", "mobile response"),
    ("stayed_on_line", "stayed on the line"),
    ("safety_plan", "safety plan"),
    ("means_reduced", "lethal means reduced"),
];

/// Program names by service id: what the payload recorded, else the shipped directory.
pub(super) struct Names<'d> {
    directory: HashMap<&'d str, &'d str>,
}

impl<'d> Names<'d> {
    pub(super) fn new(defs: &'d Definitions) -> Names<'d> {
        Names {
            directory: defs
                .directory
                .services
                .iter()
                .map(|s| (s.id.as_str(), s.name.as_str()))
                .collect(),
        }
    }

    pub(super) fn program<'a>(&'a self, facts: &'a Facts, r: &'a ReferralFacts) -> &'a str {
        r.name
            .as_deref()
            .or_else(|| {
                facts
                    .outcome
                    .programs
                    .iter()
                    .find(|p| p.service_id == r.service_id)
                    .and_then(|p| p.name.as_deref())
            })
            .or_else(|| self.directory.get(r.service_id.as_str()).copied())
            .unwrap_or(&r.service_id)
    }
}

/// The initial disposition of a call, in words: what the screener did before hanging up.
///
/// - the crisis protocol, when it was opened, with the actions recorded (`Crisis protocol:
///   911, mobile response`) or `Crisis protocol (no actions recorded)`;
/// - the referrals, each with how it was made (`Referred: <program> (warm hand-off);
///   <program> (appointment)`);
/// - `No referral` when neither happened;
/// - and `Notice of adverse benefit determination given` when that notice was recorded.
///
/// Parts are joined by ". ".
pub(super) fn disposition(row: &ReportRow<'_>, facts: Option<&Facts>, names: &Names<'_>) -> String {
    let Some(facts) = facts else {
        return "Unknown: the stored record cannot be read (run `accessline verify`)".into();
    };
    let mut parts = Vec::new();
    if row.crisis || facts.crisis_opened || facts.crisis.opened {
        let actions: Vec<Cow<'_, str>> = CRISIS_ACTIONS
            .iter()
            .filter(|(id, _)| facts.crisis.actions.contains_key(*id))
            .map(|(_, label)| Cow::Borrowed(*label))
            .chain(
                facts
                    .crisis
                    .actions
                    .keys()
                    .filter(|id| !CRISIS_ACTIONS.iter().any(|(known, _)| known == id))
                    .map(|id| Cow::Owned(id.replace('_', " "))),
            )
            .collect();
        parts.push(if actions.is_empty() {
            "Crisis protocol (no actions recorded)".to_owned()
        } else {
            format!("Crisis protocol: {}", actions.join(", "))
        });
    }
    let referred: Vec<String> = facts
        .referrals()
        .map(|r| {
            let how = if r.warm_handoff {
                "warm hand-off"
            } else {
                "appointment"
            };
            format!("{} ({how})", names.program(facts, r))
        })
        .collect();
    if !referred.is_empty() {
        parts.push(format!("Referred: {}", referred.join("; ")));
    } else if parts.is_empty() {
        parts.push("No referral".to_owned());
    }
    if facts.notices.iter().any(|n| n == "noabd") {
        parts.push("Notice of adverse benefit determination given".to_owned());
    }
    parts.join(". ")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    pub(super) fn both_payload_shapes_are_read() {
        let tui = r#"{"crisis":{"opened":true,"opened_at":null,"actions":{"mobile_response":"2026-01-01T00:00:00Z","called_911":"2026-01-01T00:00:00Z"}},
            "crisis_opened":true,"referrals":[{"service_id":"x","warm_handoff":true}],"notices":["noabd"],
            "outcome":{"programs":[{"service_id":"x","name":"Program X"}],"deadlines":null}}"#;
        let f = Facts::read(tui).unwrap();
        assert!(f.warm_handoff());
        assert_eq!(f.crisis.actions.len(), 2);
        let demo = r#"{"crisis_opened":false,"referral":{"service_id":"y","name":"Program Y","warm_handoff":false},"outcome":{"programs_matched":3}}"#;
        let f = Facts::read(demo).unwrap();
        assert_eq!(f.referrals().count(), 1);
        assert!(!f.warm_handoff());
        assert!(Facts::read("not json").is_none());
    }
}
