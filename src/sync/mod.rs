//! Later sync (DESIGN 5, docs/sync.md): field devices export their outbox as batch files —
//! canonical NDJSON (`ndjson`) or FHIR R4 transaction bundles (`fhir`) — each beside a
//! plaintext manifest that holds no PHI, the data file encrypted to the county's age key; a
//! hub imports NDJSON batches idempotently, one transaction per file.
//!
//! - [`ndjson`]: the line format (schema `accessline.sync/1`) and its checks.
//! - [`manifest`]: the manifest beside each batch file and the file names.
//! - [`crypto`]: age X25519 keys, encrypting and decrypting batch files.
//! - [`export`] / [`import`]: the two commands' work.
//! - [`fhir`]: the FHIR R4 mapping.
//! - [`receipt`]: what the hub received, carried back to the device (`acknowledged`).
//! - [`withhold`]: consent-aware export: substance-use details withheld without consent.
//!
//! The store's side (reading the outbox, the hub's inbox, conflicts) is `store/sync/`.

pub mod crypto;
pub mod export;
pub mod fhir;
pub mod import;
pub mod manifest;
pub mod ndjson;
pub mod receipt;
pub mod withhold;

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::store::{Store, StoreError};

pub use export::{ExportOptions, ExportReport, Format, WrittenBatch, export};
pub use import::{FileImport, import_file};

/// Everything export and import can refuse.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A line of a batch file is wrong: nothing from the file was imported.
    #[error("{}: line {line}: {problem}; nothing from this file was imported", file.display())]
    Line {
        file: PathBuf,
        line: u64,
        problem: String,
    },
    /// The file as a whole is wrong (manifest, hash, count, encryption).
    #[error("{}: {problem}", file.display())]
    File { file: PathBuf, problem: String },
    /// A key or recipient could not be used.
    #[error("{0}")]
    Key(String),
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Bad input (exit 2: nothing changed), as opposed to a failure of the database.
    pub fn is_bad_input(&self) -> bool {
        match self {
            SyncError::Store(e) => !matches!(e, StoreError::Sqlite(_) | StoreError::Corrupt { .. }),
            _ => true,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SyncError {
        let path = path.into();
        move |source| SyncError::Io { path, source }
    }
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;

/// The hub's content in a canonical text form that does not depend on the order files were
/// imported in: every finalized revision (every column but its local audit pointer) with its
/// workflow state, every review (identified by its origin, not the local id), and the inbox.
/// Hub-local bookkeeping (audit chain, search index, import times, batch rows) is left out.
pub fn canonical_dump(store: &Store) -> Result<String> {
    let c = store.connection();
    let mut out = String::new();
    let dump = |out: &mut String, title: &str, sql: &str| -> Result<()> {
        writeln!(out, "## {title}").expect("writing to a String");
        let mut st = c.prepare(sql).map_err(StoreError::from)?;
        let n = st.column_count();
        let mut rows = st.query([]).map_err(StoreError::from)?;
        while let Some(r) = rows.next().map_err(StoreError::from)? {
            let mut fields = Vec::with_capacity(n);
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i).map_err(StoreError::from)?;
                fields.push(match v {
                    rusqlite::types::Value::Null => "∅".to_owned(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    rusqlite::types::Value::Text(t) => serde_json::to_string(&t).expect("text"),
                    rusqlite::types::Value::Blob(b) => format!("x'{}'", hex::encode(b)),
                });
            }
            writeln!(out, "{}", fields.join("\t")).expect("writing to a String");
        }
        Ok(())
    };
    dump(
        &mut out,
        "encounters",
        "SELECT e.encounter_id, e.revision, e.status, e.supersedes, e.screener, e.device,
                e.created_at, e.updated_at, e.finalized_at, e.received_at, e.caller_display,
                e.language, e.age, e.cell_computed, e.cell_chosen, e.risk, e.triage, e.crisis,
                e.deadline_at, e.reason, e.note, e.payload_sha256, e.definitions, payload_text(e.payload),
                s.current, s.review_state, s.sync_state
         FROM encounter e LEFT JOIN encounter_state s USING (encounter_id, revision)
         ORDER BY e.encounter_id, e.revision",
    )?;
    dump(
        &mut out,
        "reviews",
        "SELECT r.encounter_id, r.revision, r.decision, r.note, r.reviewer, r.device,
                r.reviewed_at, coalesce(i.origin_review_id, r.review_id) AS origin_id
         FROM review r
         LEFT JOIN sync_inbox i ON i.review_id = r.review_id AND i.kind = 'review'
              AND i.state = 'held'
         GROUP BY r.review_id
         ORDER BY r.encounter_id, r.revision, r.device, origin_id, r.reviewed_at",
    )?;
    dump(
        &mut out,
        "inbox",
        "SELECT origin_device, origin_seq, sha256, kind, encounter_id, revision,
                origin_review_id, state, held_sha256, problem, record
         FROM sync_inbox ORDER BY origin_device, origin_seq, sha256",
    )?;
    Ok(out)
}
