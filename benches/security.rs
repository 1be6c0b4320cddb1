//! Sign-in cost (issue 7): Argon2id unwrap of a key-file slot at the production parameters,
//! plus opening the encrypted database with the unwrapped key (`PRAGMA key` + the first read).
//! Under `cargo test --all-targets` (no `--bench`) it runs once with cheap parameters as a
//! smoke test.

use std::time::Duration;

use accessline::security::{self, KdfParams, Vault};
use accessline::store::Store;
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};

fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn benches(c: &mut Criterion) {
    let params = if measuring() {
        KdfParams::default()
    } else {
        KdfParams::insecure_for_tests()
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let mut vault = Vault::for_db(&db).unwrap();
    vault.set_kdf_params(params);
    let (mut store, admin) = security::first_run(
        &mut vault,
        &db,
        "admin",
        "Admin",
        "bench passphrase",
        Utc::now(),
    )
    .unwrap();
    accessline::store::demo::generate(
        &mut store,
        &accessline::domain::Definitions::builtin().unwrap(),
        &accessline::store::demo::DemoOptions {
            encounters: 200,
            seed: 1,
        },
    )
    .unwrap();
    drop(store);
    let key = vault.secret().cloned().unwrap();
    let _ = admin;

    let mut g = c.benchmark_group("security");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function(
        format!(
            "sign_in (Argon2id m={} KiB t={} p={} + keyed open + audit row)",
            params.m_kib, params.t, params.p
        ),
        |b| {
            b.iter(|| {
                let mut v = Vault::for_db(&db).unwrap();
                let (store, p) =
                    security::sign_in(&mut v, &db, "admin", "bench passphrase", Utc::now())
                        .unwrap();
                assert!(p.role.is_admin());
                drop(store);
            })
        },
    );
    g.bench_function("open_keyed (PRAGMA key + first read, no KDF)", |b| {
        b.iter(|| Store::open_keyed(&db, &key).unwrap())
    });
    g.finish();

    // The candidates weighed for the production cost (docs/security.md), derivation only.
    let mut g = c.benchmark_group("argon2id");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    let candidates: &[(u32, u32)] = if measuring() {
        &[
            (19 * 1024, 2),
            (32 * 1024, 3),
            (32 * 1024, 4),
            (46 * 1024, 2),
            (64 * 1024, 3),
        ]
    } else {
        &[(8, 1)]
    };
    for &(m_kib, t) in candidates {
        let params = argon2::Params::new(m_kib, t, 1, Some(32)).unwrap();
        let kdf = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        g.bench_function(format!("m={m_kib} KiB t={t} p=1"), |b| {
            b.iter(|| {
                let mut out = [0u8; 32];
                kdf.hash_password_into(b"123456", &[7u8; 16], &mut out)
                    .unwrap();
                out
            })
        });
    }
    g.finish();
}

criterion_group!(security_benches, benches);
criterion_main!(security_benches);
