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

mod batches;
mod import;
mod outbox;
mod rows;
mod status;

use batches::{batch_detail, insert_batch, mark_exported};
pub use import::Importer;
use rows::{
    ENCOUNTER_COLUMN_COUNT, ENCOUNTER_COLUMNS, REVIEW_COLUMN_COUNT, REVIEW_COLUMNS, encounter_row,
    encounter_row_packed, review_row,
};
