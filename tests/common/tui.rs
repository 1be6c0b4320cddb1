//! Driving the TUI's App without a terminal: keys through the real keymap, effects either
//! recorded (no disk) or run against an in-memory store.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Arc;

use accessline::domain::Definitions;
use accessline::security::{self, KdfParams, Role, Vault};
use accessline::store::{Actor, Store};
use accessline::tui::app::{Action, App, Effect};
use accessline::tui::effect::Backend;
use accessline::tui::keymap::{Key, Keymap};
use accessline::tui::theme::Theme;
use accessline::tui::ui;
use chrono::{DateTime, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use uuid::Uuid;

/// A fixed clock: Monday 23 November 2026, 10:15 in Los Angeles.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T18:15:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn draft_id() -> Uuid {
    Uuid::parse_str("0193a000-0000-7000-8000-000000000001").unwrap()
}

pub fn app() -> App {
    App::new(
        Arc::new(Definitions::builtin().unwrap()),
        Keymap::default_map(),
        Actor::new("screener.test", "desk-01"),
        now(),
    )
}

/// Key names as in the keymap file (`f2`, `pagedown`, `y`); a single character is itself.
pub fn key(name: &str) -> Key {
    name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The App with its effects recorded instead of run; a new draft gets a fixed id.
pub struct Harness {
    pub app: App,
    pub effects: Vec<Effect>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_app(app())
    }

    /// Signed in as a supervisor.
    pub fn supervisor() -> Harness {
        Harness::with_app(app().with_role(Role::Supervisor))
    }

    pub fn with_app(app: App) -> Harness {
        let mut h = Harness {
            app,
            effects: Vec::new(),
        };
        h.act(Action::HomeLoaded(Default::default()));
        h
    }

    pub fn act(&mut self, a: Action) {
        let mut queue: VecDeque<Effect> = self.app.update(a).into();
        while let Some(e) = queue.pop_front() {
            if let Effect::StartDraft { .. } = e {
                queue.extend(self.app.update(Action::DraftStarted(draft_id())));
            }
            self.effects.push(e);
        }
    }

    /// Press keys by name; a key the keymap does not bind does nothing.
    pub fn press(&mut self, keys: &[&str]) -> &mut Harness {
        for k in keys {
            if let Some(a) = self.app.translate(key(k)) {
                self.act(a);
            }
        }
        self
    }

    /// Type text character by character (as a terminal would send it).
    pub fn type_text(&mut self, text: &str) -> &mut Harness {
        for c in text.chars() {
            let k = Key {
                code: KeyCode::Char(c),
                ctrl: false,
                alt: false,
            };
            if let Some(a) = self.app.translate(k) {
                self.act(a);
            }
        }
        self
    }

    /// The fields saved so far (last write wins), as the store would hold them.
    pub fn saved(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        let mut out = std::collections::BTreeMap::new();
        for e in &self.effects {
            if let Effect::SaveField { key, value, .. } = e {
                out.insert(key.clone(), value.clone());
            }
        }
        out
    }

    pub fn call(&self) -> &accessline::tui::call::Call {
        &self.app.call.as_ref().expect("a call is open").call
    }
}

/// The PIN every test user is enrolled with.
pub const PIN: &str = "246810";

/// The App driven against a real (in-memory) store, with its user enrolled (PIN [`PIN`]) in
/// an in-memory key vault with cheap Argon2 parameters.
pub struct Live {
    pub app: App,
    pub backend: Backend,
}

impl Live {
    pub fn new() -> Live {
        Live::with_store(Store::open_in_memory().unwrap())
    }

    pub fn with_store(store: Store) -> Live {
        Live::as_user(store, "screener.test")
    }

    pub fn as_user(store: Store, user: &str) -> Live {
        Live::as_role(store, user, Role::Screener)
    }

    /// A supervisor on a fresh in-memory database.
    pub fn supervisor() -> Live {
        Live::as_role(
            Store::open_in_memory().unwrap(),
            "supervisor.test",
            Role::Supervisor,
        )
    }

    pub fn as_role(mut store: Store, user: &str, role: Role) -> Live {
        let mut vault = Vault::in_memory(KdfParams::insecure_for_tests());
        enrol(&mut vault, &mut store, user, role);
        let mut a = app().with_role(role);
        a.actor = Actor::new(user, "desk-01");
        let mut l = Live {
            app: a,
            backend: Backend::open(store, vault),
        };
        let init: VecDeque<Effect> = l.app.init().into();
        l.run(init);
        l
    }

    /// Enrol another user (PIN [`PIN`]) in this session's vault and database.
    pub fn enrol(&mut self, user: &str, role: Role) {
        let store = self.backend.store.as_mut().expect("a database");
        enrol(&mut self.backend.vault, store, user, role);
    }

    /// Lock the screen (the lock key) and sign in as `user` (enrolled first with `role`), as
    /// a colleague taking over the desk would.
    pub fn switch_user(&mut self, user: &str, role: Role) -> &mut Live {
        self.enrol(user, role);
        self.press(&["ctrl-l", "backtab", "ctrl-u"]);
        self.type_text(user);
        self.press(&["tab"]);
        self.type_text(PIN);
        self.press(&["enter"]);
        assert!(self.app.lock.is_none(), "{:?}", self.app.lock);
        assert_eq!(self.app.actor.user, user);
        self
    }

    pub fn store(&mut self) -> &mut Store {
        self.backend.store.as_mut().expect("a database")
    }

    pub fn act(&mut self, a: Action) {
        let q = self.app.update(a).into();
        self.run(q);
    }

    fn run(&mut self, mut queue: VecDeque<Effect>) {
        accessline::tui::drain(&mut self.app, &mut self.backend, &mut queue);
    }

    pub fn press(&mut self, keys: &[&str]) -> &mut Live {
        for k in keys {
            if let Some(a) = self.app.translate(key(k)) {
                let q = self.app.update(a).into();
                self.run(q);
            }
        }
        self
    }

    pub fn type_text(&mut self, text: &str) -> &mut Live {
        for c in text.chars() {
            let k = Key {
                code: KeyCode::Char(c),
                ctrl: false,
                alt: false,
            };
            if let Some(a) = self.app.translate(k) {
                let q = self.app.update(a).into();
                self.run(q);
            }
        }
        self
    }
}

fn enrol(vault: &mut Vault, store: &mut Store, user: &str, role: Role) {
    // A second program on the same database file: the user is already there.
    if vault.has_user(user) || store.user(user).unwrap().is_some() {
        return;
    }
    let admin = Actor::new("admin.test", "desk-01");
    let name = format!("Test {user}");
    security::enrol(vault, store, &admin, user, &name, role, PIN, now()).unwrap();
}

/// The screen as text, `width`×`height`, with the given theme.
pub fn render(app: &App, width: u16, height: u16, theme: &Theme) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| ui::render(app, theme, f)).unwrap();
    t
}

pub fn screen(app: &App, width: u16, height: u16) -> String {
    let t = render(app, width, height, &Theme::mono());
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            // A wide character covers the next cell too.
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            line.push_str(sym);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Something that takes key presses and shows an App (with or without a store).
pub trait Drive {
    fn app(&self) -> &App;
    fn press_keys(&mut self, keys: &[&str]);
}

impl Drive for Harness {
    fn app(&self) -> &App {
        &self.app
    }
    fn press_keys(&mut self, keys: &[&str]) {
        self.press(keys);
    }
}

impl Drive for Live {
    fn app(&self) -> &App {
        &self.app
    }
    fn press_keys(&mut self, keys: &[&str]) {
        self.press(keys);
    }
}

/// Answer every open question of the current step: yes/no items with `yes_no`, choices with
/// the option at position `choice` (Enter jumps to the first unanswered question).
pub fn answer_step(d: &mut impl Drive, yes_no: &str, choice: &str) {
    for _ in 0..80 {
        let defs = d.app().defs.clone();
        let v = d.app().call.as_ref().expect("a call is open");
        let qs = v.call.questions(&defs, v.step);
        let Some(at) = qs.iter().position(|(i, q)| v.call.answer(i, q).is_none()) else {
            return;
        };
        if v.focus_of(v.step) != at {
            d.press_keys(&["enter"]);
            continue;
        }
        let (inst, item) = &qs[at];
        let kind = defs.instrument(inst).unwrap().item(item).unwrap().kind;
        match kind {
            accessline::domain::instrument::ItemKind::YesNo => d.press_keys(&[yes_no]),
            accessline::domain::instrument::ItemKind::Choice => d.press_keys(&[choice]),
        }
    }
    panic!("the step did not complete");
}
