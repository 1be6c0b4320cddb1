//! Applying an imported batch on a hub, in one transaction (see the module above).

mod apply;
mod judge;
mod validate;

use validate::validate;

use super::*;

impl Store {
    /// Import one batch on a hub: `f` feeds its records to the [`Importer`]; everything
    /// happens in one transaction, so if `f` fails nothing is written. Parked records that can
    /// now be settled are settled before the commit.
    pub fn import_batch<E: From<StoreError>>(
        &mut self,
        actor: &Actor,
        batch: &BatchRecord,
        f: impl FnOnce(&mut Importer<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<ImportSummary, E> {
        let now = ts(Utc::now());
        // A batch is one large transaction: with SQLite's default 2 MB page cache it spills
        // dirty pages to the WAL half-way and re-reads index pages; give it room while it runs.
        let cache: i64 = self
            .conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .map_err(StoreError::from)?;
        self.conn
            .pragma_update(None, "cache_size", IMPORT_CACHE_KIB)
            .map_err(StoreError::from)?;
        let result = self.import_batch_in(actor, batch, &now, f);
        self.conn
            .pragma_update(None, "cache_size", cache)
            .map_err(StoreError::from)?;
        result
    }

    fn import_batch_in<E: From<StoreError>>(
        &mut self,
        actor: &Actor,
        batch: &BatchRecord,
        now: &str,
        f: impl FnOnce(&mut Importer<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<ImportSummary, E> {
        let now = now.to_owned();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let seen = insert_batch(&tx, batch, "import", &now)? == 0;
        let mut importer = Importer {
            tx: &tx,
            actor,
            batch_id: batch.batch_id.to_string(),
            now,
            summary: ImportSummary {
                batch_seen_before: seen,
                ..ImportSummary::default()
            },
            to_index: Vec::new(),
        };
        f(&mut importer)?;
        importer.settle_parked()?;
        importer.finish(batch)?;
        let summary = importer.summary;
        tx.commit().map_err(StoreError::from)?;
        Ok(summary)
    }
}

/// What to do with a received record, given what the hub holds now.
enum Verdict {
    Apply,
    Held { review_id: Option<i64> },
    Conflict { held_sha256: String, why: String },
    Park,
}

/// Applies received records inside [`Store::import_batch`]'s transaction.
pub struct Importer<'t> {
    tx: &'t Transaction<'t>,
    actor: &'t Actor,
    batch_id: String,
    now: String,
    summary: ImportSummary,
    /// Search text of the revisions and review notes written, indexed last (see
    /// `search::index_text`).
    to_index: Vec<(Uuid, u32, DateTime<Utc>, String)>,
}

impl Importer<'_> {
    /// Import one record. Errors are about the record (bad values the schema refuses) or
    /// the database; either way the caller abandons the whole batch.
    pub fn record(&mut self, origin: &Origin, incoming: &Incoming) -> Result<Applied> {
        validate(incoming)?;
        let sha = incoming.sha256();
        let exists: bool = self
            .tx
            .prepare_cached(
                "SELECT 1 FROM sync_inbox WHERE origin_device = ?1 AND origin_seq = ?2 AND sha256 = ?3",
            )?
            .exists(params![origin.device, origin.seq, sha])?;
        if exists {
            self.summary.already_received += 1;
            return Ok(Applied::AlreadyReceived);
        }
        let verdict = self.judge(incoming, &sha)?;
        let (state, review_id, held, record) = match &verdict {
            Verdict::Apply => {
                let review_id = self.apply(origin, incoming, &sha)?;
                ("held", review_id, None, None)
            }
            Verdict::Held { review_id } => ("held", *review_id, None, None),
            Verdict::Conflict { held_sha256, why } => (
                "conflict",
                None,
                Some((held_sha256.clone(), why.clone())),
                Some(incoming),
            ),
            Verdict::Park => ("parked", None, None, Some(incoming)),
        };
        let (held, problem) = held.unzip();
        let (id, revision) = incoming.key();
        let origin_review_id = match incoming {
            Incoming::Review { row, .. } => Some(row.review_id),
            Incoming::Encounter { .. } => None,
        };
        self.tx
            .prepare_cached(
                "INSERT INTO sync_inbox (origin_device, origin_seq, sha256, kind, encounter_id,
                     revision, origin_review_id, state, review_id, held_sha256, problem, record,
                     batch_id, line_no, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                origin.device,
                origin.seq,
                sha,
                incoming.kind(),
                id.to_string(),
                revision,
                origin_review_id,
                state,
                review_id,
                held,
                problem,
                record.map(|r| serde_json::to_string(r).expect("a record serializes")),
                self.batch_id,
                origin.line_no as i64,
                self.now
            ])?;
        self.tally(verdict, origin, incoming, &sha, false)
    }

    fn tally(
        &mut self,
        verdict: Verdict,
        origin: &Origin,
        incoming: &Incoming,
        sha: &str,
        settling: bool,
    ) -> Result<Applied> {
        let s = &mut self.summary;
        Ok(match verdict {
            Verdict::Apply => {
                if settling {
                    s.settled += 1;
                } else {
                    s.new += 1;
                }
                Applied::New
            }
            Verdict::Held { .. } => {
                if settling {
                    s.settled += 1;
                } else {
                    s.held += 1;
                }
                Applied::Held
            }
            Verdict::Park => {
                s.parked += 1;
                Applied::Parked
            }
            Verdict::Conflict { held_sha256, why } => {
                let (encounter_id, revision) = incoming.key();
                let conflict = Conflict {
                    kind: incoming.kind().to_owned(),
                    encounter_id,
                    revision,
                    origin_device: origin.device.clone(),
                    origin_seq: origin.seq,
                    incoming_sha256: sha.to_owned(),
                    held_sha256,
                    why,
                    batch_id: self.batch_id.clone(),
                    line_no: origin.line_no,
                };
                let detail = serde_json::json!({
                    "kind": conflict.kind,
                    "incoming": conflict.incoming_sha256,
                    "held": conflict.held_sha256,
                    "origin": format!("{}#{}", origin.device, origin.seq),
                    "batch": self.batch_id,
                    "why": conflict.why,
                })
                .to_string();
                self.audit(
                    "sync_conflict",
                    &encounter_record(encounter_id, revision),
                    &detail,
                )?;
                self.summary.conflicts.push(conflict.clone());
                Applied::Conflict(conflict)
            }
        })
    }

    /// An audit row of this import, signed by whoever runs it.
    fn audit(&self, action: &str, record: &str, detail: &str) -> Result<i64> {
        audit::append(
            self.tx,
            &NewAudit {
                at: &self.now,
                actor: &self.actor.user,
                device: &self.actor.device,
                action,
                record,
                detail,
            },
        )
    }

    /// Settle parked records whose predecessor has arrived, until none can move.
    fn settle_parked(&mut self) -> Result<()> {
        loop {
            let parked: Vec<(String, i64, String, i64, String)> = {
                let mut st = self.tx.prepare_cached(
                    "SELECT origin_device, origin_seq, sha256, line_no, record FROM sync_inbox
                     WHERE state = 'parked'
                     ORDER BY kind, encounter_id, revision, origin_device, origin_seq, sha256",
                )?;
                st.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            let mut moved = false;
            for (device, seq, sha, line_no, record) in parked {
                let incoming: Incoming =
                    serde_json::from_str(&record).map_err(|_| StoreError::Corrupt {
                        what: format!("parked sync record {device}#{seq}"),
                    })?;
                let verdict = self.judge(&incoming, &sha)?;
                if matches!(verdict, Verdict::Park) {
                    continue;
                }
                moved = true;
                let origin = Origin {
                    device,
                    seq,
                    line_no: line_no as u64,
                };
                let (state, review_id, held, record) = match &verdict {
                    Verdict::Apply => ("held", self.apply(&origin, &incoming, &sha)?, None, None),
                    Verdict::Held { review_id } => ("held", *review_id, None, None),
                    Verdict::Conflict { held_sha256, why } => (
                        "conflict",
                        None,
                        Some((held_sha256.clone(), why.clone())),
                        Some(record),
                    ),
                    Verdict::Park => unreachable!("parked records were skipped above"),
                };
                let (held, problem) = held.unzip();
                self.tx
                    .prepare_cached(
                        "UPDATE sync_inbox SET state = ?4, review_id = ?5, held_sha256 = ?6,
                             problem = ?7, record = ?8
                         WHERE origin_device = ?1 AND origin_seq = ?2 AND sha256 = ?3",
                    )?
                    .execute(params![
                        origin.device,
                        origin.seq,
                        sha,
                        state,
                        review_id,
                        held,
                        problem,
                        record
                    ])?;
                self.tally(verdict, &origin, &incoming, &sha, true)?;
            }
            if !moved {
                return Ok(());
            }
        }
    }

    /// The batch's audit row, then the search index (last: see `search::index_text`).
    fn finish(&mut self, batch: &BatchRecord) -> Result<()> {
        let s = &self.summary;
        let detail = batch_detail(
            batch,
            &serde_json::json!({
                "new": s.new,
                "held": s.held,
                "already_received": s.already_received,
                "parked": s.parked,
                "settled": s.settled,
                "conflicts": s.conflicts.len(),
            }),
        );
        self.audit(
            "batch_imported",
            &format!("batch/{}", batch.batch_id),
            &detail,
        )?;
        for (id, revision, received_at, text) in std::mem::take(&mut self.to_index) {
            search::index_text(self.tx, id, revision, received_at, &text)?;
        }
        Ok(())
    }
}
