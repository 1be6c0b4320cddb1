//! `accessline verify`: is the file sound, is the audit chain whole, does every finalized
//! revision still hash to what was signed? Reports every fault with the rows it concerns.

use std::fmt;

use rusqlite::{Connection, types::ValueRef};

use super::audit::{GENESIS, chain_hash, encounter_record, review_record};
use super::counts::{DayMismatch, day_mismatches};
use super::encounters::payload_sha256;
use super::error::Result;
use super::model::parse_uuid;

/// Triggers that make records append-only; an attacker with `sqlite3` drops these first.
pub const GUARD_TRIGGERS: &[&str] = &[
    "encounter_finalized_no_update",
    "encounter_finalized_no_delete",
    "review_no_update",
    "review_no_delete",
    "audit_no_update",
    "audit_no_delete",
    "outbox_no_delete",
    "outbox_identity_fixed",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A line of `PRAGMA integrity_check` other than "ok".
    Integrity(String),
    ForeignKey {
        table: String,
        rowid: Option<i64>,
        parent: String,
    },
    MissingTrigger(String),
    /// Audit rows are missing before `seq` (deleted).
    AuditGap {
        expected: i64,
        seq: i64,
    },
    /// The row's hash does not match its contents (altered).
    AuditHash {
        seq: i64,
    },
    /// The row does not link to the row before it (a row before it was altered or removed).
    AuditLink {
        seq: i64,
    },
    /// The stored payload no longer hashes to the stored SHA-256.
    PayloadHash {
        record: String,
    },
    /// A finalized revision or review has no audit row.
    MissingAudit {
        record: String,
    },
    /// The audit row of a record says something else than the record.
    AuditMismatch {
        record: String,
        seq: i64,
        problem: String,
    },
    /// A count the database keeps (the sync line's, migration 12) differs from a recount.
    KeptCount {
        table: &'static str,
        state: String,
        kept: i64,
        counted: i64,
    },
    /// A per-day dashboard count (migration 8) differs from a recount of its facts.
    DayCount(DayMismatch),
    /// A row one of the insert guards refuses (`draft_field_only_drafts_insert`,
    /// `review_only_finalized`): written past them, by a writer without triggers.
    Refused {
        record: String,
        problem: &'static str,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Integrity(m) => write!(f, "integrity_check: {m}"),
            Fault::ForeignKey {
                table,
                rowid,
                parent,
            } => {
                let row = rowid.map_or("(no rowid)".to_owned(), |r| format!("rowid {r}"));
                write!(f, "{table} {row}: refers to a missing row of {parent}")
            }
            Fault::MissingTrigger(t) => {
                write!(f, "trigger {t} is missing: records are no longer protected")
            }
            Fault::AuditGap { expected, seq } => {
                write!(
                    f,
                    "audit rows {expected}..{} are missing (deleted)",
                    seq - 1
                )
            }
            Fault::AuditHash { seq } => write!(
                f,
                "audit row {seq}: hash does not match its contents (altered)"
            ),
            Fault::AuditLink { seq } => {
                write!(f, "audit row {seq}: does not chain to the row before it")
            }
            Fault::PayloadHash { record } => {
                write!(f, "{record}: payload does not match its SHA-256 (altered)")
            }
            Fault::MissingAudit { record } => write!(f, "{record}: has no audit row"),
            Fault::AuditMismatch {
                record,
                seq,
                problem,
            } => write!(f, "{record}: audit row {seq} {problem}"),
            Fault::KeptCount {
                table,
                state,
                kept,
                counted,
            } => write!(
                f,
                "{table}: {kept} kept for {state:?}, {counted} counted (the sync line is wrong)"
            ),
            Fault::Refused { record, problem } => write!(f, "{record}: {problem}"),
            Fault::DayCount(m) => write!(
                f,
                "dashboard_day: {} kept for {} {} {:?}, {} counted (the dashboard is wrong)",
                m.kept, m.day, m.dimension, m.value, m.counted
            ),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub encounters: u64,
    pub finalized_revisions: u64,
    pub drafts: u64,
    pub reviews: u64,
    pub audit_rows: u64,
    pub outbox_entries: u64,
    pub faults: Vec<Fault>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.faults.is_empty()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "encounters: {} ({} finalized revisions, {} drafts); reviews: {}; audit rows: {}; outbox entries: {}",
            self.encounters,
            self.finalized_revisions,
            self.drafts,
            self.reviews,
            self.audit_rows,
            self.outbox_entries
        )?;
        for fault in &self.faults {
            writeln!(f, "FAULT {fault}")?;
        }
        match self.faults.len() {
            0 => write!(
                f,
                "ok: integrity check, audit chain and every payload hash pass"
            ),
            n => write!(f, "{n} fault(s) found"),
        }
    }
}

pub(crate) fn verify(c: &Connection) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let faults = &mut report.faults;
    let mut st = c.prepare("PRAGMA integrity_check")?;
    for line in st.query_map([], |r| r.get::<_, String>(0))? {
        let line = line?;
        if line != "ok" {
            faults.push(Fault::Integrity(line));
        }
    }
    let mut st = c.prepare("PRAGMA foreign_key_check")?;
    for row in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
        let (table, rowid, parent) = row?;
        faults.push(Fault::ForeignKey {
            table,
            rowid,
            parent,
        });
    }
    let mut st = c.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = ?1")?;
    for t in GUARD_TRIGGERS {
        if !st.exists([t])? {
            faults.push(Fault::MissingTrigger((*t).to_owned()));
        }
    }
    check_kept_counts(c, faults)?;
    faults.extend(day_mismatches(c)?.into_iter().map(Fault::DayCount));
    check_refused(c, faults)?;
    report.audit_rows = check_chain(c, faults)?;
    check_encounters(c, faults)?;
    report.reviews = check_reviews(c, faults)?;
    let count =
        |sql: &str| -> Result<u64> { Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
    report.encounters = count("SELECT count(DISTINCT encounter_id) FROM encounter")?;
    report.finalized_revisions =
        count("SELECT count(*) FROM encounter WHERE status = 'finalized'")?;
    report.drafts = count("SELECT count(*) FROM encounter WHERE status = 'draft'")?;
    report.outbox_entries = count("SELECT count(*) FROM outbox")?;
    Ok(report)
}

/// The sync line's counts, kept by triggers (migration 12), against a recount.
fn check_kept_counts(c: &Connection, faults: &mut Vec<Fault>) -> Result<()> {
    for (table, counted_in) in [
        ("outbox_count", "outbox"),
        ("sync_inbox_count", "sync_inbox"),
    ] {
        // One pass over the table for all its states (not one per state).
        let mut st = c.prepare(&format!(
            "SELECT k.state, k.n, coalesce(x.n, 0)
             FROM {table} k
             LEFT JOIN (SELECT state, count(*) AS n FROM {counted_in} GROUP BY state) x
                    ON x.state = k.state"
        ))?;
        for row in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
            let (state, kept, counted): (String, i64, i64) = row?;
            if kept != counted {
                faults.push(Fault::KeptCount {
                    table,
                    state,
                    kept,
                    counted,
                });
            }
        }
    }
    Ok(())
}

/// What the insert guards refuse, looked for afterwards (the demo's bulk load runs without
/// triggers): draft fields kept for a call that is not a draft (finalizing deletes them), and
/// reviews of a revision that is not finalized.
fn check_refused(c: &Connection, faults: &mut Vec<Fault>) -> Result<()> {
    let checks: [(&str, &'static str); 2] = [
        (
            "SELECT DISTINCT 'encounter/' || f.encounter_id || '/1' FROM draft_field f
             LEFT JOIN encounter e ON e.encounter_id = f.encounter_id AND e.revision = 1
             WHERE e.status IS NOT 'draft'",
            "draft fields kept for a call that is not a draft",
        ),
        (
            "SELECT 'review/' || r.review_id FROM review r
             LEFT JOIN encounter e ON e.encounter_id = r.encounter_id AND e.revision = r.revision
             WHERE e.status IS NOT 'finalized'",
            "reviews a revision that is not finalized",
        ),
    ];
    for (sql, problem) in checks {
        let mut st = c.prepare(sql)?;
        for record in st.query_map([], |r| r.get(0))? {
            faults.push(Fault::Refused {
                record: record?,
                problem,
            });
        }
    }
    Ok(())
}

/// Walk the chain in order; after a fault, continue from the stored hash so one bad row is
/// reported once rather than poisoning every later row.
fn check_chain(c: &Connection, faults: &mut Vec<Fault>) -> Result<u64> {
    let mut st = c.prepare(
        "SELECT seq, at, actor, device, action, record, detail, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = st.query([])?;
    let mut prev = GENESIS.to_owned();
    let mut expected = 1;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        n += 1;
        let seq: i64 = r.get(0)?;
        let f: [String; 6] = super::model::columns(r, 1)?;
        let (prev_hash, hash): (String, String) = (r.get(7)?, r.get(8)?);
        if seq != expected {
            faults.push(Fault::AuditGap { expected, seq });
        } else if prev_hash != prev {
            faults.push(Fault::AuditLink { seq });
        }
        if chain_hash(&prev_hash, seq, &(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5])) != hash {
            faults.push(Fault::AuditHash { seq });
        }
        prev = hash;
        expected = seq + 1;
    }
    Ok(n)
}

fn check_encounters(c: &Connection, faults: &mut Vec<Fault>) -> Result<()> {
    let mut st = c.prepare(
        "SELECT e.encounter_id, e.revision, e.payload, e.payload_sha256, e.audit_seq, a.record, a.detail
         FROM encounter e LEFT JOIN audit a ON a.seq = e.audit_seq
         WHERE e.status = 'finalized'",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id = parse_uuid(&r.get::<_, String>(0)?)?;
        let record = encounter_record(id, r.get(1)?);
        let stored: String = r.get(3)?;
        // Stored as text or packed (store::packed); bytes that do not unpack match no hash.
        let actual = match r.get_ref(2)? {
            ValueRef::Text(t) => Some(payload_sha256(t)),
            ValueRef::Blob(b) => super::packed::unpack(b).ok().map(payload_sha256),
            _ => Some(payload_sha256("")),
        };
        if actual.as_deref() != Some(stored.as_str()) {
            faults.push(Fault::PayloadHash {
                record: record.clone(),
            });
        }
        let seq: Option<i64> = r.get(4)?;
        let (Some(seq), Some(audit_record)) = (seq, r.get::<_, Option<String>>(5)?) else {
            faults.push(Fault::MissingAudit { record });
            continue;
        };
        let detail: serde_json::Value =
            serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default();
        if audit_record != record {
            let problem = format!("is about {audit_record}");
            faults.push(Fault::AuditMismatch {
                record,
                seq,
                problem,
            });
        } else if detail["sha256"].as_str() != Some(stored.as_str()) {
            let problem = "signed a different payload hash".to_owned();
            faults.push(Fault::AuditMismatch {
                record,
                seq,
                problem,
            });
        }
    }
    Ok(())
}

fn check_reviews(c: &Connection, faults: &mut Vec<Fault>) -> Result<u64> {
    let mut st = c.prepare(
        "SELECT r.review_id, r.encounter_id, r.revision, r.decision, r.audit_seq, a.record, a.detail
         FROM review r LEFT JOIN audit a ON a.seq = r.audit_seq",
    )?;
    let mut rows = st.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        n += 1;
        let record = review_record(r.get(0)?);
        let about = encounter_record(parse_uuid(&r.get::<_, String>(1)?)?, r.get(2)?);
        let decision: String = r.get(3)?;
        let seq: i64 = r.get(4)?;
        let Some(audit_record) = r.get::<_, Option<String>>(5)? else {
            faults.push(Fault::MissingAudit { record });
            continue;
        };
        let detail: serde_json::Value =
            serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default();
        let problem = if audit_record != record {
            Some(format!("is about {audit_record}"))
        } else if detail["decision"].as_str() != Some(decision.as_str()) {
            Some(format!("records a different decision than `{decision}`"))
        } else if detail["encounter"].as_str() != Some(about.as_str()) {
            Some(format!("records a review of another revision than {about}"))
        } else {
            None
        };
        if let Some(problem) = problem {
            faults.push(Fault::AuditMismatch {
                record,
                seq,
                problem,
            });
        }
    }
    Ok(n)
}
