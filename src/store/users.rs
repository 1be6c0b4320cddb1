//! Users and roles (the `users` table), and audit rows for what is not a write: sign-ins, views,
//! denials, locks. The PIN never reaches the database (see `crate::security`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::Store;
use super::audit::{self, AUDIT_COLUMNS, NewAudit};
use super::error::{Result, StoreError};
use super::model::{Actor, AuditEntry, parse_ts, ts};

/// One row of the `users` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub display_name: String,
    /// `screener`, `supervisor` or `admin` (see `crate::security::Role`).
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_by: Option<String>,
}

impl UserRow {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// Audit rows for things that are not writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessEvent {
    /// A record was shown (the record screen, a draft resumed by someone else…).
    View {
        encounter: Uuid,
    },
    /// Something was refused for lack of a role or ownership (`what` says what, no PHI).
    Denied {
        what: String,
    },
    /// The screen locked (idle or by hand).
    Lock,
    /// The same user unlocked it.
    Unlock,
    SignOut,
}

/// Which audit rows `accessline audit` prints: `[from, before)`, optionally one user's.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    pub user: Option<String>,
}

const USER_COLUMNS: &str =
    "name, display_name, role, created_at, created_by, disabled_at, disabled_by";

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 7]> {
    super::model::columns(r, 0)
}

fn user_row(f: [Option<String>; 7]) -> Result<UserRow> {
    let [
        name,
        display_name,
        role,
        created_at,
        created_by,
        disabled_at,
        disabled_by,
    ] = f;
    Ok(UserRow {
        name: name.unwrap_or_default(),
        display_name: display_name.unwrap_or_default(),
        role: role.unwrap_or_default(),
        created_at: parse_ts(created_at.as_deref().unwrap_or_default())?,
        created_by: created_by.unwrap_or_default(),
        disabled_at: disabled_at.as_deref().map(parse_ts).transpose()?,
        disabled_by,
    })
}

impl Store {
    /// One user, disabled or not.
    pub fn user(&self, name: &str) -> Result<Option<UserRow>> {
        let row = self
            .conn
            .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"))?
            .query_row([name], user_from_row)
            .optional()?;
        row.map(user_row).transpose()
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<UserRow>> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
        let rows = st
            .query_map([], user_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(user_row).collect()
    }

    /// Add a user (and its `user_added` audit row) in one transaction.
    pub fn add_user(
        &mut self,
        by: &Actor,
        name: &str,
        display_name: &str,
        role: &str,
        at: DateTime<Utc>,
    ) -> Result<UserRow> {
        let when = ts(at);
        self.write(|tx| {
            let exists = tx
                .prepare_cached("SELECT 1 FROM users WHERE name = ?1")?
                .exists([name])?;
            if exists {
                return Err(StoreError::Invalid {
                    what: "user",
                    problem: format!("{name} already exists"),
                });
            }
            tx.prepare_cached(
                "INSERT INTO users (name, display_name, role, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![name, display_name, role, when, by.user])?;
            let detail = serde_json::json!({ "role": role }).to_string();
            append(tx, by, &when, "user_added", &user_record(name), &detail)?;
            Ok(())
        })?;
        Ok(self.user(name)?.expect("just added"))
    }

    /// Mark a user disabled (and audit it) in one transaction.
    pub fn disable_user(&mut self, by: &Actor, name: &str, at: DateTime<Utc>) -> Result<()> {
        let when = ts(at);
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE users SET disabled_at = ?2, disabled_by = ?3
                     WHERE name = ?1 AND disabled_at IS NULL",
                )?
                .execute(params![name, when, by.user])?;
            if n == 0 {
                return Err(StoreError::Invalid {
                    what: "user",
                    problem: format!("{name} does not exist or is already disabled"),
                });
            }
            append(tx, by, &when, "user_disabled", &user_record(name), "{}")?;
            Ok(())
        })
    }

    /// Append one audit row about a security event (`sign_in`, `sign_in_failed`, `pin_reset`…)
    /// at the time it happened (which may be earlier: failures noted before the database could
    /// be opened are written at the next sign-in with their own times).
    pub fn audit_event(
        &mut self,
        actor: &Actor,
        action: &str,
        record: &str,
        detail: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let when = ts(at);
        let detail = detail.to_string();
        self.write(|tx| append(tx, actor, &when, action, record, &detail))
    }

    /// Audit rows for things that are not writes: a record viewed, an access denied,
    /// lock/unlock, sign-out.
    pub fn record_access(&mut self, actor: &Actor, event: AccessEvent) -> Result<()> {
        let (action, record, detail) = match event {
            AccessEvent::View { encounter } => (
                "view",
                format!("encounter/{encounter}"),
                serde_json::json!({}),
            ),
            AccessEvent::Denied { what } => (
                "denied",
                format!("user/{}", actor.user),
                serde_json::json!({ "what": what }),
            ),
            AccessEvent::Lock => ("lock", session_record(), serde_json::json!({})),
            AccessEvent::Unlock => ("unlock", session_record(), serde_json::json!({})),
            AccessEvent::SignOut => ("sign_out", session_record(), serde_json::json!({})),
        };
        self.audit_event(actor, action, &record, &detail, Utc::now())
            .map(|_| ())
    }

    /// Audit rows in `query`'s period (by time of the event), oldest first, one at a time.
    pub fn for_each_audit<E: From<StoreError>>(
        &self,
        query: &AuditQuery,
        mut f: impl FnMut(&AuditEntry) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let from = query.from.map(ts).unwrap_or_default();
        let before = query.before.map_or_else(|| "~".to_owned(), ts);
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit
                 WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR actor = ?3) ORDER BY seq"
            ))
            .map_err(StoreError::from)?;
        let mut rows = st
            .query(params![from, before, query.user])
            .map_err(StoreError::from)?;
        while let Some(r) = rows.next().map_err(StoreError::from)? {
            let e = audit::entry(audit::from_row(r).map_err(StoreError::from)?)?;
            f(&e)?;
        }
        Ok(())
    }
}

/// The record name of a user in the audit log.
pub fn user_record(name: &str) -> String {
    format!("user/{name}")
}

fn session_record() -> String {
    "session".to_owned()
}

fn append(
    tx: &rusqlite::Connection,
    by: &Actor,
    at: &str,
    action: &str,
    record: &str,
    detail: &str,
) -> Result<i64> {
    audit::append(
        tx,
        &NewAudit {
            at,
            actor: &by.user,
            device: &by.device,
            action,
            record,
            detail,
        },
    )
}
