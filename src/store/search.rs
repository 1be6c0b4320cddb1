//! Full-text search over reasons for call and notes (SQLite FTS5): indexing, turning typed
//! words into a safe query, and the time-ordered search walk used by the supervisor list.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::types::Value;
use uuid::Uuid;

use super::error::{Result, StoreError};
use super::queries::{LIST_COLUMNS, ListQuery, push_filters};

/// Make `text` findable by full-text search, as part of the caller's transaction. The
/// document's rowid orders it by the call's time (see the schema), so searches stream newest
/// first.
///
/// Call it last in a transaction (or batch the calls at the end): once an FTS5 table is part of
/// a transaction, every later statement that opens a statement savepoint makes FTS5 flush its
/// pending terms into a new segment, which multiplies the work of a bulk load.
pub(crate) fn index_text(
    c: &Connection,
    id: Uuid,
    revision: u32,
    received_at: DateTime<Utc>,
    text: &str,
) -> Result<()> {
    if text.trim().is_empty() {
        return Ok(());
    }
    let doc = next_doc(received_at, |range| {
        c.prepare_cached("SELECT max(doc) FROM search_doc WHERE doc >= ?1 AND doc < ?2")?
            .query_row(range, |r| r.get(0))
    })?;
    c.prepare_cached("INSERT INTO search_doc (doc, encounter_id, revision) VALUES (?1, ?2, ?3)")?
        .execute(rusqlite::params![doc, id.to_string(), revision])?;
    c.prepare_cached("INSERT INTO search_fts (rowid, body) VALUES (?1, ?2)")?
        .execute(rusqlite::params![doc, text])?;
    Ok(())
}

/// Search documents per millisecond of call time (reason, addenda, review notes).
pub(crate) const DOCS_PER_MS: i64 = 1024;

/// The document number for a text of a call received at `received_at`: its millisecond's range
/// (so document order is call-time order), one after the highest already used there, which
/// `last` reads for the range `[first, end)`.
pub(crate) fn next_doc(
    received_at: DateTime<Utc>,
    last: impl FnOnce([i64; 2]) -> rusqlite::Result<Option<i64>>,
) -> Result<i64> {
    let base = received_at.timestamp_millis() * DOCS_PER_MS;
    let doc = last([base, base + DOCS_PER_MS])?.map_or(base, |d| d + 1);
    if doc >= base + DOCS_PER_MS {
        return Err(StoreError::Invalid {
            what: "search index",
            problem: "too many documents for one millisecond".into(),
        });
    }
    Ok(doc)
}

/// Turn what a supervisor typed into an FTS5 query that cannot be a syntax error: every word
/// quoted, all required, the last one a prefix (type-ahead).
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let (last, rest) = words.split_last()?;
    let mut q: Vec<String> = rest.iter().map(|w| format!("\"{w}\"")).collect();
    q.push(format!("\"{last}\"*"));
    Some(q.join(" "))
}

pub(crate) const CURRENT: &str = "NOT EXISTS (SELECT 1 FROM encounter n
                           WHERE n.encounter_id = e.encounter_id AND n.revision > e.revision)";

/// A text search in time order: walk the matching documents newest first (their rowids are
/// time-ordered), join each to its encounter's current revision, apply the filters.
/// The matches drive the query, newest first, so a page stops after its rows: the CROSS JOINs
/// keep SQLite from starting at a filter's index instead (with a language filter it walked
/// every call in that language and probed the full-text index for each: minutes at 1,000,000).
pub(crate) fn search_sql(q: &ListQuery, matching: String) -> (String, Vec<Value>) {
    let mut sql = format!(
        "SELECT {LIST_COLUMNS}, search_fts.rowid
         FROM search_fts
         CROSS JOIN search_doc d ON d.doc = search_fts.rowid
         CROSS JOIN encounter e ON e.encounter_id = d.encounter_id
         LEFT JOIN encounter_state s ON s.encounter_id = e.encounter_id AND s.revision = e.revision
         WHERE search_fts MATCH ?1 AND {CURRENT}"
    );
    let mut params = vec![Value::Text(matching)];
    if let Some(after) = &q.after
        && let Ok(t) = chrono::DateTime::parse_from_rfc3339(&after.received_at)
    {
        sql.push_str(&format!("\n  AND search_fts.rowid < ?{}", params.len() + 1));
        params.push(Value::Integer(t.timestamp_millis() * DOCS_PER_MS));
    }
    push_filters(&q.filter, &mut sql, &mut params);
    sql.push_str("\nORDER BY search_fts.rowid DESC");
    (sql, params)
}
