//! `accessline demo` and `accessline verify` as processes: exit codes, output, determinism,
//! the default database path, and bad input.

#[path = "common/keys.rs"]
mod keys;

use std::path::Path;
use std::process::{Command, Output};

fn accessline(args: &[&str], db: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accessline"));
    cmd.args(args);
    keys::keyed(&mut cmd);
    if let Some(db) = db {
        cmd.arg("--db").arg(db);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn demo_is_deterministic_per_seed_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.db"),
        dir.path().join("b.db"),
        dir.path().join("c.db"),
    );
    for (path, seed) in [(&a, "3"), (&b, "3"), (&c, "4")] {
        let out = accessline(&["demo", "--encounters", "400", "--seed", seed], Some(path));
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("wrote 400 encounters"),
            "{}",
            text(&out.stdout)
        );
    }
    // Encrypted files differ byte for byte (random salt and IVs): compare the content.
    let content = |p: &Path| {
        accessline::sync::canonical_dump(&keys::open_db_ro(p).unwrap())
            .unwrap()
            .replace(p.to_str().unwrap(), "")
    };
    assert!(content(&a) == content(&b), "same seed, same content");
    assert!(content(&a) != content(&c), "another seed, other content");
    let out = accessline(&["verify"], Some(&a));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("encounters: 400 (") && stdout.contains("ok: integrity check"),
        "{stdout}"
    );
}

#[test]
fn verify_exits_non_zero_and_names_each_fault() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    assert!(
        accessline(&["demo", "--encounters", "120"], Some(&db))
            .status
            .success()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA cipher_hmac_algorithm = HMAC_SHA256;",
        keys::test_key()
    ))
    .unwrap();
    let id: String = conn
        .query_row(
            "SELECT encounter_id FROM encounter WHERE status = 'finalized' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER encounter_finalized_no_update; DROP TRIGGER audit_no_update;
         UPDATE encounter SET payload = substr(payload, 1, length(payload) - 1) WHERE encounter_id = '{id}';
         UPDATE audit SET detail = '{{}}' WHERE seq = 5;"
    )).unwrap();
    drop(conn);
    let out = accessline(&["verify"], Some(&db));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("FAULT encounter/{id}/1: payload does not match")),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAULT audit row 5: hash does not match"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAULT trigger encounter_finalized_no_update is missing"),
        "{stdout}"
    );
}

#[test]
fn bad_input_is_one_clear_message_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = accessline(&["verify"], Some(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is a directory"),
        "{}",
        text(&out.stderr)
    );

    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "not a database, just notes\n").unwrap();
    for cmd in [&["verify"][..], &["demo", "--encounters", "5"][..]] {
        let out = accessline(cmd, Some(&junk));
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("not an accessline database") && err.lines().count() == 1,
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&junk).unwrap(),
        "not a database, just notes\n"
    );
    let out = accessline(&["verify"], Some(&dir.path().join("missing.db")));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such database file"));
}

#[test]
fn without_db_the_per_user_data_folder_is_created_and_used() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_accessline"))
        .env("ACCESSLINE_DB_KEY", keys::test_key())
        .args(["demo", "--encounters", "10"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", &data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let db = data.join("accessline").join("accessline.db");
    assert!(
        db.is_file(),
        "{} was not created; stdout: {}",
        db.display(),
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains(&db.display().to_string()));
}
