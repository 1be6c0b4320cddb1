//! The shipped definitions load and validate; broken ones give a message naming file and field.

mod common;

use accessline::domain::catalog::SHIPPED;
use accessline::domain::{DefinitionError, Definitions};

fn with_change(
    path: &str,
    change: impl Fn(&mut serde_json::Value),
) -> Result<Definitions, DefinitionError> {
    let sources = SHIPPED.iter().map(|(p, t)| {
        let text = if *p == path {
            let mut v: serde_json::Value = serde_json::from_str(t).unwrap();
            change(&mut v);
            v.to_string()
        } else {
            t.to_string()
        };
        (p.to_string(), text)
    });
    Definitions::from_sources(sources)
}

fn err_text(r: Result<Definitions, DefinitionError>) -> String {
    r.expect_err("broken definition must be rejected")
        .to_string()
}

#[test]
fn shipped_definitions_are_valid_and_versioned() {
    let d = common::defs();
    let v = d.versions();
    for id in [
        "cssrs_screen",
        "phq9",
        "gad7",
        "auditc",
        "dast10",
        "dhcs_adult",
        "dhcs_youth",
        "asam_triage",
        "quadrants",
        "placement",
        "timeliness",
        "holidays",
        "directory",
        "flow",
    ] {
        assert!(v.contains_key(id), "{id} has a version");
    }
    for inst in d.instruments.values() {
        assert!(
            !inst.source.citation.is_empty(),
            "{} cites its source",
            inst.id
        );
    }
    assert!(d.directory.services.len() >= 30);
}

#[test]
fn missing_field_names_file_and_field() {
    let e = err_text(with_change("assets/instruments/phq9.json", |v| {
        v.as_object_mut().unwrap().remove("version");
    }));
    assert!(e.contains("assets/instruments/phq9.json"), "{e}");
    assert!(e.contains("version"), "{e}");
}

#[test]
fn bad_score_is_rejected() {
    let e = err_text(with_change("assets/instruments/phq9.json", |v| {
        v["option_sets"]["frequency"][3]["score"] = serde_json::json!(-3);
    }));
    assert!(e.contains("phq9.json") && e.contains("score"), "{e}");
    let e = err_text(with_change("assets/instruments/phq9.json", |v| {
        v["option_sets"]["frequency"][3]["score"] = serde_json::json!("three");
    }));
    assert!(
        e.contains("phq9.json") && e.contains("option_sets.frequency[3].score"),
        "{e}"
    );
    let e = err_text(with_change("assets/instruments/phq9.json", |v| {
        v["scoring"]["max"] = serde_json::json!(30);
    }));
    assert!(e.contains("scoring.max"), "{e}");
}

#[test]
fn duplicate_ids_are_rejected() {
    let e = err_text(with_change("assets/instruments/phq9.json", |v| {
        v["items"][1]["id"] = serde_json::json!("q1");
    }));
    assert!(
        e.contains("phq9.json") && e.contains("duplicate item id `q1`"),
        "{e}"
    );
    let e = err_text(with_change("data/directory.json", |v| {
        let first = v["services"][0]["id"].clone();
        v["services"][1]["id"] = first;
    }));
    assert!(
        e.contains("data/directory.json") && e.contains("defined twice"),
        "{e}"
    );
    let e = err_text(with_change("data/holidays.json", |v| {
        let first = v["holidays"][0].clone();
        v["holidays"].as_array_mut().unwrap().push(first);
    }));
    assert!(
        e.contains("holidays.json") && e.contains("listed twice"),
        "{e}"
    );
}

#[test]
fn band_gaps_and_overlaps_are_rejected() {
    let e = err_text(with_change("assets/instruments/phq9.json", |v| {
        v["bands"][1]["min"] = serde_json::json!(6);
    }));
    assert!(
        e.contains("bands.mild") && e.contains("gap or overlap"),
        "{e}"
    );
}

#[test]
fn dangling_references_are_rejected() {
    let e = err_text(with_change("assets/placement.json", |v| {
        v["mh_severity"]["levels"][0]["rules"][0]["when"] =
            serde_json::json!({"yes": {"instrument": "mh_history", "item": "nonexistent"}});
    }));
    assert!(
        e.contains("placement.json") && e.contains("nonexistent"),
        "{e}"
    );
    let e = err_text(with_change("assets/placement.json", |v| {
        v["triage"]["levels"][0]["rules"][0]["when"] = serde_json::json!({"flag": "no_such_flag"});
    }));
    assert!(e.contains("unknown flag `no_such_flag`"), "{e}");
    let e = err_text(with_change("assets/instruments/cssrs_screen.json", |v| {
        v["items"][2]["show_if"] = serde_json::json!({"yes": {"item": "q6"}});
    }));
    assert!(e.contains("not an earlier item"), "{e}");
    let e = err_text(with_change("assets/flow.json", |v| {
        v["steps"][0]["instruments"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!("ghost"));
    }));
    assert!(e.contains("unknown instrument `ghost`"), "{e}");
    let e = err_text(with_change("data/directory.json", |v| {
        v["services"][0]["quadrant_cells"] = serde_json::json!(["middle_middle"]);
    }));
    assert!(e.contains("quadrant_cells"), "{e}");
}

#[test]
fn malformed_json_and_unknown_fields() {
    let sources = SHIPPED.iter().map(|(p, t)| {
        let text = if *p == "assets/quadrants.json" {
            "{ not json".to_owned()
        } else {
            t.to_string()
        };
        (p.to_string(), text)
    });
    let e = Definitions::from_sources(sources).unwrap_err().to_string();
    assert!(e.starts_with("assets/quadrants.json"), "{e}");
    let e = err_text(with_change("assets/instruments/gad7.json", |v| {
        v["colour"] = serde_json::json!("blue");
    }));
    assert!(e.contains("gad7.json") && e.contains("colour"), "{e}");
}
