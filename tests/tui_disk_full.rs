//! A full disk in the middle of a call. SQLite refuses the write (SQLITE_FULL); the screener is
//! told at once, the header keeps saying how many answers are NOT SAVED, nothing on screen is
//! lost, and the answers are written by themselves once there is room again. Also: the event
//! loop's clock turn returns its effects (the idle lock's audit row was once dropped there).

#[path = "common/tui.rs"]
mod tui;

use accessline::store::Actor;
use accessline::tui::app::{AccessNote, Action, Effect, RETRY_WRITES};
use accessline::tui::on_event;
use chrono::TimeDelta;
use tui::{Harness, Live, now, screen};

const REASON_KEY: &str = "intake.reason";

/// Take all the room there is: the database may not grow, every free page is used, and the
/// room left inside pages is used up by calls like the ones a screener takes.
fn fill_the_disk(l: &mut Live) {
    let c = l.store().connection();
    c.execute_batch("CREATE TABLE IF NOT EXISTS pad(x BLOB)")
        .unwrap();
    let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    c.pragma_update(None, "max_page_count", pages).unwrap();
    let full = |e: &rusqlite::Error| e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull);
    let pad = (0..100_000).find_map(|_| {
        c.execute("INSERT INTO pad VALUES (zeroblob(500))", [])
            .err()
    });
    assert!(pad.as_ref().is_some_and(full), "{pad:?}");
    let other = Actor::new("filler.test", "desk-01");
    let drafts = (0..100_000).find_map(|_| l.store().start_draft(&other, now()).err());
    assert!(
        drafts.as_ref().is_some_and(|e| e.is_disk_full()),
        "{drafts:?}"
    );
}

/// Room again (someone deleted old files): the database may grow.
fn free_space(l: &mut Live) {
    let c = l.store().connection();
    c.pragma_update(None, "max_page_count", 1_000_000_000)
        .unwrap();
    c.execute_batch("DROP TABLE pad").unwrap();
}

fn not_saved(l: &Live) -> usize {
    l.app.call.as_ref().map_or(0, |v| v.not_saved())
}

fn stored(l: &mut Live, key: &str) -> Option<serde_json::Value> {
    let id = l.app.call.as_ref()?.call.id?;
    l.store().load_draft(id).unwrap().fields.get(key).cloned()
}

fn on_screen_reason(l: &Live) -> String {
    l.app
        .call
        .as_ref()
        .unwrap()
        .call
        .intake
        .reason
        .value()
        .to_owned()
}

/// New call, focus on "Reason for call".
fn at_reason(l: &mut Live) {
    l.press(&["n"]);
    for _ in 0..10 {
        l.press(&["tab"]);
    }
    assert_eq!(
        l.app.call.as_ref().unwrap().intake_focus,
        10,
        "on the reason"
    );
}

#[test]
fn an_answer_refused_by_a_full_disk_is_kept_shown_as_not_saved_and_written_when_there_is_room() {
    let mut l = Live::new();
    at_reason(&mut l);
    l.type_text("Cannot sleep");
    assert_eq!(stored(&mut l, REASON_KEY).unwrap(), "Cannot sleep");

    fill_the_disk(&mut l);
    let mut typed = String::from("Cannot sleep");
    for c in " since the fire; lost the apartment and the job"
        .chars()
        .cycle()
        .take(900)
    {
        l.type_text(&c.to_string());
        typed.push(c);
        if not_saved(&l) > 0 {
            break;
        }
    }
    assert_eq!(not_saved(&l), 1, "a write should have failed by now");
    // The screen keeps everything typed; the database keeps what it had room for.
    assert_eq!(on_screen_reason(&l), typed);
    let kept = stored(&mut l, REASON_KEY).unwrap();
    assert!(typed.starts_with(kept.as_str().unwrap()) && kept != typed.as_str());
    let text = screen(&l.app, 80, 24);
    assert!(
        text.lines().next().unwrap().contains("NOT SAVED: 1"),
        "{text}"
    );
    assert!(text.contains("NOT SAVED: the disk is full"), "{text}");

    // More typing while the disk is full: still one answer waiting, with its newest value.
    l.type_text(" now");
    typed.push_str(" now");
    assert_eq!(not_saved(&l), 1);
    assert_eq!(on_screen_reason(&l), typed);

    // Not retried before its time, nor while the disk is still full.
    l.act(Action::Tick(now() + TimeDelta::seconds(1)));
    assert_eq!(not_saved(&l), 1);
    l.act(Action::Tick(now() + RETRY_WRITES * 2));
    assert_eq!(not_saved(&l), 1, "still full, so still not saved");
    assert_ne!(stored(&mut l, REASON_KEY).unwrap(), typed.as_str());

    // Room again: the next retry writes it, and the header says nothing more.
    free_space(&mut l);
    l.act(Action::Tick(now() + RETRY_WRITES * 4));
    assert_eq!(not_saved(&l), 0);
    assert_eq!(stored(&mut l, REASON_KEY).unwrap(), typed.as_str());
    let text = screen(&l.app, 80, 24);
    assert!(!text.contains("NOT SAVED"), "{text}");
    assert!(text.contains("Saved: there is room again"), "{text}");
}

#[test]
fn a_call_started_on_a_full_disk_keeps_its_answers_and_starts_its_draft_when_there_is_room() {
    let mut l = Live::new();
    fill_the_disk(&mut l);
    at_reason(&mut l);
    l.type_text("Panic attacks at work");
    let v = l.app.call.as_ref().unwrap();
    assert_eq!(v.call.id, None, "no draft on a full disk");
    assert!(not_saved(&l) >= 1);
    let text = screen(&l.app, 80, 24);
    assert!(text.lines().next().unwrap().contains("NOT SAVED"), "{text}");
    assert!(
        text.contains("Call NOT SAVED yet: the disk is full"),
        "{text}"
    );

    free_space(&mut l);
    l.act(Action::Tick(now() + RETRY_WRITES * 2));
    assert!(
        l.app.call.as_ref().unwrap().call.id.is_some(),
        "draft started"
    );
    assert_eq!(not_saved(&l), 0);
    assert_eq!(stored(&mut l, REASON_KEY).unwrap(), "Panic attacks at work");
    assert!(screen(&l.app, 80, 24).contains("Saved: there is room again"));
}

#[test]
fn the_clock_turn_of_the_event_loop_returns_the_idle_locks_effects() {
    let mut h = Harness::new();
    h.press(&["n"]);
    let effects = on_event(&mut h.app, None, now() + TimeDelta::minutes(5));
    assert!(h.app.lock.is_some(), "locked after 5 idle minutes");
    assert!(
        effects.contains(&Effect::Audit(AccessNote::Lock)),
        "the lock is audited: {effects:?}"
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::SaveCursor { .. })),
        "the place in the call is saved: {effects:?}"
    );
}
