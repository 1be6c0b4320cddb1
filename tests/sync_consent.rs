//! Consent-aware export (issue 7 item 6; 42 CFR Part 2): substance-use details leave the
//! device only for revisions with the caller's consent. Checked field by field in NDJSON and
//! FHIR against an expectation written here independently of `sync::withhold`.

mod sync_common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use accessline::store::{Selection, SyncState};
use accessline::sync::{self, ExportOptions, Format, fhir::Mapper, withhold::SudPolicy};
use serde_json::{Value, json};
use sync_common::*;

const SUD_INSTRUMENTS: &[&str] = &["auditc", "dast10", "asam_triage"];
/// Substance-use items of otherwise mental-health instruments.
const SUD_ITEMS: &[(&str, &str)] = &[("dhcs_adult", "substance"), ("dhcs_youth", "substance")];
const SUD_FLAGS: &[&str] = &["auditc_positive"];
const SUD_TRIAGE_RULES: &[&str] = &["triage_urgent_high_high"];
const SUD_STANDARDS: &[&str] = &["routine_sud", "routine_otp"];
const SUD_CATEGORIES: &[&str] = &[
    "sud_outpatient",
    "sud_iop",
    "sud_residential",
    "otp",
    "withdrawal_management",
    "residential_dual",
    "mh_cod",
];

fn sud_services() -> BTreeSet<String> {
    let defs = defs();
    defs.directory
        .services
        .iter()
        .filter(|s| {
            SUD_CATEGORIES.contains(&s.category.as_str())
                || defs
                    .directory
                    .organizations
                    .iter()
                    .any(|o| o.id == s.organization_id && o.system == "SAPC")
        })
        .map(|s| s.id.clone())
        .collect()
}

/// What a view must be: the stored payload with exactly these members removed, plus the
/// marker. Counts what it removed in `seen`.
fn expected_view(stored: &Value, services: &BTreeSet<String>, seen: &mut Seen) -> Value {
    let mut v = stored.clone();
    let o = v.as_object_mut().unwrap();
    o.remove("override_cell");
    o.remove("override_reason");
    let answers = o["answers"].as_object_mut().unwrap();
    for i in SUD_INSTRUMENTS {
        seen.answers += u64::from(answers.remove(*i).is_some());
    }
    for (i, item) in SUD_ITEMS {
        if let Some(a) = answers.get_mut(*i) {
            seen.items += u64::from(a.as_object_mut().unwrap().remove(*item).is_some());
        }
    }
    let outcome = o["outcome"].as_object_mut().unwrap();
    outcome.remove("chosen_cell");
    outcome.remove("programs_matched");
    let eval = outcome["evaluation"].as_object_mut().unwrap();
    let results = eval["results"].as_array_mut().unwrap();
    let before = results.len();
    results.retain(|r| !SUD_INSTRUMENTS.contains(&r["instrument"].as_str().unwrap()));
    seen.results += (before - results.len()) as u64;
    for r in results.iter_mut() {
        if SUD_ITEMS.iter().any(|(i, _)| r["instrument"] == *i) {
            r["total"] = Value::Null;
        }
    }
    let flags = eval["flags"].as_array_mut().unwrap();
    let before = flags.len();
    flags.retain(|f| !SUD_FLAGS.contains(&f.as_str().unwrap()));
    seen.flags += (before - flags.len()) as u64;
    let placement = outcome["placement"].as_object_mut().unwrap();
    assert!(placement.remove("addiction_acuity").is_some());
    assert!(placement.remove("cell").is_some());
    let reasons = outcome["triage"]["reasons"].as_array_mut().unwrap();
    let before = reasons.len();
    reasons.retain(|r| !SUD_TRIAGE_RULES.contains(&r["rule"].as_str().unwrap()));
    seen.triage_reasons += (before - reasons.len()) as u64;
    let deadlines = outcome["deadlines"].as_array_mut().unwrap();
    let before = deadlines.len();
    deadlines.retain(|d| !SUD_STANDARDS.contains(&d["standard"].as_str().unwrap()));
    seen.deadlines += (before - deadlines.len()) as u64;
    if let Some(p) = outcome.get_mut("programs").and_then(Value::as_array_mut) {
        let before = p.len();
        p.retain(|p| !services.contains(p["service_id"].as_str().unwrap()));
        seen.programs += (before - p.len()) as u64;
    }
    let referrals = o["referrals"].as_array_mut().unwrap();
    let before = referrals.len();
    referrals.retain(|r| !services.contains(r["service_id"].as_str().unwrap()));
    seen.referrals += (before - referrals.len()) as u64;
    o.insert("sud_withheld".into(), json!("accessline.sud-withheld/1"));
    v
}

#[derive(Default, Debug)]
struct Seen {
    answers: u64,
    items: u64,
    results: u64,
    flags: u64,
    triage_reasons: u64,
    deadlines: u64,
    programs: u64,
    referrals: u64,
}

fn lines(files: &[PathBuf]) -> Vec<Value> {
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

const N: u64 = 60;

#[test]
fn ndjson_withholds_every_substance_use_field_without_consent_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    let ids = device(&dev, N);
    let report = export(&dev, &plaintext(&dir.path().join("out"), 25));
    let files: Vec<PathBuf> = report.batches.iter().map(|b| b.data_path.clone()).collect();
    let store = keys::open_db(&dev).unwrap();
    let services = sud_services();
    let mut seen = Seen::default();
    let (mut full, mut withheld) = (0u64, 0u64);
    let mut sent_sha = std::collections::HashMap::new();
    for line in lines(&files) {
        if line["kind"] != "encounter" {
            continue;
        }
        let id = line["encounter_id"].as_str().unwrap().parse().unwrap();
        let rev = line["revision"].as_u64().unwrap() as u32;
        let row = store.encounter(id, Some(rev)).unwrap();
        let stored_text = row.payload.as_ref().unwrap();
        let stored: Value = serde_json::from_str(stored_text).unwrap();
        let sent = &line["payload"];
        if stored["sud_consent"] == "given" {
            full += 1;
            assert!(line.get("view").is_none());
            assert_eq!(sent, &stored, "with consent everything is there");
            assert_eq!(
                line["payload_sha256"],
                *row.payload_sha256.as_ref().unwrap()
            );
            assert_eq!(
                line["cell_chosen"],
                json!(row.summary.cell_chosen.map(|c| c.id()))
            );
        } else {
            withheld += 1;
            assert_eq!(line["view"], "sud_withheld");
            assert_eq!(sent, &expected_view(&stored, &services, &mut seen));
            assert_ne!(
                line["payload_sha256"],
                *row.payload_sha256.as_ref().unwrap()
            );
            assert!(line["cell_chosen"].is_null() && line["cell_computed"].is_null());
            // The deadline column is the earliest deadline the view keeps.
            let earliest = sent["outcome"]["deadlines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    chrono::DateTime::parse_from_rfc3339(d["due_at"].as_str().unwrap())
                        .unwrap()
                        .with_timezone(&chrono::Utc)
                })
                .min()
                .map(accessline::store::ts);
            if earliest.is_some() || row.summary.deadline_at.is_none() {
                assert_eq!(line["deadline_at"], json!(earliest));
            }
        }
        sent_sha.insert((id, rev), line["payload_sha256"].clone());
        // Every other column is the stored one.
        assert_eq!(line["caller_display"], row.summary.caller_display);
        assert_eq!(
            line["triage"],
            json!(row.summary.triage.map(|t| t.as_str()))
        );
        assert_eq!(line["reason"], json!(row.summary.reason));
    }
    // Addenda and reviews name what the hub holds of the revision they build on.
    for line in lines(&files) {
        let id = line["encounter_id"].as_str().unwrap().parse().unwrap();
        let rev = line["revision"].as_u64().unwrap() as u32;
        if line["kind"] == "review" {
            assert_eq!(line["encounter_sha256"], sent_sha[&(id, rev)]);
        } else if rev > 1 {
            assert_eq!(line["supersedes_sha256"], sent_sha[&(id, rev - 1)]);
        }
    }
    assert!(full > 0 && withheld > 0);
    assert_eq!(report.sud_withheld, withheld, "the export says how many");
    let in_manifests: u64 = report.batches.iter().map(|b| b.manifest.sud_withheld).sum();
    assert_eq!(in_manifests, withheld);
    for b in &report.batches {
        let on_disk = sync::manifest::Manifest::read(&b.manifest_path).unwrap();
        assert_eq!(on_disk.sud_withheld, b.manifest.sud_withheld);
    }
    // Not vacuous: each kind of detail was there to withhold.
    assert!(
        seen.answers > 0
            && seen.items > 0
            && seen.results > 0
            && seen.flags > 0
            && seen.deadlines > 0
            && seen.programs + seen.referrals > 0,
        "{seen:?}"
    );

    // The hub takes the views as they are: hashes verify, no conflict (addenda and reviews
    // build on the views), and a re-export of everything is a no-op.
    let imported = import_all(&hub, &manifests(&report));
    assert!(imported.iter().all(|f| f.summary.conflicts.is_empty()));
    let h = keys::open_db(&hub).unwrap();
    assert!(h.verify().unwrap().is_ok());
    for id in &ids {
        for r in h.revisions(*id).unwrap() {
            let p: Value = serde_json::from_str(r.payload.as_ref().unwrap()).unwrap();
            let view = p.get("sud_withheld").is_some();
            assert_eq!(view, p["sud_consent"] != "given");
            assert_eq!(view, r.summary.cell_chosen.is_none());
        }
    }
    let before = dump(&hub);
    let again = export(&dev, &plaintext(&dir.path().join("again"), 1000));
    let second = import_all(&hub, &manifests(&again));
    assert_eq!(second[0].summary.new, 0);
    assert!(second[0].summary.conflicts.is_empty());
    assert_eq!(dump(&hub), before);

    // The hub's receipts acknowledge views on the device (it checks the view's hash).
    drop(store);
    let mut d = keys::open_db(&dev).unwrap();
    let rdir = dir.path().join("receipts");
    for f in &second {
        let receipt = sync::receipt::write(&h, f, "county-hub", &rdir).unwrap();
        let s = sync::receipt::apply(&mut d, &receipt).unwrap();
        assert!(s.mismatched.is_empty(), "{:?}", s.mismatched);
    }
    let c = d.sync_counts().unwrap();
    assert_eq!((c.pending, c.exported, c.conflict), (0, 0, 0));
    assert!(c.acknowledged > 0);
    let _ = SyncState::Acknowledged;
}

#[test]
fn a_view_is_never_taken_for_the_full_record_nor_the_reverse() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev.db");
    device(&dev, 6);
    let report = export(&dev, &plaintext(&dir.path().join("out"), 1000));
    let b = &report.batches[0];
    let text = std::fs::read_to_string(&b.data_path).unwrap();
    let view_line = text
        .lines()
        .find(|l| l.contains("\"view\":\"sud_withheld\""))
        .unwrap();
    // Drop the line's `view` member: the checksum covers it.
    let unlabelled = view_line.replace(",\"view\":\"sud_withheld\"", "");
    let e = sync::ndjson::parse(unlabelled.as_bytes()).unwrap_err();
    assert!(e.contains("checksum"), "{e}");
    // The manifest's count is checked too.
    let hub = dir.path().join("hub.db");
    let mut m: Value =
        serde_json::from_str(&std::fs::read_to_string(&b.manifest_path).unwrap()).unwrap();
    m["sud_withheld"] = json!(m["sud_withheld"].as_u64().unwrap() + 1);
    std::fs::write(&b.manifest_path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    let mut h = keys::open_db(&hub).unwrap();
    let err = sync::import_file(&mut h, &hub_actor(), &b.manifest_path, None).unwrap_err();
    assert!(
        err.to_string().contains("substance-use details withheld"),
        "{err}"
    );
}

#[test]
fn fhir_withholds_the_same_and_keeps_the_rest_identical() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev.db");
    device(&dev, N);
    let report = export(
        &dev,
        &ExportOptions {
            format: Format::Fhir,
            ..plaintext(&dir.path().join("fhir"), 1000)
        },
    );
    let defs = defs();
    let policy = SudPolicy::new(&defs);
    let mapper = Mapper::new(&defs, &policy);
    let store = keys::open_db(&dev).unwrap();
    let services = sud_services();
    let mut withheld = 0;
    let mut compared = 0;
    let mut seen_sud_entry = false;
    let mut dev_ids = Vec::new();
    store
        .for_each_finalized(Selection::All, None, |_, _, row| {
            dev_ids.push(row);
            Ok::<(), accessline::store::StoreError>(())
        })
        .unwrap();
    for row in dev_ids {
        let payload: Value = serde_json::from_str(&row.payload).unwrap();
        if payload["sud_consent"] == "given" {
            continue;
        }
        withheld += 1;
        let (bundle, _) = mapper.bundle(&row).unwrap();
        // The same revision had the caller consented.
        let mut consented = row.clone();
        let mut p = payload.clone();
        p["sud_consent"] = json!("given");
        consented.payload = serde_json::to_string(&p).unwrap();
        let (full, _) = mapper.bundle(&consented).unwrap();
        let key = |e: &Value| e["fullUrl"].as_str().unwrap().to_owned();
        let entries = |b: &Value| b["entry"].as_array().unwrap().clone();
        let kept: std::collections::BTreeMap<String, Value> =
            entries(&bundle).into_iter().map(|e| (key(&e), e)).collect();
        for e in entries(&full) {
            let r = &e["resource"];
            let ident = r["identifier"]
                .as_array()
                .map_or(&r["identifier"], |a| &a[0])["value"]
                .as_str()
                .unwrap()
                .to_owned();
            let kind = r["resourceType"].as_str().unwrap();
            let sud_instrument = SUD_INSTRUMENTS
                .iter()
                .any(|i| ident.ends_with(&format!("-{i}")));
            let sud_referral = kind == "ServiceRequest"
                && services.contains(r["code"]["coding"][0]["code"].as_str().unwrap());
            if sud_instrument || sud_referral {
                seen_sud_entry = true;
                assert!(!kept.contains_key(&key(&e)), "{kind} {ident} withheld");
                continue;
            }
            let k = kept.get(&key(&e)).unwrap_or_else(|| panic!("{ident} kept"));
            let mixed = SUD_ITEMS
                .iter()
                .any(|(i, _)| ident.ends_with(&format!("-{i}")));
            if ident.ends_with("-placement") {
                assert!(k["resource"].get("dataAbsentReason").is_some());
                assert!(k["resource"].get("valueCodeableConcept").is_none());
                assert_eq!(k["resource"]["component"].as_array().unwrap().len(), 1);
            } else if mixed && kind == "QuestionnaireResponse" {
                let items: Vec<&str> = k["resource"]["item"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["linkId"].as_str().unwrap())
                    .collect();
                assert!(!items.contains(&"substance"));
            } else if mixed && kind == "Observation" {
                assert!(
                    k["resource"].get("valueInteger").is_none(),
                    "total withheld"
                );
                assert!(k["resource"].get("meta").is_none());
            } else {
                assert_eq!(k, &e, "{kind} {ident} identical");
                compared += 1;
            }
        }
        for (url, e) in &kept {
            assert!(
                e["resource"].get("meta").is_none() || e["resource"]["resourceType"] == "Patient",
                "no 42CFRPart2 label without consent: {url}"
            );
        }
    }
    assert!(withheld > 0 && compared > 0 && seen_sud_entry);
    assert_eq!(report.sud_withheld, withheld);
    let m: u64 = report.batches.iter().map(|b| b.manifest.sud_withheld).sum();
    assert_eq!(m, withheld);
    let _ = defs.instrument("auditc").unwrap();
}
