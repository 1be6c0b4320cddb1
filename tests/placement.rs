//! Placement, triage, deadlines and directory matching through the shipped definitions and the
//! `assess` input path: every quadrant cell reachable, every placement rule fires with its
//! reason, both sides of every threshold, deadlines across weekends, holidays and year end, and
//! directory matching by cell, age, language and service area.
//!
//! Every case is written as an `accessline.assess.input/1` document and goes through
//! `parse_input` (so it is also a valid, complete input) and then `Definitions::outcome`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use accessline::domain::Definitions;
use accessline::domain::assess::{AssessInput, assess, parse_input};
use accessline::domain::outcome::{CRISIS_CATEGORIES, Outcome, OutcomeInput};
use accessline::domain::placement::{Reason, Triage};
use accessline::domain::quadrant::{CellId, Level};
use accessline::domain::timeliness::Due;
use chrono::NaiveDate;
use serde_json::{Value, json};

static DEFS: LazyLock<Definitions> = LazyLock::new(common::defs);

// ---------------------------------------------------------------------------------------------
// Building cases
// ---------------------------------------------------------------------------------------------

/// An `assess` input under construction.
#[derive(Clone, Debug)]
struct Case(Value);

fn item_index(instrument: &str, item: &str) -> usize {
    DEFS.instrument(instrument)
        .unwrap_or_else(|| panic!("no instrument {instrument}"))
        .items
        .iter()
        .position(|i| i.id == item)
        .unwrap_or_else(|| panic!("{instrument} has no item {item}"))
}

/// `n` choice answers (each 0..=per_item) adding up to `total`, filled from the first item.
fn spread(total: i64, n: usize, per_item: i64) -> Vec<i64> {
    assert!(
        total <= per_item * n as i64,
        "{total} does not fit {n} items"
    );
    let mut left = total;
    (0..n)
        .map(|_| {
            let v = left.min(per_item);
            left -= v;
            v
        })
        .collect()
}

impl Case {
    /// A calm adult caller: no risk, nothing positive, every applicable instrument answered.
    fn adult() -> Case {
        Case(json!({
            "schema": "accessline.assess.input/1",
            "received_at": "2026-03-10T10:00:00-07:00",
            "intake": { "age": 35, "sex": "female" },
            "answers": {
                "safety_check": [false, false, false],
                "cssrs_screen": [false, false, null, null, null, false, null],
                "dhcs_adult": [
                    false, false, false, false, false, false,
                    false, false, false, false, false, false
                ],
                "auditc": [0, 0, 0],
                "dast10": [false, false, true, false, false, false, false, false, false, false],
                "mh_history": [false, false, false, false, false],
                "phq9": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                "gad7": [0, 0, 0, 0, 0, 0, 0, 0]
            }
        }))
    }

    /// The same calm caller, under 21: the youth screening tool instead of the adult one.
    fn youth(age: u32) -> Case {
        let mut c = Case::adult().intake("age", json!(age));
        let answers = c.0["answers"].as_object_mut().expect("answers object");
        answers.remove("dhcs_adult");
        let mut youth = vec![json!(false); 15];
        youth[item_index("dhcs_youth", "respondent")] = json!(1);
        answers.insert("dhcs_youth".into(), Value::Array(youth));
        c
    }

    fn received(mut self, at: &str) -> Self {
        self.0["received_at"] = json!(at);
        self
    }

    fn intake(mut self, field: &str, value: Value) -> Self {
        self.0["intake"][field] = value;
        self
    }

    fn answers(mut self, instrument: &str, values: Value) -> Self {
        self.0["answers"][instrument] = values;
        self
    }

    fn set(mut self, instrument: &str, item: &str, value: Value) -> Self {
        let n = item_index(instrument, item);
        self.0["answers"][instrument][n] = value;
        self
    }

    fn yes(self, instrument: &str, item: &str) -> Self {
        self.set(instrument, item, json!(true))
    }

    /// PHQ-9 with `total` points, `item9` of them on item 9 (difficulty answered, unscored).
    fn phq9(self, total: i64, item9: i64) -> Self {
        let mut v = spread(total - item9, 8, 3);
        v.extend([item9, 2]);
        self.answers("phq9", json!(v))
    }

    fn gad7(self, total: i64) -> Self {
        let mut v = spread(total, 7, 3);
        v.push(1);
        self.answers("gad7", json!(v))
    }

    fn auditc(self, total: i64) -> Self {
        self.answers("auditc", json!(spread(total, 3, 4)))
    }

    /// DAST-10 answers giving `total` (item 3 is reverse-scored: "yes" scores 0).
    fn dast(self, total: usize) -> Self {
        let mut v = [false; 10];
        v[2] = true;
        for slot in [0, 1, 3, 4, 5, 6, 7, 8, 9].into_iter().take(total.min(9)) {
            v[slot] = true;
        }
        if total == 10 {
            v[2] = false;
        }
        self.answers("dast10", json!(v))
    }

    /// ASAM ratings d1..d6. The triage only applies after a positive substance screen, so a
    /// case without one gets a DAST-10 of 1 (low: no acuity rule of its own).
    fn asam(self, d: [i64; 6]) -> Self {
        let screened = self.0["answers"]["dast10"].as_array().is_some_and(|v| {
            v.iter()
                .enumerate()
                .any(|(n, a)| (n == 2) != (a.as_bool() == Some(true)))
        }) || self.0["answers"]["auditc"]
            .as_array()
            .is_some_and(|v| v.iter().filter_map(Value::as_i64).sum::<i64>() >= 3);
        let c = if screened { self } else { self.dast(1) };
        c.answers("asam_triage", json!(d))
    }

    /// C-SSRS answers q1, q2, q3, q4, q5, q6, q6_recent (`None` = hidden).
    fn cssrs(self, q: [Option<bool>; 7]) -> Self {
        self.answers("cssrs_screen", json!(q))
    }

    fn crisis_opened(mut self) -> Self {
        self.0["crisis_opened"] = json!(true);
        self
    }

    fn override_cell(mut self, cell: &str) -> Self {
        self.0["override_cell"] = json!(cell);
        self
    }

    fn input(&self) -> AssessInput {
        parse_input(&DEFS, &self.0.to_string())
            .unwrap_or_else(|e| panic!("case is not a valid assess input: {e}\n{:#}", self.0))
    }

    fn run(&self) -> Outcome {
        assess(&DEFS, &self.input()).outcome
    }

    /// The outcome with the referral screen's hard filters switched on.
    fn run_filtered(&self, require_language: bool, require_area: bool) -> Outcome {
        let i = self.input();
        DEFS.outcome(&OutcomeInput {
            intake: &i.intake,
            answers: &i.answers,
            crisis_opened: i.crisis_opened,
            received_at: i.received_at,
            override_cell: i.override_cell,
            require_language,
            require_area,
        })
    }
}

const Y: Option<bool> = Some(true);
const N: Option<bool> = Some(false);
const S: Option<bool> = None;

/// C-SSRS paths by risk level.
const CSSRS_LOW: [Option<bool>; 7] = [Y, N, S, S, S, N, S];
const CSSRS_MODERATE_IDEATION_METHOD: [Option<bool>; 7] = [Y, Y, Y, N, N, N, S];
const CSSRS_MODERATE_LIFETIME_BEHAVIOUR: [Option<bool>; 7] = [N, N, S, S, S, Y, N];
const CSSRS_HIGH_INTENT: [Option<bool>; 7] = [Y, Y, N, Y, N, N, S];
const CSSRS_HIGH_RECENT_BEHAVIOUR: [Option<bool>; 7] = [N, N, S, S, S, Y, Y];

fn cell(id: &str) -> CellId {
    CellId::parse(id).unwrap_or_else(|| panic!("{id} is a cell id"))
}

fn all_reasons(o: &Outcome) -> Vec<&Reason> {
    o.placement
        .mh_severity
        .reasons
        .iter()
        .chain(&o.placement.addiction_acuity.reasons)
        .chain(&o.triage.reasons)
        .collect()
}

fn rule_ids(o: &Outcome) -> BTreeSet<&str> {
    all_reasons(o).iter().map(|r| r.rule.as_str()).collect()
}

fn summary(o: &Outcome) -> String {
    format!(
        "computed {} chosen {} triage {} rules {:?}",
        o.placement.cell.id(),
        o.chosen_cell.id(),
        o.triage.level,
        rule_ids(o)
    )
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("valid date")
}

fn deadline<'a>(o: &'a Outcome, standard: &str) -> &'a Due {
    o.deadlines
        .iter()
        .find(|d| d.standard == standard)
        .unwrap_or_else(|| panic!("no {standard} deadline in {:?}", o.deadlines))
}

fn program_ids(o: &Outcome) -> Vec<&str> {
    o.programs
        .iter()
        .map(|p| p.service.service_id.as_str())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The grid
// ---------------------------------------------------------------------------------------------

#[test]
fn every_quadrant_cell_is_reachable() {
    let table = [
        ("low_low", Case::adult()),
        ("low_moderate", Case::adult().asam([1, 0, 1, 2, 1, 1])),
        ("low_high", Case::adult().asam([3, 1, 0, 2, 2, 1])),
        ("moderate_low", Case::adult().phq9(16, 0)),
        (
            "moderate_moderate",
            Case::adult().gad7(15).dast(4).asam([0, 0, 1, 1, 1, 1]),
        ),
        (
            "moderate_high",
            Case::adult()
                .yes("dhcs_adult", "impairment")
                .yes("dhcs_adult", "deterioration")
                .yes("dhcs_adult", "homeless")
                .asam([1, 3, 1, 1, 1, 2]),
        ),
        ("high_low", Case::adult().yes("mh_history", "psychosis")),
        (
            "high_moderate",
            Case::adult().phq9(21, 0).asam([0, 0, 2, 1, 2, 1]),
        ),
        (
            "high_high",
            Case::adult()
                .yes("mh_history", "hosp_12m")
                .asam([1, 1, 1, 1, 1, 4]),
        ),
    ];
    let mut reached = BTreeSet::new();
    for (want, case) in &table {
        let o = case.run();
        assert_eq!(o.placement.cell.id(), *want, "{}", summary(&o));
        assert_eq!(
            o.chosen_cell, o.placement.cell,
            "no override: chosen = computed"
        );
        reached.insert(o.placement.cell.id());
    }
    let all: BTreeSet<String> = CellId::all().map(CellId::id).collect();
    assert_eq!(reached, all, "every one of the 9 cells is reached");
    assert_eq!(all.len(), 9);
}

// ---------------------------------------------------------------------------------------------
// Every rule in assets/placement.json
// ---------------------------------------------------------------------------------------------

/// One case per placement rule id. A rule added to `assets/placement.json` without a case here
/// makes `every_placement_rule_fires_and_its_reason_is_listed` fail.
fn rule_cases() -> BTreeMap<&'static str, Case> {
    let a = Case::adult;
    BTreeMap::from([
        // MH severity: high
        ("mh_high_psychosis", a().yes("mh_history", "psychosis")),
        (
            "mh_high_smi_self_care",
            a().yes("mh_history", "smi_self_care"),
        ),
        ("mh_high_hospitalization", a().yes("mh_history", "hosp_12m")),
        ("mh_high_phq9", a().phq9(20, 0)),
        ("mh_high_cssrs", a().cssrs(CSSRS_HIGH_INTENT)),
        (
            "mh_high_homeless_smi",
            a().yes("mh_history", "homeless").yes("mh_history", "smi"),
        ),
        // MH severity: moderate
        (
            "mh_moderate_dhcs_adult",
            a().yes("dhcs_adult", "impairment")
                .yes("dhcs_adult", "deterioration")
                .yes("dhcs_adult", "prior_services")
                .yes("dhcs_adult", "psych_meds"),
        ),
        (
            "mh_moderate_dhcs_youth",
            Case::youth(15).yes("dhcs_youth", "child_welfare"),
        ),
        ("mh_moderate_phq9", a().phq9(15, 0)),
        ("mh_moderate_gad7", a().gad7(15)),
        // Addiction acuity: high
        ("acuity_high_withdrawal", a().asam([3, 0, 0, 0, 0, 0])),
        ("acuity_high_biomedical", a().asam([0, 3, 0, 0, 0, 0])),
        ("acuity_high_any_severe", a().asam([0, 0, 0, 4, 0, 0])),
        // Addiction acuity: moderate
        ("acuity_moderate_asam", a().asam([0, 0, 2, 0, 0, 0])),
        (
            "acuity_moderate_dast10",
            a().dast(3).asam([0, 0, 0, 0, 0, 0]),
        ),
        (
            "acuity_moderate_auditc",
            a().intake("sex", json!("male"))
                .auditc(4)
                .asam([0, 0, 0, 1, 0, 0]),
        ),
        // Triage: emergent
        ("triage_emergent_crisis", a().crisis_opened()),
        (
            "triage_emergent_imminent",
            a().yes("safety_check", "danger_others"),
        ),
        (
            "triage_emergent_cssrs",
            a().cssrs(CSSRS_HIGH_RECENT_BEHAVIOUR),
        ),
        (
            "triage_emergent_dhcs_safety",
            a().answers("dhcs_adult", {
                let mut v = vec![Value::Null; 12];
                v[0] = json!(true);
                v[1] = json!(false);
                json!(v)
            }),
        ),
        // Triage: urgent
        (
            "triage_urgent_cssrs_moderate",
            a().cssrs(CSSRS_MODERATE_IDEATION_METHOD),
        ),
        ("triage_urgent_phq9_item9", a().phq9(3, 1)),
        (
            "triage_urgent_high_high",
            a().yes("mh_history", "psychosis").asam([3, 0, 0, 0, 0, 0]),
        ),
    ])
}

/// `(axis, level)` of every rule id in the loaded rule sets.
fn rule_levels() -> BTreeMap<String, (&'static str, String)> {
    let p = &DEFS.placement;
    let mut out = BTreeMap::new();
    for lvl in &p.mh_severity.levels {
        for r in &lvl.rules {
            out.insert(r.id.clone(), ("mh_severity", lvl.level.to_string()));
        }
    }
    for lvl in &p.addiction_acuity.levels {
        for r in &lvl.rules {
            out.insert(r.id.clone(), ("addiction_acuity", lvl.level.to_string()));
        }
    }
    for lvl in &p.triage.levels {
        for r in &lvl.rules {
            out.insert(r.id.clone(), ("triage", lvl.level.to_string()));
        }
    }
    out
}

#[test]
fn every_placement_rule_fires_and_its_reason_is_listed() {
    let cases = rule_cases();
    let levels = rule_levels();
    let mut seen = BTreeSet::new();
    for rule in DEFS.placement.all_rules() {
        assert!(
            seen.insert(rule.id.as_str()),
            "rule id {} is unique",
            rule.id
        );
        let case = cases.get(rule.id.as_str()).unwrap_or_else(|| {
            panic!(
                "placement rule `{}` has no test case: add one to rule_cases()",
                rule.id
            )
        });
        let o = case.run();
        let (axis, level) = &levels[&rule.id];
        let decision_level = match *axis {
            "mh_severity" => o.placement.mh_severity.level.to_string(),
            "addiction_acuity" => o.placement.addiction_acuity.level.to_string(),
            _ => o.triage.level.to_string(),
        };
        let reasons = match *axis {
            "mh_severity" => &o.placement.mh_severity.reasons,
            "addiction_acuity" => &o.placement.addiction_acuity.reasons,
            _ => &o.triage.reasons,
        };
        let fired = reasons
            .iter()
            .find(|r| r.rule == rule.id)
            .unwrap_or_else(|| panic!("rule `{}` did not fire: {}", rule.id, summary(&o)));
        assert_eq!(
            fired.reason, rule.reason,
            "{}: reason text from the data",
            rule.id
        );
        assert_eq!(&fired.level, level, "{}: reason carries its level", rule.id);
        assert_eq!(
            &decision_level,
            level,
            "{}: the case places on the rule's level: {}",
            rule.id,
            summary(&o)
        );
        assert!(!rule.reason.trim().is_empty(), "{} has a reason", rule.id);
    }
    let stale: Vec<&&str> = cases.keys().filter(|k| !seen.contains(**k)).collect();
    assert!(
        stale.is_empty(),
        "cases for rules no longer in the data: {stale:?}"
    );
}

#[test]
fn defaults_give_the_default_reason_only() {
    let o = Case::adult().run();
    assert_eq!(o.placement.cell.id(), "low_low");
    assert_eq!(o.triage.level, Triage::Routine);
    let p = &DEFS.placement;
    for (decision, default_reason) in [
        (
            &o.placement.mh_severity.reasons,
            &p.mh_severity.default_reason,
        ),
        (
            &o.placement.addiction_acuity.reasons,
            &p.addiction_acuity.default_reason,
        ),
        (&o.triage.reasons, &p.triage.default_reason),
    ] {
        assert_eq!(decision.len(), 1, "{decision:?}");
        assert_eq!(decision[0].rule, "default");
        assert_eq!(&decision[0].reason, default_reason);
    }
}

#[test]
fn every_rule_that_fired_is_a_reason_most_severe_first() {
    // PHQ-9 22 fires the high PHQ-9 rule and the moderate PHQ-9 rule; GAD-7 16 the moderate
    // GAD-7 rule; AUDIT-C positive with ASAM d1 3 fires high withdrawal, moderate ASAM and
    // moderate AUDIT-C together.
    let o = Case::adult()
        .phq9(22, 0)
        .gad7(16)
        .auditc(5)
        .asam([3, 0, 2, 0, 0, 0])
        .run();
    let mh: Vec<&str> = o
        .placement
        .mh_severity
        .reasons
        .iter()
        .map(|r| r.rule.as_str())
        .collect();
    assert_eq!(mh, ["mh_high_phq9", "mh_moderate_phq9", "mh_moderate_gad7"]);
    assert_eq!(o.placement.mh_severity.level, Level::High);
    let acuity: Vec<&str> = o
        .placement
        .addiction_acuity
        .reasons
        .iter()
        .map(|r| r.rule.as_str())
        .collect();
    assert_eq!(
        acuity,
        [
            "acuity_high_withdrawal",
            "acuity_moderate_asam",
            "acuity_moderate_auditc"
        ]
    );
    assert_eq!(o.placement.cell.id(), "high_high");
    assert_eq!(o.triage.level, Triage::Urgent);
}

// ---------------------------------------------------------------------------------------------
// Both sides of every threshold
// ---------------------------------------------------------------------------------------------

/// (what, case, expected level, rule expected to fire, rule expected NOT to fire)
type Threshold = (
    &'static str,
    Case,
    Level,
    Option<&'static str>,
    Option<&'static str>,
);

fn check_thresholds(table: Vec<Threshold>, level_of: fn(&Outcome) -> Level) {
    for (what, case, want, fires, silent) in table {
        let o = case.run();
        assert_eq!(level_of(&o), want, "{what}: {}", summary(&o));
        let ids = rule_ids(&o);
        if let Some(r) = fires {
            assert!(ids.contains(r), "{what}: {r} fires: {}", summary(&o));
        }
        if let Some(r) = silent {
            assert!(
                !ids.contains(r),
                "{what}: {r} must not fire: {}",
                summary(&o)
            );
        }
    }
}

#[test]
fn mh_severity_thresholds() {
    let table: Vec<Threshold> = vec![
        (
            "PHQ-9 14",
            Case::adult().phq9(14, 0),
            Level::Low,
            None,
            Some("mh_moderate_phq9"),
        ),
        (
            "PHQ-9 15",
            Case::adult().phq9(15, 0),
            Level::Moderate,
            Some("mh_moderate_phq9"),
            None,
        ),
        (
            "PHQ-9 19",
            Case::adult().phq9(19, 0),
            Level::Moderate,
            Some("mh_moderate_phq9"),
            Some("mh_high_phq9"),
        ),
        (
            "PHQ-9 20",
            Case::adult().phq9(20, 0),
            Level::High,
            Some("mh_high_phq9"),
            None,
        ),
        (
            "GAD-7 14",
            Case::adult().gad7(14),
            Level::Low,
            None,
            Some("mh_moderate_gad7"),
        ),
        (
            "GAD-7 15",
            Case::adult().gad7(15),
            Level::Moderate,
            Some("mh_moderate_gad7"),
            None,
        ),
        (
            "DHCS adult 5 (MCP)",
            Case::adult()
                .yes("dhcs_adult", "hosp_12m")
                .yes("dhcs_adult", "impairment"),
            Level::Low,
            None,
            Some("mh_moderate_dhcs_adult"),
        ),
        (
            "DHCS adult 6 (MHP)",
            Case::adult()
                .yes("dhcs_adult", "hosp_12m")
                .yes("dhcs_adult", "impairment")
                .yes("dhcs_adult", "substance"),
            Level::Moderate,
            Some("mh_moderate_dhcs_adult"),
            None,
        ),
        (
            "DHCS youth 5 (MCP)",
            Case::youth(17)
                .yes("dhcs_youth", "psychosis")
                .yes("dhcs_youth", "trauma"),
            Level::Low,
            None,
            Some("mh_moderate_dhcs_youth"),
        ),
        (
            "DHCS youth 6 (MHP)",
            Case::youth(17)
                .yes("dhcs_youth", "psychosis")
                .yes("dhcs_youth", "trauma")
                .yes("dhcs_youth", "psych_meds"),
            Level::Moderate,
            Some("mh_moderate_dhcs_youth"),
            None,
        ),
        (
            "homeless without SMI",
            Case::adult().yes("mh_history", "homeless"),
            Level::Low,
            None,
            Some("mh_high_homeless_smi"),
        ),
        (
            "SMI without homelessness",
            Case::adult().yes("mh_history", "smi"),
            Level::Low,
            None,
            Some("mh_high_homeless_smi"),
        ),
        (
            "C-SSRS moderate is not high MH",
            Case::adult().cssrs(CSSRS_MODERATE_IDEATION_METHOD),
            Level::Low,
            None,
            Some("mh_high_cssrs"),
        ),
        (
            "C-SSRS high",
            Case::adult().cssrs(CSSRS_HIGH_INTENT),
            Level::High,
            Some("mh_high_cssrs"),
            None,
        ),
    ];
    check_thresholds(table, |o| o.placement.mh_severity.level);
}

#[test]
fn addiction_acuity_thresholds() {
    let male = || Case::adult().intake("sex", json!("male"));
    let table: Vec<Threshold> = vec![
        (
            "ASAM d1 2",
            Case::adult().asam([2, 0, 0, 0, 0, 0]),
            Level::Moderate,
            Some("acuity_moderate_asam"),
            Some("acuity_high_withdrawal"),
        ),
        (
            "ASAM d1 3",
            Case::adult().asam([3, 0, 0, 0, 0, 0]),
            Level::High,
            Some("acuity_high_withdrawal"),
            None,
        ),
        (
            "ASAM d2 2",
            Case::adult().asam([0, 2, 0, 0, 0, 0]),
            Level::Moderate,
            Some("acuity_moderate_asam"),
            Some("acuity_high_biomedical"),
        ),
        (
            "ASAM d2 3",
            Case::adult().asam([0, 3, 0, 0, 0, 0]),
            Level::High,
            Some("acuity_high_biomedical"),
            None,
        ),
        // Dimensions 3–6: 3 is only moderate, 4 is high.
        (
            "ASAM d3 3",
            Case::adult().asam([0, 0, 3, 0, 0, 0]),
            Level::Moderate,
            Some("acuity_moderate_asam"),
            Some("acuity_high_any_severe"),
        ),
        (
            "ASAM d3 4",
            Case::adult().asam([0, 0, 4, 0, 0, 0]),
            Level::High,
            Some("acuity_high_any_severe"),
            None,
        ),
        (
            "ASAM d6 3",
            Case::adult().asam([0, 0, 0, 0, 0, 3]),
            Level::Moderate,
            None,
            Some("acuity_high_any_severe"),
        ),
        (
            "ASAM d6 4",
            Case::adult().asam([0, 0, 0, 0, 0, 4]),
            Level::High,
            Some("acuity_high_any_severe"),
            None,
        ),
        (
            "ASAM d1 4",
            Case::adult().asam([4, 0, 0, 0, 0, 0]),
            Level::High,
            Some("acuity_high_any_severe"),
            None,
        ),
        // Any dimension >= 2 vs all at most 1.
        (
            "ASAM all 1",
            Case::adult().asam([1, 1, 1, 1, 1, 1]),
            Level::Low,
            None,
            Some("acuity_moderate_asam"),
        ),
        (
            "ASAM d5 2",
            Case::adult().asam([1, 1, 1, 1, 2, 1]),
            Level::Moderate,
            Some("acuity_moderate_asam"),
            None,
        ),
        // DAST-10 2 vs 3 (ASAM all 0).
        (
            "DAST-10 2",
            Case::adult().dast(2).asam([0; 6]),
            Level::Low,
            None,
            Some("acuity_moderate_dast10"),
        ),
        (
            "DAST-10 3",
            Case::adult().dast(3).asam([0; 6]),
            Level::Moderate,
            Some("acuity_moderate_dast10"),
            None,
        ),
        // AUDIT-C positive needs an ASAM dimension >= 1.
        (
            "AUDIT-C+ ASAM all 0",
            male().auditc(6).asam([0; 6]),
            Level::Low,
            None,
            Some("acuity_moderate_auditc"),
        ),
        (
            "AUDIT-C+ ASAM d4 1",
            male().auditc(6).asam([0, 0, 0, 1, 0, 0]),
            Level::Moderate,
            Some("acuity_moderate_auditc"),
            None,
        ),
        // AUDIT-C cut-off by sex: 3 is negative for a man (DAST 1 opens the ASAM triage) …
        (
            "AUDIT-C 3 male, ASAM 1",
            male().auditc(3).dast(1).asam([1, 0, 0, 0, 0, 0]),
            Level::Low,
            None,
            Some("acuity_moderate_auditc"),
        ),
        // … and positive for a woman.
        (
            "AUDIT-C 3 female, ASAM 1",
            Case::adult().auditc(3).asam([1, 0, 0, 0, 0, 0]),
            Level::Moderate,
            Some("acuity_moderate_auditc"),
            None,
        ),
        // No substance screen positive: the ASAM triage does not apply, acuity stays low.
        (
            "no positive screen",
            Case::adult().auditc(2),
            Level::Low,
            None,
            None,
        ),
    ];
    check_thresholds(table, |o| o.placement.addiction_acuity.level);
}

#[test]
fn triage_levels() {
    let table: Vec<(&str, Case, Triage, &str)> = vec![
        (
            "nothing positive",
            Case::adult(),
            Triage::Routine,
            "default",
        ),
        (
            "crisis protocol opened by the screener",
            Case::adult().crisis_opened(),
            Triage::Emergent,
            "triage_emergent_crisis",
        ),
        (
            "imminent danger to self",
            Case::adult().yes("safety_check", "danger_self"),
            Triage::Emergent,
            "triage_emergent_imminent",
        ),
        (
            "medical emergency",
            Case::adult().yes("safety_check", "medical_emergency"),
            Triage::Emergent,
            "triage_emergent_imminent",
        ),
        (
            "C-SSRS high: intent",
            Case::adult().cssrs(CSSRS_HIGH_INTENT),
            Triage::Emergent,
            "triage_emergent_cssrs",
        ),
        (
            "C-SSRS high: behaviour in 3 months",
            Case::adult().cssrs(CSSRS_HIGH_RECENT_BEHAVIOUR),
            Triage::Emergent,
            "triage_emergent_cssrs",
        ),
        (
            "C-SSRS moderate: method",
            Case::adult().cssrs(CSSRS_MODERATE_IDEATION_METHOD),
            Triage::Urgent,
            "triage_urgent_cssrs_moderate",
        ),
        (
            "C-SSRS moderate: lifetime behaviour",
            Case::adult().cssrs(CSSRS_MODERATE_LIFETIME_BEHAVIOUR),
            Triage::Urgent,
            "triage_urgent_cssrs_moderate",
        ),
        (
            "C-SSRS low",
            Case::adult().cssrs(CSSRS_LOW),
            Triage::Routine,
            "default",
        ),
        (
            "PHQ-9 item 9 = 1",
            Case::adult().phq9(6, 1),
            Triage::Urgent,
            "triage_urgent_phq9_item9",
        ),
        (
            "PHQ-9 item 9 = 0",
            Case::adult().phq9(6, 0),
            Triage::Routine,
            "default",
        ),
        (
            "high_high cell",
            Case::adult()
                .yes("mh_history", "smi_self_care")
                .asam([0, 3, 0, 0, 0, 0]),
            Triage::Urgent,
            "triage_urgent_high_high",
        ),
        (
            "high_moderate cell is routine",
            Case::adult()
                .yes("mh_history", "smi_self_care")
                .asam([0, 2, 0, 0, 0, 0]),
            Triage::Routine,
            "default",
        ),
        (
            "moderate_high cell is routine",
            Case::adult().phq9(15, 0).asam([0, 3, 0, 0, 0, 0]),
            Triage::Routine,
            "default",
        ),
    ];
    for (what, case, want, rule) in table {
        let o = case.run();
        assert_eq!(o.triage.level, want, "{what}: {}", summary(&o));
        assert!(
            o.triage.reasons.iter().any(|r| r.rule == rule),
            "{what}: reason {rule}: {}",
            summary(&o)
        );
    }
}

#[test]
fn emergent_wins_and_lower_reasons_are_kept() {
    let o = Case::adult()
        .crisis_opened()
        .yes("mh_history", "psychosis")
        .asam([4, 0, 0, 0, 0, 0])
        .run();
    assert_eq!(o.triage.level, Triage::Emergent);
    let ids: Vec<&str> = o.triage.reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(ids, ["triage_emergent_crisis", "triage_urgent_high_high"]);
}

#[test]
fn crisis_indicated_follows_crisis_answers() {
    for (what, case, crisis) in [
        ("calm", Case::adult(), false),
        (
            "danger to others",
            Case::adult().yes("safety_check", "danger_others"),
            true,
        ),
        ("C-SSRS high", Case::adult().cssrs(CSSRS_HIGH_INTENT), true),
        (
            "C-SSRS moderate",
            Case::adult().cssrs(CSSRS_MODERATE_IDEATION_METHOD),
            false,
        ),
    ] {
        let o = case.run();
        assert_eq!(o.crisis_indicated, crisis, "{what}");
        if crisis {
            assert_eq!(o.triage.level, Triage::Emergent, "{what}");
        }
    }
}

/// DESIGN section 3: the DHCS tool's "safety items route to crisis first": a yes to a safety
/// question is a crisis flag and makes the call emergent (rule `triage_emergent_dhcs_safety`).
#[test]
fn dhcs_safety_question_makes_triage_emergent() {
    let mut answers = vec![Value::Null; 12];
    answers[0] = json!(true);
    answers[1] = json!(false);
    let o = Case::adult().answers("dhcs_adult", json!(answers)).run();
    assert!(o.crisis_indicated);
    assert_eq!(o.triage.level, Triage::Emergent, "{}", summary(&o));
}

// ---------------------------------------------------------------------------------------------
// Override
// ---------------------------------------------------------------------------------------------

#[test]
fn override_changes_the_chosen_cell_and_keeps_the_computed_one() {
    let o = Case::adult().phq9(16, 0).override_cell("high_high").run();
    assert_eq!(o.placement.cell, cell("moderate_low"), "computed cell kept");
    assert_eq!(o.placement.mh_severity.level, Level::Moderate);
    assert!(
        rule_ids(&o).contains("mh_moderate_phq9"),
        "computed reasons kept"
    );
    assert_eq!(o.chosen_cell, cell("high_high"));
    // Triage and referrals follow the chosen cell.
    assert_eq!(o.triage.level, Triage::Urgent);
    assert!(rule_ids(&o).contains("triage_urgent_high_high"));
    assert!(!o.programs.is_empty());
    for p in &o.programs {
        let s = DEFS.directory.service(&p.service.service_id).unwrap();
        assert!(
            s.quadrant_cells.iter().any(|c| c == "high_high"),
            "{} serves the chosen cell",
            s.id
        );
    }
    // An override to the computed cell changes nothing.
    let same = Case::adult()
        .phq9(16, 0)
        .override_cell("moderate_low")
        .run();
    let plain = Case::adult().phq9(16, 0).run();
    assert_eq!(same, plain);
}

#[test]
fn override_down_keeps_computed_high_placement_visible() {
    let o = Case::adult()
        .yes("mh_history", "psychosis")
        .override_cell("moderate_low")
        .run();
    assert_eq!(o.placement.cell, cell("high_low"));
    assert!(rule_ids(&o).contains("mh_high_psychosis"));
    assert_eq!(o.chosen_cell, cell("moderate_low"));
    let programs = program_ids(&o);
    assert!(programs.contains(&"svc-dmh-wc-cod") || programs.contains(&"svc-dmh-lb-cod"));
}

// ---------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------

#[test]
fn emergent_deadline_is_immediate_even_on_a_holiday_night() {
    // Friday 3 July 2026 is the observed Independence Day holiday.
    let received = "2026-07-03T23:20:00-07:00";
    let o = Case::adult().received(received).crisis_opened().run();
    assert_eq!(o.triage.level, Triage::Emergent);
    assert_eq!(o.deadlines.len(), 1, "{:?}", o.deadlines);
    let d = deadline(&o, "emergent");
    assert_eq!(d.kind, "immediate");
    assert_eq!(d.due_at, common::at(received));
    assert_eq!(d.due_date, None);
}

#[test]
fn urgent_deadline_is_48_clock_hours_across_weekend_and_year_end() {
    for (received, due) in [
        // Friday afternoon: due Sunday afternoon (hours, not business days).
        ("2026-11-20T16:30:00-08:00", "2026-11-22T16:30:00-08:00"),
        // Wednesday before Thanksgiving: the holidays do not stop the clock.
        ("2026-11-25T09:00:00-08:00", "2026-11-27T09:00:00-08:00"),
        // New Year's Eve: into the next year.
        ("2026-12-31T12:00:00-08:00", "2027-01-02T12:00:00-08:00"),
    ] {
        let o = Case::adult()
            .received(received)
            .cssrs(CSSRS_MODERATE_IDEATION_METHOD)
            .run();
        assert_eq!(o.triage.level, Triage::Urgent);
        assert_eq!(o.deadlines.len(), 1, "{:?}", o.deadlines);
        let d = deadline(&o, "urgent");
        assert_eq!(
            (d.kind.as_str(), d.due_at),
            ("hours", common::at(due)),
            "{received}"
        );
        assert!(
            o.programs
                .iter()
                .all(|p| p.due.as_ref().unwrap().standard == "urgent")
        );
    }
}

#[test]
fn routine_deadlines_count_business_days() {
    // (what, received, expected 10-business-day MH date, expected 15-business-day psychiatry date)
    let table = [
        // Tuesday: two weekends inside the window (psychiatry also skips César Chávez Day).
        (
            "Tuesday",
            "2026-03-10T10:00:00-07:00",
            "2026-03-24",
            "2026-04-01",
        ),
        // Friday: the weekend right after does not count.
        (
            "Friday",
            "2026-03-06T16:45:00-08:00",
            "2026-03-20",
            "2026-03-27",
        ),
        // Saturday: counting starts on Monday, so the same date as Friday.
        (
            "Saturday",
            "2026-03-07T11:00:00-08:00",
            "2026-03-20",
            "2026-03-27",
        ),
        // Sunday.
        (
            "Sunday",
            "2026-03-08T11:00:00-07:00",
            "2026-03-20",
            "2026-03-27",
        ),
        // César Chávez Day (county closes Monday 30 March 2026) pushes the date by one day.
        (
            "Cesar Chavez Day",
            "2026-03-27T09:00:00-07:00",
            "2026-04-13",
            "2026-04-20",
        ),
        // Thanksgiving Thursday and Friday.
        (
            "Thanksgiving",
            "2026-11-24T14:40:00-08:00",
            "2026-12-10",
            "2026-12-17",
        ),
        // Christmas and New Year's Day.
        (
            "Christmas",
            "2026-12-21T08:00:00-08:00",
            "2027-01-06",
            "2027-01-13",
        ),
        // Received on New Year's Eve: New Year's Day and MLK Day (18 Jan 2027) skipped.
        (
            "year end",
            "2026-12-31T15:00:00-08:00",
            "2027-01-15",
            "2027-01-25",
        ),
        // Received on a holiday itself (Christmas Day 2026, a Friday).
        (
            "on a holiday",
            "2026-12-25T10:00:00-08:00",
            "2027-01-11",
            "2027-01-19",
        ),
    ];
    for (what, received, mh, psych) in table {
        let o = Case::adult().received(received).run();
        assert_eq!(o.chosen_cell.id(), "low_low");
        assert_eq!(o.triage.level, Triage::Routine);
        let d = deadline(&o, "routine_mh");
        assert_eq!(d.kind, "business_days");
        assert_eq!(d.due_date, Some(date(mh)), "{what}: routine MH");
        assert_eq!(
            d.due_at.date_naive(),
            date(mh),
            "{what}: due_at on the due date"
        );
        assert_eq!(d.due_at.offset(), common::at(received).offset(), "{what}");
        assert!(!d.beyond_holiday_table, "{what}");
        let psychiatry = o
            .programs
            .iter()
            .find(|p| p.service.category == "psychiatry")
            .expect("low_low lists an MCP psychiatry service");
        let due = psychiatry.due.as_ref().unwrap();
        assert_eq!(due.standard, "routine_psychiatry");
        assert_eq!(due.due_date, Some(date(psych)), "{what}: psychiatry");
        let primary = o
            .programs
            .iter()
            .find(|p| p.service.category == "primary_care")
            .unwrap();
        assert_eq!(
            primary.due.as_ref().unwrap().due_date,
            Some(date(mh)),
            "{what}"
        );
    }
}

#[test]
fn routine_sud_and_opioid_treatment_deadlines() {
    // Low MH / moderate acuity, in service area 2 where an opioid treatment program is listed.
    let o = Case::adult()
        .intake("zip", json!("91205"))
        .asam([2, 1, 1, 1, 2, 1])
        .received("2026-12-23T10:00:00-08:00")
        .run();
    assert_eq!(o.chosen_cell.id(), "low_moderate");
    assert_eq!(o.triage.level, Triage::Routine);
    // Wednesday 23 Dec: 10 business days skip Christmas Day and New Year's Day.
    let d = deadline(&o, "routine_sud");
    assert_eq!(d.due_date, Some(date("2027-01-08")));
    let otp = o
        .programs
        .iter()
        .find(|p| p.service.category == "otp")
        .expect("an OTP is listed for low_moderate");
    let due = otp.due.as_ref().unwrap();
    assert_eq!(due.standard, "routine_otp");
    // 3 business days: 24 Dec, (25 Dec holiday, weekend), 28 Dec, 29 Dec.
    assert_eq!(due.due_date, Some(date("2026-12-29")));
}

#[test]
fn deadline_past_the_holiday_table_is_marked() {
    // The holiday list ends with 2027; a request on 27 Dec 2027 is due in January 2028.
    let o = Case::adult().received("2027-12-27T09:00:00-08:00").run();
    let d = deadline(&o, "routine_mh");
    // 28, 29, 30 Dec; 31 Dec is New Year's Day (observed); 3–7 and 10, 11 Jan 2028.
    assert_eq!(d.due_date, Some(date("2028-01-11")));
    assert!(d.beyond_holiday_table);
    let inside = Case::adult().received("2027-12-01T09:00:00-08:00").run();
    assert!(!deadline(&inside, "routine_mh").beyond_holiday_table);
}

#[test]
fn deadlines_follow_the_chosen_cell_programs() {
    // Moderate/moderate lists SUD IOP and COD programs: both routine standards apply.
    let o = Case::adult()
        .phq9(15, 0)
        .dast(4)
        .asam([0; 6])
        .received("2026-03-10T10:00:00-07:00")
        .run();
    assert_eq!(o.chosen_cell.id(), "moderate_moderate");
    let standards: BTreeSet<&str> = o.deadlines.iter().map(|d| d.standard.as_str()).collect();
    assert_eq!(standards, BTreeSet::from(["routine_mh", "routine_sud"]));
    for d in &o.deadlines {
        assert_eq!(d.due_date, Some(date("2026-03-24")), "{}", d.standard);
    }
}

// ---------------------------------------------------------------------------------------------
// Directory matching
// ---------------------------------------------------------------------------------------------

/// Services that should match: active, accepting, serving the cell, age in range.
fn eligible(cell: &str, age: u32) -> BTreeSet<String> {
    DEFS.directory
        .services
        .iter()
        .filter(|s| s.status == "active" && s.accepting_referrals)
        .filter(|s| s.quadrant_cells.iter().any(|c| c == cell))
        .filter(|s| s.age_min.is_none_or(|m| age >= m) && s.age_max.is_none_or(|m| age <= m))
        .map(|s| s.id.clone())
        .collect()
}

#[test]
fn directory_matches_every_cell() {
    for c in CellId::all() {
        let id = c.id();
        let o = Case::adult().override_cell(&id).run();
        let got: BTreeSet<String> = program_ids(&o).into_iter().map(str::to_owned).collect();
        assert!(!got.is_empty(), "{id}: some program");
        assert_eq!(got, eligible(&id, 35), "{id}");
        for p in &o.programs {
            let s = DEFS.directory.service(&p.service.service_id).unwrap();
            assert!(s.quadrant_cells.contains(&id), "{}: serves {id}", s.id);
            assert!(s.accepting_referrals && s.status == "active", "{}", s.id);
            assert!(p.due.is_some(), "{}: has a due time", s.id);
        }
    }
    // Inactive or full services never appear.
    let o = Case::adult().override_cell("moderate_high").run();
    let ids = program_ids(&o);
    assert!(
        !ids.contains(&"svc-prototypes-res"),
        "not accepting referrals"
    );
    assert!(
        !ids.contains(&"svc-river-resdual"),
        "not accepting referrals"
    );
    assert!(ids.contains(&"svc-ttc-res-dual"));
}

#[test]
fn directory_filters_by_age() {
    // High MH / low acuity: full-service partnerships split by age band.
    let table: [(Case, u32, &[&str], &[&str]); 5] = [
        (
            Case::youth(15),
            15,
            &["svc-dmh-fsp-youth", "svc-dmh-mobile-crisis"],
            &[
                "svc-dmh-fsp-adult",
                "svc-dmh-fsp-older",
                "svc-dmh-home",
                "svc-dmh-aot",
            ],
        ),
        (
            Case::youth(20),
            20,
            &["svc-dmh-fsp-youth", "svc-dmh-home"],
            &["svc-dmh-fsp-adult"],
        ),
        (
            Case::adult().intake("age", json!(21)),
            21,
            &["svc-dmh-fsp-adult", "svc-dmh-home"],
            &["svc-dmh-fsp-youth", "svc-dmh-fsp-older"],
        ),
        (
            Case::adult().intake("age", json!(59)),
            59,
            &["svc-dmh-fsp-adult"],
            &["svc-dmh-fsp-older", "svc-dmh-genesis"],
        ),
        (
            Case::adult().intake("age", json!(67)),
            67,
            &["svc-dmh-fsp-older", "svc-dmh-genesis"],
            &["svc-dmh-fsp-adult", "svc-dmh-fsp-youth"],
        ),
    ];
    for (case, age, present, absent) in table {
        let o = case.yes("mh_history", "psychosis").run();
        assert_eq!(o.age, Some(age));
        assert_eq!(o.chosen_cell.id(), "high_low");
        let ids = program_ids(&o);
        for p in present {
            assert!(ids.contains(p), "age {age}: {p} in {ids:?}");
        }
        for p in absent {
            assert!(!ids.contains(p), "age {age}: {p} not in {ids:?}");
        }
        let got: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, eligible("high_low", age), "age {age}");
    }
    // Age from the date of birth on the day of the call: 21st birthday the next day.
    let mut c = Case::youth(20)
        .received("2026-03-10T10:00:00-07:00")
        .intake("date_of_birth", json!("2005-03-11"));
    c.0["intake"].as_object_mut().unwrap().remove("age");
    let o = c.yes("mh_history", "psychosis").run();
    assert_eq!(o.age, Some(20));
    assert!(program_ids(&o).contains(&"svc-dmh-fsp-youth"));
}

#[test]
fn directory_ranks_and_filters_by_language() {
    // Moderate/moderate, Korean speaker, no service area known.
    let case = Case::adult()
        .phq9(15, 0)
        .dast(3)
        .asam([0; 6])
        .intake("language", json!("ko"));
    let o = case.run();
    assert_eq!(o.chosen_cell.id(), "moderate_moderate");
    assert_eq!(o.service_area, None);
    assert!(o.programs.iter().all(|p| !p.service.area_match));
    let ranked = ranked_programs(&o);
    let first_non_match = ranked
        .iter()
        .position(|p| !p.service.language_match)
        .expect("some programs do not speak Korean");
    assert!(first_non_match > 0, "a Korean-speaking program exists");
    assert!(
        ranked[first_non_match..]
            .iter()
            .all(|p| !p.service.language_match),
        "language matches rank first: {:?}",
        program_ids(&o)
    );
    for p in &o.programs {
        let s = DEFS.directory.service(&p.service.service_id).unwrap();
        assert_eq!(
            p.service.language_match,
            s.languages.iter().any(|l| l == "ko")
        );
    }
    assert!(
        ranked[..first_non_match]
            .iter()
            .any(|p| p.service.service_id == "svc-dhs-harbor-dual")
    );
    // As a hard filter, only Korean-speaking services remain.
    let only = case.run_filtered(true, false);
    assert_eq!(ranked_programs(&only).len(), first_non_match);
    assert!(only.programs.iter().all(|p| p.service.language_match));
    // No language given: nothing matches on language, nothing is filtered out.
    let none = Case::adult().phq9(15, 0).dast(3).asam([0; 6]).run();
    assert!(none.programs.iter().all(|p| !p.service.language_match));
    assert_eq!(none.programs.len(), o.programs.len());
}

#[test]
fn directory_ranks_and_filters_by_service_area() {
    // ZIP 90813 (Long Beach) is in service area 8 (South Bay).
    let case = Case::adult()
        .phq9(15, 0)
        .dast(3)
        .asam([0; 6])
        .intake("zip", json!("90813"));
    let o = case.run();
    assert_eq!(o.service_area, Some(8));
    for p in &o.programs {
        let s = DEFS.directory.service(&p.service.service_id).unwrap();
        assert_eq!(
            p.service.area_match,
            s.service_areas.contains(&8),
            "{}",
            s.id
        );
    }
    let ids = program_ids(&o);
    let harbor = ids
        .iter()
        .position(|s| *s == "svc-dhs-harbor-dual")
        .unwrap();
    let river = ids.iter().position(|s| *s == "svc-river-cod").unwrap();
    assert!(
        harbor < river,
        "the Long Beach program ranks above one in areas 3/7"
    );
    let only = case.run_filtered(false, true);
    assert!(!only.programs.is_empty());
    assert!(only.programs.iter().all(|p| p.service.area_match));
    assert!(!program_ids(&only).contains(&"svc-river-cod"));
    // An explicit service area wins over the ZIP.
    let o = case.clone().intake("service_area", json!(3)).run();
    assert_eq!(o.service_area, Some(3));
    // A ZIP that straddles two areas (left out of the table) gives no area, no area ranking.
    let o = Case::adult().intake("zip", json!("90006")).run();
    assert_eq!(o.service_area, None);
    assert!(o.programs.iter().all(|p| !p.service.area_match));
    // Every ZIP in the table maps to its area.
    for area in &DEFS.service_areas.areas {
        for zip in area.zips.iter().take(3) {
            let o = Case::adult().intake("zip", json!(zip)).run();
            assert_eq!(o.service_area, Some(area.id), "{zip}");
        }
    }
}

#[test]
fn directory_ranks_language_before_area_then_name() {
    // Khmer speaker in service area 2: Harbor's dual-diagnosis program speaks Khmer but is in
    // area 8; Tarzana's outpatient program is in area 2 but does not speak Khmer.
    let o = Case::adult()
        .phq9(15, 0)
        .dast(3)
        .asam([0; 6])
        .intake("language", json!("km"))
        .intake("service_area", json!(2))
        .run();
    let ranked: Vec<(&str, bool, bool, u32)> = o
        .programs
        .iter()
        .map(|p| {
            let s = &p.service;
            (
                s.service_id.as_str(),
                s.language_match,
                s.area_match,
                s.score,
            )
        })
        .collect();
    let pos = |id: &str| ranked.iter().position(|r| r.0 == id).unwrap();
    assert!(pos("svc-dhs-harbor-dual") < pos("svc-ttc-op"), "{ranked:?}");
    for r in &ranked {
        assert_eq!(r.3, u32::from(r.1) * 2 + u32::from(r.2), "{r:?}");
    }
    for w in ranked_programs(&o).windows(2) {
        let (a, b) = (&w[0].service, &w[1].service);
        assert!(
            (a.score, std::cmp::Reverse(&a.name)) >= (b.score, std::cmp::Reverse(&b.name)),
            "sorted by score, then name: {ranked:?}"
        );
    }
    // Language and area both: ranks above language only.
    let o = Case::adult()
        .phq9(15, 0)
        .dast(3)
        .asam([0; 6])
        .intake("language", json!("es"))
        .intake("service_area", json!(8))
        .run();
    assert_eq!(o.programs[0].service.score, 3);
    assert!(program_ids(&o)[..2].contains(&"svc-dhs-harbor-dual"));
}

#[test]
fn help_lines_are_in_every_outcome() {
    for case in [
        Case::adult(),
        Case::adult().crisis_opened(),
        Case::youth(14),
        Case::adult()
            .yes("mh_history", "psychosis")
            .asam([4, 0, 0, 0, 0, 0]),
    ] {
        let o = case.run();
        let ids: BTreeSet<&str> = o.help_lines.iter().map(|h| h.id.as_str()).collect();
        for id in ["help-dmh", "help-sash", "help-988", "help-911"] {
            assert!(ids.contains(id), "{id} in {ids:?}");
        }
        assert_eq!(o.help_lines, DEFS.directory.help_lines);
        let numbers: Vec<&str> = o.help_lines.iter().map(|h| h.number.as_str()).collect();
        assert!(
            numbers.contains(&"988") && numbers.contains(&"911"),
            "{numbers:?}"
        );
    }
}

/// The programs in the directory's own ranking: crisis services are moved last for a call
/// that is not emergent (see `crisis_services_lead_only_emergent_calls`), so ranking checks
/// look at the others.
fn ranked_programs(o: &Outcome) -> Vec<accessline::domain::outcome::ProgramMatch> {
    o.programs
        .iter()
        .filter(|p| !CRISIS_CATEGORIES.contains(&p.service.category.as_str()))
        .cloned()
        .collect()
}

#[test]
fn crisis_services_lead_only_emergent_calls() {
    let is_crisis = |p: &accessline::domain::outcome::ProgramMatch| {
        CRISIS_CATEGORIES.contains(&p.service.category.as_str())
    };
    let routine = Case::adult().run();
    assert_eq!(routine.triage.level, Triage::Routine);
    let first_crisis = routine
        .programs
        .iter()
        .position(is_crisis)
        .expect("988 is listed");
    assert!(
        first_crisis > 0,
        "a routine caller's first program is not a crisis line"
    );
    assert!(routine.programs[first_crisis..].iter().all(is_crisis));
    let emergent = Case::adult().crisis_opened().run();
    assert_eq!(emergent.triage.level, Triage::Emergent);
    assert!(
        is_crisis(&emergent.programs[0]),
        "{:?}",
        emergent.programs[0].service
    );
}
