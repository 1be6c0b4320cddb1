//! FHIR R4 export: one `transaction` Bundle per finalized revision, written one per line
//! (NDJSON of Bundles) in batch files like the canonical format.
//!
//! Each bundle holds an Encounter, the Patient (identified by the encounter, so every
//! revision finds the same one; anonymous when the caller was, or when the caller is not the
//! person the call is about), a QuestionnaireResponse per instrument answered, an Observation
//! per instrument result (total score with its LOINC code where the instrument has one) and
//! one for the 9-quadrant placement, and a ServiceRequest per referral with its priority from
//! the triage level. Every entry is a conditional create (`ifNoneExist` on our identifier),
//! so a server that receives the same bundle twice creates nothing the second time; entry
//! ids are UUIDs derived from those identifiers, so the same revision always gives the same
//! bundle.
//!
//! Substance-use content (42 CFR Part 2) needs the caller's consent (`sud_consent` given):
//! without it the substance-use instruments and items, the addiction-acuity half of the
//! placement and referrals to substance-use services are left out; with it they carry the
//! `42CFRPart2` security label.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::withhold::SudPolicy;
use crate::domain::Definitions;
use crate::store::EncounterRow;

mod answers;
mod plan;

/// The manifest's `record_schema` for FHIR batches.
pub const RECORD_SCHEMA: &str = "fhir-r4-bundle";
/// Prefix of every identifier system (`urn:accessline:encounter`, …).
pub const SYSTEM: &str = "urn:accessline";
pub const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const ACT_PRIORITY: &str = "http://terminology.hl7.org/CodeSystem/v3-ActPriority";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const DATA_ABSENT: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";

/// ServiceRequest priority for a triage level: emergent → stat, urgent → urgent, routine →
/// routine.
pub fn priority(triage: &str) -> Option<&'static str> {
    match triage {
        "emergent" => Some("stat"),
        "urgent" => Some("urgent"),
        "routine" => Some("routine"),
        _ => None,
    }
}

/// Maps stored revisions to bundles, with the clinical definitions for item text and codes.
pub struct Mapper<'d> {
    defs: &'d Definitions,
    /// What is substance-use content (shared with the NDJSON export).
    policy: &'d SudPolicy,
}

struct Bundle {
    key: String,
    entries: Vec<Value>,
}

impl Bundle {
    /// Add an entry; returns its `urn:uuid:` reference.
    fn add(&mut self, kind: &str, suffix: &str, mut resource: Value) -> String {
        let system = format!("{SYSTEM}:{}", system_name(kind));
        let value = if suffix.is_empty() {
            self.key.clone()
        } else {
            format!("{}-{suffix}", self.key)
        };
        self.add_identified(kind, &system, &value, &mut resource)
    }

    fn add_identified(
        &mut self,
        kind: &str,
        system: &str,
        value: &str,
        resource: &mut Value,
    ) -> String {
        let identifier = json!({ "system": system, "value": value });
        let obj = resource.as_object_mut().expect("resources are objects");
        let mut ordered = Map::new();
        ordered.insert("resourceType".into(), kind.into());
        // QuestionnaireResponse.identifier is a single Identifier in R4; elsewhere a list.
        ordered.insert(
            "identifier".into(),
            if kind == "QuestionnaireResponse" {
                identifier
            } else {
                json!([identifier])
            },
        );
        ordered.append(obj);
        let url = format!("urn:uuid:{}", derived_uuid(system, value));
        // Built by hand: `json!` would deep-copy the resource.
        let mut entry = Map::new();
        entry.insert("fullUrl".into(), url.clone().into());
        entry.insert("resource".into(), Value::Object(ordered));
        entry.insert(
            "request".into(),
            json!({
                "method": "POST",
                "url": kind,
                "ifNoneExist": format!("identifier={system}|{value}"),
            }),
        );
        self.entries.push(Value::Object(entry));
        url
    }
}

fn system_name(kind: &str) -> &'static str {
    match kind {
        "Encounter" => "encounter",
        "QuestionnaireResponse" => "questionnaire-response",
        "Observation" => "observation",
        "ServiceRequest" => "referral",
        _ => "resource",
    }
}

/// A UUID (version 8, from SHA-256) for an identifier: stable across exports.
fn derived_uuid(system: &str, value: &str) -> Uuid {
    let h = Sha256::digest(format!("{system}|{value}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

fn reference(url: &str) -> Value {
    json!({ "reference": url })
}

fn sud_label() -> Value {
    json!({ "security": [{ "system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2" }] })
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

impl<'d> Mapper<'d> {
    pub fn new(defs: &'d Definitions, policy: &'d SudPolicy) -> Mapper<'d> {
        Mapper { defs, policy }
    }

    /// Append the bundle of `row` as one line to `buf`; returns the payload's schema and
    /// whether substance-use details were withheld (no consent).
    pub fn write_bundle(
        &self,
        row: &EncounterRow,
        buf: &mut Vec<u8>,
    ) -> Result<(String, bool), String> {
        let (bundle, schema) = self.bundle(row)?;
        serde_json::to_writer(&mut *buf, &bundle).map_err(|e| e.to_string())?;
        buf.push(b'\n');
        Ok((schema, !super::withhold::consent_given(&row.payload)))
    }

    /// The transaction bundle of one finalized revision, and its payload schema. Without the
    /// caller's consent it is the bundle of the revision's withheld view (the NDJSON export's,
    /// which a hub holds): the same bytes on the device and at the hub.
    pub fn bundle(&self, row: &EncounterRow) -> Result<(Value, String), String> {
        if !super::withhold::consent_given(&row.payload)
            && !super::withhold::is_view(&row.payload)
            && let Some(v) = self.policy.view(&row.payload, row.deadline_at.as_deref())?
        {
            let mut view = row.clone();
            view.payload = v.payload;
            view.payload_sha256 = v.sha256;
            view.deadline_at = v.deadline_at;
            view.cell_computed = None;
            view.cell_chosen = None;
            return self.bundle_of(&view);
        }
        self.bundle_of(row)
    }

    fn bundle_of(&self, row: &EncounterRow) -> Result<(Value, String), String> {
        let p: Value = serde_json::from_str(&row.payload)
            .map_err(|e| format!("the payload is not JSON ({e})"))?;
        let schema = p
            .get("schema")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        if !schema.starts_with("accessline.encounter/") {
            return Err(format!("unknown payload schema `{schema}`"));
        }
        // The same rule as the NDJSON export's (a payload with a duplicated member or any
        // other doubt is no consent).
        let consent = super::withhold::consent_given(&row.payload);
        let versions: BTreeMap<String, String> =
            serde_json::from_str(&row.definitions).unwrap_or_default();
        let mut b = Bundle {
            key: format!("{}-r{}", row.encounter_id, row.revision),
            entries: Vec::new(),
        };
        let patient = self.patient(&mut b, row, &p);
        let encounter = self.encounter(&mut b, row, &patient);
        let mut results: Vec<&Value> = p
            .pointer("/outcome/evaluation/results")
            .and_then(Value::as_array)
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        results.retain(|r| r.get("applies").and_then(Value::as_bool) != Some(false));
        for result in results {
            let Some(id) = result.get("instrument").and_then(Value::as_str) else {
                continue;
            };
            let inst = self.defs.instrument(id);
            if self.policy.is_sud_instrument(id) && !consent {
                continue;
            }
            // Codes and texts come from the definitions only when the revision used this
            // version of them.
            let same = inst.filter(|i| versions.get(id).is_none_or(|v| *v == i.version));
            let qr = p
                .pointer(&format!("/answers/{id}"))
                .and_then(Value::as_object)
                .filter(|a| !a.is_empty())
                .map(|answers| {
                    self.questionnaire_response(
                        &mut b, row, id, result, answers, same, consent, &patient, &encounter,
                    )
                });
            self.score(
                &mut b,
                row,
                id,
                result,
                inst,
                consent,
                qr.as_deref(),
                &patient,
                &encounter,
            );
        }
        let placement = self.placement(&mut b, row, &p, consent, &patient, &encounter);
        self.referrals(&mut b, row, &p, consent, &patient, &encounter, &placement);
        let mut bundle = Map::new();
        bundle.insert("resourceType".into(), "Bundle".into());
        bundle.insert(
            "identifier".into(),
            json!({ "system": format!("{SYSTEM}:bundle"), "value": b.key }),
        );
        bundle.insert("type".into(), "transaction".into());
        bundle.insert("timestamp".into(), row.finalized_at.clone().into());
        bundle.insert("entry".into(), Value::Array(b.entries));
        Ok((Value::Object(bundle), schema))
    }

    fn patient(&self, b: &mut Bundle, row: &EncounterRow, p: &Value) -> String {
        let intake = p.get("intake").cloned().unwrap_or(Value::Null);
        let anonymous = intake.get("anonymous").and_then(Value::as_bool) == Some(true);
        // The name on the call is the caller's: it is the patient's only when they are the
        // same person.
        let about_self = str_at(&intake, &["caller_type"]).is_none_or(|t| t == "self");
        let mut r = Map::new();
        if let Some(name) = str_at(&intake, &["caller_name"]).filter(|_| !anonymous && about_self) {
            r.insert("name".into(), json!([{ "text": name }]));
            if let Some(phone) = str_at(&intake, &["callback_number"]) {
                r.insert(
                    "telecom".into(),
                    json!([{ "system": "phone", "value": phone }]),
                );
            }
            if let Some(dob) = str_at(&intake, &["date_of_birth"]) {
                r.insert("birthDate".into(), dob.into());
            }
        } else {
            r.insert(
                "meta".into(),
                json!({ "tag": [{ "system": format!("{SYSTEM}:tag"), "code": "anonymous", "display": "Anonymous caller" }] }),
            );
        }
        if let Some(sex) = str_at(&intake, &["sex"]) {
            let gender = match sex {
                "female" | "male" | "other" => sex,
                _ => "unknown",
            };
            r.insert("gender".into(), gender.into());
        }
        if let Some(lang) = str_at(&intake, &["language"]) {
            let name = self
                .defs
                .directory
                .languages
                .iter()
                .find(|l| l.code == lang)
                .map_or(lang, |l| l.name.as_str());
            r.insert(
                "communication".into(),
                json!([{
                    "language": { "coding": [{ "system": "urn:ietf:bcp:47", "code": lang, "display": name }], "text": name },
                    "preferred": true,
                }]),
            );
        }
        let system = format!("{SYSTEM}:caller");
        b.add_identified(
            "Patient",
            &system,
            &row.encounter_id.to_string(),
            &mut Value::Object(r),
        )
    }

    fn encounter(&self, b: &mut Bundle, row: &EncounterRow, patient: &str) -> String {
        let mut r = json!({
            "status": "finished",
            "class": { "system": ACT_CODE, "code": "VR", "display": "virtual" },
            "type": [{ "text": "Behavioral health access line call" }],
            "subject": reference(patient),
        });
        let o = r.as_object_mut().expect("an object");
        // The call ends when its first revision is signed; an addendum comes later.
        o.insert(
            "period".into(),
            if row.revision == 1 {
                json!({ "start": row.received_at, "end": row.finalized_at })
            } else {
                json!({ "start": row.received_at })
            },
        );
        if let Some(t) = row.triage.as_deref() {
            let (code, display) = match t {
                "emergent" => ("EM", "emergency"),
                "urgent" => ("UR", "urgent"),
                _ => ("R", "routine"),
            };
            o.insert(
                "priority".into(),
                json!({ "coding": [{ "system": ACT_PRIORITY, "code": code, "display": display }], "text": t }),
            );
        }
        if let Some(reason) = row.reason.as_deref().filter(|r| !r.trim().is_empty()) {
            o.insert("reasonCode".into(), json!([{ "text": reason }]));
        }
        b.add("Encounter", "", r)
    }
}
