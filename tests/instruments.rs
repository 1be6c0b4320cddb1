//! Every instrument scored against its published scoring: minimum, maximum and both sides of
//! every band edge, table-driven; C-SSRS risk paths; DAST-10 reverse item; PHQ-9 item 9 flag.

mod common;

use accessline::domain::scoring::AnswerValue;
use common::{bools, defs, ints, score};

/// `n` choice answers (each 0..=per_item) adding up to `total`, filled from the first item.
fn spread(total: i64, n: usize, per_item: i64) -> Vec<i64> {
    let mut left = total;
    (0..n)
        .map(|_| {
            let v = left.min(per_item);
            left -= v;
            v
        })
        .collect()
}

fn band(r: &accessline::domain::scoring::InstrumentResult) -> &str {
    r.band.as_ref().map(|b| b.id.as_str()).unwrap_or("-")
}

fn flags(r: &accessline::domain::scoring::InstrumentResult) -> Vec<&str> {
    r.flags.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn phq9_bands_every_edge() {
    let d = defs();
    let table = [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (24, "severe"),
    ];
    for (total, want) in table {
        // Items 1–8 carry the score so item 9 stays 0 (no flag); difficulty answered, unscored.
        let mut v = spread(total, 8, 3);
        v.extend([0, 3]);
        let r = score(&d, "phq9", &ints(&v), 40, "female");
        assert_eq!(r.total, Some(total), "total {total}");
        assert_eq!(band(&r), want, "total {total}");
        assert!(r.complete);
        assert!(flags(&r).is_empty(), "no item-9 flag at total {total}");
    }
    let r = score(
        &d,
        "phq9",
        &ints(&[3, 3, 3, 3, 3, 3, 3, 3, 3, 0]),
        40,
        "female",
    );
    assert_eq!((r.total, band(&r), r.max), (Some(27), "severe", Some(27)));
}

#[test]
fn phq9_item9_flag_regardless_of_total() {
    let d = defs();
    let r = score(
        &d,
        "phq9",
        &ints(&[0, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
        30,
        "male",
    );
    assert_eq!(r.total, Some(1));
    assert_eq!(band(&r), "minimal");
    assert_eq!(flags(&r), ["phq9_item9"]);
    let r = score(
        &d,
        "phq9",
        &ints(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        30,
        "male",
    );
    assert!(flags(&r).is_empty());
}

#[test]
fn phq9_incomplete_has_partial_total_but_no_band() {
    let d = defs();
    let mut v = ints(&[3, 3, 3]);
    v.extend([None; 7]);
    let r = score(&d, "phq9", &v, 30, "male");
    assert_eq!(r.total, Some(9));
    assert!(!r.complete);
    assert_eq!(r.band, None);
    assert_eq!(
        r.missing.len(),
        6,
        "difficulty is optional: {:?}",
        r.missing
    );
}

#[test]
fn gad7_bands_every_edge() {
    let d = defs();
    let table = [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ];
    for (total, want) in table {
        let mut v = spread(total, 7, 3);
        v.push(2);
        let r = score(&d, "gad7", &ints(&v), 40, "female");
        assert_eq!((r.total, band(&r)), (Some(total), want), "total {total}");
    }
}

#[test]
fn auditc_cutoff_depends_on_sex() {
    let d = defs();
    let table = [
        ("male", 0, "negative"),
        ("male", 3, "negative"),
        ("male", 4, "positive"),
        ("male", 12, "positive"),
        ("female", 2, "negative"),
        ("female", 3, "positive"),
        ("unspecified", 2, "negative"),
        ("unspecified", 3, "positive"),
        ("other", 3, "positive"),
    ];
    for (sex, total, want) in table {
        let r = score(&d, "auditc", &ints(&spread(total, 3, 4)), 35, sex);
        assert_eq!((r.total, band(&r)), (Some(total), want), "{sex} {total}");
        assert_eq!(
            flags(&r).contains(&"auditc_positive"),
            want == "positive",
            "{sex} {total}"
        );
    }
}

/// DAST-10 answers giving `total`, honouring item 3's reverse scoring.
fn dast(total: usize) -> Vec<Option<AnswerValue>> {
    // Scoring positions: items other than 3 score on "yes", item 3 scores on "no".
    let mut v = vec![false; 10];
    v[2] = true; // item 3 "yes" (always able to stop) scores 0
    for (n, slot) in [0, 1, 3, 4, 5, 6, 7, 8, 9]
        .iter()
        .take(total.min(9))
        .enumerate()
    {
        let _ = n;
        v[*slot] = true;
    }
    if total == 10 {
        v[2] = false;
    }
    bools(&v)
}

#[test]
fn dast10_bands_and_reverse_item() {
    let d = defs();
    for (total, want) in [
        (0, "none"),
        (1, "low"),
        (2, "low"),
        (3, "moderate"),
        (5, "moderate"),
        (6, "substantial"),
        (8, "substantial"),
        (9, "severe"),
        (10, "severe"),
    ] {
        let r = score(&d, "dast10", &dast(total), 30, "male");
        assert_eq!(
            (r.total, band(&r)),
            (Some(total as i64), want),
            "total {total}"
        );
    }
    // Item 3 alone: "no" scores 1, "yes" scores 0.
    let mut all_no = vec![false; 10];
    assert_eq!(
        score(&d, "dast10", &bools(&all_no), 30, "male").total,
        Some(1)
    );
    all_no[2] = true;
    assert_eq!(
        score(&d, "dast10", &bools(&all_no), 30, "male").total,
        Some(0)
    );
}

fn cssrs(q: [Option<bool>; 7]) -> accessline::domain::scoring::InstrumentResult {
    let v: Vec<_> = q.iter().map(|b| b.map(AnswerValue::Bool)).collect();
    score(&defs(), "cssrs_screen", &v, 30, "female")
}

#[test]
fn cssrs_every_risk_path() {
    let (y, n, s) = (Some(true), Some(false), None);
    let table: [([Option<bool>; 7], &str, bool); 11] = [
        ([n, n, s, s, s, n, s], "none", false),
        ([y, n, s, s, s, n, s], "low", false),
        ([n, y, n, n, n, n, s], "low", false),
        ([y, y, n, n, n, n, s], "low", false),
        ([y, y, y, n, n, n, s], "moderate", false),
        ([y, y, n, y, n, n, s], "high", true),
        ([y, y, n, n, y, n, s], "high", true),
        ([n, n, s, s, s, y, n], "moderate", false),
        ([n, n, s, s, s, y, y], "high", true),
        ([y, y, y, n, n, y, n], "moderate", false),
        ([y, y, y, y, y, y, y], "high", true),
    ];
    for (q, want, crisis) in table {
        let r = cssrs(q);
        assert!(r.complete, "{q:?} complete");
        assert_eq!(band(&r), want, "{q:?}");
        assert_eq!(r.flags.iter().any(|f| f.crisis), crisis, "{q:?}");
    }
}

#[test]
fn cssrs_skip_logic_hides_q3_to_q5_unless_q2_yes() {
    let (y, n, s) = (Some(true), Some(false), None);
    // q2 no: q3–q5 hidden, so answering them does not count and they are not missing.
    let r = cssrs([y, n, y, y, y, n, s]);
    assert_eq!(band(&r), "low");
    assert!(!r.shown.contains(&"q3".to_owned()));
    // q2 yes but q3–q5 unanswered: incomplete.
    let r = cssrs([n, y, s, s, s, n, s]);
    assert!(!r.complete);
    assert_eq!(r.missing, ["q3", "q4", "q5"]);
    // q6 yes requires the recency question.
    let r = cssrs([n, n, s, s, s, y, s]);
    assert_eq!(r.missing, ["q6_recent"]);
    // A high-risk answer is reported at once, before the screener finishes.
    let r = cssrs([y, y, s, y, s, s, s]);
    assert!(!r.complete);
    assert_eq!(band(&r), "high");
}

#[test]
fn safety_check_any_yes_is_imminent() {
    let d = defs();
    for (v, want) in [
        ([false, false, false], "none"),
        ([true, false, false], "imminent"),
        ([false, true, false], "imminent"),
        ([false, false, true], "imminent"),
    ] {
        let r = score(&d, "safety_check", &bools(&v), 30, "male");
        assert_eq!(band(&r), want, "{v:?}");
        assert_eq!(r.flags.iter().any(|f| f.crisis), want == "imminent");
    }
}

/// DHCS tool answers: two safety items, then scored items given as yes/no in order.
fn dhcs(
    d: &accessline::domain::Definitions,
    id: &str,
    safety: [bool; 2],
    yes: &[&str],
) -> Vec<Option<AnswerValue>> {
    let inst = d.instrument(id).unwrap();
    inst.items
        .iter()
        .map(|i| match i.id.as_str() {
            "safety_mh" => Some(AnswerValue::Bool(safety[0])),
            "safety_medical" => Some(AnswerValue::Bool(safety[1])),
            _ if safety.iter().any(|s| *s) => None,
            "respondent" => Some(AnswerValue::Int(inst.options_of(i)[0].value)),
            other => Some(AnswerValue::Bool(yes.contains(&other))),
        })
        .collect()
}

#[test]
fn dhcs_adult_threshold_and_safety_route() {
    let d = defs();
    // Weights in the (provisional) definition: hosp_12m 3, impairment 2, prior_services 1.
    for (yes, total, want) in [
        (&[][..], 0, "mcp"),
        (&["hosp_12m", "impairment"][..], 5, "mcp"),
        (&["hosp_12m", "impairment", "prior_services"][..], 6, "mhp"),
    ] {
        let r = score(
            &d,
            "dhcs_adult",
            &dhcs(&d, "dhcs_adult", [false, false], yes),
            30,
            "male",
        );
        assert_eq!((r.total, band(&r)), (Some(total), want), "{yes:?}");
    }
    let r = score(
        &d,
        "dhcs_adult",
        &dhcs(&d, "dhcs_adult", [true, false], &[]),
        30,
        "male",
    );
    assert_eq!(band(&r), "emergency");
    assert!(r.complete, "the scored items are skipped in an emergency");
    assert!(r.flags.iter().any(|f| f.crisis));
}

#[test]
fn dhcs_tool_by_age() {
    let d = defs();
    for (age, adult, youth) in [
        (20, false, true),
        (21, true, false),
        (12, false, true),
        (70, true, false),
    ] {
        let a = score(
            &d,
            "dhcs_adult",
            &dhcs(&d, "dhcs_adult", [false, false], &[]),
            age,
            "female",
        );
        let y = score(
            &d,
            "dhcs_youth",
            &dhcs(&d, "dhcs_youth", [false, false], &[]),
            age,
            "female",
        );
        assert_eq!((a.applies, y.applies), (adult, youth), "age {age}");
    }
    let r = score(
        &d,
        "dhcs_youth",
        &dhcs(&d, "dhcs_youth", [false, false], &["child_welfare"]),
        15,
        "female",
    );
    assert_eq!(
        band(&r),
        "mhp",
        "child-welfare involvement alone routes to specialty care"
    );
}

#[test]
fn asam_triage_applies_after_a_positive_substance_screen() {
    use accessline::domain::scoring::{Answers, score_all};
    let d = defs();
    let run = |dast_yes: usize, audit: i64| {
        let mut a = Answers::new();
        a.insert(
            "dast10".into(),
            common::positional(&d, "dast10", &dast(dast_yes)),
        );
        a.insert(
            "auditc".into(),
            common::positional(&d, "auditc", &ints(&spread(audit, 3, 4))),
        );
        let f = common::facts(30, "male");
        score_all(&d, &f, &a, &Default::default()).results["asam_triage"].applies
    };
    assert!(!run(0, 0));
    assert!(!run(0, 3), "AUDIT-C 3 is negative for a man");
    assert!(run(0, 4));
    assert!(run(1, 0));
}
