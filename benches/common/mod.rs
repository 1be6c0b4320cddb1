//! The demo database the store and review benchmarks share: `ACCESSLINE_BENCH_N` encounters
//! (1,000,000 under `cargo bench`, 2,000 in the smoke run of `cargo test --all-targets`),
//! generated once into `bench-data/` and reused while it exists.
#![allow(dead_code)]

use std::path::PathBuf;

use accessline::domain::Definitions;
use accessline::store::Store;
use accessline::store::demo::{self, DemoOptions};

/// `ACCESSLINE_BENCH_PLAINTEXT=1`: measure on unencrypted databases (the cost of encryption).
pub fn plaintext() -> bool {
    std::env::var("ACCESSLINE_BENCH_PLAINTEXT").is_ok_and(|v| v == "1")
}

/// Open a benchmark database the way the run asks: encrypted with a fixed key, or not.
pub fn open(path: impl AsRef<std::path::Path>) -> Store {
    if plaintext() {
        Store::open_unencrypted(path).unwrap()
    } else {
        Store::open_keyed(path, &accessline::store::DbKey::from_bytes([7; 32])).unwrap()
    }
}

/// Whether criterion is measuring (`cargo bench` passes `--bench`) or smoke-testing.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

pub fn bench_n() -> u64 {
    // `cargo test --all-targets` runs each benchmark once as a smoke test (no `--bench`
    // argument): a small database keeps that quick; `cargo bench` measures at full size.
    std::env::var("ACCESSLINE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring() { 1_000_000 } else { 2_000 })
}

pub fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The shared demo database (`accessline demo --encounters N --seed 1`), generated on first
/// use into a temporary name and renamed when complete, so an interrupted run is never
/// mistaken for a finished one.
pub fn bench_db() -> PathBuf {
    let n = bench_n();
    let dir = bench_dir();
    let kind = if plaintext() { "plain" } else { "keyed" };
    let path = dir.join(format!("store-{n}-{kind}.db"));
    if !path.exists() {
        let partial = dir.join(format!("store-{n}-{kind}.db.partial"));
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
        }
        let mut store = open(&partial);
        let defs = Definitions::builtin().unwrap();
        let stats = demo::generate(
            &mut store,
            &defs,
            &DemoOptions {
                encounters: n,
                seed: 1,
            },
        )
        .unwrap();
        eprintln!(
            "generated {n} encounters into {} in {:.1} s ({:.0}/s)",
            path.display(),
            stats.elapsed.as_secs_f64(),
            n as f64 / stats.elapsed.as_secs_f64()
        );
        drop(store);
        std::fs::rename(&partial, &path).unwrap();
    }
    path
}
