//! One write transaction of the bulk load: the statements it runs, prepared once, the heads
//! of the database's sequences it keeps in memory, and the rows of one revision (with its
//! audit row, outbox entry, dashboard row, kept view and search document).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Statement, params};

use super::super::{DEVICES, ToStore};
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;
use crate::store::audit::{GENESIS, chain_hash, encounter_record};
use crate::store::counts::{Counts, FACT_COLUMNS, Fact};
use crate::store::encounters::{NewRevision, search_text};
use crate::store::error::Result;
use crate::store::model::{Actor, Summary, SyncState as OutboxState, ts};
use crate::store::search::next_doc;

/// The heads of the database's sequences inside one write transaction (which holds the write
/// lock, so nothing else moves them), the search documents still to index, and the changes
/// to the counts the triggers would have kept (the load runs without them, see `BulkLoad`).
pub(super) struct Heads {
    pub(super) audit_seq: i64,
    pub(super) audit_hash: String,
    /// Last outbox sequence of each of [`DEVICES`].
    pub(super) outbox: Vec<i64>,
    pub(super) review_id: i64,
    pub(super) fts: Vec<(i64, String)>,
    pub(super) counts: Counts,
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
pub(super) struct Statements<'c> {
    pub(super) audit: Statement<'c>,
    pub(super) outbox: Statement<'c>,
    pub(super) last_doc: Statement<'c>,
    pub(super) doc: Statement<'c>,
    pub(super) fts: Statement<'c>,
    pub(super) revision: Statement<'c>,
    pub(super) fact: Statement<'c>,
    pub(super) unfact: Statement<'c>,
    pub(super) state: Statement<'c>,
    pub(super) superseded: Statement<'c>,
    pub(super) draft: Statement<'c>,
    pub(super) field: Statement<'c>,
    pub(super) review: Statement<'c>,
    pub(super) review_state: Statement<'c>,
    pub(super) sync_outbox: Statement<'c>,
    pub(super) sync_state: Statement<'c>,
    pub(super) view: Statement<'c>,
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
pub(super) struct Tx<'c> {
    c: &'c Connection,
    pub(super) s: Statements<'c>,
    pub(super) heads: Heads,
}

impl<'c> Tx<'c> {
    pub(super) fn begin(c: &'c Connection) -> Result<Tx<'c>> {
        Ok(Tx {
            c,
            s: Statements::prepare(c)?,
            heads: Heads::read(c)?,
        })
    }
}

impl Tx<'_> {
    /// `audit::append`, with the chain's head kept here.
    pub(super) fn audit(
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
    pub(super) fn outbox(
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
    pub(super) fn index(
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
    pub(super) fn revision(
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
    pub(super) fn finish(mut self) -> Result<()> {
        self.heads.fts.sort_unstable_by_key(|(doc, _)| *doc);
        for (doc, text) in &self.heads.fts {
            self.s.fts.execute(params![doc, text])?;
        }
        self.heads.counts.write(self.c)
    }
}
