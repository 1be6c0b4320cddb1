//! What the application state is made of, and what flows in and out of `update`: the
//! [`Action`]s fed to it, the [`Effect`]s it asks for, and the screens, overlays and call view it
//! holds.

use super::*;

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
    pub(super) fn unsaved_effects(&mut self, id: Uuid) -> Vec<Effect> {
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
    pub(super) fn keep_unsaved(&mut self, key: String, value: serde_json::Value) {
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
            Step::Intake => crate::tui::call::IntakeField::ALL[self.intake_focus]
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

    pub(super) fn restore_cursor(&mut self, defs: &Definitions, c: &Cursor) {
        let Some(step) = Step::parse(&c.step) else {
            return;
        };
        self.step = step;
        match step {
            Step::Intake => {
                self.intake_focus = crate::tui::call::IntakeField::ALL
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
