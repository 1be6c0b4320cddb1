//! `accessline export`: write the outbox (NDJSON) or the finalized revisions (FHIR) as batch
//! files with manifests, then record the batches (and, for NDJSON, move what was written to
//! `exported`).

use std::path::PathBuf;

use chrono::Utc;

use super::crypto::Recipients;
use super::manifest::{AuditHead, Manifest};
use super::withhold::SudPolicy;
use super::{Result, SyncError, fhir};
use crate::domain::Definitions;
use crate::store::{Actor, BatchRecord, OutboxRecord, Selection, Store};

mod batches;
mod views;
use batches::{Batches, partial_of, sync_dir};
use views::{Missing, Sent, cannot_export, sends_as};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The canonical sync format, for a hub's `accessline import`.
    Ndjson,
    /// FHIR R4 transaction bundles, one per finalized revision, for a FHIR server.
    Fhir,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Fhir => "fhir",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    pub out: PathBuf,
    pub selection: Selection,
    /// Encrypt to these; `None` writes plaintext (the command line asks for `--plaintext`).
    pub recipients: Option<Recipients>,
    /// Only this device's outbox (default: every device in the database).
    pub device: Option<String>,
    /// Lines per file at most.
    pub batch_size: usize,
}

/// One batch written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenBatch {
    pub manifest_path: PathBuf,
    pub data_path: PathBuf,
    pub manifest: Manifest,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    pub batches: Vec<WrittenBatch>,
    /// Records written, over all batches.
    pub records: u64,
    /// Encounter revisions written with their substance-use details withheld (no consent).
    pub sud_withheld: u64,
}

fn audit_head(store: &Store) -> Result<Option<AuditHead>> {
    Ok(store.audit_tail(1)?.pop().map(|a| AuditHead {
        seq: a.seq,
        hash: a.hash,
    }))
}

/// Export as `opts` says; the batches written are recorded in the store (and NDJSON records
/// move to `exported`) only once every file is complete on disk.
pub fn export(
    store: &mut Store,
    defs: &Definitions,
    actor: &Actor,
    opts: &ExportOptions,
) -> Result<ExportReport> {
    std::fs::create_dir_all(&opts.out).map_err(SyncError::io(&opts.out))?;
    if !opts.out.is_dir() {
        return Err(SyncError::Usage(format!(
            "{} is not a directory",
            opts.out.display()
        )));
    }
    let mut batches = Batches {
        opts,
        audit_head: audit_head(store)?,
        open: None,
        done: Vec::new(),
        syncing: Vec::new(),
        line: Vec::with_capacity(1 << 14),
    };
    let device = opts.device.as_deref();
    let policy = SudPolicy::new(defs);
    // Revisions whose view was not kept (finalized before views were kept, or under other
    // rules): kept once this export is done, so the next one reads them.
    let mut missing = Missing::default();
    let store_ref: &Store = store;
    let result = match opts.format {
        Format::Ndjson => {
            let mut sent = Sent::default();
            let batches = &mut batches;
            let missing = &mut missing;
            let policy = &policy;
            // This thread reads the database (decrypting its pages is most of that work);
            // another checks each payload against its hash and encodes the lines, and each
            // batch file's own thread hashes and writes them.
            std::thread::scope(|scope| {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(OutboxRecord, bool)>>(4);
                let encoder = scope.spawn(move || -> Result<()> {
                    for chunk in rx {
                        for (mut rec, withheld) in chunk {
                            rec.item.check()?;
                            batches.push_ndjson(&rec, withheld)?;
                        }
                    }
                    Ok(())
                });
                let mut chunk = Vec::with_capacity(HANDOVER);
                let send = |chunk: Vec<(OutboxRecord, bool)>| {
                    // Refused only when the encoder stopped: its error says why.
                    tx.send(chunk)
                        .map_err(|_| SyncError::Usage("the encoder stopped".into()))
                };
                let read = store_ref.for_each_outbox_to_check(
                    opts.selection,
                    device,
                    Some(policy.fingerprint()),
                    |mut rec| {
                        let withheld = sends_as(store_ref, policy, &mut rec, &mut sent, missing)?;
                        chunk.push((rec, withheld));
                        if chunk.len() == HANDOVER {
                            send(std::mem::replace(&mut chunk, Vec::with_capacity(HANDOVER)))?;
                        }
                        Ok::<(), SyncError>(())
                    },
                );
                let read = read.and_then(|()| {
                    if chunk.is_empty() {
                        Ok(())
                    } else {
                        send(chunk)
                    }
                });
                drop(tx);
                let encoded = encoder.join().unwrap_or_else(|_| {
                    Err(SyncError::Usage("the encoder thread panicked".into()))
                });
                encoded.and(read)
            })
        }
        Format::Fhir => {
            let mapper = fhir::Mapper::new(defs, &policy);
            store_ref.for_each_finalized(opts.selection, device, |dev, seq, row| {
                let mut line = std::mem::take(&mut batches.line);
                line.clear();
                let (schema, withheld) =
                    mapper.write_bundle(&row, &mut line).map_err(|problem| {
                        cannot_export(
                            row.encounter_id,
                            row.revision,
                            &format!("cannot be written as FHIR: {problem}"),
                        )
                    })?;
                let open = batches.for_device(dev, seq)?;
                open.writer.write_all(&line)?;
                open.first.get_or_insert(seq);
                open.last = Some(seq);
                open.count += 1;
                open.encounters += 1;
                open.sud_withheld += u64::from(withheld);
                open.payload_schemas.insert(schema);
                batches.line = line;
                Ok::<(), SyncError>(())
            })
        }
    };
    let closed = result.and_then(|()| batches.close());
    let synced = batches.wait();
    if let Err(e) = closed.and(synced) {
        // Leave nothing half-written behind; complete batches stay (they are valid files, and
        // their records are still pending, so the next export carries them again).
        if let Some(open) = batches.open.take() {
            drop(open.writer);
            let _ = std::fs::remove_file(partial_of(&open.data_path));
        }
        return Err(e);
    }
    sync_dir(&opts.out);
    if !missing.made.is_empty() {
        store.keep_made_views(&policy, &missing.made)?;
    }
    if !missing.remake.is_empty() {
        store.keep_views(&policy, &missing.remake)?;
    }
    let mut report = ExportReport::default();
    for (written, seqs) in batches.done {
        let m = &written.manifest;
        let record = BatchRecord {
            batch_id: m.batch_id,
            format: m.format.clone(),
            device: m.device.clone(),
            first_seq: m.first_seq,
            last_seq: m.last_seq,
            count: m.count,
            file_name: m.file.clone(),
            file_sha256: m.sha256.clone(),
            encrypted: m.encryption.is_some(),
            created_at: chrono::DateTime::parse_from_rfc3339(&m.created_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|_| Utc::now()),
        };
        // Only the canonical format moves records along: a FHIR export is a copy for another
        // system and must not stop the hub from receiving them.
        store.record_export(actor, &record, &seqs, opts.format == Format::Ndjson)?;
        report.records += m.count;
        report.sud_withheld += m.sud_withheld;
        report.batches.push(written);
    }
    Ok(report)
}

/// Records handed from the reading thread to the encoding thread at a time.
const HANDOVER: usize = 128;
