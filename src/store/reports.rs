//! Reads for the county's reports (`accessline report`): the current finalized revision of
//! every encounter received in a time range, oldest call first, one row at a time.
//!
//! A year of a busy line is hundreds of thousands of calls, so nothing is collected: the walk
//! follows the `encounter_by_time` index in `(received_at, encounter_id)` order and hands each
//! row to the caller while it is still in SQLite's buffers (text columns and the payload are
//! borrowed, not copied).

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::error::{Result, StoreError};
use super::model::{parse_ts, ts};
use super::records::triage_parse;
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;

/// One current, finalized revision, as the reports read it. Borrowed from the row being read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow<'a> {
    pub encounter_id: &'a str,
    /// The current revision: 1, or 1 + the number of addenda.
    pub revision: u32,
    pub screener: &'a str,
    pub received_at: DateTime<Utc>,
    /// The caller's name, or "Anonymous".
    pub caller_display: &'a str,
    pub language: Option<&'a str>,
    pub cell_computed: Option<CellId>,
    pub cell_chosen: Option<CellId>,
    pub triage: Option<Triage>,
    pub crisis: bool,
    /// The earliest governing deadline.
    pub deadline_at: Option<DateTime<Utc>>,
    pub reason: Option<&'a str>,
    /// The payload's JSON text (borrowed from the row when stored as text, unpacked when
    /// stored packed).
    pub payload: std::borrow::Cow<'a, str>,
}

impl ReportRow<'_> {
    /// Addenda written after the first finalized revision.
    pub fn addenda(&self) -> u32 {
        self.revision.saturating_sub(1)
    }
}

/// The SQL of [`for_each_current`]: public within the crate so a test can check its plan.
pub(crate) const CURRENT_IN_RANGE_SQL: &str = "
    SELECT e.encounter_id, e.revision, e.screener, e.received_at, e.caller_display, e.language,
           e.cell_computed, e.cell_chosen, e.triage, e.crisis, e.deadline_at, e.reason, e.payload
    FROM encounter e
    WHERE e.received_at >= ?1 AND e.received_at < ?2 AND e.status = 'finalized'
      AND NOT EXISTS (SELECT 1 FROM encounter n
                      WHERE n.encounter_id = e.encounter_id AND n.revision > e.revision)
    ORDER BY e.received_at, e.encounter_id";

/// Call `f` with every current finalized revision received in `[from, before)`, in order of
/// call time (ties by encounter id). Drafts (calls never finalized) are not included. Stops at
/// the first error `f` returns.
pub(crate) fn for_each_current<E: From<StoreError>>(
    c: &Connection,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
    mut f: impl FnMut(&ReportRow<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut st = c.prepare(CURRENT_IN_RANGE_SQL).map_err(StoreError::from)?;
    let mut rows = st.query([ts(from), ts(before)]).map_err(StoreError::from)?;
    while let Some(r) = rows.next().map_err(StoreError::from)? {
        let row = read(r)?;
        f(&row)?;
    }
    Ok(())
}

fn read<'r>(r: &'r rusqlite::Row<'_>) -> Result<ReportRow<'r>> {
    let opt_text = |i: usize| -> Result<Option<&'r str>> {
        r.get_ref(i)?.as_str_or_null().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
                .into()
        })
    };
    let text = |i: usize| -> Result<&'r str> {
        opt_text(i)?.ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(i, "text".into(), rusqlite::types::Type::Null).into()
        })
    };
    let cell = |i: usize| -> Result<Option<CellId>> {
        opt_text(i)?
            .map(|s| {
                CellId::parse(s).ok_or_else(|| StoreError::Corrupt {
                    what: format!("cell `{s}`"),
                })
            })
            .transpose()
    };
    Ok(ReportRow {
        encounter_id: text(0)?,
        revision: r.get(1)?,
        screener: text(2)?,
        received_at: parse_ts(text(3)?)?,
        caller_display: text(4)?,
        language: opt_text(5)?,
        cell_computed: cell(6)?,
        cell_chosen: cell(7)?,
        triage: opt_text(8)?
            .map(|s| {
                triage_parse(s).ok_or_else(|| StoreError::Corrupt {
                    what: format!("triage `{s}`"),
                })
            })
            .transpose()?,
        crisis: r.get(9)?,
        deadline_at: opt_text(10)?.map(parse_ts).transpose()?,
        reason: opt_text(11)?,
        payload: match r.get_ref(12)? {
            rusqlite::types::ValueRef::Blob(_) => {
                std::borrow::Cow::Owned(r.get::<_, super::packed::Stored>(12)?.0)
            }
            _ => std::borrow::Cow::Borrowed(opt_text(12)?.unwrap_or("{}")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn the_walk_follows_the_time_index_without_sorting() {
        let store = Store::open_in_memory().unwrap();
        let plan: Vec<String> = store
            .connection()
            .prepare(&format!("EXPLAIN QUERY PLAN {CURRENT_IN_RANGE_SQL}"))
            .unwrap()
            .query_map(["a", "b"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("encounter_by_time"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
