//! Making a withheld view: the stored payload rewritten member by member from its raw JSON
//! (no full parse), every substance-use detail left out and the marker added.

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{MARKER, MARKER_KEY, OUTCOME_KEPT, SudPolicy, View, consent_given_fast};

impl SudPolicy {
    /// The withheld view of a stored payload: `None` when the caller consented (the payload
    /// leaves as stored). A payload that cannot be read is an error: it must not leave
    /// unfiltered.
    pub fn view(&self, payload: &str, deadline_at: Option<&str>) -> Result<Option<View>, String> {
        if consent_given_fast(payload) {
            return Ok(None);
        }
        // One pass over the top level finds the consent and, without it, what to filter.
        let top = members(payload)?;
        if top
            .iter()
            .any(|(k, v)| k == "sud_consent" && matches!(v.get(), "\"given\"" | "true"))
        {
            return Ok(None);
        }
        let mut out = String::with_capacity(payload.len());
        let mut removed_deadline = false;
        let mut kept_deadlines: Vec<String> = Vec::new();
        let mut w = ObjWriter::new(&mut out);
        for (key, raw) in top {
            match key.as_str() {
                MARKER_KEY => return Err("the payload is already a withheld view".into()),
                "override_cell" | "override_reason" => {}
                "answers" => {
                    let v = self.answers(raw)?;
                    w.member(&key, &v);
                }
                "outcome" => {
                    let v = self.outcome(raw, &mut removed_deadline, &mut kept_deadlines)?;
                    w.member(&key, &v);
                }
                "referrals" => {
                    let v = self.filter_array(raw, |e| Ok(!self.sud_referral(e)?))?;
                    w.member(&key, &v);
                }
                "referral" => {
                    if !self.sud_referral(raw)? {
                        w.member(&key, raw.get());
                    }
                }
                _ => w.member(&key, raw.get()),
            }
        }
        w.member(MARKER_KEY, &format!("\"{MARKER}\""));
        w.finish();
        let deadline_at = if removed_deadline {
            kept_deadlines
                .iter()
                .filter_map(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .map(|d| crate::store::ts(d.with_timezone(&chrono::Utc)))
                .min()
        } else {
            deadline_at.map(str::to_owned)
        };
        Ok(Some(View {
            sha256: crate::store::payload_sha256(&out),
            payload: out,
            deadline_at,
        }))
    }

    fn sud_referral(&self, raw: &RawValue) -> Result<bool, String> {
        #[derive(Deserialize)]
        struct R {
            service_id: Option<String>,
        }
        let r: R = serde_json::from_str(raw.get()).map_err(|e| format!("a referral: {e}"))?;
        Ok(r.service_id.is_some_and(|s| self.is_sud_service(&s)))
    }

    fn answers(&self, raw: &RawValue) -> Result<String, String> {
        let mut out = String::with_capacity(raw.get().len());
        let mut w = ObjWriter::new(&mut out);
        for (inst, answers) in members(raw.get())? {
            if self.is_sud_instrument(&inst) {
                continue;
            }
            match self.items.get(&inst) {
                Some(items) => {
                    let mut inner = String::with_capacity(answers.get().len());
                    let mut iw = ObjWriter::new(&mut inner);
                    for (item, v) in members(answers.get())? {
                        if !items.contains(&item) {
                            iw.member(&item, v.get());
                        }
                    }
                    iw.finish();
                    w.member(&inst, &inner);
                }
                None => w.member(&inst, answers.get()),
            }
        }
        w.finish();
        Ok(out)
    }

    fn outcome(
        &self,
        raw: &RawValue,
        removed_deadline: &mut bool,
        kept_deadlines: &mut Vec<String>,
    ) -> Result<String, String> {
        let mut out = String::with_capacity(raw.get().len());
        let mut w = ObjWriter::new(&mut out);
        for (key, v) in members(raw.get())? {
            if !OUTCOME_KEPT.contains(&key.as_str()) {
                continue;
            }
            match key.as_str() {
                "evaluation" => {
                    let mut e = String::with_capacity(v.get().len());
                    let mut ew = ObjWriter::new(&mut e);
                    for (k, x) in members(v.get())? {
                        match k.as_str() {
                            "results" => {
                                #[derive(Deserialize)]
                                struct R {
                                    instrument: String,
                                }
                                let r = self.map_array(x, |r| {
                                    // Results are written with `instrument` first: read it
                                    // from the front when it is there, plainly.
                                    let front = r
                                        .get()
                                        .strip_prefix("{\"instrument\":\"")
                                        .and_then(|t| t.split_once('"'))
                                        .map(|(id, _)| id)
                                        .filter(|id| !id.contains('\\'));
                                    let parsed = match front {
                                        Some(id) => R {
                                            instrument: id.to_owned(),
                                        },
                                        None => serde_json::from_str(r.get())
                                            .map_err(|e| format!("a result: {e}"))?,
                                    };
                                    if self.is_sud_instrument(&parsed.instrument) {
                                        return Ok(None);
                                    }
                                    if !self.has_sud_items(&parsed.instrument) {
                                        return Ok(Some(r.get().to_owned()));
                                    }
                                    // The total of a mixed instrument minus the answers a
                                    // view keeps would give the substance-use answer away.
                                    let mut out = String::with_capacity(r.get().len());
                                    let mut w = ObjWriter::new(&mut out);
                                    for (k, v) in members(r.get())? {
                                        w.member(&k, if k == "total" { "null" } else { v.get() });
                                    }
                                    w.finish();
                                    Ok(Some(out))
                                })?;
                                ew.member(&k, &r);
                            }
                            "flags" => {
                                let f = self.filter_array(x, |f| {
                                    let f: String = serde_json::from_str(f.get())
                                        .map_err(|e| format!("a flag: {e}"))?;
                                    Ok(!self.is_sud_flag(&f))
                                })?;
                                ew.member(&k, &f);
                            }
                            _ => ew.member(&k, x.get()),
                        }
                    }
                    ew.finish();
                    w.member(&key, &e);
                }
                "placement" => {
                    let mut p = String::with_capacity(v.get().len());
                    let mut pw = ObjWriter::new(&mut p);
                    for (k, x) in members(v.get())? {
                        if k == "mh_severity" {
                            pw.member(&k, x.get());
                        }
                    }
                    pw.finish();
                    w.member(&key, &p);
                }
                "triage" => {
                    let mut t = String::new();
                    let mut tw = ObjWriter::new(&mut t);
                    for (k, x) in members(v.get())? {
                        if k == "reasons" {
                            #[derive(Deserialize)]
                            struct R {
                                rule: String,
                            }
                            let r = self.filter_array(x, |r| {
                                let r: R = serde_json::from_str(r.get())
                                    .map_err(|e| format!("a triage reason: {e}"))?;
                                Ok(!self.is_sud_triage_rule(&r.rule))
                            })?;
                            tw.member(&k, &r);
                        } else {
                            tw.member(&k, x.get());
                        }
                    }
                    tw.finish();
                    w.member(&key, &t);
                }
                "deadlines" => {
                    #[derive(Deserialize)]
                    struct D {
                        standard: String,
                        due_at: String,
                    }
                    let d = self.filter_array(v, |d| {
                        let d: D = serde_json::from_str(d.get())
                            .map_err(|e| format!("a deadline: {e}"))?;
                        if self.is_sud_standard(&d.standard) {
                            *removed_deadline = true;
                            Ok(false)
                        } else {
                            kept_deadlines.push(d.due_at);
                            Ok(true)
                        }
                    })?;
                    w.member(&key, &d);
                }
                "programs" => {
                    let p = self.filter_array(v, |e| Ok(!self.sud_referral(e)?))?;
                    w.member(&key, &p);
                }
                _ => w.member(&key, v.get()),
            }
        }
        w.finish();
        Ok(out)
    }

    /// A JSON array's elements as `f` maps them (`None`: left out).
    fn map_array(
        &self,
        raw: &RawValue,
        mut f: impl FnMut(&RawValue) -> Result<Option<String>, String>,
    ) -> Result<String, String> {
        let items: Vec<&RawValue> =
            serde_json::from_str(raw.get()).map_err(|e| format!("not an array: {e}"))?;
        let mut out = String::with_capacity(raw.get().len());
        out.push('[');
        let mut first = true;
        for i in items {
            if let Some(v) = f(i)? {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&v);
            }
        }
        out.push(']');
        Ok(out)
    }

    /// A JSON array's elements that `keep` accepts, each as its exact text.
    fn filter_array(
        &self,
        raw: &RawValue,
        mut keep: impl FnMut(&RawValue) -> Result<bool, String>,
    ) -> Result<String, String> {
        let items: Vec<&RawValue> =
            serde_json::from_str(raw.get()).map_err(|e| format!("not an array: {e}"))?;
        let mut out = String::with_capacity(raw.get().len());
        out.push('[');
        let mut first = true;
        for i in items {
            if keep(i)? {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(i.get());
            }
        }
        out.push(']');
        Ok(out)
    }
}

/// An object's members in order, values as their exact text. Duplicate keys are refused
/// (which one counts would be ambiguous).
fn members(text: &str) -> Result<Vec<(String, &RawValue)>, String> {
    struct Members<'a>(Vec<(String, &'a RawValue)>);
    impl<'de> Deserialize<'de> for Members<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Members<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Members<'de>, A::Error> {
                    let mut out: Vec<(String, &'de RawValue)> = Vec::with_capacity(16);
                    while let Some(k) = m.next_key::<String>()? {
                        let v: &'de RawValue = m.next_value()?;
                        // Objects here have a dozen members: a linear check is cheapest.
                        if out.iter().any(|(seen, _)| *seen == k) {
                            return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
                        }
                        out.push((k, v));
                    }
                    Ok(Members(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Members<'_>>(text)
        .map(|m| m.0)
        .map_err(|e| format!("the payload cannot be read ({e})"))
}

/// Writes `{"key":value,…}` with values given as JSON text.
struct ObjWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> ObjWriter<'a> {
    fn new(out: &'a mut String) -> ObjWriter<'a> {
        out.push('{');
        ObjWriter { out, first: true }
    }

    fn member(&mut self, key: &str, json: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out
            .push_str(&serde_json::to_string(key).expect("a string serializes"));
        self.out.push(':');
        self.out.push_str(json);
    }

    fn finish(self) {
        self.out.push('}');
    }
}
