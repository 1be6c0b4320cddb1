//! The sync subcommands: `export`, `import`, `keys` and `sync` (status, reconciliation,
//! acknowledgements). See `crate::sync` and docs/sync.md.

use super::*;

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
