//! SQLite storage: one [`Store`] over one database file (DESIGN 4).
//!
//! Writes run in `BEGIN IMMEDIATE` transactions: the write lock is taken up front, so a second
//! process waits (busy timeout) instead of failing with "database is locked" half-way through.
//! Each public write is one transaction: the row, its audit row and its outbox row together.

mod amend;
mod audit;
mod counts;
mod dashboard;
pub mod demo;
mod encounters;
pub mod encrypt;
mod error;
mod key;
mod migrations;
mod model;
pub(crate) mod open;
mod outbox;
pub mod packed;
mod queries;
mod records;
mod reports;
mod reviews;
pub mod save_loop;
mod search;
mod sync;
pub(crate) mod users;
mod verify;
mod views;
pub use views::MadeView;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use uuid::Uuid;

pub use audit::{GENESIS, encounter_record, review_record};
pub use dashboard::{Dashboard, Timeliness};
pub use encounters::payload_sha256;
pub use error::{Result, StoreError};
pub use key::DbKey;
pub use migrations::{MIGRATIONS, SCHEMA_VERSION};
pub use model::{
    ANONYMOUS, Actor, AuditEntry, CALLER_NAME_KEY, CURSOR_KEY, Cursor, Decision, Draft,
    EncounterRecord, Finalized, OutboxEntry, RISK_INSTRUMENT, Review, ReviewState, Risk, Status,
    Summary, SyncState, caller_display, ts,
};
pub use open::{BUSY_TIMEOUT, default_db_path};
pub use queries::{
    DayCounts, DraftSummary, ListCursor, ListFilter, ListQuery, ListRow, Page, RETURNED_SHOWN,
    Returned, SortBy,
};
pub use reports::ReportRow;
pub use search::fts_query;
pub use sync::{
    Applied, BatchRecord, Conflict, EncounterRow, ImportSummary, Importer, Incoming, Kept, Origin,
    OutboxItem, OutboxRecord, ReconRow, ReviewRow, Selection, SyncCounts, unpack_and_check,
};
pub use users::{AccessEvent, AuditQuery, UserRow};
pub use verify::{Fault, GUARD_TRIGGERS, VerifyReport};

use encounters::NewRevision;

/// The accessline database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Set when this open encrypted a plaintext database: where its plaintext backup is.
    migrated_backup: Option<PathBuf>,
}

impl Store {
    /// Open (creating if needed) an encrypted database with its key, and migrate the schema.
    /// A plaintext database is first encrypted in place, keeping a backup
    /// ([`Store::migrated_backup`]). A wrong key is [`StoreError::WrongKey`], nothing written.
    pub fn open_keyed(path: impl AsRef<Path>, key: &DbKey) -> Result<Store> {
        let path = path.as_ref();
        let mut migrated_backup = None;
        if open::file_kind(path)? == open::FileKind::Plain {
            // The same checks as an ordinary open first (a read-only file…).
            open::check_file(path, true, false)?;
            migrated_backup = Some(encrypt::encrypt_in_place(path, key)?);
        }
        Ok(Store {
            conn: open::open_rw(path, Some(key))?,
            path: path.to_owned(),
            migrated_backup,
        })
    }

    /// Open an encrypted database without writing anything (not even a migration): for
    /// `verify`, reports and inspection. A plaintext file is [`StoreError::Unencrypted`].
    pub fn open_keyed_read_only(path: impl AsRef<Path>, key: &DbKey) -> Result<Store> {
        let path = path.as_ref();
        Ok(Store {
            conn: open::open_ro(path, Some(key))?,
            path: path.to_owned(),
            migrated_backup: None,
        })
    }

    /// Open (creating if needed) an UNENCRYPTED database and migrate. For in-process store
    /// tests and tools only: nothing in production opens a database without its key.
    pub fn open_unencrypted(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        Ok(Store {
            conn: open::open_rw(path, None)?,
            path: path.to_owned(),
            migrated_backup: None,
        })
    }

    /// Open an UNENCRYPTED database without writing anything (tests and tools only).
    pub fn open_unencrypted_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        Ok(Store {
            conn: open::open_ro(path, None)?,
            path: path.to_owned(),
            migrated_backup: None,
        })
    }

    /// When this open encrypted a plaintext database: the plaintext backup it left (PHI in the
    /// clear: tell the user to check and delete it).
    pub fn migrated_backup(&self) -> Option<&Path> {
        self.migrated_backup.as_deref()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection, for tests and tools that inspect the schema.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Start a draft for a call received at `received_at`; returns its new id (UUIDv7).
    pub fn start_draft(&mut self, actor: &Actor, received_at: DateTime<Utc>) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let now = ts(Utc::now());
        self.write(|tx| encounters::start_draft(tx, actor, id, &ts(received_at), &now))?;
        Ok(id)
    }

    /// Save one answer of a draft, durably, in its own transaction.
    pub fn save_field(
        &mut self,
        actor: &Actor,
        id: Uuid,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<()> {
        let now = ts(Utc::now());
        self.write(|tx| encounters::save_field(tx, actor, id, key, value, &now))
    }

    /// Save where the screener is, so the draft resumes at the same step and field.
    pub fn save_cursor(&mut self, actor: &Actor, id: Uuid, cursor: &Cursor) -> Result<()> {
        let value = serde_json::to_value(cursor).expect("a cursor serializes");
        self.save_field(actor, id, CURSOR_KEY, &value)
    }

    /// Save one correction of a returned encounter as it is entered (the addendum's autosave),
    /// against the finalized revision it corrects.
    pub fn save_amend_field(
        &mut self,
        actor: &Actor,
        id: Uuid,
        base_revision: u32,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<()> {
        let now = ts(Utc::now());
        self.write(|tx| amend::save_field(tx, actor, id, base_revision, key, value, &now))
    }

    /// The corrections saved so far against `base_revision` (empty once the addendum is
    /// written).
    pub fn amend_fields(
        &self,
        id: Uuid,
        base_revision: u32,
    ) -> Result<BTreeMap<String, serde_json::Value>> {
        amend::fields(&self.conn, id, base_revision)
    }

    pub fn load_draft(&self, id: Uuid) -> Result<Draft> {
        encounters::load_draft(&self.conn, id)
    }

    /// Lock revision 1: write the finalized row (payload hashed as stored, every definition
    /// version), drop the draft's fields, and append the outbox and audit rows, all at once.
    pub fn finalize(
        &mut self,
        actor: &Actor,
        id: Uuid,
        payload: &serde_json::Value,
        summary: &Summary,
        versions: &BTreeMap<String, String>,
    ) -> Result<Finalized> {
        let payload = payload.to_string();
        let definitions = serde_json::to_string(versions).expect("a string map serializes");
        let now = ts(Utc::now());
        let rev = NewRevision {
            id,
            payload: &payload,
            summary,
            definitions: &definitions,
            note: None,
            now: &now,
        };
        self.write(|tx| {
            let done = encounters::finalize(tx, actor, &rev)?;
            search::index_text(
                tx,
                id,
                done.revision,
                summary.received_at,
                &encounters::search_text(&rev),
            )?;
            Ok(done)
        })
    }

    /// Correct a finalized encounter: a new revision superseding the current one.
    pub fn add_addendum(
        &mut self,
        actor: &Actor,
        id: Uuid,
        payload: &serde_json::Value,
        summary: &Summary,
        versions: &BTreeMap<String, String>,
        note: &str,
    ) -> Result<Finalized> {
        let payload = payload.to_string();
        let definitions = serde_json::to_string(versions).expect("a string map serializes");
        let now = ts(Utc::now());
        let rev = NewRevision {
            id,
            payload: &payload,
            summary,
            definitions: &definitions,
            note: Some(note),
            now: &now,
        };
        self.write(|tx| {
            let done = encounters::add_addendum(tx, actor, &rev)?;
            amend::clear(tx, id, done.revision - 1)?;
            search::index_text(
                tx,
                id,
                done.revision,
                summary.received_at,
                &encounters::search_text(&rev),
            )?;
            Ok(done)
        })
    }

    /// One revision, or the current one when `revision` is `None`.
    pub fn encounter(&self, id: Uuid, revision: Option<u32>) -> Result<EncounterRecord> {
        records::record(&self.conn, id, revision)
    }

    /// Every revision of an encounter, oldest first.
    pub fn revisions(&self, id: Uuid) -> Result<Vec<EncounterRecord>> {
        records::revisions(&self.conn, id)
    }

    /// A supervisor's decision on a finalized, current revision (a note is required to return it).
    pub fn add_review(
        &mut self,
        actor: &Actor,
        id: Uuid,
        revision: u32,
        decision: Decision,
        note: Option<&str>,
    ) -> Result<Review> {
        let now = ts(Utc::now());
        self.write(|tx| {
            let review = reviews::add_review(tx, actor, id, revision, decision, note, &now)?;
            if let Some(note) = &review.note {
                let received_at = records::record(tx, id, Some(revision))?.summary.received_at;
                search::index_text(tx, id, revision, received_at, note)?;
            }
            Ok(review)
        })
    }

    pub fn reviews(&self, id: Uuid) -> Result<Vec<Review>> {
        reviews::reviews(&self.conn, id)
    }

    /// Outbox entries of `device` still to send, oldest first.
    pub fn outbox_pending(&self, device: &str, limit: usize) -> Result<Vec<OutboxEntry>> {
        outbox::pending(&self.conn, device, limit)
    }

    /// Record the sync outcome of one outbox entry (and mirror it on the encounter).
    pub fn set_sync_state(
        &mut self,
        device: &str,
        seq: i64,
        state: SyncState,
        error: Option<&str>,
    ) -> Result<()> {
        self.write(|tx| outbox::set_state(tx, device, seq, state, error))
    }

    /// The last `n` audit rows, oldest first.
    pub fn audit_tail(&self, n: usize) -> Result<Vec<AuditEntry>> {
        audit::tail(&self.conn, n)
    }

    /// The dashboard's figures for calls received in `[from, before)`; deadlines are judged
    /// at `now`.
    pub fn dashboard(
        &self,
        from: DateTime<Utc>,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Dashboard> {
        dashboard::dashboard(&self.conn, from, before, now)
    }

    /// The audit rows of one encounter (every revision), oldest first.
    pub fn audit_of(&self, id: Uuid) -> Result<Vec<AuditEntry>> {
        audit::of_encounter(&self.conn, id)
    }

    /// The screener's drafts, most recently touched first.
    pub fn drafts_of(&self, screener: &str) -> Result<Vec<DraftSummary>> {
        queries::drafts_of(&self.conn, screener)
    }

    /// Current revisions a supervisor returned to this screener, with the note: the newest
    /// [`RETURNED_SHOWN`] calls first.
    pub fn returned_to(&self, screener: &str) -> Result<Vec<Returned>> {
        queries::returned_to(&self.conn, screener)
    }

    /// How many current revisions are returned to this screener.
    pub fn returned_count(&self, screener: &str) -> Result<u64> {
        queries::returned_count(&self.conn, screener)
    }

    /// A screener's calls received since `since` (finalized, drafts, crisis calls).
    pub fn day_counts(&self, screener: &str, since: DateTime<Utc>) -> Result<DayCounts> {
        queries::day_counts(&self.conn, screener, since)
    }

    /// A database that lives only in memory (tests and benchmarks of the UI): same schema and
    /// triggers, no file.
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store {
            conn: open::open_memory()?,
            path: PathBuf::from(":memory:"),
            migrated_backup: None,
        })
    }

    /// One page of the supervisor list.
    pub fn list(&self, query: &ListQuery) -> Result<Page> {
        queries::list(&self.conn, query)
    }

    /// The plan SQLite chooses for a list query (`EXPLAIN QUERY PLAN` detail lines).
    pub fn explain_list(&self, query: &ListQuery) -> Result<Vec<String>> {
        let (sql, params) = queries::list_sql(query)?;
        let mut st = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = st.query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every current finalized revision received in `[from, before)`, oldest call first, one
    /// row at a time (for the county's reports; see `store/reports.rs`). Stops at `f`'s first
    /// error.
    pub fn for_each_current_in<E: From<StoreError>>(
        &self,
        from: DateTime<Utc>,
        before: DateTime<Utc>,
        f: impl FnMut(&ReportRow<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        reports::for_each_current(&self.conn, from, before, f)
    }

    /// Integrity check, audit chain, payload hashes: see [`VerifyReport`].
    pub fn verify(&self) -> Result<VerifyReport> {
        verify::verify(&self.conn)
    }
}
