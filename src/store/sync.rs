//! The store's side of later sync (DESIGN 5; the file formats live in `src/sync/`): reading
//! outbox entries with their records for export, recording batches, and applying an imported
//! batch on a hub in one transaction.
//!
//! On the hub every received record gets a row in `sync_inbox` (see `sql/0003_sync.sql`):
//! *held* (the hub holds exactly this record), *conflict* (the hub holds a different record
//! under the same identity, or the record builds on a version the hub does not hold: kept,
//! never applied) or *parked* (it builds on a record that has not arrived yet). Parked records
//! are settled at the end of every import, so importing a set of files in any order leaves the
//! same records, states and inbox behind.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::{self, NewAudit, encounter_record, review_record};
use super::encounters::payload_sha256;
use super::error::{Result, StoreError};
use super::model::{Actor, SyncState, parse_enum, parse_ts, ts};
use super::{Store, search};

/// The page cache during an import (negative: KiB), 64 MiB.
const IMPORT_CACHE_KIB: i64 = -65_536;

/// The page cache while reading the outbox for an export (negative: KiB), 32 MiB: a review
/// reads the row of the revision it reviews, which an encrypted database would otherwise
/// decrypt a second time once it has left the 2 MiB default cache.
const EXPORT_CACHE_KIB: i64 = -32_768;

/// Which outbox entries an export takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Entries not yet exported.
    Pending,
    /// Every entry, whatever its state (a re-send; the hub ignores what it holds).
    All,
}

/// A finalized revision exactly as stored: every column (times as stored text) except the
/// row's pointer into the local audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncounterRow {
    pub encounter_id: Uuid,
    pub revision: u32,
    pub supersedes: Option<u32>,
    pub screener: String,
    pub device: String,
    pub created_at: String,
    pub updated_at: String,
    pub finalized_at: String,
    pub received_at: String,
    pub caller_display: String,
    pub language: Option<String>,
    pub age: Option<u32>,
    pub cell_computed: Option<String>,
    pub cell_chosen: Option<String>,
    pub risk: Option<String>,
    pub triage: Option<String>,
    pub crisis: bool,
    pub deadline_at: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
    /// JSON object `definition id → version`, exactly as stored.
    pub definitions: String,
    /// The payload exactly as stored.
    pub payload: String,
    pub payload_sha256: String,
}

/// A supervisor's review as stored on the device that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRow {
    /// The id on the device that wrote it (the hub numbers its own rows).
    pub review_id: i64,
    pub encounter_id: Uuid,
    pub revision: u32,
    pub decision: String,
    pub note: Option<String>,
    pub reviewer: String,
    pub device: String,
    pub reviewed_at: String,
}

impl ReviewRow {
    /// The review as exported: canonical JSON in this field order. Its SHA-256 is the review's
    /// payload hash.
    pub fn payload(&self) -> String {
        serde_json::to_string(self).expect("a review serializes")
    }
}

/// What an outbox entry carries.
// One record at a time passes through: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxItem {
    Encounter {
        row: EncounterRow,
        /// The payload hash of the revision this one supersedes (an addendum builds on it).
        supersedes_sha256: Option<String>,
        /// How the revision leaves, from its kept view (`encounter_view`, made under the rules
        /// [`Store::for_each_outbox`] was given). With [`Kept::Withheld`] the row already is
        /// the view: its payload, hash and deadline, its cells `None`.
        kept: Kept,
        /// `supersedes_sha256` is already what the hub holds of that revision (the hash of its
        /// kept view, or of the stored payload when it leaves in full).
        supersedes_kept: bool,
    },
    Review {
        row: ReviewRow,
        /// The payload hash of the revision reviewed.
        encounter_sha256: String,
        /// `encounter_sha256` is already what the hub holds of that revision (as above).
        encounter_kept: bool,
    },
}

/// What the store kept of how a finalized revision leaves the device (its withheld view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Nothing kept under the rules asked for: the caller makes the view.
    Unknown,
    /// The caller consented: the revision leaves as stored.
    Full,
    /// The row is the kept withheld view.
    Withheld,
}

/// One outbox entry with its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    pub device: String,
    pub seq: i64,
    pub state: SyncState,
    pub item: OutboxItem,
}

/// A batch file written or read (the plaintext facts of its manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    pub batch_id: Uuid,
    /// `ndjson` or `fhir`.
    pub format: String,
    pub device: String,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub count: u64,
    pub file_name: String,
    pub file_sha256: String,
    pub encrypted: bool,
    pub created_at: DateTime<Utc>,
}

/// A record received by a hub, with what it builds on.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Incoming {
    Encounter {
        row: EncounterRow,
        supersedes_sha256: Option<String>,
    },
    Review {
        row: ReviewRow,
        encounter_sha256: String,
    },
}

impl Incoming {
    fn kind(&self) -> &'static str {
        match self {
            Incoming::Encounter { .. } => "encounter",
            Incoming::Review { .. } => "review",
        }
    }

    fn key(&self) -> (Uuid, u32) {
        match self {
            Incoming::Encounter { row, .. } => (row.encounter_id, row.revision),
            Incoming::Review { row, .. } => (row.encounter_id, row.revision),
        }
    }

    /// The record's identifying hash: the payload hash of an encounter revision, the hash of a
    /// review's canonical payload.
    pub fn sha256(&self) -> String {
        match self {
            Incoming::Encounter { row, .. } => row.payload_sha256.clone(),
            Incoming::Review { row, .. } => payload_sha256(row.payload()),
        }
    }
}

/// Where a received record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub device: String,
    pub seq: i64,
    /// The record's line in its batch file (1-based).
    pub line_no: u64,
}

/// What importing one record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Written to the hub now.
    New,
    /// The hub already holds exactly this record (from this or another batch).
    Held,
    /// Already received from this origin: nothing to do.
    AlreadyReceived,
    /// Quarantined: the hub holds something else under this identity.
    Conflict(Conflict),
    /// Waiting for the record it builds on.
    Parked,
}

/// A quarantined record, as `accessline import` and `sync status` list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// `encounter` or `review`.
    pub kind: String,
    pub encounter_id: Uuid,
    pub revision: u32,
    pub origin_device: String,
    pub origin_seq: i64,
    /// The hash of what was received.
    pub incoming_sha256: String,
    /// The hash of what the hub holds (for an addendum or review that builds on a version the
    /// hub does not hold: the hub's version of that revision).
    pub held_sha256: String,
    pub why: String,
    pub batch_id: String,
    pub line_no: u64,
}

/// What importing one batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub new: u64,
    pub held: u64,
    pub already_received: u64,
    pub parked: u64,
    /// Records parked by earlier imports that this one let through.
    pub settled: u64,
    pub conflicts: Vec<Conflict>,
    /// The same batch was imported before.
    pub batch_seen_before: bool,
}

/// Counts for `accessline sync status` and the line on the TUI home screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// This database's own outbox entries, by state.
    pub pending: u64,
    pub exported: u64,
    pub acknowledged: u64,
    pub conflict: u64,
    /// Records received from other devices (a hub): held, quarantined, waiting.
    pub received: u64,
    pub quarantined: u64,
    pub waiting: u64,
}

impl SyncCounts {
    /// One line for the home screen, e.g. `sync: 12 pending · 340 exported · 0 acknowledged ·
    /// 0 conflicts`, with the hub's figures when it has received anything.
    pub fn line(&self) -> String {
        let mut s = format!(
            "sync: {} pending · {} exported · {} acknowledged · {} conflicts",
            self.pending, self.exported, self.acknowledged, self.conflict
        );
        if self.received + self.quarantined + self.waiting > 0 {
            s.push_str(&format!(
                " · received {} · {} quarantined · {} waiting",
                self.received, self.quarantined, self.waiting
            ));
        }
        s
    }
}

/// One row of the reconciliation report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconRow {
    /// `outbox` (written here) or `inbox` (received).
    pub side: &'static str,
    pub kind: String,
    pub device: String,
    pub seq: i64,
    pub encounter_id: Uuid,
    pub revision: u32,
    /// Outbox: pending | exported | acknowledged | conflict; inbox: held | conflict | parked.
    pub state: String,
    pub batch_id: Option<String>,
}

const ENCOUNTER_COLUMNS: &str = "e.encounter_id, e.revision, e.supersedes, e.screener, e.device,
    e.created_at, e.updated_at, e.finalized_at, e.received_at, e.caller_display, e.language, e.age,
    e.cell_computed, e.cell_chosen, e.risk, e.triage, e.crisis, e.deadline_at, e.reason, e.note,
    e.definitions, e.payload, e.payload_sha256";
const ENCOUNTER_COLUMN_COUNT: usize = 23;

impl EncounterRow {
    /// The payload still hashes to its stored SHA-256: a damaged row must not leave the device
    /// looking intact.
    pub fn check_payload(&self) -> Result<()> {
        use sha2::{Digest, Sha256};
        let mut hex = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(self.payload.as_bytes()), &mut hex)
            .expect("64 hex digits for 32 bytes");
        let ok = hex.as_slice() == self.payload_sha256.as_bytes();
        if ok {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                what: format!(
                    "payload of {} (it no longer matches its SHA-256)",
                    encounter_record(self.encounter_id, self.revision)
                ),
            })
        }
    }
}

fn encounter_row(r: &rusqlite::Row<'_>, at: usize) -> Result<EncounterRow> {
    let row = encounter_row_unchecked(r, at)?;
    row.check_payload()?;
    Ok(row)
}

fn encounter_row_unchecked(r: &rusqlite::Row<'_>, at: usize) -> Result<EncounterRow> {
    let id: String = r.get(at)?;
    let row = EncounterRow {
        encounter_id: Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt {
            what: format!("encounter id `{id}`"),
        })?,
        revision: r.get(at + 1)?,
        supersedes: r.get(at + 2)?,
        screener: r.get(at + 3)?,
        device: r.get(at + 4)?,
        created_at: r.get(at + 5)?,
        updated_at: r.get(at + 6)?,
        finalized_at: r.get(at + 7)?,
        received_at: r.get(at + 8)?,
        caller_display: r.get(at + 9)?,
        language: r.get(at + 10)?,
        age: r.get(at + 11)?,
        cell_computed: r.get(at + 12)?,
        cell_chosen: r.get(at + 13)?,
        risk: r.get(at + 14)?,
        triage: r.get(at + 15)?,
        crisis: r.get(at + 16)?,
        deadline_at: r.get(at + 17)?,
        reason: r.get(at + 18)?,
        note: r.get(at + 19)?,
        definitions: r.get(at + 20)?,
        payload: r.get(at + 21)?,
        payload_sha256: r.get(at + 22)?,
    };
    Ok(row)
}

const REVIEW_COLUMNS: &str = "r.review_id, r.encounter_id, r.revision, r.decision, r.note, r.reviewer, r.device, r.reviewed_at";
const REVIEW_COLUMN_COUNT: usize = 8;

fn review_row(r: &rusqlite::Row<'_>, at: usize) -> Result<ReviewRow> {
    let id: String = r.get(at + 1)?;
    Ok(ReviewRow {
        review_id: r.get(at)?,
        encounter_id: Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt {
            what: format!("encounter id `{id}`"),
        })?,
        revision: r.get(at + 2)?,
        decision: r.get(at + 3)?,
        note: r.get(at + 4)?,
        reviewer: r.get(at + 5)?,
        device: r.get(at + 6)?,
        reviewed_at: r.get(at + 7)?,
    })
}

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

    /// [`Store::for_each_outbox`] without checking each encounter's payload against its
    /// hash: the caller must call [`EncounterRow::check_payload`] before the record leaves
    /// (the export does it on another thread than the one reading the database).
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
                    OutboxItem::Encounter {
                        row: if check {
                            encounter_row(r, 6)?
                        } else {
                            encounter_row_unchecked(r, 6)?
                        },
                        supersedes_sha256: r.get(4)?,
                        kept,
                        supersedes_kept: r.get(flags + 1)?,
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

    /// Counts for `sync status` and the home screen's line.
    pub fn sync_counts(&self) -> Result<SyncCounts> {
        let mut counts = SyncCounts::default();
        let mut st = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM outbox GROUP BY state")?;
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
            .prepare_cached("SELECT state, count(*) FROM sync_inbox GROUP BY state")?;
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

    /// Mark outbox entries of `device` with what the hub reported (`acknowledged` or
    /// `conflict`), in one transaction.
    pub fn acknowledge(
        &mut self,
        device: &str,
        states: &[(i64, SyncState, Option<String>)],
    ) -> Result<()> {
        self.write(|tx| {
            for (seq, state, error) in states {
                super::outbox::set_state(tx, device, *seq, *state, error.as_deref())?;
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
                Ok((r.get(0)?, r.get(1)?))
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

/// Move the carried entries to `exported` (pending ones) and remember their batch; mirror
/// the state on the encounters. A batch that carries every entry of its sequence range (the
/// usual case) is one range update; otherwise entry by entry.
fn mark_exported(c: &Connection, batch: &BatchRecord, carried: &[i64]) -> Result<()> {
    let id = batch.batch_id.to_string();
    let (Some(first), Some(last)) = (carried.first(), carried.last()) else {
        return Ok(());
    };
    let in_range: i64 = c
        .prepare_cached("SELECT count(*) FROM outbox WHERE device = ?1 AND seq BETWEEN ?2 AND ?3")?
        .query_row(params![batch.device, first, last], |r| r.get(0))?;
    if in_range == carried.len() as i64 && carried.windows(2).all(|w| w[0] < w[1]) {
        c.prepare_cached(
            "UPDATE encounter_state SET sync_state = 'exported'
             FROM (SELECT encounter_id, revision FROM outbox
                   WHERE device = ?1 AND seq BETWEEN ?2 AND ?3 AND kind = 'encounter'
                     AND state = 'pending') AS o
             WHERE encounter_state.encounter_id = o.encounter_id
               AND encounter_state.revision = o.revision",
        )?
        .execute(params![batch.device, first, last])?;
        c.prepare_cached(
            "UPDATE outbox SET batch_id = ?4,
                 state = CASE WHEN state = 'pending' THEN 'exported' ELSE state END
             WHERE device = ?1 AND seq BETWEEN ?2 AND ?3",
        )?
        .execute(params![batch.device, first, last, id])?;
        return Ok(());
    }
    let mut find = c.prepare_cached(
        "SELECT kind, encounter_id, revision, state FROM outbox WHERE device = ?1 AND seq = ?2",
    )?;
    let mut outbox = c.prepare_cached(
        "UPDATE outbox SET batch_id = ?3,
             state = CASE WHEN state = 'pending' THEN 'exported' ELSE state END
         WHERE device = ?1 AND seq = ?2",
    )?;
    let mut mirror = c.prepare_cached(
        "UPDATE encounter_state SET sync_state = 'exported'
         WHERE encounter_id = ?1 AND revision = ?2 AND sync_state = 'pending'",
    )?;
    for seq in carried {
        let entry: Option<(String, String, u32, String)> = find
            .query_row(params![batch.device, seq], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((kind, encounter_id, revision, state)) = entry else {
            return Err(StoreError::NoOutboxEntry {
                device: batch.device.clone(),
                seq: *seq,
            });
        };
        outbox.execute(params![batch.device, seq, id])?;
        if kind == "encounter" && state == "pending" {
            mirror.execute(params![encounter_id, revision])?;
        }
    }
    Ok(())
}

fn insert_batch(c: &Connection, b: &BatchRecord, direction: &str, now: &str) -> Result<usize> {
    Ok(c.prepare_cached(
        "INSERT OR IGNORE INTO sync_batch (batch_id, direction, format, device, first_seq, last_seq,
             count, file_name, file_sha256, encrypted, created_at, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        b.batch_id.to_string(),
        direction,
        b.format,
        b.device,
        b.first_seq,
        b.last_seq,
        b.count as i64,
        b.file_name,
        b.file_sha256,
        b.encrypted,
        ts(b.created_at),
        now
    ])?)
}

fn batch_detail(b: &BatchRecord, extra: &serde_json::Value) -> String {
    let mut v = serde_json::json!({
        "format": b.format,
        "device": b.device,
        "first_seq": b.first_seq,
        "last_seq": b.last_seq,
        "count": b.count,
        "file": b.file_name,
        "sha256": b.file_sha256,
        "encrypted": b.encrypted,
    });
    if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        v.extend(extra.clone());
    }
    v.to_string()
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
                audit::append(
                    self.tx,
                    &NewAudit {
                        at: &self.now,
                        actor: &self.actor.user,
                        device: &self.actor.device,
                        action: "sync_conflict",
                        record: &encounter_record(encounter_id, revision),
                        detail: &detail,
                    },
                )?;
                self.summary.conflicts.push(conflict.clone());
                Applied::Conflict(conflict)
            }
        })
    }

    fn judge(&self, incoming: &Incoming, sha: &str) -> Result<Verdict> {
        let held_sha = |id: Uuid, revision: u32| -> Result<Option<(String, Option<String>)>> {
            Ok(self
                .tx
                .prepare_cached(
                    "SELECT status, payload_sha256 FROM encounter WHERE encounter_id = ?1 AND revision = ?2",
                )?
                .query_row(params![id.to_string(), revision], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?)
        };
        let held_as = |status: &str, h: Option<String>| -> String {
            match (status, h) {
                ("finalized", Some(h)) => h,
                _ => "draft".to_owned(),
            }
        };
        match incoming {
            Incoming::Encounter {
                row,
                supersedes_sha256,
            } => {
                if let Some((status, h)) = held_sha(row.encounter_id, row.revision)? {
                    let held = held_as(&status, h);
                    return Ok(if held == sha {
                        Verdict::Held { review_id: None }
                    } else {
                        Verdict::Conflict {
                            held_sha256: held,
                            why: "same encounter and revision, different content".into(),
                        }
                    });
                }
                let Some(previous) = row.supersedes else {
                    return Ok(Verdict::Apply);
                };
                match held_sha(row.encounter_id, previous)? {
                    None => Ok(Verdict::Park),
                    Some((status, h)) => {
                        let held = held_as(&status, h);
                        if Some(&held) == supersedes_sha256.as_ref() {
                            Ok(Verdict::Apply)
                        } else {
                            Ok(Verdict::Conflict {
                                held_sha256: held,
                                why: format!(
                                    "an addendum to a version of revision {previous} the hub does not hold"
                                ),
                            })
                        }
                    }
                }
            }
            Incoming::Review {
                row,
                encounter_sha256,
            } => {
                let id = row.encounter_id.to_string();
                // The same review received before (from another batch or sequence number).
                let earlier: Option<(String, Option<i64>)> = self
                    .tx
                    .prepare_cached(
                        "SELECT sha256, review_id FROM sync_inbox
                         WHERE encounter_id = ?1 AND revision = ?2 AND kind = 'review'
                           AND origin_device = ?3 AND origin_review_id = ?4 AND state = 'held'",
                    )?
                    .query_row(params![id, row.revision, row.device, row.review_id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                if let Some((held, review_id)) = earlier {
                    return Ok(if held == sha {
                        Verdict::Held { review_id }
                    } else {
                        Verdict::Conflict {
                            held_sha256: held,
                            why: "same review, different content".into(),
                        }
                    });
                }
                // A review written on this database itself (a hub importing its own export).
                let local: Option<Result<ReviewRow>> = self
                    .tx
                    .prepare_cached(&format!(
                        "SELECT {REVIEW_COLUMNS} FROM review r
                         WHERE r.review_id = ?1 AND r.device = ?2 AND r.encounter_id = ?3 AND r.revision = ?4
                           AND NOT EXISTS (SELECT 1 FROM sync_inbox i WHERE i.encounter_id = r.encounter_id
                                           AND i.revision = r.revision AND i.review_id = r.review_id)"
                    ))?
                    .query_row(params![row.review_id, row.device, id, row.revision], |r| {
                        Ok(review_row(r, 0))
                    })
                    .optional()?;
                if let Some(local) = local {
                    let held = payload_sha256(local?.payload());
                    return Ok(if held == sha {
                        Verdict::Held {
                            review_id: Some(row.review_id),
                        }
                    } else {
                        Verdict::Conflict {
                            held_sha256: held,
                            why: "same review, different content".into(),
                        }
                    });
                }
                match held_sha(row.encounter_id, row.revision)? {
                    None => Ok(Verdict::Park),
                    Some((status, h)) => {
                        let held = held_as(&status, h);
                        if &held == encounter_sha256 {
                            Ok(Verdict::Apply)
                        } else {
                            Ok(Verdict::Conflict {
                                held_sha256: held,
                                why: "a review of a version of the revision the hub does not hold"
                                    .into(),
                            })
                        }
                    }
                }
            }
        }
    }

    /// Write a record; returns the hub's review id for a review.
    fn apply(&mut self, origin: &Origin, incoming: &Incoming, sha: &str) -> Result<Option<i64>> {
        let origin_text = format!("{}#{}", origin.device, origin.seq);
        match incoming {
            Incoming::Encounter { row, .. } => {
                let id = row.encounter_id.to_string();
                let record = encounter_record(row.encounter_id, row.revision);
                let detail = serde_json::json!({
                    "sha256": sha,
                    "supersedes": row.supersedes,
                    "origin": origin_text,
                    "batch": self.batch_id,
                })
                .to_string();
                let audit_seq = audit::append(
                    self.tx,
                    &NewAudit {
                        at: &self.now,
                        actor: &self.actor.user,
                        device: &self.actor.device,
                        action: "imported",
                        record: &record,
                        detail: &detail,
                    },
                )?;
                self.tx
                    .prepare_cached(
                        "INSERT INTO encounter (encounter_id, revision, status, supersedes, screener,
                             device, created_at, updated_at, finalized_at, received_at, caller_display,
                             language, age, cell_computed, cell_chosen, risk, triage, crisis, deadline_at,
                             reason, note, audit_seq, payload_sha256, definitions, payload)
                         VALUES (?1, ?2, 'finalized', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                             ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
                    )?
                    .execute(params![
                        id,
                        row.revision,
                        row.supersedes,
                        row.screener,
                        row.device,
                        row.created_at,
                        row.updated_at,
                        row.finalized_at,
                        row.received_at,
                        row.caller_display,
                        row.language,
                        row.age,
                        row.cell_computed,
                        row.cell_chosen,
                        row.risk,
                        row.triage,
                        row.crisis,
                        row.deadline_at,
                        row.reason,
                        row.note,
                        audit_seq,
                        row.payload_sha256,
                        row.definitions,
                        row.payload
                    ])?;
                // Held by the county: acknowledged. A later revision, if any, is current.
                self.tx
                    .prepare_cached(
                        "INSERT INTO encounter_state (encounter_id, revision, screener, current, sync_state,
                             received_at)
                         VALUES (?1, ?2, ?3,
                             NOT EXISTS (SELECT 1 FROM encounter n WHERE n.encounter_id = ?1 AND n.revision > ?2),
                             'acknowledged', ?4)",
                    )?
                    .execute(params![id, row.revision, row.screener, row.received_at])?;
                self.tx
                    .prepare_cached(
                        "UPDATE encounter_state SET current = 0
                         WHERE encounter_id = ?1 AND revision < ?2 AND current = 1",
                    )?
                    .execute(params![id, row.revision])?;
                let text = [row.reason.as_deref(), row.note.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                self.to_index.push((
                    row.encounter_id,
                    row.revision,
                    parse_ts(&row.received_at)?,
                    text,
                ));
                Ok(None)
            }
            Incoming::Review { row, .. } => {
                let id = row.encounter_id.to_string();
                let review_id: i64 = self
                    .tx
                    .prepare_cached("SELECT coalesce(max(review_id), 0) + 1 FROM review")?
                    .query_row([], |r| r.get(0))?;
                let detail = serde_json::json!({
                    "encounter": encounter_record(row.encounter_id, row.revision),
                    "decision": row.decision,
                    "sha256": sha,
                    "origin": origin_text,
                    "batch": self.batch_id,
                })
                .to_string();
                let audit_seq = audit::append(
                    self.tx,
                    &NewAudit {
                        at: &self.now,
                        actor: &self.actor.user,
                        device: &self.actor.device,
                        action: "imported",
                        record: &review_record(review_id),
                        detail: &detail,
                    },
                )?;
                self.tx
                    .prepare_cached(
                        "INSERT INTO review (review_id, encounter_id, revision, decision, note, reviewer,
                             device, reviewed_at, audit_seq)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?
                    .execute(params![
                        review_id,
                        id,
                        row.revision,
                        row.decision,
                        row.note,
                        row.reviewer,
                        row.device,
                        row.reviewed_at,
                        audit_seq
                    ])?;
                // The latest decision governs, whatever order reviews arrive in.
                self.tx
                    .prepare_cached(
                        "UPDATE encounter_state SET review_state = coalesce(
                             (SELECT decision FROM review WHERE encounter_id = ?1 AND revision = ?2
                              ORDER BY reviewed_at DESC, device DESC, decision DESC LIMIT 1),
                             'awaiting')
                         WHERE encounter_id = ?1 AND revision = ?2",
                    )?
                    .execute(params![id, row.revision])?;
                if let Some(note) = row.note.as_deref() {
                    let received_at: String = self
                        .tx
                        .prepare_cached(
                            "SELECT received_at FROM encounter WHERE encounter_id = ?1 AND revision = ?2",
                        )?
                        .query_row(params![id, row.revision], |r| r.get(0))?;
                    self.to_index.push((
                        row.encounter_id,
                        row.revision,
                        parse_ts(&received_at)?,
                        note.to_owned(),
                    ));
                }
                Ok(Some(review_id))
            }
        }
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
        audit::append(
            self.tx,
            &NewAudit {
                at: &self.now,
                actor: &self.actor.user,
                device: &self.actor.device,
                action: "batch_imported",
                record: &format!("batch/{}", batch.batch_id),
                detail: &detail,
            },
        )?;
        for (id, revision, received_at, text) in std::mem::take(&mut self.to_index) {
            search::index_text(self.tx, id, revision, received_at, &text)?;
        }
        Ok(())
    }
}

/// Values the schema would refuse, refused with a message that says which.
fn validate(incoming: &Incoming) -> Result<()> {
    let bad = |problem: String| StoreError::Invalid {
        what: "sync record",
        problem,
    };
    let time = |name: &str, v: &str| -> Result<()> {
        let t = parse_ts(v).map_err(|_| bad(format!("{name} `{v}` is not an RFC 3339 time")))?;
        if ts(t) != v {
            return Err(bad(format!(
                "{name} `{v}` is not in storage form (UTC, milliseconds, `Z`)"
            )));
        }
        Ok(())
    };
    match incoming {
        Incoming::Encounter {
            row,
            supersedes_sha256,
        } => {
            if row.revision == 0 {
                return Err(bad("revision must be 1 or more".into()));
            }
            let expected = (row.revision > 1).then(|| row.revision - 1);
            if row.supersedes != expected {
                return Err(bad(format!(
                    "revision {} must supersede {:?}, not {:?}",
                    row.revision, expected, row.supersedes
                )));
            }
            if row.supersedes.is_some() != supersedes_sha256.is_some() {
                return Err(bad(
                    "an addendum carries the hash of the revision it supersedes (and only an addendum)".into(),
                ));
            }
            if payload_sha256(&row.payload) != row.payload_sha256 {
                return Err(bad("payload does not match its SHA-256".into()));
            }
            for (name, v) in [
                ("created_at", &row.created_at),
                ("updated_at", &row.updated_at),
                ("finalized_at", &row.finalized_at),
                ("received_at", &row.received_at),
            ] {
                time(name, v)?;
            }
            if let Some(d) = &row.deadline_at {
                time("deadline_at", d)?;
            }
            if serde_json::from_str::<BTreeMap<String, String>>(&row.definitions).is_err() {
                return Err(bad(
                    "definitions must be an object of definition id → version".into(),
                ));
            }
            for (name, cell) in [
                ("cell_computed", &row.cell_computed),
                ("cell_chosen", &row.cell_chosen),
            ] {
                if let Some(c) = cell
                    && crate::domain::quadrant::CellId::parse(c).is_none()
                {
                    return Err(bad(format!("{name} `{c}` is not a quadrant cell")));
                }
            }
            if let Some(r) = &row.risk
                && super::model::Risk::parse(r).is_none()
            {
                return Err(bad(format!("risk `{r}` is not a risk level")));
            }
            if let Some(t) = &row.triage
                && super::records::triage_parse(t).is_none()
            {
                return Err(bad(format!("triage `{t}` is not a triage level")));
            }
        }
        Incoming::Review { row, .. } => {
            if super::model::Decision::parse(&row.decision).is_none() {
                return Err(bad(format!(
                    "decision `{}` is not a review decision",
                    row.decision
                )));
            }
            time("reviewed_at", &row.reviewed_at)?;
            if row.review_id < 1 || row.revision < 1 {
                return Err(bad("review id and revision must be 1 or more".into()));
            }
        }
    }
    Ok(())
}
