//! Issue 7 (security), through the real binary: nothing readable on disk, sign-in refusals
//! (wrong PIN, lockout, disabled user, missing role) each audited, a wrong database key or a
//! tampered key file refused with nothing written, a plaintext database migrated with a
//! backup, audit-chain tampering found by `verify`, and the `audit` command.

#[path = "common/store.rs"]
mod common;
#[path = "common/keys.rs"]
mod keys;

use std::path::Path;
use std::process::{Command, Output};

use accessline::security::Role;
use accessline::store::{Risk, Store};
use sha2::{Digest, Sha256};

/// The binary with no ambient credentials.
fn bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accessline"));
    for v in [
        "ACCESSLINE_DB_KEY",
        "ACCESSLINE_PIN",
        "ACCESSLINE_NEW_PIN",
        "ACCESSLINE_USER",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

/// As a user with a PIN.
fn as_user(db: &Path, user: &str, pin: &str, args: &[&str]) -> Output {
    bare()
        .arg("--db")
        .arg(db)
        .args(["--user", user])
        .args(args)
        .env("ACCESSLINE_PIN", pin)
        .output()
        .unwrap()
}

/// As the unattended `service` principal.
fn with_key(db: &Path, key: &str, args: &[&str]) -> Output {
    bare()
        .arg("--db")
        .arg(db)
        .args(args)
        .env("ACCESSLINE_DB_KEY", key)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

fn actions(db: &Path) -> Vec<(String, String, String)> {
    keys::open_db_ro(db)
        .unwrap()
        .audit_tail(10_000)
        .unwrap()
        .into_iter()
        .map(|a| (a.actor, a.action, a.detail))
        .collect()
}

#[test]
fn nothing_readable_on_disk_after_a_demo_and_a_saved_call() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("field.db");
    let (admin, pin) = keys::provision_admin(&db);
    let out = as_user(&db, &admin, &pin, &["demo", "--encounters", "200"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut markers: Vec<String> = vec![
        "Zebulon Quartermaine".into(),
        "MARKER-REASON heard voices at the laundromat".into(),
    ];
    {
        let mut store = keys::open_db(&db).unwrap();
        let id = common::finalized(&mut store, common::at(3, 9), Risk::Low, &markers[1]);
        let draft = store
            .start_draft(&common::screener(), common::at(3, 10))
            .unwrap();
        store
            .save_field(
                &common::screener(),
                draft,
                "intake.caller_name",
                &serde_json::json!(markers[0]),
            )
            .unwrap();
        let _ = id;
        // Names and reasons the demo wrote, read back through the key.
        let mut st = store
            .connection()
            .prepare(
                "SELECT caller_display, reason FROM encounter
                 WHERE caller_display <> 'Anonymous' AND reason IS NOT NULL LIMIT 20",
            )
            .unwrap();
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap();
        for r in rows {
            let (name, reason) = r.unwrap();
            markers.push(name);
            if reason.len() >= 12 {
                markers.push(reason);
            }
        }
        assert!(markers.len() > 10, "{markers:?}");
        // While the database is open its WAL and shared memory exist too: check them now.
        assert_nothing_readable(dir.path(), &markers, &pin);
    }
    assert_nothing_readable(dir.path(), &markers, &pin);
}

fn assert_nothing_readable(dir: &Path, markers: &[String], pin: &str) {
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let lossy = String::from_utf8_lossy(&bytes);
        seen += 1;
        for m in markers {
            assert!(
                !lossy.contains(m.as_str()),
                "{} contains `{m}` in the clear",
                path.display()
            );
        }
        assert!(!lossy.contains(pin), "{} contains the PIN", path.display());
        assert!(
            !lossy.contains(&keys::test_key()),
            "{} contains the database key",
            path.display()
        );
    }
    assert!(seen >= 2, "the database and its key file");
}

#[test]
fn refusals_are_clear_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let (admin, admin_pin) = keys::provision_admin(&db);
    let sam = keys::provision_user(&db, "sam", Role::Screener);
    let lee = keys::provision_user(&db, "lee", Role::Supervisor);

    // Wrong PIN, unknown user: the same words.
    let wrong = as_user(&db, "sam", "not-his-pin", &["sync", "status"]);
    let unknown = as_user(&db, "nobody", "not-his-pin", &["sync", "status"]);
    for out in [&wrong, &unknown] {
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            text(&out.stderr).trim(),
            "accessline sync status: unknown user or wrong PIN"
        );
    }
    // A screener: report, audit, verify, users, import, demo and review mode are refused.
    for args in [
        &[
            "report",
            "initial-requests",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-02",
        ][..],
        &["audit", "--from", "2025-01-01", "--to", "2025-01-02"],
        &["verify"],
        &["users", "list"],
        &["demo", "--encounters", "1"],
    ] {
        let out = as_user(&db, "sam", &sam, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("needs the"), "{err}");
        assert!(err.contains("signed in as sam, screener"), "{err}");
    }
    // A supervisor may read reports and the audit log but not manage users.
    let out = as_user(&db, "lee", &lee, &["users", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let out = as_user(&db, "lee", &lee, &["verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The screener may export and see sync status.
    let out = as_user(&db, "sam", &sam, &["sync", "status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Lockout: five wrong PINs in a row (successes in between reset the count) lock sam; the
    // right PIN is then refused too.
    for _ in 0..5 {
        as_user(&db, "sam", "nope-nope", &["sync", "status"]);
    }
    let out = as_user(&db, "sam", &sam, &["sync", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("locked until") && text(&out.stderr).contains("5 failed"),
        "{}",
        text(&out.stderr)
    );
    // An admin's reset clears it.
    let out = bare()
        .arg("--db")
        .arg(&db)
        .args(["--user", &admin, "users", "reset-pin", "sam"])
        .env("ACCESSLINE_PIN", &admin_pin)
        .env("ACCESSLINE_NEW_PIN", "fresh-pin-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = as_user(&db, "sam", "fresh-pin-1", &["sync", "status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Disabled: refused with the same message as a wrong PIN (the slot is gone).
    let out = as_user(&db, &admin, &admin_pin, &["users", "disable", "sam"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = as_user(&db, "sam", "fresh-pin-1", &["sync", "status"]);
    assert_eq!(out.status.code(), Some(2));
    let out = as_user(&db, &admin, &admin_pin, &["users", "list"]);
    let list = text(&out.stdout);
    assert!(
        list.lines()
            .any(|l| l.starts_with("sam\t") && l.contains("\tdisabled\t")),
        "{list}"
    );

    let log = actions(&db);
    let count = |user: &str, action: &str| {
        log.iter()
            .filter(|(u, a, _)| u == user && a == action)
            .count()
    };
    assert_eq!(count("sam", "denied"), 5, "{log:#?}");
    assert_eq!(count("lee", "denied"), 1);
    assert!(count("sam", "sign_in_failed") >= 6, "{log:#?}");
    assert_eq!(count("nobody", "sign_in_failed"), 1);
    assert!(count("sam", "locked_out") >= 1);
    assert_eq!(count(&admin, "pin_reset"), 1);
    assert_eq!(count(&admin, "user_disabled"), 1);
    let out = as_user(&db, &admin, &admin_pin, &["verify"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn a_wrong_key_or_a_missing_or_tampered_key_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let (admin, pin) = keys::provision_admin(&db);
    let out = as_user(&db, &admin, &pin, &["demo", "--encounters", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = sha(&db);
    let wrong = "00".repeat(32);
    for args in [
        &["verify"][..],
        &["demo", "--encounters", "5"],
        &["sync", "status"],
    ] {
        let out = with_key(&db, &wrong, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("does not belong to this key file") || err.contains("key is wrong"),
            "{err}"
        );
    }
    assert_eq!(sha(&db), before, "the database file is unchanged");
    // Without the key file: a wrong key for the database itself.
    let keys_path = accessline::security::key_file_path(&db);
    let saved = std::fs::read(&keys_path).unwrap();
    std::fs::remove_file(&keys_path).unwrap();
    let out = with_key(&db, &wrong, &["verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the database key is wrong"),
        "{}",
        text(&out.stderr)
    );
    let out = as_user(&db, &admin, &pin, &["verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("its key file") && text(&out.stderr).contains("is missing"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(sha(&db), before);
    // Tampered: a slot removed from the file (the seal no longer matches).
    let mut json: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    json["mac"] = "00".repeat(32).into();
    std::fs::write(&keys_path, json.to_string()).unwrap();
    let out = as_user(&db, &admin, &pin, &["verify"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("damaged or was altered"), "{err}");
    assert_eq!(err.lines().count(), 1);
    // Not JSON at all.
    std::fs::write(&keys_path, b"garbage").unwrap();
    let out = as_user(&db, &admin, &pin, &["verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("damaged or was altered"));
    assert_eq!(sha(&db), before);
}

#[test]
fn a_plaintext_database_is_encrypted_in_place_with_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let dump_before = {
        let mut store = Store::open_unencrypted(&db).unwrap();
        for day in 1..=5 {
            common::finalized(
                &mut store,
                common::at(day, 9),
                Risk::Moderate,
                "plain reason",
            );
        }
        accessline::sync::canonical_dump(&store).unwrap()
    };
    let plain_sha = sha(&db);
    // Without users, commands say how to set up.
    let out = as_user(&db, "ada", "whatever-1", &["verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("users add NAME --role admin"),
        "{}",
        text(&out.stderr)
    );
    // First run: the first admin (production Argon2 cost, once).
    let out = bare()
        .arg("--db")
        .arg(&db)
        .args([
            "users",
            "add",
            "ada",
            "--role",
            "admin",
            "--display-name",
            "Ada L.",
        ])
        .env("ACCESSLINE_NEW_PIN", "a long passphrase")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let backup = accessline::store::encrypt::backup_path(&db);
    let err = text(&out.stderr);
    assert!(
        err.contains(&backup.display().to_string()) && err.contains("PHI"),
        "{err}"
    );
    assert_eq!(sha(&backup), plain_sha, "the backup is the original file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [&backup, &accessline::security::key_file_path(&db)] {
            let mode = std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", p.display());
        }
    }
    assert_ne!(&std::fs::read(&db).unwrap()[..16], b"SQLite format 3\0");
    // Same content, read through the new key (the admin's slot unwraps it).
    let mut vault = accessline::security::Vault::for_db(&db).unwrap();
    let (store, p) = accessline::security::sign_in(
        &mut vault,
        &db,
        "ada",
        "a long passphrase",
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!((p.role, p.display_name.as_str()), (Role::Admin, "Ada L."));
    let dump_after = accessline::sync::canonical_dump(&store).unwrap();
    assert_eq!(dump_after, dump_before);
    let log = store.audit_tail(5).unwrap();
    assert!(log.iter().any(|a| a.action == "db_encrypted"), "{log:?}");
    drop(store);
    // `verify` passes and warns about the backup while it exists.
    let out = as_user(&db, "ada", "a long passphrase", &["verify"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("PHI in the clear"));
    std::fs::remove_file(&backup).unwrap();
    let out = as_user(&db, "ada", "a long passphrase", &["verify"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}

#[test]
fn audit_chain_tampering_is_found_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let (admin, pin) = keys::provision_admin(&db);
    keys::provision_user(&db, "sam", Role::Screener);
    as_user(&db, "sam", "wrong-pin", &["sync", "status"]);
    let out = as_user(&db, &admin, &pin, &["verify"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // Alter a sign-in failure (covering one's tracks) through a keyed raw connection.
    {
        let store = keys::open_db(&db).unwrap();
        store
            .connection()
            .execute_batch(
                "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
                 UPDATE audit SET detail = '{}' WHERE action = 'sign_in_failed';",
            )
            .unwrap();
    }
    let out = with_key(&db, &keys::test_key(), &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("hash does not match its contents"),
        "{report}"
    );
    assert!(
        report.contains("trigger audit_no_update is missing"),
        "{report}"
    );
    // Delete a user_added row.
    {
        let store = keys::open_db(&db).unwrap();
        store
            .connection()
            .execute_batch("DELETE FROM audit WHERE action = 'user_added' AND record = 'user/sam';")
            .unwrap();
    }
    let out = with_key(&db, &keys::test_key(), &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("are missing (deleted)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn the_audit_command_prints_and_filters_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let (admin, pin) = keys::provision_admin(&db);
    let lee = keys::provision_user(&db, "lee", Role::Supervisor);
    as_user(&db, "lee", "wrong-pin", &["sync", "status"]);
    let today = accessline::domain::clock::county_time(chrono::Utc::now())
        .format("%Y-%m-%d")
        .to_string();
    let out = as_user(
        &db,
        "lee",
        &lee,
        &["audit", "--from", &today, "--to", &today],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = text(&out.stdout);
    let mut lines = all.lines();
    assert_eq!(
        lines.next(),
        Some("seq\tat\tactor\tdevice\taction\trecord\tdetail")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 7), "{all}");
    for action in ["user_added", "sign_in", "sign_in_failed"] {
        assert!(rows.iter().any(|r| r[4] == action), "{action}: {all}");
    }
    let seqs: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");
    // --by: one user's rows only.
    let out = as_user(
        &db,
        &admin,
        &pin,
        &["audit", "--from", &today, "--to", &today, "--by", "lee"],
    );
    let by_lee = text(&out.stdout);
    let rows: Vec<&str> = by_lee.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|l| l.split('\t').nth(2) == Some("lee")),
        "{by_lee}"
    );
    // Another period: nothing but the header.
    let out = as_user(
        &db,
        &admin,
        &pin,
        &["audit", "--from", "2020-01-01", "--to", "2020-01-31"],
    );
    assert_eq!(text(&out.stdout).lines().count(), 1);
    // Bad dates: exit 2 before anything else.
    let out = as_user(
        &db,
        &admin,
        &pin,
        &["audit", "--from", "soon", "--to", &today],
    );
    assert_eq!(out.status.code(), Some(2));
}
