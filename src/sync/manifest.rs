//! The manifest beside every batch file: plaintext JSON that says what the file is and how to
//! check it — never PHI (no ids, names or answers), so a courier or an operator can check a
//! delivery without the county's key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Result, SyncError};

/// The manifest schema this program writes and reads.
pub const MANIFEST_SCHEMA: &str = "accessline.sync.manifest/1";

/// Suffix of a manifest file; the data file shares its stem.
pub const MANIFEST_SUFFIX: &str = ".manifest.json";

/// The encryption of a batch file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// `age-x25519`: an age file (age-encryption.org/v1) to X25519 recipients.
    pub scheme: String,
    /// The public keys it was encrypted to.
    pub recipients: Vec<String>,
}

/// Where this device's audit chain stood when the batch was written: a hub can compare heads
/// across batches, and a rewritten chain on the device no longer matches what it sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    pub batch_id: Uuid,
    /// `ndjson` or `fhir`.
    pub format: String,
    /// The schema of each line: `accessline.sync/1`, or `fhir-r4-bundle` (one transaction
    /// Bundle per line).
    pub record_schema: String,
    /// The payload schemas found in the batch (`accessline.encounter/1`, …).
    pub payload_schemas: Vec<String>,
    pub created_at: String,
    /// The program that wrote it, e.g. `accessline 0.1.0`.
    pub generator: String,
    /// The device whose outbox the batch carries.
    pub device: String,
    /// The data file's name (beside this manifest).
    pub file: String,
    /// Size and SHA-256 of the data file as written (the ciphertext when encrypted).
    pub bytes: u64,
    pub sha256: String,
    /// SHA-256 of the plaintext lines (equal to `sha256` when not encrypted).
    pub content_sha256: String,
    pub encryption: Option<Encryption>,
    /// Number of lines, and of each kind.
    pub count: u64,
    pub encounters: u64,
    pub reviews: u64,
    /// Encounter revisions in the file with their substance-use details withheld (no
    /// consent to share them; 42 CFR Part 2). A count, no PHI.
    #[serde(default)]
    pub sud_withheld: u64,
    /// The device's outbox sequence numbers of the first and last line.
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub audit_head: Option<AuditHead>,
}

impl Manifest {
    /// Read and check a manifest: a newer schema is refused with a message that says so.
    pub fn read(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(SyncError::io(path))?;
        let bad = |problem: String| SyncError::File {
            file: path.to_owned(),
            problem,
        };
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| bad(format!("the manifest is not valid JSON ({e})")))?;
        let schema = value
            .get("schema")
            .and_then(|s| s.as_str())
            .ok_or_else(|| bad("not an accessline manifest (no `schema`)".into()))?;
        check_schema(schema, MANIFEST_SCHEMA, "manifest").map_err(bad)?;
        let m: Manifest = serde_json::from_value(value)
            .map_err(|e| bad(format!("the manifest is malformed ({e})")))?;
        if m.format != "ndjson" && m.format != "fhir" {
            return Err(bad(format!("unknown batch format `{}`", m.format)));
        }
        if m.file.contains('/') || m.file.contains('\\') || m.file.starts_with('.') {
            return Err(bad(format!(
                "the data file name `{}` is not a plain name",
                m.file
            )));
        }
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a manifest serializes");
        s.push('\n');
        s
    }
}

/// Compare a schema id `name/N` with the one this program knows; a newer version is named as
/// such (upgrade accessline), anything else as not ours.
pub fn check_schema(found: &str, known: &str, what: &str) -> std::result::Result<(), String> {
    if found == known {
        return Ok(());
    }
    let split = |s: &str| {
        s.rsplit_once('/')
            .and_then(|(n, v)| Some((n.to_owned(), v.parse::<u32>().ok()?)))
    };
    match (split(found), split(known)) {
        (Some((fname, fv)), Some((kname, kv))) if fname == kname && fv > kv => Err(format!(
            "{what} schema `{found}` is newer than this program reads (`{known}`): upgrade accessline to import it"
        )),
        (Some((fname, _)), Some((kname, _))) if fname == kname => Err(format!(
            "{what} schema `{found}` is not supported (this program reads `{known}`)"
        )),
        _ => Err(format!(
            "{what} schema `{found}` is not an accessline {what} (expected `{known}`)"
        )),
    }
}

/// A file-name-safe form of a device name.
pub fn safe_device(device: &str) -> String {
    let s: String = device
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() { "device".into() } else { s }
}

/// The stem shared by a batch's data file and manifest:
/// `<device>_<first seq>-<last seq>_<batch id prefix>`.
pub fn stem(device: &str, first: Option<i64>, last: Option<i64>, batch: Uuid) -> String {
    let seq = |s: Option<i64>| s.map_or("x".to_owned(), |s| format!("{s:08}"));
    let id = batch.simple().to_string();
    format!(
        "{}_{}-{}_{}",
        safe_device(device),
        seq(first),
        seq(last),
        // The end of a UUIDv7 is its random part: the start is the time, shared by a run.
        &id[id.len() - 8..]
    )
}

/// The manifest of a data file or of itself: `x.manifest.json` for `x.ndjson`, `x.ndjson.age`,
/// `x.fhir.ndjson.age`, ….
pub fn manifest_path(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(MANIFEST_SUFFIX) {
        return file.to_owned();
    }
    let stem = name.split('.').next().unwrap_or(&name);
    file.with_file_name(format!("{stem}{MANIFEST_SUFFIX}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_compared_by_name_and_version() {
        assert!(check_schema("accessline.sync/1", "accessline.sync/1", "record").is_ok());
        let newer = check_schema("accessline.sync/2", "accessline.sync/1", "record").unwrap_err();
        assert!(
            newer.contains("newer") && newer.contains("upgrade"),
            "{newer}"
        );
        let other = check_schema("something/1", "accessline.sync/1", "record").unwrap_err();
        assert!(other.contains("not an accessline"), "{other}");
    }

    #[test]
    fn manifest_names_follow_the_data_file() {
        let m = |p: &str| manifest_path(Path::new(p)).display().to_string();
        assert_eq!(m("/x/dev_1-2_ab.ndjson"), "/x/dev_1-2_ab.manifest.json");
        assert_eq!(m("/x/dev_1-2_ab.ndjson.age"), "/x/dev_1-2_ab.manifest.json");
        assert_eq!(m("dev_1-2_ab.fhir.ndjson.age"), "dev_1-2_ab.manifest.json");
        assert_eq!(
            m("/x/dev_1-2_ab.manifest.json"),
            "/x/dev_1-2_ab.manifest.json"
        );
        assert_eq!(safe_device("field laptop.02/x"), "field_laptop_02_x");
    }
}
