//! FHIR R4 export: one transaction bundle per finalized revision, checked here for codes,
//! statuses, references and consent, and by an independent validator (the Python package
//! `fhir.resources`, R4B models) when `.ci/run` has installed it.

mod sync_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use accessline::store::{Selection, SyncState};
use accessline::sync::{ExportOptions, Format};
use serde_json::Value;
use sync_common::*;

fn fhir_options(out: &Path) -> ExportOptions {
    ExportOptions {
        format: Format::Fhir,
        ..plaintext(out, 1000)
    }
}

fn bundles(files: &[PathBuf]) -> Vec<Value> {
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn collect_references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "reference" {
                    out.push(x.as_str().unwrap().to_owned());
                } else {
                    collect_references(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_references(x, out)),
        _ => {}
    }
}

fn identifier(resource: &Value) -> (String, String) {
    let id = match &resource["identifier"] {
        Value::Array(a) => a[0].clone(),
        other => other.clone(),
    };
    (
        id["system"].as_str().unwrap().to_owned(),
        id["value"].as_str().unwrap().to_owned(),
    )
}

fn of_type<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

fn has_sud_label(r: &Value) -> bool {
    r["meta"]["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|c| c["code"] == "42CFRPart2"))
}

const SUD_INSTRUMENTS: &[&str] = &["auditc", "dast10", "asam_triage"];
const SUD_CATEGORIES: &[&str] = &[
    "sud_outpatient",
    "sud_iop",
    "sud_residential",
    "otp",
    "withdrawal_management",
    "residential_dual",
    "mh_cod",
];

#[test]
fn bundles_have_the_right_codes_statuses_references_and_consent() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev.db");
    let ids = device(&dev, 40);
    let report = export(&dev, &fhir_options(&dir.path().join("fhir")));
    let files: Vec<PathBuf> = report.batches.iter().map(|b| b.data_path.clone()).collect();
    let all = bundles(&files);
    // One bundle per finalized revision (40 + 8 addenda).
    assert_eq!(all.len(), 48);
    assert_eq!(report.records, 48);
    let defs = defs();
    let store = keys::open_db(&dev).unwrap();
    let mut loinc_totals: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen_emergent = false;
    let mut seen_masked = false;
    let mut seen_consented_sud = false;

    for bundle in &all {
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "transaction");
        let (bsys, key) = identifier(bundle);
        assert_eq!(bsys, "urn:accessline:bundle");
        let (id, rev) = key.rsplit_once("-r").unwrap();
        let row = store
            .encounter(id.parse().unwrap(), Some(rev.parse().unwrap()))
            .unwrap();
        let payload: Value = serde_json::from_str(row.payload.as_ref().unwrap()).unwrap();
        let consent = payload["sud_consent"] == "given";
        let entries = bundle["entry"].as_array().unwrap();
        let urls: BTreeSet<&str> = entries
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap())
            .collect();
        assert_eq!(urls.len(), entries.len(), "fullUrls are unique");
        for e in entries {
            let url = e["fullUrl"].as_str().unwrap();
            assert!(url.starts_with("urn:uuid:") && url.len() == 45, "{url}");
            let r = &e["resource"];
            // A conditional create on our identifier: a re-sent bundle creates nothing.
            assert_eq!(e["request"]["method"], "POST");
            assert_eq!(e["request"]["url"], r["resourceType"]);
            let (system, value) = identifier(r);
            assert!(system.starts_with("urn:accessline:"), "{system}");
            assert_eq!(
                e["request"]["ifNoneExist"],
                format!("identifier={system}|{value}")
            );
        }
        let mut refs = Vec::new();
        collect_references(bundle, &mut refs);
        assert!(!refs.is_empty());
        for r in &refs {
            assert!(urls.contains(r.as_str()), "dangling reference {r}");
        }

        let patients = of_type(bundle, "Patient");
        let encounters = of_type(bundle, "Encounter");
        assert_eq!((patients.len(), encounters.len()), (1, 1));
        let (patient, encounter) = (patients[0], encounters[0]);
        assert_eq!(
            identifier(patient),
            ("urn:accessline:caller".into(), id.into())
        );
        let intake = &payload["intake"];
        let named = intake["anonymous"] == false && intake["caller_type"] == "self";
        assert_eq!(patient.get("name").is_some(), named, "{patient}");
        assert_eq!(patient.get("telecom").is_some(), named);
        assert_eq!(encounter["status"], "finished");
        assert_eq!(encounter["class"]["code"], "VR");
        assert_eq!(encounter["period"]["start"], row_received(&row));

        let triage = row.summary.triage.unwrap().as_str();
        seen_emergent |= triage == "emergent";
        for sr in of_type(bundle, "ServiceRequest") {
            assert_eq!(sr["status"], "active");
            assert_eq!(sr["intent"], "order");
            let expected = match triage {
                "emergent" => "stat",
                "urgent" => "urgent",
                _ => "routine",
            };
            assert_eq!(sr["priority"], expected);
            let service = sr["code"]["coding"][0]["code"].as_str().unwrap();
            let is_sud = defs
                .directory
                .services
                .iter()
                .find(|s| s.id == service)
                .map(|s| {
                    SUD_CATEGORIES.contains(&s.category.as_str())
                        || defs
                            .directory
                            .organizations
                            .iter()
                            .any(|o| o.id == s.organization_id && o.system == "SAPC")
                })
                .unwrap();
            assert!(
                !is_sud || consent,
                "a substance-use referral without consent"
            );
            assert_eq!(has_sud_label(sr), is_sud);
        }
        let referred = payload["referrals"].as_array().unwrap().len();
        assert!(of_type(bundle, "ServiceRequest").len() <= referred);

        for qr in of_type(bundle, "QuestionnaireResponse") {
            let status = qr["status"].as_str().unwrap();
            assert!(status == "completed" || status == "in-progress", "{status}");
            let instrument = qr["questionnaire"]
                .as_str()
                .unwrap()
                .strip_prefix("urn:accessline:questionnaire:")
                .unwrap()
                .split('|')
                .next()
                .unwrap();
            assert!(consent || !SUD_INSTRUMENTS.contains(&instrument));
            let inst = defs.instrument(instrument).unwrap();
            for item in qr["item"].as_array().into_iter().flatten() {
                let link = item["linkId"].as_str().unwrap();
                let def = inst.item(link).unwrap();
                assert!(consent || !def.sud, "a substance-use item without consent");
                let answer = &item["answer"][0];
                let recorded = &payload["answers"][instrument][link];
                if let Some(coding) = answer.get("valueCoding") {
                    let opt = inst
                        .options_of(def)
                        .iter()
                        .find(|o| Some(o.value) == recorded.as_i64())
                        .unwrap();
                    match &opt.loinc {
                        Some(code) => {
                            assert_eq!(coding["system"], "http://loinc.org");
                            assert_eq!(coding["code"], code.as_str());
                            assert!(code.starts_with("LA"), "answer codes are LOINC LA codes");
                        }
                        None => assert_ne!(coding["system"], "http://loinc.org"),
                    }
                } else if let Some(b) = answer.get("valueBoolean") {
                    assert_eq!(b, recorded);
                } else {
                    assert_eq!(&answer["valueInteger"], recorded);
                }
            }
        }

        let results = payload["outcome"]["evaluation"]["results"]
            .as_array()
            .unwrap();
        for obs in of_type(bundle, "Observation") {
            assert_eq!(obs["status"], "final");
            assert_eq!(obs["category"][0]["coding"][0]["code"], "survey");
            let (_, value) = identifier(obs);
            let suffix = value.strip_prefix(&format!("{key}-")).unwrap();
            if suffix == "placement" {
                let masked = obs.get("dataAbsentReason").is_some();
                assert_eq!(
                    masked, !consent,
                    "placement withheld exactly without consent"
                );
                seen_masked |= masked;
                if consent {
                    assert_eq!(
                        obs["valueCodeableConcept"]["coding"][0]["code"],
                        row.summary.cell_chosen.unwrap().id()
                    );
                    assert!(has_sud_label(obs));
                    seen_consented_sud = true;
                } else {
                    assert!(obs.get("valueCodeableConcept").is_none());
                    assert_eq!(obs["component"].as_array().unwrap().len(), 1);
                }
                continue;
            }
            let instrument = suffix;
            assert!(consent || !SUD_INSTRUMENTS.contains(&instrument));
            let result = results
                .iter()
                .find(|r| r["instrument"] == instrument)
                .unwrap();
            for c in obs["code"]["coding"].as_array().unwrap() {
                if c["system"] == "http://loinc.org" {
                    let code = c["code"].as_str().unwrap().to_owned();
                    assert_eq!(
                        Some(code.as_str()),
                        defs.instrument(instrument)
                            .unwrap()
                            .scoring
                            .loinc
                            .as_deref()
                    );
                    loinc_totals
                        .entry(instrument.to_owned())
                        .or_default()
                        .insert(code);
                    assert_eq!(obs["valueInteger"], result["total"]);
                }
            }
            if let Some(qr) = obs["derivedFrom"][0]["reference"].as_str() {
                assert!(urls.contains(qr));
            }
        }
    }
    // The LOINC codes of DESIGN 3, from the instruments' panels.
    let expected: BTreeMap<String, BTreeSet<String>> = [
        ("auditc", "75626-2"),
        ("gad7", "70274-6"),
        ("phq9", "44261-6"),
    ]
    .into_iter()
    .map(|(i, c)| (i.to_owned(), BTreeSet::from([c.to_owned()])))
    .collect();
    assert_eq!(loinc_totals, expected);
    assert!(seen_emergent && seen_masked && seen_consented_sud);

    // Every revision of an encounter refers to the same patient (one conditional create).
    let with_addendum = ids[0];
    let patient_urls: BTreeSet<String> = all
        .iter()
        .filter(|b| identifier(b).1.starts_with(&with_addendum.to_string()))
        .map(|b| of_type(b, "Patient")[0]["identifier"][0]["value"].to_string())
        .collect();
    assert_eq!(patient_urls.len(), 1);

    // Deterministic: the same revisions give the same bytes.
    let again = export(&dev, &fhir_options(&dir.path().join("again")));
    for (a, b) in report.batches.iter().zip(&again.batches) {
        assert_eq!(
            std::fs::read(&a.data_path).unwrap(),
            std::fs::read(&b.data_path).unwrap()
        );
    }
    // A FHIR export is a copy: the records stay pending for the hub.
    let store = keys::open_db(&dev).unwrap();
    assert_eq!(
        store.encounter(ids[1], None).unwrap().sync_state,
        Some(SyncState::Pending)
    );
    assert_eq!(store.sync_counts().unwrap().exported, 0);

    validate_with_fhir_resources(&files);
}

fn row_received(row: &accessline::store::EncounterRecord) -> String {
    accessline::store::ts(row.summary.received_at)
}

/// Run scripts/validate_fhir.py with the virtual environment's Python that `.ci/run` sets up
/// (`ACCESSLINE_FHIR_PYTHON`, else `target/fhir-venv/bin/python`); skipped, saying so, when
/// there is none.
fn validate_with_fhir_resources(files: &[PathBuf]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = match std::env::var_os("ACCESSLINE_FHIR_PYTHON") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.exists(),
                "ACCESSLINE_FHIR_PYTHON={} does not exist",
                p.display()
            );
            p
        }
        None => {
            let p = root.join("target/fhir-venv/bin/python");
            if !p.exists() {
                println!(
                    "NOTICE: FHIR validation with fhir.resources skipped: no ACCESSLINE_FHIR_PYTHON and no {} (`.ci/run` installs it)",
                    p.display()
                );
                return;
            }
            p
        }
    };
    let out = std::process::Command::new(&python)
        .arg(root.join("scripts/validate_fhir.py"))
        .args(files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("48 bundles valid, 0 invalid"), "{stdout}");
    println!("{}", stdout.trim());
}

#[test]
fn fhir_batches_encrypt_and_are_not_imported_by_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    device(&dev, 3);
    let (_, public, _) = accessline::sync::crypto::generate(&dir.path().join("k")).unwrap();
    let report = export(
        &dev,
        &ExportOptions {
            format: Format::Fhir,
            selection: Selection::Pending,
            ..encrypted(&dir.path().join("out"), 100, public.to_str().unwrap())
        },
    );
    let b = &report.batches[0];
    assert!(b.data_path.to_string_lossy().ends_with(".fhir.ndjson.age"));
    assert_eq!(b.manifest.record_schema, "fhir-r4-bundle");
    let mut store = keys::open_db(&hub).unwrap();
    let err = accessline::sync::import_file(&mut store, &hub_actor(), &b.manifest_path, None)
        .unwrap_err();
    assert!(err.to_string().contains("FHIR server"), "{err}");
}

#[test]
fn a_hub_exports_fhir_for_what_it_received() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    device(&dev, 6);
    let report = export(&dev, &plaintext(&dir.path().join("nd"), 100));
    import_all(&hub, &manifests(&report));
    let mut store = keys::open_db(&hub).unwrap();
    let fhir = accessline::sync::export(
        &mut store,
        &defs(),
        &hub_actor(),
        &fhir_options(&dir.path().join("fhir")),
    )
    .unwrap();
    assert_eq!(fhir.records, 6 + 2);
    assert_eq!(fhir.batches[0].manifest.device, DEVICE);
    // Same bytes as the device's own FHIR export of the same revisions.
    let own = export(&dev, &fhir_options(&dir.path().join("own")));
    assert_eq!(
        std::fs::read(&own.batches[0].data_path).unwrap(),
        std::fs::read(&fhir.batches[0].data_path).unwrap()
    );
}
