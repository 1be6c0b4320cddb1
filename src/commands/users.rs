//! `accessline users add|list|disable|reset-pin|db-key` (admin only). The first
//! `users add NAME --role admin` on a device with no key file is the first-run set-up.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;

use super::session::{self, Mode, Need, read_new_pin, say_backup};
use super::{db_path, fail};
use crate::cli::UsersCommand;
use crate::security::{self, Role, Vault};

pub fn run(db: Option<PathBuf>, user: Option<String>, cmd: UsersCommand) -> ExitCode {
    if let UsersCommand::Add {
        name,
        role,
        display_name,
    } = &cmd
        && role == "admin"
    {
        let path = match db_path(db.clone()) {
            Ok(p) => p,
            Err(e) => return fail("users add", e),
        };
        match Vault::for_db(&path) {
            Ok(v) if v.needs_setup() => {
                return first_run(v, path, name, display_name.as_deref().unwrap_or(name));
            }
            Ok(_) => {}
            Err(e) => return fail("users add", e),
        }
    }
    let what = match &cmd {
        UsersCommand::Add { .. } => "users add",
        UsersCommand::List => "users list",
        UsersCommand::Disable { .. } => "users disable",
        UsersCommand::ResetPin { .. } => "users reset-pin",
        UsersCommand::DbKey => "users db-key",
    };
    let mut s = match session::open(db, user, what, Need::Admin, Mode::ReadWrite) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let by = s.actor();
    let now = Utc::now();
    let done = match cmd {
        UsersCommand::Add {
            name,
            role,
            display_name,
        } => {
            let role: Role = role.parse().expect("clap checked the role");
            let pin = match read_new_pin(&name) {
                Ok(p) => p,
                Err(e) => return fail(what, e),
            };
            let shown = display_name.as_deref().unwrap_or(&name);
            security::enrol(
                &mut s.vault,
                &mut s.store,
                &by,
                &name,
                shown,
                role,
                &pin,
                now,
            )
            .map(|p| println!("added {} ({}) as {}", p.user, p.display_name, p.role))
        }
        UsersCommand::List => {
            let rows = match s.store.users() {
                Ok(r) => r,
                Err(e) => return fail(what, e),
            };
            println!("name\tdisplay_name\trole\tstatus\tcreated\tcreated_by");
            for r in rows {
                let status = if r.is_disabled() {
                    "disabled".to_owned()
                } else if let Some(t) = s.vault.locked_until(&r.name, now) {
                    format!("locked until {}", crate::report::local_iso(t))
                } else if !s.vault.has_user(&r.name) {
                    "no key slot".to_owned()
                } else {
                    "active".to_owned()
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    r.name,
                    r.display_name,
                    r.role,
                    status,
                    crate::report::local_iso(r.created_at),
                    r.created_by
                );
            }
            Ok(())
        }
        UsersCommand::Disable { name } => {
            security::disable(&mut s.vault, &mut s.store, &by, &name, now)
                .map(|()| println!("disabled {name}: their key slot is removed"))
        }
        UsersCommand::ResetPin { name } => {
            let pin = match read_new_pin(&name) {
                Ok(p) => p,
                Err(e) => return fail(what, e),
            };
            security::reset_pin(&mut s.vault, &mut s.store, &by, &name, &pin, now)
                .map(|()| println!("new PIN set for {name}; any lockout is cleared"))
        }
        UsersCommand::DbKey => {
            if let Err(e) = s.store.audit_event(
                &by,
                "db_key_shown",
                &format!("user/{}", by.user),
                &serde_json::json!({}),
                now,
            ) {
                return fail(what, e);
            }
            eprintln!(
                "accessline users db-key: WARNING: this is the key to every record on this device. Give it only to unattended tools (ACCESSLINE_DB_KEY) on machines as protected as this one; never write it in a script, ticket or chat."
            );
            println!("{}", s.key.to_hex().as_str());
            Ok(())
        }
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(what, e),
    }
}

/// First run: the first admin (with `ACCESSLINE_DB_KEY`, that device secret is kept instead
/// of a new one).
fn first_run(mut vault: Vault, path: PathBuf, name: &str, display_name: &str) -> ExitCode {
    let what = "users add";
    let key = match session::env_key() {
        Ok(k) => k,
        Err(e) => return fail(what, e),
    };
    let pin = match read_new_pin(name) {
        Ok(p) => p,
        Err(e) => return fail(what, e),
    };
    match security::first_run_with_key(
        &mut vault,
        &path,
        key.as_ref(),
        name,
        display_name,
        &pin,
        Utc::now(),
    ) {
        Ok((store, p)) => {
            if let Some(b) = store.migrated_backup() {
                say_backup(what, b);
            }
            println!(
                "set up {}: {} ({}) is the first administrator; the database is encrypted and its key file is {}",
                path.display(),
                p.user,
                p.display_name,
                vault
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            println!(
                "Back up the key file with the database: without it (or the device key) the data cannot be read."
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(what, e),
    }
}
