//! The screener's terminal UI (DESIGN section 2), built as STYLE.md describes:
//! keymap → Command → Action → `update` → Effect, with rendering that only reads state.

pub mod app;
pub mod call;
pub mod effect;
pub mod flow;
pub mod keymap;
pub mod review;
pub mod screens;
pub mod text_field;
pub mod theme;
pub mod ui;

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::execute;

use crate::domain::Definitions;
use crate::store::{Actor, Store};
use app::{Action, App};
use keymap::{Key, Keymap};
use theme::Theme;

/// Run effects until none are left, feeding each result back into the app.
pub fn drain(app: &mut App, store: &mut Store, queue: &mut VecDeque<app::Effect>) {
    while let Some(eff) = queue.pop_front() {
        let (actor, defs) = (app.actor.clone(), app.defs.clone());
        if let Some(action) = effect::run(eff, store, &actor, &defs) {
            queue.extend(app.update(action));
        }
    }
}

/// The event loop. The terminal is restored on exit and on panic (ratatui's hook); every
/// answer is already in the database, so a crash costs at most the keystroke in flight.
pub fn run(
    mut store: Store,
    defs: Definitions,
    keymap: Keymap,
    actor: Actor,
    review_mode: bool,
) -> io::Result<()> {
    let mut terminal = ratatui::init();
    let _ = execute!(io::stdout(), event::EnableBracketedPaste);
    let theme = Theme::from_env();
    let mut app = App::new(Arc::new(defs), keymap, actor, Utc::now());
    let mut queue: VecDeque<app::Effect> = app.init().into();
    if review_mode {
        queue.extend(review::open_queue(&mut app));
    }
    // Test aid: the end-to-end tests check that a panic restores the terminal, keeps the draft
    // and reaches the log; this key (only when the variable names one) panics on purpose.
    let panic_key: Option<Key> = std::env::var("ACCESSLINE_TEST_PANIC_KEY")
        .ok()
        .and_then(|k| k.parse().ok());
    let result = (|| -> io::Result<()> {
        loop {
            drain(&mut app, &mut store, &mut queue);
            if app.quit {
                return Ok(());
            }
            terminal.draw(|f| ui::render(&app, &theme, f))?;
            // Wake at least once a second for the call timer.
            if !event::poll(Duration::from_millis(1000))? {
                app.update(Action::Tick(Utc::now()));
                continue;
            }
            let ev = event::read()?;
            app.update(Action::Tick(Utc::now()));
            match ev {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    if panic_key == Some(Key::from_event(&k)) {
                        panic!("test panic requested with ACCESSLINE_TEST_PANIC_KEY");
                    }
                    if let Some(a) = app.translate(Key::from_event(&k)) {
                        queue.extend(app.update(a));
                    }
                }
                Event::Paste(text) => queue.extend(app.update(Action::Paste(text))),
                _ => {}
            }
        }
    })();
    let _ = execute!(io::stdout(), event::DisableBracketedPaste);
    ratatui::restore();
    result
}
