//! The instruments of a bundle: a QuestionnaireResponse per instrument answered, and an
//! Observation per result (its total, with the LOINC code where the instrument has one).

use serde_json::{Map, Value, json};

use super::{Bundle, LOINC, Mapper, OBS_CATEGORY, SYSTEM, reference, sud_label};
use crate::domain::instrument::{Instrument, ItemKind};
use crate::store::EncounterRow;

impl Mapper<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn questionnaire_response(
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
    pub(super) fn score(
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
}
