//! The batch files of one export: one open file per device (NDJSON) or one for all (FHIR),
//! written through the encryption when there is a recipient, then closed with its manifest and
//! made durable.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::Utc;
use uuid::Uuid;

use super::{ExportOptions, WrittenBatch};
use crate::store::{OutboxItem, OutboxRecord, ts};
use crate::sync::crypto::{self, BatchWriter};
use crate::sync::manifest::{
    self, AuditHead, Encryption, MANIFEST_SCHEMA, MANIFEST_SUFFIX, Manifest,
};
use crate::sync::{Result, SyncError, fhir, ndjson};

/// A batch being filled.
pub(super) struct Open {
    pub(super) device: String,
    pub(super) batch_id: Uuid,
    pub(super) writer: BatchWriter,
    pub(super) data_path: PathBuf,
    pub(super) first: Option<i64>,
    pub(super) last: Option<i64>,
    pub(super) count: u64,
    pub(super) encounters: u64,
    pub(super) reviews: u64,
    pub(super) sud_withheld: u64,
    pub(super) seqs: Vec<i64>,
    pub(super) payload_schemas: BTreeSet<String>,
}

pub(super) struct Batches<'o> {
    pub(super) opts: &'o ExportOptions,
    pub(super) audit_head: Option<AuditHead>,
    pub(super) open: Option<Open>,
    pub(super) done: Vec<(WrittenBatch, Vec<i64>)>,
    /// Batches being made durable in the background, with their temporary names.
    pub(super) syncing: Vec<(std::thread::JoinHandle<Result<()>>, PathBuf)>,
    pub(super) line: Vec<u8>,
}

impl Batches<'_> {
    /// The batch for the next record of `device`, opening a new one when the device changes
    /// or the batch is full.
    pub(super) fn for_device(&mut self, device: &str, seq: i64) -> Result<&mut Open> {
        let full = self
            .open
            .as_ref()
            .is_some_and(|o| o.device != device || o.count as usize >= self.opts.batch_size.max(1));
        if full {
            self.close()?;
        }
        if self.open.is_none() {
            let batch_id = Uuid::now_v7();
            // The file is named for its range, known only at the end: write under a provisional
            // name and rename in `close`.
            let ext = self.extension();
            let data_path = self.opts.out.join(format!(
                "{}.open{ext}",
                manifest::stem(device, Some(seq), None, batch_id)
            ));
            let writer = BatchWriter::create(data_path.clone(), self.opts.recipients.as_ref())?;
            self.open = Some(Open {
                device: device.to_owned(),
                batch_id,
                writer,
                data_path,
                first: None,
                last: None,
                count: 0,
                encounters: 0,
                reviews: 0,
                sud_withheld: 0,
                seqs: Vec::new(),
                payload_schemas: BTreeSet::new(),
            });
        }
        Ok(self.open.as_mut().expect("opened above"))
    }

    /// Append one NDJSON record (checked) to its device's batch.
    pub(super) fn push_ndjson(&mut self, rec: &OutboxRecord, withheld: bool) -> Result<()> {
        let seq = rec.seq;
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let schema = ndjson::encode(rec, withheld, &mut line);
        let open = self.for_device(&rec.device, seq)?;
        open.writer.write_all(&line)?;
        open.first.get_or_insert(seq);
        open.last = Some(seq);
        open.count += 1;
        match rec.item {
            OutboxItem::Encounter { .. } => open.encounters += 1,
            OutboxItem::Review { .. } => open.reviews += 1,
        }
        open.sud_withheld += u64::from(withheld);
        open.seqs.push(seq);
        if !open.payload_schemas.contains(&schema) {
            open.payload_schemas.insert(schema);
        }
        self.line = line;
        Ok(())
    }

    pub(super) fn extension(&self) -> String {
        let base = match self.opts.format {
            crate::sync::Format::Ndjson => ".ndjson",
            crate::sync::Format::Fhir => ".fhir.ndjson",
        };
        if self.opts.recipients.is_some() {
            format!("{base}.age")
        } else {
            base.to_owned()
        }
    }

    /// Finish the open batch: its data file is synced, renamed and given its manifest on a
    /// thread of its own, while the next batch is being written.
    pub(super) fn close(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let (written, unsynced) = open.writer.finish_unsynced()?;
        let stem = manifest::stem(&open.device, open.first, open.last, open.batch_id);
        let data_path = self.opts.out.join(format!("{stem}{}", self.extension()));
        let m = Manifest {
            schema: MANIFEST_SCHEMA.to_owned(),
            batch_id: open.batch_id,
            format: self.opts.format.as_str().to_owned(),
            record_schema: match self.opts.format {
                crate::sync::Format::Ndjson => ndjson::RECORD_SCHEMA.to_owned(),
                crate::sync::Format::Fhir => fhir::RECORD_SCHEMA.to_owned(),
            },
            payload_schemas: open.payload_schemas.into_iter().collect(),
            created_at: ts(Utc::now()),
            generator: format!("accessline {}", env!("CARGO_PKG_VERSION")),
            device: open.device.clone(),
            file: data_path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned(),
            bytes: written.bytes,
            sha256: written.sha256,
            content_sha256: written.content_sha256,
            encryption: self.opts.recipients.as_ref().map(|r| Encryption {
                scheme: crypto::SCHEME.to_owned(),
                recipients: r.names(),
            }),
            count: open.count,
            encounters: open.encounters,
            reviews: open.reviews,
            sud_withheld: open.sud_withheld,
            first_seq: open.first,
            last_seq: open.last,
            audit_head: self.audit_head.clone(),
        };
        let manifest_path = self.opts.out.join(format!("{stem}{MANIFEST_SUFFIX}"));
        let json = m.to_json();
        let (data, manifest_file) = (data_path.clone(), manifest_path.clone());
        let partial = unsynced.partial().to_owned();
        let handle = std::thread::spawn(move || -> Result<()> {
            unsynced.complete_as(Some(&data))?;
            write_durably(&manifest_file, json.as_bytes())
        });
        self.syncing.push((handle, partial));
        self.done.push((
            WrittenBatch {
                manifest_path,
                data_path,
                manifest: m,
            },
            open.seqs,
        ));
        Ok(())
    }

    /// Wait for every batch to be on disk under its name.
    pub(super) fn wait(&mut self) -> Result<()> {
        let mut first_error = None;
        for (handle, partial) in self.syncing.drain(..) {
            let r = handle
                .join()
                .unwrap_or_else(|_| Err(SyncError::Usage("a batch writer thread panicked".into())));
            if let Err(e) = r {
                let _ = std::fs::remove_file(&partial);
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Write a small file under a `.partial` name, sync it, rename it into place.
pub(super) fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let partial = path.with_file_name(format!(
        "{}.partial",
        path.file_name().expect("a file name").to_string_lossy()
    ));
    let mut f = std::fs::File::create(&partial).map_err(SyncError::io(&partial))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(SyncError::io(&partial))?;
    std::fs::rename(&partial, path).map_err(SyncError::io(path))
}

pub(super) fn partial_of(path: &Path) -> PathBuf {
    path.with_file_name(format!(
        "{}.partial",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ))
}

/// Make the renames durable (best effort: not every platform can sync a directory).
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
