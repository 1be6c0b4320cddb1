//! Whole screens rendered to ratatui's TestBackend: text snapshots (insta) at 80×24 and a few
//! at 120×40, plus cell-style checks where colour carries meaning. The clock is fixed and the
//! draft id is constant, so nothing needs redacting.

#[path = "common/tui.rs"]
mod tui;

use accessline::store::{DayCounts, DraftSummary, Returned};
use accessline::tui::app::{Action, HomeData};
use accessline::tui::theme::Theme;
use chrono::Duration;
use ratatui::style::{Color, Modifier};
use tui::{Harness, answer_step, draft_id, now, render, screen};

/// A co-occurring adult call filled in up to the assessment.
fn call() -> Harness {
    let mut h = Harness::new();
    h.act(Action::Tick(now()));
    h.press(&["n", "right", "tab", "tab"]);
    h.type_text("María José Núñez");
    h.press(&["tab"]);
    h.type_text("(323) 555-0100");
    h.press(&["tab"]);
    h.type_text("1988-04-12");
    h.press(&[
        "tab", "right", "tab", "right", "right", "tab", "space", "tab", "right", "tab",
    ]);
    h.type_text("90012");
    h.press(&["tab"]);
    h.type_text("Drinking daily since losing job, can't sleep");
    h.act(Action::Tick(now() + Duration::seconds(95)));
    h
}

fn to_assessment(h: &mut Harness) {
    h.press(&["pagedown"]);
    answer_step(h, "n", "0");
    h.press(&["pagedown"]);
    answer_step(h, "n", "3");
    h.press(&["pagedown"]);
    answer_step(h, "n", "2");
}

#[test]
fn home_screens() {
    let h = Harness::new();
    insta::assert_snapshot!("home_empty", screen(&h.app, 80, 24));
    let mut h = tui::Harness {
        app: tui::app(),
        effects: Vec::new(),
    };
    h.act(Action::HomeLoaded(HomeData {
        drafts: vec![DraftSummary {
            encounter_id: draft_id(),
            received_at: now() - Duration::minutes(42),
            updated_at: now() - Duration::minutes(3),
            caller_display: "王小明".into(),
            cursor: Some(accessline::store::Cursor {
                step: "assessment".into(),
                focus: "phq9.q4".into(),
            }),
        }],
        returned: vec![Returned {
            encounter_id: draft_id(),
            revision: 1,
            received_at: now() - Duration::days(1),
            caller_display: "Anonymous".into(),
            note: "Please record the callback number and the interpreter used.".into(),
            reviewer: "supervisor.lee".into(),
            reviewed_at: now() - Duration::hours(2),
        }],
        // More returned than the home lists: the title counts them all.
        returned_total: 240,
        today: DayCounts {
            finalized: 7,
            drafts: 1,
            crisis: 1,
        },
        sync: Some("sync: 3 pending · 40 exported · 12 acknowledged · 0 conflicts".into()),
    }));
    insta::assert_snapshot!("home_resume_offer", screen(&h.app, 80, 24));
    h.press(&["n"]); // decline resume
    insta::assert_snapshot!("home_lists", screen(&h.app, 80, 24));
}

#[test]
fn call_screens_at_80x24() {
    let mut h = call();
    insta::assert_snapshot!("intake", screen(&h.app, 80, 24));
    h.press(&["pagedown"]);
    insta::assert_snapshot!("safety", screen(&h.app, 80, 24));
    answer_step(&mut h, "n", "0");
    h.press(&["pagedown"]);
    insta::assert_snapshot!("screening", screen(&h.app, 80, 24));
    answer_step(&mut h, "n", "3");
    h.press(&["pagedown"]);
    answer_step(&mut h, "n", "2");
    insta::assert_snapshot!("assessment", screen(&h.app, 80, 24));
    h.press(&["pagedown"]);
    insta::assert_snapshot!("placement", screen(&h.app, 80, 24));
    h.press(&["o", "down"]);
    insta::assert_snapshot!("placement_choosing", screen(&h.app, 80, 24));
    h.press(&["enter"]);
    h.type_text("Caller declines residential care");
    insta::assert_snapshot!("placement_reason", screen(&h.app, 80, 24));
    h.press(&["enter", "pagedown", "space", "w", "down"]);
    insta::assert_snapshot!("referral", screen(&h.app, 80, 24));
    h.press(&["pagedown", "space", "down", "space"]);
    insta::assert_snapshot!("notices", screen(&h.app, 80, 24));
    h.press(&["pagedown"]);
    insta::assert_snapshot!("summary", screen(&h.app, 80, 24));
    h.press(&["f"]);
    insta::assert_snapshot!("confirm_finalize", screen(&h.app, 80, 24));
}

#[test]
fn overlays_and_small_terminals() {
    let mut h = call();
    h.press(&["pagedown", "y"]);
    insta::assert_snapshot!("crisis_auto_opened", screen(&h.app, 80, 24));
    h.press(&["esc"]);
    insta::assert_snapshot!("crisis_refused", screen(&h.app, 80, 24));
    h.press(&["1", "3"]);
    insta::assert_snapshot!("crisis_recorded", screen(&h.app, 80, 24));
    h.press(&["esc", "f1"]);
    insta::assert_snapshot!("help", screen(&h.app, 80, 24));
    insta::assert_snapshot!("too_small", screen(&h.app, 79, 24));
    insta::assert_snapshot!("too_short", screen(&h.app, 80, 10));
}

#[test]
fn larger_terminals_use_the_room() {
    let mut h = call();
    insta::assert_snapshot!("intake_120x40", screen(&h.app, 120, 40));
    to_assessment(&mut h);
    insta::assert_snapshot!("assessment_120x40", screen(&h.app, 120, 40));
    h.press(&["pagedown"]);
    insta::assert_snapshot!("placement_120x40", screen(&h.app, 120, 40));
    h.press(&["pagedown"]);
    insta::assert_snapshot!("referral_120x40", screen(&h.app, 120, 40));
}

/// Colour carries meaning: an emergent call's triage badge is white on red; the focused
/// field stands out; with NO_COLOR the same cells are marked by reverse video and bold.
#[test]
fn risk_and_focus_are_marked_in_colour_and_without() {
    let mut h = call();
    h.press(&["pagedown", "y", "1", "esc"]);
    let t = render(&h.app, 80, 24, &Theme::color());
    let buf = t.backend().buffer();
    let line: String = (0..80).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
    let x = line.find("EMERGENT").expect("triage in header") as u16;
    // The header has multi-byte separators before it; find the cell by scanning.
    let col = (0..80u16)
        .find(|c| buf[(*c, 0)].symbol() == "E" && buf[(*c + 1, 0)].symbol() == "M")
        .unwrap_or(x);
    assert_eq!(buf[(col, 0)].bg, Color::Red);
    assert!(buf[(col, 0)].modifier.contains(Modifier::BOLD));
    let mono = render(&h.app, 80, 24, &Theme::mono());
    let mb = mono.backend().buffer();
    assert!(mb[(col, 0)].modifier.contains(Modifier::REVERSED));
    assert_eq!(mb[(col, 0)].bg, Color::Reset, "no colour with NO_COLOR");
    // Focus: the focused question's row in the list is highlighted.
    let focus_row = (0..24u16)
        .find(|y| mb[(1, *y)].modifier.contains(Modifier::REVERSED) && *y > 3)
        .expect("a focused row");
    assert!(focus_row > 3);
    for y in 0..24u16 {
        for x in 0..80u16 {
            let c = &mb[(x, y)];
            assert_eq!(
                c.fg,
                Color::Reset,
                "mono has no foreground colour at {x},{y}"
            );
            assert_eq!(
                c.bg,
                Color::Reset,
                "mono has no background colour at {x},{y}"
            );
        }
    }
}
