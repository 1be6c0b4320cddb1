//! What `sync status` and the reconciliation report show: counts, conflicts, and every
//! record's state and batch.

use super::*;

impl Store {
    /// Counts for `sync status` and the home screen's line.
    pub fn sync_counts(&self) -> Result<SyncCounts> {
        let mut counts = SyncCounts::default();
        let mut st = self
            .conn
            .prepare_cached("SELECT state, n FROM outbox_count")?;
        for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (state, n) = row?;
            let n = n as u64;
            match SyncState::parse(&state) {
                Some(SyncState::Pending) => counts.pending = n,
                Some(SyncState::Exported) => counts.exported = n,
                Some(SyncState::Acknowledged) => counts.acknowledged = n,
                Some(SyncState::Conflict) => counts.conflict = n,
                None => {}
            }
        }
        let mut st = self
            .conn
            .prepare_cached("SELECT state, n FROM sync_inbox_count")?;
        for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (state, n) = row?;
            let n = n as u64;
            match state.as_str() {
                "held" => counts.received = n,
                "conflict" => counts.quarantined = n,
                "parked" => counts.waiting = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Every record quarantined on this hub, oldest origin first.
    pub fn sync_conflicts(&self) -> Result<Vec<Conflict>> {
        let mut st = self.conn.prepare_cached(
            "SELECT kind, encounter_id, revision, origin_device, origin_seq, sha256, held_sha256,
                    batch_id, line_no, problem
             FROM sync_inbox WHERE state = 'conflict' ORDER BY origin_device, origin_seq, sha256",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i64>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, id, revision, device, seq, sha, held, batch, line_no, why) = row?;
            out.push(Conflict {
                kind,
                encounter_id: Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt {
                    what: format!("encounter id `{id}`"),
                })?,
                revision,
                origin_device: device,
                origin_seq: seq,
                incoming_sha256: sha,
                held_sha256: held,
                why,
                batch_id: batch,
                line_no: line_no as u64,
            });
        }
        Ok(out)
    }

    /// The reconciliation report: every outbox entry (what this database wrote) and every
    /// inbox record (what it received), with state and batch. Stops at `f`'s first error.
    pub fn for_each_reconciliation<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(&ReconRow) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let queries = [
            (
                "outbox",
                "SELECT kind, device, seq, encounter_id, revision, state, batch_id
                 FROM outbox ORDER BY device, seq",
            ),
            (
                "inbox",
                "SELECT kind, origin_device, origin_seq, encounter_id, revision, state, batch_id
                 FROM sync_inbox ORDER BY origin_device, origin_seq, sha256",
            ),
        ];
        for (side, sql) in queries {
            let mut st = self.conn.prepare(sql).map_err(StoreError::from)?;
            let mut rows = st.query([]).map_err(StoreError::from)?;
            while let Some(r) = rows.next().map_err(StoreError::from)? {
                let row = (|| -> Result<ReconRow> {
                    let id: String = r.get(3)?;
                    Ok(ReconRow {
                        side,
                        kind: r.get(0)?,
                        device: r.get(1)?,
                        seq: r.get(2)?,
                        encounter_id: Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt {
                            what: format!("encounter id `{id}`"),
                        })?,
                        revision: r.get(4)?,
                        state: r.get(5)?,
                        batch_id: r.get(6)?,
                    })
                })()?;
                f(&row)?;
            }
        }
        Ok(())
    }

    /// For each device this hub received from: the sequence numbers received, as ranges
    /// `(first, last)`, in order (a hole between two ranges is a batch not imported yet).
    pub fn received_ranges(&self) -> Result<BTreeMap<String, Vec<(i64, i64)>>> {
        let mut st = self.conn.prepare_cached(
            "SELECT DISTINCT origin_device, origin_seq FROM sync_inbox ORDER BY origin_device, origin_seq",
        )?;
        let mut out: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
        for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (device, seq) = row?;
            let ranges = out.entry(device).or_default();
            match ranges.last_mut() {
                Some((_, last)) if *last + 1 == seq => *last = seq,
                _ => ranges.push((seq, seq)),
            }
        }
        Ok(out)
    }

    /// The inbox state (`held`, `conflict`, `parked`) of records received from `device`,
    /// given as `(seq, sha256)`; `None` for one never received.
    pub fn inbox_states(
        &self,
        device: &str,
        records: &[(i64, String)],
    ) -> Result<Vec<Option<String>>> {
        let mut st = self.conn.prepare_cached(
            "SELECT state FROM sync_inbox WHERE origin_device = ?1 AND origin_seq = ?2 AND sha256 = ?3",
        )?;
        records
            .iter()
            .map(|(seq, sha)| {
                Ok(st
                    .query_row(params![device, seq, sha], |r| r.get(0))
                    .optional()?)
            })
            .collect()
    }
}
