//! `accessline assess` run as a process (DESIGN section 8): every example gives exit 0 and the
//! expected result on stdout, from a file and from stdin; every class of bad input gives exit 2,
//! exactly one line on stderr naming the problem, and nothing on stdout. Also keeps
//! `docs/assess.md` honest: the commands it shows refer to files that exist and run, the
//! instrument tables match the definitions, and the full example output is what the program
//! prints.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::LazyLock;

use accessline::domain::Definitions;
use accessline::domain::instrument::{ItemKind, ScoringMethod};
use serde_json::{Value, json};

static DEFS: LazyLock<Definitions> = LazyLock::new(common::defs);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run the real binary from the repository root, optionally feeding `stdin`.
fn run(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accessline"))
        .args(args)
        .current_dir(root())
        .env("RUST_BACKTRACE", "0")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the accessline binary starts");
    let writer = stdin.map(|text| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let text = text.to_owned();
        std::thread::spawn(move || {
            // The process may stop reading early on bad input; a broken pipe is fine then.
            let _ = pipe.write_all(text.as_bytes());
        })
    });
    let out = child.wait_with_output().expect("the process finishes");
    if let Some(w) = writer {
        w.join().expect("stdin writer");
    }
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn assess_ok(run: &Run, what: &str) -> Value {
    assert_eq!(run.code, Some(0), "{what}: exit 0; stderr: {}", run.stderr);
    assert!(
        run.stderr.is_empty(),
        "{what}: nothing on stderr: {}",
        run.stderr
    );
    let v: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is JSON ({e}): {}", run.stdout));
    assert_eq!(v["schema"], "accessline.assess.result/1", "{what}");
    v
}

fn cell_id(v: &Value) -> String {
    format!(
        "{}_{}",
        v["mh"].as_str().expect("mh level"),
        v["acuity"].as_str().expect("acuity level")
    )
}

fn rules(decision: &Value) -> Vec<&str> {
    decision["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["rule"].as_str().expect("rule id"))
        .collect()
}

fn result<'a>(out: &'a Value, instrument: &str) -> &'a Value {
    out["evaluation"]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["instrument"] == instrument)
        .unwrap_or_else(|| panic!("no result for {instrument}"))
}

fn programs(out: &Value) -> Vec<&str> {
    out["programs"]
        .as_array()
        .expect("programs")
        .iter()
        .map(|p| p["service_id"].as_str().expect("service id"))
        .collect()
}

fn example_text(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(format!("{name}.json")))
        .unwrap_or_else(|e| panic!("examples/{name}.json: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The examples
// ---------------------------------------------------------------------------------------------

/// Every example with the clinically expected computed cell and triage level.
const EXAMPLES: &[(&str, &str, &str)] = &[
    ("routine_mild", "low_low", "routine"),
    ("co_occurring", "moderate_moderate", "routine"),
    ("crisis", "high_low", "emergent"),
    ("youth", "moderate_low", "routine"),
];

#[test]
fn every_example_in_the_directory_is_covered() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let tested: BTreeSet<String> = EXAMPLES.iter().map(|e| e.0.to_owned()).collect();
    assert_eq!(
        on_disk, tested,
        "every examples/*.json has an expected cell and triage in EXAMPLES"
    );
}

#[test]
fn every_example_gives_the_expected_cell_and_triage() {
    for (name, cell, triage) in EXAMPLES {
        let path = format!("examples/{name}.json");
        let out = assess_ok(&run(&["assess", &path], None), &path);
        assert_eq!(
            cell_id(&out["placement"]["cell"]),
            *cell,
            "{path}: computed cell"
        );
        assert_eq!(cell_id(&out["chosen_cell"]), *cell, "{path}: chosen cell");
        assert_eq!(out["triage"]["level"], *triage, "{path}: triage");
        assert_eq!(
            out["definitions"]["dhcs_adult"], "0.1.0-provisional",
            "{path}: versions stamped"
        );
        assert!(!out["deadlines"].as_array().unwrap().is_empty(), "{path}");
        assert!(!out["programs"].as_array().unwrap().is_empty(), "{path}");
        assert!(out["help_lines"].as_array().unwrap().len() >= 3, "{path}");
        // The input says which schema it is.
        let input: Value = serde_json::from_str(&example_text(name)).unwrap();
        assert_eq!(input["schema"], "accessline.assess.input/1", "{path}");
    }
}

#[test]
fn stdin_dash_and_default_give_the_same_result_as_the_file() {
    for (name, _, _) in EXAMPLES {
        let path = format!("examples/{name}.json");
        let from_file = run(&["assess", &path], None);
        let text = example_text(name);
        let from_stdin = run(&["assess", "-"], Some(&text));
        assess_ok(&from_stdin, &format!("{path} on stdin"));
        assert_eq!(from_stdin.stdout, from_file.stdout, "{path}");
    }
    // FILE defaults to `-`.
    let text = example_text("youth");
    let default = run(&["assess"], Some(&text));
    assess_ok(&default, "assess with no FILE");
    assert_eq!(
        default.stdout,
        run(&["assess", "examples/youth.json"], None).stdout
    );
}

#[test]
fn routine_mild_example() {
    let out = assess_ok(
        &run(&["assess", "examples/routine_mild.json"], None),
        "routine_mild",
    );
    assert_eq!(out["age"], 34, "age from the date of birth");
    assert_eq!(out["service_area"], 6, "ZIP 90011 is in South");
    assert_eq!(out["crisis_indicated"], false);
    assert_eq!(rules(&out["placement"]["mh_severity"]), ["default"]);
    assert_eq!(rules(&out["placement"]["addiction_acuity"]), ["default"]);
    assert_eq!(result(&out, "phq9")["band"]["id"], "mild");
    assert_eq!(result(&out, "gad7")["band"]["id"], "mild");
    assert_eq!(result(&out, "dhcs_adult")["band"]["id"], "mcp");
    assert_eq!(result(&out, "asam_triage")["applies"], false);
    assert_eq!(
        out["deadlines"],
        json!([{
            "standard": "routine_mh",
            "label": "Routine mental health — within 10 business days",
            "kind": "business_days",
            "due_at": "2026-03-24T23:59:59-07:00",
            "due_date": "2026-03-24"
        }])
    );
    let progs = out["programs"].as_array().unwrap();
    assert!(
        progs.iter().all(|p| p["language_match"] == true),
        "Spanish everywhere"
    );
    assert!(programs(&out).contains(&"svc-lacare-bh"));
    assert!(
        progs
            .iter()
            .filter(|p| p["category"] != "helpline")
            .all(|p| p["system"] == "MCP"),
        "mild-to-moderate goes to the managed-care plan"
    );
}

#[test]
fn co_occurring_example() {
    let out = assess_ok(
        &run(&["assess", "examples/co_occurring.json"], None),
        "co_occurring",
    );
    assert_eq!(out["service_area"], 8, "ZIP 90813 is in South Bay");
    assert_eq!(
        rules(&out["placement"]["mh_severity"]),
        ["mh_moderate_dhcs_adult", "mh_moderate_phq9"]
    );
    assert_eq!(
        rules(&out["placement"]["addiction_acuity"]),
        [
            "acuity_moderate_asam",
            "acuity_moderate_dast10",
            "acuity_moderate_auditc"
        ]
    );
    assert_eq!(result(&out, "auditc")["band"]["id"], "positive");
    assert_eq!(result(&out, "dast10")["total"], 5);
    assert_eq!(result(&out, "asam_triage")["applies"], true);
    let standards: BTreeSet<&str> = out["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["standard"].as_str().unwrap())
        .collect();
    assert_eq!(standards, BTreeSet::from(["routine_mh", "routine_sud"]));
    for d in out["deadlines"].as_array().unwrap() {
        assert_eq!(d["due_date"], "2026-12-10", "Thanksgiving skipped");
    }
    let harbor = out["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["service_id"] == "svc-dhs-harbor-dual")
        .expect("Harbor dual diagnosis listed");
    assert_eq!(harbor["area_match"], true);
    assert_eq!(harbor["score"], 3);
}

#[test]
fn crisis_example() {
    let out = assess_ok(&run(&["assess", "examples/crisis.json"], None), "crisis");
    assert_eq!(out["crisis_indicated"], true);
    assert_eq!(
        rules(&out["triage"]),
        [
            "triage_emergent_crisis",
            "triage_emergent_imminent",
            "triage_emergent_cssrs"
        ]
    );
    assert_eq!(rules(&out["placement"]["mh_severity"]), ["mh_high_cssrs"]);
    assert_eq!(result(&out, "cssrs_screen")["band"]["id"], "high");
    assert_eq!(result(&out, "safety_check")["band"]["id"], "imminent");
    // Only the safety step was answered.
    for later in [
        "dhcs_adult",
        "auditc",
        "dast10",
        "mh_history",
        "phq9",
        "gad7",
    ] {
        assert_eq!(result(&out, later)["started"], false, "{later}");
    }
    let flags = out["evaluation"]["flags"].as_array().unwrap();
    assert!(flags.contains(&json!("crisis_opened")));
    assert_eq!(
        out["deadlines"],
        json!([{
            "standard": "emergent",
            "label": "Emergent — immediate response",
            "kind": "immediate",
            "due_at": "2026-07-03T23:20:00-07:00"
        }])
    );
    assert!(programs(&out).contains(&"svc-dmh-mobile-crisis"));
    let lines: Vec<&str> = out["help_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["number"].as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&"911") && lines.contains(&"988"),
        "{lines:?}"
    );
}

#[test]
fn youth_example() {
    let out = assess_ok(&run(&["assess", "examples/youth.json"], None), "youth");
    assert_eq!(out["age"], 16);
    assert_eq!(out["service_area"], 3);
    assert_eq!(result(&out, "dhcs_adult")["applies"], false);
    let youth = result(&out, "dhcs_youth");
    assert_eq!(youth["applies"], true);
    assert_eq!(youth["total"], 7);
    assert_eq!(youth["band"]["id"], "mhp");
    assert_eq!(
        rules(&out["placement"]["mh_severity"]),
        ["mh_moderate_dhcs_youth"]
    );
    let ids = programs(&out);
    assert!(ids.contains(&"svc-pacific-youth-cod"), "{ids:?}");
    for id in &ids {
        let s = DEFS.directory.service(id).unwrap();
        assert!(
            s.age_min.is_none_or(|m| m <= 16) && s.age_max.is_none_or(|m| m >= 16),
            "{id} takes a 16-year-old"
        );
    }
    let pacific = out["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["service_id"] == "svc-pacific-youth-cod")
        .unwrap();
    assert_eq!(
        (&pacific["language_match"], &pacific["area_match"]),
        (&json!(true), &json!(true))
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

fn assert_bad(run: &Run, what: &str, needles: &[&str]) {
    assert_eq!(run.code, Some(2), "{what}: exit 2; stderr: {}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "{what}: nothing on stdout: {}",
        run.stdout
    );
    assert!(
        run.stderr.ends_with('\n') && run.stderr.matches('\n').count() == 1,
        "{what}: exactly one line on stderr: {:?}",
        run.stderr
    );
    assert!(
        run.stderr.starts_with("accessline assess: "),
        "{what}: {:?}",
        run.stderr
    );
    for n in needles {
        assert!(
            run.stderr.contains(n),
            "{what}: stderr names the problem ({n:?}): {:?}",
            run.stderr
        );
    }
}

type Change = fn(&mut Value);

fn example_value(name: &str) -> Value {
    serde_json::from_str(&example_text(name)).unwrap()
}

fn remove(v: &mut Value, key: &str) {
    v.as_object_mut().expect("an object").remove(key);
}

#[test]
fn every_bad_input_class_exits_2_with_one_line() {
    // (what, example to start from, change, substrings the one stderr line must contain)
    let table: &[(&str, &str, Change, &[&str])] = &[
        (
            "wrong schema id",
            "routine_mild",
            |v| v["schema"] = json!("accessline.assess.input/2"),
            &["schema", "accessline.assess.input/2", "not supported"],
        ),
        (
            "unknown instrument",
            "routine_mild",
            |v| v["answers"]["bdi2"] = json!([1, 2, 3]),
            &["answers.bdi2", "unknown instrument"],
        ),
        (
            "missing item",
            "routine_mild",
            |v| {
                v["answers"]["phq9"].as_array_mut().unwrap().pop();
            },
            &[
                "answers.phq9",
                "missing item",
                "9 values given, 10 expected",
            ],
        ),
        (
            "extra item",
            "routine_mild",
            |v| v["answers"]["gad7"].as_array_mut().unwrap().push(json!(0)),
            &["answers.gad7", "extra item", "9 values given, 8 expected"],
        ),
        (
            "out-of-range answer",
            "routine_mild",
            |v| v["answers"]["phq9"][0] = json!(4),
            &["answers.phq9[0] (q1)", "4 is out of range"],
        ),
        (
            "out-of-range ASAM rating",
            "co_occurring",
            |v| v["answers"]["asam_triage"][1] = json!(5),
            &["answers.asam_triage[1] (d2)", "out of range"],
        ),
        (
            "negative answer",
            "routine_mild",
            |v| v["answers"]["auditc"][0] = json!(-1),
            &["answers.auditc[0] (q1)", "out of range"],
        ),
        (
            "string for a number",
            "routine_mild",
            |v| v["answers"]["auditc"][1] = json!("2"),
            &["answers.auditc[1] (q2)", "expects a whole number"],
        ),
        (
            "fraction for a number",
            "routine_mild",
            |v| v["answers"]["gad7"][2] = json!(1.5),
            &["answers.gad7[2] (q3)", "expects a whole number"],
        ),
        (
            "number for yes/no",
            "routine_mild",
            |v| v["answers"]["safety_check"][0] = json!(0),
            &[
                "answers.safety_check[0] (danger_self)",
                "expects true or false",
            ],
        ),
        (
            "string for yes/no",
            "routine_mild",
            |v| v["answers"]["dast10"][3] = json!("no"),
            &["answers.dast10[3] (q4)", "expects true or false"],
        ),
        (
            "yes/no for a number",
            "routine_mild",
            |v| v["answers"]["phq9"][4] = json!(true),
            &["answers.phq9[4] (q5)", "expects a whole number"],
        ),
        (
            "answers not an array",
            "routine_mild",
            |v| v["answers"]["phq9"] = json!(3),
            &["answers.phq9", "expected a sequence"],
        ),
        (
            "C-SSRS Q3 answered when Q2 is no",
            "routine_mild",
            |v| v["answers"]["cssrs_screen"][2] = json!(false),
            &["answers.cssrs_screen (q3)", "skip logic hides"],
        ),
        (
            "C-SSRS recency answered when Q6 is no",
            "routine_mild",
            |v| v["answers"]["cssrs_screen"][6] = json!(false),
            &["answers.cssrs_screen (q6_recent)", "skip logic hides"],
        ),
        (
            "DHCS item answered after a positive safety question",
            "routine_mild",
            |v| v["answers"]["dhcs_adult"][0] = json!(true),
            &["answers.dhcs_adult (", "skip logic hides"],
        ),
        (
            "youth tool for an adult",
            "routine_mild",
            |v| {
                v["answers"]["dhcs_youth"] = json!([
                    false, false, 0, false, false, false, false, false, false, false, false, false,
                    false, false, false
                ])
            },
            &["answers.dhcs_youth", "does not apply"],
        ),
        (
            "adult tool for a youth",
            "youth",
            |v| {
                v["answers"]["dhcs_adult"] = json!([
                    false, false, false, false, false, false, false, false, false, false, false,
                    false
                ])
            },
            &["answers.dhcs_adult", "does not apply"],
        ),
        (
            "ASAM triage without a positive substance screen",
            "routine_mild",
            |v| v["answers"]["asam_triage"] = json!([0, 0, 0, 0, 0, 0]),
            &["answers.asam_triage", "does not apply"],
        ),
        (
            "required item left null",
            "routine_mild",
            |v| v["answers"]["phq9"][0] = Value::Null,
            &["answers.phq9 (q1)", "missing answer to a required item"],
        ),
        (
            "shown C-SSRS item left null",
            "routine_mild",
            |v| v["answers"]["cssrs_screen"][5] = Value::Null,
            &["answers.cssrs_screen (q6)", "missing answer"],
        ),
        (
            "required instrument left out",
            "routine_mild",
            |v| remove(&mut v["answers"], "gad7"),
            &["answers.gad7", "required"],
        ),
        (
            "ASAM triage left out after a positive screen",
            "co_occurring",
            |v| remove(&mut v["answers"], "asam_triage"),
            &["answers.asam_triage", "required"],
        ),
        (
            "safety step left out of a crisis call",
            "crisis",
            |v| remove(&mut v["answers"], "cssrs_screen"),
            &["answers.cssrs_screen", "required"],
        ),
        (
            "impossible date in received_at",
            "routine_mild",
            |v| v["received_at"] = json!("2026-02-30T10:00:00-08:00"),
            &["received_at"],
        ),
        (
            "received_at without a time",
            "routine_mild",
            |v| v["received_at"] = json!("2026-03-10"),
            &["received_at"],
        ),
        (
            "received_at without an offset",
            "routine_mild",
            |v| v["received_at"] = json!("2026-03-10T10:00:00"),
            &["received_at"],
        ),
        (
            "received_at missing",
            "routine_mild",
            |v| remove(v, "received_at"),
            &["received_at"],
        ),
        (
            "unknown top-level field",
            "routine_mild",
            |v| v["colour"] = json!("blue"),
            &["unknown field `colour`"],
        ),
        (
            "unknown intake field",
            "routine_mild",
            |v| v["intake"]["shoe_size"] = json!(9),
            &["intake.shoe_size", "unknown field"],
        ),
        (
            "no age",
            "routine_mild",
            |v| remove(&mut v["intake"], "date_of_birth"),
            &["intake", "`age` or `date_of_birth`"],
        ),
        (
            "age disagrees with date of birth",
            "routine_mild",
            |v| v["intake"]["age"] = json!(30),
            &["intake.age", "disagrees"],
        ),
        (
            "date of birth after the call",
            "routine_mild",
            |v| v["intake"]["date_of_birth"] = json!("2027-01-01"),
            &["intake.date_of_birth", "after the call"],
        ),
        (
            "bad date of birth",
            "routine_mild",
            |v| v["intake"]["date_of_birth"] = json!("1991-13-02"),
            &["intake.date_of_birth"],
        ),
        (
            "negative age",
            "crisis",
            |v| v["intake"]["age"] = json!(-3),
            &["intake.age"],
        ),
        (
            "implausible age",
            "crisis",
            |v| v["intake"]["age"] = json!(130),
            &["intake.age", "not a plausible age"],
        ),
        (
            "unknown sex",
            "routine_mild",
            |v| v["intake"]["sex"] = json!("f"),
            &["intake.sex", "female"],
        ),
        (
            "unknown language",
            "routine_mild",
            |v| v["intake"]["language"] = json!("xx"),
            &["intake.language", "`xx`"],
        ),
        (
            "bad ZIP",
            "routine_mild",
            |v| v["intake"]["zip"] = json!("9001"),
            &["intake.zip", "5-digit"],
        ),
        (
            "service area out of range",
            "routine_mild",
            |v| v["intake"]["service_area"] = json!(9),
            &["intake.service_area", "1-8"],
        ),
        (
            "name for an anonymous caller",
            "routine_mild",
            |v| v["intake"]["anonymous"] = json!(true),
            &["intake.caller_name", "anonymous"],
        ),
        (
            "unknown caller type",
            "routine_mild",
            |v| v["intake"]["caller_type"] = json!("neighbour"),
            &["intake.caller_type"],
        ),
        (
            "crisis_opened not a boolean",
            "routine_mild",
            |v| v["crisis_opened"] = json!("yes"),
            &["crisis_opened", "boolean"],
        ),
        (
            "bad override cell",
            "routine_mild",
            |v| v["override_cell"] = json!("middle"),
            &["override_cell", "`middle`"],
        ),
        (
            "answers not an object",
            "routine_mild",
            |v| v["answers"] = json!([]),
            &["answers", "expected a map"],
        ),
    ];
    for (what, start, change, needles) in table {
        let mut v = example_value(start);
        change(&mut v);
        let r = run(&["assess", "-"], Some(&v.to_string()));
        assert_bad(&r, what, needles);
    }
}

#[test]
fn malformed_json_exits_2() {
    for (what, text) in [
        ("malformed JSON", "{ not json"),
        ("truncated JSON", &example_text("routine_mild")[..200]),
        ("empty input", ""),
        ("trailing garbage", "{} }"),
    ] {
        let r = run(&["assess", "-"], Some(text));
        assert_bad(&r, what, &["input is not valid JSON"]);
    }
    // Not an object at all.
    let r = run(&["assess", "-"], Some("42"));
    assert_bad(&r, "a number", &["input"]);
}

#[test]
fn bad_input_from_a_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    let mut v = example_value("routine_mild");
    v["answers"]["phq9"][8] = json!(7);
    std::fs::write(&path, v.to_string()).unwrap();
    let r = run(&["assess", path.to_str().unwrap()], None);
    assert_bad(
        &r,
        "file with an out-of-range answer",
        &["answers.phq9[8] (q9)", "out of range"],
    );
}

#[test]
fn unreadable_file_exits_2() {
    let r = run(&["assess", "examples/no_such_case.json"], None);
    assert_bad(
        &r,
        "nonexistent file",
        &["cannot read", "examples/no_such_case.json"],
    );
    let r = run(&["assess", "examples"], None);
    assert_bad(&r, "a directory", &["cannot read", "examples"]);
}

// ---------------------------------------------------------------------------------------------
// docs/assess.md stays true
// ---------------------------------------------------------------------------------------------

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The fenced code blocks of a markdown file: (info string, body).
fn code_blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in md.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => out.push(current.take().expect("open block")),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(current.is_none(), "an unclosed code block");
    out
}

/// `examples/….json` paths named in shell code blocks.
fn example_paths_in_commands(md: &str) -> Vec<String> {
    code_blocks(md)
        .into_iter()
        .filter(|(info, _)| matches!(info.as_str(), "sh" | "bash" | "shell" | "console"))
        .flat_map(|(_, body)| {
            body.split(|c: char| c.is_whitespace() || "<>|;&()'\"`".contains(c))
                .filter(|w| w.contains("examples/"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn documented_commands_refer_to_examples_that_exist_and_run() {
    let mut all = BTreeSet::new();
    for doc in ["docs/assess.md", "examples/README.md"] {
        let paths = example_paths_in_commands(&read(doc));
        assert!(!paths.is_empty(), "{doc} shows commands with examples");
        for p in paths {
            assert!(
                root().join(&p).is_file(),
                "{doc}: `{p}` in a command does not exist"
            );
            all.insert(p);
        }
    }
    for p in &all {
        assess_ok(&run(&["assess", p], None), p);
    }
    // Links to examples in the prose exist too.
    for doc in ["docs/assess.md", "examples/README.md"] {
        let text = read(doc);
        for (n, _) in text.match_indices("](") {
            let target: String = text[n + 2..].chars().take_while(|c| *c != ')').collect();
            let target = target.split('#').next().unwrap_or_default();
            if target.is_empty() || target.starts_with("http") {
                continue;
            }
            let base = root().join(doc);
            let resolved = base.parent().unwrap().join(target);
            assert!(resolved.exists(), "{doc}: link `{target}` does not resolve");
        }
    }
}

#[test]
fn documented_full_output_is_what_the_program_prints() {
    let doc = read("docs/assess.md");
    let marker = "<!-- output: examples/routine_mild.json -->";
    let at = doc
        .find(marker)
        .expect("docs/assess.md marks its full example output");
    let (_, body) = code_blocks(&doc[at..])
        .into_iter()
        .next()
        .expect("a code block follows the marker");
    let documented: Value = serde_json::from_str(&body).expect("the documented output is JSON");
    let actual = assess_ok(
        &run(&["assess", "examples/routine_mild.json"], None),
        "routine_mild",
    );
    assert_eq!(
        documented, actual,
        "docs/assess.md shows stale output: paste the output of \
         `cargo run -q -- assess examples/routine_mild.json` in its place"
    );
    // The complete input shown is the example file.
    let (_, input) = code_blocks(&doc)
        .into_iter()
        .find(|(info, body)| info == "json" && body.contains("accessline.assess.input/1"))
        .expect("docs/assess.md shows a complete input");
    let shown: Value = serde_json::from_str(&input).unwrap();
    assert_eq!(shown, example_value("routine_mild"));
}

/// The row `docs/assess.md` must have for each item: `| # | `id` | type | answers |`.
fn expected_row_prefix(inst: &accessline::domain::instrument::Instrument, n: usize) -> String {
    let item = &inst.items[n];
    let scored = inst.scoring.method == ScoringMethod::Sum && item.scored;
    let (kind, answers) = match item.kind {
        ItemKind::YesNo if scored => (
            "yes/no",
            format!(
                "`true` = yes ({}) · `false` = no ({})",
                item.yes_score.unwrap_or(1),
                item.no_score.unwrap_or(0)
            ),
        ),
        ItemKind::YesNo => ("yes/no", "`true` = yes · `false` = no".to_owned()),
        ItemKind::Choice => (
            "number",
            inst.options_of(item)
                .iter()
                .map(|o| {
                    if scored {
                        format!("`{}` {} ({})", o.value, o.label, o.score)
                    } else {
                        format!("`{}` {}", o.value, o.label)
                    }
                })
                .collect::<Vec<_>>()
                .join(" · "),
        ),
    };
    let required = if item.required {
        "yes"
    } else {
        "no (may be null)"
    };
    format!("| {n} | `{}` | {kind} | {answers} | {required} |", item.id)
}

#[test]
fn documented_instrument_tables_match_the_definitions() {
    let doc = read("docs/assess.md");
    for inst in DEFS.instruments_in_order() {
        let heading = format!(
            "### `{}` — {} (version {})",
            inst.id, inst.short_title, inst.version
        );
        let start = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/assess.md has no section `{heading}`"));
        let section = &doc[start..];
        let end = ["\n### ", "\n## "]
            .iter()
            .filter_map(|m| section[4..].find(m))
            .min()
            .map_or(section.len(), |e| e + 4);
        let section = &section[..end];
        assert!(
            section.contains(&format!("Array length: **{}**", inst.items.len())),
            "{}: array length",
            inst.id
        );
        let rows: Vec<&str> = section
            .lines()
            .filter(|l| l.starts_with("| "))
            .skip(1)
            .collect();
        assert_eq!(
            rows.len(),
            inst.items.len(),
            "{}: one row per item",
            inst.id
        );
        for (n, row) in rows.iter().enumerate() {
            let want = expected_row_prefix(inst, n);
            assert!(
                row.starts_with(&want),
                "{} item {n}: docs/assess.md row should start with\n{want}\nbut is\n{row}",
                inst.id
            );
        }
    }
    assert!(doc.contains("PROVISIONAL") && doc.contains("0.1.0-provisional"));
    // Every placement rule is documented with its reason.
    for rule in DEFS.placement.all_rules() {
        assert!(
            doc.contains(&format!("| `{}` |", rule.id)) && doc.contains(&rule.reason),
            "docs/assess.md documents rule {}",
            rule.id
        );
    }
}
