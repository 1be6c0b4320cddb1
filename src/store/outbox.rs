//! The outbox: every finalized revision and every review gets the next sequence number of the
//! device that wrote it, so a receiver can tell a gap from a duplicate. Only the sync state of an
//! entry ever changes.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::error::{Result, StoreError};
use super::model::{OutboxEntry, SyncState, parse_enum, parse_ts, parse_uuid};

/// What an outbox entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    Encounter,
    Review(i64),
}

/// Append an entry in the caller's transaction; returns the device's new sequence number.
pub(crate) fn append(
    c: &Connection,
    device: &str,
    item: Item,
    id: Uuid,
    revision: u32,
    now: &str,
) -> Result<i64> {
    let last: Option<i64> = c
        .prepare_cached("SELECT max(seq) FROM outbox WHERE device = ?1")?
        .query_row([device], |r| r.get(0))?;
    let seq = last.unwrap_or(0) + 1;
    let (kind, review_id) = match item {
        Item::Encounter => ("encounter", None),
        Item::Review(r) => ("review", Some(r)),
    };
    c.prepare_cached(
        "INSERT INTO outbox (device, seq, kind, encounter_id, revision, review_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        device,
        seq,
        kind,
        id.to_string(),
        revision,
        review_id,
        now
    ])?;
    Ok(seq)
}

/// Record how sync went for one entry; an encounter's state is mirrored for the supervisor list.
pub(crate) fn set_state(
    c: &Connection,
    device: &str,
    seq: i64,
    state: SyncState,
    error: Option<&str>,
) -> Result<()> {
    let target: Option<(String, String, u32)> = c
        .prepare_cached(
            "SELECT kind, encounter_id, revision FROM outbox WHERE device = ?1 AND seq = ?2",
        )?
        .query_row(params![device, seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((kind, id, revision)) = target else {
        return Err(StoreError::NoOutboxEntry {
            device: device.into(),
            seq,
        });
    };
    c.prepare_cached(
        "UPDATE outbox SET state = ?3, last_error = ?4 WHERE device = ?1 AND seq = ?2",
    )?
    .execute(params![device, seq, state.as_str(), error])?;
    if kind == "encounter" {
        c.prepare_cached(
            "UPDATE encounter_state SET sync_state = ?3, sync_error = ?4
             WHERE encounter_id = ?1 AND revision = ?2",
        )?
        .execute(params![id, revision, state.as_str(), error])?;
    }
    Ok(())
}

/// Entries of `device` not yet sent, oldest first.
pub(crate) fn pending(c: &Connection, device: &str, limit: usize) -> Result<Vec<OutboxEntry>> {
    let mut st = c.prepare_cached(
        "SELECT device, seq, kind, encounter_id, revision, review_id, created_at, state, last_error
         FROM outbox WHERE device = ?1 AND state = 'pending' ORDER BY seq LIMIT ?2",
    )?;
    let rows = st.query_map(params![device, limit as i64], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, u32>(4)?,
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, Option<String>>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (device, seq, kind, id, revision, review_id, created_at, state, last_error) = row?;
        out.push(OutboxEntry {
            device,
            seq,
            kind,
            encounter_id: parse_uuid(&id)?,
            revision,
            review_id,
            created_at: parse_ts(&created_at)?,
            state: parse_enum(&state, SyncState::parse, "sync state")?,
            last_error,
        });
    }
    Ok(out)
}
