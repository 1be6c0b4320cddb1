//! Receipts: after importing a batch, the hub can write what it now holds of each record
//! (`held`, `conflict`, `parked`) by sequence number and hash — no PHI. Carried back to the
//! device, `accessline sync ack` moves its outbox entries to `acknowledged` (or `conflict`),
//! after checking that each hash is the hash of the device's own record.

use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::import::FileImport;
use super::manifest::{check_schema, safe_device};
use super::{Result, SyncError};
use crate::store::{Store, SyncState, ts};

pub const RECEIPT_SCHEMA: &str = "accessline.sync.receipt/1";
pub const RECEIPT_SUFFIX: &str = ".receipt.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRecord {
    pub seq: i64,
    pub sha256: String,
    /// `held`, `conflict` or `parked` (waiting for an earlier record).
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub schema: String,
    pub batch_id: Uuid,
    /// The device whose outbox the batch carried.
    pub device: String,
    /// The hub that imported it.
    pub hub: String,
    pub created_at: String,
    pub records: Vec<ReceiptRecord>,
}

/// Write the receipt of an imported file into `dir`; returns its path.
pub fn write(store: &Store, done: &FileImport, hub: &str, dir: &Path) -> Result<PathBuf> {
    let m = &done.manifest;
    let states = store.inbox_states(&m.device, &done.records)?;
    let records = done
        .records
        .iter()
        .zip(states)
        .map(|((seq, sha), state)| ReceiptRecord {
            seq: *seq,
            sha256: sha.clone(),
            state: state.unwrap_or_else(|| "missing".into()),
        })
        .collect();
    let receipt = Receipt {
        schema: RECEIPT_SCHEMA.to_owned(),
        batch_id: m.batch_id,
        device: m.device.clone(),
        hub: hub.to_owned(),
        created_at: ts(Utc::now()),
        records,
    };
    std::fs::create_dir_all(dir).map_err(SyncError::io(dir))?;
    let id = m.batch_id.simple().to_string();
    let path = dir.join(format!(
        "{}_{}{RECEIPT_SUFFIX}",
        safe_device(&m.device),
        &id[id.len() - 8..]
    ));
    let mut text = serde_json::to_string_pretty(&receipt).expect("a receipt serializes");
    text.push('\n');
    std::fs::write(&path, text).map_err(SyncError::io(&path))?;
    Ok(path)
}

/// What applying a receipt did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckSummary {
    pub acknowledged: u64,
    pub conflicts: u64,
    /// Parked at the hub: still `exported` here.
    pub waiting: u64,
    /// Sequence numbers whose hash is not this device's record (another device's receipt, or
    /// a record changed since): left as they were.
    pub mismatched: Vec<i64>,
}

/// Apply a receipt on the device that wrote the batch, in one transaction.
pub fn apply(store: &mut Store, path: &Path) -> Result<AckSummary> {
    let text = std::fs::read_to_string(path).map_err(SyncError::io(path))?;
    let bad = |problem: String| SyncError::File {
        file: path.to_owned(),
        problem,
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("the receipt is not valid JSON ({e})")))?;
    let schema = value
        .get("schema")
        .and_then(|s| s.as_str())
        .ok_or_else(|| bad("not an accessline receipt (no `schema`)".into()))?;
    check_schema(schema, RECEIPT_SCHEMA, "receipt").map_err(bad)?;
    let r: Receipt = serde_json::from_value(value)
        .map_err(|e| bad(format!("the receipt is malformed ({e})")))?;
    let mut summary = AckSummary::default();
    let mut states = Vec::new();
    let mut policy = None;
    for rec in &r.records {
        let mut mine = store.outbox_record_sha256(&r.device, rec.seq)?;
        if mine.as_deref() != Some(rec.sha256.as_str())
            && let Some((id, revision)) = store.outbox_encounter(&r.device, rec.seq)?
            && let Some((payload, _)) = store.revision_payload(id, revision)?
        {
            // Sent as a withheld view (no consent): the hub holds the view's hash.
            if policy.is_none() {
                let defs = crate::domain::Definitions::builtin()
                    .map_err(|e| SyncError::Usage(format!("the definitions: {e}")))?;
                policy = Some(super::withhold::SudPolicy::new(&defs));
            }
            let policy = policy.as_ref().expect("set above");
            if let Ok(Some(view)) = policy.view(&payload, None) {
                mine = Some(view.sha256);
            }
        }
        if mine.as_deref() != Some(rec.sha256.as_str()) {
            summary.mismatched.push(rec.seq);
            continue;
        }
        match rec.state.as_str() {
            "held" => {
                summary.acknowledged += 1;
                states.push((rec.seq, SyncState::Acknowledged, None));
            }
            "conflict" => {
                summary.conflicts += 1;
                states.push((
                    rec.seq,
                    SyncState::Conflict,
                    Some(format!(
                        "{} holds a different version: this one is quarantined there",
                        r.hub
                    )),
                ));
            }
            _ => summary.waiting += 1,
        }
    }
    store.acknowledge(&r.device, &states)?;
    Ok(summary)
}
