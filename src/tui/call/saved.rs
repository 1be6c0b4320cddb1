//! A call to and from its saved form: the draft's fields (one key per answer) and a
//! finalized payload (to write an addendum).

use super::*;

impl Call {
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
}
