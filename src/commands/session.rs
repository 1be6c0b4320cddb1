//! Signing in on the command line: who runs the command (`--user`, else `ACCESSLINE_USER`,
//! else the login name), the PIN (`ACCESSLINE_PIN`, else read from the terminal without echo),
//! or the device secret for unattended tools (`ACCESSLINE_DB_KEY`, principal `service`). Then
//! the role check: a denial is one line on stderr, exit 2, and an audit row.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::Utc;

use super::{BAD_INPUT, db_path, fail};
use crate::security::{self, AccessEvent, AuthError, DbKey, Principal, Role, Vault};
use crate::store::{Actor, Store};

/// The role a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any signed-in user.
    Any,
    /// Supervisor or admin.
    Review,
    Admin,
}

impl Need {
    fn allows(self, role: Role) -> bool {
        match self {
            Need::Any => true,
            Need::Review => role.can_review(),
            Need::Admin => role.is_admin(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Need::Any => "any",
            Need::Review => "supervisor",
            Need::Admin => "admin",
        }
    }
}

/// Whether the command writes to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    ReadWrite,
    /// Opened read-only after signing in (the sign-in itself is audited, a read-write step);
    /// with `ACCESSLINE_DB_KEY` nothing at all is written.
    ReadOnly,
}

/// A signed-in command.
pub struct Session {
    pub store: Store,
    pub principal: Principal,
    pub vault: Vault,
    pub key: DbKey,
    pub path: PathBuf,
}

impl Session {
    pub fn actor(&self) -> Actor {
        self.principal.actor()
    }
}

/// The user named on the command line, else `ACCESSLINE_USER`, else the login name.
pub fn user_name(cli_user: Option<String>) -> String {
    cli_user
        .filter(|u| !u.is_empty())
        .or_else(|| {
            std::env::var("ACCESSLINE_USER")
                .ok()
                .filter(|u| !u.is_empty())
        })
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "screener".into())
}

/// The device secret from `ACCESSLINE_DB_KEY`, if set.
pub fn env_key() -> Result<Option<DbKey>, String> {
    match std::env::var(security::DB_KEY_ENV) {
        Ok(v) if !v.trim().is_empty() => DbKey::from_hex(&v)
            .map(Some)
            .map_err(|e| format!("{}: {e}", security::DB_KEY_ENV)),
        _ => Ok(None),
    }
}

/// A PIN from `var` (scripts, tests) or typed at the terminal without echo.
pub fn read_secret(var: &str, prompt: &str) -> Result<String, String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    rpassword::prompt_password(prompt)
        .map_err(|e| format!("cannot read the PIN from the terminal ({e}); for scripts set {var}"))
}

/// A new PIN: `ACCESSLINE_NEW_PIN`, or typed twice.
pub fn read_new_pin(who: &str) -> Result<String, String> {
    if let Ok(p) = std::env::var("ACCESSLINE_NEW_PIN") {
        return Ok(p);
    }
    let a = read_secret(
        "ACCESSLINE_NEW_PIN",
        &format!("New PIN or passphrase for {who}: "),
    )?;
    let b = read_secret("ACCESSLINE_NEW_PIN", "Again: ")?;
    if a != b {
        return Err("the two entries differ; nothing was changed".into());
    }
    Ok(a)
}

pub fn say_backup(what: &str, backup: &Path) {
    eprintln!(
        "accessline {what}: the database is now encrypted. The unencrypted original was kept at {} — it holds PHI in the clear: check the new database (`accessline verify`), then delete that file.",
        backup.display()
    );
}

fn auth_fail(what: &str, e: &AuthError) -> ExitCode {
    fail(what, e)
}

/// Sign in for command `what` and check its role; on any refusal the message is printed and
/// the exit code returned.
pub fn open(
    db: Option<PathBuf>,
    cli_user: Option<String>,
    what: &str,
    need: Need,
    mode: Mode,
) -> Result<Session, ExitCode> {
    let path = db_path(db).map_err(|e| fail(what, e))?;
    let mut vault = Vault::for_db(&path).map_err(|e| auth_fail(what, &e))?;
    let now = Utc::now();
    let key = env_key().map_err(|e| fail(what, e))?;
    let (store, principal, key) = if let Some(key) = key {
        if mode == Mode::ReadOnly
            && !matches!(
                crate::store::open::file_kind(&path),
                Ok(crate::store::open::FileKind::Plain)
            )
        {
            // Nothing written at all: the key is checked against the key file's seal.
            vault
                .unlock_with_key(&key)
                .map_err(|e| auth_fail(what, &e))?;
            let store = Store::open_keyed_read_only(&path, &key).map_err(|e| fail(what, e))?;
            return Ok(Session {
                store,
                principal: Principal::service(),
                vault,
                key,
                path,
            });
        }
        let (store, p) =
            security::open_with_key(&mut vault, &path, &key).map_err(|e| auth_fail(what, &e))?;
        (store, p, key)
    } else {
        if vault.needs_setup() {
            return Err(auth_fail(what, &security::setup_state(&vault, &path)));
        }
        let user = user_name(cli_user);
        let pin = read_secret("ACCESSLINE_PIN", &format!("PIN for {user}: "))
            .map_err(|e| fail(what, e))?;
        let (store, p) = security::sign_in(&mut vault, &path, &user, &pin, now)
            .map_err(|e| auth_fail(what, &e))?;
        let key = vault.secret().cloned().expect("signed in");
        (store, p, key)
    };
    let mut store = store;
    if let Some(b) = store.migrated_backup() {
        say_backup(what, b);
    }
    if !need.allows(principal.role) {
        let e = AuthError::Forbidden {
            user: principal.user.clone(),
            role: principal.role,
            what: format!("`accessline {what}`"),
            need: need.name(),
        };
        if let Err(err) = store.record_access(
            &principal.actor(),
            AccessEvent::Denied {
                what: format!("accessline {what}"),
            },
        ) {
            eprintln!("accessline {what}: cannot write the audit row: {err}");
        }
        eprintln!("accessline {what}: {e}");
        return Err(ExitCode::from(BAD_INPUT));
    }
    let store = match mode {
        Mode::ReadWrite => store,
        Mode::ReadOnly => {
            drop(store);
            Store::open_keyed_read_only(&path, &key).map_err(|e| fail(what, e))?
        }
    };
    Ok(Session {
        store,
        principal,
        vault,
        key,
        path,
    })
}
