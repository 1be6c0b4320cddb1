//! The supervisor list: filters, the index each filter and sort order walks, keyset
//! pagination and full-text search.

use super::*;

pub(crate) const LIST_COLUMNS: &str =
    "e.encounter_id, e.revision, e.status, e.screener, e.received_at,
    e.caller_display, e.language, e.age, e.cell_chosen, e.risk, e.triage, e.crisis,
    e.deadline_at, e.reason, s.review_state, s.sync_state, e.risk_rank, e.deadline_key";

/// Append `AND ...` for every filter but the text, numbering parameters after `params`.
pub(crate) fn push_filters(f: &ListFilter, sql: &mut String, params: &mut Vec<Value>) {
    if let Some(s) = f.status {
        // Written into the SQL (a closed enum) so SQLite can use the drafts' partial index.
        sql.push_str(&format!("\n  AND e.status = '{}'", s.as_str()));
    }
    let mut cond = |clause: &str, v: Value| {
        sql.push_str("\n  AND ");
        sql.push_str(&clause.replace('?', &format!("?{}", params.len() + 1)));
        params.push(v);
    };
    if let Some(t) = f.received_from {
        cond("e.received_at >= ?", Value::Text(ts(t)));
    }
    if let Some(t) = f.received_before {
        cond("e.received_at < ?", Value::Text(ts(t)));
    }
    if let Some(s) = &f.screener {
        cond("e.screener = ?", Value::Text(s.clone()));
    }
    if let Some(cell) = f.cell {
        cond("e.cell_chosen = ?", Value::Text(cell.id()));
    }
    if let Some(r) = f.risk {
        // risk_rank, not risk: the risk index is on the rank, and gives time order within it.
        cond("e.risk_rank = ?", Value::Integer(risk_rank(r)));
    }
    if let Some(t) = f.triage {
        cond("e.triage = ?", Value::Text(t.as_str().into()));
    }
    if let Some(l) = &f.language {
        cond("e.language = ?", Value::Text(l.clone()));
    }
    // Workflow state is tested per row of the walk (an EXISTS on the state's primary key):
    // a plain `s.x = ?` lets SQLite turn the LEFT JOIN into an inner join driven by the state
    // table, which scans all of it and sorts every match (seconds at a million for "awaiting
    // review"). Sorted by time, a workflow state drives the query from its kind's
    // time-ordered index instead (`state_index`, migration 0011). In the other sort
    // orders sync conflicts, rare by nature (~0.3 %), are found through their partial index of
    // migration 0006 and sorted (~2,600 at a million); returned calls walk the sort's index.
    // The value is written into the SQL (a closed enum, not user text) so SQLite can match the
    // index.
    let mut rare = Vec::new();
    if let Some(s) = f.sync_state {
        if s == SyncState::Conflict {
            rare.push("s.sync_state = 'conflict'");
        } else {
            cond(
                "EXISTS (SELECT 1 FROM encounter_state x WHERE x.encounter_id = e.encounter_id
                   AND x.revision = e.revision AND x.sync_state = ?)",
                Value::Text(s.as_str().into()),
            );
        }
    }
    if let Some(r) = f.review_state {
        cond(
            "EXISTS (SELECT 1 FROM encounter_state x WHERE x.encounter_id = e.encounter_id
               AND x.revision = e.revision AND x.review_state = ?)",
            Value::Text(r.as_str().into()),
        );
    }
    for clause in rare {
        sql.push_str("\n  AND ");
        sql.push_str(clause);
    }
}

/// The index a time-sorted list walks: a rare language or cell has its own (migration 0006),
/// and so has a triage level (0011), named so SQLite cannot prefer sorting (it has no
/// statistics to know a value is rare).
fn time_index(f: &ListFilter) -> Option<&'static str> {
    if f.language.is_some() {
        Some("encounter_by_language")
    } else if f.cell.is_some() {
        Some("encounter_by_cell")
    } else if f.triage.is_some() {
        Some("encounter_by_triage")
    } else {
        None
    }
}

/// Migration 0011's indexes of current revisions by review state, and by sync state, in time
/// order.
const REVIEW_BY_TIME: &str = "encounter_state_review_by_time";
const SYNC_BY_TIME: &str = "encounter_state_sync_by_time";

/// The workflow-state index a time-sorted list is driven by (migration 0011): its name and the
/// condition that selects the state's entries. A page of one state is then the index's next
/// entries and their rows, not a walk of the time index reading every walked call's row from
/// disk to test its state (at 1,000,000 calls, the first page of "approved" took 51 ms,
/// "exported" 156 ms, on a quiet machine).
///
/// Returned calls (~1 % of calls) and sync conflicts (~0.3 %) always start there. A common
/// state gives way to a rarer filter's own index (a language, a cell, a triage level, a risk
/// level): walking the state's index would then read hundreds of rows per match. The screener
/// filter is tested on the state row (see [`state_index_sql`]), before the call's row is read.
fn state_index(f: &ListFilter) -> Option<(&'static str, String)> {
    let review = |r: ReviewState| {
        (
            REVIEW_BY_TIME,
            format!("s.review_state = '{}' AND s.current = 1", r.as_str()),
        )
    };
    let sync = |s: SyncState| {
        (
            SYNC_BY_TIME,
            format!("s.sync_state = '{}' AND s.current = 1", s.as_str()),
        )
    };
    if f.review_state == Some(ReviewState::NeedsChanges) {
        return f.review_state.map(review);
    }
    if f.sync_state == Some(SyncState::Conflict) {
        return f.sync_state.map(sync);
    }
    if time_index(f).is_some() || f.risk.is_some() {
        return None;
    }
    f.review_state
        .map(review)
        .or_else(|| f.sync_state.map(sync))
}

/// The SQL and parameters of a list query (public within the crate so tests can EXPLAIN it).
pub(crate) fn list_sql(q: &ListQuery) -> Result<(String, Vec<Value>)> {
    if let (SortBy::Time, Some(m)) = (q.sort, q.filter.text.as_deref().and_then(fts_query)) {
        return Ok(search_sql(q, m));
    }
    if q.sort == SortBy::Time
        && let Some((index, condition)) = state_index(&q.filter)
    {
        if q.after.as_ref().is_some_and(|a| a.sort != q.sort) {
            return Err(StoreError::Invalid {
                what: "page cursor",
                problem: "it belongs to a different sort order".into(),
            });
        }
        return Ok(state_index_sql(q, index, &condition));
    }
    let f = &q.filter;
    // The screener and risk filters have their own indexes that SQLite already picks, and sync
    // conflicts drive from theirs.
    let rare_state = f.sync_state == Some(SyncState::Conflict);
    // With a language, cell or triage filter, the other sort orders keep walking their own
    // index (the filter's index would have SQLite sort every call in that language).
    let indexed = match (q.sort, time_index(f)) {
        // Drafts (a few in a hundred calls) from their own time-ordered index (migration 0011).
        (SortBy::Time, None) if f.status == Some(Status::Draft) => Some("encounter_draft_by_time"),
        (_, None) => None,
        _ if rare_state => None,
        (SortBy::Time, Some(index)) if f.screener.is_none() && f.risk.is_none() => Some(index),
        (SortBy::Time, _) => None,
        (SortBy::Risk, _) => Some("encounter_by_risk"),
        (SortBy::Deadline, _) => Some("encounter_by_deadline"),
    }
    .map_or(String::new(), |index| format!(" INDEXED BY {index}"));
    let mut sql = format!(
        "SELECT {LIST_COLUMNS}
         FROM encounter e{indexed}
         LEFT JOIN encounter_state s ON s.encounter_id = e.encounter_id AND s.revision = e.revision
         WHERE {CURRENT}"
    );
    let mut params: Vec<Value> = Vec::new();
    push_filters(f, &mut sql, &mut params);
    if let Some(m) = f.text.as_deref().and_then(fts_query) {
        // Other sort orders collect every hit and sort them: slower for common words.
        sql.push_str(&format!(
            "\n  AND e.encounter_id IN (SELECT d.encounter_id FROM search_fts
                                JOIN search_doc d ON d.doc = search_fts.rowid
                                WHERE search_fts MATCH ?{})",
            params.len() + 1
        ));
        params.push(Value::Text(m));
    }
    let (keyset, order) = match q.sort {
        SortBy::Time => (
            "(e.received_at, e.encounter_id) < (?, ?)",
            "e.received_at DESC, e.encounter_id DESC",
        ),
        SortBy::Risk => (
            "(e.risk_rank, e.received_at, e.encounter_id) < (?, ?, ?)",
            "e.risk_rank DESC, e.received_at DESC, e.encounter_id DESC",
        ),
        SortBy::Deadline => (
            "(e.deadline_key, e.received_at, e.encounter_id) > (?, ?, ?)",
            "e.deadline_key, e.received_at, e.encounter_id",
        ),
    };
    if let Some(after) = &q.after {
        if after.sort != q.sort {
            return Err(StoreError::Invalid {
                what: "page cursor",
                problem: "it belongs to a different sort order".into(),
            });
        }
        let mut values = Vec::new();
        match (q.sort, &after.key) {
            (SortBy::Time, _) => {}
            (SortBy::Risk, Some(k)) => {
                values.push(Value::Integer(k.parse().map_err(|_| bad_cursor())?))
            }
            (SortBy::Deadline, Some(k)) => values.push(Value::Text(k.clone())),
            (_, None) => return Err(bad_cursor()),
        }
        values.push(Value::Text(after.received_at.clone()));
        values.push(Value::Text(after.encounter_id.clone()));
        let mut clause = String::new();
        for (n, part) in keyset.split('?').enumerate() {
            clause.push_str(part);
            if n < values.len() {
                clause.push_str(&format!("?{}", params.len() + n + 1));
            }
        }
        sql.push_str("\n  AND ");
        sql.push_str(&clause);
        params.extend(values);
    }
    sql.push_str(&format!(
        "\nORDER BY {order}\nLIMIT {}",
        q.limit.clamp(1, 1000) + 1
    ));
    Ok((sql, params))
}

/// A time-sorted page driven by a workflow state's index (see [`state_index`]): the state
/// row, then its revision; every other filter is tested per row, the screener on the state row.
fn state_index_sql(q: &ListQuery, index: &str, condition: &str) -> (String, Vec<Value>) {
    let mut f = q.filter.clone();
    if index == REVIEW_BY_TIME {
        f.review_state = None;
    } else {
        f.sync_state = None;
    }
    let mut sql = format!(
        "SELECT {LIST_COLUMNS}
         FROM encounter_state s INDEXED BY {index}
         CROSS JOIN encounter e ON e.encounter_id = s.encounter_id AND e.revision = s.revision
         WHERE {condition} AND {CURRENT}"
    );
    let mut params: Vec<Value> = Vec::new();
    // The period bounds the index walk too.
    if let Some(t) = f.received_from {
        sql.push_str(&format!("\n  AND s.received_at >= ?{}", params.len() + 1));
        params.push(Value::Text(ts(t)));
    }
    if let Some(t) = f.received_before {
        sql.push_str(&format!("\n  AND s.received_at < ?{}", params.len() + 1));
        params.push(Value::Text(ts(t)));
    }
    if let Some(s) = f.screener.take() {
        sql.push_str(&format!("\n  AND s.screener = ?{}", params.len() + 1));
        params.push(Value::Text(s));
    }
    push_filters(&f, &mut sql, &mut params);
    if let Some(after) = &q.after {
        sql.push_str(&format!(
            "\n  AND (s.received_at, s.encounter_id) < (?{}, ?{})",
            params.len() + 1,
            params.len() + 2
        ));
        params.push(Value::Text(after.received_at.clone()));
        params.push(Value::Text(after.encounter_id.clone()));
    }
    sql.push_str(&format!(
        "\nORDER BY s.received_at DESC, s.encounter_id DESC\nLIMIT {}",
        q.limit.clamp(1, 1000) + 1
    ));
    (sql, params)
}

fn bad_cursor() -> StoreError {
    StoreError::Invalid {
        what: "page cursor",
        problem: "its sort key is missing or malformed".into(),
    }
}

fn risk_rank(r: Risk) -> i64 {
    Risk::ALL.iter().position(|x| *x == r).unwrap_or(0) as i64
}

pub(crate) fn list(c: &Connection, q: &ListQuery) -> Result<Page> {
    let (sql, params) = list_sql(q)?;
    let search = q.sort == SortBy::Time && q.filter.text.as_deref().and_then(fts_query).is_some();
    let mut st = c.prepare_cached(&sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(params))?;
    let limit = q.limit.clamp(1, 1000);
    let mut out: Vec<ListRow> = Vec::new();
    let mut next = None;
    let mut last_deadline_key: Option<String> = None;
    // A search page ends with the whole millisecond of call time of its last row, so the next
    // page (rowid below that millisecond) neither repeats nor skips an encounter.
    let mut page_floor: Option<i64> = None;
    while let Some(r) = rows.next()? {
        if search {
            let doc: i64 = r.get(18)?;
            if page_floor.is_some_and(|floor| doc < floor) {
                let last = out.last().expect("a full page");
                next = Some(cursor(q.sort, None, last));
                break;
            }
            let row = read_row(r)?;
            if out.iter().any(|x| x.encounter_id == row.encounter_id) {
                continue;
            }
            out.push(row);
            if out.len() == limit && page_floor.is_none() {
                page_floor = Some(doc - doc.rem_euclid(DOCS_PER_MS));
            }
            continue;
        }
        if out.len() == limit {
            let last = out.last().expect("limit >= 1");
            let key = match q.sort {
                SortBy::Time => None,
                SortBy::Risk => Some(risk_rank(last.risk).to_string()),
                SortBy::Deadline => Some(last_deadline_key.take().unwrap_or_default()),
            };
            next = Some(cursor(q.sort, key, last));
            break;
        }
        last_deadline_key = Some(r.get(17)?);
        out.push(read_row(r)?);
    }
    Ok(Page { rows: out, next })
}

fn cursor(sort: SortBy, key: Option<String>, last: &ListRow) -> ListCursor {
    ListCursor {
        sort,
        key,
        received_at: ts(last.received_at),
        encounter_id: last.encounter_id.to_string(),
    }
}

fn read_row(r: &rusqlite::Row<'_>) -> Result<ListRow> {
    let text = |i: usize| -> Result<Option<String>> { Ok(r.get::<_, Option<String>>(i)?) };
    Ok(ListRow {
        encounter_id: parse_uuid(&r.get::<_, String>(0)?)?,
        revision: r.get(1)?,
        status: parse_enum(&r.get::<_, String>(2)?, Status::parse, "status")?,
        screener: r.get(3)?,
        received_at: parse_ts(&r.get::<_, String>(4)?)?,
        caller_display: r.get(5)?,
        language: r.get(6)?,
        age: r.get(7)?,
        cell_chosen: text(8)?.and_then(|s| CellId::parse(&s)),
        risk: text(9)?.and_then(|s| Risk::parse(&s)).unwrap_or(Risk::None),
        triage: text(10)?.and_then(|s| triage_parse(&s)),
        crisis: r.get(11)?,
        deadline_at: text(12)?.map(|s| parse_ts(&s)).transpose()?,
        reason: r.get(13)?,
        review_state: text(14)?
            .map(|s| parse_enum(&s, ReviewState::parse, "review state"))
            .transpose()?,
        sync_state: text(15)?
            .map(|s| parse_enum(&s, SyncState::parse, "sync state"))
            .transpose()?,
    })
}
