//! The screener's terminal UI (DESIGN section 2), built as STYLE.md describes:
//! keymap → Command → Action → `update` → Effect, with rendering that only reads state.

pub mod app;
pub mod call;
pub mod effect;
pub mod flow;
pub mod keymap;
pub mod lock;
pub mod review;
pub mod screens;
pub mod text_field;
pub mod theme;
pub mod ui;

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::execute;

use crate::domain::Definitions;
use app::{Action, App};
use effect::{Backend, Who};
use keymap::{Key, Keymap};
use theme::Theme;

/// Run effects until none are left, feeding each result back into the app.
pub fn drain(app: &mut App, backend: &mut Backend, queue: &mut VecDeque<app::Effect>) {
    while let Some(eff) = queue.pop_front() {
        let who = Who {
            actor: app.actor.clone(),
            role: app.role,
        };
        let defs = app.defs.clone();
        if let Some(action) = effect::run(eff, backend, &who, &defs) {
            queue.extend(app.update(action));
        }
    }
}

/// One turn of the event loop: the clock first (call timer, idle lock, writes tried again),
/// then the terminal's event if there was one. Every effect is returned; none is dropped.
pub fn on_event(app: &mut App, ev: Option<&Event>, now: DateTime<Utc>) -> Vec<app::Effect> {
    let mut out = app.update(Action::Tick(now));
    match ev {
        Some(Event::Key(k)) if k.kind == KeyEventKind::Press => {
            if let Some(a) = app.translate(Key::from_event(k)) {
                out.extend(app.update(a));
            }
        }
        Some(Event::Paste(text)) => out.extend(app.update(Action::Paste(text.clone()))),
        _ => {}
    }
    out
}

/// How the program starts.
pub struct Start {
    pub device: String,
    /// `--user` / `ACCESSLINE_USER`: the sign-in form's user name, filled in.
    pub user: Option<String>,
    /// `accessline review`: open the queue once a supervisor has signed in.
    pub review: bool,
    pub idle_limit: chrono::TimeDelta,
}

/// The event loop. It starts on the sign-in screen; the database is opened by the sign-in.
/// The terminal is restored on exit and on panic (ratatui's hook); every answer is already in
/// the database, so a crash costs at most the keystroke in flight.
pub fn run(
    mut backend: Backend,
    defs: Definitions,
    keymap: Keymap,
    start: Start,
) -> io::Result<()> {
    let mut terminal = ratatui::init();
    let _ = execute!(io::stdout(), event::EnableBracketedPaste);
    let theme = Theme::from_env();
    let first_run = backend.vault.needs_setup();
    let mut app = App::signing_in(Arc::new(defs), keymap, &start.device, Utc::now(), first_run);
    app.idle_limit = start.idle_limit;
    app.review_on_sign_in = start.review;
    if let (Some(lock), Some(user), false) = (app.lock.as_mut(), &start.user, first_run) {
        lock.prefill_user(user);
    }
    let mut queue: VecDeque<app::Effect> = app.init().into();
    // Test aid: the end-to-end tests check that a panic restores the terminal, keeps the draft
    // and reaches the log; this key (only when the variable names one) panics on purpose.
    let panic_key: Option<Key> = std::env::var("ACCESSLINE_TEST_PANIC_KEY")
        .ok()
        .and_then(|k| k.parse().ok());
    let result = (|| -> io::Result<()> {
        loop {
            // A sign-in takes a moment (Argon2): show "Checking…" before it runs.
            if queue
                .iter()
                .any(|e| matches!(e, app::Effect::SignIn { .. } | app::Effect::FirstRun { .. }))
            {
                terminal.draw(|f| ui::render(&app, &theme, f))?;
            }
            drain(&mut app, &mut backend, &mut queue);
            if app.quit {
                return Ok(());
            }
            terminal.draw(|f| ui::render(&app, &theme, f))?;
            // Wake at least once a second for the call timer, the idle lock and retried writes.
            let ev = if event::poll(Duration::from_millis(1000))? {
                Some(event::read()?)
            } else {
                None
            };
            if let (Some(Event::Key(k)), Some(panic_key)) = (&ev, &panic_key)
                && k.kind == KeyEventKind::Press
                && Key::from_event(k) == *panic_key
            {
                panic!("test panic requested with ACCESSLINE_TEST_PANIC_KEY");
            }
            queue.extend(on_event(&mut app, ev.as_ref(), Utc::now()));
        }
    })();
    let _ = execute!(io::stdout(), event::DisableBracketedPaste);
    ratatui::restore();
    result
}
