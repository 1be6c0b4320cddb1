//! What each subcommand does, between the parsed command line and the library; `main` only
//! dispatches. Exit codes: 0 ok, 1 a check failed, 2 bad input (nothing changed).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::domain::Definitions;
use crate::store::demo::{self, DemoOptions};
use crate::store::{StoreError, default_db_path, save_loop};

pub mod audit;
pub mod session;
pub mod users;

use session::{Mode, Need};

/// Bad input (a file, an argument), a refused sign-in or a missing role: nothing was changed.
pub const BAD_INPUT: u8 = 2;

pub(crate) fn db_path(db: Option<PathBuf>) -> Result<PathBuf, StoreError> {
    db.map_or_else(default_db_path, Ok)
}

pub(crate) fn fail(what: &str, e: impl std::fmt::Display) -> ExitCode {
    if what.is_empty() {
        eprintln!("accessline: {e}");
    } else {
        eprintln!("accessline {what}: {e}");
    }
    ExitCode::from(BAD_INPUT)
}

pub fn assess(defs: &Definitions, file: &str) -> ExitCode {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(file)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => return fail("assess", format_args!("cannot read {file}: {e}")),
    };
    match crate::domain::assess::assess_json(defs, &text) {
        Ok(json) => {
            use std::io::Write;
            // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
            match writeln!(std::io::stdout().lock(), "{json}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail("assess", format_args!("cannot write the result: {e}")),
            }
        }
        Err(e) => fail("assess", e),
    }
}

pub fn demo(
    db: Option<PathBuf>,
    user: Option<String>,
    defs: &Definitions,
    encounters: u64,
    seed: u64,
) -> ExitCode {
    let mut store = match session::open(db, user, "demo", Need::Admin, Mode::ReadWrite) {
        Ok(s) => s.store,
        Err(code) => return code,
    };
    match demo::generate(&mut store, defs, &DemoOptions { encounters, seed }) {
        Ok(s) => {
            let secs = s.elapsed.as_secs_f64();
            println!(
                "demo: wrote {} encounters ({} finalized, {} drafts; {} reviews, {} returned; {} addenda) to {} in {secs:.2} s ({:.0} encounters/s)",
                s.encounters,
                s.finalized,
                s.drafts,
                s.reviews,
                s.returned,
                s.addenda,
                store.path().display(),
                s.encounters as f64 / secs.max(1e-9)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("accessline demo: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn verify(db: Option<PathBuf>, user: Option<String>) -> ExitCode {
    let store = match session::open(db, user, "verify", Need::Review, Mode::ReadOnly) {
        Ok(s) => s.store,
        Err(code) => return code,
    };
    println!("database: {}", store.path().display());
    let backup = crate::store::encrypt::backup_path(store.path());
    if backup.exists() {
        eprintln!(
            "accessline verify: warning: {} is the unencrypted copy kept when the database was encrypted; it holds PHI in the clear — delete it once the database is checked",
            backup.display()
        );
    }
    match store.verify() {
        Ok(report) => {
            println!("{report}");
            if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("accessline verify: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn save_loop(db: Option<PathBuf>, user: Option<String>, limit: Option<u64>) -> ExitCode {
    let store = match session::open(db, user, "__save-loop", Need::Any, Mode::ReadWrite) {
        Ok(s) => s.store,
        Err(code) => return code,
    };
    match save_loop::run(store, limit, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("__save-loop", e),
    }
}

/// Logs go to a file beside the database, never to the screen the UI owns; no PHI is logged
/// (ids and events only).
fn start_logging(db: &std::path::Path) -> Option<PathBuf> {
    let path = db.with_extension("log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    // The panic report goes to the log; ratatui's own hook (installed later, around this one)
    // restores the terminal first.
    let previous = std::panic::take_hook();
    let shown = path.display().to_string();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("panic: {info}");
        previous(info);
        eprintln!(
            "accessline stopped because of an internal error. The call in progress is saved: \
             start accessline again to resume it. Details are in {shown}."
        );
    }));
    Some(path)
}

/// The keymap: the defaults, with the user's overrides from `--keymap FILE` or
/// `<config dir>/keymap.toml` when it exists.
fn keymap(file: Option<PathBuf>) -> Result<crate::tui::keymap::Keymap, String> {
    use crate::tui::keymap::Keymap;
    let path = file.or_else(|| {
        directories::ProjectDirs::from("org", "LA County", "accessline")
            .map(|d| d.config_dir().join("keymap.toml"))
            .filter(|p| p.exists())
    });
    let Some(path) = path else {
        return Ok(Keymap::default_map());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read keymap {}: {e}", path.display()))?;
    Keymap::with_overrides(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn tui(
    db: Option<PathBuf>,
    user: Option<String>,
    keymap_file: Option<PathBuf>,
    defs: Definitions,
    review: bool,
    lock_after: chrono::TimeDelta,
) -> ExitCode {
    use std::io::IsTerminal;
    let keymap = match keymap(keymap_file) {
        Ok(k) => k,
        Err(e) => return fail("", e),
    };
    if !std::io::stdout().is_terminal() {
        return fail(
            "",
            "the screener UI needs a terminal (for scripts, see `accessline --help`)",
        );
    }
    let path = match db_path(db) {
        Ok(p) => p,
        Err(e) => return fail("", e),
    };
    // Everything that can be refused before the screen starts is refused here, in plain
    // words: an unreadable key file, a malformed ACCESSLINE_DB_KEY, an encrypted database
    // whose key file is missing.
    let vault = match crate::security::Vault::for_db(&path) {
        Ok(v) => v,
        Err(e) => return fail("", e),
    };
    let env_key = match session::env_key() {
        Ok(k) => k,
        Err(e) => return fail("", e),
    };
    if vault.needs_setup() && env_key.is_none() {
        match crate::security::setup_state(&vault, &path) {
            crate::security::AuthError::NotSetUp => {}
            other => return fail("", other),
        }
    }
    start_logging(&path);
    tracing::info!(db = %path.display(), "accessline started");
    let start = crate::tui::Start {
        device: crate::security::device_name(),
        user: user
            .or_else(|| std::env::var("ACCESSLINE_USER").ok())
            .filter(|u| !u.trim().is_empty()),
        review,
        idle_limit: lock_after,
    };
    let backend = crate::tui::effect::Backend::signing_in(path, vault, env_key);
    match crate::tui::run(backend, defs, keymap, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("terminal error: {e}");
            eprintln!("accessline: terminal error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `accessline report`: see `crate::report` and docs/reports.md. Exit 2 (nothing written) on a
/// bad argument or a missing database, 1 if the database cannot be read to the end.
pub fn report(
    db: Option<PathBuf>,
    user: Option<String>,
    defs: &Definitions,
    kind: crate::cli::ReportKind,
) -> ExitCode {
    use crate::cli::ReportKind;
    use crate::report::{Failure, Kind, Request};
    let (period, kind) = match kind {
        ReportKind::InitialRequests { period } => (period, Kind::InitialRequests),
        ReportKind::Timeliness {
            period,
            detail,
            as_of,
        } => (period, Kind::Timeliness { detail, as_of }),
    };
    let request = Request {
        kind,
        from: period.from,
        to: period.to,
        out: period.out,
    };
    let open = || match session::open(db, user, "report", Need::Review, Mode::ReadOnly) {
        Ok(s) => Ok(s.store),
        Err(code) => Err(code),
    };
    match crate::report::run(&request, open, defs) {
        Ok(done) => {
            if let Some(out) = &request.out {
                eprintln!(
                    "report: wrote {} encounters to {}",
                    done.encounters,
                    out.display()
                );
            }
            if done.unreadable > 0 {
                eprintln!(
                    "accessline report: warning: {} stored records could not be read and are listed from their summary only; run `accessline verify`",
                    done.unreadable
                );
            }
            ExitCode::SUCCESS
        }
        Err(Failure::BadInput(e)) => fail("report", e),
        Err(Failure::Refused(code)) => code,
        Err(Failure::Failed(e)) => {
            eprintln!("accessline report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The database a sync command works on: it must exist (a typo must not create an empty one).
fn existing_db(db: Option<PathBuf>, what: &str) -> Result<PathBuf, ExitCode> {
    let path = db_path(db).map_err(|e| fail(what, e))?;
    if !path.exists() {
        return Err(fail(
            what,
            format_args!("{}: no such database file", path.display()),
        ));
    }
    Ok(path)
}

fn sync_fail(what: &str, e: &crate::sync::SyncError) -> ExitCode {
    eprintln!("accessline {what}: {e}");
    if e.is_bad_input() {
        ExitCode::from(BAD_INPUT)
    } else {
        ExitCode::FAILURE
    }
}

/// `accessline export`: see `crate::sync::export` and docs/sync.md.
pub fn export(
    db: Option<PathBuf>,
    user: Option<String>,
    defs: &Definitions,
    args: crate::cli::ExportArgs,
) -> ExitCode {
    use crate::sync::{ExportOptions, Format, crypto::Recipients};
    let path = match existing_db(db, "export") {
        Ok(p) => p,
        Err(code) => return code,
    };
    let recipients = if !args.recipient.is_empty() {
        Some(Recipients::parse_all(&args.recipient))
    } else if let Ok(r) = std::env::var("ACCESSLINE_RECIPIENT")
        && !r.trim().is_empty()
        && !args.plaintext
    {
        Some(Recipients::parse(&r))
    } else {
        None
    };
    let recipients = match recipients.transpose() {
        Ok(r) => r,
        Err(e) => return sync_fail("export", &e),
    };
    if recipients.is_none() && !args.plaintext {
        return fail(
            "export",
            "exports leave the device encrypted: pass --recipient FILE|age1… (the county's public key, or set ACCESSLINE_RECIPIENT), or --plaintext to write PHI unencrypted",
        );
    }
    let session = match session::open(Some(path), user, "export", Need::Any, Mode::ReadWrite) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let actor = session.actor();
    let mut store = session.store;
    let opts = ExportOptions {
        format: match args.format {
            crate::cli::ExportFormat::Ndjson => Format::Ndjson,
            crate::cli::ExportFormat::Fhir => Format::Fhir,
        },
        out: args.out,
        selection: if args.all {
            crate::store::Selection::All
        } else {
            crate::store::Selection::Pending
        },
        recipients,
        device: args.device,
        batch_size: args.batch_size,
    };
    let started = std::time::Instant::now();
    match crate::sync::export(&mut store, defs, &actor, &opts) {
        Ok(report) => {
            for b in &report.batches {
                let m = &b.manifest;
                println!(
                    "wrote {} ({} records: {} encounters, {} reviews; {} seq {}–{}; {})",
                    b.data_path.display(),
                    m.count,
                    m.encounters,
                    m.reviews,
                    m.device,
                    m.first_seq.map_or("?".into(), |s| s.to_string()),
                    m.last_seq.map_or("?".into(), |s| s.to_string()),
                    match &m.encryption {
                        Some(e) => format!("encrypted to {}", e.recipients.join(", ")),
                        None => "NOT encrypted".into(),
                    }
                );
            }
            let secs = started.elapsed().as_secs_f64();
            if report.batches.is_empty() {
                println!("export: nothing to export");
            } else {
                println!(
                    "export: {} records in {} batch files to {} in {secs:.2} s ({:.0} records/s){}",
                    report.records,
                    report.batches.len(),
                    opts.out.display(),
                    report.records as f64 / secs.max(1e-9),
                    if opts.format == Format::Ndjson {
                        "; they are now `exported`"
                    } else {
                        ""
                    }
                );
                // 42 CFR Part 2: say how many left without their substance-use details.
                println!(
                    "export: substance-use details withheld (no consent recorded) from {} of the encounter revisions written",
                    report.sud_withheld
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => sync_fail("export", &e),
    }
}

/// `accessline import`: every file in its own transaction; a rejected file changes nothing
/// and the others still import. Exit 2 if any file was rejected, 1 if any record was
/// quarantined as a conflict, else 0.
pub fn import(
    db: Option<PathBuf>,
    user: Option<String>,
    files: &[PathBuf],
    identity: Option<PathBuf>,
    receipts: Option<PathBuf>,
) -> ExitCode {
    use crate::sync::crypto::Identities;
    let identities = match identity.as_deref().map(Identities::read).transpose() {
        Ok(i) => i,
        Err(e) => return sync_fail("import", &e),
    };
    let session = match session::open(db, user, "import", Need::Admin, Mode::ReadWrite) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let actor = session.actor();
    let mut store = session.store;
    let (mut rejected, mut conflicts, mut failed) = (0, 0, false);
    for file in files {
        match crate::sync::import_file(&mut store, &actor, file, identities.as_ref()) {
            Ok(done) => {
                let s = &done.summary;
                println!(
                    "imported {}: {} new, {} already held, {} waiting for earlier records, {} earlier ones settled, {} conflicts{}",
                    done.data_path.display(),
                    s.new,
                    s.held + s.already_received,
                    s.parked,
                    s.settled,
                    s.conflicts.len(),
                    if s.batch_seen_before {
                        " (this batch was imported before)"
                    } else {
                        ""
                    }
                );
                for c in &s.conflicts {
                    println!("  {}", conflict_line(c));
                }
                conflicts += s.conflicts.len();
                if let Some(dir) = &receipts {
                    match crate::sync::receipt::write(&store, &done, &actor.device, dir) {
                        Ok(p) => println!("  receipt: {}", p.display()),
                        Err(e) => {
                            eprintln!("accessline import: cannot write the receipt: {e}");
                            failed = true;
                        }
                    }
                }
            }
            Err(e) => {
                if e.is_bad_input() {
                    rejected += 1;
                } else {
                    failed = true;
                }
                eprintln!("accessline import: {e}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else if rejected > 0 {
        ExitCode::from(BAD_INPUT)
    } else if conflicts > 0 {
        eprintln!(
            "accessline import: {conflicts} record(s) quarantined as conflicts (never applied); see `accessline sync status`"
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn conflict_line(c: &crate::store::Conflict) -> String {
    format!(
        "CONFLICT {} {} revision {} from {}#{} (batch {}, line {}): {}; hub holds {}…, received {}… — quarantined",
        c.kind,
        c.encounter_id,
        c.revision,
        c.origin_device,
        c.origin_seq,
        c.batch_id,
        c.line_no,
        c.why,
        c.held_sha256.get(..12).unwrap_or(&c.held_sha256),
        c.incoming_sha256.get(..12).unwrap_or(&c.incoming_sha256),
    )
}

/// `accessline keys generate`.
pub fn keys(cmd: crate::cli::KeysCommand) -> ExitCode {
    match cmd {
        crate::cli::KeysCommand::Generate { out } => match crate::sync::crypto::generate(&out) {
            Ok((identity, recipient, key)) => {
                println!(
                    "identity (secret: keep at the hub, back it up): {}",
                    identity.display()
                );
                println!(
                    "recipient (public: give to devices): {}",
                    recipient.display()
                );
                println!("{key}");
                ExitCode::SUCCESS
            }
            Err(e) => sync_fail("keys generate", &e),
        },
    }
}

/// `accessline sync status`: read-only.
pub fn sync(db: Option<PathBuf>, user: Option<String>, cmd: crate::cli::SyncCommand) -> ExitCode {
    use std::io::Write;
    let list = match cmd {
        crate::cli::SyncCommand::Status { list } => list,
        crate::cli::SyncCommand::Ack { files } => return ack(db, user, &files),
    };
    let path = match existing_db(db, "sync status") {
        Ok(p) => p,
        Err(code) => return code,
    };
    let store = match session::open(Some(path), user, "sync status", Need::Any, Mode::ReadOnly) {
        Ok(s) => s.store,
        Err(code) => return code,
    };
    let report = (|| -> Result<(), crate::sync::SyncError> {
        let out = &mut std::io::stdout().lock();
        let counts = store.sync_counts()?;
        let w = |out: &mut std::io::StdoutLock<'_>, s: String| {
            writeln!(out, "{s}").map_err(crate::sync::SyncError::io("standard output"))
        };
        w(out, format!("database: {}", store.path().display()))?;
        w(
            out,
            format!(
                "outbox (written here): {} pending, {} exported, {} acknowledged, {} conflicts",
                counts.pending, counts.exported, counts.acknowledged, counts.conflict
            ),
        )?;
        w(
            out,
            format!(
                "inbox (received): {} held, {} quarantined as conflicts, {} waiting for earlier records",
                counts.received, counts.quarantined, counts.waiting
            ),
        )?;
        for (device, ranges) in store.received_ranges()? {
            let shown: Vec<String> = ranges
                .iter()
                .map(|(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}–{b}")
                    }
                })
                .collect();
            let missing: Vec<String> = ranges
                .windows(2)
                .map(|p| {
                    let (a, b) = (p[0].1 + 1, p[1].0 - 1);
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}–{b}")
                    }
                })
                .collect();
            let tail = if missing.is_empty() {
                String::new()
            } else {
                format!(" (missing {})", missing.join(", "))
            };
            w(
                out,
                format!("received from {device}: seq {}{tail}", shown.join(", ")),
            )?;
        }
        for c in store.sync_conflicts()? {
            w(out, conflict_line(&c))?;
        }
        if list {
            w(
                out,
                "side\tkind\tdevice\tseq\tencounter_id\trevision\tstate\tbatch".into(),
            )?;
            store.for_each_reconciliation(|r| {
                w(
                    out,
                    format!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        r.side,
                        r.kind,
                        r.device,
                        r.seq,
                        r.encounter_id,
                        r.revision,
                        r.state,
                        r.batch_id.as_deref().unwrap_or("-")
                    ),
                )
            })?;
        }
        Ok(())
    })();
    match report {
        Ok(()) => ExitCode::SUCCESS,
        Err(crate::sync::SyncError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => sync_fail("sync status", &e),
    }
}

/// `accessline sync ack`: every receipt in its own transaction.
fn ack(db: Option<PathBuf>, user: Option<String>, files: &[PathBuf]) -> ExitCode {
    let path = match existing_db(db, "sync ack") {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut store = match session::open(Some(path), user, "sync ack", Need::Any, Mode::ReadWrite) {
        Ok(s) => s.store,
        Err(code) => return code,
    };
    let mut code = ExitCode::SUCCESS;
    for file in files {
        match crate::sync::receipt::apply(&mut store, file) {
            Ok(s) => {
                println!(
                    "{}: {} acknowledged, {} conflicts, {} still waiting at the hub{}",
                    file.display(),
                    s.acknowledged,
                    s.conflicts,
                    s.waiting,
                    if s.mismatched.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} not this device's records (left as they were)",
                            s.mismatched.len()
                        )
                    }
                );
            }
            Err(e) => code = sync_fail("sync ack", &e),
        }
    }
    code
}
