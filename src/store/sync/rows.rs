//! Reading encounter and review rows with the columns sync carries, and checking a payload
//! against its stored hash.

use super::*;

pub(super) const ENCOUNTER_COLUMNS: &str =
    "e.encounter_id, e.revision, e.supersedes, e.screener, e.device,
    e.created_at, e.updated_at, e.finalized_at, e.received_at, e.caller_display, e.language, e.age,
    e.cell_computed, e.cell_chosen, e.risk, e.triage, e.crisis, e.deadline_at, e.reason, e.note,
    e.definitions, e.payload, e.payload_sha256";
pub(super) const ENCOUNTER_COLUMN_COUNT: usize = 23;

impl EncounterRow {
    /// The payload still hashes to its stored SHA-256: a damaged row must not leave the device
    /// looking intact.
    pub fn check_payload(&self) -> Result<()> {
        use sha2::{Digest, Sha256};
        let mut hex = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(self.payload.as_bytes()), &mut hex)
            .expect("64 hex digits for 32 bytes");
        let ok = hex.as_slice() == self.payload_sha256.as_bytes();
        if ok {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                what: format!(
                    "payload of {} (it no longer matches its SHA-256)",
                    encounter_record(self.encounter_id, self.revision)
                ),
            })
        }
    }
}

pub(super) fn encounter_row(r: &rusqlite::Row<'_>, at: usize) -> Result<EncounterRow> {
    let row = encounter_row_unchecked(r, at)?;
    row.check_payload()?;
    Ok(row)
}

fn encounter_row_unchecked(r: &rusqlite::Row<'_>, at: usize) -> Result<EncounterRow> {
    encounter_row_columns(r, at, r.get::<_, crate::store::packed::Stored>(at + 21)?.0)
}

/// An encounter row whose payload is left as stored: `(row with an empty payload, the packed
/// bytes)` when packed, `(row, None)` when stored as text.
pub(super) fn encounter_row_packed(
    r: &rusqlite::Row<'_>,
    at: usize,
) -> Result<(EncounterRow, Option<Vec<u8>>)> {
    Ok(match r.get_ref(at + 21)? {
        rusqlite::types::ValueRef::Blob(b) => {
            let packed = b.to_vec();
            (encounter_row_columns(r, at, String::new())?, Some(packed))
        }
        _ => (encounter_row_unchecked(r, at)?, None),
    })
}

fn encounter_row_columns(
    r: &rusqlite::Row<'_>,
    at: usize,
    payload: String,
) -> Result<EncounterRow> {
    let id: String = r.get(at)?;
    let row = EncounterRow {
        encounter_id: Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt {
            what: format!("encounter id `{id}`"),
        })?,
        revision: r.get(at + 1)?,
        supersedes: r.get(at + 2)?,
        screener: r.get(at + 3)?,
        device: r.get(at + 4)?,
        created_at: r.get(at + 5)?,
        updated_at: r.get(at + 6)?,
        finalized_at: r.get(at + 7)?,
        received_at: r.get(at + 8)?,
        caller_display: r.get(at + 9)?,
        language: r.get(at + 10)?,
        age: r.get(at + 11)?,
        cell_computed: r.get(at + 12)?,
        cell_chosen: r.get(at + 13)?,
        risk: r.get(at + 14)?,
        triage: r.get(at + 15)?,
        crisis: r.get(at + 16)?,
        deadline_at: r.get(at + 17)?,
        reason: r.get(at + 18)?,
        note: r.get(at + 19)?,
        definitions: r.get(at + 20)?,
        payload,
        payload_sha256: r.get(at + 22)?,
    };
    Ok(row)
}

pub(super) const REVIEW_COLUMNS: &str = "r.review_id, r.encounter_id, r.revision, r.decision, r.note, r.reviewer, r.device, r.reviewed_at";
pub(super) const REVIEW_COLUMN_COUNT: usize = 8;

pub(super) fn review_row(r: &rusqlite::Row<'_>, at: usize) -> Result<ReviewRow> {
    let id: String = r.get(at + 1)?;
    Ok(ReviewRow {
        review_id: r.get(at)?,
        encounter_id: Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt {
            what: format!("encounter id `{id}`"),
        })?,
        revision: r.get(at + 2)?,
        decision: r.get(at + 3)?,
        note: r.get(at + 4)?,
        reviewer: r.get(at + 5)?,
        device: r.get(at + 6)?,
        reviewed_at: r.get(at + 7)?,
    })
}
