//! The application state and its update function. `update` changes memory only and returns
//! [`Effect`]s; the event loop runs them (the only place with I/O) and feeds the results back
//! as [`Action`]s. So every screen can be tested with no terminal and no database.

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

/// Something that happened: a user command, typed text, or the result of an effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Command(Command),
    Insert(char),
    Paste(String),
    Tick(DateTime<Utc>),
    HomeLoaded(HomeData),
    DraftStarted(Uuid),
    DraftLoaded(Box<Draft>),
    Finalized(Finalized),
    QueueLoaded(Page),
    RecordLoaded(Box<RecordData>),
    Reviewed(Review),
    DashboardLoaded(Box<crate::store::Dashboard>),
    ReportsWritten(Vec<std::path::PathBuf>),
    /// A returned encounter, with the corrections already saved for its addendum.
    AmendLoaded(Box<EncounterRecord>, BTreeMap<String, serde_json::Value>),
    Saved,
    Failed(String),
    /// An answer could not be written (a full disk, say): it is kept and written again.
    SaveFailed {
        id: Uuid,
        key: String,
        value: serde_json::Value,
        why: String,
    },
    /// The draft could not be created; answers wait on screen and it is tried again.
    DraftStartFailed(String),
    /// A sign-in (at start-up or at the lock screen) succeeded.
    SignedIn(Principal),
    /// It did not: the reason, fit for the screen.
    SignInFailed(String),
}

/// Work for the outside world.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The home screen's lists and counts; "today" starts at `day_start` (the county's
    /// midnight by the app's own clock, so the counts agree with the calls' times).
    LoadHome {
        day_start: DateTime<Utc>,
    },
    StartDraft {
        received_at: DateTime<Utc>,
    },
    SaveField {
        id: Uuid,
        key: String,
        value: serde_json::Value,
    },
    SaveCursor {
        id: Uuid,
        cursor: Cursor,
    },
    LoadDraft(Uuid),
    Finalize {
        id: Uuid,
        payload: serde_json::Value,
        summary: Box<Summary>,
        /// The version of every definition used.
        versions: std::collections::BTreeMap<String, String>,
    },
    LoadQueue(Box<ListQuery>),
    /// Write the county's reports for a period (county dates, inclusive) beside the database.
    WriteReports {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        as_of: DateTime<Utc>,
    },
    LoadDashboard {
        from: DateTime<Utc>,
        before: DateTime<Utc>,
        /// Deadlines are judged at this moment.
        now: DateTime<Utc>,
    },
    LoadRecord(Uuid),
    SaveReview {
        id: Uuid,
        revision: u32,
        decision: Decision,
        note: Option<String>,
    },
    /// Load a returned encounter to answer it with an addendum.
    LoadAmend(Uuid),
    /// Save one correction of an addendum in progress.
    SaveAmendField {
        id: Uuid,
        base_revision: u32,
        key: String,
        value: serde_json::Value,
    },
    Addendum {
        id: Uuid,
        payload: serde_json::Value,
        summary: Box<Summary>,
        versions: std::collections::BTreeMap<String, String>,
        note: String,
    },
    Quit,
    /// Check a PIN: opens the database at start-up, or checks it against the open one.
    SignIn {
        user: String,
        pin: Secret,
    },
    /// A brand-new device: the first administrator, the device key, the encrypted database.
    FirstRun {
        user: String,
        display_name: String,
        pin: Secret,
    },
    /// An audit row for something that is not a write.
    Audit(AccessNote),
}

/// Audit rows the UI asks for (views are recorded where records are loaded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessNote {
    Lock,
    Denied(String),
}

/// How long without a key before the screen locks (DESIGN 6: automatic lock).
pub const DEFAULT_IDLE_LOCK: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// How long after a failed write (a full disk) it is tried again.
pub const RETRY_WRITES: chrono::TimeDelta = chrono::TimeDelta::seconds(3);

/// What the home screen shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HomeData {
    pub drafts: Vec<DraftSummary>,
    /// The newest returned calls (at most `RETURNED_SHOWN`).
    pub returned: Vec<Returned>,
    /// How many calls are returned in all.
    pub returned_total: u64,
    pub today: DayCounts,
    /// One line on sync state ("sync: 12 pending · 340 exported · …").
    pub sync: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub level: Level,
}

/// Something drawn over the screen that takes the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Crisis {
        focus: usize,
    },
    ConfirmFinalize,
    ConfirmResume(Uuid),
    /// A supervisor's decision, with its note (required to return).
    Decision {
        decision: Decision,
        note: TextField,
    },
    /// What this addendum changes (required).
    AddendumNote(TextField),
}

/// A finalized encounter being corrected after a supervisor returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amending {
    pub revision: u32,
    pub supervisor_note: String,
}

/// The placement screen's sub-mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementMode {
    View,
    /// Moving the highlight to choose another cell.
    Choosing(crate::domain::quadrant::CellId),
    /// Typing the override's reason.
    Reason,
}

/// A call on screen: the call and where the screener is in it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallView {
    pub call: Call,
    pub step: Step,
    pub intake_focus: usize,
    /// Focus on each question step, by the question's `instrument.item`.
    pub question_focus: [usize; 3],
    pub placement: PlacementMode,
    pub referral_focus: usize,
    pub notices_focus: usize,
    /// Answers not written yet: waiting for the draft's id (between "new call" and the draft
    /// existing), or refused by the store (a full disk) and waiting to be written again.
    pub unsaved: Vec<(String, serde_json::Value)>,
    /// Set while a write failed: when to try the draft or the unsaved answers again.
    pub retry_at: Option<DateTime<Utc>>,
    /// A write failed and the screener has not yet been told that all is saved again.
    pub write_failed: bool,
    /// Set when this is an addendum to a finalized encounter (edits are not drafts).
    pub amending: Option<Amending>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Home,
    Call,
    Queue,
    Record,
    Dashboard,
}

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

    /// The contexts a key is looked up in, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        if self.lock.is_some() {
            return vec![Context::Global, Context::Text];
        }
        match &self.overlay {
            Some(Overlay::Help { .. }) => return vec![Context::Help, Context::Global],
            Some(Overlay::Crisis { .. }) => {
                return vec![Context::Crisis, Context::Global, Context::Navigation];
            }
            Some(Overlay::ConfirmFinalize | Overlay::ConfirmResume(_)) => {
                return vec![Context::Dialog, Context::Global];
            }
            Some(Overlay::Decision { .. } | Overlay::AddendumNote(_)) => {
                return vec![Context::Global, Context::Text];
            }
            None => {}
        }
        if self.text_focused() {
            return vec![Context::Global, Context::Text];
        }
        match self.screen {
            Screen::Queue => return vec![Context::Global, Context::Queue, Context::Navigation],
            Screen::Record => return vec![Context::Global, Context::Record, Context::Navigation],
            Screen::Dashboard => {
                return vec![Context::Global, Context::Dashboard, Context::Navigation];
            }
            _ => {}
        }
        let screen = match (&self.screen, self.call.as_ref().map(|c| c.step)) {
            (Screen::Home | Screen::Queue | Screen::Record | Screen::Dashboard, _)
            | (Screen::Call, None) => Context::Home,
            (Screen::Call, Some(Step::Intake)) => Context::Intake,
            (Screen::Call, Some(s)) if s.is_questions() => Context::Instrument,
            (Screen::Call, Some(Step::Placement)) => Context::Placement,
            (Screen::Call, Some(Step::Referral)) => Context::Referral,
            (Screen::Call, Some(Step::Notices)) => Context::Notices,
            (Screen::Call, Some(_)) => Context::Summary,
        };
        vec![Context::Global, screen, Context::Navigation]
    }

    /// Key → action, through the keymap; a focused text field gets printable keys.
    pub fn translate(&self, key: Key) -> Option<Action> {
        for ctx in self.contexts() {
            if let Some(cmd) = self.keymap.lookup(ctx, &key) {
                return Some(Action::Command(cmd));
            }
        }
        if self.text_focused() {
            return key.printable().map(Action::Insert);
        }
        None
    }

    /// Is a text field taking the keys?
    pub fn text_focused(&self) -> bool {
        if let Some(l) = &self.lock {
            return !l.crisis;
        }
        match &self.overlay {
            Some(Overlay::Decision { .. } | Overlay::AddendumNote(_)) => return true,
            Some(_) => return false,
            None => {}
        }
        if self.screen == Screen::Queue {
            return self.queue.as_ref().is_some_and(|q| q.input.is_some());
        }
        if self.screen != Screen::Call {
            return false;
        }
        let Some(v) = &self.call else {
            return false;
        };
        match v.step {
            Step::Intake => {
                let f = super::call::IntakeField::ALL[v.intake_focus];
                v.call.intake.text(f).is_some()
                    && !(f == super::call::IntakeField::Name && v.call.intake.anonymous)
            }
            Step::Placement => v.placement == PlacementMode::Reason,
            _ => false,
        }
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

    fn command(&mut self, cmd: Command) -> Vec<Effect> {
        if cmd == Command::Lock {
            return self.lock_screen(LockReason::Manual);
        }
        // Overlays first: they own the keys while open.
        match self.overlay.clone() {
            Some(Overlay::Help { scroll }) => {
                match cmd {
                    Command::Cancel | Command::Help => self.overlay = None,
                    Command::Down => {
                        self.overlay = Some(Overlay::Help {
                            scroll: scroll.saturating_add(1),
                        })
                    }
                    Command::Up => {
                        self.overlay = Some(Overlay::Help {
                            scroll: scroll.saturating_sub(1),
                        })
                    }
                    Command::Crisis => return self.open_crisis(),
                    Command::Quit => return self.quit(),
                    _ => {}
                }
                return Vec::new();
            }
            Some(Overlay::Crisis { focus }) => return super::flow::crisis_key(self, focus, cmd),
            Some(Overlay::Decision { .. }) => {
                if cmd == Command::Crisis {
                    self.overlay = None;
                    return self.open_crisis();
                }
                return review::decision_key(self, cmd);
            }
            Some(Overlay::AddendumNote(_)) => {
                if cmd == Command::Crisis {
                    self.overlay = None;
                    return self.open_crisis();
                }
                return self.addendum_key(cmd);
            }
            Some(Overlay::ConfirmFinalize) => {
                return match cmd {
                    Command::Yes | Command::Confirm => {
                        self.overlay = None;
                        self.finalize()
                    }
                    Command::No | Command::Cancel => {
                        self.overlay = None;
                        Vec::new()
                    }
                    Command::Crisis => self.open_crisis(),
                    _ => Vec::new(),
                };
            }
            Some(Overlay::ConfirmResume(id)) => {
                return match cmd {
                    Command::Yes | Command::Confirm => {
                        self.overlay = None;
                        vec![Effect::LoadDraft(id)]
                    }
                    Command::No | Command::Cancel => {
                        self.overlay = None;
                        Vec::new()
                    }
                    Command::Crisis => {
                        self.overlay = None;
                        self.open_crisis()
                    }
                    _ => Vec::new(),
                };
            }
            None => {}
        }
        match cmd {
            Command::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                Vec::new()
            }
            Command::Crisis => self.open_crisis(),
            Command::Quit => self.quit(),
            _ if self.screen == Screen::Home => self.home_key(cmd),
            _ if self.screen == Screen::Queue => review::queue_key(self, cmd),
            _ if self.screen == Screen::Record => review::record_key(self, cmd),
            _ if self.screen == Screen::Dashboard => review::dashboard_key(self, cmd),
            _ => super::flow::call_key(self, cmd),
        }
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.quit = true;
        vec![Effect::Quit]
    }

    fn home_key(&mut self, cmd: Command) -> Vec<Effect> {
        let items = self.home.drafts.len() + self.home.returned.len();
        match cmd {
            Command::NewCall => self.new_call(),
            Command::Refresh => vec![self.load_home()],
            Command::Review => review::open_queue(self),
            Command::Down | Command::NextField => {
                if items > 0 {
                    self.home_focus = (self.home_focus + 1).min(items - 1);
                }
                Vec::new()
            }
            Command::Up | Command::PrevField => {
                self.home_focus = self.home_focus.saturating_sub(1);
                Vec::new()
            }
            Command::Confirm => {
                if let Some(d) = self.home.drafts.get(self.home_focus) {
                    return vec![Effect::LoadDraft(d.encounter_id)];
                }
                match self
                    .home
                    .returned
                    .get(self.home_focus - self.home.drafts.len())
                {
                    Some(r) => vec![Effect::LoadAmend(r.encounter_id)],
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// Start a call: the draft is created at once so the first keystroke is saved.
    pub fn new_call(&mut self) -> Vec<Effect> {
        let call = Call::new(&self.defs, self.now);
        self.call = Some(CallView::new(call));
        self.screen = Screen::Call;
        self.status = None;
        vec![Effect::StartDraft {
            received_at: self.now,
        }]
    }

    fn open_draft(&mut self, draft: &Draft) {
        let (call, skipped) = Call::from_fields(
            &self.defs,
            draft.encounter_id,
            draft.received_at,
            &draft.fields,
        );
        let mut view = CallView::new(call);
        if let Some(c) = &draft.cursor {
            view.restore_cursor(&self.defs, c);
        }
        let opened_crisis = view.call.crisis.opened && view.call.crisis.actions.is_empty();
        self.call = Some(view);
        self.screen = Screen::Call;
        if !skipped.is_empty() {
            self.set_status(
                Level::Warning,
                format!(
                    "Resumed; {} saved field(s) could not be read: {}",
                    skipped.len(),
                    skipped.join(", ")
                ),
            );
        } else {
            self.set_status(Level::Info, "Call resumed where you left it.");
        }
        if opened_crisis {
            self.overlay = Some(Overlay::Crisis { focus: 0 });
        }
    }

    /// Open a returned encounter as an addendum: its content as finalized, on the summary,
    /// with the supervisor's note in view.
    fn open_amend(
        &mut self,
        rec: &EncounterRecord,
        corrections: &BTreeMap<String, serde_json::Value>,
    ) {
        let note = self
            .home
            .returned
            .iter()
            .find(|r| r.encounter_id == rec.encounter_id)
            .map(|r| r.note.clone())
            .unwrap_or_default();
        let payload: serde_json::Value = rec
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        let call = Call::from_payload(
            &self.defs,
            rec.encounter_id,
            rec.summary.received_at,
            &payload,
            corrections,
        );
        let mut view = CallView::new(call);
        view.step = Step::Summary;
        view.amending = Some(Amending {
            revision: rec.revision,
            supervisor_note: note.clone(),
        });
        self.call = Some(view);
        self.screen = Screen::Call;
        self.set_status(
            Level::Warning,
            format!("Returned: “{note}”. Correct the call, then f to add an addendum."),
        );
    }

    fn addendum_key(&mut self, cmd: Command) -> Vec<Effect> {
        let Some(Overlay::AddendumNote(note)) = self.overlay.as_mut() else {
            return Vec::new();
        };
        match cmd {
            Command::Confirm => {
                let text = note.value().trim().to_owned();
                if text.is_empty() {
                    self.set_status(Level::Error, "Say what this addendum changes.");
                    return Vec::new();
                }
                self.overlay = None;
                let Some(v) = &self.call else {
                    return Vec::new();
                };
                let Some(id) = v.call.id else {
                    return Vec::new();
                };
                vec![Effect::Addendum {
                    id,
                    payload: v.call.payload(),
                    summary: Box::new(v.call.summary()),
                    versions: self.defs.versions(),
                    note: text,
                }]
            }
            Command::Cancel => {
                self.overlay = None;
                Vec::new()
            }
            other => {
                note.command(other);
                Vec::new()
            }
        }
    }

    /// Open the crisis protocol (starting a call first when there is none).
    pub fn open_crisis(&mut self) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.call.is_none() || self.screen != Screen::Call {
            out.extend(self.new_call());
        }
        out.extend(super::flow::mark_crisis(self));
        self.overlay = Some(Overlay::Crisis { focus: 0 });
        out
    }

    /// Save one field now (or as soon as the draft exists).
    pub fn save(&mut self, key: impl Into<String>, value: serde_json::Value) -> Vec<Effect> {
        let Some(v) = self.call.as_mut() else {
            return Vec::new();
        };
        let key = key.into();
        // A newer value replaces one still waiting to be written.
        v.unsaved.retain(|(k, _)| *k != key);
        if let Some(a) = &v.amending {
            // Corrections are saved as entered; the addendum is written whole when added.
            return match v.call.id {
                Some(id) => vec![Effect::SaveAmendField {
                    id,
                    base_revision: a.revision,
                    key,
                    value,
                }],
                None => Vec::new(),
            };
        }
        match v.call.id {
            Some(id) => vec![Effect::SaveField { id, key, value }],
            None => {
                v.unsaved.push((key, value));
                Vec::new()
            }
        }
    }

    /// A write went through: if earlier ones had failed and nothing is waiting any more, say so.
    fn after_write(&mut self) {
        let Some(v) = self.call.as_mut() else {
            return;
        };
        if v.write_failed && v.retry_at.is_none() && v.unsaved.is_empty() {
            v.write_failed = false;
            self.set_status(
                Level::Info,
                "Saved: there is room again, and everything on screen is in the database.",
            );
        }
    }

    /// After a failed write: every few seconds, start the draft again or write the answers
    /// that were refused. What fails again comes back as another failure.
    fn retry_writes(&mut self) -> Vec<Effect> {
        let now = self.now;
        let Some(v) = self.call.as_mut() else {
            return Vec::new();
        };
        if v.retry_at.is_none_or(|at| now < at) {
            return Vec::new();
        }
        v.retry_at = None;
        let Some(id) = v.call.id else {
            if v.amending.is_some() {
                return Vec::new();
            }
            return vec![Effect::StartDraft {
                received_at: v.call.received_at,
            }];
        };
        v.unsaved_effects(id)
    }

    pub fn cursor_effect(&self) -> Vec<Effect> {
        let Some(v) = &self.call else {
            return Vec::new();
        };
        if v.amending.is_some() {
            return Vec::new();
        }
        match v.call.id {
            Some(id) => vec![Effect::SaveCursor {
                id,
                cursor: v.cursor(&self.defs),
            }],
            None => Vec::new(),
        }
    }

    fn finalize(&mut self) -> Vec<Effect> {
        let Some(v) = &self.call else {
            return Vec::new();
        };
        let blockers = v.call.blockers(&self.defs);
        if let Some((step, why)) = blockers.first() {
            self.set_status(
                Level::Error,
                format!("Cannot finalize: {why} ({})", step.title()),
            );
            return Vec::new();
        }
        let Some(id) = v.call.id else {
            self.set_status(Level::Error, "Cannot finalize: the draft is not saved yet.");
            return Vec::new();
        };
        vec![Effect::Finalize {
            id,
            payload: v.call.payload(),
            summary: Box::new(v.call.summary()),
            versions: self.defs.versions(),
        }]
    }

    /// How long the call has been going.
    pub fn call_elapsed(&self) -> Option<chrono::Duration> {
        let v = self.call.as_ref()?;
        Some((self.now - v.call.received_at).max(chrono::Duration::zero()))
    }
}

impl CallView {
    pub fn new(call: Call) -> CallView {
        CallView {
            call,
            step: Step::Intake,
            intake_focus: 0,
            question_focus: [0; 3],
            placement: PlacementMode::View,
            referral_focus: 0,
            notices_focus: 0,
            unsaved: Vec::new(),
            retry_at: None,
            write_failed: false,
            amending: None,
        }
    }

    /// Answers on screen that are not in the database because a write failed.
    pub fn not_saved(&self) -> usize {
        if self.retry_at.is_some() {
            self.unsaved.len().max(usize::from(self.call.id.is_none()))
        } else {
            0
        }
    }

    /// Write every waiting answer now (as addendum corrections when amending).
    fn unsaved_effects(&mut self, id: Uuid) -> Vec<Effect> {
        let base_revision = self.amending.as_ref().map(|a| a.revision);
        self.unsaved
            .drain(..)
            .map(|(key, value)| match base_revision {
                Some(base_revision) => Effect::SaveAmendField {
                    id,
                    base_revision,
                    key,
                    value,
                },
                None => Effect::SaveField { id, key, value },
            })
            .collect()
    }

    /// Remember an answer to write later (the newest value of a key wins).
    fn keep_unsaved(&mut self, key: String, value: serde_json::Value) {
        self.unsaved.retain(|(k, _)| *k != key);
        self.unsaved.push((key, value));
    }

    fn question_slot(step: Step) -> Option<usize> {
        match step {
            Step::Safety => Some(0),
            Step::Screening => Some(1),
            Step::Assessment => Some(2),
            _ => None,
        }
    }

    pub fn focus_of(&self, step: Step) -> usize {
        CallView::question_slot(step).map_or(0, |i| self.question_focus[i])
    }

    pub fn set_focus(&mut self, step: Step, focus: usize) {
        if let Some(i) = CallView::question_slot(step) {
            self.question_focus[i] = focus;
        }
    }

    /// Where the screener is, as saved for resume.
    pub fn cursor(&self, defs: &Definitions) -> Cursor {
        let focus = match self.step {
            Step::Intake => super::call::IntakeField::ALL[self.intake_focus]
                .key()
                .to_owned(),
            s if s.is_questions() => self
                .call
                .questions(defs, s)
                .get(self.focus_of(s))
                .map(|(i, q)| format!("{i}.{q}"))
                .unwrap_or_default(),
            Step::Referral => self.referral_focus.to_string(),
            Step::Notices => self.notices_focus.to_string(),
            _ => String::new(),
        };
        Cursor {
            step: self.step.id().to_owned(),
            focus,
        }
    }

    fn restore_cursor(&mut self, defs: &Definitions, c: &Cursor) {
        let Some(step) = Step::parse(&c.step) else {
            return;
        };
        self.step = step;
        match step {
            Step::Intake => {
                self.intake_focus = super::call::IntakeField::ALL
                    .iter()
                    .position(|f| f.key() == c.focus)
                    .unwrap_or(0);
            }
            s if s.is_questions() => {
                let at = self
                    .call
                    .questions(defs, s)
                    .iter()
                    .position(|(i, q)| format!("{i}.{q}") == c.focus)
                    .unwrap_or(0);
                self.set_focus(s, at);
            }
            Step::Referral => self.referral_focus = c.focus.parse().unwrap_or(0),
            Step::Notices => self.notices_focus = c.focus.parse().unwrap_or(0),
            _ => {}
        }
    }
}
