//! The append-only audit log. Each row's hash is `sha256(prev_hash || canonical row)`, where
//! the canonical row is the JSON array `[seq, at, actor, device, action, record, detail]` and the
//! first row's `prev_hash` is 64 zeros; altering or deleting any row breaks every later link.
//!
//! Limits, by design of an unkeyed chain: someone who rewrites the chain from the altered row to
//! the end goes undetected here; the per-record cross-checks in `verify` and the exported chain
//! head (sync) are what catch that.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::Result;
use super::model::{AuditEntry, parse_ts};

/// `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A row about to be appended (the sequence number and hashes are computed here).
pub(crate) struct NewAudit<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub device: &'a str,
    pub action: &'a str,
    pub record: &'a str,
    pub detail: &'a str,
}

/// The record name of an encounter revision in the log.
pub fn encounter_record(id: Uuid, revision: u32) -> String {
    format!("encounter/{id}/{revision}")
}

/// The record name of a review in the log.
pub fn review_record(review_id: i64) -> String {
    format!("review/{review_id}")
}

/// The hash of one row given the previous row's hash.
pub fn chain_hash(prev_hash: &str, seq: i64, row: &NewAuditRef<'_>) -> String {
    let canonical = serde_json::to_string(&(seq, row.0, row.1, row.2, row.3, row.4, row.5))
        .expect("strings and integers serialize");
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// `(at, actor, device, action, record, detail)` of a row, as hashed.
pub type NewAuditRef<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str);

/// Append a row inside the caller's (immediate) transaction; returns its sequence number.
pub(crate) fn append(c: &Connection, row: &NewAudit<'_>) -> Result<i64> {
    let head: Option<(i64, String)> = c
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match head {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_owned()),
    };
    let fields = (
        row.at, row.actor, row.device, row.action, row.record, row.detail,
    );
    let hash = chain_hash(&prev, seq, &fields);
    c.prepare_cached(
        "INSERT INTO audit (seq, at, actor, device, action, record, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        seq, row.at, row.actor, row.device, row.action, row.record, row.detail, prev, hash
    ])?;
    Ok(seq)
}

pub(crate) const AUDIT_COLUMNS: &str =
    "seq, at, actor, device, action, record, detail, prev_hash, hash";

pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, [String; 8])> {
    Ok((r.get(0)?, super::model::columns(r, 1)?))
}

pub(crate) fn entry((seq, f): (i64, [String; 8])) -> Result<AuditEntry> {
    let [at, actor, device, action, record, detail, prev_hash, hash] = f;
    Ok(AuditEntry {
        seq,
        at: parse_ts(&at)?,
        actor,
        device,
        action,
        record,
        detail,
        prev_hash,
        hash,
    })
}

/// The last `n` rows, oldest first.
pub(crate) fn tail(c: &Connection, n: usize) -> Result<Vec<AuditEntry>> {
    let mut st = c.prepare(&format!(
        "SELECT {AUDIT_COLUMNS} FROM (SELECT * FROM audit ORDER BY seq DESC LIMIT ?1) ORDER BY seq"
    ))?;
    let rows = st
        .query_map([n as i64], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(entry).collect()
}

/// Every audit row about one encounter (any revision) and its reviews' rows are separate
/// records; this returns the encounter's own rows, oldest first.
pub(crate) fn of_encounter(c: &Connection, id: Uuid) -> Result<Vec<AuditEntry>> {
    // `encounter/<id>` (views) and `encounter/<id>/<revision>` (writes).
    let prefix = format!("encounter/{id}");
    // Range on the index instead of LIKE (LIKE is case-insensitive and would not use it).
    let end = format!("encounter/{id}0");
    let mut st = c.prepare_cached(&format!(
        "SELECT {AUDIT_COLUMNS} FROM audit WHERE record >= ?1 AND record < ?2 ORDER BY seq"
    ))?;
    let rows = st
        .query_map(params![prefix, end], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(entry).collect()
}
