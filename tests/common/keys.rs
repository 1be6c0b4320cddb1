//! Keys and users for tests that drive the binary on encrypted databases.
#![allow(dead_code)]

use std::path::Path;

use accessline::security::{self, DbKey, KdfParams, Vault};
use chrono::Utc;

/// The device secret every test database is encrypted with (64 hex digits), for
/// `ACCESSLINE_DB_KEY`.
pub fn test_key() -> String {
    "7e57".repeat(16)
}

pub fn test_db_key() -> DbKey {
    DbKey::from_hex(&test_key()).expect("a valid test key")
}

/// A binary command that opens databases with [`test_key`] (as the `service` principal).
pub fn keyed(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("ACCESSLINE_DB_KEY", test_key())
        .env_remove("ACCESSLINE_PIN")
        .env_remove("ACCESSLINE_USER")
}

/// Set up `db` as on a first run — the first admin, a key file, the encrypted database (a
/// plaintext one is migrated) — with cheap Argon2 parameters so later sign-ins are fast.
/// Keeps [`test_key`] as the device secret, so `ACCESSLINE_DB_KEY` opens it too. Returns the
/// admin's name and passphrase (for `--user` / `ACCESSLINE_PIN`).
pub fn provision_admin(db: &Path) -> (String, String) {
    let (user, pin) = ("admin.test".to_owned(), "admin-passphrase".to_owned());
    let mut vault = Vault::for_db(db).expect("readable key file");
    vault.set_kdf_params(KdfParams::insecure_for_tests());
    security::first_run_with_key(
        &mut vault,
        db,
        Some(&test_db_key()),
        &user,
        "Test Admin",
        &pin,
        Utc::now(),
    )
    .expect("first run");
    (user, pin)
}

/// Enrol another user (cheap slot) into a provisioned `db`; returns their PIN.
pub fn provision_user(db: &Path, name: &str, role: security::Role) -> String {
    let pin = format!("{name}-pin");
    let mut vault = Vault::for_db(db).expect("readable key file");
    vault.set_kdf_params(KdfParams::insecure_for_tests());
    let (mut store, admin) =
        security::open_with_key(&mut vault, db, &test_db_key()).expect("open with the test key");
    security::enrol(
        &mut vault,
        &mut store,
        &admin.actor(),
        name,
        name,
        role,
        &pin,
        Utc::now(),
    )
    .expect("enrol");
    pin
}

/// Open (creating if needed) a test database encrypted with [`test_key`].
pub fn open_db(path: impl AsRef<Path>) -> accessline::store::Result<accessline::store::Store> {
    accessline::store::Store::open_keyed(path, &test_db_key())
}

/// Open a test database encrypted with [`test_key`] read-only.
pub fn open_db_ro(path: impl AsRef<Path>) -> accessline::store::Result<accessline::store::Store> {
    accessline::store::Store::open_keyed_read_only(path, &test_db_key())
}
