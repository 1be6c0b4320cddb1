//! Reading a line back: every check that can be made on the line alone (schema, line hash,
//! payload hash, the fields of its kind).

use super::*;

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
        if withheld != crate::sync::withhold::is_view(payload) {
            return Err(if withheld {
                "the line is a withheld view but its payload does not say so".to_owned()
            } else {
                "the payload is a withheld view but the line does not say so".to_owned()
            });
        }
        if withheld && crate::sync::withhold::consent_given(payload) {
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
