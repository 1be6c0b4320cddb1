//! `accessline export`: write the outbox (NDJSON) or the finalized revisions (FHIR) as batch
//! files with manifests, then record the batches (and, for NDJSON, move what was written to
//! `exported`).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::Utc;
use uuid::Uuid;

use super::crypto::{self, BatchWriter, Recipients};
use super::manifest::{self, AuditHead, Encryption, MANIFEST_SCHEMA, MANIFEST_SUFFIX, Manifest};
use super::withhold::{SudPolicy, View};
use super::{Result, SyncError, fhir, ndjson};
use crate::domain::Definitions;
use crate::store::{
    Actor, BatchRecord, EncounterRow, Kept, MadeView, OutboxItem, OutboxRecord, Selection, Store,
    StoreError, ts,
};

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

/// A batch being filled.
struct Open {
    device: String,
    batch_id: Uuid,
    writer: BatchWriter,
    data_path: PathBuf,
    first: Option<i64>,
    last: Option<i64>,
    count: u64,
    encounters: u64,
    reviews: u64,
    sud_withheld: u64,
    seqs: Vec<i64>,
    payload_schemas: BTreeSet<String>,
}

struct Batches<'o> {
    opts: &'o ExportOptions,
    audit_head: Option<AuditHead>,
    open: Option<Open>,
    done: Vec<(WrittenBatch, Vec<i64>)>,
    /// Batches being made durable in the background, with their temporary names.
    syncing: Vec<(std::thread::JoinHandle<Result<()>>, PathBuf)>,
    line: Vec<u8>,
}

impl Batches<'_> {
    /// The batch for the next record of `device`, opening a new one when the device changes
    /// or the batch is full.
    fn for_device(&mut self, device: &str, seq: i64) -> Result<&mut Open> {
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
    fn push_ndjson(&mut self, rec: &OutboxRecord, withheld: bool) -> Result<()> {
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

    fn extension(&self) -> String {
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
    fn close(&mut self) -> Result<()> {
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
    fn wait(&mut self) -> Result<()> {
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
fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
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

/// Decide how an outbox record leaves, on the reading thread (a view the store did not keep
/// is made here, and the hash of what a record builds on may need the store): the row becomes
/// what is sent; `true` when it is a withheld view. Revisions whose view had to be made are
/// added to `missing` (to be kept after the export).
fn sends_as(
    store: &Store,
    policy: &SudPolicy,
    rec: &mut OutboxRecord,
    sent: &mut Sent,
    missing: &mut Missing,
) -> Result<bool> {
    Ok(match &mut rec.item {
        OutboxItem::Encounter {
            row,
            supersedes_sha256,
            kept,
            supersedes_kept,
            packed_payload,
        } => {
            // An addendum names what the hub holds of the revision it builds on: kept with
            // that revision's view, or worked out here.
            if let (Some(prev), Some(sha), false) =
                (row.supersedes, supersedes_sha256.as_mut(), *supersedes_kept)
            {
                *sha = sent.sha_of(store, policy, row.encounter_id, prev, sha)?;
            }
            match kept {
                Kept::Withheld => true,
                Kept::Full => false,
                Kept::Unknown => {
                    // The view is made from the stored payload: check it first.
                    crate::store::unpack_and_check(row, packed_payload)?;
                    let of_sha256 = row.payload_sha256.clone();
                    let withheld = make_view(policy, row, sent)?;
                    missing.add(row, of_sha256, withheld);
                    withheld
                }
            }
        }
        OutboxItem::Review {
            row,
            encounter_sha256,
            encounter_kept,
        } => {
            if !*encounter_kept {
                *encounter_sha256 = sent.sha_of(
                    store,
                    policy,
                    row.encounter_id,
                    row.revision,
                    encounter_sha256,
                )?;
            }
            false
        }
    })
}

/// At most this many views missing from the store are made and kept after one export (the
/// next export keeps more): a bounded list, whatever the size of the database.
const MAX_VIEWS_KEPT_PER_EXPORT: usize = 200_000;
/// The views made during an export are held for keeping up to this many bytes of payload;
/// beyond it only their ids are, and the view is made again when it is kept.
const MADE_VIEW_BYTES: usize = 128 << 20;

/// The views an export had to make, to be kept once it is done.
#[derive(Default)]
struct Missing {
    /// Kept as made (within [`MADE_VIEW_BYTES`]).
    made: Vec<MadeView>,
    made_bytes: usize,
    /// Made again from the stored payload when kept.
    remake: Vec<(Uuid, u32)>,
}

impl Missing {
    /// `row` as it leaves, made from a payload whose hash is `of_sha256`; a view when `withheld`.
    fn add(&mut self, row: &EncounterRow, of_sha256: String, withheld: bool) {
        if self.made.len() + self.remake.len() >= MAX_VIEWS_KEPT_PER_EXPORT {
            return;
        }
        let bytes = if withheld { row.payload.len() } else { 0 };
        if self.made_bytes + bytes > MADE_VIEW_BYTES {
            self.remake.push((row.encounter_id, row.revision));
            return;
        }
        self.made_bytes += bytes;
        self.made.push(MadeView {
            encounter_id: row.encounter_id,
            revision: row.revision,
            of_sha256,
            view: withheld.then(|| View {
                payload: row.payload.clone(),
                sha256: row.payload_sha256.clone(),
                deadline_at: row.deadline_at.clone(),
            }),
        });
    }
}

/// Make the withheld view of a revision the store kept none for (as every export did before
/// views were kept) and put it in the row; `true` when the revision leaves as a view.
fn make_view(policy: &SudPolicy, row: &mut EncounterRow, sent: &mut Sent) -> Result<bool> {
    let view = policy
        .view(&row.payload, row.deadline_at.as_deref())
        .map_err(|problem| cannot_export(row.encounter_id, row.revision, &problem))?;
    sent.remember(
        row.encounter_id,
        row.revision,
        view.as_ref().map(|v| v.sha256.as_str()),
    );
    Ok(match view {
        Some(v) => {
            row.payload = v.payload;
            row.payload_sha256 = v.sha256;
            row.deadline_at = v.deadline_at;
            // A cell names the addiction acuity.
            row.cell_computed = None;
            row.cell_chosen = None;
            true
        }
        None => false,
    })
}

fn partial_of(path: &Path) -> PathBuf {
    path.with_file_name(format!(
        "{}.partial",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ))
}

/// Make the renames durable (best effort: not every platform can sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn cannot_export(id: uuid::Uuid, revision: u32, problem: &str) -> SyncError {
    SyncError::Usage(format!(
        "encounter {id} revision {revision}: {problem}; nothing was exported"
    ))
}

/// What this export sent of each encounter revision: the SHA-256 of its withheld view, or
/// `None` when it went as stored. An addendum's `supersedes_sha256` and a review's
/// `encounter_sha256` name what the hub holds of the revision they build on.
#[derive(Default)]
struct Sent {
    views: HashMap<(Uuid, u32), Option<[u8; 32]>>,
}

impl Sent {
    fn remember(&mut self, id: Uuid, revision: u32, view_sha: Option<&str>) {
        let packed = view_sha.map(|h| {
            let mut b = [0u8; 32];
            hex::decode_to_slice(h, &mut b).expect("a SHA-256 in hex");
            b
        });
        self.views.insert((id, revision), packed);
    }

    /// The hash sent for `(id, revision)`, whose stored payload hash is `stored`: from this
    /// export, or worked out from the stored revision (sent by an earlier export).
    fn sha_of(
        &mut self,
        store: &Store,
        policy: &SudPolicy,
        id: Uuid,
        revision: u32,
        stored: &str,
    ) -> Result<String> {
        if let Some(v) = self.views.get(&(id, revision)) {
            return Ok(v.map_or_else(|| stored.to_owned(), hex::encode));
        }
        let Some((payload, sha)) = store.revision_payload(id, revision)? else {
            return Ok(stored.to_owned());
        };
        if sha != stored || crate::store::payload_sha256(&payload) != sha {
            return Err(SyncError::Store(StoreError::Corrupt {
                what: format!(
                    "payload of encounter {id} revision {revision} (it no longer matches its SHA-256)"
                ),
            }));
        }
        let view = policy
            .view(&payload, None)
            .map_err(|problem| cannot_export(id, revision, &problem))?;
        let sha = view.map_or(sha, |v| v.sha256);
        self.remember(id, revision, (sha != stored).then_some(sha.as_str()));
        Ok(sha)
    }
}
