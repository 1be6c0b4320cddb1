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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EncounterLine<'a> {
    schema: String,
    kind: String,
    device: String,
    seq: i64,
    encounter_id: Uuid,
    revision: u32,
    supersedes: Option<u32>,
    supersedes_sha256: Option<String>,
    screener: String,
    record_device: String,
    created_at: String,
    updated_at: String,
    finalized_at: String,
    received_at: String,
    caller_display: String,
    language: Option<String>,
    age: Option<u32>,
    cell_computed: Option<String>,
    cell_chosen: Option<String>,
    risk: Option<String>,
    triage: Option<String>,
    crisis: bool,
    deadline_at: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    #[serde(default)]
    view: Option<String>,
    #[serde(borrow)]
    definitions: Option<&'a RawValue>,
    #[serde(default)]
    definitions_text: Option<String>,
    payload_schema: String,
    payload_sha256: String,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(borrow, default)]
    payload_text: Option<&'a RawValue>,
    /// Checked on the line's bytes before parsing.
    #[allow(dead_code)]
    line_sha256: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewLine<'a> {
    schema: String,
    kind: String,
    device: String,
    seq: i64,
    encounter_id: Uuid,
    revision: u32,
    encounter_sha256: String,
    payload_schema: String,
    payload_sha256: String,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(borrow, default)]
    payload_text: Option<&'a RawValue>,
    /// Checked on the line's bytes before parsing.
    #[allow(dead_code)]
    line_sha256: String,
}

/// A line read back: where it came from and the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub device: String,
    pub seq: i64,
    pub payload_schema: String,
    pub incoming: Incoming,
    /// An encounter revision with its substance-use details withheld (a view).
    pub withheld: bool,
}

/// Read one line (without its newline) and check everything that can be checked on the line
/// alone. The error says why, in words; the caller adds the file and line number.
pub fn parse(line: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8 text".to_owned())?;
    // The schema first, so a newer format is named as such rather than as damage.
    check_line_schema(text)?;
    let n = line.len();
    if n < LINE_HASH_SUFFIX_LEN + 2
        || !line.ends_with(b"\"}")
        || &line[n - LINE_HASH_SUFFIX_LEN..n - LINE_HASH_SUFFIX_LEN + LINE_HASH_KEY.len()]
            != LINE_HASH_KEY
    {
        return Err(
            if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
                "not a complete JSON record (damaged or cut short)".to_owned()
            } else {
                "the line's checksum (`line_sha256`, last) is missing or damaged".to_owned()
            },
        );
    }
    let stated = &text[n - 66..n - 2];
    // The head (what the checksum covers) ends where the payload member, the last before the
    // checksum, begins.
    let check_head = |payload: &RawValue, key: &[u8]| -> Result<(), String> {
        let at = payload.get().as_ptr() as usize - text.as_ptr() as usize;
        let head_end = at.checked_sub(key.len()).filter(|h| &line[*h..at] == key);
        match head_end {
            Some(h) if at + payload.get().len() == n - LINE_HASH_SUFFIX_LEN => {
                if hex::encode(Sha256::digest(&line[..h])) == stated {
                    Ok(())
                } else {
                    Err("the line does not match its checksum (`line_sha256`): it was altered or damaged".to_owned())
                }
            }
            _ => Err(
                "the payload is not the last member before the checksum, as accessline writes it"
                    .to_owned(),
            ),
        }
    };
    if text.starts_with(&format!(
        "{{\"schema\":\"{RECORD_SCHEMA}\",\"kind\":\"encounter\","
    )) {
        let l: EncounterLine<'_> = serde_json::from_str(text).map_err(|e| format!("{e}"))?;
        check_line_schema_field(&l.schema, &l.kind, "encounter")?;
        let payload = payload_bytes(l.payload, l.payload_text, &check_head)?;
        let payload = payload.as_ref();
        if crate::store::payload_sha256(payload) != l.payload_sha256 {
            return Err(format!(
                "the payload does not match its payload_sha256 ({}…): it was altered or damaged",
                &l.payload_sha256.get(..12).unwrap_or(&l.payload_sha256)
            ));
        }
        let withheld = match l.view.as_deref() {
            None => false,
            Some(VIEW_SUD_WITHHELD) => true,
            Some(v) => return Err(format!("unknown record view `{v}`")),
        };
        // A view says so twice, on the line and in its payload (which the hub keeps): the
        // two must agree, so a view is never taken for the full record, nor the reverse.
        if withheld != super::withhold::is_view(payload) {
            return Err(if withheld {
                "the line is a withheld view but its payload does not say so".to_owned()
            } else {
                "the payload is a withheld view but the line does not say so".to_owned()
            });
        }
        if withheld && super::withhold::consent_given(payload) {
            return Err("a withheld view of a revision with consent".to_owned());
        }
        let definitions = match (l.definitions, l.definitions_text) {
            (Some(raw), None) => raw.get().to_owned(),
            (None, Some(text)) => text,
            _ => return Err("`definitions` must be given once".to_owned()),
        };
        Ok(Parsed {
            device: l.device,
            seq: l.seq,
            payload_schema: l.payload_schema,
            incoming: Incoming::Encounter {
                row: EncounterRow {
                    encounter_id: l.encounter_id,
                    revision: l.revision,
                    supersedes: l.supersedes,
                    screener: l.screener,
                    device: l.record_device,
                    created_at: l.created_at,
                    updated_at: l.updated_at,
                    finalized_at: l.finalized_at,
                    received_at: l.received_at,
                    caller_display: l.caller_display,
                    language: l.language,
                    age: l.age,
                    cell_computed: l.cell_computed,
                    cell_chosen: l.cell_chosen,
                    risk: l.risk,
                    triage: l.triage,
                    crisis: l.crisis,
                    deadline_at: l.deadline_at,
                    reason: l.reason,
                    note: l.note,
                    definitions,
                    payload: payload.to_owned(),
                    payload_sha256: l.payload_sha256,
                },
                supersedes_sha256: l.supersedes_sha256,
            },
            withheld,
        })
    } else if text.starts_with(&format!(
        "{{\"schema\":\"{RECORD_SCHEMA}\",\"kind\":\"review\","
    )) {
        let l: ReviewLine<'_> = serde_json::from_str(text).map_err(|e| format!("{e}"))?;
        check_line_schema_field(&l.schema, &l.kind, "review")?;
        let payload = payload_bytes(l.payload, l.payload_text, &check_head)?;
        let payload = payload.as_ref();
        if crate::store::payload_sha256(payload) != l.payload_sha256 {
            return Err(
                "the review does not match its payload_sha256: it was altered or damaged"
                    .to_owned(),
            );
        }
        if l.payload_schema != REVIEW_SCHEMA {
            return Err(format!(
                "a review's payload schema must be `{REVIEW_SCHEMA}`, not `{}`",
                l.payload_schema
            ));
        }
        let row: ReviewRow = serde_json::from_str(payload)
            .map_err(|e| format!("the review payload is malformed ({e})"))?;
        if row.payload() != payload {
            return Err("the review payload is not in canonical form".to_owned());
        }
        if row.encounter_id != l.encounter_id || row.revision != l.revision {
            return Err(
                "the review is about another encounter or revision than the line says".to_owned(),
            );
        }
        if row.device != l.device {
            return Err(format!(
                "the review was written on `{}` but the line is in the outbox of `{}`",
                row.device, l.device
            ));
        }
        Ok(Parsed {
            device: l.device,
            seq: l.seq,
            payload_schema: l.payload_schema,
            incoming: Incoming::Review {
                row,
                encounter_sha256: l.encounter_sha256,
            },
            withheld: false,
        })
    } else {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a valid JSON record ({e})"))?;
        match v.get("kind").and_then(|k| k.as_str()) {
            Some(k) if k != "encounter" && k != "review" => {
                Err(format!("unknown record kind `{k}`"))
            }
            _ => Err(format!(
                "the record does not start with `schema` and `kind` as `{RECORD_SCHEMA}` writes them"
            )),
        }
    }
}

fn check_line_schema(text: &str) -> Result<(), String> {
    let prefix = format!("{{\"schema\":\"{RECORD_SCHEMA}\",");
    if text.starts_with(&prefix) {
        return Ok(());
    }
    #[derive(Deserialize)]
    struct Schema {
        schema: Option<String>,
    }
    match serde_json::from_str::<Schema>(text) {
        Ok(Schema { schema: Some(s) }) => check_schema(&s, RECORD_SCHEMA, "record"),
        Ok(Schema { schema: None }) => Err("the record has no `schema`".to_owned()),
        Err(e) => Err(format!("not a valid JSON record ({e})")),
    }
}

fn check_line_schema_field(schema: &str, kind: &str, expected: &str) -> Result<(), String> {
    check_schema(schema, RECORD_SCHEMA, "record")?;
    if kind != expected {
        return Err(format!(
            "record kind `{kind}` where `{expected}` was expected"
        ));
    }
    Ok(())
}

/// Checks the line's head (before the payload member named by the key) against its checksum.
type HeadCheck<'a> = dyn Fn(&RawValue, &[u8]) -> Result<(), String> + 'a;

/// The payload's exact text, once the line's head has been checked against its checksum.
fn payload_bytes<'a>(
    raw: Option<&'a RawValue>,
    text: Option<&'a RawValue>,
    check_head: &HeadCheck<'_>,
) -> Result<std::borrow::Cow<'a, str>, String> {
    match (raw, text) {
        (Some(r), None) => {
            check_head(r, PAYLOAD_KEY)?;
            Ok(std::borrow::Cow::Borrowed(r.get()))
        }
        (None, Some(t)) => {
            check_head(t, PAYLOAD_TEXT_KEY)?;
            serde_json::from_str::<String>(t.get())
                .map(std::borrow::Cow::Owned)
                .map_err(|_| "`payload_text` must be a string".to_owned())
        }
        (None, None) => Err("the record has no payload".to_owned()),
        (Some(_), Some(_)) => Err("the record has two payloads".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SyncState;

    fn row() -> EncounterRow {
        let payload = r#"{"schema":"accessline.encounter/1","intake":{"reason":"line\nbreak"}}"#;
        EncounterRow {
            encounter_id: Uuid::now_v7(),
            revision: 1,
            supersedes: None,
            screener: "s".into(),
            device: "d".into(),
            created_at: "2025-01-06T08:00:00.000Z".into(),
            updated_at: "2025-01-06T08:00:00.000Z".into(),
            finalized_at: "2025-01-06T08:00:00.000Z".into(),
            received_at: "2025-01-06T08:00:00.000Z".into(),
            caller_display: "Anonymous".into(),
            language: None,
            age: Some(40),
            cell_computed: Some("low_low".into()),
            cell_chosen: Some("low_low".into()),
            risk: Some("none".into()),
            triage: Some("routine".into()),
            crisis: false,
            deadline_at: None,
            reason: Some("r\u{2028}\"q\"".into()),
            note: None,
            definitions: r#"{"phq9":"1.0.0"}"#.into(),
            payload: payload.into(),
            payload_sha256: crate::store::payload_sha256(payload),
        }
    }

    fn encoded(row: &EncounterRow) -> Vec<u8> {
        let rec = OutboxRecord {
            device: "d".into(),
            seq: 3,
            state: SyncState::Pending,
            item: OutboxItem::Encounter {
                row: row.clone(),
                supersedes_sha256: None,
                kept: crate::store::Kept::Unknown,
                supersedes_kept: false,
                packed_payload: None,
            },
        };
        let mut buf = Vec::new();
        assert_eq!(encode(&rec, false, &mut buf), "accessline.encounter/1");
        buf
    }

    #[test]
    fn a_line_reads_back_exactly() {
        let r = row();
        let buf = encoded(&r);
        assert_eq!(buf.iter().filter(|b| **b == b'\n').count(), 1);
        let parsed = parse(&buf[..buf.len() - 1]).unwrap();
        assert_eq!((parsed.device.as_str(), parsed.seq), ("d", 3));
        assert_eq!(
            parsed.incoming,
            Incoming::Encounter {
                row: r,
                supersedes_sha256: None
            }
        );
    }

    #[test]
    fn a_payload_with_a_raw_line_break_travels_as_text() {
        let mut r = row();
        r.payload = "{\"schema\":\"accessline.encounter/1\",\n\"a\":1}".into();
        r.payload_sha256 = crate::store::payload_sha256(&r.payload);
        r.definitions = "{\n}".into();
        let buf = encoded(&r);
        assert_eq!(buf.iter().filter(|b| **b == b'\n').count(), 1);
        let parsed = parse(&buf[..buf.len() - 1]).unwrap();
        assert!(matches!(parsed.incoming, Incoming::Encounter { row, .. } if row == r));
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let buf = encoded(&row());
        let line = &buf[..buf.len() - 1];
        for i in 0..line.len() {
            let mut bad = line.to_vec();
            bad[i] ^= 0x01;
            assert!(parse(&bad).is_err(), "byte {i} flipped went unnoticed");
        }
    }

    #[test]
    fn payload_schema_is_read_from_the_front_or_parsed() {
        assert_eq!(payload_schema(r#"{"schema":"a/1","x":1}"#), "a/1");
        assert_eq!(payload_schema(r#"{"x":1,"schema":"b/2"}"#), "b/2");
        assert_eq!(payload_schema(r#"{"x":1}"#), "unknown");
    }
}
