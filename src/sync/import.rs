//! `accessline import`: check a batch file against its manifest line by line and import it
//! on a hub in one transaction (see `Store::import_batch`): a file that fails any check
//! imports nothing, and the error names the line and why.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::crypto::{self, Identities};
use super::manifest::{Manifest, manifest_path};
use super::{Result, SyncError, ndjson};
use crate::store::{Actor, BatchRecord, ImportSummary, Incoming, Origin, Store, StoreError};

/// One file imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileImport {
    pub data_path: PathBuf,
    pub manifest: Manifest,
    pub summary: ImportSummary,
    /// Every record of the file: its sequence number and hash (for the receipt).
    pub records: Vec<(i64, String)>,
}

/// Import one batch; `path` is its data file or its manifest.
pub fn import_file(
    store: &mut Store,
    actor: &Actor,
    path: &Path,
    identities: Option<&Identities>,
) -> Result<FileImport> {
    let manifest_file = manifest_path(path);
    if !manifest_file.exists() {
        return Err(SyncError::File {
            file: path.to_owned(),
            problem: format!(
                "no manifest beside it (expected {}): a batch is imported with its manifest",
                manifest_file.display()
            ),
        });
    }
    let manifest = Manifest::read(&manifest_file)?;
    let data_path = manifest_file.with_file_name(&manifest.file);
    if path != manifest_file && path.file_name() != data_path.file_name() {
        return Err(SyncError::File {
            file: path.to_owned(),
            problem: format!(
                "its manifest {} describes another file ({})",
                manifest_file.display(),
                manifest.file
            ),
        });
    }
    let file_error = |problem: String| SyncError::File {
        file: data_path.clone(),
        problem,
    };
    if manifest.format != "ndjson" {
        return Err(file_error(format!(
            "a `{}` batch is for another system (a FHIR server); `accessline import` reads NDJSON batches",
            manifest.format
        )));
    }
    if !data_path.exists() {
        return Err(file_error(
            "is missing (its manifest is here, the data file is not)".into(),
        ));
    }
    let encrypted_to = manifest.encryption.as_ref().map(|e| e.recipients.clone());
    if let Some(e) = &manifest.encryption
        && e.scheme != crypto::SCHEME
    {
        return Err(file_error(format!(
            "encrypted with `{}`, which this program cannot read",
            e.scheme
        )));
    }
    if encrypted_to.is_some() {
        // Check the ciphertext before decrypting: then a failure to decrypt is the key's fault.
        let (sha, bytes) = crypto::file_sha256(&data_path)?;
        if sha != manifest.sha256 || bytes != manifest.bytes {
            return Err(file_error(damaged(bytes, &manifest)));
        }
    } else if manifest.sha256 != manifest.content_sha256 {
        return Err(file_error(
            "its manifest gives two different hashes for a plaintext file".into(),
        ));
    }
    let mut reader = crypto::open(&data_path, encrypted_to.as_deref(), identities)?;
    let batch = BatchRecord {
        batch_id: manifest.batch_id,
        format: manifest.format.clone(),
        device: manifest.device.clone(),
        first_seq: manifest.first_seq,
        last_seq: manifest.last_seq,
        count: manifest.count,
        file_name: manifest.file.clone(),
        file_sha256: manifest.sha256.clone(),
        encrypted: manifest.encryption.is_some(),
        created_at: chrono::DateTime::parse_from_rfc3339(&manifest.created_at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| file_error("its manifest's created_at is not a time".into()))?,
    };
    let line_error = |line: u64, problem: String| SyncError::Line {
        file: data_path.clone(),
        line,
        problem,
    };
    let mut records = Vec::with_capacity(manifest.count.min(1 << 20) as usize);
    let summary = store.import_batch(actor, &batch, |importer| {
        let mut buf = Vec::with_capacity(1 << 14);
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let (mut count, mut encounters, mut reviews) = (0u64, 0u64, 0u64);
        let mut withheld = 0u64;
        let mut last_seq: Option<i64> = None;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(|e| {
                if encrypted_to.is_some() {
                    file_error(format!(
                        "decryption failed after line {count}: the file is damaged ({e})"
                    ))
                } else {
                    SyncError::io(&data_path)(e)
                }
            })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf);
            bytes += n as u64;
            let line_no = count + 1;
            if buf.last() != Some(&b'\n') {
                return Err(line_error(
                    line_no,
                    "incomplete: the file ends in the middle of this line (truncated?)".into(),
                ));
            }
            let parsed = ndjson::parse(&buf[..buf.len() - 1]).map_err(|p| line_error(line_no, p))?;
            if parsed.device != manifest.device {
                return Err(line_error(
                    line_no,
                    format!(
                        "the record is from device `{}` but the batch is of `{}`",
                        parsed.device, manifest.device
                    ),
                ));
            }
            match last_seq {
                None if Some(parsed.seq) != manifest.first_seq => {
                    return Err(line_error(
                        line_no,
                        format!(
                            "the first record has sequence number {} but the manifest says the batch starts at {}",
                            parsed.seq,
                            manifest.first_seq.map_or("(none)".into(), |s| s.to_string())
                        ),
                    ));
                }
                Some(prev) if parsed.seq <= prev => {
                    return Err(line_error(
                        line_no,
                        format!(
                            "sequence number {} does not follow {prev}: lines are out of order or repeated",
                            parsed.seq
                        ),
                    ));
                }
                _ => {}
            }
            if parsed.seq < 1 {
                return Err(line_error(line_no, "sequence numbers start at 1".into()));
            }
            last_seq = Some(parsed.seq);
            count += 1;
            withheld += u64::from(parsed.withheld);
            match parsed.incoming {
                Incoming::Encounter { .. } => encounters += 1,
                Incoming::Review { .. } => reviews += 1,
            }
            let origin = Origin {
                device: parsed.device.clone(),
                seq: parsed.seq,
                line_no,
            };
            records.push((parsed.seq, parsed.incoming.sha256()));
            importer
                .record(&origin, &parsed.incoming)
                .map_err(|e| match e {
                    StoreError::Invalid { problem, .. } => line_error(line_no, problem),
                    StoreError::Sqlite(ref s)
                        if s.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
                    {
                        line_error(line_no, format!("the database refuses the record ({s})"))
                    }
                    other => SyncError::Store(other),
                })?;
        }
        let content = hex::encode(hasher.finalize());
        if count != manifest.count || encounters != manifest.encounters || reviews != manifest.reviews
        {
            return Err(file_error(format!(
                "has {count} records ({encounters} encounters, {reviews} reviews) but its manifest says {} ({} encounters, {} reviews): records are missing or extra (truncated after line {count}?)",
                manifest.count, manifest.encounters, manifest.reviews
            )));
        }
        if withheld != manifest.sud_withheld {
            return Err(file_error(format!(
                "has {withheld} records with substance-use details withheld but its manifest says {}",
                manifest.sud_withheld
            )));
        }
        if last_seq != manifest.last_seq {
            return Err(file_error(format!(
                "ends at sequence number {} but its manifest says {}",
                last_seq.map_or("(none)".into(), |s| s.to_string()),
                manifest.last_seq.map_or("(none)".into(), |s| s.to_string())
            )));
        }
        if content != manifest.content_sha256 {
            return Err(file_error(if encrypted_to.is_some() {
                "its decrypted content does not match the manifest's content_sha256".into()
            } else {
                damaged(bytes, &manifest)
            }));
        }
        Ok::<(), SyncError>(())
    })?;
    Ok(FileImport {
        data_path,
        manifest,
        summary,
        records,
    })
}

fn damaged(bytes: u64, m: &Manifest) -> String {
    format!(
        "does not match its manifest ({bytes} bytes, manifest says {}; SHA-256 differs): the file was altered, truncated or damaged on the way — copy it again",
        m.bytes
    )
}
