//! `accessline keys generate`, `export`, `import` and `sync status` as processes: exit codes,
//! one-line errors, and a hub left unchanged by a refused import.

mod sync_common;

use std::path::Path;
use std::process::{Command, Output};

use sync_common::*;

fn run(args: &[&str], db: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accessline"));
    cmd.args(args).env_remove("ACCESSLINE_RECIPIENT");
    keys::keyed(&mut cmd);
    if let Some(db) = db {
        cmd.arg("--db").arg(db);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn keys_export_import_and_status_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, hub) = (dir.path().join("dev.db"), dir.path().join("hub.db"));
    device(&dev, 10);
    let keys = dir.path().join("keys");
    let out = run(&["keys", "generate", "--out", s(&keys)], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("age1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("county.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the identity is owner-only");
    }
    // Never overwrites a key.
    let out = run(&["keys", "generate", "--out", s(&keys)], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("refusing to overwrite"));

    // No recipient and no --plaintext: refused, nothing written.
    let batches = dir.path().join("batches");
    let out = run(
        &["export", "--format", "ndjson", "--out", s(&batches)],
        Some(&dev),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--recipient"));
    assert!(!batches.exists());

    let recipient = keys.join("county.pub");
    let out = run(
        &[
            "export",
            "--format",
            "ndjson",
            "--out",
            s(&batches),
            "--recipient",
            s(&recipient),
        ],
        Some(&dev),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("19 records") && stdout.contains("now `exported`"),
        "{stdout}"
    );
    // 6 of the 10 calls (and 1 of the 2 addenda) have no consent recorded (42 CFR Part 2).
    assert!(
        stdout.contains("substance-use details withheld (no consent recorded) from 7 of"),
        "{stdout}"
    );
    let manifest = std::fs::read_dir(&batches)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".manifest.json"))
        .unwrap();

    // The device's status.
    let out = run(&["sync", "status"], Some(&dev));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("0 pending, 19 exported, 0 acknowledged, 0 conflicts"));

    // Missing and wrong keys: exit 2, one line, hub unchanged.
    run(&["sync", "status"], Some(&hub)); // no database yet: refused, not created
    assert!(!hub.exists());
    keys::open_db(&hub).unwrap();
    let before = dump(&hub);
    let out = run(&["import", s(&manifest)], Some(&hub));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("pass --identity"), "{err}");
    let other = dir.path().join("other");
    run(&["keys", "generate", "--out", s(&other)], None);
    let out = run(
        &[
            "import",
            s(&manifest),
            "--identity",
            s(&other.join("county.key")),
        ],
        Some(&hub),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("wrong key"), "{err}");
    assert_eq!(dump(&hub), before);

    // The right key.
    let identity = keys.join("county.key");
    let out = run(
        &["import", s(&manifest), "--identity", s(&identity)],
        Some(&hub),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("19 new"),
        "{}",
        text(&out.stdout)
    );
    let out = run(
        &["import", s(&manifest), "--identity", s(&identity)],
        Some(&hub),
    );
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("0 new, 19 already held"));
    let out = run(&["verify"], Some(&hub));
    assert!(out.status.success(), "{}", text(&out.stdout));

    let out = run(&["sync", "status", "--list"], Some(&hub));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("inbox (received): 19 held, 0 quarantined"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("received from {DEVICE}: seq 1–19")),
        "{stdout}"
    );
    let listed = stdout.lines().filter(|l| l.starts_with("inbox\t")).count();
    assert_eq!(listed, 19);

    // Receipts carried back: the device's records become acknowledged.
    let receipts = dir.path().join("receipts");
    let out = run(
        &[
            "import",
            s(&manifest),
            "--identity",
            s(&identity),
            "--receipts",
            s(&receipts),
        ],
        Some(&hub),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let receipt = std::fs::read_dir(&receipts)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let out = run(&["sync", "ack", s(&receipt)], Some(&dev));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("19 acknowledged, 0 conflicts"));
    let out = run(&["sync", "status"], Some(&dev));
    assert!(text(&out.stdout).contains("0 pending, 0 exported, 19 acknowledged, 0 conflicts"));
}
