//! The plan of a bundle: the 9-quadrant placement as an Observation, and a ServiceRequest per
//! referral with its priority from the triage level.

use serde_json::{Value, json};

use super::{
    Bundle, DATA_ABSENT, Mapper, OBS_CATEGORY, SNOMED, SYSTEM, priority, reference, str_at,
    sud_label,
};
use crate::domain::quadrant::CellId;
use crate::store::EncounterRow;

impl Mapper<'_> {
    pub(super) fn placement(
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
    pub(super) fn referrals(
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
