//! Supervisor review: queue filters and paging, the record, decisions, and the
//! returned-then-amended round trip through the store.

#[path = "common/tui.rs"]
mod tui;

use accessline::security::Role;
use accessline::store::{Decision, ReviewState, Risk, Status, Store};
use accessline::tui::app::{Effect, Overlay, Screen};
use tui::{Harness, Live, answer_step, screen};

/// A screener takes and finalizes a routine call.
fn finalized_call(l: &mut Live, name: &str, reason: &str) {
    l.press(&["n", "tab", "tab"]);
    l.type_text(name);
    l.press(&["tab", "tab"]);
    l.type_text("45");
    for _ in 0..7 {
        l.press(&["tab"]);
    }
    l.type_text(reason);
    for _ in 0..3 {
        l.press(&["pagedown"]);
        answer_step(l, "n", "0");
    }
    l.press(&["pagedown", "enter", "space", "enter", "enter", "f", "y"]);
    assert_eq!(l.app.screen, Screen::Home, "{:?}", l.app.status);
}

#[test]
fn queue_filters_search_sort_and_paging_change_the_query() {
    let mut h = Harness::supervisor();
    h.press(&["v"]);
    assert_eq!(h.app.screen, Screen::Queue);
    let last_query = |h: &Harness| match h.effects.iter().rev().find_map(|e| match e {
        Effect::LoadQueue(q) => Some(q.clone()),
        _ => None,
    }) {
        Some(q) => q,
        None => panic!("no queue load"),
    };
    assert_eq!(
        last_query(&h).filter.review_state,
        Some(ReviewState::Awaiting)
    );
    h.press(&["r", "r", "r"]);
    assert_eq!(last_query(&h).filter.risk, Some(Risk::Moderate));
    h.press(&["t"]);
    assert!(last_query(&h).filter.triage.is_some());
    h.press(&["c", "l", "s", "y", "d", "o"]);
    let q = last_query(&h);
    assert!(q.filter.cell.is_some() && q.filter.language.is_some());
    assert_eq!(q.filter.status, Some(Status::Draft));
    assert!(q.filter.sync_state.is_some() && q.filter.received_from.is_some());
    h.press(&["/"]);
    assert!(h.app.text_focused());
    h.type_text("eviction rent");
    h.press(&["enter"]);
    assert_eq!(last_query(&h).filter.text.as_deref(), Some("eviction rent"));
    h.press(&["u"]);
    h.type_text("screener.kim");
    h.press(&["enter"]);
    assert_eq!(
        last_query(&h).filter.screener.as_deref(),
        Some("screener.kim")
    );
    h.press(&["x"]);
    assert_eq!(last_query(&h).filter, Default::default());
    // Search text with nothing searchable is refused with a message.
    h.press(&["/"]);
    h.type_text("***");
    h.press(&["enter"]);
    assert!(
        h.app
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("Nothing searchable")
    );
    h.press(&["esc", "esc"]);
    assert_eq!(h.app.screen, Screen::Home);
}

#[test]
fn a_returned_call_reaches_the_screener_and_comes_back_as_an_addendum() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let mut screener = Live::as_user(Store::open_unencrypted(&path).unwrap(), "screener.kim");
    finalized_call(
        &mut screener,
        "Lucía Pérez",
        "Anxiety, panic at work, rent overdue",
    );
    finalized_call(&mut screener, "Bob Smith", "Cannot sleep");

    let mut sup = Live::as_role(
        Store::open_unencrypted(&path).unwrap(),
        "supervisor.lee",
        Role::Supervisor,
    );
    sup.press(&["v"]);
    let q = sup.app.queue.as_ref().unwrap();
    assert_eq!(q.rows.len(), 2);
    // Full-text search finds the call by its reason.
    sup.press(&["/"]);
    sup.type_text("panic");
    sup.press(&["enter"]);
    let rows = &sup.app.queue.as_ref().unwrap().rows;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].caller_display, "Lucía Pérez");
    sup.press(&["enter"]);
    assert_eq!(sup.app.screen, Screen::Record);
    let text = screen(&sup.app, 80, 24);
    assert!(
        text.contains("Lucía Pérez") && text.contains("Scores"),
        "{text}"
    );
    // Returning needs a note.
    sup.press(&["r", "enter"]);
    assert!(matches!(sup.app.overlay, Some(Overlay::Decision { .. })));
    assert!(
        sup.app
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("needs a note")
    );
    sup.type_text("Add the callback number");
    sup.press(&["enter"]);
    assert!(sup.app.overlay.is_none());
    let id = sup.app.record.as_ref().unwrap().id;
    let reviews = sup.store().reviews(id).unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].decision, Decision::NeedsChanges);
    assert_eq!(reviews[0].reviewer, "supervisor.lee");

    // The screener sees it with the note, opens it, corrects, adds an addendum.
    screener.press(&["r"]);
    let home = &screener.app.home;
    assert_eq!(home.returned.len(), 1);
    assert_eq!(home.returned[0].note, "Add the callback number");
    assert!(screen(&screener.app, 80, 24).contains("Add the callback number"));
    screener.press(&["enter"]);
    assert_eq!(screener.app.screen, Screen::Call);
    assert!(screener.app.call.as_ref().unwrap().amending.is_some());
    assert_eq!(
        screener.app.call.as_ref().unwrap().call.intake.name.value(),
        "Lucía Pérez"
    );
    screener.press(&["alt-1", "down", "down", "down"]);
    screener.type_text("(213) 555-0199");
    // Each correction is saved as typed: the screener's program stops here (a crash, a power
    // cut) and a new one opens the returned call with the correction in place.
    assert_eq!(
        screener.store().amend_fields(id, 1).unwrap()["intake.callback_number"],
        "(213) 555-0199"
    );
    drop(screener);
    let mut screener = Live::as_user(Store::open_unencrypted(&path).unwrap(), "screener.kim");
    screener.press(&["enter"]);
    assert!(screener.app.call.as_ref().unwrap().amending.is_some());
    assert_eq!(
        screener
            .app
            .call
            .as_ref()
            .unwrap()
            .call
            .intake
            .callback
            .value(),
        "(213) 555-0199"
    );
    screener.press(&["alt-8", "f"]);
    assert!(matches!(
        screener.app.overlay,
        Some(Overlay::AddendumNote(_))
    ));
    screener.press(&["enter"]);
    assert!(
        screener
            .app
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("addendum changes")
    );
    screener.type_text("Callback number added");
    screener.press(&["enter"]);
    assert_eq!(
        screener.app.screen,
        Screen::Home,
        "{:?}",
        screener.app.status
    );
    assert!(screener.app.home.returned.is_empty());
    assert!(
        screener.store().amend_fields(id, 1).unwrap().is_empty(),
        "the autosaved corrections went with the addendum"
    );

    // Revision 2 supersedes 1 and is back in the supervisor's queue.
    let revs = screener.store().revisions(id).unwrap();
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[1].note.as_deref(), Some("Callback number added"));
    let p: serde_json::Value = serde_json::from_str(revs[1].payload.as_ref().unwrap()).unwrap();
    assert_eq!(p["intake"]["callback_number"], "(213) 555-0199");
    let p1: serde_json::Value = serde_json::from_str(revs[0].payload.as_ref().unwrap()).unwrap();
    assert!(
        p1["intake"]["callback_number"].is_null(),
        "revision 1 unchanged"
    );
    sup.press(&["esc", "x"]);
    let rows = &sup.app.queue.as_ref().unwrap().rows;
    let row = rows.iter().find(|r| r.encounter_id == id).unwrap();
    assert_eq!(row.revision, 2);
    assert_eq!(row.review_state, Some(ReviewState::Awaiting));
    // Approve the addendum.
    let at = rows.iter().position(|r| r.encounter_id == id).unwrap();
    for _ in 0..at {
        sup.press(&["down"]);
    }
    sup.press(&["enter", "a", "enter"]);
    let reviews = sup.store().reviews(id).unwrap();
    assert_eq!(reviews.last().unwrap().decision, Decision::Approved);
    assert_eq!(reviews.last().unwrap().revision, 2);
    assert!(sup.store().verify().unwrap().is_ok());
}

#[test]
fn queue_pages_forward_and_back() {
    let mut l = Live::new();
    for i in 0..3 {
        finalized_call(&mut l, &format!("Caller {i}"), "Routine question");
    }
    l.switch_user("supervisor.test", Role::Supervisor);
    l.press(&["v"]);
    l.app.queue.as_mut().unwrap().query.limit = 2;
    l.press(&["ctrl-r"]);
    assert_eq!(l.app.queue.as_ref().unwrap().rows.len(), 2);
    l.press(&["pagedown"]);
    assert_eq!(l.app.queue.as_ref().unwrap().rows.len(), 1);
    l.press(&["pagedown"]);
    assert!(l.app.status.as_ref().unwrap().text.contains("last page"));
    l.press(&["pageup"]);
    assert_eq!(l.app.queue.as_ref().unwrap().rows.len(), 2);
}

#[test]
fn review_screens_snapshots() {
    let mut l = Live::new();
    finalized_call(&mut l, "Ana Torres", "Panic attacks at night");
    l.switch_user("supervisor.test", Role::Supervisor);
    l.press(&["v"]);
    // Times and ids vary with the real clock in a live store: redact them.
    let redact = |s: String| {
        let mut out = regex_lite_replace(&s);
        for day in ["Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun "] {
            out = out.replace(day, "Day ");
        }
        out
    };
    insta::assert_snapshot!("queue", redact(screen(&l.app, 80, 24)));
    l.press(&["enter"]);
    insta::assert_snapshot!("record", redact(screen(&l.app, 80, 24)));
    l.press(&["r"]);
    l.type_text("Please add the callback number");
    insta::assert_snapshot!("decision_dialog", redact(screen(&l.app, 80, 24)));
}

/// Replace digits in dates, times, hashes and ids with `#` so snapshots do not depend on
/// when the test ran.
fn regex_lite_replace(s: &str) -> String {
    s.lines()
        .map(|line| {
            let mut out = String::new();
            let chars: Vec<char> = line.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                let c = chars[i];
                // A run of hex/digit/dash/colon/slash characters containing a digit.
                if c.is_ascii_hexdigit() || c.is_ascii_digit() {
                    let start = i;
                    while i < chars.len()
                        && (chars[i].is_ascii_hexdigit() || "-:/".contains(chars[i]))
                    {
                        i += 1;
                    }
                    let run: String = chars[start..i].iter().collect();
                    if run.chars().filter(|c| c.is_ascii_digit()).count() >= 2 {
                        out.push_str(&"#".repeat(run.chars().count()));
                    } else {
                        out.push_str(&run);
                    }
                    continue;
                }
                out.push(c);
                i += 1;
            }
            out + "\n"
        })
        .collect()
}

#[test]
fn the_dashboard_counts_the_period_and_changes_period_with_one_key() {
    let mut l = Live::new();
    finalized_call(&mut l, "Ana", "Panic attacks");
    finalized_call(&mut l, "Bo", "Sleep");
    l.press(&["f2", "1", "esc", "pagedown"]);
    answer_step(&mut l, "n", "0");
    l.press(&["alt-8", "f", "y"]);
    l.switch_user("supervisor.test", Role::Supervisor);
    l.press(&["v", "b"]);
    assert_eq!(l.app.screen, Screen::Dashboard);
    let d = l.app.dashboard.as_ref().unwrap().data.clone().unwrap();
    assert_eq!(d.total, 3);
    assert_eq!(d.crisis, 1);
    assert_eq!(
        d.cell(accessline::domain::quadrant::CellId::parse("low_low").unwrap()),
        3
    );
    let emergent = d.timeliness[&accessline::domain::placement::Triage::Emergent];
    assert_eq!(
        emergent.met, 1,
        "a crisis handled on the line meets its deadline"
    );
    let routine = d.timeliness[&accessline::domain::placement::Triage::Routine];
    assert_eq!(
        routine.pending, 2,
        "appointments pending until the deadline passes"
    );
    assert_eq!(d.risk.values().sum::<u64>(), 3);
    let text = screen(&l.app, 80, 24);
    assert!(text.contains("3 calls · 1 crisis (33%)"), "{text}");
    insta::assert_snapshot!("dashboard", text);
    l.press(&["d"]);
    assert_eq!(
        l.app.dashboard.as_ref().unwrap().range,
        accessline::tui::review::DateRange::Year
    );
    l.press(&["esc"]);
    assert_eq!(l.app.screen, Screen::Queue);
}

#[test]
fn the_dashboard_writes_the_county_reports_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.db");
    let mut l = Live::with_store(Store::open_unencrypted(&path).unwrap());
    finalized_call(
        &mut l,
        "Zoë Ñandú",
        "Needs a therapist, \"urgent\", = not a formula",
    );
    l.switch_user("supervisor.test", Role::Supervisor);
    l.press(&["v", "b", "e"]);
    let status = &l.app.status.as_ref().unwrap().text;
    assert!(status.starts_with("Written:"), "{status}");
    let reports = dir.path().join("reports");
    let mut names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with("initial-requests_") && names[1].starts_with("timeliness_"));
    let log = std::fs::read_to_string(reports.join(&names[0])).unwrap();
    assert!(log.contains("Zoë Ñandú"), "{log}");
    assert_eq!(log.lines().count(), 2, "header and one call");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(reports.join(&names[0]))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "reports hold PHI: owner only");
    }
    // An in-memory database has no folder to write beside: a clear message, no files.
    let mut m = Live::supervisor();
    m.press(&["v", "b", "e"]);
    assert!(m.app.status.as_ref().unwrap().text.contains("in memory"));
}

#[path = "common/store.rs"]
mod store_common;

#[test]
fn a_record_received_without_consent_says_its_substance_use_details_were_withheld() {
    let mut l = Live::supervisor();
    let when = chrono::Utc::now() - chrono::Duration::hours(1);
    let s = store_common::summary(when, "Caller W", Risk::Low, "sleep");
    let me = store_common::screener();
    let id = l.store().start_draft(&me, when).unwrap();
    let payload = serde_json::json!({
        "intake": { "reason": "sleep" },
        "sud_withheld": "accessline.sud-withheld/1",
    });
    l.store()
        .finalize(&me, id, &payload, &s, &store_common::versions())
        .unwrap();
    l.press(&["v", "enter"]);
    assert_eq!(l.app.screen, Screen::Record);
    let text = screen(&l.app, 100, 30);
    assert!(text.contains("Substance-use details withheld"), "{text}");
}

/// A hub holds a call received without the caller's consent as a withheld view (issue 7): the
/// record shows what the view kept of the outcome — scores, the mental-health severity and
/// triage with their reasons, the referrals kept — and says what was withheld.
#[test]
fn a_withheld_record_shows_the_mental_health_parts_it_kept() {
    use accessline::domain::Definitions;
    use accessline::store::ListQuery;
    use accessline::sync::withhold::SudPolicy;
    let mut l = Live::new();
    finalized_call(&mut l, "Ana Torres", "Panic attacks at night");
    let first = l.store().list(&ListQuery::default()).unwrap().rows[0].encounter_id;
    let record = l.store().encounter(first, None).unwrap();
    let full = record.payload.unwrap();
    let defs = Definitions::builtin().unwrap();
    let view = SudPolicy::new(&defs)
        .view(&full, None)
        .unwrap()
        .expect("no consent was recorded: the export withholds");
    let view: serde_json::Value = serde_json::from_str(&view.payload).unwrap();
    assert!(view["outcome"]["placement"].get("cell").is_none());
    let me = store_common::screener();
    // The hub's copy is the newest call, first in the queue.
    let when = record.summary.received_at + chrono::Duration::minutes(1);
    let id = l.store().start_draft(&me, when).unwrap();
    let s = store_common::summary(when, "Caller W", Risk::Low, "panic");
    l.store()
        .finalize(&me, id, &view, &s, &store_common::versions())
        .unwrap();
    l.switch_user("supervisor.test", Role::Supervisor);
    l.press(&["v", "enter"]);
    assert_eq!(l.app.screen, Screen::Record);
    let text = screen(&l.app, 80, 60);
    assert!(
        text.contains("Caller W"),
        "the view's record is open:\n{text}"
    );
    for part in [
        "Substance-use details withheld",
        " Scores",
        "PHQ-9",
        " Placement",
        "cell withheld",
        "MH severity low:",
        "addiction acuity: withheld",
        "triage routine:",
        " Referrals",
    ] {
        assert!(text.contains(part), "{part:?} in:\n{text}");
    }
    assert!(!text.contains("computed"), "no cell is shown:\n{text}");
    insta::assert_snapshot!("record_withheld", regex_lite_replace(&text));
}
