//! Users, roles, sign-in and the database key (issue 7; docs/security.md).
//!
//! The database is encrypted with SQLCipher under a random 32-byte device secret. The secret
//! is kept in the key file `<db>.keys`, wrapped once per enrolled user under a key derived from
//! their PIN or passphrase with Argon2id ([`Vault`]). Signing in unwraps your slot, opens the
//! database and checks your user row; every success, failure, lockout and denial goes into the
//! hash-chained audit log. Unattended tools give the secret itself in `ACCESSLINE_DB_KEY` and
//! act as the built-in principal [`SERVICE_USER`].

mod error;
mod kdf;
mod role;
mod slot;
mod vault;

use std::path::Path;

use chrono::{DateTime, Utc};

pub use crate::store::{AccessEvent, DbKey, UserRow};
use crate::store::{Actor, Store, StoreError};
pub use error::AuthError;
pub use kdf::KdfParams;
pub use role::{Principal, Role};
pub use vault::{FIRST_LOCK, FREE_FAILURES, MAX_LOCK, Vault, key_file_path, lock_after};

/// The environment variable holding the device secret for unattended tools (64 hex digits).
pub const DB_KEY_ENV: &str = "ACCESSLINE_DB_KEY";
/// The built-in principal of commands run with [`DB_KEY_ENV`].
pub const SERVICE_USER: &str = "service";
/// Shortest PIN or passphrase accepted.
pub const MIN_PIN: usize = 6;
/// Shortest passphrase for the first admin (it guards the whole device).
pub const MIN_ADMIN_PASSPHRASE: usize = 8;

/// This device's name for audit rows: the host name.
pub fn device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "device".into())
}

fn actor_of(user: &str) -> Actor {
    Actor::new(user, device_name())
}

fn check_name(name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
        && name != SERVICE_USER;
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadName { name: name.into() })
    }
}

fn check_pin(pin: &str, min: usize) -> Result<(), AuthError> {
    if pin.chars().count() < min {
        Err(AuthError::PinTooShort { min })
    } else {
        Ok(())
    }
}

/// Write the events noted in the key file while the database was closed into the audit log
/// (with their own times), then clear them from the file.
fn flush_pending(vault: &mut Vault, store: &mut Store) -> Result<(), AuthError> {
    let events = vault.take_pending();
    if events.is_empty() {
        return Ok(());
    }
    for (i, e) in events.iter().enumerate() {
        let record = crate::store::users::user_record(&e.user);
        if let Err(err) = store.audit_event(&actor_of(&e.user), &e.action, &record, &e.detail, e.at)
        {
            vault.restore_pending(events[i..].to_vec());
            return Err(err.into());
        }
    }
    vault.save()
}

fn audit(
    store: &mut Store,
    user: &str,
    action: &str,
    detail: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<(), AuthError> {
    let record = crate::store::users::user_record(user);
    store.audit_event(&actor_of(user), action, &record, &detail, at)?;
    Ok(())
}

/// After the database opened: note a migration, then check the user row.
fn admit(
    store: &mut Store,
    user: &str,
    how: &str,
    now: DateTime<Utc>,
) -> Result<Principal, AuthError> {
    if let Some(backup) = store.migrated_backup().map(Path::to_path_buf) {
        audit(
            store,
            user,
            "db_encrypted",
            serde_json::json!({"backup": backup.display().to_string()}),
            now,
        )?;
    }
    let row = store.user(user)?;
    let row = match row {
        Some(r) if !r.is_disabled() => r,
        Some(_) => {
            audit(
                store,
                user,
                "sign_in_failed",
                serde_json::json!({"reason": "disabled"}),
                now,
            )?;
            return Err(AuthError::Disabled { user: user.into() });
        }
        None => {
            audit(
                store,
                user,
                "sign_in_failed",
                serde_json::json!({"reason": "no user row"}),
                now,
            )?;
            return Err(AuthError::WrongPin);
        }
    };
    let principal = Principal::from_row(&row)?;
    audit(store, user, "sign_in", serde_json::json!({"via": how}), now)?;
    Ok(principal)
}

/// Open the database at `db` with `key`, mapping "plaintext and no key" sensibly.
fn open_db(db: &Path, key: &DbKey) -> Result<Store, AuthError> {
    Ok(Store::open_keyed(db, key)?)
}

/// First run: the first admin, the device secret, the encrypted database (migrating a
/// plaintext one with a backup, see [`Store::migrated_backup`]). The key file is written
/// before the database is encrypted, so a failure can never leave a database nobody can open.
pub fn first_run(
    vault: &mut Vault,
    db: &Path,
    user: &str,
    display_name: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<(Store, Principal), AuthError> {
    first_run_with_key(vault, db, None, user, display_name, pin, now)
}

/// [`first_run`] with a given device secret (`ACCESSLINE_DB_KEY`: a database made by an
/// unattended tool, or a lost key file re-provisioned) instead of a new one.
pub fn first_run_with_key(
    vault: &mut Vault,
    db: &Path,
    key: Option<&DbKey>,
    user: &str,
    display_name: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<(Store, Principal), AuthError> {
    vault.reload()?;
    if !vault.needs_setup() {
        return Err(AuthError::AlreadySetUp);
    }
    check_name(user)?;
    check_pin(pin, MIN_ADMIN_PASSPHRASE)?;
    let kind = crate::store::open::file_kind(db)?;
    match key {
        Some(k) => vault.unlock_with_key(k)?,
        None if kind == crate::store::open::FileKind::Opaque => {
            return Err(AuthError::KeyFileMissing {
                db: db.into(),
                keys: key_file_path(db),
            });
        }
        None => {}
    }
    vault.put_slot(user, pin)?;
    let key = vault.secret().cloned().expect("put_slot sets the secret");
    let opened = (|| {
        let mut store = open_db(db, &key)?;
        let by = actor_of(user);
        match store.user(user)? {
            Some(r) if r.role == Role::Admin.as_str() && !r.is_disabled() => {}
            Some(_) => {
                return Err(AuthError::Refused(format!(
                    "{user} exists in this database but is not an active admin"
                )));
            }
            None => {
                store.add_user(&by, user, display_name, Role::Admin.as_str(), now)?;
            }
        }
        flush_pending(vault, &mut store)?;
        let p = admit(&mut store, user, "first_run", now)?;
        Ok((store, p))
    })();
    if opened.is_err() {
        // Leave no slot for a database that was not set up.
        let _ = vault.remove_slot(user);
    }
    opened
}

/// Start-up sign-in: unwrap the slot, open the database, check the user row (disabled →
/// refused), audit. Failures are noted in the key file and reach the audit log at the next
/// successful sign-in, with their own times.
pub fn sign_in(
    vault: &mut Vault,
    db: &Path,
    user: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<(Store, Principal), AuthError> {
    vault.reload()?;
    if vault.needs_setup() {
        return Err(not_set_up(vault, db)?);
    }
    if crate::store::open::file_kind(db)? == crate::store::open::FileKind::New {
        // A key file but no database: never make a new, empty one in its place.
        return Err(StoreError::Missing { path: db.into() }.into());
    }
    let key = vault.unlock(user, pin, now)?;
    let mut store = open_db(db, &key)?;
    flush_pending(vault, &mut store)?;
    let p = admit(&mut store, user, "pin", now)?;
    Ok((store, p))
}

/// Why there is nobody to sign in as: a database with no key file, or none at all.
fn not_set_up(vault: &Vault, db: &Path) -> Result<AuthError, AuthError> {
    Ok(setup_state(vault, db))
}

/// The error to show when the vault is empty: an encrypted database whose key file is
/// missing, or a device not set up yet.
pub fn setup_state(vault: &Vault, db: &Path) -> AuthError {
    match crate::store::open::file_kind(db) {
        Ok(crate::store::open::FileKind::Opaque) => AuthError::KeyFileMissing {
            db: db.into(),
            keys: vault
                .path()
                .map_or_else(|| key_file_path(db), Path::to_path_buf),
        },
        Err(e) => AuthError::Store(e),
        _ => AuthError::NotSetUp,
    }
}

/// Unattended tools: open with the device secret itself, as [`SERVICE_USER`] (role admin).
/// Nothing is audited here; the caller's writes carry the `service` name.
pub fn open_with_key(
    vault: &mut Vault,
    db: &Path,
    key: &DbKey,
) -> Result<(Store, Principal), AuthError> {
    vault.unlock_with_key(key)?;
    let mut store = open_db(db, key)?;
    if vault.exists() {
        flush_pending(vault, &mut store)?;
    }
    if let Some(backup) = store.migrated_backup().map(Path::to_path_buf) {
        audit(
            &mut store,
            SERVICE_USER,
            "db_encrypted",
            serde_json::json!({"backup": backup.display().to_string()}),
            Utc::now(),
        )?;
    }
    Ok((store, Principal::service()))
}

/// The database is already open (idle unlock, or another user signing in at the lock
/// screen): the same checks and the same audit rows as [`sign_in`], failures written at once.
pub fn verify(
    vault: &mut Vault,
    store: &mut Store,
    user: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<Principal, AuthError> {
    let unlocked = vault.unlock(user, pin, now);
    flush_pending(vault, store)?;
    unlocked?;
    admit(store, user, "lock_screen", now)
}

/// Enrol a user (any role) into the vault and the database. In production `by` is a signed-in
/// admin (the vault holds the unwrapped secret); with an empty in-memory vault (tests) the
/// first enrolment makes the secret.
#[allow(clippy::too_many_arguments)]
pub fn enrol(
    vault: &mut Vault,
    store: &mut Store,
    by: &Actor,
    user: &str,
    display_name: &str,
    role: Role,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<Principal, AuthError> {
    check_name(user)?;
    check_pin(pin, MIN_PIN)?;
    vault.reload()?;
    if vault.has_user(user) || store.user(user)?.is_some() {
        return Err(AuthError::UserExists { user: user.into() });
    }
    vault.put_slot(user, pin)?;
    match store.add_user(by, user, display_name, role.as_str(), now) {
        Ok(row) => Principal::from_row(&row),
        Err(e) => {
            let _ = vault.remove_slot(user);
            Err(e.into())
        }
    }
}

/// Disable a user: their slot is removed (they can no longer unwrap the key) and the user row
/// is marked disabled. The last active admin cannot be disabled.
pub fn disable(
    vault: &mut Vault,
    store: &mut Store,
    by: &Actor,
    user: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let row = store
        .user(user)?
        .filter(|r| !r.is_disabled())
        .ok_or_else(|| AuthError::NoSuchUser { user: user.into() })?;
    if row.role == Role::Admin.as_str() {
        let admins = store
            .users()?
            .iter()
            .filter(|r| {
                r.role == Role::Admin.as_str() && !r.is_disabled() && vault.has_user(&r.name)
            })
            .count();
        if admins <= 1 {
            return Err(AuthError::Refused(
                "the last active administrator cannot be disabled".into(),
            ));
        }
    }
    vault.remove_slot(user)?;
    store.disable_user(by, user, now)?;
    Ok(())
}

/// Give a user a new PIN (an admin's act): a new slot, the lockout cleared.
pub fn reset_pin(
    vault: &mut Vault,
    store: &mut Store,
    by: &Actor,
    user: &str,
    new_pin: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    check_pin(new_pin, MIN_PIN)?;
    store
        .user(user)?
        .filter(|r| !r.is_disabled())
        .ok_or_else(|| AuthError::NoSuchUser { user: user.into() })?;
    vault.put_slot(user, new_pin)?;
    let record = crate::store::users::user_record(user);
    store.audit_event(by, "pin_reset", &record, &serde_json::json!({}), now)?;
    Ok(())
}

#[cfg(test)]
mod tests;
