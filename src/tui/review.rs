//! Supervisor review: the queue (filters, search, sort, keyset paging), the record, and
//! decisions (approve, or return with a required note).

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::app::{AccessNote, App, Effect, Level, Overlay, Screen};
use super::keymap::Command;
use super::text_field::TextField;
use crate::domain::clock::county_time;
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;
use crate::store::{
    AuditEntry, Decision, EncounterRecord, ListCursor, ListQuery, ListRow, Page, Review,
    ReviewState, Risk, SortBy, Status, SyncState,
};

mod dashboard;
mod queue_keys;
pub use dashboard::{DashboardView, dashboard_key, open_dashboard};
pub use queue_keys::queue_key;

/// The received-date filter, relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateRange {
    #[default]
    Any,
    Today,
    Week,
    Month,
    Year,
}

impl DateRange {
    pub fn label(self) -> &'static str {
        match self {
            DateRange::Any => "any date",
            DateRange::Today => "today",
            DateRange::Week => "last 7 days",
            DateRange::Month => "last 30 days",
            DateRange::Year => "last 365 days",
        }
    }

    fn next(self) -> DateRange {
        match self {
            DateRange::Any => DateRange::Today,
            DateRange::Today => DateRange::Week,
            DateRange::Week => DateRange::Month,
            DateRange::Month => DateRange::Year,
            DateRange::Year => DateRange::Any,
        }
    }

    /// The first moment in range (county midnight `days` ago), or none.
    pub fn since(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let days = match self {
            DateRange::Any => return None,
            DateRange::Today => 0,
            DateRange::Week => 6,
            DateRange::Month => 29,
            DateRange::Year => 364,
        };
        let today = county_time(now).date_naive();
        Some(crate::domain::clock::county_midnight(
            today - chrono::Days::new(days),
        ))
    }
}

/// Which text the queue's input line edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Search,
    Screener,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueView {
    pub query: ListQuery,
    pub dates: DateRange,
    pub rows: Vec<ListRow>,
    pub next: Option<ListCursor>,
    /// Where each earlier page started (for PgUp).
    pub earlier: Vec<Option<ListCursor>>,
    pub focus: usize,
    pub input: Option<(Input, TextField)>,
    pub loading: bool,
}

impl QueueView {
    pub fn new() -> QueueView {
        let mut query = ListQuery {
            limit: 100,
            ..ListQuery::default()
        };
        // The supervisor's day starts with what is waiting for review.
        query.filter.review_state = Some(ReviewState::Awaiting);
        QueueView {
            query,
            dates: DateRange::Any,
            rows: Vec::new(),
            next: None,
            earlier: Vec::new(),
            focus: 0,
            input: None,
            loading: false,
        }
    }

    pub fn selected(&self) -> Option<&ListRow> {
        self.rows.get(self.focus)
    }

    /// The filters in words, for the filter line.
    pub fn describe(&self) -> Vec<String> {
        let f = &self.query.filter;
        let mut out = Vec::new();
        out.push(self.dates.label().to_owned());
        if let Some(s) = f.review_state {
            out.push(
                match s {
                    ReviewState::Awaiting => "awaiting review",
                    ReviewState::Approved => "approved",
                    ReviewState::NeedsChanges => "returned",
                }
                .to_owned(),
            );
        }
        if let Some(s) = f.status {
            out.push(s.as_str().to_owned());
        }
        if let Some(r) = f.risk {
            out.push(format!("risk {r}"));
        }
        if let Some(t) = f.triage {
            out.push(t.as_str().to_owned());
        }
        if let Some(c) = f.cell {
            out.push(c.id());
        }
        if let Some(l) = &f.language {
            out.push(format!("lang {l}"));
        }
        if let Some(s) = f.sync_state {
            out.push(format!("sync {s}"));
        }
        if let Some(s) = &f.screener {
            out.push(format!("screener {s}"));
        }
        if let Some(t) = &f.text {
            out.push(format!("“{t}”"));
        }
        out.push(format!(
            "sorted by {}",
            match self.query.sort {
                SortBy::Time => "time",
                SortBy::Risk => "risk",
                SortBy::Deadline => "deadline",
            }
        ));
        out
    }
}

impl Default for QueueView {
    fn default() -> Self {
        QueueView::new()
    }
}

/// Everything the record screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordData {
    pub revisions: Vec<EncounterRecord>,
    pub reviews: Vec<Review>,
    pub audit: Vec<AuditEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordView {
    pub id: Uuid,
    pub data: Option<RecordData>,
    pub scroll: u16,
    /// The last scroll position that still shows text (set when the record loads).
    pub max_scroll: u16,
}

impl RecordView {
    pub fn current(&self) -> Option<&EncounterRecord> {
        self.data.as_ref()?.revisions.last()
    }
}

/// Cycle an optional value through a list: none → first → … → last → none.
fn cycle<T: Clone + PartialEq>(current: &Option<T>, all: &[T]) -> Option<T> {
    match current {
        None => all.first().cloned(),
        Some(c) => {
            let at = all.iter().position(|x| x == c);
            at.and_then(|i| all.get(i + 1)).cloned()
        }
    }
}

pub fn open_queue(app: &mut App) -> Vec<Effect> {
    if !app.role.can_review() {
        app.set_status(
            Level::Error,
            format!(
                "Review needs the supervisor role; you are signed in as {}.",
                app.role.as_str()
            ),
        );
        return vec![Effect::Audit(AccessNote::Denied("review queue".into()))];
    }
    app.screen = Screen::Queue;
    if app.queue.is_none() {
        app.queue = Some(QueueView::new());
    }
    app.status = None;
    reload(app)
}

fn reload(app: &mut App) -> Vec<Effect> {
    let now = app.now;
    let q = app.queue.as_mut().expect("queue open");
    q.query.filter.received_from = q.dates.since(now);
    q.query.after = None;
    q.earlier.clear();
    q.focus = 0;
    q.loading = true;
    vec![Effect::LoadQueue(Box::new(q.query.clone()))]
}

pub fn queue_loaded(app: &mut App, page: Page) {
    if let Some(q) = app.queue.as_mut() {
        q.rows = page.rows;
        q.next = page.next;
        q.focus = q.focus.min(q.rows.len().saturating_sub(1));
        q.loading = false;
    }
}

pub fn open_record(app: &mut App, id: Uuid) -> Vec<Effect> {
    app.record = Some(RecordView {
        id,
        data: None,
        scroll: 0,
        max_scroll: 0,
    });
    app.screen = Screen::Record;
    vec![Effect::LoadRecord(id)]
}

pub fn record_loaded(app: &mut App, data: RecordData) {
    let theme = super::theme::Theme::mono();
    if let Some(mut r) = app.record.take() {
        r.data = Some(data);
        let n = super::screens::record::lines(app, &r, &theme).len();
        r.max_scroll = n.saturating_sub(5) as u16;
        app.record = Some(r);
    }
}

pub fn record_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    let r = app.record.as_mut().expect("record open");
    match cmd {
        Command::Down => r.scroll = r.scroll.saturating_add(1).min(r.max_scroll),
        Command::Up => r.scroll = r.scroll.saturating_sub(1),
        Command::NextStep => r.scroll = r.scroll.saturating_add(15).min(r.max_scroll),
        Command::PrevStep => r.scroll = r.scroll.saturating_sub(15),
        Command::Approve | Command::Return => {
            let Some(cur) = r.current() else {
                return Vec::new();
            };
            if cur.status != Status::Finalized {
                app.set_status(
                    Level::Warning,
                    "A draft cannot be reviewed until the screener finalizes it.",
                );
                return Vec::new();
            }
            let decision = if cmd == Command::Approve {
                Decision::Approved
            } else {
                Decision::NeedsChanges
            };
            app.overlay = Some(Overlay::Decision {
                decision,
                note: TextField::new(1000),
            });
        }
        Command::Cancel => {
            app.screen = Screen::Queue;
            app.record = None;
            return reload_keep_page(app);
        }
        _ => {}
    }
    Vec::new()
}

/// Back from a record: refresh the page the supervisor was on.
fn reload_keep_page(app: &mut App) -> Vec<Effect> {
    match app.queue.as_ref() {
        Some(q) => vec![Effect::LoadQueue(Box::new(q.query.clone()))],
        None => open_queue(app),
    }
}

pub fn decision_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    let Some(Overlay::Decision { decision, note }) = app.overlay.as_mut() else {
        return Vec::new();
    };
    match cmd {
        Command::Confirm => {
            let text = note.value().trim().to_owned();
            let decision = *decision;
            if decision == Decision::NeedsChanges && text.is_empty() {
                app.set_status(
                    Level::Error,
                    "Returning needs a note saying what the screener should change.",
                );
                return Vec::new();
            }
            let Some(cur) = app.record.as_ref().and_then(|r| r.current()) else {
                return Vec::new();
            };
            let effect = Effect::SaveReview {
                id: cur.encounter_id,
                revision: cur.revision,
                decision,
                note: (!text.is_empty()).then_some(text),
            };
            app.overlay = None;
            vec![effect]
        }
        Command::Cancel => {
            app.overlay = None;
            Vec::new()
        }
        other => {
            note.command(other);
            Vec::new()
        }
    }
}

pub fn reviewed(app: &mut App, review: Review) -> Vec<Effect> {
    let what = match review.decision {
        Decision::Approved => "Approved",
        Decision::NeedsChanges => "Returned to the screener",
    };
    app.set_status(
        Level::Info,
        format!("{what} (revision {}).", review.revision),
    );
    vec![Effect::LoadRecord(review.encounter_id)]
}
