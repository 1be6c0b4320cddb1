//! A whole call through the real effects: key events → app → in-memory store → a finalized
//! encounter with the expected placement, referral and deadline; then the draft round trip.

#[path = "common/tui.rs"]
mod tui;

use accessline::domain::placement::Triage;
use accessline::store::{Status, Store};
use accessline::tui::app::Screen;
use accessline::tui::call::Step;
use tui::{Live, answer_step};

#[test]
fn a_routine_call_from_new_call_to_a_finalized_record() {
    let mut l = Live::new();
    l.press(&["n", "right", "tab", "tab"]);
    l.type_text("Nguyễn Thị Lan");
    l.press(&["tab", "tab"]);
    l.type_text("42");
    l.press(&["tab", "right", "tab"]);
    l.press(&["left", "left", "left"]); // language: from the end of the list (vi is 3rd last)
    l.press(&["tab", "space", "tab", "right", "tab"]);
    l.type_text("90012");
    l.press(&["tab"]);
    l.type_text("Trouble sleeping, worried about rent");
    l.press(&["pagedown"]);
    answer_step(&mut l, "n", "0");
    l.press(&["pagedown"]);
    answer_step(&mut l, "n", "0");
    l.press(&["pagedown"]);
    answer_step(&mut l, "n", "1"); // PHQ-9 9, GAD-7 7: mild
    let id = l.app.call.as_ref().unwrap().call.id.expect("draft exists");
    // Every answer is already in the store before finalizing.
    let draft = l.store().load_draft(id).unwrap();
    assert_eq!(draft.fields["intake.caller_name"], "Nguyễn Thị Lan");
    assert_eq!(draft.fields["answers.phq9.q9"], 1);
    assert_eq!(draft.cursor.as_ref().unwrap().step, "assessment");
    l.press(&["pagedown"]);
    assert_eq!(l.app.call.as_ref().unwrap().step, Step::Placement);
    l.press(&["enter"]); // placement accepted → referral
    l.press(&["space", "w", "enter"]); // pick the top program, warm hand-off → notices
    l.press(&[
        "space", "down", "down", "down", "down", "down", "y", "enter",
    ]);
    assert_eq!(l.app.call.as_ref().unwrap().step, Step::Summary);
    l.press(&["f", "y"]);
    assert_eq!(l.app.screen, Screen::Home, "{:?}", l.app.status);
    assert!(l.app.status.as_ref().unwrap().text.contains("finalized"));

    let rec = l.store().encounter(id, None).unwrap();
    assert_eq!(rec.status, Status::Finalized);
    assert_eq!(rec.summary.caller_display, "Nguyễn Thị Lan");
    assert_eq!(rec.summary.language.as_deref(), Some("vi"));
    // PHQ-9 item 9 positive → urgent (48 hours); the cell comes from mild scores.
    assert_eq!(rec.summary.triage, Some(Triage::Urgent));
    assert_eq!(rec.summary.cell_chosen.unwrap().id(), "low_low");
    assert!(rec.summary.deadline_at.unwrap() > rec.summary.received_at);
    let payload: serde_json::Value = serde_json::from_str(rec.payload.as_ref().unwrap()).unwrap();
    assert_eq!(payload["referrals"][0]["warm_handoff"], true);
    assert_eq!(payload["sud_consent"], "given");
    assert_eq!(payload["answers"]["phq9"]["q9"], 1);
    assert_eq!(payload["outcome"]["triage"]["level"], "urgent");
    assert!(l.store().verify().unwrap().is_ok());
    // The draft's fields are gone, the home screen counts it.
    assert!(l.app.home.drafts.is_empty());
    assert_eq!(l.app.home.today.finalized, 1);
}

#[test]
fn a_crisis_call_is_finalized_with_only_the_safety_step() {
    let mut l = Live::new();
    l.press(&["f2"]);
    l.press(&["esc"]);
    assert!(l.app.overlay.is_some(), "cannot close without an action");
    l.press(&["1", "3", "esc"]);
    assert!(l.app.overlay.is_none());
    l.press(&["pagedown"]);
    answer_step(&mut l, "n", "0");
    l.press(&["pagedown"; 7]);
    l.press(&["f", "y"]);
    assert_eq!(l.app.screen, Screen::Home, "{:?}", l.app.status);
    let page = l.store().list(&Default::default()).unwrap();
    assert_eq!(page.rows.len(), 1);
    let rec = l
        .store()
        .encounter(page.rows[0].encounter_id, None)
        .unwrap();
    assert!(rec.summary.crisis);
    assert_eq!(rec.summary.triage, Some(Triage::Emergent));
    let payload: serde_json::Value = serde_json::from_str(rec.payload.as_ref().unwrap()).unwrap();
    assert!(payload["crisis"]["actions"]["called_911"].is_string());
    assert!(payload["crisis"]["actions"]["mobile_response"].is_string());
    assert_eq!(l.app.home.today.crisis, 1);
}

#[test]
fn a_draft_survives_a_restart_and_resumes_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut l = Live::with_store(Store::open_unencrypted(&path).unwrap());
    l.press(&["n", "tab", "tab"]);
    l.type_text("Գոհար");
    l.press(&["tab", "tab"]);
    l.type_text("29");
    l.press(&["pagedown", "n", "n"]);
    let step = l.app.call.as_ref().unwrap().step;
    let focus = l.app.call.as_ref().unwrap().focus_of(step);
    let answers = l.app.call.as_ref().unwrap().call.answers.clone();
    drop(l); // the process ends (nothing is flushed on the way out)

    let mut again = Live::with_store(Store::open_unencrypted(&path).unwrap());
    assert!(matches!(
        again.app.overlay,
        Some(accessline::tui::app::Overlay::ConfirmResume(_))
    ));
    again.press(&["y"]);
    let v = again.app.call.as_ref().unwrap();
    assert_eq!(v.step, step);
    assert_eq!(v.focus_of(step), focus);
    assert_eq!(v.call.answers, answers);
    assert_eq!(v.call.intake.name.value(), "Գոհար");
}

#[test]
fn a_second_copy_on_the_same_database_sees_the_first_ones_draft() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let mut screener = Live::with_store(Store::open_unencrypted(&path).unwrap());
    screener.press(&["n", "tab", "tab"]);
    screener.type_text("Ana");
    let mut other = Live::with_store(Store::open_unencrypted(&path).unwrap());
    assert_eq!(other.app.home.drafts.len(), 1);
    // Both keep writing without "database is locked".
    screener.type_text(" María");
    other.press(&["n"]);
    other.press(&["tab", "tab"]);
    other.type_text("Bo");
    assert!(
        screener.app.status.is_none()
            || !screener.app.status.as_ref().unwrap().text.contains("NOT")
    );
    assert!(
        other
            .app
            .status
            .as_ref()
            .is_none_or(|s| !s.text.contains("NOT"))
    );
}
