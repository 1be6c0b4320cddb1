//! Supervisor reviews: append-only decisions on one finalized revision. A review changes
//! nothing in the encounter row; the revision's review state lives in `encounter_state`.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::audit::{self, NewAudit, review_record};
use super::encounters::latest;
use super::error::{Result, StoreError};
use super::model::{
    Actor, Decision, Review, ReviewState, Status, parse_enum, parse_ts, parse_uuid,
};
use super::outbox::{self, Item};

/// Record a decision. The caller indexes the note for search as the last step of the
/// transaction (see `queries::index_text`).
pub(crate) fn add_review(
    c: &Connection,
    actor: &Actor,
    id: Uuid,
    revision: u32,
    decision: Decision,
    note: Option<&str>,
    now: &str,
) -> Result<Review> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if decision == Decision::NeedsChanges && note.is_none() {
        return Err(StoreError::NoteRequired);
    }
    let status: Option<String> = c
        .prepare_cached("SELECT status FROM encounter WHERE encounter_id = ?1 AND revision = ?2")?
        .query_row(params![id.to_string(), revision], |r| r.get(0))
        .optional()?;
    match status.as_deref() {
        None => return Err(StoreError::RevisionNotFound { id, revision }),
        Some(s) if s != Status::Finalized.as_str() => return Err(StoreError::NotFinalized { id }),
        Some(_) => {}
    }
    if let Some((current, _)) = latest(c, id)?
        && current != revision
    {
        return Err(StoreError::Superseded {
            id,
            revision,
            current,
        });
    }
    // The id is chosen here (not by SQLite) so the audit row can name it before the insert.
    let review_id: i64 = c
        .prepare_cached("SELECT coalesce(max(review_id), 0) + 1 FROM review")?
        .query_row([], |r| r.get(0))?;
    let record = review_record(review_id);
    let detail = serde_json::json!({
        "encounter": audit::encounter_record(id, revision),
        "decision": decision.as_str(),
    })
    .to_string();
    let audit_seq = audit::append(
        c,
        &NewAudit {
            at: now,
            actor: &actor.user,
            device: &actor.device,
            action: "reviewed",
            record: &record,
            detail: &detail,
        },
    )?;
    c.prepare_cached(
        "INSERT INTO review (review_id, encounter_id, revision, decision, note, reviewer, device,
                             reviewed_at, audit_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        review_id,
        id.to_string(),
        revision,
        decision.as_str(),
        note,
        actor.user,
        actor.device,
        now,
        audit_seq
    ])?;
    let state = match decision {
        Decision::Approved => ReviewState::Approved,
        Decision::NeedsChanges => ReviewState::NeedsChanges,
    };
    c.prepare_cached(
        "UPDATE encounter_state SET review_state = ?3 WHERE encounter_id = ?1 AND revision = ?2",
    )?
    .execute(params![id.to_string(), revision, state.as_str()])?;
    outbox::append(c, &actor.device, Item::Review(review_id), id, revision, now)?;
    Ok(Review {
        review_id,
        encounter_id: id,
        revision,
        decision,
        note: note.map(str::to_owned),
        reviewer: actor.user.clone(),
        device: actor.device.clone(),
        reviewed_at: parse_ts(now)?,
    })
}

/// Every review of every revision of an encounter, oldest first.
pub(crate) fn reviews(c: &Connection, id: Uuid) -> Result<Vec<Review>> {
    let mut st = c.prepare_cached(
        "SELECT review_id, encounter_id, revision, decision, note, reviewer, device, reviewed_at
         FROM review WHERE encounter_id = ?1 ORDER BY revision, review_id",
    )?;
    let rows = st.query_map([id.to_string()], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (review_id, eid, revision, decision, note, reviewer, device, at) = row?;
        out.push(Review {
            review_id,
            encounter_id: parse_uuid(&eid)?,
            revision,
            decision: parse_enum(&decision, Decision::parse, "decision")?,
            note,
            reviewer,
            device,
            reviewed_at: parse_ts(&at)?,
        });
    }
    Ok(out)
}
