//! Key events → app state, with no terminal and no disk: each screen's keys, the crisis
//! protocol, skip logic, recomputation, autosave effects and resume.

#[path = "common/tui.rs"]
mod tui;

use accessline::domain::placement::Triage;
use accessline::domain::quadrant::{CellId, Level};
use accessline::domain::scoring::AnswerValue;
use accessline::store::{Cursor, Draft};
use accessline::tui::app::{Action, Effect, Overlay, PlacementMode, Screen};
use accessline::tui::call::{IntakeField, Step};
use serde_json::json;
use tui::{Harness, answer_step, draft_id, now};

fn intake_adult(h: &mut Harness) {
    h.press(&["n"]); // new call
    h.press(&["right", "tab", "tab"]); // caller: self; anonymous: no; → name
    h.type_text("María José Núñez");
    h.press(&["tab", "tab"]);
    h.type_text("34");
    h.press(&["tab", "right", "tab", "right", "right"]); // sex female; language es
    h.press(&["tab", "tab", "right", "tab"]); // interpreter; Medi-Cal enrolled; → ZIP
    h.type_text("90012");
    h.press(&["tab"]);
    h.type_text("Feeling low since losing work");
}

#[test]
fn new_call_starts_a_draft_and_saves_every_keystroke() {
    let mut h = Harness::new();
    h.press(&["n"]);
    assert_eq!(h.app.screen, Screen::Call);
    assert!(matches!(h.effects[0], Effect::StartDraft { received_at } if received_at == now()));
    assert_eq!(h.call().id, Some(draft_id()));
    h.press(&["tab", "tab"]);
    let before = h.effects.len();
    h.type_text("Արամ");
    let saves: Vec<_> = h.effects[before..]
        .iter()
        .filter_map(|e| match e {
            Effect::SaveField { key, value, .. } => Some((key.as_str(), value.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(saves.len(), 4, "one save per keystroke");
    assert_eq!(saves[3], ("intake.caller_name", json!("Արամ")));
    // A printable key in a text field is text, not a command: `n` does not start a call.
    h.type_text("n");
    assert_eq!(h.call().intake.name.value(), "Արամn");
}

#[test]
fn intake_fields_choices_toggles_and_validation() {
    let mut h = Harness::new();
    intake_adult(&mut h);
    let call = h.call();
    let facts = call.intake_facts();
    assert_eq!(facts.caller_type.as_deref(), Some("self"));
    assert_eq!(facts.caller_name.as_deref(), Some("María José Núñez"));
    assert_eq!(facts.age, Some(34));
    assert_eq!(facts.sex.as_deref(), Some("female"));
    assert_eq!(facts.language.as_deref(), Some("es"));
    assert_eq!(facts.medi_cal.as_deref(), Some("enrolled"));
    assert_eq!(call.outcome.service_area, Some(4));
    let saved = h.saved();
    assert_eq!(saved["intake.zip"], json!("90012"));
    assert_eq!(saved["intake.language"], json!("es"));
    // Anonymous hides the name from the record and skips the name field's typing.
    h.press(&["up"; 9]);
    assert_eq!(h.app.call.as_ref().unwrap().intake_focus, 1);
    h.press(&["space"]);
    assert!(h.call().intake_facts().caller_name.is_none());
    assert_eq!(h.saved()["intake.anonymous"], json!(true));
    // A bad date of birth is shown and blocks finalizing; a good one gives the age.
    h.press(&["down", "down", "down"]);
    h.press(&["ctrl-u"]);
    h.type_text("2030-01-01");
    assert!(
        h.call()
            .blockers(&h.app.defs)
            .iter()
            .any(|(s, why)| *s == Step::Intake && why.contains("future"))
    );
    h.press(&["ctrl-u"]);
    h.type_text("05/01/1990");
    assert_eq!(h.call().outcome.age, Some(36));
}

#[test]
fn a_positive_safety_answer_opens_the_crisis_protocol_which_cannot_be_dismissed_empty() {
    let mut h = Harness::new();
    intake_adult(&mut h);
    h.press(&["pagedown"]);
    assert_eq!(h.app.call.as_ref().unwrap().step, Step::Safety);
    h.press(&["y"]); // imminent danger to self
    assert_eq!(h.app.overlay, Some(Overlay::Crisis { focus: 0 }));
    assert!(h.call().crisis.opened);
    assert_eq!(h.call().outcome.triage.level, Triage::Emergent);
    assert_eq!(h.saved()["crisis"]["opened"], json!(true));
    // Esc is refused until something is recorded.
    h.press(&["esc"]);
    assert!(h.app.overlay.is_some());
    assert!(
        h.app
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("at least one action")
    );
    h.press(&["2"]);
    assert_eq!(h.call().crisis.actions.get("connected_988"), Some(&now()));
    assert_eq!(
        h.saved()["crisis"]["actions"]["connected_988"],
        json!("2026-11-23T18:15:00Z")
    );
    h.press(&["esc"]);
    assert_eq!(h.app.overlay, None);
    // In a crisis only the safety check is required before finalizing.
    answer_step(&mut h, "n", "0");
    assert!(
        h.call().blockers(&h.app.defs).is_empty(),
        "{:?}",
        h.call().blockers(&h.app.defs)
    );
}

#[test]
fn the_crisis_key_works_from_every_screen_even_in_a_text_field() {
    let mut h = Harness::new();
    h.press(&["f2"]);
    assert_eq!(
        h.app.screen,
        Screen::Call,
        "from home it starts a crisis call"
    );
    assert!(h.call().crisis.opened);
    assert!(matches!(h.app.overlay, Some(Overlay::Crisis { .. })));
    let mut h = Harness::new();
    h.press(&["n", "tab", "tab"]);
    assert!(h.app.text_focused());
    h.press(&["ctrl-e"]);
    assert!(matches!(h.app.overlay, Some(Overlay::Crisis { .. })));
    for steps in 0..8 {
        let mut h = Harness::new();
        h.press(&["n"]);
        for _ in 0..steps {
            h.press(&["pagedown"]);
        }
        assert_eq!(h.app.call.as_ref().unwrap().step, Step::ALL[steps]);
        h.press(&["f1", "f2"]); // even with help open
        assert!(
            matches!(h.app.overlay, Some(Overlay::Crisis { .. })),
            "{steps}"
        );
    }
}

#[test]
fn cssrs_skip_logic_and_changing_an_earlier_answer_recomputes() {
    let mut h = Harness::new();
    intake_adult(&mut h);
    h.press(&["pagedown", "n", "n", "n"]); // safety check: no, no, no
    h.press(&["n", "n"]); // C-SSRS q1, q2: no
    let qs = |h: &Harness| {
        let v = h.app.call.as_ref().unwrap();
        v.call
            .questions(&h.app.defs, Step::Safety)
            .into_iter()
            .map(|(_, q)| q)
            .collect::<Vec<_>>()
    };
    assert!(
        !qs(&h).contains(&"q3".to_owned()),
        "Q3–Q5 only when Q2 is yes"
    );
    h.press(&["up"]); // back to q2
    h.press(&["y"]);
    assert!(qs(&h).contains(&"q3".to_owned()));
    h.press(&["y", "n", "n"]); // q3 yes (method), q4, q5
    assert_eq!(
        h.call()
            .outcome
            .evaluation
            .result("cssrs_screen")
            .unwrap()
            .band
            .as_ref()
            .unwrap()
            .id,
        "moderate"
    );
    assert_eq!(h.call().outcome.triage.level, Triage::Urgent);
    // Q2 back to no: Q3–Q5 hide again, their answers leave the finalized record, urgency drops.
    h.press(&["up", "up", "up", "up", "n"]); // q6 → q5 → q4 → q3 → q2
    assert!(!qs(&h).contains(&"q3".to_owned()));
    assert!(!h.call().shown_answers()["cssrs_screen"].contains_key("q3"));
    assert!(
        h.call().answers["cssrs_screen"].contains_key("q3"),
        "kept in the draft"
    );
    assert_ne!(h.call().outcome.triage.level, Triage::Urgent);
}

#[test]
fn youth_callers_get_the_youth_screening_tool() {
    let mut h = Harness::new();
    h.press(&["n", "tab", "tab", "tab", "tab"]);
    h.type_text("15");
    h.press(&["pagedown", "pagedown"]);
    let v = h.app.call.as_ref().unwrap();
    let instruments: Vec<String> = v
        .call
        .questions(&h.app.defs, Step::Screening)
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert!(instruments.contains(&"dhcs_youth".to_owned()));
    assert!(!instruments.contains(&"dhcs_adult".to_owned()));
}

#[test]
fn answers_use_one_key_and_wrong_keys_explain_themselves() {
    let mut h = Harness::new();
    intake_adult(&mut h);
    h.press(&["pagedown", "pagedown", "pagedown"]);
    let step = h.app.call.as_ref().unwrap().step;
    assert_eq!(step, Step::Assessment);
    // Find PHQ-9 item 1 and answer 3 with one key.
    let qs = h.call().questions(&h.app.defs, step);
    let at = qs
        .iter()
        .position(|(i, q)| i == "phq9" && q == "q1")
        .unwrap();
    h.app.call.as_mut().unwrap().set_focus(step, at);
    h.press(&["3"]);
    assert_eq!(h.call().answer("phq9", "q1"), Some(AnswerValue::Int(3)));
    assert_eq!(h.saved()["answers.phq9.q1"], json!(3));
    assert_eq!(
        h.app.call.as_ref().unwrap().focus_of(step),
        at + 1,
        "moves on"
    );
    h.press(&["7"]);
    assert!(h.app.status.as_ref().unwrap().text.contains("0–3"));
    h.press(&["y"]);
    assert!(h.app.status.as_ref().unwrap().text.contains("number"));
    assert_eq!(h.call().answer("phq9", "q2"), None);
}

#[test]
fn placement_override_needs_a_reason_and_keeps_the_computed_cell() {
    let mut h = Harness::new();
    intake_adult(&mut h);
    for _ in 0..3 {
        h.press(&["pagedown"]);
        answer_step(&mut h, "n", "0");
    }
    h.press(&["pagedown"]);
    let computed = h.call().outcome.placement.cell;
    assert_eq!(
        computed,
        CellId {
            mh: Level::Low,
            acuity: Level::Low
        }
    );
    h.press(&["o", "up", "right", "enter"]);
    let v = h.app.call.as_ref().unwrap();
    assert_eq!(v.placement, PlacementMode::Reason);
    assert_eq!(
        h.call().outcome.chosen_cell,
        CellId {
            mh: Level::Moderate,
            acuity: Level::Moderate
        }
    );
    h.press(&["enter"]);
    assert!(
        h.app
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("needs a reason")
    );
    h.type_text("Family reports worse than caller says");
    h.press(&["enter"]);
    assert_eq!(h.app.call.as_ref().unwrap().placement, PlacementMode::View);
    assert_eq!(
        h.call().outcome.placement.cell,
        computed,
        "computed cell kept"
    );
    assert_eq!(
        h.saved()["placement.override_cell"],
        json!("moderate_moderate")
    );
    assert_eq!(
        h.saved()["placement.override_reason"],
        json!("Family reports worse than caller says")
    );
    assert!(h.call().blockers(&h.app.defs).is_empty());
    h.press(&["c"]);
    assert_eq!(h.call().outcome.chosen_cell, computed);
    assert_eq!(h.saved()["placement.override_cell"], json!(null));
}

#[test]
fn referral_pick_handoff_filters_and_deadline() {
    let mut h = Harness::new();
    intake_adult(&mut h);
    for _ in 0..3 {
        h.press(&["pagedown"]);
        answer_step(&mut h, "n", "0");
    }
    h.press(&["pagedown", "pagedown"]);
    assert_eq!(h.app.call.as_ref().unwrap().step, Step::Referral);
    let first = h.call().outcome.programs[0].service.service_id.clone();
    h.press(&["space", "w"]);
    assert_eq!(h.call().referrals.len(), 1);
    assert!(h.call().referrals[0].warm_handoff);
    assert_eq!(
        h.saved()["referral.selected"],
        json!([{ "service_id": first, "warm_handoff": true }])
    );
    let all = h.call().outcome.programs.len();
    h.press(&["l"]);
    assert!(h.call().require_language);
    assert!(h.call().outcome.programs.len() <= all);
    assert!(
        h.call()
            .outcome
            .programs
            .iter()
            .all(|p| p.service.language_match)
    );
    assert!(!h.call().outcome.deadlines.is_empty());
    h.press(&["down", "space", "space"]);
    assert_eq!(h.call().referrals.len(), 1, "space toggles");
}

#[test]
fn notices_consent_and_finalize_with_confirmation() {
    let mut h = Harness::new();
    intake_adult(&mut h);
    h.press(&[
        "pagedown", "pagedown", "pagedown", "pagedown", "pagedown", "pagedown", "pagedown",
    ]);
    assert_eq!(h.app.call.as_ref().unwrap().step, Step::Summary);
    h.press(&["f"]);
    assert!(
        h.app
            .status
            .as_ref()
            .unwrap()
            .text
            .starts_with("Cannot finalize yet")
    );
    assert_eq!(h.app.overlay, None);
    h.press(&["pageup"]);
    h.press(&["space", "down", "down", "down", "down", "down", "y"]);
    assert!(h.call().notices.contains("handbook"));
    assert_eq!(h.saved()["consent.sud"], json!("given"));
    h.press(&["pageup", "pageup", "pageup", "pageup", "pageup"]);
    for _ in 0..3 {
        answer_step(&mut h, "n", "0");
        h.press(&["pagedown"]);
    }
    h.press(&["pagedown", "pagedown", "pagedown"]);
    assert_eq!(h.app.call.as_ref().unwrap().step, Step::Summary);
    h.press(&["f"]);
    assert_eq!(h.app.overlay, Some(Overlay::ConfirmFinalize));
    h.press(&["n"]);
    assert_eq!(h.app.overlay, None);
    h.press(&["f", "y"]);
    let Some(Effect::Finalize {
        payload, summary, ..
    }) = h.effects.last()
    else {
        panic!("finalize effect expected, got {:?}", h.effects.last());
    };
    assert_eq!(payload["schema"], json!("accessline.encounter/1"));
    assert_eq!(payload["intake"]["caller_name"], json!("María José Núñez"));
    assert_eq!(payload["notices"], json!(["handbook"]));
    assert_eq!(summary.triage, Some(Triage::Routine));
}

#[test]
fn resume_restores_every_answer_and_the_exact_step_and_field() {
    let mut h = Harness::new();
    intake_adult(&mut h);
    h.press(&["pagedown"]);
    answer_step(&mut h, "n", "0");
    h.press(&["pagedown", "pagedown"]);
    h.press(&["1", "2", "3"]);
    let cursor = match h.effects.iter().rev().find_map(|e| match e {
        Effect::SaveCursor { cursor, .. } => Some(cursor.clone()),
        _ => None,
    }) {
        Some(c) => c,
        None => panic!("cursor saved"),
    };
    let before = h.app.call.clone().unwrap();
    let draft = Draft {
        encounter_id: draft_id(),
        screener: "screener.test".into(),
        received_at: now(),
        updated_at: now(),
        fields: h.saved(),
        cursor: Some(cursor),
    };
    // A fresh app (a restart) is offered the draft, and opens it where it was.
    let mut again = Harness::new();
    again.act(Action::HomeLoaded(accessline::tui::app::HomeData {
        drafts: vec![accessline::store::DraftSummary {
            encounter_id: draft_id(),
            received_at: now(),
            updated_at: now(),
            caller_display: "María José Núñez".into(),
            cursor: None,
        }],
        ..Default::default()
    }));
    assert_eq!(
        again.app.overlay, None,
        "the offer is made once, at start-up"
    );
    let mut fresh = Harness {
        app: tui::app(),
        effects: Vec::new(),
    };
    fresh.act(Action::HomeLoaded(accessline::tui::app::HomeData {
        drafts: vec![accessline::store::DraftSummary {
            encounter_id: draft_id(),
            received_at: now(),
            updated_at: now(),
            caller_display: "María".into(),
            cursor: None,
        }],
        ..Default::default()
    }));
    assert_eq!(fresh.app.overlay, Some(Overlay::ConfirmResume(draft_id())));
    fresh.press(&["y"]);
    assert_eq!(fresh.effects.last(), Some(&Effect::LoadDraft(draft_id())));
    fresh.act(Action::DraftLoaded(Box::new(draft)));
    let after = fresh.app.call.clone().unwrap();
    assert_eq!(after.step, before.step);
    assert_eq!(after.focus_of(after.step), before.focus_of(before.step));
    assert_eq!(after.call.answers, before.call.answers);
    assert_eq!(after.call.intake, before.call.intake);
    assert_eq!(after.call.outcome, before.call.outcome);
}

#[test]
fn a_draft_with_unreadable_fields_still_opens_and_says_so() {
    let mut h = Harness::new();
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("intake.caller_name".to_owned(), json!("Ana"));
    fields.insert("answers.phq9.q1".to_owned(), json!("three"));
    fields.insert("answers.nope.q1".to_owned(), json!(1));
    h.act(Action::DraftLoaded(Box::new(Draft {
        encounter_id: draft_id(),
        screener: "s".into(),
        received_at: now(),
        updated_at: now(),
        fields,
        cursor: Some(Cursor {
            step: "nowhere".into(),
            focus: "x".into(),
        }),
    })));
    assert_eq!(h.call().intake.name.value(), "Ana");
    let status = &h.app.status.as_ref().unwrap().text;
    assert!(
        status.contains("answers.phq9.q1") && status.contains("answers.nope.q1"),
        "{status}"
    );
    assert_eq!(h.app.call.as_ref().unwrap().step, Step::Intake);
}

#[test]
fn help_opens_and_closes_and_a_huge_paste_is_cut_with_a_warning() {
    let mut h = Harness::new();
    h.press(&["?"]);
    assert_eq!(h.app.overlay, Some(Overlay::Help { scroll: 0 }));
    h.press(&["down", "down", "esc"]);
    assert_eq!(h.app.overlay, None);
    h.press(&["n"]);
    h.app.call.as_mut().unwrap().intake_focus = IntakeField::ALL
        .iter()
        .position(|f| *f == IntakeField::Reason)
        .unwrap();
    h.act(Action::Paste("x".repeat(100_000)));
    assert_eq!(h.call().intake.reason.value().chars().count(), 1000);
    assert!(
        h.app
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("longer than the field")
    );
}

#[test]
fn any_step_is_one_key_away() {
    let mut h = Harness::new();
    h.press(&["n", "alt-5"]);
    assert_eq!(h.app.call.as_ref().unwrap().step, Step::Placement);
    h.press(&["alt-1"]);
    assert_eq!(h.app.call.as_ref().unwrap().step, Step::Intake);
    h.press(&["alt-8", "pageup"]);
    assert_eq!(h.app.call.as_ref().unwrap().step, Step::Notices);
    assert!(matches!(
        h.effects.last(),
        Some(Effect::SaveCursor { cursor, .. }) if cursor.step == "notices"
    ));
}

#[test]
fn going_home_keeps_the_draft_and_quit_is_clean() {
    let mut h = Harness::new();
    h.press(&["n", "esc"]);
    assert_eq!(h.app.screen, Screen::Home);
    assert_eq!(
        h.effects.last(),
        Some(&Effect::LoadHome {
            day_start: accessline::domain::clock::start_of_county_day(h.app.now)
        })
    );
    h.press(&["q"]);
    assert!(h.app.quit);
}
