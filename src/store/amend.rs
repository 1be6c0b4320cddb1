//! Autosave of an addendum in progress: each corrected field is saved as it is entered, against
//! the finalized revision it corrects, and cleared when the addendum is written.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use uuid::Uuid;

use super::encounters::{check_key, latest};
use super::error::{Result, StoreError};
use super::model::{Actor, Status};

/// Save one corrected field. Only the latest revision, finalized, can be corrected: an edit
/// against an older one (someone else already added an addendum) is refused.
pub(crate) fn save_field(
    c: &Connection,
    actor: &Actor,
    id: Uuid,
    base_revision: u32,
    key: &str,
    value: &serde_json::Value,
    now: &str,
) -> Result<()> {
    check_key(key)?;
    match latest(c, id)? {
        None => return Err(StoreError::NotFound { id }),
        Some((_, Status::Draft)) => return Err(StoreError::NotFinalized { id }),
        Some((current, Status::Finalized)) if current != base_revision => {
            return Err(StoreError::Invalid {
                what: "addendum",
                problem: format!(
                    "revision {base_revision} was already superseded by revision {current}"
                ),
            });
        }
        Some(_) => {}
    }
    c.prepare_cached(
        "INSERT INTO amend_field (encounter_id, base_revision, key, value, screener, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (encounter_id, base_revision, key)
         DO UPDATE SET value = excluded.value, screener = excluded.screener,
                       updated_at = excluded.updated_at",
    )?
    .execute(params![
        id.to_string(),
        base_revision,
        key,
        value.to_string(),
        actor.user,
        now
    ])?;
    Ok(())
}

/// The corrections saved so far against `base_revision`.
pub(crate) fn fields(
    c: &Connection,
    id: Uuid,
    base_revision: u32,
) -> Result<BTreeMap<String, serde_json::Value>> {
    let mut stmt = c.prepare_cached(
        "SELECT key, value FROM amend_field WHERE encounter_id = ?1 AND base_revision = ?2",
    )?;
    let rows = stmt.query_map(params![id.to_string(), base_revision], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (key, value) = row?;
        // A value that no longer parses is skipped (the UI reports skipped fields on resume).
        if let Ok(v) = serde_json::from_str(&value) {
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// The addendum was written: its autosaved fields go.
pub(crate) fn clear(c: &Connection, id: Uuid, base_revision: u32) -> Result<()> {
    c.prepare_cached("DELETE FROM amend_field WHERE encounter_id = ?1 AND base_revision = ?2")?
        .execute(params![id.to_string(), base_revision])?;
    Ok(())
}
