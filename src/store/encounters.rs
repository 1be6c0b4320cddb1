//! Encounter lifecycle: a draft saved field by field, finalized once, corrected by addenda.
//!
//! Every function here runs inside the caller's immediate transaction (see `Store::write`), so
//! a step either happens whole, with its audit and outbox rows, or not at all.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, ToSql, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit::{self, NewAudit, encounter_record};
use super::error::{Result, StoreError};
use super::model::{
    ANONYMOUS, Actor, CALLER_NAME_KEY, CURSOR_KEY, Cursor, Draft, Finalized, Status, Summary,
    parse_enum, parse_ts, ts,
};
use super::outbox::{self, Item};
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;

/// Hex SHA-256 of the exact bytes stored in the payload column.
pub fn payload_sha256(payload: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(payload.as_ref()))
}

/// The newest revision of an encounter and its status.
pub(crate) fn latest(c: &Connection, id: Uuid) -> Result<Option<(u32, Status)>> {
    let row: Option<(u32, String)> = c
        .prepare_cached(
            "SELECT revision, status FROM encounter WHERE encounter_id = ?1
             ORDER BY revision DESC LIMIT 1",
        )?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(rev, s)| Ok((rev, parse_enum(&s, Status::parse, "status")?)))
        .transpose()
}

pub(crate) fn start_draft(
    c: &Connection,
    actor: &Actor,
    id: Uuid,
    received_at: &str,
    now: &str,
) -> Result<()> {
    if latest(c, id)?.is_some() {
        return Err(StoreError::AlreadyExists { id });
    }
    c.prepare_cached(
        "INSERT INTO encounter (encounter_id, revision, status, screener, device, created_at,
                                updated_at, received_at)
         VALUES (?1, 1, 'draft', ?2, ?3, ?4, ?4, ?5)",
    )?
    .execute(params![
        id.to_string(),
        actor.user,
        actor.device,
        now,
        received_at
    ])?;
    let record = encounter_record(id, 1);
    audit::append(
        c,
        &NewAudit {
            at: now,
            actor: &actor.user,
            device: &actor.device,
            action: "draft_started",
            record: &record,
            detail: "{}",
        },
    )?;
    Ok(())
}

/// Upsert one field of a draft. The UI calls this once per answer, each in its own transaction.
/// A saved field needs a name.
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: "field key",
            problem: "must not be empty".into(),
        });
    }
    Ok(())
}

pub(crate) fn save_field(
    c: &Connection,
    actor: &Actor,
    id: Uuid,
    key: &str,
    value: &serde_json::Value,
    now: &str,
) -> Result<()> {
    check_key(key)?;
    match latest(c, id)? {
        None => return Err(StoreError::NotFound { id }),
        Some((_, Status::Finalized)) => return Err(StoreError::Finalized { id }),
        Some((_, Status::Draft)) => {}
    }
    let id_text = id.to_string();
    c.prepare_cached(
        "INSERT INTO draft_field (encounter_id, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (encounter_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![id_text, key, value.to_string(), now])?;
    if key == CALLER_NAME_KEY {
        // The queue shows who called; the UI clears the name when the caller is anonymous.
        let display = value
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(ANONYMOUS);
        c.prepare_cached("UPDATE encounter SET updated_at = ?2, caller_display = ?3 WHERE encounter_id = ?1 AND revision = 1")?
            .execute(params![id_text, now, display])?;
    } else {
        c.prepare_cached(
            "UPDATE encounter SET updated_at = ?2 WHERE encounter_id = ?1 AND revision = 1",
        )?
        .execute(params![id_text, now])?;
    }
    // The key, never the value: the audit log records that PHI changed, not the PHI.
    let detail = serde_json::json!({ "key": key }).to_string();
    let record = encounter_record(id, 1);
    audit::append(
        c,
        &NewAudit {
            at: now,
            actor: &actor.user,
            device: &actor.device,
            action: "field_saved",
            record: &record,
            detail: &detail,
        },
    )?;
    Ok(())
}

pub(crate) fn load_draft(c: &Connection, id: Uuid) -> Result<Draft> {
    let head: Option<(String, String, String, String)> = c
        .prepare_cached("SELECT status, screener, received_at, updated_at FROM encounter WHERE encounter_id = ?1 AND revision = 1")?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((status, screener, received_at, updated_at)) = head else {
        return Err(StoreError::NotFound { id });
    };
    if status != Status::Draft.as_str() || latest(c, id)?.is_some_and(|(r, _)| r > 1) {
        return Err(StoreError::Finalized { id });
    }
    let mut st = c.prepare_cached(
        "SELECT key, value FROM draft_field WHERE encounter_id = ?1 ORDER BY key",
    )?;
    let mut fields = BTreeMap::new();
    let mut cursor = None;
    for row in st.query_map([id.to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (key, text) = row?;
        let corrupt = || StoreError::Corrupt {
            what: format!("draft field `{key}` of {id}"),
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|_| corrupt())?;
        if key == CURSOR_KEY {
            cursor = Some(serde_json::from_value::<Cursor>(value).map_err(|_| corrupt())?);
        } else {
            fields.insert(key, value);
        }
    }
    Ok(Draft {
        encounter_id: id,
        screener,
        received_at: parse_ts(&received_at)?,
        updated_at: parse_ts(&updated_at)?,
        fields,
        cursor,
    })
}

/// What full-text search indexes for a revision: the reason for call and the addendum note.
pub(crate) fn search_text(rev: &NewRevision<'_>) -> String {
    [rev.summary.reason.as_deref(), rev.note]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A finalized revision about to be written. The caller indexes its text for search as the
/// last step of the transaction (see `queries::index_text`).
pub(crate) struct NewRevision<'a> {
    pub id: Uuid,
    pub payload: &'a str,
    pub summary: &'a Summary,
    /// JSON object `definition id → version`.
    pub definitions: &'a str,
    pub note: Option<&'a str>,
    pub now: &'a str,
}

/// Finalize revision 1: the draft if there is one, else a new row.
pub(crate) fn finalize(c: &Connection, actor: &Actor, rev: &NewRevision<'_>) -> Result<Finalized> {
    match latest(c, rev.id)? {
        None => write_revision(c, actor, rev, 1, false),
        Some((1, Status::Draft)) => write_revision(c, actor, rev, 1, true),
        Some(_) => Err(StoreError::Finalized { id: rev.id }),
    }
}

/// A correction: a new finalized revision superseding the current one.
pub(crate) fn add_addendum(
    c: &Connection,
    actor: &Actor,
    rev: &NewRevision<'_>,
) -> Result<Finalized> {
    if rev.note.is_none_or(|n| n.trim().is_empty()) {
        return Err(StoreError::Invalid {
            what: "addendum",
            problem: "needs a note saying what changed and why".into(),
        });
    }
    match latest(c, rev.id)? {
        None => Err(StoreError::NotFound { id: rev.id }),
        Some((_, Status::Draft)) => Err(StoreError::NotFinalized { id: rev.id }),
        Some((current, Status::Finalized)) => write_revision(c, actor, rev, current + 1, false),
    }
}

fn write_revision(
    c: &Connection,
    actor: &Actor,
    rev: &NewRevision<'_>,
    revision: u32,
    from_draft: bool,
) -> Result<Finalized> {
    let sha = payload_sha256(rev.payload);
    // Stored packed (store::packed); the hash above is over the JSON text.
    let packed = super::packed::Packed::of(rev.payload);
    let supersedes = (revision > 1).then(|| revision - 1);
    let record = encounter_record(rev.id, revision);
    let detail = serde_json::json!({ "sha256": sha, "supersedes": supersedes }).to_string();
    let action = if revision == 1 {
        "finalized"
    } else {
        "addendum"
    };
    let audit_seq = audit::append(
        c,
        &NewAudit {
            at: rev.now,
            actor: &actor.user,
            device: &actor.device,
            action,
            record: &record,
            detail: &detail,
        },
    )?;
    let s = rev.summary;
    let id = rev.id.to_string();
    let received_at = ts(s.received_at);
    let cell_computed = s.cell_computed.map(CellId::id);
    let cell_chosen = s.cell_chosen.map(CellId::id);
    let triage = s.triage.map(Triage::as_str);
    let deadline_at = s.deadline_at.map(ts);
    let risk = s.risk.as_str();
    let mut cols: Vec<(&str, &dyn ToSql)> = vec![
        (":id", &id),
        (":revision", &revision),
        (":screener", &actor.user),
        (":device", &actor.device),
        (":now", &rev.now),
        (":received_at", &received_at),
        (":caller_display", &s.caller_display),
        (":language", &s.language),
        (":age", &s.age),
        (":cell_computed", &cell_computed),
        (":cell_chosen", &cell_chosen),
        (":risk", &risk),
        (":triage", &triage),
        (":crisis", &s.crisis),
        (":deadline_at", &deadline_at),
        (":reason", &s.reason),
        (":note", &rev.note),
        (":audit_seq", &audit_seq),
        (":sha", &sha),
        (":definitions", &rev.definitions),
        (":payload", &packed),
    ];
    if from_draft {
        c.prepare_cached(
            "UPDATE encounter SET status = 'finalized', screener = :screener, device = :device,
                 updated_at = :now, finalized_at = :now, received_at = :received_at,
                 caller_display = :caller_display, language = :language, age = :age,
                 cell_computed = :cell_computed, cell_chosen = :cell_chosen, risk = :risk,
                 triage = :triage, crisis = :crisis, deadline_at = :deadline_at, reason = :reason,
                 note = :note, audit_seq = :audit_seq, payload_sha256 = :sha,
                 definitions = :definitions, payload = :payload
             WHERE encounter_id = :id AND revision = :revision AND status = 'draft'",
        )?
        .execute(cols.as_slice())?;
        c.prepare_cached("DELETE FROM draft_field WHERE encounter_id = ?1")?
            .execute([&id])?;
    } else {
        c.prepare_cached(
            "INSERT INTO encounter (encounter_id, revision, status, supersedes, screener, device,
                 created_at, updated_at, finalized_at, received_at, caller_display, language, age,
                 cell_computed, cell_chosen, risk, triage, crisis, deadline_at, reason, note,
                 audit_seq, payload_sha256, definitions, payload)
             VALUES (:id, :revision, 'finalized', :supersedes, :screener, :device, :now, :now, :now,
                 :received_at, :caller_display, :language, :age, :cell_computed, :cell_chosen,
                 :risk, :triage, :crisis, :deadline_at, :reason, :note, :audit_seq, :sha,
                 :definitions, :payload)",
        )?
        .execute({
            cols.push((":supersedes", &supersedes));
            cols.as_slice()
        })?;
    }
    // Its withheld view, made once (a finalized revision never changes).
    super::views::write(c, &id, revision, rev.payload, &sha, deadline_at.as_deref())?;
    c.prepare_cached(
        "INSERT INTO encounter_state (encounter_id, revision, screener, received_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, revision, actor.user, received_at])?;
    if let Some(previous) = supersedes {
        c.prepare_cached(
            "UPDATE encounter_state SET current = 0 WHERE encounter_id = ?1 AND revision = ?2",
        )?
        .execute(params![id, previous])?;
    }
    let outbox_seq = outbox::append(c, &actor.device, Item::Encounter, rev.id, revision, rev.now)?;
    Ok(Finalized {
        encounter_id: rev.id,
        revision,
        payload_sha256: sha,
        outbox_seq,
    })
}
