//! The canonical sync format: NDJSON, one record per line, schema `accessline.sync/1`.
//!
//! ```text
//! {"schema":"accessline.sync/1","kind":"encounter","device":…,"seq":…,"encounter_id":…,
//!  "revision":…, …every stored column…, "definitions":{…},"payload_schema":…,
//!  "payload_sha256":…,"payload":{…},"line_sha256":…}
//! {"schema":"accessline.sync/1","kind":"review","device":…,"seq":…,"encounter_id":…,
//!  "revision":…,"encounter_sha256":…,"payload_schema":"accessline.review/1",
//!  "payload_sha256":…,"payload":{…},"line_sha256":…}
//! ```
//!
//! - `payload` is the stored payload's exact bytes (so its SHA-256 is `payload_sha256` at both
//!   ends); a payload holding a raw line break (never written by accessline) travels as the
//!   string `payload_text` instead.
//! - `payload` (or `payload_text`) comes last but for `line_sha256`, the SHA-256 of the line's
//!   bytes before `,"payload"`; with `payload_sha256` (inside what it covers) every byte of the
//!   line is checked, each once, and an altered byte is named by line.
//! - An addendum carries `supersedes_sha256`, a review `encounter_sha256`: the hash of the
//!   revision it builds on, so a hub never attaches it to a different version.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::manifest::check_schema;
use crate::store::{EncounterRow, Incoming, OutboxItem, OutboxRecord, ReviewRow};

mod parse;
pub use parse::{Parsed, parse};

/// The line schema this program writes and reads.
pub const RECORD_SCHEMA: &str = "accessline.sync/1";
/// The payload schema of a review line.
pub const REVIEW_SCHEMA: &str = "accessline.review/1";

const LINE_HASH_KEY: &[u8] = b",\"line_sha256\":\"";
const PAYLOAD_KEY: &[u8] = b",\"payload\":";
const PAYLOAD_TEXT_KEY: &[u8] = b",\"payload_text\":";
/// `,"line_sha256":"` + 64 hex digits + `"}`.
const LINE_HASH_SUFFIX_LEN: usize = LINE_HASH_KEY.len() + 64 + 2;

#[derive(Serialize)]
struct EncounterHead<'a> {
    schema: &'static str,
    kind: &'static str,
    device: &'a str,
    seq: i64,
    encounter_id: Uuid,
    revision: u32,
    supersedes: Option<u32>,
    supersedes_sha256: Option<&'a str>,
    screener: &'a str,
    record_device: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    finalized_at: &'a str,
    received_at: &'a str,
    caller_display: &'a str,
    language: Option<&'a str>,
    age: Option<u32>,
    cell_computed: Option<&'a str>,
    cell_chosen: Option<&'a str>,
    risk: Option<&'a str>,
    triage: Option<&'a str>,
    crisis: bool,
    deadline_at: Option<&'a str>,
    reason: Option<&'a str>,
    note: Option<&'a str>,
    /// `sud_withheld` on a withheld view (docs/sync.md); absent on a full record.
    #[serde(skip_serializing_if = "Option::is_none")]
    view: Option<&'static str>,
}

/// The `view` of a line that carries a revision with its substance-use details withheld.
pub const VIEW_SUD_WITHHELD: &str = "sud_withheld";

#[derive(Serialize)]
struct ReviewHead<'a> {
    schema: &'static str,
    kind: &'static str,
    device: &'a str,
    seq: i64,
    encounter_id: Uuid,
    revision: u32,
    encounter_sha256: &'a str,
}

/// The `schema` member at the start of a payload, if it is there (both the screener UI and
/// the demo generator write it first); otherwise `unknown`.
pub fn payload_schema(payload: &str) -> String {
    #[derive(Deserialize)]
    struct Schema {
        schema: Option<String>,
    }
    if let Some(rest) = payload.strip_prefix("{\"schema\":\"")
        && let Some(end) = rest.find('"')
        && !rest[..end].contains('\\')
    {
        return rest[..end].to_owned();
    }
    serde_json::from_str::<Schema>(payload)
        .ok()
        .and_then(|s| s.schema)
        .unwrap_or_else(|| "unknown".into())
}

/// Append one record as a line (with its newline) to `buf`. Returns the payload schema.
/// `withheld`: the encounter row is a withheld view ([`super::withhold`]); the line says so.
pub fn encode(rec: &OutboxRecord, withheld: bool, buf: &mut Vec<u8>) -> String {
    let start = buf.len();
    let (schema, sha, payload) = match &rec.item {
        OutboxItem::Encounter {
            row,
            supersedes_sha256,
            ..
        } => {
            let head = EncounterHead {
                schema: RECORD_SCHEMA,
                kind: "encounter",
                device: &rec.device,
                seq: rec.seq,
                encounter_id: row.encounter_id,
                revision: row.revision,
                supersedes: row.supersedes,
                supersedes_sha256: supersedes_sha256.as_deref(),
                screener: &row.screener,
                record_device: &row.device,
                created_at: &row.created_at,
                updated_at: &row.updated_at,
                finalized_at: &row.finalized_at,
                received_at: &row.received_at,
                caller_display: &row.caller_display,
                language: row.language.as_deref(),
                age: row.age,
                cell_computed: row.cell_computed.as_deref(),
                cell_chosen: row.cell_chosen.as_deref(),
                risk: row.risk.as_deref(),
                triage: row.triage.as_deref(),
                crisis: row.crisis,
                deadline_at: row.deadline_at.as_deref(),
                reason: row.reason.as_deref(),
                note: row.note.as_deref(),
                view: withheld.then_some(VIEW_SUD_WITHHELD),
            };
            serde_json::to_writer(&mut *buf, &head).expect("writing to a Vec");
            buf.pop();
            buf.extend_from_slice(b",\"definitions\":");
            push_json(buf, "definitions_text", &row.definitions);
            (
                payload_schema(&row.payload),
                row.payload_sha256.clone(),
                std::borrow::Cow::Borrowed(row.payload.as_str()),
            )
        }
        OutboxItem::Review {
            row,
            encounter_sha256,
            ..
        } => {
            let head = ReviewHead {
                schema: RECORD_SCHEMA,
                kind: "review",
                device: &rec.device,
                seq: rec.seq,
                encounter_id: row.encounter_id,
                revision: row.revision,
                encounter_sha256,
            };
            serde_json::to_writer(&mut *buf, &head).expect("writing to a Vec");
            buf.pop();
            let payload = row.payload();
            let sha = crate::store::payload_sha256(&payload);
            (
                REVIEW_SCHEMA.to_owned(),
                sha,
                std::borrow::Cow::Owned(payload),
            )
        }
    };
    buf.extend_from_slice(b",\"payload_schema\":");
    serde_json::to_writer(&mut *buf, &schema).expect("writing to a Vec");
    buf.extend_from_slice(b",\"payload_sha256\":\"");
    buf.extend_from_slice(sha.as_bytes());
    buf.push(b'"');
    // The checksum covers everything before the payload; the payload is covered by
    // `payload_sha256`, which is part of what the checksum covers.
    let line_sha = hex::encode(Sha256::digest(&buf[start..]));
    if is_single_line(&payload) {
        buf.extend_from_slice(PAYLOAD_KEY);
        buf.extend_from_slice(payload.as_bytes());
    } else {
        buf.extend_from_slice(PAYLOAD_TEXT_KEY);
        serde_json::to_writer(&mut *buf, &*payload).expect("writing to a Vec");
    }
    buf.extend_from_slice(LINE_HASH_KEY);
    buf.extend_from_slice(line_sha.as_bytes());
    buf.extend_from_slice(b"\"}\n");
    schema
}

/// Stored JSON text embedded as is, unless it spans lines (then as a string under `alt`).
fn push_json(buf: &mut Vec<u8>, alt: &str, text: &str) {
    if is_single_line(text) && !text.trim().is_empty() {
        buf.extend_from_slice(text.as_bytes());
    } else {
        // Keep the member present (so the reader finds it) and move the text aside.
        buf.extend_from_slice(b"null,");
        serde_json::to_writer(&mut *buf, alt).expect("writing to a Vec");
        buf.push(b':');
        serde_json::to_writer(&mut *buf, text).expect("writing to a Vec");
    }
}

fn is_single_line(s: &str) -> bool {
    !s.contains('\n') && !s.contains('\r')
}

#[cfg(test)]
mod tests;
