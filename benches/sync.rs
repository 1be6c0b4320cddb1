//! Sync benchmarks (DESIGN 9: export ≥ 50,000 encounters/s as NDJSON): export and import of a
//! demo database's outbox, NDJSON and FHIR, plaintext and age-encrypted.
//!
//! `cargo bench --bench sync` uses `ACCESSLINE_BENCH_N` demo encounters (default 10,000; the
//! 100,000-encounter figures in the report come from the command line on a demo database).
//! Without `--bench` (as `cargo test --all-targets` runs it) each benchmark runs once on 500.

use std::path::{Path, PathBuf};
use std::time::Duration;

use accessline::domain::Definitions;
use accessline::store::demo::{self, DemoOptions};
use accessline::store::{Actor, Selection, Store};
use accessline::sync::{self, ExportOptions, Format, crypto::Identities, crypto::Recipients};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn bench_n() -> u64 {
    let measuring = std::env::args().any(|a| a == "--bench");
    std::env::var("ACCESSLINE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 10_000 } else { 500 })
}

fn actor() -> Actor {
    Actor::new("bench", "bench-hub")
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    device: PathBuf,
    defs: Definitions,
    recipients: Recipients,
    identities: Identities,
    /// Records in the outbox (encounters, addenda and reviews).
    records: u64,
    /// Finalized revisions (what a FHIR export writes).
    revisions: u64,
}

fn fixture() -> Fixture {
    let n = bench_n();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let device = root.join("device.db");
    let defs = Definitions::builtin().unwrap();
    let mut store = open_keyed(&device).unwrap();
    demo::generate(
        &mut store,
        &defs,
        &DemoOptions {
            encounters: n,
            seed: 1,
        },
    )
    .unwrap();
    let count = |sql: &str| -> u64 {
        store
            .connection()
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap() as u64
    };
    let records = count("SELECT count(*) FROM outbox");
    let revisions = count("SELECT count(*) FROM encounter WHERE status = 'finalized'");
    let (key, public, _) = sync::crypto::generate(&root.join("keys")).unwrap();
    Fixture {
        recipients: Recipients::parse(public.to_str().unwrap()).unwrap(),
        identities: Identities::read(&key).unwrap(),
        _dir: dir,
        dir: root,
        device,
        defs,
        records,
        revisions,
    }
}

fn options(out: &Path, format: Format, recipients: Option<&Recipients>) -> ExportOptions {
    ExportOptions {
        format,
        out: out.to_owned(),
        selection: Selection::All,
        recipients: recipients.cloned(),
        device: None,
        batch_size: 10_000,
    }
}

fn export_once(
    f: &Fixture,
    store: &mut Store,
    out: &Path,
    format: Format,
    encrypt: bool,
) -> Vec<PathBuf> {
    let _ = std::fs::remove_dir_all(out);
    let r = sync::export(
        store,
        &f.defs,
        &actor(),
        &options(out, format, encrypt.then_some(&f.recipients)),
    )
    .unwrap();
    r.batches.into_iter().map(|b| b.manifest_path).collect()
}

/// Benchmark databases are encrypted, as in production.
fn open_keyed(path: impl AsRef<std::path::Path>) -> accessline::store::Result<Store> {
    Store::open_keyed(path, &accessline::store::DbKey::from_bytes([7; 32]))
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let mut store = open_keyed(&f.device).unwrap();
    let mut g = c.benchmark_group("sync");
    g.sample_size(10);
    for (format, name, records) in [
        (Format::Ndjson, "ndjson", f.records),
        (Format::Fhir, "fhir", f.revisions),
    ] {
        for encrypt in [false, true] {
            let label = if encrypt { "encrypted" } else { "plaintext" };
            let out = f.dir.join(format!("{name}-{label}"));
            g.throughput(Throughput::Elements(records));
            g.bench_function(format!("export {name} {label}"), |b| {
                b.iter(|| export_once(&f, &mut store, &out, format, encrypt))
            });
        }
    }
    for encrypt in [false, true] {
        let label = if encrypt { "encrypted" } else { "plaintext" };
        let files = export_once(
            &f,
            &mut store,
            &f.dir.join(format!("import-{label}")),
            Format::Ndjson,
            encrypt,
        );
        let mut n = 0;
        g.throughput(Throughput::Elements(f.records));
        g.bench_function(format!("import ndjson {label}"), |b| {
            b.iter_batched(
                || {
                    n += 1;
                    let hub = f.dir.join(format!("hub-{label}-{n}.db"));
                    open_keyed(&hub).unwrap()
                },
                |mut hub| {
                    for file in &files {
                        sync::import_file(&mut hub, &actor(), file, Some(&f.identities)).unwrap();
                    }
                    hub
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = sync_benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(sync_benches);
