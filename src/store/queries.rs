//! Reads for the screens: the screener's drafts and returned items, and the supervisor list
//! with filters, full-text search and keyset pagination.
//!
//! Keyset pagination (never OFFSET) keeps every page as cheap as the first at 1,000,000
//! encounters: each sort order has an index ending in `(received_at, encounter_id)`, and the
//! next page starts strictly after the last row of this one.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::{Result, StoreError};
use super::model::{
    Cursor, ReviewState, Risk, Status, SyncState, parse_enum, parse_ts, parse_uuid, ts,
};
use super::records::triage_parse;
use super::search::{CURRENT, DOCS_PER_MS, fts_query, search_sql};
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;

mod list;
pub(crate) use list::{LIST_COLUMNS, list, list_sql, push_filters};

/// A draft in the screener's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftSummary {
    pub encounter_id: Uuid,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub caller_display: String,
    pub cursor: Option<Cursor>,
}

/// A revision a supervisor returned to its screener, with the note.
#[derive(Debug, Clone, PartialEq)]
pub struct Returned {
    pub encounter_id: Uuid,
    pub revision: u32,
    pub received_at: DateTime<Utc>,
    pub caller_display: String,
    pub note: String,
    pub reviewer: String,
    pub reviewed_at: DateTime<Utc>,
}

/// Supervisor list filters; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Calls received at or after this time.
    pub received_from: Option<DateTime<Utc>>,
    /// Calls received before this time.
    pub received_before: Option<DateTime<Utc>>,
    pub screener: Option<String>,
    pub status: Option<Status>,
    /// The chosen cell (the one used for referral).
    pub cell: Option<CellId>,
    pub risk: Option<Risk>,
    pub triage: Option<Triage>,
    pub language: Option<String>,
    pub sync_state: Option<SyncState>,
    /// `Some(Awaiting)` is the "awaiting review" queue.
    pub review_state: Option<ReviewState>,
    /// Words to find in reasons for call and notes (all must match; the last may be a prefix).
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// Newest call first.
    #[default]
    Time,
    /// Highest risk first, then newest.
    Risk,
    /// Soonest deadline first (none last), then oldest call.
    Deadline,
}

/// Where the next page starts: the sort key of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    pub sort: SortBy,
    /// `risk_rank` or `deadline_key` of the last row (unused for `Time`).
    pub key: Option<String>,
    pub received_at: String,
    pub encounter_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: ListFilter,
    pub sort: SortBy,
    pub limit: usize,
    pub after: Option<ListCursor>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: ListFilter::default(),
            sort: SortBy::Time,
            limit: 50,
            after: None,
        }
    }
}

/// One line of the supervisor list: the current revision of an encounter.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    pub encounter_id: Uuid,
    pub revision: u32,
    pub status: Status,
    pub screener: String,
    pub received_at: DateTime<Utc>,
    pub caller_display: String,
    pub language: Option<String>,
    pub age: Option<u32>,
    pub cell_chosen: Option<CellId>,
    pub risk: Risk,
    pub triage: Option<Triage>,
    pub crisis: bool,
    pub deadline_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub review_state: Option<ReviewState>,
    pub sync_state: Option<SyncState>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub rows: Vec<ListRow>,
    /// `Some` when there are more rows: pass it as `after` for the next page.
    pub next: Option<ListCursor>,
}

pub(crate) fn drafts_of(c: &Connection, screener: &str) -> Result<Vec<DraftSummary>> {
    let mut st = c.prepare_cached(
        "SELECT e.encounter_id, e.received_at, e.updated_at, e.caller_display, d.value
         FROM encounter e
         LEFT JOIN draft_field d ON d.encounter_id = e.encounter_id AND d.key = 'cursor'
         WHERE e.screener = ?1 AND e.status = 'draft'
         ORDER BY e.updated_at DESC, e.encounter_id DESC",
    )?;
    let mut rows = st.query([screener])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let cursor: Option<String> = r.get(4)?;
        out.push(DraftSummary {
            encounter_id: parse_uuid(&r.get::<_, String>(0)?)?,
            received_at: parse_ts(&r.get::<_, String>(1)?)?,
            updated_at: parse_ts(&r.get::<_, String>(2)?)?,
            caller_display: r.get(3)?,
            cursor: cursor
                .map(|t| {
                    serde_json::from_str(&t).map_err(|_| StoreError::Corrupt {
                        what: "draft cursor".into(),
                    })
                })
                .transpose()?,
        });
    }
    Ok(out)
}

/// How many returned items the screener's home lists (more than its pane shows at 80×24),
/// the newest calls first: a screener with thousands of unanswered returns, as the demo's
/// have, sees the count and these. Each costs a few page reads on a cold start.
pub const RETURNED_SHOWN: usize = 20;

const RETURNED_SQL: &str = "SELECT e.encounter_id, e.revision, e.received_at, e.caller_display,
        r.note, r.reviewer, r.reviewed_at
    FROM encounter_state s INDEXED BY encounter_state_returned_to
    CROSS JOIN encounter e ON e.encounter_id = s.encounter_id AND e.revision = s.revision
    JOIN review r ON r.review_id = (SELECT max(review_id) FROM review x
                                    WHERE x.encounter_id = s.encounter_id AND x.revision = s.revision)
    WHERE s.screener = ?1 AND s.review_state = 'needs_changes' AND s.current = 1
    ORDER BY s.received_at DESC, s.encounter_id DESC
    LIMIT ?2";

const RETURNED_COUNT_SQL: &str =
    "SELECT count(*) FROM encounter_state INDEXED BY encounter_state_returned_to
    WHERE screener = ?1 AND review_state = 'needs_changes' AND current = 1";

/// The newest [`RETURNED_SHOWN`] calls returned to `screener`, newest call first: a short walk
/// of their partial index (migration 0008), whatever the screener's backlog.
pub(crate) fn returned_to(c: &Connection, screener: &str) -> Result<Vec<Returned>> {
    let mut st = c.prepare_cached(RETURNED_SQL)?;
    let mut rows = st.query(rusqlite::params![screener, RETURNED_SHOWN as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Returned {
            encounter_id: parse_uuid(&r.get::<_, String>(0)?)?,
            revision: r.get(1)?,
            received_at: parse_ts(&r.get::<_, String>(2)?)?,
            caller_display: r.get(3)?,
            note: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            reviewer: r.get(5)?,
            reviewed_at: parse_ts(&r.get::<_, String>(6)?)?,
        });
    }
    Ok(out)
}

/// How many calls are returned to `screener` (counted in their partial index).
pub(crate) fn returned_count(c: &Connection, screener: &str) -> Result<u64> {
    let mut st = c.prepare_cached(RETURNED_COUNT_SQL)?;
    Ok(st.query_row([screener], |r| r.get::<_, i64>(0))? as u64)
}

/// A screener's calls received since a moment (their shift's "today").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub finalized: u64,
    pub drafts: u64,
    pub crisis: u64,
}

pub(crate) fn day_counts(
    c: &Connection,
    screener: &str,
    since: DateTime<Utc>,
) -> Result<DayCounts> {
    let mut st = c.prepare_cached(
        "SELECT coalesce(sum(status = 'finalized'), 0), coalesce(sum(status = 'draft'), 0),
                coalesce(sum(crisis), 0)
         FROM encounter
         WHERE received_at >= ?2 AND screener = ?1 AND revision = 1",
    )?;
    Ok(st.query_row(rusqlite::params![screener, ts(since)], |r| {
        Ok(DayCounts {
            finalized: r.get::<_, i64>(0)? as u64,
            drafts: r.get::<_, i64>(1)? as u64,
            crisis: r.get::<_, i64>(2)? as u64,
        })
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A screener's returned items and their count read their partial index in its order:
    /// no sort of every returned call, whatever the backlog (the demo's screeners have
    /// thousands).
    #[test]
    fn returned_items_walk_their_index_in_order() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let c = store.connection();
        let items: &[Value] = &[Value::Text("screener.kim".into()), Value::Integer(100)];
        for (sql, params) in [(RETURNED_SQL, items), (RETURNED_COUNT_SQL, &items[..1])] {
            let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = st
                .query_map(rusqlite::params_from_iter(params), |r| {
                    r.get::<_, String>(3)
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            let plan = plan.join("\n");
            assert!(plan.contains("encounter_state_returned_to"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}
