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
use crate::domain::instrument::{Instrument, ItemKind};
use crate::domain::quadrant::CellId;
use crate::store::EncounterRow;

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

    #[allow(clippy::too_many_arguments)]
    fn questionnaire_response(
        &self,
        b: &mut Bundle,
        row: &EncounterRow,
        id: &str,
        result: &Value,
        answers: &Map<String, Value>,
        inst: Option<&Instrument>,
        consent: bool,
        patient: &str,
        encounter: &str,
    ) -> String {
        let version = result.get("version").and_then(Value::as_str).unwrap_or("");
        let complete = result.get("complete").and_then(Value::as_bool) == Some(true);
        let mut items = Vec::new();
        let mut sud_items = false;
        let mut push = |item_id: &str, value: &Value| {
            let def = inst.and_then(|i| i.item(item_id));
            if self.policy.is_sud_item(id, item_id) {
                if !consent {
                    return;
                }
                sud_items = true;
            }
            let answer = match (value, def) {
                (Value::Bool(v), _) => json!({ "valueBoolean": v }),
                (Value::Number(n), Some(d)) if d.kind == ItemKind::Choice => {
                    let opt = inst
                        .expect("an item has an instrument")
                        .options_of(d)
                        .iter()
                        .find(|o| Some(o.value) == n.as_i64());
                    match opt {
                        Some(o) => {
                            let mut coding = Map::new();
                            if let Some(code) = &o.loinc {
                                coding.insert("system".into(), LOINC.into());
                                coding.insert("code".into(), code.clone().into());
                            } else {
                                coding.insert(
                                    "system".into(),
                                    format!("{SYSTEM}:answer:{id}").into(),
                                );
                                coding.insert("code".into(), o.value.to_string().into());
                            }
                            coding.insert("display".into(), o.label.clone().into());
                            let mut v = Map::new();
                            v.insert("valueCoding".into(), Value::Object(coding));
                            Value::Object(v)
                        }
                        None => json!({ "valueInteger": n }),
                    }
                }
                (Value::Number(n), _) if n.is_i64() => json!({ "valueInteger": n }),
                (other, _) => json!({ "valueString": other.to_string() }),
            };
            let mut item = Map::new();
            item.insert("linkId".into(), item_id.into());
            if let Some(d) = def {
                item.insert("text".into(), d.text.clone().into());
            }
            item.insert("answer".into(), Value::Array(vec![answer]));
            items.push(Value::Object(item));
        };
        // Definition order when known; otherwise as recorded.
        match inst {
            Some(i) => {
                for d in &i.items {
                    if let Some(v) = answers.get(&d.id) {
                        push(&d.id, v);
                    }
                }
            }
            None => {
                for (k, v) in answers {
                    push(k, v);
                }
            }
        }
        let mut r = json!({
            "questionnaire": format!("{SYSTEM}:questionnaire:{id}|{version}"),
            "status": if complete { "completed" } else { "in-progress" },
            "subject": reference(patient),
            "encounter": reference(encounter),
            "authored": row.finalized_at,
        });
        let o = r.as_object_mut().expect("an object");
        if !items.is_empty() {
            o.insert("item".into(), Value::Array(items));
        }
        if sud_items {
            o.insert("meta".into(), sud_label());
        }
        b.add("QuestionnaireResponse", id, r)
    }

    #[allow(clippy::too_many_arguments)]
    fn score(
        &self,
        b: &mut Bundle,
        row: &EncounterRow,
        id: &str,
        result: &Value,
        inst: Option<&Instrument>,
        consent: bool,
        qr: Option<&str>,
        patient: &str,
        encounter: &str,
    ) {
        // Without consent the total of an instrument with a substance-use item is withheld
        // (with the other answers it would give that item away); its band stays.
        let total = result
            .get("total")
            .and_then(Value::as_i64)
            .filter(|_| consent || !self.policy.has_sud_items(id));
        let band = result.get("band").filter(|b| b.is_object());
        if total.is_none() && band.is_none() {
            return;
        }
        let title = inst.map_or(id, |i| i.short_title.as_str());
        let mut codings = Vec::new();
        if total.is_some()
            && let Some(code) = inst.and_then(|i| i.scoring.loinc.as_deref())
        {
            codings.push(
                json!({ "system": LOINC, "code": code, "display": format!("{title} total score") }),
            );
        }
        let (suffix, text) = if total.is_some() {
            ("total", format!("{title} total score"))
        } else {
            ("result", format!("{title} result"))
        };
        codings.push(json!({ "system": format!("{SYSTEM}:score"), "code": format!("{id}-{suffix}"), "display": text }));
        let band_concept = band.map(|bd| {
            let code = bd.get("id").and_then(Value::as_str).unwrap_or("");
            let label = bd.get("label").and_then(Value::as_str).unwrap_or(code);
            json!({ "coding": [{ "system": format!("{SYSTEM}:band:{id}"), "code": code, "display": label }], "text": label })
        });
        let mut r = json!({
            "status": "final",
            "category": [{ "coding": [{ "system": OBS_CATEGORY, "code": "survey", "display": "Survey" }] }],
            "code": { "coding": codings, "text": text },
            "subject": reference(patient),
            "encounter": reference(encounter),
            "effectiveDateTime": row.received_at,
            "issued": row.finalized_at,
        });
        let o = r.as_object_mut().expect("an object");
        match (total, band_concept) {
            (Some(t), band) => {
                o.insert("valueInteger".into(), t.into());
                if let Some(band) = band {
                    o.insert("interpretation".into(), Value::Array(vec![band]));
                }
            }
            (None, Some(band)) => {
                o.insert("valueCodeableConcept".into(), band);
            }
            (None, None) => unreachable!("returned above"),
        }
        if let Some(qr) = qr {
            o.insert("derivedFrom".into(), Value::Array(vec![reference(qr)]));
        }
        // A total that counts a substance-use item is substance-use information too.
        if inst.is_some_and(|i| i.sud) || (total.is_some() && self.policy.has_sud_items(id)) {
            o.insert("meta".into(), sud_label());
        }
        b.add("Observation", id, r);
    }

    fn placement(
        &self,
        b: &mut Bundle,
        row: &EncounterRow,
        p: &Value,
        consent: bool,
        patient: &str,
        encounter: &str,
    ) -> Option<String> {
        let chosen = row.cell_chosen.as_deref().and_then(CellId::parse);
        // A withheld view has no cell (it names the addiction acuity): the MH severity comes
        // from the placement in the payload.
        let mh = match chosen {
            Some(c) => c.mh.as_str().to_owned(),
            None => str_at(p, &["outcome", "placement", "mh_severity", "level"])?.to_owned(),
        };
        let computed = row.cell_computed.as_deref().and_then(CellId::parse);
        let level = |axis: &str, code: &str, display: &str, level: &str| {
            json!({
                "code": { "coding": [{ "system": format!("{SYSTEM}:observation"), "code": code, "display": display }], "text": display },
                "valueCodeableConcept": { "coding": [{ "system": format!("{SYSTEM}:level"), "code": level, "display": level }], "text": format!("{axis}: {level}") },
            })
        };
        let cell_concept = |c: CellId| {
            let q = &self.defs.quadrants;
            let axis = |levels: &[crate::domain::quadrant::AxisLevel], l| {
                levels
                    .iter()
                    .find(|a| a.id == l)
                    .map_or_else(|| format!("{l}"), |a| a.label.clone())
            };
            let label = format!(
                "MH severity {} × addiction acuity {}",
                axis(&q.mh_levels, c.mh),
                axis(&q.acuity_levels, c.acuity)
            );
            json!({ "coding": [{ "system": format!("{SYSTEM}:quadrant-cell"), "code": c.id(), "display": label }], "text": label })
        };
        let mut components = vec![level(
            "Mental-health severity",
            "mh-severity",
            "Mental-health severity",
            &mh,
        )];
        let mut notes = Vec::new();
        let reasons = |axis: &str| -> Vec<String> {
            p.pointer(&format!("/outcome/placement/{axis}/reasons"))
                .and_then(Value::as_array)
                .map(|rs| {
                    rs.iter()
                        .filter_map(|r| r.get("reason").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        notes.extend(reasons("mh_severity"));
        let mut r = json!({
            "status": "final",
            "category": [{ "coding": [{ "system": OBS_CATEGORY, "code": "survey", "display": "Survey" }] }],
            "code": {
                "coding": [{ "system": format!("{SYSTEM}:observation"), "code": "placement", "display": "9-quadrant placement (mental-health severity × addiction acuity)" }],
                "text": "9-quadrant placement",
            },
            "subject": reference(patient),
            "encounter": reference(encounter),
            "effectiveDateTime": row.received_at,
            "issued": row.finalized_at,
        });
        let o = r.as_object_mut().expect("an object");
        if consent && let Some(chosen) = chosen {
            o.insert("valueCodeableConcept".into(), cell_concept(chosen));
            components.push(level(
                "Addiction acuity",
                "addiction-acuity",
                "Addiction acuity",
                chosen.acuity.as_str(),
            ));
            if let Some(c) = computed.filter(|c| *c != chosen) {
                components.push(json!({
                    "code": { "coding": [{ "system": format!("{SYSTEM}:observation"), "code": "computed-cell", "display": "Computed cell (before the screener's override)" }] },
                    "valueCodeableConcept": cell_concept(c),
                }));
            }
            notes.extend(reasons("addiction_acuity"));
            if let Some(why) = str_at(p, &["override_reason"]) {
                notes.push(format!("Override: {why}"));
            }
            o.insert("meta".into(), sud_label());
        } else {
            // The cell names the addiction acuity: withheld without consent.
            o.insert(
                "dataAbsentReason".into(),
                json!({ "coding": [{ "system": DATA_ABSENT, "code": "masked", "display": "Masked" }], "text": "Addiction acuity withheld: no consent to share substance-use information" }),
            );
        }
        o.insert("component".into(), Value::Array(components));
        if !notes.is_empty() {
            o.insert(
                "note".into(),
                Value::Array(notes.into_iter().map(|t| json!({ "text": t })).collect()),
            );
        }
        Some(b.add("Observation", "placement", r))
    }

    #[allow(clippy::too_many_arguments)]
    fn referrals(
        &self,
        b: &mut Bundle,
        row: &EncounterRow,
        p: &Value,
        consent: bool,
        patient: &str,
        encounter: &str,
        placement: &Option<String>,
    ) {
        // The screener UI writes `referrals` (a list); older payloads one `referral` object.
        let list: Vec<&Value> = match (p.get("referrals"), p.get("referral")) {
            (Some(Value::Array(a)), _) => a.iter().collect(),
            (_, Some(r)) if r.is_object() => vec![r],
            _ => Vec::new(),
        };
        for r in list {
            let Some(service_id) = str_at(r, &["service_id"]) else {
                continue;
            };
            let service = self
                .defs
                .directory
                .services
                .iter()
                .find(|s| s.id == service_id);
            let org = service.and_then(|s| {
                self.defs
                    .directory
                    .organizations
                    .iter()
                    .find(|o| o.id == s.organization_id)
            });
            let sud = self.policy.is_sud_service(service_id);
            if sud && !consent {
                continue;
            }
            let name = service
                .map(|s| s.name.as_str())
                .or_else(|| str_at(r, &["name"]))
                .unwrap_or(service_id);
            let org_name = org
                .map(|o| o.name.as_str())
                .or_else(|| str_at(r, &["organization"]));
            // When it is due: recorded with the referral, or the matching program's deadline.
            let due = str_at(r, &["due", "due_at"])
                .map(str::to_owned)
                .or_else(|| {
                    p.pointer("/outcome/programs")
                        .and_then(Value::as_array)?
                        .iter()
                        .find(|m| m.get("service_id").and_then(Value::as_str) == Some(service_id))
                        .and_then(|m| str_at(m, &["due", "due_at"]))
                        .map(str::to_owned)
                });
            let warm = r.get("warm_handoff").and_then(Value::as_bool) == Some(true);
            let mut sr = json!({
                "status": "active",
                "intent": "order",
                "category": [{ "coding": [{ "system": SNOMED, "code": "3457005", "display": "Patient referral" }] }],
                "code": { "coding": [{ "system": format!("{SYSTEM}:service"), "code": service_id, "display": name }], "text": name },
                "subject": reference(patient),
                "encounter": reference(encounter),
                "authoredOn": row.finalized_at,
                "note": [{ "text": if warm { "Warm hand-off made during the call" } else { "Appointment or contact details given to the caller" } }],
            });
            let o = sr.as_object_mut().expect("an object");
            if let Some(pr) = row.triage.as_deref().and_then(priority) {
                o.insert("priority".into(), pr.into());
            }
            if let Some(due) = due {
                o.insert("occurrenceDateTime".into(), due.into());
            }
            if let Some(org) = org_name {
                o.insert("performer".into(), json!([{ "display": org }]));
            }
            if let Some(pl) = placement {
                o.insert("reasonReference".into(), json!([reference(pl)]));
            }
            if sud {
                o.insert("meta".into(), sud_label());
            }
            b.add("ServiceRequest", &format!("referral-{service_id}"), sr);
        }
    }
}
