//! The consent check, and the policy read from the built-in definitions.

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
