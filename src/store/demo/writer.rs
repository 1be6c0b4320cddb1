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
use rusqlite::{Connection, OptionalExtension, Statement, params};
use uuid::Uuid;

use super::{Body, DEVICES, DemoStats, Event, Generated, SCREENERS, SUPERVISORS, ToStore};
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;
use crate::store::audit::{GENESIS, chain_hash, encounter_record, review_record};
use crate::store::counts::{Counts, FACT_COLUMNS, Fact};
use crate::store::encounters::{NewRevision, search_text};
use crate::store::error::Result;
use crate::store::model::{
    Actor, CURSOR_KEY, Decision, ReviewState, Summary, SyncState as OutboxState, ts,
};
use crate::store::search::next_doc;

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

/// The heads of the database's sequences inside one write transaction (which holds the write
/// lock, so nothing else moves them), the search documents still to index, and the changes
/// to the counts the triggers would have kept (the load runs without them, see `BulkLoad`).
struct Heads {
    audit_seq: i64,
    audit_hash: String,
    /// Last outbox sequence of each of [`DEVICES`].
    outbox: Vec<i64>,
    review_id: i64,
    fts: Vec<(i64, String)>,
    counts: Counts,
}

impl Heads {
    fn read(c: &Connection) -> Result<Heads> {
        let (audit_seq, audit_hash) = c
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, GENESIS.to_owned()));
        let outbox = DEVICES
            .iter()
            .map(|d| {
                c.query_row(
                    "SELECT coalesce(max(seq), 0) FROM outbox WHERE device = ?1",
                    [d],
                    |r| r.get(0),
                )
            })
            .collect::<rusqlite::Result<_>>()?;
        let review_id = c.query_row("SELECT coalesce(max(review_id), 0) FROM review", [], |r| {
            r.get(0)
        })?;
        Ok(Heads {
            audit_seq,
            audit_hash,
            outbox,
            review_id,
            fts: Vec::new(),
            counts: Counts::default(),
        })
    }
}

/// The statements one transaction runs, prepared once for it.
struct Statements<'c> {
    audit: Statement<'c>,
    outbox: Statement<'c>,
    last_doc: Statement<'c>,
    doc: Statement<'c>,
    fts: Statement<'c>,
    revision: Statement<'c>,
    fact: Statement<'c>,
    unfact: Statement<'c>,
    state: Statement<'c>,
    superseded: Statement<'c>,
    draft: Statement<'c>,
    field: Statement<'c>,
    review: Statement<'c>,
    review_state: Statement<'c>,
    sync_outbox: Statement<'c>,
    sync_state: Statement<'c>,
    view: Statement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(c: &'c Connection) -> Result<Statements<'c>> {
        Ok(Statements {
            audit: c.prepare(
                "INSERT INTO audit (seq, at, actor, device, action, record, detail, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            outbox: c.prepare(
                "INSERT INTO outbox (device, seq, kind, encounter_id, revision, review_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            last_doc: c.prepare("SELECT max(doc) FROM search_doc WHERE doc >= ?1 AND doc < ?2")?,
            doc: c.prepare(
                "INSERT INTO search_doc (doc, encounter_id, revision) VALUES (?1, ?2, ?3)",
            )?,
            fts: c.prepare("INSERT INTO search_fts (rowid, body) VALUES (?1, ?2)")?,
            revision: c.prepare(
                "INSERT INTO encounter (encounter_id, revision, status, supersedes, screener, device,
                     created_at, updated_at, finalized_at, received_at, caller_display, language, age,
                     cell_computed, cell_chosen, risk, triage, crisis, deadline_at, reason, note,
                     audit_seq, payload_sha256, definitions, payload)
                 VALUES (?1, ?2, 'finalized', ?3, ?4, ?5, ?6, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
                     ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
            )?,
            fact: c.prepare(
                "INSERT INTO dashboard_fact (received_at, encounter_id, revision, cell_chosen, risk,
                     triage, crisis, language, deadline_at, interpreter, warm_handoff, crisis_actions)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?,
            // `dashboard_fact_superseded`.
            unfact: c.prepare(&format!(
                "DELETE FROM dashboard_fact
                 WHERE received_at = ?1 AND encounter_id = ?2 AND revision = ?3
                 RETURNING {FACT_COLUMNS}"
            ))?,
            state: c.prepare(
                "INSERT INTO encounter_state (encounter_id, revision, screener, received_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
            superseded: c.prepare(
                "UPDATE encounter_state SET current = 0 WHERE encounter_id = ?1 AND revision = ?2",
            )?,
            draft: c.prepare(
                "INSERT INTO encounter (encounter_id, revision, status, screener, device,
                                        created_at, updated_at, received_at, caller_display)
                 VALUES (?1, 1, 'draft', ?2, ?3, ?4, ?5, ?4, ?6)",
            )?,
            field: c.prepare(
                "INSERT INTO draft_field (encounter_id, key, value, updated_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
            review: c.prepare(
                "INSERT INTO review (review_id, encounter_id, revision, decision, note,
                                     reviewer, device, reviewed_at, audit_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            review_state: c.prepare(
                "UPDATE encounter_state SET review_state = ?3
                 WHERE encounter_id = ?1 AND revision = ?2",
            )?,
            sync_outbox: c.prepare(
                "UPDATE outbox SET state = ?3, last_error = ?4 WHERE device = ?1 AND seq = ?2",
            )?,
            sync_state: c.prepare(
                "UPDATE encounter_state SET sync_state = ?3, sync_error = ?4
                 WHERE encounter_id = ?1 AND revision = ?2",
            )?,
            view: c.prepare(crate::store::views::INSERT)?,
        })
    }
}

/// One write transaction.
struct Tx<'c> {
    c: &'c Connection,
    s: Statements<'c>,
    heads: Heads,
}

impl<'c> Tx<'c> {
    fn begin(c: &'c Connection) -> Result<Tx<'c>> {
        Ok(Tx {
            c,
            s: Statements::prepare(c)?,
            heads: Heads::read(c)?,
        })
    }
}

impl Tx<'_> {
    /// `audit::append`, with the chain's head kept here.
    fn audit(
        &mut self,
        at: &str,
        actor: &Actor,
        action: &str,
        record: &str,
        detail: &str,
    ) -> Result<i64> {
        let seq = self.heads.audit_seq + 1;
        let row = (
            at,
            actor.user.as_str(),
            actor.device.as_str(),
            action,
            record,
            detail,
        );
        let hash = chain_hash(&self.heads.audit_hash, seq, &row);
        self.s.audit.execute(params![
            seq,
            at,
            actor.user,
            actor.device,
            action,
            record,
            detail,
            self.heads.audit_hash,
            hash
        ])?;
        self.heads.audit_seq = seq;
        self.heads.audit_hash = hash;
        Ok(seq)
    }

    /// `outbox::append`; returns the device's new sequence number.
    fn outbox(
        &mut self,
        device: usize,
        id: &str,
        revision: u32,
        review_id: Option<i64>,
        now: &str,
    ) -> Result<i64> {
        let seq = self.heads.outbox[device] + 1;
        let kind = if review_id.is_some() {
            "review"
        } else {
            "encounter"
        };
        self.s.outbox.execute(params![
            DEVICES[device],
            seq,
            kind,
            id,
            revision,
            review_id,
            now
        ])?;
        self.heads.outbox[device] = seq;
        self.heads.counts.outbox(OutboxState::Pending.as_str(), 1);
        Ok(seq)
    }

    /// `search::index_text`, the full-text row deferred to [`Tx::finish`].
    fn index(
        &mut self,
        id: &str,
        revision: u32,
        received_at: DateTime<Utc>,
        text: &str,
    ) -> Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let last_doc = &mut self.s.last_doc;
        let doc = next_doc(received_at, |range| last_doc.query_row(range, |r| r.get(0)))?;
        self.s.doc.execute(params![doc, id, revision])?;
        self.heads.fts.push((doc, text.to_owned()));
        Ok(())
    }

    /// `encounters::write_revision` for a revision written as new row (no draft before it).
    /// Its dashboard row goes in first, from what the generator knows, so the trigger that
    /// would otherwise extract the same facts from the payload has nothing to do.
    fn revision(
        &mut self,
        actor: &Actor,
        device: usize,
        rev: &NewRevision<'_>,
        stored: &ToStore,
        revision: u32,
    ) -> Result<i64> {
        let (sha256, facts) = (stored.sha256.as_str(), &stored.facts);
        let supersedes = (revision > 1).then(|| revision - 1);
        let record = encounter_record(rev.id, revision);
        let detail = serde_json::json!({ "sha256": sha256, "supersedes": supersedes }).to_string();
        let action = if revision == 1 {
            "finalized"
        } else {
            "addendum"
        };
        let audit_seq = self.audit(rev.now, actor, action, &record, &detail)?;
        let s: &Summary = rev.summary;
        let id = rev.id.to_string();
        let received_at = ts(s.received_at);
        let cell = s.cell_chosen.map(CellId::id);
        self.s.fact.execute(params![
            received_at,
            id,
            revision,
            cell,
            s.risk.as_str(),
            s.triage.map(Triage::as_str),
            s.crisis,
            s.language,
            s.deadline_at.map(ts),
            facts.interpreter,
            facts.warm_handoff,
            facts.crisis_actions as i64,
        ])?;
        let fact = Fact {
            received_at: &received_at,
            cell_chosen: cell.as_deref(),
            risk: Some(s.risk.as_str()),
            triage: s.triage.map(Triage::as_str),
            crisis: s.crisis,
            language: s.language.as_deref(),
            has_deadline: s.deadline_at.is_some(),
            interpreter: facts.interpreter,
            warm_handoff: facts.warm_handoff,
            crisis_actions: facts.crisis_actions as i64,
        };
        self.heads.counts.fact(&fact, 1);
        if let Some(previous) = supersedes {
            let mut gone = self.s.unfact.query(params![received_at, id, previous])?;
            while let Some(r) = gone.next()? {
                self.heads.counts.fact(&Fact::from_row(r)?, -1);
            }
        }
        self.s.revision.execute(params![
            id,
            revision,
            supersedes,
            actor.user,
            actor.device,
            rev.now,
            received_at,
            s.caller_display,
            s.language,
            s.age,
            s.cell_computed.map(CellId::id),
            s.cell_chosen.map(CellId::id),
            s.risk.as_str(),
            s.triage.map(Triage::as_str),
            s.crisis,
            s.deadline_at.map(ts),
            s.reason,
            rev.note,
            audit_seq,
            sha256,
            rev.definitions,
            stored.packed,
        ])?;
        // `views::write`: the revision's withheld view, kept (made by the generator).
        if let Some(policy) = crate::sync::withhold::builtin() {
            crate::store::views::insert_prepared(
                &mut self.s.view,
                policy,
                &id,
                revision,
                sha256,
                &stored.view,
            )?;
        }
        self.s
            .state
            .execute(params![id, revision, actor.user, received_at])?;
        if let Some(previous) = supersedes {
            self.s.superseded.execute(params![id, previous])?;
        }
        let seq = self.outbox(device, &id, revision, None, rev.now)?;
        self.index(&id, revision, s.received_at, &search_text(rev))?;
        Ok(seq)
    }

    /// Index the transaction's documents, in rowid order, and write its counts.
    fn finish(mut self) -> Result<()> {
        self.heads.fts.sort_unstable_by_key(|(doc, _)| *doc);
        for (doc, text) in &self.heads.fts {
            self.s.fts.execute(params![doc, text])?;
        }
        self.heads.counts.write(self.c)
    }
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
