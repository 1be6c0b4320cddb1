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

mod view;

#[cfg(test)]
mod tests;
