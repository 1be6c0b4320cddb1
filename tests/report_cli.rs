//! `accessline report` as a process: the initial-requests log and the timeliness report over a
//! database built here with known calls (checked cell by cell, read back with an independent
//! CSV reader), over a demo database (row count, every row parses), and bad arguments.

#[path = "common/keys.rs"]
mod keys;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use accessline::domain::outcome::Intake;
use accessline::domain::placement::Triage;
use accessline::domain::quadrant::CellId;
use accessline::store::{Actor, Risk, Store, Summary, caller_display};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn accessline(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accessline"))
        .env("ACCESSLINE_DB_KEY", keys::test_key())
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run a report that must succeed; its CSV as records (header first).
fn report(db: &Path, args: &[&str]) -> Vec<Vec<String>> {
    let out = accessline(db, args);
    assert!(
        out.status.success(),
        "{args:?}: exit {:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
    parse(&out.stdout)
}

fn parse(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.is_empty() || text.ends_with("\r\n"), "CRLF line ends");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| {
            r.expect("a valid CSV record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// One call as the screener UI stores it (or, with `demo_shape`, as the demo generator does).
struct Call {
    received: &'static str,
    intake: Value,
    triage: Option<Triage>,
    computed: &'static str,
    chosen: &'static str,
    override_reason: Option<&'static str>,
    crisis_actions: &'static [&'static str],
    crisis: bool,
    /// `(label, due_at)` of each deadline.
    deadlines: Vec<(&'static str, &'static str)>,
    /// `(service_id, warm hand-off)`.
    referrals: Vec<(&'static str, bool)>,
    /// `(service_id, name)` of the outcome's matching programs.
    programs: Vec<(&'static str, &'static str)>,
    notices: &'static [&'static str],
    demo_shape: bool,
}

impl Call {
    fn new(received: &'static str, intake: Value) -> Call {
        Call {
            received,
            intake,
            triage: Some(Triage::Routine),
            computed: "low_low",
            chosen: "low_low",
            override_reason: None,
            crisis_actions: &[],
            crisis: false,
            deadlines: Vec::new(),
            referrals: Vec::new(),
            programs: Vec::new(),
            notices: &[],
            demo_shape: false,
        }
    }

    fn intake(&self) -> Intake {
        serde_json::from_value(self.intake.clone()).unwrap()
    }

    fn summary(&self) -> Summary {
        let intake = self.intake();
        Summary {
            received_at: utc(self.received),
            caller_display: caller_display(&intake),
            language: intake.language.clone(),
            age: intake.age,
            cell_computed: CellId::parse(self.computed),
            cell_chosen: CellId::parse(self.chosen),
            risk: if self.crisis {
                Risk::Imminent
            } else {
                Risk::Low
            },
            triage: self.triage,
            crisis: self.crisis,
            deadline_at: self.deadlines.iter().map(|(_, at)| utc(at)).min(),
            reason: intake.reason.clone(),
        }
    }

    fn payload(&self) -> Value {
        let deadlines: Vec<Value> = self
            .deadlines
            .iter()
            .map(|(label, at)| json!({"standard": "s", "label": label, "kind": "hours", "due_at": at}))
            .collect();
        let outcome = json!({
            "placement": {"cell": self.computed},
            "chosen_cell": self.chosen,
            "triage": {"level": self.triage, "reasons": []},
            "deadlines": deadlines,
            "programs": self.programs.iter()
                .map(|(id, name)| json!({"service_id": id, "name": name}))
                .collect::<Vec<_>>(),
        });
        let override_cell = self.override_reason.map(|_| self.chosen);
        if self.demo_shape {
            let (id, warm) = self.referrals[0];
            return json!({
                "schema": "accessline.encounter/1",
                "received_at": self.received,
                "intake": self.intake,
                "crisis_opened": self.crisis,
                "override_cell": override_cell,
                "override_reason": self.override_reason,
                "answers": {},
                "outcome": outcome,
                "referral": {"service_id": id, "name": "Program Named In The Payload",
                             "organization": "Org", "phone": "555", "due": null,
                             "warm_handoff": warm},
                "sud_consent": true,
                "correction": null,
            });
        }
        let actions: serde_json::Map<String, Value> = self
            .crisis_actions
            .iter()
            .map(|a| ((*a).to_owned(), json!(self.received)))
            .collect();
        json!({
            "schema": "accessline.encounter/1",
            "received_at": self.received,
            "intake": self.intake,
            "crisis": {"opened": self.crisis, "opened_at": self.crisis.then_some(self.received), "actions": actions},
            "crisis_opened": self.crisis,
            "override_cell": override_cell,
            "override_reason": self.override_reason,
            "answers": {},
            "outcome": outcome,
            "referrals": self.referrals.iter()
                .map(|(id, warm)| json!({"service_id": id, "warm_handoff": warm}))
                .collect::<Vec<_>>(),
            "notices": self.notices,
            "sud_consent": "given",
        })
    }
}

fn intake(
    name: Option<&str>,
    caller_type: &str,
    language: &str,
    interpreter: bool,
    reason: &str,
) -> Value {
    json!({
        "caller_type": caller_type,
        "anonymous": name.is_none(),
        "caller_name": name,
        "language": language,
        "interpreter": interpreter,
        "age": 30,
        "reason": reason,
    })
}

const REASON_D: &str =
    "=HYPERLINK(\"http://example.invalid\",\"open\")\nsecond line, with \"quotes\", and commas";
const ROUTINE_MH: &str = "Routine mental health — within 10 business days";

/// Encounter ids of the known database, by the letter used below.
struct Known {
    ids: BTreeMap<char, String>,
}

/// Calls from 28 February to 11 March 2026 (daylight time starts 8 March), a draft, and one
/// encounter corrected by an addendum.
fn known_db(path: &Path) -> Known {
    let mut store = keys::open_db(path).unwrap();
    let actor = Actor::new("screener.test", "test-device");
    let versions = BTreeMap::new();
    let mut ids = BTreeMap::new();
    let mut add = |store: &mut Store, key: char, call: &Call| {
        let id = store.start_draft(&actor, utc(call.received)).unwrap();
        store
            .finalize(&actor, id, &call.payload(), &call.summary(), &versions)
            .unwrap();
        ids.insert(key, id.to_string());
        id
    };

    // Just before the period (county time), and just after it.
    let g = Call::new(
        "2026-02-28T23:55:00-08:00",
        intake(Some("Before Period"), "self", "en", false, "too early"),
    );
    add(&mut store, 'G', &g);
    let h = Call::new(
        "2026-03-11T00:10:00-07:00",
        intake(Some("After Period"), "self", "en", false, "too late"),
    );
    add(&mut store, 'H', &h);

    // J: the first minutes of the period; appointment, deadline in 10 business days.
    let mut j = Call::new(
        "2026-03-01T00:05:00-08:00",
        intake(Some("First Caller"), "self", "en", false, "Cannot sleep"),
    );
    j.deadlines = vec![(ROUTINE_MH, "2026-03-13T23:59:59-07:00")];
    j.referrals = vec![("svc-lacare-bh", false)];
    j.programs = vec![("svc-lacare-bh", "L.A. Care (name as recorded)")];
    add(&mut store, 'J', &j);

    // A: anonymous family member.
    let mut a = Call::new(
        "2026-03-02T09:15:00-08:00",
        intake(None, "family", "en", false, "Worried about my son"),
    );
    a.deadlines = vec![(ROUTINE_MH, "2026-03-16T23:59:59-07:00")];
    a.referrals = vec![("svc-healthnet-bh", false)];
    add(&mut store, 'A', &a);

    // B: a crisis call through an interpreter.
    let mut b = Call::new(
        "2026-03-03T22:40:00-08:00",
        intake(
            Some("José Núñez"),
            "self",
            "es",
            true,
            "Says he has a gun and wants to die",
        ),
    );
    b.triage = Some(Triage::Emergent);
    b.crisis = true;
    b.computed = "high_low";
    b.chosen = "high_low";
    b.crisis_actions = &["safety_plan", "mobile_response", "called_911"];
    b.deadlines = vec![("Emergent — immediate response", "2026-03-03T22:40:00-08:00")];
    add(&mut store, 'B', &b);

    // C: the screener overrode the placement; warm hand-off to a directory program whose
    // name the payload does not carry.
    let mut c = Call::new(
        "2026-03-05T14:00:00-08:00",
        intake(
            Some("王小明"),
            "provider",
            "cmn",
            true,
            "Hearing voices, not eating",
        ),
    );
    c.triage = Some(Triage::Urgent);
    c.computed = "low_moderate";
    c.chosen = "moderate_moderate";
    c.override_reason = Some("  Family report is more concerning  ");
    c.deadlines = vec![
        ("Urgent — within 48 hours", "2026-03-07T14:00:00-08:00"),
        (ROUTINE_MH, "2026-03-19T23:59:59-07:00"),
    ];
    c.referrals = vec![("svc-ttc-op", true), ("svc-healthnet-psych", false)];
    add(&mut store, 'C', &c);

    // E: corrected by an addendum that records a warm hand-off.
    let mut e = Call::new(
        "2026-03-06T10:00:00-08:00",
        intake(Some("Maria Lopez"), "self", "en", false, "Panic attacks"),
    );
    e.deadlines = vec![(ROUTINE_MH, "2026-03-20T23:59:59-07:00")];
    e.referrals = vec![("svc-bhs-iop", false)];
    let id = add(&mut store, 'E', &e);
    e.referrals = vec![("svc-bhs-iop", true)];
    store
        .add_addendum(
            &actor,
            id,
            &e.payload(),
            &e.summary(),
            &versions,
            "hand-off was warm",
        )
        .unwrap();

    // F: the demo generator's payload shape: a crisis without recorded actions.
    let mut f = Call::new(
        "2026-03-09T08:00:00-07:00",
        intake(Some("Demo Shaped"), "other", "en", false, "Overdose risk"),
    );
    f.demo_shape = true;
    f.triage = Some(Triage::Emergent);
    f.crisis = true;
    f.deadlines = vec![("Emergent — immediate response", "2026-03-09T08:00:00-07:00")];
    f.referrals = vec![("svc-lacare-bh", false)];
    add(&mut store, 'F', &f);

    // D: the last half hour of the period (already 11 March in UTC), an Armenian name, a
    // reason that tries formula injection, no referral and no deadline, a denial notice.
    let mut d = Call::new(
        "2026-03-10T23:30:00-07:00",
        intake(Some("Անի Պետրոսյան"), "self", "hy", false, REASON_D),
    );
    d.notices = &["handbook", "noabd"];
    add(&mut store, 'D', &d);

    // A call still in progress is not a request in the log yet.
    let draft = store
        .start_draft(&actor, utc("2026-03-04T12:00:00-08:00"))
        .unwrap();
    store
        .save_field(&actor, draft, "intake.caller_name", &json!("Draft Caller"))
        .unwrap();
    Known { ids }
}

const HEADER: &[&str] = &[
    "received_at",
    "request_date",
    "encounter_id",
    "revision",
    "addenda",
    "caller",
    "caller_type",
    "language",
    "interpreter",
    "nature_of_request",
    "triage",
    "placement_cell",
    "computed_cell",
    "override_reason",
    "initial_disposition",
    "deadline",
    "deadline_standard",
    "screener",
];

#[test]
fn initial_requests_log_lists_each_call_once_with_its_disposition() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("known.db");
    let k = known_db(&db);
    let rows = report(
        &db,
        &[
            "report",
            "initial-requests",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-10",
        ],
    );
    let id = |c: char| k.ids[&c].as_str();
    let expected: Vec<Vec<&str>> = vec![
        HEADER.to_vec(),
        vec![
            "2026-03-01T00:05:00-08:00",
            "2026-03-01",
            id('J'),
            "1",
            "0",
            "First Caller",
            "self",
            "English",
            "no",
            "Cannot sleep",
            "routine",
            "low_low",
            "",
            "",
            "Referred: L.A. Care (name as recorded) (appointment)",
            "2026-03-13T23:59:59-07:00",
            ROUTINE_MH,
            "screener.test",
        ],
        vec![
            "2026-03-02T09:15:00-08:00",
            "2026-03-02",
            id('A'),
            "1",
            "0",
            "Anonymous",
            "family",
            "English",
            "no",
            "Worried about my son",
            "routine",
            "low_low",
            "",
            "",
            "Referred: Health Net — Medi-Cal non-specialty mental health (appointment)",
            "2026-03-16T23:59:59-07:00",
            ROUTINE_MH,
            "screener.test",
        ],
        vec![
            "2026-03-03T22:40:00-08:00",
            "2026-03-03",
            id('B'),
            "1",
            "0",
            "José Núñez",
            "self",
            "Spanish",
            "yes",
            "Says he has a gun and wants to die",
            "emergent",
            "high_low",
            "",
            "",
            "Crisis protocol: 911, mobile response, safety plan",
            "2026-03-03T22:40:00-08:00",
            "Emergent — immediate response",
            "screener.test",
        ],
        vec![
            "2026-03-05T14:00:00-08:00",
            "2026-03-05",
            id('C'),
            "1",
            "0",
            "王小明",
            "provider",
            "Mandarin",
            "yes",
            "Hearing voices, not eating",
            "urgent",
            "moderate_moderate",
            "low_moderate",
            "Family report is more concerning",
            "Referred: Tarzana Treatment Centers — adult outpatient and intensive outpatient \
             (warm hand-off); Health Net — telepsychiatry (appointment)",
            "2026-03-07T14:00:00-08:00",
            "Urgent — within 48 hours",
            "screener.test",
        ],
        vec![
            "2026-03-06T10:00:00-08:00",
            "2026-03-06",
            id('E'),
            "2",
            "1",
            "Maria Lopez",
            "self",
            "English",
            "no",
            "Panic attacks",
            "routine",
            "low_low",
            "",
            "",
            "Referred: BHS — intensive outpatient (Gardena) (warm hand-off)",
            "2026-03-20T23:59:59-07:00",
            ROUTINE_MH,
            "screener.test",
        ],
        vec![
            "2026-03-09T08:00:00-07:00",
            "2026-03-09",
            id('F'),
            "1",
            "0",
            "Demo Shaped",
            "other",
            "English",
            "no",
            "Overdose risk",
            "emergent",
            "low_low",
            "",
            "",
            "Crisis protocol (no actions recorded). Referred: Program Named In The Payload \
             (appointment)",
            "2026-03-09T08:00:00-07:00",
            "Emergent — immediate response",
            "screener.test",
        ],
        vec![
            "2026-03-10T23:30:00-07:00",
            "2026-03-10",
            id('D'),
            "1",
            "0",
            "Անի Պետրոսյան",
            "self",
            "Armenian",
            "no",
            "'=HYPERLINK(\"http://example.invalid\",\"open\")\nsecond line, with \"quotes\", and commas",
            "routine",
            "low_low",
            "",
            "",
            "No referral. Notice of adverse benefit determination given",
            "",
            "",
            "screener.test",
        ],
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:#?}");
    for (got, want) in rows.iter().zip(&expected) {
        assert_eq!(got, want);
    }

    // The same bytes to a file with --out, and nothing on standard output.
    let file = dir.path().join("log.csv");
    let out = accessline(
        &db,
        &[
            "report",
            "initial-requests",
            "--from",
            "03/01/2026",
            "--to",
            "3/10/2026",
            "--out",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "--out needs a value");
    let out = Command::new(env!("CARGO_BIN_EXE_accessline"))
        .env("ACCESSLINE_DB_KEY", keys::test_key())
        .args([
            "report",
            "initial-requests",
            "--from",
            "03/01/2026",
            "--to",
            "3/10/2026",
        ])
        .arg("--out")
        .arg(&file)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("wrote 7 encounters"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(parse(&std::fs::read(&file).unwrap()), rows);
    assert!(!dir.path().join("log.csv.partial").exists());

    // One day: only that day's calls, county time (D is 11 March in UTC).
    let day = report(
        &db,
        &[
            "report",
            "initial-requests",
            "--from",
            "2026-03-10",
            "--to",
            "2026-03-10",
        ],
    );
    assert_eq!(day.len(), 2);
    assert_eq!(day[1][2], id('D'));
    // An empty period is a header alone.
    let none = report(
        &db,
        &[
            "report",
            "initial-requests",
            "--from",
            "2026-04-01",
            "--to",
            "2026-04-30",
        ],
    );
    assert_eq!(
        none,
        vec![HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>()]
    );
}

const TIMELINESS: &[&str] = &[
    "triage",
    "total",
    "met",
    "missed",
    "pending",
    "no_deadline",
    "percent_met",
];

#[test]
fn timeliness_counts_met_missed_and_pending_by_triage_level() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("known.db");
    let k = known_db(&db);
    let period = ["--from", "2026-03-01", "--to", "2026-03-10"];
    let run = |extra: &[&str]| {
        let mut args = vec!["report", "timeliness"];
        args.extend(period);
        args.extend(extra);
        report(&db, &args)
    };
    let table = |rows: &[[&str; 7]]| -> Vec<Vec<String>> {
        std::iter::once(TIMELINESS.iter().map(|s| s.to_string()).collect())
            .chain(
                rows.iter()
                    .map(|r| r.iter().map(|s| s.to_string()).collect()),
            )
            .collect()
    };
    // As of the end of 10 March: J and A are still within their deadlines.
    assert_eq!(
        run(&["--as-of", "2026-03-10"]),
        table(&[
            ["emergent", "2", "1", "1", "0", "0", "50.0"],
            ["urgent", "1", "1", "0", "0", "0", "100.0"],
            ["routine", "4", "1", "0", "2", "1", "100.0"],
            ["all", "7", "3", "1", "2", "1", "75.0"],
        ])
    );
    // As of 20 March both have passed with only an appointment recorded.
    assert_eq!(
        run(&["--as-of", "2026-03-20"]),
        table(&[
            ["emergent", "2", "1", "1", "0", "0", "50.0"],
            ["urgent", "1", "1", "0", "0", "0", "100.0"],
            ["routine", "4", "1", "2", "0", "1", "33.3"],
            ["all", "7", "3", "3", "0", "1", "50.0"],
        ])
    );
    // Before any deadline has come there is no percentage.
    let early = report(
        &db,
        &[
            "report",
            "timeliness",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-02",
            "--as-of",
            "2026-03-02",
        ],
    );
    assert_eq!(
        early,
        table(&[
            ["emergent", "0", "0", "0", "0", "0", ""],
            ["urgent", "0", "0", "0", "0", "0", ""],
            ["routine", "2", "0", "0", "2", "0", ""],
            ["all", "2", "0", "0", "2", "0", ""],
        ])
    );

    let detail = run(&["--as-of", "2026-03-10", "--detail"]);
    let id = |c: char| k.ids[&c].as_str();
    let expected: Vec<Vec<&str>> = vec![
        vec![
            "received_at",
            "encounter_id",
            "revision",
            "triage",
            "deadline",
            "deadline_standard",
            "status",
            "basis",
            "screener",
        ],
        vec![
            "2026-03-01T00:05:00-08:00",
            id('J'),
            "1",
            "routine",
            "2026-03-13T23:59:59-07:00",
            ROUTINE_MH,
            "pending",
            "deadline not yet reached",
            "screener.test",
        ],
        vec![
            "2026-03-02T09:15:00-08:00",
            id('A'),
            "1",
            "routine",
            "2026-03-16T23:59:59-07:00",
            ROUTINE_MH,
            "pending",
            "deadline not yet reached",
            "screener.test",
        ],
        vec![
            "2026-03-03T22:40:00-08:00",
            id('B'),
            "1",
            "emergent",
            "2026-03-03T22:40:00-08:00",
            "Emergent — immediate response",
            "met",
            "crisis actions recorded",
            "screener.test",
        ],
        vec![
            "2026-03-05T14:00:00-08:00",
            id('C'),
            "1",
            "urgent",
            "2026-03-07T14:00:00-08:00",
            "Urgent — within 48 hours",
            "met",
            "warm hand-off during the call",
            "screener.test",
        ],
        vec![
            "2026-03-06T10:00:00-08:00",
            id('E'),
            "2",
            "routine",
            "2026-03-20T23:59:59-07:00",
            ROUTINE_MH,
            "met",
            "warm hand-off during the call",
            "screener.test",
        ],
        vec![
            "2026-03-09T08:00:00-07:00",
            id('F'),
            "1",
            "emergent",
            "2026-03-09T08:00:00-07:00",
            "Emergent — immediate response",
            "missed",
            "deadline passed with no warm hand-off or crisis action recorded",
            "screener.test",
        ],
        vec![
            "2026-03-10T23:30:00-07:00",
            id('D'),
            "1",
            "routine",
            "",
            "",
            "no_deadline",
            "no deadline recorded",
            "screener.test",
        ],
    ];
    assert_eq!(detail, expected);
}

#[test]
fn reports_over_a_demo_database_cover_every_finalized_call_in_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = accessline(&db, &["demo", "--encounters", "300", "--seed", "7"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The demo's calls are one a minute from 8 a.m. on 6 January 2025 (county time).
    let store = keys::open_db_ro(&db).unwrap();
    let finalized: i64 = store
        .connection()
        .query_row(
            "SELECT count(DISTINCT encounter_id) FROM encounter WHERE status = 'finalized'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(finalized > 250, "{finalized}");
    let rows = report(
        &db,
        &[
            "report",
            "initial-requests",
            "--from",
            "2025-01-06",
            "--to",
            "2025-01-06",
        ],
    );
    assert_eq!(rows[0], HEADER);
    assert_eq!(rows.len() as i64 - 1, finalized);
    let mut ids = std::collections::BTreeSet::new();
    let mut last = String::new();
    for r in &rows[1..] {
        assert_eq!(r.len(), HEADER.len());
        assert!(ids.insert(r[2].clone()), "each encounter once");
        assert!(r[0] >= last, "in call order");
        last = r[0].clone();
        assert!(
            r[0].starts_with("2025-01-06T") && r[0].ends_with("-08:00"),
            "{}",
            r[0]
        );
        assert!(!r[5].is_empty() && !r[14].is_empty(), "{r:?}");
        assert!(
            ["emergent", "urgent", "routine"].contains(&r[10].as_str()),
            "{r:?}"
        );
        let revision: u32 = r[3].parse().unwrap();
        let addenda: u32 = r[4].parse().unwrap();
        assert_eq!(revision, addenda + 1);
    }
    // Calls with an interpreter or in another language are listed as such.
    assert!(
        rows[1..]
            .iter()
            .any(|r| r[14].starts_with("Crisis protocol"))
    );
    assert!(rows[1..].iter().any(|r| r[14].starts_with("Referred: ")));

    // The timeliness totals add up to the same calls.
    let t = report(
        &db,
        &[
            "report",
            "timeliness",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-31",
        ],
    );
    let all = t.last().unwrap();
    assert_eq!(all[0], "all");
    let n = |s: &str| s.parse::<i64>().unwrap();
    assert_eq!(n(&all[1]), finalized);
    assert_eq!(n(&all[2]) + n(&all[3]) + n(&all[4]) + n(&all[5]), finalized);
    let detail = report(
        &db,
        &[
            "report",
            "timeliness",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-31",
            "--detail",
        ],
    );
    assert_eq!(detail.len() as i64 - 1, finalized);

    // The day before has nothing.
    let before = report(
        &db,
        &[
            "report",
            "initial-requests",
            "--from",
            "2025-01-05",
            "--to",
            "2025-01-05",
        ],
    );
    assert_eq!(before.len(), 1);
}

#[test]
fn bad_arguments_exit_2_with_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("known.db");
    known_db(&db);
    let out_file = dir.path().join("out.csv");
    let out = out_file.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "initial-requests",
                "--from",
                "2026-13-01",
                "--to",
                "2026-12-31",
            ],
            "--from",
        ),
        (
            &[
                "initial-requests",
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-30",
            ],
            "--to",
        ),
        (
            &[
                "initial-requests",
                "--from",
                "13/23/2026",
                "--to",
                "2026-12-31",
            ],
            "--from",
        ),
        (
            &[
                "initial-requests",
                "--from",
                "2026-1-5",
                "--to",
                "2026-12-31",
            ],
            "--from",
        ),
        (
            &[
                "initial-requests",
                "--from",
                "yesterday",
                "--to",
                "2026-12-31",
            ],
            "--from",
        ),
        (
            &["initial-requests", "--from", "", "--to", "2026-12-31"],
            "--from",
        ),
        (
            &[
                "initial-requests",
                "--from",
                "2026-12-01",
                "--to",
                "2026-11-01",
            ],
            "after",
        ),
        (
            &["timeliness", "--from", "2026-12-01", "--to", "11/01/2026"],
            "after",
        ),
        (
            &[
                "timeliness",
                "--from",
                "2026-01-01",
                "--to",
                "2026-01-31",
                "--as-of",
                "soon",
            ],
            "--as-of",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["report"];
        all.extend(*args);
        all.extend(["--out", out]);
        let o = accessline(&db, &all);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {err}");
        assert!(o.stdout.is_empty(), "{all:?}");
        assert_eq!(err.lines().count(), 1, "{all:?}: {err}");
        assert!(
            err.starts_with("accessline report: ") && err.contains(needle),
            "{all:?}: {err}"
        );
        assert!(!out_file.exists(), "{all:?} wrote a file");
    }

    // A database that does not exist is not created.
    let missing = dir.path().join("nowhere.db");
    let o = accessline(
        &missing,
        &[
            "report",
            "initial-requests",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
        ],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no such database file"), "{err}");
    assert!(!missing.exists());

    // An output file in a folder that does not exist.
    let o = accessline(
        &db,
        &[
            "report",
            "timeliness",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--out",
            "/nonexistent/dir/t.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    assert_eq!(text(&o.stderr).lines().count(), 1);

    // A missing --to is clap's usage error, also exit 2.
    let o = accessline(&db, &["report", "initial-requests", "--from", "2026-01-01"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}
