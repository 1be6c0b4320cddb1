//! The withheld view of each finalized revision, made once when it is finalized and kept in
//! `encounter_view` (sql/0009_withheld_view.sql): a finalized revision never changes, so
//! neither does its view, and the export reads it instead of filtering the payload again.
//!
//! The view is made by the consent-aware export's own rules (`sync::withhold`, the shipped
//! definitions); each row names them by their fingerprint, and the export uses a row only when
//! it was made under the rules it applies and from the payload the revision still has. Any
//! other row, or none (revisions finalized before 0009), means: make the view as before.

use rusqlite::{Connection, OptionalExtension, Statement, params};

use super::error::Result;
use crate::sync::withhold::{self, SudPolicy};

/// Insert (or, made under other rules, replace) a revision's view row.
pub(crate) const INSERT: &str = "INSERT OR REPLACE INTO encounter_view
         (encounter_id, revision, policy, of_sha256, withheld, deadline_at, payload_sha256, payload)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Keep the view of a revision being finalized, made with the shipped rules (the store's own
/// write path; the demo's bulk writer calls [`insert`] the same way).
pub(crate) fn write(
    c: &Connection,
    id: &str,
    revision: u32,
    payload: &str,
    sha256: &str,
    deadline_at: Option<&str>,
) -> Result<()> {
    match withhold::builtin() {
        Some(policy) => {
            let mut stmt = c.prepare_cached(INSERT)?;
            insert(
                &mut stmt,
                policy,
                id,
                revision,
                payload,
                sha256,
                deadline_at,
            )
        }
        None => Ok(()),
    }
}

/// Make the view of `payload` (whose hash is `sha256`, its row's deadline `deadline_at`) under
/// `policy` and keep it with `stmt` ([`INSERT`]). A payload the rules cannot read gets no row:
/// the export then tries again and refuses to send it, as it did before views were kept.
pub(crate) fn insert(
    stmt: &mut Statement<'_>,
    policy: &SudPolicy,
    id: &str,
    revision: u32,
    payload: &str,
    sha256: &str,
    deadline_at: Option<&str>,
) -> Result<()> {
    let Ok(view) = policy.view(payload, deadline_at) else {
        return Ok(());
    };
    let fingerprint = policy.fingerprint();
    match view {
        None => stmt.execute(params![
            id,
            revision,
            fingerprint,
            sha256,
            false,
            None::<&str>,
            None::<&str>,
            None::<&str>
        ])?,
        Some(v) => stmt.execute(params![
            id,
            revision,
            fingerprint,
            sha256,
            true,
            v.deadline_at,
            v.sha256,
            v.payload
        ])?,
    };
    Ok(())
}

impl super::Store {
    /// Keep the views of these revisions, made under `policy` (an export found them missing:
    /// revisions finalized before views were kept, or under other rules). In transactions of a
    /// few hundred; a revision that is gone or not finalized is passed over.
    pub fn keep_views(
        &mut self,
        policy: &SudPolicy,
        revisions: &[(uuid::Uuid, u32)],
    ) -> Result<()> {
        for chunk in revisions.chunks(500) {
            self.write(|tx| {
                let mut read = tx.prepare_cached(
                    "SELECT payload, payload_sha256, deadline_at FROM encounter
                     WHERE encounter_id = ?1 AND revision = ?2 AND status = 'finalized'",
                )?;
                let mut stmt = tx.prepare_cached(INSERT)?;
                for (id, revision) in chunk {
                    let id = id.to_string();
                    let row: Option<(String, String, Option<String>)> = read
                        .query_row(params![id, revision], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })
                        .optional()?;
                    if let Some((payload, sha, deadline_at)) = row
                        && super::payload_sha256(&payload) == sha
                    {
                        insert(
                            &mut stmt,
                            policy,
                            &id,
                            *revision,
                            &payload,
                            &sha,
                            deadline_at.as_deref(),
                        )?;
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }
}
