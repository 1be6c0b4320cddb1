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
use super::packed::Stored;
use crate::sync::withhold::{self, SudPolicy, View};

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
    insert_prepared(
        stmt,
        policy,
        id,
        revision,
        sha256,
        &Prepared::new(policy, payload, deadline_at),
    )
}

/// A revision's view made and packed before its row is written (the demo makes them on its
/// generator threads, so the one writing thread only writes).
pub(crate) enum Prepared {
    /// No row: no withholding rules shipped, or rules that cannot read the payload.
    NoRow,
    /// The caller consented: the revision leaves as stored.
    Full,
    /// The view, and its packed bytes.
    Withheld(View, Vec<u8>),
}

impl Prepared {
    /// The view of `payload` under `policy`, packed.
    pub(crate) fn new(policy: &SudPolicy, payload: &str, deadline_at: Option<&str>) -> Prepared {
        match policy.view(payload, deadline_at) {
            Err(_) => Prepared::NoRow,
            Ok(None) => Prepared::Full,
            Ok(Some(v)) => {
                let packed = super::packed::pack(&v.payload);
                Prepared::Withheld(v, packed)
            }
        }
    }
}

/// Keep a [`Prepared`] view (none when the rules could not read the payload: the export then
/// tries again and refuses to send it).
pub(crate) fn insert_prepared(
    stmt: &mut Statement<'_>,
    policy: &SudPolicy,
    id: &str,
    revision: u32,
    sha256: &str,
    view: &Prepared,
) -> Result<()> {
    let view = match view {
        Prepared::NoRow => return Ok(()),
        Prepared::Full => None,
        Prepared::Withheld(v, packed) => Some((v, packed.as_slice())),
    };
    insert_view(stmt, policy, id, revision, sha256, view)
}

/// Keep `view` (`None`: the revision leaves as stored), made under `policy` from the payload
/// whose hash is `of_sha256`, with `stmt` ([`INSERT`]).
fn insert_view(
    stmt: &mut Statement<'_>,
    policy: &SudPolicy,
    id: &str,
    revision: u32,
    of_sha256: &str,
    view: Option<(&View, &[u8])>,
) -> Result<()> {
    let fingerprint = policy.fingerprint();
    match view {
        None => stmt.execute(params![
            id,
            revision,
            fingerprint,
            of_sha256,
            false,
            None::<&str>,
            None::<&str>,
            None::<&str>
        ])?,
        Some((v, packed)) => stmt.execute(params![
            id,
            revision,
            fingerprint,
            of_sha256,
            true,
            v.deadline_at,
            v.sha256,
            packed
        ])?,
    };
    Ok(())
}

/// A view an export made of a revision the store kept none for, to be kept as it is (see
/// [`super::Store::keep_made_views`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeView {
    pub encounter_id: uuid::Uuid,
    pub revision: u32,
    /// The payload hash of the revision it was made from.
    pub of_sha256: String,
    /// `None`: the caller consented, and the revision leaves as stored.
    pub view: Option<View>,
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
            let mut made = Vec::with_capacity(chunk.len());
            let mut read = self.conn.prepare_cached(
                "SELECT payload, payload_sha256, deadline_at FROM encounter
                 WHERE encounter_id = ?1 AND revision = ?2 AND status = 'finalized'",
            )?;
            for (id, revision) in chunk {
                let row: Option<(String, String, Option<String>)> = read
                    .query_row(params![id.to_string(), revision], |r| {
                        Ok((r.get::<_, Stored>(0)?.0, r.get(1)?, r.get(2)?))
                    })
                    .optional()?;
                // A payload that no longer matches its hash, or that the rules cannot read,
                // gets no view: the export then refuses to send it.
                if let Some((payload, sha, deadline_at)) = row
                    && super::payload_sha256(&payload) == sha
                    && let Ok(view) = policy.view(&payload, deadline_at.as_deref())
                {
                    made.push(MadeView {
                        encounter_id: *id,
                        revision: *revision,
                        of_sha256: sha,
                        view,
                    });
                }
            }
            drop(read);
            self.keep_made_views(policy, &made)?;
        }
        Ok(())
    }

    /// Keep views an export made (under `policy`) of revisions the store kept none for, as they
    /// were made: without reading and filtering each payload again. A revision whose payload
    /// hash is no longer the one the view was made from (or that is gone) is passed over.
    pub fn keep_made_views(&mut self, policy: &SudPolicy, made: &[MadeView]) -> Result<()> {
        for chunk in made.chunks(500) {
            self.write(|tx| {
                let mut read = tx.prepare_cached(
                    "SELECT payload_sha256 FROM encounter
                     WHERE encounter_id = ?1 AND revision = ?2 AND status = 'finalized'",
                )?;
                let mut stmt = tx.prepare_cached(INSERT)?;
                for m in chunk {
                    let id = m.encounter_id.to_string();
                    let sha: Option<String> = read
                        .query_row(params![id, m.revision], |r| r.get(0))
                        .optional()?;
                    if sha.as_deref() == Some(m.of_sha256.as_str()) {
                        let packed = m.view.as_ref().map(|v| super::packed::pack(&v.payload));
                        insert_view(
                            &mut stmt,
                            policy,
                            &id,
                            m.revision,
                            &m.of_sha256,
                            m.view.as_ref().zip(packed.as_deref()),
                        )?;
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }
}
