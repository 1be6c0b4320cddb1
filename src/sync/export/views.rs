//! How each outbox record leaves: in full, or as a withheld view (made here when the store
//! did not keep one), and the views made during an export, kept once it is done.

use std::collections::HashMap;

use uuid::Uuid;

use crate::store::{EncounterRow, Kept, MadeView, OutboxItem, OutboxRecord, Store, StoreError};
use crate::sync::withhold::{SudPolicy, View};
use crate::sync::{Result, SyncError};

/// Decide how an outbox record leaves, on the reading thread (a view the store did not keep
/// is made here, and the hash of what a record builds on may need the store): the row becomes
/// what is sent; `true` when it is a withheld view. Revisions whose view had to be made are
/// added to `missing` (to be kept after the export).
pub(super) fn sends_as(
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
pub(super) const MAX_VIEWS_KEPT_PER_EXPORT: usize = 200_000;

/// The views made during an export are held for keeping up to this many bytes of payload;
/// beyond it only their ids are, and the view is made again when it is kept.
pub(super) const MADE_VIEW_BYTES: usize = 128 << 20;

/// The views an export had to make, to be kept once it is done.
#[derive(Default)]
pub(super) struct Missing {
    /// Kept as made (within [`MADE_VIEW_BYTES`]).
    pub(super) made: Vec<MadeView>,
    pub(super) made_bytes: usize,
    /// Made again from the stored payload when kept.
    pub(super) remake: Vec<(Uuid, u32)>,
}

impl Missing {
    /// `row` as it leaves, made from a payload whose hash is `of_sha256`; a view when `withheld`.
    pub(super) fn add(&mut self, row: &EncounterRow, of_sha256: String, withheld: bool) {
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
pub(super) fn make_view(
    policy: &SudPolicy,
    row: &mut EncounterRow,
    sent: &mut Sent,
) -> Result<bool> {
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

pub(super) fn cannot_export(id: uuid::Uuid, revision: u32, problem: &str) -> SyncError {
    SyncError::Usage(format!(
        "encounter {id} revision {revision}: {problem}; nothing was exported"
    ))
}

/// What this export sent of each encounter revision: the SHA-256 of its withheld view, or
/// `None` when it went as stored. An addendum's `supersedes_sha256` and a review's
/// `encounter_sha256` name what the hub holds of the revision they build on.
#[derive(Default)]
pub(super) struct Sent {
    pub(super) views: HashMap<(Uuid, u32), Option<[u8; 32]>>,
}

impl Sent {
    pub(super) fn remember(&mut self, id: Uuid, revision: u32, view_sha: Option<&str>) {
        let packed = view_sha.map(|h| {
            let mut b = [0u8; 32];
            hex::decode_to_slice(h, &mut b).expect("a SHA-256 in hex");
            b
        });
        self.views.insert((id, revision), packed);
    }

    /// The hash sent for `(id, revision)`, whose stored payload hash is `stored`: from this
    /// export, or worked out from the stored revision (sent by an earlier export).
    pub(super) fn sha_of(
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
