//! Reading stored revisions back (`Store::encounter`, `Store::revisions`).

use rusqlite::{Connection, params};
use uuid::Uuid;

use super::error::{Result, StoreError};
use super::model::{
    EncounterRecord, ReviewState, Risk, Status, Summary, SyncState, parse_enum, parse_ts,
    parse_uuid,
};
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;

const RECORD_SQL: &str = "
    SELECT e.encounter_id, e.revision, e.status, e.supersedes, e.screener, e.device, e.created_at,
           e.updated_at, e.finalized_at, e.received_at, e.caller_display, e.language, e.age,
           e.cell_computed, e.cell_chosen, e.risk, e.triage, e.crisis, e.deadline_at, e.reason,
           e.note, e.definitions, e.payload, e.payload_sha256, s.review_state, s.sync_state
    FROM encounter e LEFT JOIN encounter_state s USING (encounter_id, revision)
    WHERE e.encounter_id = ?1";

/// One revision (`None`: the current one).
pub(crate) fn record(c: &Connection, id: Uuid, revision: Option<u32>) -> Result<EncounterRecord> {
    let sql = match revision {
        Some(_) => format!("{RECORD_SQL} AND e.revision = ?2"),
        None => format!("{RECORD_SQL} ORDER BY e.revision DESC LIMIT 1"),
    };
    let mut st = c.prepare_cached(&sql)?;
    let mut rows = match revision {
        Some(r) => st.query(params![id.to_string(), r])?,
        None => st.query([id.to_string()])?,
    };
    match rows.next()? {
        Some(row) => read_record(row),
        None => Err(match revision {
            Some(revision) => StoreError::RevisionNotFound { id, revision },
            None => StoreError::NotFound { id },
        }),
    }
}

/// Every revision, oldest first.
pub(crate) fn revisions(c: &Connection, id: Uuid) -> Result<Vec<EncounterRecord>> {
    let mut st = c.prepare_cached(&format!("{RECORD_SQL} ORDER BY e.revision"))?;
    let mut rows = st.query([id.to_string()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read_record(row)?);
    }
    Ok(out)
}

fn read_record(r: &rusqlite::Row<'_>) -> Result<EncounterRecord> {
    let opt_ts = |i: usize| -> Result<_> {
        r.get::<_, Option<String>>(i)?
            .map(|s| parse_ts(&s))
            .transpose()
    };
    let cell = |i: usize| -> Result<_> {
        r.get::<_, Option<String>>(i)?
            .map(|s| {
                CellId::parse(&s).ok_or_else(|| StoreError::Corrupt {
                    what: format!("cell `{s}`"),
                })
            })
            .transpose()
    };
    let definitions: String = r.get(21)?;
    Ok(EncounterRecord {
        encounter_id: parse_uuid(&r.get::<_, String>(0)?)?,
        revision: r.get(1)?,
        status: parse_enum(&r.get::<_, String>(2)?, Status::parse, "status")?,
        supersedes: r.get(3)?,
        screener: r.get(4)?,
        device: r.get(5)?,
        created_at: parse_ts(&r.get::<_, String>(6)?)?,
        updated_at: parse_ts(&r.get::<_, String>(7)?)?,
        finalized_at: opt_ts(8)?,
        summary: Summary {
            received_at: parse_ts(&r.get::<_, String>(9)?)?,
            caller_display: r.get(10)?,
            language: r.get(11)?,
            age: r.get(12)?,
            cell_computed: cell(13)?,
            cell_chosen: cell(14)?,
            risk: match r.get::<_, Option<String>>(15)? {
                Some(s) => parse_enum(&s, Risk::parse, "risk")?,
                None => Risk::None,
            },
            triage: r
                .get::<_, Option<String>>(16)?
                .map(|s| parse_enum(&s, triage_parse, "triage"))
                .transpose()?,
            crisis: r.get(17)?,
            deadline_at: opt_ts(18)?,
            reason: r.get(19)?,
        },
        note: r.get(20)?,
        definitions: serde_json::from_str(&definitions).map_err(|_| StoreError::Corrupt {
            what: "definition versions".into(),
        })?,
        payload: r.get::<_, Option<super::packed::Stored>>(22)?.map(|p| p.0),
        payload_sha256: r.get(23)?,
        review_state: r
            .get::<_, Option<String>>(24)?
            .map(|s| parse_enum(&s, ReviewState::parse, "review state"))
            .transpose()?,
        sync_state: r
            .get::<_, Option<String>>(25)?
            .map(|s| parse_enum(&s, SyncState::parse, "sync state"))
            .transpose()?,
    })
}

pub(crate) fn triage_parse(s: &str) -> Option<Triage> {
    [Triage::Emergent, Triage::Urgent, Triage::Routine]
        .into_iter()
        .find(|t| t.as_str() == s)
}
