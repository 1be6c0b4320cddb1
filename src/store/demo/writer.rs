//! Writes generated calls in order, and replays their later events (reviews, addenda, sync
//! results) in time order through the same functions the live application uses.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use uuid::Uuid;

use super::{Body, DEVICES, DemoStats, Event, Generated, SCREENERS, SUPERVISORS};
use crate::store::encounters::{self, NewRevision};
use crate::store::error::Result;
use crate::store::model::{Actor, CURSOR_KEY, Decision, ts};
use crate::store::{outbox, reviews, search};

/// An event waiting for its time; the heap pops the earliest (ties in creation order).
struct Pending {
    at: DateTime<Utc>,
    order: u64,
    id: Uuid,
    screener: usize,
    received_at: DateTime<Utc>,
    event: Event,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

pub(super) struct Writer {
    definitions: String,
    screeners: Vec<Actor>,
    supervisors: Vec<Actor>,
    pending: BinaryHeap<Pending>,
    order: u64,
    /// Outbox entry of each revision whose sync result is still to come.
    outbox: HashMap<(Uuid, u32), (usize, i64)>,
    last_call: Option<DateTime<Utc>>,
    /// Text to index for search at the end of the batch (see `queries::index_text`).
    to_index: Vec<(Uuid, u32, DateTime<Utc>, String)>,
    pub stats: DemoStats,
}

impl Writer {
    pub fn new(definitions: String) -> Writer {
        Writer {
            definitions,
            screeners: SCREENERS
                .iter()
                .map(|(u, d)| Actor::new(*u, DEVICES[*d]))
                .collect(),
            supervisors: SUPERVISORS
                .iter()
                .map(|u| Actor::new(*u, DEVICES[0]))
                .collect(),
            pending: BinaryHeap::new(),
            order: 0,
            outbox: HashMap::new(),
            last_call: None,
            to_index: Vec::new(),
            stats: DemoStats::default(),
        }
    }

    pub fn write_batch(&mut self, c: &Connection, batch: Vec<Generated>) -> Result<()> {
        for g in batch {
            self.replay_until(c, g.received_at)?;
            self.write_call(c, g)?;
        }
        self.index(c)
    }

    fn index(&mut self, c: &Connection) -> Result<()> {
        for (id, revision, received_at, text) in self.to_index.drain(..) {
            search::index_text(c, id, revision, received_at, &text)?;
        }
        Ok(())
    }

    /// Replay what has happened by the last call; later events have not happened yet.
    pub fn finish(&mut self, c: &Connection) -> Result<()> {
        if let Some(end) = self.last_call {
            self.replay_until(c, end)?;
        }
        self.pending.clear();
        self.index(c)
    }

    fn write_call(&mut self, c: &Connection, g: Generated) -> Result<()> {
        self.stats.encounters += 1;
        self.last_call = Some(g.received_at);
        let actor = &self.screeners[g.screener];
        match g.body {
            Body::Draft { fields, cursor } => {
                self.stats.drafts += 1;
                let received = ts(g.received_at);
                encounters::start_draft(c, actor, g.id, &received, &received)?;
                let mut last = g.received_at;
                for (key, value, at) in fields {
                    encounters::save_field(c, actor, g.id, &key, &value, &ts(at))?;
                    last = at;
                }
                let cursor = serde_json::to_value(cursor).expect("a cursor serializes");
                encounters::save_field(c, actor, g.id, CURSOR_KEY, &cursor, &ts(last))?;
            }
            Body::Final {
                finalized_at,
                payload,
                summary,
                events,
            } => {
                self.stats.finalized += 1;
                let now = ts(finalized_at);
                let rev = NewRevision {
                    id: g.id,
                    payload: &payload,
                    summary: &summary,
                    definitions: &self.definitions,
                    note: None,
                    now: &now,
                };
                let done = encounters::finalize(c, actor, &rev)?;
                self.to_index
                    .push((g.id, 1, g.received_at, encounters::search_text(&rev)));
                self.outbox
                    .insert((g.id, 1), (SCREENERS[g.screener].1, done.outbox_seq));
                for (at, event) in events {
                    self.order += 1;
                    self.pending.push(Pending {
                        at,
                        order: self.order,
                        id: g.id,
                        screener: g.screener,
                        received_at: g.received_at,
                        event,
                    });
                }
            }
        }
        Ok(())
    }

    fn replay_until(&mut self, c: &Connection, until: DateTime<Utc>) -> Result<()> {
        while self.pending.peek().is_some_and(|p| p.at <= until) {
            let p = self.pending.pop().expect("peeked");
            let now = ts(p.at);
            match p.event {
                Event::Review {
                    revision,
                    reviewer,
                    decision,
                    note,
                } => {
                    reviews::add_review(
                        c,
                        &self.supervisors[reviewer],
                        p.id,
                        revision,
                        decision,
                        note,
                        &now,
                    )?;
                    if let Some(note) = note {
                        self.to_index
                            .push((p.id, revision, p.received_at, note.to_owned()));
                    }
                    self.stats.reviews += 1;
                    if decision == Decision::NeedsChanges {
                        self.stats.returned += 1;
                    }
                }
                Event::Addendum {
                    payload,
                    summary,
                    note,
                } => {
                    let rev = NewRevision {
                        id: p.id,
                        payload: &payload,
                        summary: &summary,
                        definitions: &self.definitions,
                        note: Some(note),
                        now: &now,
                    };
                    let done = encounters::add_addendum(c, &self.screeners[p.screener], &rev)?;
                    self.to_index.push((
                        p.id,
                        done.revision,
                        p.received_at,
                        encounters::search_text(&rev),
                    ));
                    self.outbox.insert(
                        (p.id, done.revision),
                        (SCREENERS[p.screener].1, done.outbox_seq),
                    );
                    self.stats.addenda += 1;
                }
                Event::Sync {
                    revision,
                    state,
                    error,
                } => {
                    if let Some((device, seq)) = self.outbox.remove(&(p.id, revision)) {
                        outbox::set_state(c, DEVICES[device], seq, state, error)?;
                    }
                }
            }
        }
        Ok(())
    }
}
