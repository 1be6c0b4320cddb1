//! Reading the outbox for an export, recording a batch as sent, and the hub's acknowledgement.

use super::*;

impl Store {
    /// Every outbox entry selected (all devices, or one), with its record, in `(device, seq)`
    /// order. Stops at `f`'s first error.
    pub fn for_each_outbox<E: From<StoreError>>(
        &self,
        selection: Selection,
        device: Option<&str>,
        policy: Option<&str>,
        f: impl FnMut(OutboxRecord) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.outbox_records(selection, device, policy, true, f)
    }

    /// [`Store::for_each_outbox`] without unpacking or checking each encounter's payload: the
    /// caller must call [`OutboxItem::check`] before the record leaves (the export does it on
    /// another thread than the one reading the database).
    pub fn for_each_outbox_to_check<E: From<StoreError>>(
        &self,
        selection: Selection,
        device: Option<&str>,
        policy: Option<&str>,
        f: impl FnMut(OutboxRecord) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.outbox_records(selection, device, policy, false, f)
    }

    fn outbox_records<E: From<StoreError>>(
        &self,
        selection: Selection,
        device: Option<&str>,
        policy: Option<&str>,
        check: bool,
        f: impl FnMut(OutboxRecord) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let cache: i64 = self
            .conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .map_err(StoreError::from)?;
        self.conn
            .pragma_update(None, "cache_size", EXPORT_CACHE_KIB)
            .map_err(StoreError::from)?;
        let result = self.outbox_records_in(selection, device, policy, check, f);
        self.conn
            .pragma_update(None, "cache_size", cache)
            .map_err(StoreError::from)?;
        result
    }

    fn outbox_records_in<E: From<StoreError>>(
        &self,
        selection: Selection,
        device: Option<&str>,
        policy: Option<&str>,
        check: bool,
        mut f: impl FnMut(OutboxRecord) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        // A kept view counts only when made under `policy` (?3) from the payload the revision
        // has; then it replaces the payload, its hash, the deadline and the cells (which name
        // the addiction acuity), and it is what `encounter_row` checks against its hash.
        let kept = |t: &str, e: &str| {
            format!(
                "LEFT JOIN encounter_view {t} ON {t}.encounter_id = {e}.encounter_id
                     AND {t}.revision = {e}.revision AND {t}.policy = ?3
                     AND {t}.of_sha256 = {e}.payload_sha256"
            )
        };
        let (v, pv, prv) = (kept("v", "e"), kept("pv", "p"), kept("prv", "pr"));
        let w = "v.withheld = 1";
        let sql = format!(
            "SELECT o.device, o.seq, o.state, o.kind,
                    CASE WHEN pv.withheld = 1 THEN pv.payload_sha256 ELSE p.payload_sha256 END,
                    CASE WHEN prv.withheld = 1 THEN prv.payload_sha256 ELSE pr.payload_sha256 END,
                    e.encounter_id, e.revision, e.supersedes, e.screener, e.device,
                    e.created_at, e.updated_at, e.finalized_at, e.received_at, e.caller_display,
                    e.language, e.age,
                    CASE WHEN {w} THEN NULL ELSE e.cell_computed END,
                    CASE WHEN {w} THEN NULL ELSE e.cell_chosen END,
                    e.risk, e.triage, e.crisis,
                    CASE WHEN {w} THEN v.deadline_at ELSE e.deadline_at END,
                    e.reason, e.note, e.definitions,
                    CASE WHEN {w} THEN v.payload ELSE e.payload END,
                    CASE WHEN {w} THEN v.payload_sha256 ELSE e.payload_sha256 END,
                    {REVIEW_COLUMNS}, v.withheld, pv.withheld IS NOT NULL, prv.withheld IS NOT NULL
             FROM outbox o
             LEFT JOIN encounter e
                    ON o.kind = 'encounter' AND e.encounter_id = o.encounter_id AND e.revision = o.revision
             LEFT JOIN encounter p ON p.encounter_id = e.encounter_id AND p.revision = e.supersedes
             LEFT JOIN review r ON r.review_id = o.review_id
             LEFT JOIN encounter pr ON pr.encounter_id = r.encounter_id AND pr.revision = r.revision
             {v} {pv} {prv}
             WHERE (?1 IS NULL OR o.device = ?1) AND (?2 = 0 OR o.state = 'pending')
             ORDER BY o.device, o.seq"
        );
        let mut st = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let pending_only = selection == Selection::Pending;
        let mut rows = st
            .query(params![device, pending_only, policy])
            .map_err(StoreError::from)?;
        let flags = 6 + ENCOUNTER_COLUMN_COUNT + REVIEW_COLUMN_COUNT;
        while let Some(r) = rows.next().map_err(StoreError::from)? {
            let record = (|| -> Result<OutboxRecord> {
                let device: String = r.get(0)?;
                let seq: i64 = r.get(1)?;
                let state = parse_enum(&r.get::<_, String>(2)?, SyncState::parse, "sync state")?;
                let kind: String = r.get(3)?;
                let item = if kind == "encounter" {
                    if r.get_ref(6)?.as_str_or_null().ok().flatten().is_none() {
                        return Err(StoreError::Corrupt {
                            what: format!("outbox entry {device}#{seq} (its revision is missing)"),
                        });
                    }
                    let kept = match r.get::<_, Option<bool>>(flags)? {
                        None => Kept::Unknown,
                        Some(false) => Kept::Full,
                        Some(true) => Kept::Withheld,
                    };
                    let (row, packed_payload) = if check {
                        (encounter_row(r, 6)?, None)
                    } else {
                        encounter_row_packed(r, 6)?
                    };
                    OutboxItem::Encounter {
                        row,
                        supersedes_sha256: r.get(4)?,
                        kept,
                        supersedes_kept: r.get(flags + 1)?,
                        packed_payload,
                    }
                } else {
                    let at = 6 + ENCOUNTER_COLUMN_COUNT;
                    let encounter_sha256: Option<String> = r.get(5)?;
                    let Some(encounter_sha256) = encounter_sha256 else {
                        return Err(StoreError::Corrupt {
                            what: format!("outbox entry {device}#{seq} (its review is missing)"),
                        });
                    };
                    OutboxItem::Review {
                        row: review_row(r, at)?,
                        encounter_sha256,
                        encounter_kept: r.get(flags + 2)?,
                    }
                };
                Ok(OutboxRecord {
                    device,
                    seq,
                    state,
                    item,
                })
            })()?;
            f(record)?;
        }
        Ok(())
    }

    /// Every finalized revision this database holds for a FHIR export: its own (from the
    /// outbox, `Selection::Pending` takes only those not yet exported) and, with
    /// `Selection::All`, those received from other devices. Grouped by device, in sequence
    /// order; each revision once. The `i64` is the revision's outbox sequence number on the
    /// device that wrote it.
    pub fn for_each_finalized<E: From<StoreError>>(
        &self,
        selection: Selection,
        device: Option<&str>,
        mut f: impl FnMut(&str, i64, EncounterRow) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let own = format!(
            "SELECT o.device, o.seq, {ENCOUNTER_COLUMNS}
             FROM outbox o JOIN encounter e ON e.encounter_id = o.encounter_id AND e.revision = o.revision
             WHERE o.kind = 'encounter' AND e.status = 'finalized'
               AND (?1 IS NULL OR o.device = ?1) AND (?2 = 0 OR o.state = 'pending')
             ORDER BY o.device, o.seq"
        );
        let received = format!(
            "SELECT i.origin_device, i.origin_seq, {ENCOUNTER_COLUMNS}
             FROM sync_inbox i JOIN encounter e ON e.encounter_id = i.encounter_id AND e.revision = i.revision
             WHERE i.kind = 'encounter' AND i.state = 'held' AND e.status = 'finalized'
               AND (?1 IS NULL OR i.origin_device = ?1) AND ?2 = 0
             ORDER BY i.origin_device, i.origin_seq"
        );
        let mut seen = std::collections::HashSet::new();
        let pending_only = selection == Selection::Pending;
        for sql in [own, received] {
            let mut st = self.conn.prepare(&sql).map_err(StoreError::from)?;
            let mut rows = st
                .query(params![device, pending_only])
                .map_err(StoreError::from)?;
            while let Some(r) = rows.next().map_err(StoreError::from)? {
                let dev: String = r.get(0).map_err(StoreError::from)?;
                let seq: i64 = r.get(1).map_err(StoreError::from)?;
                let row = encounter_row(r, 2)?;
                if seen.insert((row.encounter_id, row.revision)) {
                    f(&dev, seq, row)?;
                }
            }
        }
        Ok(())
    }

    /// Record a batch file written by this device, in one transaction with its audit row.
    /// `carried` are the outbox sequence numbers (of `batch.device`) in the file: with
    /// `move_to_exported`, pending ones move to `exported` and each remembers the batch.
    pub fn record_export(
        &mut self,
        actor: &Actor,
        batch: &BatchRecord,
        carried: &[i64],
        move_to_exported: bool,
    ) -> Result<()> {
        let now = ts(Utc::now());
        self.write(|tx| {
            insert_batch(tx, batch, "export", &now)?;
            let detail = batch_detail(batch, &serde_json::json!({}));
            audit::append(
                tx,
                &NewAudit {
                    at: &now,
                    actor: &actor.user,
                    device: &actor.device,
                    action: "batch_exported",
                    record: &format!("batch/{}", batch.batch_id),
                    detail: &detail,
                },
            )?;
            if move_to_exported {
                mark_exported(tx, batch, carried)?;
            }
            Ok(())
        })
    }

    /// Mark outbox entries of `device` with what the hub reported (`acknowledged` or
    /// `conflict`), in one transaction.
    pub fn acknowledge(
        &mut self,
        device: &str,
        states: &[(i64, SyncState, Option<String>)],
    ) -> Result<()> {
        self.write(|tx| {
            for (seq, state, error) in states {
                crate::store::outbox::set_state(tx, device, *seq, *state, error.as_deref())?;
            }
            Ok(())
        })
    }

    /// A stored revision's payload and its hash (for computing what an export sent of it).
    pub fn revision_payload(
        &self,
        encounter_id: Uuid,
        revision: u32,
    ) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT payload, payload_sha256 FROM encounter
                 WHERE encounter_id = ?1 AND revision = ?2",
            )?
            .query_row(params![encounter_id.to_string(), revision], |r| {
                Ok((r.get::<_, crate::store::packed::Stored>(0)?.0, r.get(1)?))
            })
            .optional()?)
    }

    /// The encounter revision behind one of this database's outbox entries, if it is one.
    pub fn outbox_encounter(&self, device: &str, seq: i64) -> Result<Option<(Uuid, u32)>> {
        let row: Option<(String, u32)> = self
            .conn
            .prepare_cached(
                "SELECT encounter_id, revision FROM outbox
                 WHERE device = ?1 AND seq = ?2 AND kind = 'encounter'",
            )?
            .query_row(params![device, seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(id, rev)| {
            Uuid::parse_str(&id)
                .map(|u| (u, rev))
                .map_err(|_| StoreError::Corrupt {
                    what: format!("encounter id `{id}`"),
                })
        })
        .transpose()
    }

    /// The payload hash of the record behind one of this database's outbox entries (an
    /// encounter revision's, or a review's canonical payload's).
    pub fn outbox_record_sha256(&self, device: &str, seq: i64) -> Result<Option<String>> {
        let row: Option<(String, Option<String>, Option<i64>)> = self
            .conn
            .prepare_cached(
                "SELECT o.kind, e.payload_sha256, o.review_id FROM outbox o
                 LEFT JOIN encounter e ON e.encounter_id = o.encounter_id AND e.revision = o.revision
                 WHERE o.device = ?1 AND o.seq = ?2",
            )?
            .query_row(params![device, seq], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        match row {
            None => Ok(None),
            Some((kind, sha, _)) if kind == "encounter" => Ok(sha),
            Some((_, _, review_id)) => {
                let review = self
                    .conn
                    .prepare_cached(&format!(
                        "SELECT {REVIEW_COLUMNS} FROM review r WHERE r.review_id = ?1"
                    ))?
                    .query_row([review_id], |r| Ok(review_row(r, 0)))
                    .optional()?
                    .transpose()?;
                Ok(review.map(|r| payload_sha256(r.payload())))
            }
        }
    }
}
