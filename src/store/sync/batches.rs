//! Recording a batch: the batch row, its audit detail, and the outbox entries it carried marked
//! exported.

use super::*;

/// Move the carried entries to `exported` (pending ones) and remember their batch; mirror
/// the state on the encounters. A batch that carries every entry of its sequence range (the
/// usual case) is one range update; otherwise entry by entry.
pub(super) fn mark_exported(c: &Connection, batch: &BatchRecord, carried: &[i64]) -> Result<()> {
    let id = batch.batch_id.to_string();
    let (Some(first), Some(last)) = (carried.first(), carried.last()) else {
        return Ok(());
    };
    let in_range: i64 = c
        .prepare_cached("SELECT count(*) FROM outbox WHERE device = ?1 AND seq BETWEEN ?2 AND ?3")?
        .query_row(params![batch.device, first, last], |r| r.get(0))?;
    if in_range == carried.len() as i64 && carried.windows(2).all(|w| w[0] < w[1]) {
        c.prepare_cached(
            "UPDATE encounter_state SET sync_state = 'exported'
             FROM (SELECT encounter_id, revision FROM outbox
                   WHERE device = ?1 AND seq BETWEEN ?2 AND ?3 AND kind = 'encounter'
                     AND state = 'pending') AS o
             WHERE encounter_state.encounter_id = o.encounter_id
               AND encounter_state.revision = o.revision",
        )?
        .execute(params![batch.device, first, last])?;
        c.prepare_cached(
            "UPDATE outbox SET batch_id = ?4,
                 state = CASE WHEN state = 'pending' THEN 'exported' ELSE state END
             WHERE device = ?1 AND seq BETWEEN ?2 AND ?3",
        )?
        .execute(params![batch.device, first, last, id])?;
        return Ok(());
    }
    let mut find = c.prepare_cached(
        "SELECT kind, encounter_id, revision, state FROM outbox WHERE device = ?1 AND seq = ?2",
    )?;
    let mut outbox = c.prepare_cached(
        "UPDATE outbox SET batch_id = ?3,
             state = CASE WHEN state = 'pending' THEN 'exported' ELSE state END
         WHERE device = ?1 AND seq = ?2",
    )?;
    let mut mirror = c.prepare_cached(
        "UPDATE encounter_state SET sync_state = 'exported'
         WHERE encounter_id = ?1 AND revision = ?2 AND sync_state = 'pending'",
    )?;
    for seq in carried {
        let entry: Option<(String, String, u32, String)> = find
            .query_row(params![batch.device, seq], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((kind, encounter_id, revision, state)) = entry else {
            return Err(StoreError::NoOutboxEntry {
                device: batch.device.clone(),
                seq: *seq,
            });
        };
        outbox.execute(params![batch.device, seq, id])?;
        if kind == "encounter" && state == "pending" {
            mirror.execute(params![encounter_id, revision])?;
        }
    }
    Ok(())
}

pub(super) fn insert_batch(
    c: &Connection,
    b: &BatchRecord,
    direction: &str,
    now: &str,
) -> Result<usize> {
    Ok(c.prepare_cached(
        "INSERT OR IGNORE INTO sync_batch (batch_id, direction, format, device, first_seq, last_seq,
             count, file_name, file_sha256, encrypted, created_at, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        b.batch_id.to_string(),
        direction,
        b.format,
        b.device,
        b.first_seq,
        b.last_seq,
        b.count as i64,
        b.file_name,
        b.file_sha256,
        b.encrypted,
        ts(b.created_at),
        now
    ])?)
}

pub(super) fn batch_detail(b: &BatchRecord, extra: &serde_json::Value) -> String {
    let mut v = serde_json::json!({
        "format": b.format,
        "device": b.device,
        "first_seq": b.first_seq,
        "last_seq": b.last_seq,
        "count": b.count,
        "file": b.file_name,
        "sha256": b.file_sha256,
        "encrypted": b.encrypted,
    });
    if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        v.extend(extra.clone());
    }
    v.to_string()
}
