//! End to end with the real binary in a pseudo-terminal (80×24): a routine call, a crisis
//! call, SIGKILL mid-call and resume, a too-small window (and paste), a clean quit, and a
//! panic (the terminal restored, the draft kept, the report in the log).
//!
//! The harness spawns `accessline --db <tempdir>/x.db` on a pty (`portable-pty`), a reader
//! thread feeds everything the program writes into a `vt100` screen, and each step waits for
//! text to appear on that screen: no fixed sleeps, so a slow machine only makes it slower.
//! A failure prints the screen. No tmux or other tool is needed, only the built binary.

#[path = "common/keys.rs"]
mod keys;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use accessline::domain::placement::Triage;
use accessline::store::{ListQuery, Status};
use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

/// CI machines are slow and shared: waits are generous, and only a failure waits that long.
const TIMEOUT: Duration = Duration::from_secs(10);
const USER: &str = "screener.pty";

// Keys as a terminal (xterm) sends them.
const ENTER: &str = "\r";
const TAB: &str = "\t";
const ESC: &str = "\x1b";
const UP: &str = "\x1b[A";
const DOWN: &str = "\x1b[B";
const RIGHT: &str = "\x1b[C";
const PGDN: &str = "\x1b[6~";
const F2: &str = "\x1bOQ";
const F12: &str = "\x1b[24~";
const CTRL_Q: &str = "\x11";

fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("a terminal has rows and columns")
}

/// The program running on a pseudo-terminal, and what its screen shows.
struct Tui {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    screen: Arc<Mutex<vt100::Parser>>,
    reader: Option<JoinHandle<()>>,
}

impl Tui {
    /// Start `accessline --db <db>` at 80×24 with a private config folder (so a keymap in
    /// the developer's own config cannot change the keys) and the monochrome theme (focus is
    /// reverse video, which the tests read back).
    fn spawn(db: &Path) -> Tui {
        Tui::spawn_with(db, &[])
    }

    /// `spawn` with extra environment variables, then sign in as [`USER`] (the user name is
    /// filled in from ACCESSLINE_USER; the PIN is typed on the sign-in screen).
    fn spawn_with(db: &Path, env: &[(&str, &str)]) -> Tui {
        let mut t = Tui::spawn_raw(db, env);
        t.wait_for_all(&["Sign in", USER]);
        t.send(&user_pin());
        t.send(ENTER);
        t.wait_gone("PIN or passphrase");
        t
    }

    /// The program as started, on its sign-in (or first-run) screen.
    fn spawn_raw(db: &Path, env: &[(&str, &str)]) -> Tui {
        let pty = native_pty_system()
            .openpty(size(24, 80))
            .expect("open a pseudo-terminal");
        let home = db.parent().expect("the database is in a folder");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_accessline"));
        cmd.arg("--db");
        cmd.arg(db);
        cmd.cwd(home);
        cmd.env("ACCESSLINE_USER", USER);
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        cmd.env("HOME", home);
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_DATA_HOME", home.join("data"));
        cmd.env_remove("ACCESSLINE_TEST_PANIC_KEY");
        cmd.env_remove("ACCESSLINE_DB_KEY");
        cmd.env_remove("ACCESSLINE_PIN");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty
            .slave
            .spawn_command(cmd)
            .expect("spawn the accessline binary");
        // Only the child holds the slave now, so reads end (EIO) when it exits.
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(nz(24), nz(80), 0)));
        let mut from_child = pty.master.try_clone_reader().expect("pty reader");
        let feed = Arc::clone(&screen);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match from_child.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => feed.lock().unwrap().process(&buf[..n]),
                }
            }
        });
        let writer = pty.master.take_writer().expect("pty writer");
        Tui {
            master: pty.master,
            writer,
            child,
            screen,
            reader: Some(reader),
        }
    }

    /// Type keys (escape sequences or text, UTF-8) as one write.
    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush keys");
    }

    /// Each key on its own write, in order.
    fn press(&mut self, keys: &[&str]) {
        for k in keys {
            self.send(k);
        }
    }

    /// The screen as text, one line per row (trailing blanks trimmed).
    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn rows(&self) -> Vec<String> {
        let p = self.screen.lock().unwrap();
        let (_, cols) = p.screen().size();
        // Trimmed: a blank drawn as a space and a never-drawn cell look the same.
        p.screen()
            .rows(0, cols.get())
            .map(|r| r.trim_end().to_owned())
            .collect()
    }

    /// The rows drawn in reverse video (the focus, with `NO_COLOR`).
    fn reversed_rows(&self) -> Vec<String> {
        let p = self.screen.lock().unwrap();
        let s = p.screen();
        let (_, cols) = s.size();
        let rows: Vec<String> = s.rows(0, cols.get()).collect();
        (0..rows.len() as u16)
            .filter(|&r| {
                // A focused row is reversed from its first character on.
                (0..cols.get()).any(|c| {
                    s.cell(r, c)
                        .is_some_and(|cell| cell.inverse() && cell.has_contents())
                })
            })
            .map(|r| rows[r as usize].clone())
            .collect()
    }

    fn dump(&self) -> String {
        let rows = self.rows();
        let mut out = String::from("┌── screen ──\n");
        for (i, r) in rows.iter().enumerate() {
            out.push_str(&format!("│{i:2} {r}\n"));
        }
        out.push_str("└────────────");
        out
    }

    /// Wait until the screen satisfies `ok`; panic with the screen after the timeout.
    fn wait_until(&mut self, what: &str, ok: impl Fn(&str) -> bool) {
        let start = Instant::now();
        loop {
            if ok(&self.text()) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Give the reader a moment to finish the last output, then report.
                std::thread::sleep(Duration::from_millis(100));
                if ok(&self.text()) {
                    return;
                }
                panic!(
                    "accessline exited ({status:?}) while waiting for {what}\n{}",
                    self.dump()
                );
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "timed out after {:?} waiting for {what}\n{}",
                    TIMEOUT,
                    self.dump()
                );
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    fn wait_for(&mut self, text: &str) {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text));
    }

    fn wait_for_all(&mut self, texts: &[&str]) {
        self.wait_until(&format!("all of {texts:?}"), |s| {
            texts.iter().all(|t| s.contains(t))
        });
    }

    /// Wait until a row drawn in reverse video (the focus) contains `text`.
    fn wait_focus(&mut self, text: &str) {
        let start = Instant::now();
        while !self.reversed_rows().iter().any(|r| r.contains(text)) {
            if start.elapsed() > TIMEOUT {
                panic!(
                    "timed out waiting for the focus on {text:?}; reversed rows: {:?}\n{}",
                    self.reversed_rows(),
                    self.dump()
                );
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    /// The rows once two reads 50 ms apart agree (a frame can arrive in several writes).
    fn settled_rows(&mut self) -> Vec<String> {
        let start = Instant::now();
        let mut last = self.rows();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.rows();
            if now == last || start.elapsed() > TIMEOUT {
                return now;
            }
            last = now;
        }
    }

    fn wait_gone(&mut self, text: &str) {
        self.wait_until(&format!("{text:?} to go away"), |s| !s.contains(text));
    }

    /// Resize the pseudo-terminal (the program gets SIGWINCH) and the screen model.
    fn resize(&mut self, rows: u16, cols: u16) {
        self.screen.lock().unwrap().set_size(nz(rows), nz(cols));
        self.master
            .resize(size(rows, cols))
            .expect("resize the pty");
    }

    /// Wait for the program to exit by itself.
    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                self.join_reader();
                return status;
            }
            if start.elapsed() > TIMEOUT {
                let dump = self.dump();
                self.kill9();
                panic!("accessline did not exit within {TIMEOUT:?}\n{dump}");
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    /// SIGKILL, no warning (portable-pty's own `kill` sends SIGHUP first).
    fn kill9(&mut self) -> ExitStatus {
        let child: &mut dyn Child = &mut *self.child;
        let process = child
            .downcast_mut::<std::process::Child>()
            .expect("a Unix pty child is a std::process::Child");
        std::process::Child::kill(process).expect("SIGKILL");
        let status = self.child.wait().expect("reap the killed child");
        self.join_reader();
        status
    }

    fn join_reader(&mut self) {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        // A failed test must not leave a process behind.
        if let Ok(None) = self.child.try_wait() {
            let child: &mut dyn Child = &mut *self.child;
            if let Some(p) = child.downcast_mut::<std::process::Child>() {
                let _ = std::process::Child::kill(p);
            }
            let _ = self.child.wait();
        }
    }
}

/// A fresh folder with the database path in it, set up as an administrator would: the
/// encrypted database, its key file, and the screener [`USER`] enrolled.
fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let (dir, db) = empty_dir();
    keys::provision_admin(&db);
    assert_eq!(
        keys::provision_user(&db, USER, accessline::security::Role::Screener),
        user_pin()
    );
    (dir, db)
}

/// A folder with nothing in it yet (a new device).
fn empty_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.db");
    (dir, db)
}

/// [`USER`]'s PIN (see `keys::provision_user`).
fn user_pin() -> String {
    format!("{USER}-pin")
}

/// Start the program on `db` and wait for the home screen.
fn start_home(db: &Path) -> Tui {
    let mut t = Tui::spawn(db);
    t.wait_for_all(&["Press n for a new call", "Unfinished calls"]);
    t
}

/// Ctrl-q from wherever the program is; it must exit 0.
fn quit(t: &mut Tui) {
    t.send(CTRL_Q);
    let status = t.wait_exit();
    assert!(status.success(), "exit status {status:?}\n{}", t.dump());
}

#[test]
fn routine_call_from_new_call_to_finalized() {
    let (_dir, db) = temp_db();
    let mut t = start_home(&db);
    let name = "José Ñúñez Peña";

    // Intake: caller self, name, age 42, sex, language Spanish.
    t.send("n");
    t.wait_for("Caller details");
    t.press(&[RIGHT, TAB, TAB]);
    t.send(name);
    t.press(&[TAB, TAB]);
    t.send("42");
    t.press(&[TAB, RIGHT, TAB, RIGHT, RIGHT]);
    t.wait_for_all(&[
        &format!("Name                  {name}"),
        "Age 42: adult screening tool.",
        "◂ Spanish ▸",
    ]);

    // Safety: all no (3 safety items, then the C-SSRS screener's 3).
    t.send(PGDN);
    t.wait_for("Safety check · question 1 of 3");
    t.send("nnnnnn");
    t.wait_for_all(&["No imminent danger reported", "C-SSRS No risk identified"]);
    // Enter goes on only when every question is answered.
    t.send(ENTER);

    // Screening: DHCS adult (12 yes/no), AUDIT-C (3 choices), DAST-10 (10 yes/no).
    t.wait_for("DHCS adult (provisional) · question 1 of 2");
    t.send("nnnnnnnnnnnn");
    t.send("000");
    t.send("nnnnnnnnnn");
    t.wait_for_all(&[
        "Refer to Medi-Cal managed care",
        "DAST-10 · question 10 of 10",
    ]);
    t.send(ENTER);

    // Assessment: MH history (5), PHQ-9 (9 + difficulty), GAD-7 (7 + difficulty), ASAM (6).
    t.wait_for("MH history · question 1 of 5");
    t.send("nnnnn");
    t.send("111110000");
    t.send("1");
    t.send("11110000");
    t.send("000000");
    t.wait_for_all(&["PHQ-9 5/27 Mild depression", "GAD-7 4/21 Minimal anxiety"]);
    t.wait_for("ASAM triage · question 6 of 6");
    t.send(ENTER);

    // Placement: the computed cell, accepted.
    t.wait_for_all(&["Mental-health severity × addiction acuity", "● chosen"]);
    t.send(ENTER);

    // Referral: the second program, warm hand-off.
    t.wait_for("Deadline: Routine mental health");
    t.press(&[DOWN, " ", "w"]);
    // The legend also says "[H]": wait for a program's row to carry it.
    t.wait_until("a program picked with a warm hand-off", |s| {
        s.lines().any(|l| l.starts_with(" [H] "))
    });
    t.send(ENTER);

    // Notices: the handbook.
    t.wait_for("Notices given during the call");
    t.send(" ");
    t.wait_for("[x] Beneficiary handbook offered");
    t.send(ENTER);

    // Summary, finalize, confirm.
    t.wait_for_all(&[
        "Ready to finalize (f).",
        "computed low_low · chosen low_low",
    ]);
    t.send("f");
    t.wait_for("Finalize and lock this record?");
    t.send("y");
    t.wait_for("Call finalized and locked (revision 1");
    t.wait_for("Today: 1 finalized · 0 in progress · 0 crisis");
    quit(&mut t);

    // The record, read back through the library.
    let store = keys::open_db(&db).expect("open the database after exit");
    let rows = store.list(&ListQuery::default()).unwrap().rows;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row.status, Status::Finalized);
    assert_eq!(row.screener, USER);
    assert_eq!(row.caller_display, name);
    assert_eq!(row.language.as_deref(), Some("es"));
    assert_eq!(row.age, Some(42));
    assert_eq!(row.cell_chosen.map(|c| c.id()).as_deref(), Some("low_low"));
    assert_eq!(row.triage, Some(Triage::Routine));
    assert!(!row.crisis);
    let rec = store.encounter(row.encounter_id, None).unwrap();
    let payload: serde_json::Value = serde_json::from_str(rec.payload.as_deref().unwrap()).unwrap();
    let referrals = payload["referrals"].as_array().expect("referrals");
    assert_eq!(referrals.len(), 1, "{payload:#}");
    assert_eq!(referrals[0]["warm_handoff"], true);
    assert_eq!(payload["notices"], serde_json::json!(["handbook"]));
    assert_eq!(payload["answers"]["phq9"]["q1"], 1);
    assert!(store.drafts_of(USER).unwrap().is_empty());
    drop(store);

    // And the command-line check agrees.
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_accessline"))
        .env("ACCESSLINE_DB_KEY", keys::test_key())
        .args(["verify", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "verify failed:\n{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn crisis_call_from_home_is_recorded_and_finalized_with_only_safety() {
    let (_dir, db) = temp_db();
    let mut t = start_home(&db);

    t.send(F2);
    t.wait_for_all(&[
        "CRISIS PROTOCOL",
        "Record at least one action before closing",
    ]);
    // The protocol cannot be dismissed before an action is recorded.
    t.send(ESC);
    t.wait_for("Record at least one action taken before closing the crisis protocol.");
    assert!(t.text().contains("CRISIS PROTOCOL"), "{}", t.dump());
    t.send("2");
    t.wait_for("2 [x]");
    t.send(ESC);
    t.wait_for("Crisis actions recorded; the call is emergent.");
    t.wait_gone("CRISIS PROTOCOL");
    let header = t.rows()[0].clone();
    assert!(
        header.contains("EMERGENT") && header.contains("CRISIS"),
        "header: {header:?}\n{}",
        t.dump()
    );

    // Only the safety step answered, then straight to the summary.
    t.send(PGDN);
    t.wait_for("Safety check · question 1 of 3");
    t.send("nnnnnn");
    t.wait_for_all(&["No imminent danger reported", "C-SSRS No risk identified"]);
    t.press(&[PGDN, PGDN, PGDN, PGDN, PGDN, PGDN]);
    t.wait_for_all(&[
        "Ready to finalize (f).",
        "triage emergent",
        "Crisis protocol",
    ]);
    t.send("f");
    t.wait_for("Finalize and lock this record?");
    t.send("y");
    t.wait_for("Call finalized and locked");
    t.wait_for("Today: 1 finalized · 0 in progress · 1 crisis");
    quit(&mut t);

    let store = keys::open_db(&db).unwrap();
    let rows = store.list(&ListQuery::default()).unwrap().rows;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].status, Status::Finalized);
    assert_eq!(rows[0].triage, Some(Triage::Emergent));
    assert!(rows[0].crisis);
    let rec = store.encounter(rows[0].encounter_id, None).unwrap();
    let payload: serde_json::Value = serde_json::from_str(rec.payload.as_deref().unwrap()).unwrap();
    assert_eq!(payload["crisis_opened"], true);
    assert!(
        payload["crisis"].to_string().contains("connected_988"),
        "{:#}",
        payload["crisis"]
    );
}

#[test]
fn sigkill_mid_call_then_resume_at_the_same_question_with_every_answer() {
    let (_dir, db) = temp_db();
    let mut t = start_home(&db);
    let name = "王小明";

    t.send("n");
    t.wait_for("Caller details");
    t.press(&[TAB, TAB]);
    t.send(name);
    t.press(&[TAB, TAB]);
    t.send("35");
    t.wait_for("Age 35: adult screening tool.");
    t.send(PGDN);
    t.wait_for("Safety check · question 1 of 3");
    t.send("nnnnnn");
    t.wait_for("C-SSRS No risk identified");
    t.press(&[PGDN, PGDN]);
    t.wait_for("MH history · question 1 of 5");
    // MH history: no, no, yes, no, no; PHQ-9 items 1–5: 2 1 3 0 2; then back up to item 4.
    t.send("nnynn");
    t.send("21302");
    t.wait_for("PHQ-9 · question 6 of 10");
    t.press(&[UP, UP]);
    t.wait_for("PHQ-9 · question 4 of 10");
    t.wait_focus("Feeling tired or having little energy");
    // The body of the screen (steps, scores, question, answers), without the header's
    // call timer and the status line.
    let before: Vec<String> = t.settled_rows()[1..21].to_vec();

    let status = t.kill9();
    assert!(!status.success(), "killed: {status:?}");

    // Every answer and the place in the call are already in the database.
    {
        let store = keys::open_db(&db).unwrap();
        let drafts = store.drafts_of(USER).unwrap();
        assert_eq!(drafts.len(), 1, "{drafts:#?}");
        let draft = store.load_draft(drafts[0].encounter_id).unwrap();
        let f = &draft.fields;
        assert_eq!(f["intake.caller_name"], name);
        assert_eq!(f["intake.age"], "35");
        for (key, want) in [
            ("answers.mh_history.psychosis", serde_json::json!(false)),
            ("answers.mh_history.hosp_12m", serde_json::json!(true)),
            ("answers.mh_history.smi", serde_json::json!(false)),
            ("answers.phq9.q1", serde_json::json!(2)),
            ("answers.phq9.q2", serde_json::json!(1)),
            ("answers.phq9.q3", serde_json::json!(3)),
            ("answers.phq9.q4", serde_json::json!(0)),
            ("answers.phq9.q5", serde_json::json!(2)),
        ] {
            assert_eq!(f.get(key), Some(&want), "{key} in {f:#?}");
        }
        assert!(!f.contains_key("answers.phq9.q6"), "{f:#?}");
        let cursor = draft.cursor.expect("cursor saved");
        assert_eq!(cursor.step, "assessment");
        assert_eq!(cursor.focus, "phq9.q4");
    }

    // Restart on the same database: the resume offer, accepted.
    let mut t = Tui::spawn(&db);
    t.wait_for_all(&["Resume the unfinished call with", name, "at Assessment"]);
    t.send("y");
    t.wait_for("Call resumed where you left it.");
    t.wait_for("PHQ-9 · question 4 of 10");
    t.wait_focus("Feeling tired or having little energy");
    let after: Vec<String> = t.settled_rows()[1..21].to_vec();
    assert_eq!(
        before,
        after,
        "the resumed screen differs from the one before the kill\n{}",
        t.dump()
    );
    assert!(t.rows()[0].contains(name), "{}", t.dump());
    quit(&mut t);
}

#[test]
fn too_small_window_asks_to_enlarge_and_growing_back_restores_the_call() {
    let (_dir, db) = temp_db();
    let mut t = start_home(&db);
    t.send("n");
    t.wait_for("Caller details");
    t.press(&[TAB, TAB]);
    t.send("Ana");
    t.wait_for("Name                  Ana");

    t.resize(20, 60);
    t.wait_for_all(&["Enlarge the window", "this one is 60×20"]);
    assert!(!t.text().contains("Caller details"), "{}", t.dump());

    t.resize(24, 80);
    t.wait_for_all(&["Caller details", "Name                  Ana"]);
    assert!(!t.text().contains("Enlarge the window"), "{}", t.dump());
    // Typing still goes to the same field, and so does a (bracketed) paste.
    t.send("lía");
    t.wait_for("Name                  Analía");
    t.send("\x1b[200~ Գրիգորյան\x1b[201~");
    t.wait_for("Name                  Analía Գրիգորյան");

    // The small-window message promises F2: the protocol is open when the window grows.
    t.resize(20, 60);
    t.wait_for("Enlarge the window");
    t.send(F2);
    t.resize(24, 80);
    t.wait_for_all(&["CRISIS PROTOCOL", "Analía Գրիգորյան"]);
    quit(&mut t);
}

/// The pty's local modes (`ICANON`, `ECHO`, `ISIG`…) by name, read from its termios.
fn local_modes(t: &Tui) -> Vec<String> {
    let termios = t.master.get_termios().expect("the pty's terminal settings");
    format!("{:?}", termios.local_flags)
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .map(str::to_owned)
        .collect()
}

#[test]
fn quit_restores_the_terminal_and_exits_zero() {
    let (_dir, db) = temp_db();
    let mut t = start_home(&db);
    {
        let p = t.screen.lock().unwrap();
        assert!(
            p.screen().alternate_screen(),
            "the UI uses the alternate screen"
        );
        assert!(
            p.screen().bracketed_paste(),
            "paste is bracketed while running"
        );
    }
    assert!(
        !local_modes(&t).contains(&"ICANON".to_owned()),
        "raw mode while running"
    );
    // Quit from inside a call too: a call in progress stays a draft.
    t.send("n");
    t.wait_for("Caller details");
    quit(&mut t);
    let p = t.screen.lock().unwrap();
    let s = p.screen();
    assert!(!s.alternate_screen(), "left the alternate screen");
    assert!(!s.hide_cursor(), "the cursor is shown again");
    assert!(!s.bracketed_paste(), "bracketed paste is off again");
    drop(p);
    let modes = local_modes(&t);
    for mode in ["ICANON", "ECHO", "ISIG"] {
        assert!(
            modes.contains(&mode.to_owned()),
            "the terminal is still in raw mode ({mode} is off): {modes:?}"
        );
    }
    let store = keys::open_db(&db).unwrap();
    assert_eq!(store.drafts_of(USER).unwrap().len(), 1);
}

#[test]
fn a_panic_restores_the_terminal_keeps_the_draft_and_logs_the_report() {
    let (_dir, db) = temp_db();
    // F12 panics on purpose (a test aid of the binary, off unless this variable is set).
    let mut t = Tui::spawn_with(&db, &[("ACCESSLINE_TEST_PANIC_KEY", "f12")]);
    t.wait_for("Press n for a new call");
    t.send("n");
    t.wait_for("Caller details");
    t.press(&[TAB, TAB]);
    t.send("Zoë");
    t.wait_for("Name                  Zoë");

    t.send(F12);
    let status = t.wait_exit();
    assert!(!status.success(), "a panic is a failure exit: {status:?}");
    {
        let p = t.screen.lock().unwrap();
        let s = p.screen();
        assert!(
            !s.alternate_screen(),
            "left the alternate screen\n{}",
            s.contents()
        );
        assert!(!s.hide_cursor(), "the cursor is shown again");
        assert!(
            s.contents()
                .contains("The call in progress is saved: start accessline again to resume it."),
            "the plain message after a panic:\n{}",
            s.contents()
        );
    }
    let modes = local_modes(&t);
    assert!(
        modes.contains(&"ICANON".to_owned()) && modes.contains(&"ECHO".to_owned()),
        "the terminal is still in raw mode after the panic: {modes:?}"
    );
    let log = std::fs::read_to_string(db.with_extension("log")).expect("the log file");
    assert!(
        log.contains("panic"),
        "the panic report is in the log:\n{log}"
    );
    assert!(!log.contains("Zoë"), "no caller data in the log:\n{log}");

    // The draft survived: restart and resume it.
    let mut t = Tui::spawn(&db);
    t.wait_for_all(&["Resume the unfinished call with", "Zoë", "at Intake"]);
    t.send("y");
    t.wait_for_all(&[
        "Call resumed where you left it.",
        "Name                  Zoë",
    ]);
    quit(&mut t);
}

const CTRL_L: &str = "\x0c";

#[test]
fn first_run_creates_the_administrator_and_an_encrypted_database() {
    let (_dir, db) = empty_dir();
    let mut t = Tui::spawn_raw(&db, &[]);
    t.wait_for_all(&["First administrator", "Nobody is enrolled"]);
    for (text, next) in [
        ("admin.pty", TAB),
        ("Pat Admin", TAB),
        ("short", TAB),
        ("short", ENTER),
    ] {
        t.send(text);
        t.send(next);
    }
    t.wait_for("a PIN needs at least 8 characters");
    // The passphrase fields are cleared and have the focus again.
    t.send("correct horse");
    t.send(TAB);
    t.send("correct horse");
    t.send(ENTER);
    t.wait_for_all(&["Press n for a new call", "Signed in: Pat Admin (admin)"]);
    quit(&mut t);

    // Encrypted at rest: no SQLite header, a key file readable by its owner only.
    let head = std::fs::read(&db).unwrap();
    assert_ne!(
        &head[..16],
        b"SQLite format 3\0",
        "the database is encrypted"
    );
    let keys = accessline::security::key_file_path(&db);
    assert!(keys.exists(), "{} written", keys.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is the owner's only");
    }
    assert!(
        !String::from_utf8_lossy(&std::fs::read(&keys).unwrap()).contains("correct horse"),
        "no passphrase in the key file"
    );

    // The next start asks to sign in; a wrong passphrase is refused, the right one signs in.
    let mut t = Tui::spawn_raw(&db, &[("ACCESSLINE_USER", "admin.pty")]);
    t.wait_for_all(&["Sign in", "admin.pty"]);
    t.send("wrong passphrase");
    t.send(ENTER);
    t.wait_for("unknown user or wrong PIN");
    t.send("correct horse");
    t.send(ENTER);
    t.wait_for("Signed in: Pat Admin (admin)");
    quit(&mut t);
}

#[test]
fn the_lock_key_hides_the_call_and_the_pin_brings_it_back() {
    let (_dir, db) = temp_db();
    let mut t = start_home(&db);
    t.send("n");
    t.wait_for("Caller details");
    t.press(&[TAB, TAB]);
    t.send("Quetzal Marker");
    t.wait_for("Name                  Quetzal Marker");
    t.send(CTRL_L);
    t.wait_for_all(&["Locked.", "their PIN resumes it"]);
    let shown = t.text();
    assert!(
        !shown.contains("Quetzal"),
        "the caller on the lock screen:\n{shown}"
    );
    t.send(&user_pin());
    t.send(ENTER);
    t.wait_for("Name                  Quetzal Marker");
    quit(&mut t);
}
