//! The application state and its update function. `update` changes memory only and returns
//! [`Effect`]s; the event loop runs them (the only place with I/O) and feeds the results back
//! as [`Action`]s. So every screen can be tested with no terminal and no database.

mod calls;
mod commands;
mod keys;
mod types;
pub use types::*;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::call::{Call, Step};
use super::keymap::{Command, Context, Key, Keymap};
use super::lock::{LockReason, LockView, Secret};
use super::review::{self, QueueView, RecordData, RecordView};
use super::text_field::TextField;
use crate::domain::Definitions;
use crate::security::{Principal, Role};
use crate::store::{
    Actor, Cursor, DayCounts, Decision, Draft, DraftSummary, EncounterRecord, Finalized, ListQuery,
    Page, Returned, Review, Summary,
};

pub struct App {
    pub defs: Arc<Definitions>,
    pub keymap: Keymap,
    pub actor: Actor,
    /// The signed-in user's role and name (shown in the header).
    pub role: Role,
    pub display_name: String,
    /// The sign-in / lock screen; while it is up nothing else is drawn or reachable.
    pub lock: Option<LockView>,
    /// The last key press, for the idle lock.
    pub last_input: DateTime<Utc>,
    pub idle_limit: chrono::TimeDelta,
    /// `accessline review`: open the queue once a supervisor has signed in.
    pub review_on_sign_in: bool,
    pub now: DateTime<Utc>,
    pub screen: Screen,
    pub home: HomeData,
    pub home_focus: usize,
    pub call: Option<CallView>,
    pub queue: Option<QueueView>,
    pub record: Option<RecordView>,
    pub dashboard: Option<review::DashboardView>,
    pub overlay: Option<Overlay>,
    pub status: Option<Status>,
    pub quit: bool,
    /// The resume offer is made once, on the first home load.
    offered_resume: bool,
}

impl App {
    /// Reload the home screen, with "today" by the app's clock (the same clock that stamps
    /// the calls), not the wall clock of whoever runs the effect.
    pub fn load_home(&self) -> Effect {
        Effect::LoadHome {
            day_start: crate::domain::clock::start_of_county_day(self.now),
        }
    }

    /// An App with `actor` signed in as a screener (tests and tools; the program itself starts
    /// with [`App::signing_in`]).
    pub fn new(defs: Arc<Definitions>, keymap: Keymap, actor: Actor, now: DateTime<Utc>) -> App {
        App {
            defs,
            keymap,
            display_name: actor.user.clone(),
            actor,
            role: Role::Screener,
            lock: None,
            last_input: now,
            idle_limit: DEFAULT_IDLE_LOCK,
            review_on_sign_in: false,
            now,
            screen: Screen::Home,
            home: HomeData::default(),
            home_focus: 0,
            call: None,
            queue: None,
            record: None,
            dashboard: None,
            overlay: None,
            status: None,
            quit: false,
            offered_resume: false,
        }
    }

    /// The program's start: the sign-in screen (or, on a new device, the first administrator's
    /// form); `actor` carries the device, the user comes from the sign-in.
    pub fn signing_in(
        defs: Arc<Definitions>,
        keymap: Keymap,
        device: &str,
        now: DateTime<Utc>,
        first_run: bool,
    ) -> App {
        let mut app = App::new(defs, keymap, Actor::new("", device), now);
        app.display_name.clear();
        let reason = if first_run {
            LockReason::FirstRun
        } else {
            LockReason::SignIn
        };
        app.lock = Some(LockView::new(reason, None));
        app
    }

    pub fn with_role(mut self, role: Role) -> App {
        self.role = role;
        self
    }

    /// Effects to run at start-up (none until someone has signed in).
    pub fn init(&self) -> Vec<Effect> {
        if self.signed_in() {
            vec![self.load_home()]
        } else {
            Vec::new()
        }
    }

    pub fn signed_in(&self) -> bool {
        !self.actor.user.is_empty()
    }

    /// Lock the screen: everything stays in memory (and every answer is already saved), the
    /// screen shows nothing of it until a PIN is given.
    pub fn lock_screen(&mut self, reason: LockReason) -> Vec<Effect> {
        if self.lock.is_some() || !self.signed_in() {
            return Vec::new();
        }
        self.lock = Some(LockView::new(reason, Some(self.actor.user.clone())));
        // Every answer is saved as typed; the place in the call is saved too.
        let mut out = self.cursor_effect();
        out.push(Effect::Audit(AccessNote::Lock));
        out
    }

    /// After a sign-in: the same user gets their session back exactly as it was; anyone else
    /// starts from their own home screen, with nothing of the previous session.
    fn signed_in_as(&mut self, p: Principal) -> Vec<Effect> {
        let resumed = self
            .lock
            .as_ref()
            .and_then(|l| l.locked_user.as_deref())
            .is_some_and(|u| u == p.user);
        self.lock = None;
        self.last_input = self.now;
        self.role = p.role;
        self.display_name = p.display_name;
        if resumed {
            return Vec::new();
        }
        self.actor.user = p.user;
        self.screen = Screen::Home;
        self.home = HomeData::default();
        self.home_focus = 0;
        self.call = None;
        self.queue = None;
        self.record = None;
        self.dashboard = None;
        self.overlay = None;
        self.status = None;
        self.offered_resume = false;
        let mut out = vec![self.load_home()];
        if std::mem::take(&mut self.review_on_sign_in) {
            out.extend(review::open_queue(self));
        }
        out
    }

    pub fn set_status(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            level,
        });
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        if matches!(
            action,
            Action::Insert(_) | Action::Paste(_) | Action::Command(_)
        ) {
            self.last_input = self.now;
        }
        match action {
            Action::Tick(now) => {
                self.now = now;
                if now - self.last_input >= self.idle_limit {
                    return self.lock_screen(LockReason::Idle);
                }
                self.retry_writes()
            }
            Action::SignedIn(p) => self.signed_in_as(p),
            Action::SignInFailed(why) => {
                if let Some(l) = self.lock.as_mut() {
                    l.failed(why);
                }
                Vec::new()
            }
            Action::Insert(_) | Action::Paste(_) | Action::Command(_) if self.lock.is_some() => {
                let lock = self.lock.as_mut().expect("locked");
                match action {
                    Action::Insert(c) => lock.insert(c),
                    Action::Paste(text) => lock.paste(&text),
                    Action::Command(cmd) => return super::lock::command(self, cmd),
                    _ => {}
                }
                Vec::new()
            }
            Action::HomeLoaded(data) => {
                self.home = data;
                let items = self.home.drafts.len() + self.home.returned.len();
                self.home_focus = self.home_focus.min(items.saturating_sub(1));
                if !self.offered_resume && self.screen == Screen::Home {
                    self.offered_resume = true;
                    if let Some(d) = self.home.drafts.first() {
                        self.overlay = Some(Overlay::ConfirmResume(d.encounter_id));
                    }
                }
                Vec::new()
            }
            Action::DraftStarted(id) => {
                let Some(v) = self.call.as_mut() else {
                    return Vec::new();
                };
                v.call.id = Some(id);
                v.retry_at = None;
                self.after_write();
                let Some(v) = self.call.as_mut() else {
                    return Vec::new();
                };
                let mut out = v.unsaved_effects(id);
                out.extend(self.cursor_effect());
                out
            }
            Action::DraftLoaded(draft) => {
                self.open_draft(&draft);
                Vec::new()
            }
            Action::Finalized(done) => {
                self.call = None;
                self.screen = Screen::Home;
                self.overlay = None;
                self.set_status(
                    Level::Info,
                    format!(
                        "Call finalized and locked (revision {}, queued for sync as #{}).",
                        done.revision, done.outbox_seq
                    ),
                );
                vec![self.load_home()]
            }
            Action::QueueLoaded(page) => {
                review::queue_loaded(self, page);
                Vec::new()
            }
            Action::RecordLoaded(data) => {
                review::record_loaded(self, *data);
                Vec::new()
            }
            Action::Reviewed(r) => review::reviewed(self, r),
            Action::DashboardLoaded(d) => {
                if let Some(v) = self.dashboard.as_mut() {
                    v.data = Some(*d);
                }
                Vec::new()
            }
            Action::AmendLoaded(rec, corrections) => {
                self.open_amend(&rec, &corrections);
                Vec::new()
            }
            Action::ReportsWritten(paths) => {
                let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                self.set_status(Level::Info, format!("Written: {}", names.join(", ")));
                Vec::new()
            }
            Action::Saved => {
                self.after_write();
                Vec::new()
            }
            Action::Failed(why) => {
                self.set_status(Level::Error, why);
                Vec::new()
            }
            Action::SaveFailed {
                id,
                key,
                value,
                why,
            } => {
                let now = self.now;
                let Some(v) = self.call.as_mut().filter(|v| v.call.id == Some(id)) else {
                    // The call was left meanwhile; its other answers were saved.
                    self.set_status(Level::Error, format!("NOT SAVED ({key}): {why}"));
                    return Vec::new();
                };
                v.keep_unsaved(key, value);
                v.retry_at = Some(now + RETRY_WRITES);
                v.write_failed = true;
                self.set_status(
                    Level::Error,
                    format!("NOT SAVED: {why} — kept on screen, tried again every few seconds"),
                );
                Vec::new()
            }
            Action::DraftStartFailed(why) => {
                let now = self.now;
                if let Some(v) = self.call.as_mut().filter(|v| v.call.id.is_none()) {
                    v.retry_at = Some(now + RETRY_WRITES);
                    v.write_failed = true;
                }
                self.set_status(
                    Level::Error,
                    format!(
                        "Call NOT SAVED yet: {why} — kept on screen, tried again every few seconds"
                    ),
                );
                Vec::new()
            }
            Action::Insert(c) => match self.side_text() {
                Some(field) => {
                    field.insert(c);
                    Vec::new()
                }
                None => self.with_call(|app| super::flow::insert(app, c)),
            },
            Action::Paste(text) => match self.side_text() {
                Some(field) => {
                    field.paste(&text);
                    Vec::new()
                }
                None => self.with_call(|app| super::flow::paste(app, &text)),
            },
            Action::Command(cmd) => self.command(cmd),
        }
    }

    /// A text field outside the call (a dialog's note, the queue's search) that has focus.
    fn side_text(&mut self) -> Option<&mut TextField> {
        match self.overlay.as_mut() {
            Some(Overlay::Decision { note, .. }) => return Some(note),
            Some(Overlay::AddendumNote(note)) => return Some(note),
            _ => {}
        }
        if self.screen == Screen::Queue {
            return self
                .queue
                .as_mut()
                .and_then(|q| q.input.as_mut())
                .map(|(_, f)| f);
        }
        None
    }

    fn with_call(&mut self, f: impl FnOnce(&mut App) -> Vec<Effect>) -> Vec<Effect> {
        if self.call.is_some() && self.screen == Screen::Call {
            f(self)
        } else {
            Vec::new()
        }
    }
}
