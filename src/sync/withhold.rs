//! Consent-aware export (42 CFR Part 2, DESIGN 6, issue 7 item 6): substance-use details
//! leave the device only for revisions whose caller consented (`sud_consent` given). Any
//! other revision is exported as a *withheld view*: the stored payload with every
//! substance-use detail removed and the marker `"sud_withheld":"accessline.sud-withheld/1"`
//! added, hashed on its own. Both exports use the same [`SudPolicy`].
//!
//! What a view leaves out (docs/sync.md has the reasoning):
//! - answers to substance-use instruments (AUDIT-C, DAST-10, ASAM triage) and substance-use
//!   items of other instruments (the state screening tools' substance item);
//! - their results (scores, bands, flags) and every flag they raise; the total of an
//!   instrument with a substance-use item (it would give the item's answer away; its band,
//!   the screening tool's routing, stays);
//! - the addiction acuity, the quadrant cell (computed and chosen: a cell names the acuity),
//!   the screener's cell override and its reason;
//! - triage reasons from rules that look at a cell or at substance-use answers;
//! - deadlines of substance-use standards and matching programs or referrals of
//!   substance-use services (SAPC's, SUD categories, co-occurring and dual-disorder
//!   programs); the count of programs matched (it depends on the cell).
//!
//! The view is a deterministic function of the stored payload and the definitions: members
//! that are kept keep their exact bytes and order, so the same revision always gives the same
//! view and the same hash (re-exports are no-ops at the hub).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::domain::Definitions;
use crate::domain::condition::Condition;

/// The marker member added to a withheld view, and its value (the rule's version).
pub const MARKER_KEY: &str = "sud_withheld";
pub const MARKER: &str = "accessline.sud-withheld/1";

/// Directory categories of substance-use services, whatever the organization's system:
/// treatment, withdrawal management, and programs for co-occurring or dual disorders (a
/// referral there says the caller has a substance-use condition).
pub const SUD_CATEGORIES: &[&str] = &[
    "sud_outpatient",
    "sud_iop",
    "sud_residential",
    "otp",
    "withdrawal_management",
    "residential_dual",
    "mh_cod",
];

/// Members of `outcome` a view keeps (after filtering); anything else is left out, so a
/// member added later is withheld until someone decides it is safe.
const OUTCOME_KEPT: &[&str] = &[
    "age",
    "service_area",
    "evaluation",
    "crisis_indicated",
    "placement",
    "triage",
    "deadlines",
    "programs",
    "help_lines",
];

/// The revision of the code that makes a view ([`SudPolicy::view`]): part of
/// [`SudPolicy::fingerprint`], so views kept by the store (`encounter_view`) are made again
/// when it changes. Raise it with any change to what a view contains or how it is written.
const VIEW_CODE_REVISION: u32 = 1;

/// Which parts of the definitions are substance-use content.
#[derive(Debug, Clone, Default)]
pub struct SudPolicy {
    /// Names these rules over these definitions (see [`SudPolicy::fingerprint`]).
    fingerprint: String,
    instruments: HashSet<String>,
    /// Non-SUD instrument → its substance-use items.
    items: HashMap<String, HashSet<String>>,
    flags: HashSet<String>,
    triage_rules: HashSet<String>,
    standards: HashSet<String>,
    services: HashSet<String>,
}

/// The policy of the definitions this program ships (`Definitions::builtin`), made once: the
/// store makes each revision's view with it when the revision is finalized. `None` if the
/// shipped definitions cannot be read (then no view is kept, and exports make them).
pub fn builtin() -> Option<&'static SudPolicy> {
    static BUILTIN: std::sync::OnceLock<Option<SudPolicy>> = std::sync::OnceLock::new();
    BUILTIN
        .get_or_init(|| Definitions::builtin().ok().map(|d| SudPolicy::new(&d)))
        .as_ref()
}

/// Whether the caller consented to sharing substance-use information: `sud_consent` is
/// `"given"` (or `true`, an older form). Anything else — not asked, declined, absent, an
/// unreadable payload — is no consent.
pub fn consent_given(payload: &str) -> bool {
    #[derive(Deserialize)]
    struct C<'a> {
        #[serde(borrow, default)]
        sud_consent: Option<&'a RawValue>,
    }
    match serde_json::from_str::<C<'_>>(payload) {
        Ok(C {
            sud_consent: Some(v),
        }) => matches!(v.get(), "\"given\"" | "true"),
        _ => false,
    }
}

/// A shortcut for [`consent_given`] on the payloads accessline writes, without parsing them:
/// `true` only when `"sud_consent":` occurs once in the text and the text ends with it as a
/// top-level member given consent. In valid JSON (a stored payload, its hash checked) an
/// unescaped `"sud_consent":` is always a key, and a scalar member just before the document's
/// final `}` (or before one more scalar member) belongs to the top-level object. Anything else
/// (`false`) means: parse to find out.
fn consent_given_fast(payload: &str) -> bool {
    const KEY: &[u8] = b"\"sud_consent\":";
    let bytes = payload.as_bytes();
    let given = [
        &b",\"sud_consent\":\"given\"}"[..],
        &b",\"sud_consent\":\"given\",\"correction\":null}"[..],
    ];
    given.iter().any(|s| bytes.ends_with(s))
        && memchr::memmem::find_iter(bytes, KEY).take(2).count() == 1
}

/// Whether a payload is a withheld view (has the top-level marker member).
pub fn is_view(payload: &str) -> bool {
    #[derive(Deserialize)]
    struct M<'a> {
        #[serde(borrow, default)]
        sud_withheld: Option<&'a RawValue>,
    }
    serde_json::from_str::<M<'_>>(payload).is_ok_and(|m| m.sud_withheld.is_some())
}

/// A revision as it leaves the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub payload: String,
    pub sha256: String,
    /// The deadline column recomputed without substance-use deadlines (as stored text).
    pub deadline_at: Option<String>,
}

impl SudPolicy {
    pub fn new(defs: &Definitions) -> SudPolicy {
        let mut p = SudPolicy::default();
        for (id, inst) in &defs.instruments {
            if inst.sud {
                p.instruments.insert(id.clone());
                p.flags.extend(inst.flags.iter().map(|f| f.id.clone()));
            } else {
                let items: HashSet<String> = inst
                    .items
                    .iter()
                    .filter(|i| i.sud)
                    .map(|i| i.id.clone())
                    .collect();
                if !items.is_empty() {
                    // A flag of a mixed instrument that looks at a substance-use item.
                    for f in &inst.flags {
                        if mentions(&f.when, &p.instruments, &HashSet::new(), &items) {
                            p.flags.insert(f.id.clone());
                        }
                    }
                    p.items.insert(id.clone(), items);
                }
            }
        }
        let all_items: HashSet<String> = p.items.values().flatten().cloned().collect();
        for level in &defs.placement.triage.levels {
            for rule in &level.rules {
                if mentions(&rule.when, &p.instruments, &p.flags, &all_items) {
                    p.triage_rules.insert(rule.id.clone());
                }
            }
        }
        for s in &defs.timeliness.standards {
            if !s.categories.is_empty()
                && s.categories
                    .iter()
                    .all(|c| SUD_CATEGORIES.contains(&c.as_str()))
            {
                p.standards.insert(s.id.clone());
            }
        }
        let sapc: HashSet<&str> = defs
            .directory
            .organizations
            .iter()
            .filter(|o| o.system == "SAPC")
            .map(|o| o.id.as_str())
            .collect();
        for s in &defs.directory.services {
            if sapc.contains(s.organization_id.as_str())
                || SUD_CATEGORIES.contains(&s.category.as_str())
            {
                p.services.insert(s.id.clone());
            }
        }
        p.fingerprint = p.compute_fingerprint();
        p
    }

    /// A name for exactly these rules: the SHA-256 of everything a view depends on besides
    /// the payload (the sets read from the definitions, the members kept, the marker, the
    /// code's revision). Two policies with the same fingerprint make the same view of every
    /// payload, so a view the store kept under it can be sent as it is.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn compute_fingerprint(&self) -> String {
        fn sorted(s: &HashSet<String>) -> Vec<&str> {
            let mut v: Vec<&str> = s.iter().map(String::as_str).collect();
            v.sort_unstable();
            v
        }
        let mut items: Vec<(&str, Vec<&str>)> = self
            .items
            .iter()
            .map(|(k, v)| (k.as_str(), sorted(v)))
            .collect();
        items.sort_unstable();
        let text = serde_json::json!({
            "code": VIEW_CODE_REVISION,
            "marker": MARKER,
            "outcome_kept": OUTCOME_KEPT,
            "instruments": sorted(&self.instruments),
            "items": items,
            "flags": sorted(&self.flags),
            "triage_rules": sorted(&self.triage_rules),
            "standards": sorted(&self.standards),
            "services": sorted(&self.services),
        })
        .to_string();
        crate::store::payload_sha256(text)
    }

    pub fn is_sud_instrument(&self, id: &str) -> bool {
        self.instruments.contains(id)
    }

    pub fn is_sud_item(&self, instrument: &str, item: &str) -> bool {
        self.instruments.contains(instrument)
            || self.items.get(instrument).is_some_and(|i| i.contains(item))
    }

    /// A non-SUD instrument with substance-use items (its total includes them).
    pub fn has_sud_items(&self, instrument: &str) -> bool {
        self.items.contains_key(instrument)
    }

    pub fn is_sud_service(&self, id: &str) -> bool {
        self.services.contains(id)
    }

    pub fn is_sud_flag(&self, id: &str) -> bool {
        self.flags.contains(id)
    }

    pub fn is_sud_triage_rule(&self, id: &str) -> bool {
        self.triage_rules.contains(id)
    }

    pub fn is_sud_standard(&self, id: &str) -> bool {
        self.standards.contains(id)
    }

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

/// Whether a condition looks at a cell, a substance-use instrument, flag or item.
fn mentions(
    c: &Condition,
    instruments: &HashSet<String>,
    flags: &HashSet<String>,
    items: &HashSet<String>,
) -> bool {
    let v = serde_json::to_value(c).unwrap_or_default();
    fn walk(
        v: &serde_json::Value,
        instruments: &HashSet<String>,
        flags: &HashSet<String>,
        items: &HashSet<String>,
    ) -> bool {
        match v {
            serde_json::Value::Object(m) => m.iter().any(|(k, x)| {
                let s = x.as_str();
                let here = match k.as_str() {
                    "cell" => true,
                    "instrument" => s.is_some_and(|s| instruments.contains(s)),
                    "flag" => s.is_some_and(|s| flags.contains(s)),
                    "item" => s.is_some_and(|s| items.contains(s)),
                    _ => false,
                };
                here || walk(x, instruments, flags, items)
            }),
            serde_json::Value::Array(a) => a.iter().any(|x| walk(x, instruments, flags, items)),
            _ => false,
        }
    }
    walk(&v, instruments, flags, items)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_is_given_only_when_recorded_as_given() {
        assert!(consent_given(r#"{"sud_consent":"given"}"#));
        assert!(consent_given(r#"{"sud_consent":true}"#));
        for p in [
            r#"{"sud_consent":"declined"}"#,
            r#"{"sud_consent":"not_asked"}"#,
            r#"{"x":{"sud_consent":"given"}}"#,
            r#"{"sud_consent":"declined","sud_consent":"given"}"#,
            r#"{}"#,
            "not json",
        ] {
            assert!(!consent_given(p), "{p}");
        }
    }

    #[test]
    fn the_shortcut_agrees_with_parsing_or_parses() {
        let yes = [
            r#"{"a":1,"sud_consent":"given"}"#,
            r#"{"a":{"b":[1]},"sud_consent":"given","correction":null}"#,
        ];
        for p in yes {
            assert!(consent_given_fast(p) && consent_given(p), "{p}");
        }
        let no = [
            // Twice: ambiguous, so parse (and a duplicate key is no consent).
            r#"{"sud_consent":"declined","sud_consent":"given"}"#,
            r#"{"x":{"sud_consent":"given"},"sud_consent":"given"}"#,
            r#"{"x":{"sud_consent":"given"}}"#,
            r#"{"r":"\"sud_consent\":\"given\"}"}"#,
            r#"{"sud_consent":"given","later":1}"#,
        ];
        for p in no {
            assert!(!consent_given_fast(p), "{p}");
        }
        // A shortcut miss still finds consent by parsing.
        assert!(consent_given(r#"{"sud_consent":"given","later":1}"#));
    }

    #[test]
    fn the_policy_names_the_substance_use_parts_of_the_definitions() {
        let defs = Definitions::builtin().unwrap();
        let p = SudPolicy::new(&defs);
        for i in ["auditc", "dast10", "asam_triage"] {
            assert!(p.is_sud_instrument(i), "{i}");
        }
        for i in ["phq9", "gad7", "cssrs_screen", "dhcs_adult", "mh_history"] {
            assert!(!p.is_sud_instrument(i), "{i}");
        }
        assert!(p.is_sud_item("dhcs_adult", "substance"));
        assert!(p.is_sud_item("dhcs_youth", "substance"));
        assert!(p.is_sud_flag("auditc_positive"));
        assert!(!p.is_sud_flag("phq9_item9"));
        assert!(p.is_sud_triage_rule("triage_urgent_high_high"));
        assert!(!p.is_sud_triage_rule("triage_urgent_phq9_item9"));
        assert!(p.is_sud_standard("routine_sud") && p.is_sud_standard("routine_otp"));
        assert!(!p.is_sud_standard("routine_mh"));
        for s in [
            "svc-ttc-otp",
            "svc-ssg-sud",
            "svc-dmh-lb-cod",
            "svc-river-resdual",
            "svc-ttc-ibh",
        ] {
            assert!(p.is_sud_service(s), "{s}");
        }
        for s in [
            "svc-lacare-bh",
            "svc-dmh-fsp-adult",
            "svc-dhs-lacusc-pes",
            "svc-didi-988",
        ] {
            assert!(!p.is_sud_service(s), "{s}");
        }
    }
}
