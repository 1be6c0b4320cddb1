//! Sign-in, roles and the automatic lock in the TUI (issue 7), key events → state, with a test
//! clock: the lock screen shows nothing of the call, the draft survives, the same user's PIN
//! resumes exactly where they were, another user does not see it.

#[path = "common/tui.rs"]
mod tui;

use std::collections::VecDeque;
use std::sync::Arc;

use accessline::domain::Definitions;
use accessline::security::{KdfParams, Role, Vault};
use accessline::store::Store;
use accessline::tui::app::{Action, App, Effect, Screen};
use accessline::tui::call::Step;
use accessline::tui::effect::Backend;
use accessline::tui::keymap::Keymap;
use accessline::tui::lock::LockReason;
use chrono::TimeDelta;
use tui::{Live, PIN, now, screen};

const NAME: &str = "Xiomara Quispe-Marker";
const REASON: &str = "Hearing voices since the eviction";

/// A screener in the middle of a call: name and reason typed, focus on the PHQ-9.
fn mid_call() -> Live {
    let mut l = Live::new();
    l.press(&["n", "tab", "tab"]);
    l.type_text(NAME);
    for _ in 0..9 {
        l.press(&["tab"]);
    }
    l.type_text(REASON);
    l.press(&["pagedown", "pagedown", "pagedown", "down", "down"]);
    assert_eq!(l.app.call.as_ref().unwrap().step, Step::Assessment);
    l
}

fn tick(l: &mut Live, after: TimeDelta) {
    l.act(Action::Tick(now() + after));
}

fn no_phi(text: &str) {
    for marker in ["Xiomara", "Quispe", "voices", "eviction"] {
        assert!(
            !text.contains(marker),
            "{marker} on the lock screen:\n{text}"
        );
    }
}

#[test]
fn the_screen_locks_after_the_idle_time_and_shows_nothing_of_the_call() {
    let mut l = mid_call();
    assert!(screen(&l.app, 80, 24).contains("Xiomara"));
    tick(&mut l, TimeDelta::minutes(5) - TimeDelta::seconds(1));
    assert!(l.app.lock.is_none(), "not yet: 4:59 without a key");
    tick(&mut l, TimeDelta::minutes(5));
    let lock = l.app.lock.as_ref().expect("locked after 5 minutes");
    assert_eq!(lock.reason, LockReason::Idle);
    assert_eq!(audited(&mut l, "lock", "screener.test"), 1);
    for (w, h) in [(80, 24), (120, 40)] {
        no_phi(&screen(&l.app, w, h));
    }
    // Keys reach only the lock form: `n` types into it, it does not start a call.
    l.press(&["n"]);
    assert!(l.app.lock.is_some());
    // The draft is in the database, with the place in the call.
    let id = l.app.call.as_ref().unwrap().call.id.unwrap();
    let draft = l.store().load_draft(id).unwrap();
    assert_eq!(draft.fields["intake.caller_name"], NAME);
    assert_eq!(draft.cursor.unwrap().step, "assessment");
}

#[test]
fn the_same_pin_resumes_exactly_where_the_screener_was() {
    let mut l = mid_call();
    let before = l.app.call.clone().unwrap();
    l.press(&["ctrl-l"]);
    assert_eq!(l.app.lock.as_ref().unwrap().reason, LockReason::Manual);
    // The user name is filled in; the PIN is asked.
    l.type_text("000000");
    l.press(&["enter"]);
    let lock = l.app.lock.as_ref().expect("a wrong PIN keeps the lock");
    assert!(lock.message.is_some());
    assert_eq!(lock.pin.value(), "", "the wrong PIN is cleared");
    no_phi(&screen(&l.app, 80, 24));
    l.type_text(PIN);
    l.press(&["enter"]);
    assert!(l.app.lock.is_none(), "{:?}", l.app.lock);
    assert_eq!(l.app.screen, Screen::Call);
    let after = l.app.call.clone().unwrap();
    assert_eq!(after.step, before.step);
    assert_eq!(
        after.focus_of(Step::Assessment),
        before.focus_of(Step::Assessment)
    );
    assert_eq!(after.call, before.call);
    assert!(screen(&l.app, 80, 24).contains("Xiomara"));
}

#[test]
fn another_user_signing_in_at_the_lock_does_not_see_the_draft() {
    let mut l = mid_call();
    let id = l.app.call.as_ref().unwrap().call.id.unwrap();
    tick(&mut l, TimeDelta::minutes(6));
    l.switch_user("screener.two", Role::Screener);
    assert_eq!(l.app.screen, Screen::Home);
    assert!(l.app.call.is_none());
    assert!(l.app.home.drafts.is_empty(), "{:?}", l.app.home.drafts);
    assert!(
        l.app.overlay.is_none(),
        "no offer to resume someone else's call"
    );
    no_phi(&screen(&l.app, 80, 24));
    // The first screener's draft is untouched, and comes back when they sign in again.
    assert_eq!(
        l.store().load_draft(id).unwrap().fields["intake.caller_name"],
        NAME
    );
    l.switch_user("screener.test", Role::Screener);
    assert_eq!(l.app.home.drafts.len(), 1);
    assert!(l.app.overlay.is_some(), "offered to resume their own draft");
}

#[test]
fn a_screener_cannot_open_review_or_another_screeners_draft() {
    let mut l = mid_call();
    let id = l.app.call.as_ref().unwrap().call.id.unwrap();
    l.press(&["esc"]);
    l.press(&["v"]);
    assert_eq!(l.app.screen, Screen::Home);
    let status = l.app.status.clone().unwrap().text;
    assert!(status.contains("supervisor role"), "{status}");
    assert_eq!(audited(&mut l, "denied", "screener.test"), 1);

    l.switch_user("screener.two", Role::Screener);
    // Even if an effect asked for it (a stale id, a bug), the draft stays closed.
    let mut queue: VecDeque<Effect> = vec![Effect::LoadDraft(id)].into();
    accessline::tui::drain(&mut l.app, &mut l.backend, &mut queue);
    assert!(l.app.call.is_none());
    let status = l.app.status.clone().unwrap().text;
    assert!(status.contains("another screener"), "{status}");
    let mut queue: VecDeque<Effect> = vec![Effect::LoadRecord(id)].into();
    accessline::tui::drain(&mut l.app, &mut l.backend, &mut queue);
    assert!(l.app.record.is_none());
    assert_eq!(
        audited(&mut l, "denied", "screener.two"),
        2,
        "both refusals audited"
    );
    // The first screener's own opening of the draft was a view; the refused ones were not.
    assert_eq!(audited(&mut l, "view", "screener.two"), 0);
}

/// How many audit rows of `action` by `user`.
fn audited(l: &mut Live, action: &str, user: &str) -> usize {
    let mut n = 0;
    l.store()
        .for_each_audit::<accessline::store::StoreError>(&Default::default(), |e| {
            n += usize::from(e.action == action && e.actor == user);
            Ok(())
        })
        .unwrap();
    n
}

#[test]
fn a_supervisor_can_review_after_signing_in() {
    let mut l = Live::new();
    l.switch_user("supervisor.lee", Role::Supervisor);
    l.press(&["v"]);
    assert_eq!(l.app.screen, Screen::Queue);
}

#[test]
fn start_up_sign_in_checks_the_pin_and_loads_the_users_home() {
    let mut store = Store::open_in_memory().unwrap();
    let mut vault = Vault::in_memory(KdfParams::insecure_for_tests());
    accessline::security::enrol(
        &mut vault,
        &mut store,
        &accessline::store::Actor::new("admin", "desk-01"),
        "ana.r",
        "Ana Ruiz",
        Role::Supervisor,
        PIN,
        now(),
    )
    .unwrap();
    let mut app = App::signing_in(
        Arc::new(Definitions::builtin().unwrap()),
        Keymap::default_map(),
        "desk-01",
        now(),
        false,
    );
    assert!(app.init().is_empty(), "nothing is loaded before sign-in");
    let mut backend = Backend::open(store, vault);
    let mut l = Live {
        app: std::mem::replace(&mut app, tui::app()),
        backend,
    };
    let text = screen(&l.app, 80, 24);
    assert!(text.contains("Sign in"), "{text}");
    assert!(
        text.contains("911"),
        "crisis numbers on the sign-in screen:\n{text}"
    );
    // Enter on an empty field says what is needed.
    l.press(&["enter"]);
    assert!(
        l.app
            .lock
            .as_ref()
            .unwrap()
            .message
            .as_deref()
            .unwrap()
            .contains("User name")
    );
    l.type_text("ana.r");
    l.press(&["enter"]);
    l.type_text("wrong-pin");
    l.press(&["enter"]);
    assert!(l.app.lock.is_some());
    assert!(
        !screen(&l.app, 80, 24).contains("wrong-pin"),
        "PINs are masked"
    );
    l.type_text(PIN);
    l.press(&["enter"]);
    assert!(l.app.lock.is_none());
    assert_eq!(l.app.actor.user, "ana.r");
    assert_eq!(l.app.role, Role::Supervisor);
    assert!(screen(&l.app, 80, 24).contains("Ana Ruiz (supervisor)"));
    backend = l.backend;
    drop(backend);
}

#[test]
fn the_crisis_key_works_on_the_lock_screen_without_showing_the_call() {
    let mut l = mid_call();
    l.press(&["ctrl-l", "f2"]);
    let text = screen(&l.app, 80, 24);
    assert!(text.contains("988"), "{text}");
    assert!(text.contains("Crisis lines"), "{text}");
    no_phi(&text);
    l.press(&["esc"]);
    assert!(!l.app.lock.as_ref().unwrap().crisis);
}

#[test]
fn lock_screen_snapshots() {
    let mut l = mid_call();
    l.press(&["ctrl-l"]);
    l.type_text("12");
    insta::assert_snapshot!("locked", screen(&l.app, 80, 24));
    let first = App::signing_in(
        Arc::new(Definitions::builtin().unwrap()),
        Keymap::default_map(),
        "desk-01",
        now(),
        true,
    );
    insta::assert_snapshot!("first_run", screen(&first, 80, 24));
}
