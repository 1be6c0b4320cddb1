//! Store benchmarks (DESIGN 9: finalize < 10 ms durable; filter/search over 1,000,000 < 50 ms).
//!
//! `cargo bench --bench store` uses a demo database of `ACCESSLINE_BENCH_N` encounters
//! (default 1,000,000), generated once into `bench-data/` and reused while it exists (see
//! `benches/common`, shared with `benches/review.rs`). Databases are encrypted (SQLCipher) as
//! in production; `ACCESSLINE_BENCH_PLAINTEXT=1` measures the same on unencrypted ones, for the
//! cost of encryption (docs/benchmarks.md).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use accessline::domain::Definitions;
use accessline::store::demo::{self, DemoOptions};
use accessline::store::{Actor, ListFilter, ListQuery, ReviewState, Risk, SortBy, Summary};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

fn summary() -> Summary {
    Summary {
        received_at: chrono::Utc::now(),
        caller_display: "Bench Caller".into(),
        language: Some("en".into()),
        age: Some(40),
        cell_computed: None,
        cell_chosen: None,
        risk: Risk::Low,
        triage: None,
        crisis: false,
        deadline_at: None,
        reason: Some("benchmark call about anxiety".into()),
    }
}

/// Durable writes on a fresh database in the same folder (same disk) as the big one.
fn writes(c: &mut Criterion) {
    let parent = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-data");
    std::fs::create_dir_all(&parent).unwrap();
    let dir = tempfile::tempdir_in(parent).unwrap();
    let mut store = common::open(dir.path().join("writes.db"));
    let me = Actor::new("screener.bench", "bench-desk");
    let draft = store.start_draft(&me, chrono::Utc::now()).unwrap();
    let mut n = 0u64;
    c.bench_function("save_answer (one durable transaction)", |b| {
        b.iter(|| {
            n += 1;
            store
                .save_field(
                    &me,
                    draft,
                    &format!("answers.phq9.q{}", n % 10),
                    &json!(n % 4),
                )
                .unwrap();
        })
    });
    let payload = json!({ "schema": "bench/1", "answers": { "phq9": (0..10).map(|i| (format!("q{i}"), json!(i % 4))).collect::<serde_json::Map<_, _>>() }, "pad": "x".repeat(3000) });
    let versions = Definitions::builtin().unwrap().versions();
    c.bench_function("finalize (durable)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let id = store.start_draft(&me, chrono::Utc::now()).unwrap();
                store.save_field(&me, id, "intake.age", &json!(40)).unwrap();
                let t = Instant::now();
                store
                    .finalize(&me, id, &payload, &summary(), &versions)
                    .unwrap();
                total += t.elapsed();
            }
            total
        })
    });
}

fn list(c: &mut Criterion) {
    let store = common::open(common::bench_db());
    let n = common::bench_n();
    let mut g = c.benchmark_group(format!("supervisor list over {n}"));
    let first = ListQuery::default();
    g.bench_function("first page (time)", |b| {
        b.iter(|| store.list(&first).unwrap())
    });
    let mut deep = first.clone();
    for _ in 0..20 {
        deep.after = store.list(&deep).unwrap().next;
    }
    g.bench_function("page 21 (keyset)", |b| {
        b.iter(|| store.list(&deep).unwrap())
    });
    for sort in [SortBy::Risk, SortBy::Deadline] {
        let q = ListQuery {
            sort,
            ..Default::default()
        };
        g.bench_function(format!("first page ({sort:?})"), |b| {
            b.iter(|| store.list(&q).unwrap())
        });
    }
    let filtered = ListQuery {
        filter: ListFilter {
            risk: Some(Risk::Moderate),
            review_state: Some(ReviewState::Awaiting),
            language: Some("es".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(!store.list(&filtered).unwrap().rows.is_empty());
    g.bench_function("filtered page (risk + awaiting + language)", |b| {
        b.iter(|| store.list(&filtered).unwrap())
    });
    let screener = ListQuery {
        filter: ListFilter {
            screener: Some("screener.kim".into()),
            triage: Some(accessline::domain::placement::Triage::Urgent),
            ..Default::default()
        },
        ..Default::default()
    };
    g.bench_function("filtered page (screener + triage)", |b| {
        b.iter(|| store.list(&screener).unwrap())
    });
    for (label, text) in [
        ("search common word", "eviction"),
        ("search rare word", "buprenorphine"),
        ("search + filter", "fentanyl"),
    ] {
        let mut q = ListQuery {
            filter: ListFilter {
                text: Some(text.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        if label == "search + filter" {
            q.filter.language = Some("es".into());
        }
        assert!(!store.list(&q).unwrap().rows.is_empty(), "{text} occurs");
        g.bench_function(label, |b| b.iter(|| store.list(&q).unwrap()));
    }
    g.bench_function("screener's returned items", |b| {
        b.iter(|| store.returned_to("screener.kim").unwrap())
    });
    g.finish();
}

fn generation(c: &mut Criterion) {
    let defs = Definitions::builtin().unwrap();
    let parent = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-data");
    std::fs::create_dir_all(&parent).unwrap();
    let dir = tempfile::tempdir_in(parent).unwrap();
    const N: u64 = 5_000;
    let mut g = c.benchmark_group("demo generation");
    g.sample_size(10).throughput(Throughput::Elements(N));
    let mut run = 0;
    g.bench_function(format!("{N} encounters into a new database"), |b| {
        b.iter(|| {
            run += 1;
            let mut store = common::open(dir.path().join(format!("gen-{run}.db")));
            demo::generate(
                &mut store,
                &defs,
                &DemoOptions {
                    encounters: N,
                    seed: run,
                },
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = writes, list, generation
}
criterion_main!(benches);
