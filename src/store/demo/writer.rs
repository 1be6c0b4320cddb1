//! Writes generated calls in order, and replays their later events (reviews, addenda, sync
//! results) in time order.
//!
//! A bulk loader, not the live write path: the rows it writes are the rows the store's own
//! functions write for the same actions (`encounters::start_draft`/`save_field`/`finalize`/
//! `add_addendum`, `reviews::add_review`, `outbox::set_state`, `search::index_text`): same
//! columns, same audit actions, records and details, same chain hash, outbox sequences and
//! search document numbers; `tests` checks them against each other. What it skips is the
//! per-call work a live screen needs and a generator does not: looking up what it has just
//! written (the audit chain's head, each device's last outbox sequence, the last review id,
//! whether an encounter is a draft), a transaction per action, and a full-text insert per
//! document (they are added in rowid order at the end of each transaction, which keeps FTS5
//! from flushing a segment for every out-of-order document), and the triggers: it runs
//! without them (`BulkLoad`) and writes what they would have, the superseded revision's
//! dashboard row deleted and the per-day and per-state counts added up per transaction
//! (`store::counts`).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{Body, DEVICES, DemoStats, Event, Generated, SCREENERS, SUPERVISORS};
use crate::store::audit::{encounter_record, review_record};
use crate::store::encounters::NewRevision;
use crate::store::error::Result;
use crate::store::model::{Actor, CURSOR_KEY, Decision, ReviewState, SyncState as OutboxState, ts};

mod tx;
use tx::Tx;

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
    /// Outbox entry (device index, seq) of each revision whose sync result is still to come.
    outbox: HashMap<(Uuid, u32), (usize, i64)>,
    last_call: Option<DateTime<Utc>>,
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
            stats: DemoStats::default(),
        }
    }

    /// Write calls (in call order) and every event due by each, in one transaction.
    pub fn write_batch(
        &mut self,
        c: &Connection,
        batches: impl IntoIterator<Item = Result<Vec<Generated>>>,
    ) -> Result<()> {
        let mut tx = Tx::begin(c)?;
        for batch in batches {
            for g in batch? {
                self.replay_until(&mut tx, g.received_at)?;
                self.write_call(&mut tx, g)?;
            }
        }
        tx.finish()
    }

    /// Replay what has happened by the last call; later events have not happened yet.
    pub fn finish(&mut self, c: &Connection) -> Result<()> {
        let mut tx = Tx::begin(c)?;
        if let Some(end) = self.last_call {
            self.replay_until(&mut tx, end)?;
        }
        self.pending.clear();
        tx.finish()
    }

    fn write_call(&mut self, tx: &mut Tx<'_>, g: Generated) -> Result<()> {
        self.stats.encounters += 1;
        self.last_call = Some(g.received_at);
        let actor = &self.screeners[g.screener];
        let device = SCREENERS[g.screener].1;
        match g.body {
            Body::Draft {
                fields,
                cursor,
                caller_display,
            } => {
                // `start_draft`, then `save_field` for each answer and the cursor: the row ends
                // with the last save's time and the caller's name, as after those calls.
                self.stats.drafts += 1;
                let id = g.id.to_string();
                let received = ts(g.received_at);
                let last = fields.last().map_or(g.received_at, |f| f.2);
                tx.s.draft.execute(params![
                    id,
                    actor.user,
                    actor.device,
                    received,
                    ts(last),
                    caller_display
                ])?;
                let record = encounter_record(g.id, 1);
                tx.audit(&received, actor, "draft_started", &record, "{}")?;
                let cursor = (CURSOR_KEY.to_owned(), cursor, last);
                for (key, value, at) in fields.iter().chain([&cursor]) {
                    let at = ts(*at);
                    tx.s.field.execute(params![id, key, value, at])?;
                    let detail = serde_json::json!({ "key": key }).to_string();
                    tx.audit(&at, actor, "field_saved", &record, &detail)?;
                }
            }
            Body::Final {
                finalized_at,
                payload,
                stored,
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
                let seq = tx.revision(actor, device, &rev, &stored, 1)?;
                self.outbox.insert((g.id, 1), (device, seq));
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

    fn replay_until(&mut self, tx: &mut Tx<'_>, until: DateTime<Utc>) -> Result<()> {
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
                    // `reviews::add_review`: the id is chosen before the audit row names it.
                    let supervisor = &self.supervisors[reviewer];
                    let review_id = tx.heads.review_id + 1;
                    let detail = serde_json::json!({
                        "encounter": encounter_record(p.id, revision),
                        "decision": decision.as_str(),
                    })
                    .to_string();
                    let audit_seq = tx.audit(
                        &now,
                        supervisor,
                        "reviewed",
                        &review_record(review_id),
                        &detail,
                    )?;
                    let id = p.id.to_string();
                    tx.s.review.execute(params![
                        review_id,
                        id,
                        revision,
                        decision.as_str(),
                        note,
                        supervisor.user,
                        supervisor.device,
                        now,
                        audit_seq
                    ])?;
                    tx.heads.review_id = review_id;
                    let state = match decision {
                        Decision::Approved => ReviewState::Approved,
                        Decision::NeedsChanges => ReviewState::NeedsChanges,
                    };
                    tx.s.review_state
                        .execute(params![id, revision, state.as_str()])?;
                    let device = DEVICES
                        .iter()
                        .position(|d| *d == supervisor.device)
                        .expect("a known device");
                    tx.outbox(device, &id, revision, Some(review_id), &now)?;
                    if let Some(note) = note {
                        tx.index(&id, revision, p.received_at, note)?;
                    }
                    self.stats.reviews += 1;
                    if decision == Decision::NeedsChanges {
                        self.stats.returned += 1;
                    }
                }
                Event::Addendum {
                    revision,
                    payload,
                    stored,
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
                    let device = SCREENERS[p.screener].1;
                    let actor = &self.screeners[p.screener];
                    let seq = tx.revision(actor, device, &rev, &stored, revision)?;
                    self.outbox.insert((p.id, revision), (device, seq));
                    self.stats.addenda += 1;
                }
                Event::Sync {
                    revision,
                    state,
                    error,
                } => {
                    // `outbox::set_state` of an encounter entry.
                    if let Some((device, seq)) = self.outbox.remove(&(p.id, revision)) {
                        tx.s.sync_outbox.execute(params![
                            DEVICES[device],
                            seq,
                            state.as_str(),
                            error
                        ])?;
                        tx.heads.counts.outbox(OutboxState::Pending.as_str(), -1);
                        tx.heads.counts.outbox(state.as_str(), 1);
                        tx.s.sync_state.execute(params![
                            p.id.to_string(),
                            revision,
                            state.as_str(),
                            error
                        ])?;
                    }
                }
            }
        }
        Ok(())
    }
}
