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

/// The page cache while reading the outbox for an export (negative: KiB), 8 MiB: a review
/// reads the row of the revision it reviews, which an encrypted database would otherwise
/// decrypt a second time once it has left the 2 MiB default cache. With payloads packed
/// (0013) 8 MiB exports 100,000 encounters as fast as 32 or 128 MiB did (1.93 s), and the
/// export's peak memory is 40 MB instead of 65 MB.
const EXPORT_CACHE_KIB: i64 = -8_192;

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
        /// From [`Store::for_each_outbox_to_check`]: the payload still packed as stored
        /// (`store::packed`), `row.payload` empty until [`OutboxItem::check`] unpacks it (on
        /// the export's encoding thread, not the one reading the database).
        packed_payload: Option<Vec<u8>>,
    },
    Review {
        row: ReviewRow,
        /// The payload hash of the revision reviewed.
        encounter_sha256: String,
        /// `encounter_sha256` is already what the hub holds of that revision (as above).
        encounter_kept: bool,
    },
}

impl OutboxItem {
    /// An encounter's payload unpacked (if it was left packed) and checked against its hash;
    /// a review has nothing to check.
    pub fn check(&mut self) -> Result<()> {
        match self {
            OutboxItem::Encounter {
                row,
                packed_payload,
                ..
            } => unpack_and_check(row, packed_payload),
            OutboxItem::Review { .. } => Ok(()),
        }
    }
}

/// `row.payload` from `packed` (if the read left it packed), then checked against its hash.
pub fn unpack_and_check(row: &mut EncounterRow, packed: &mut Option<Vec<u8>>) -> Result<()> {
    if let Some(bytes) = packed.take() {
        row.payload = crate::store::packed::unpack(&bytes).map_err(|e| StoreError::Corrupt {
            what: format!(
                "payload of {} ({e})",
                encounter_record(row.encounter_id, row.revision)
            ),
        })?;
    }
    row.check_payload()
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
    encounter_row_columns(r, at, r.get::<_, crate::store::packed::Stored>(at + 21)?.0)
}

/// An encounter row whose payload is left as stored: `(row with an empty payload, the packed
/// bytes)` when packed, `(row, None)` when stored as text.
fn encounter_row_packed(
    r: &rusqlite::Row<'_>,
    at: usize,
) -> Result<(EncounterRow, Option<Vec<u8>>)> {
    Ok(match r.get_ref(at + 21)? {
        rusqlite::types::ValueRef::Blob(b) => {
            let packed = b.to_vec();
            (encounter_row_columns(r, at, String::new())?, Some(packed))
        }
        _ => (encounter_row_unchecked(r, at)?, None),
    })
}

fn encounter_row_columns(
    r: &rusqlite::Row<'_>,
    at: usize,
    payload: String,
) -> Result<EncounterRow> {
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
        payload,
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

mod import;
mod outbox;
mod status;

pub use import::Importer;

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
