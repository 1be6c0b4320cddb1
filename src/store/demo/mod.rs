//! `accessline demo --encounters N [--seed S]`: fill a database with realistic synthetic
//! encounters, built through the real domain code (`Definitions::outcome`, whose `score_all`
//! also decides which answers a screener would have recorded) and written as the store's own
//! write paths write them (see `writer`), so triggers, audit chain and outbox are as in live
//! use and `accessline verify` passes.
//!
//! Deterministic: encounter `i` draws from its own ChaCha stream `(seed, i)` and all times
//! come from a fixed base, so the same seed gives the same database file whatever the thread
//! scheduling. The streams let encounters be generated on worker threads (one per core) while
//! one thread writes them, in order, many per transaction. Reviews, addenda and sync results
//! are events with their own times, applied in time order as the call stream passes them;
//! those still in the future at the end have not happened.
//!
//! Speed: the one writing thread is the limit (SQLite and its page cipher, about 80 µs a call
//! at a million); the generators (one `Definitions::outcome`, the payload, its view, hashes
//! and packing per call) keep ahead of it. See `docs/benchmarks.md`. The load runs with
//! triggers off, writing their rows itself, and into a brand-new database also with a rollback
//! journal, `synchronous=OFF` and foreign-key checks off; `verify` checks all of it afterwards
//! (`BulkLoad`), and the live settings are restored at the end.

mod answers;
mod caller;
mod calls;
mod plan;
mod writer;

use std::sync::mpsc::sync_channel;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::Connection;
use rusqlite::config::DbConfig;
use uuid::Uuid;

use super::Store;
use super::error::{Result, StoreError};
use super::model::{ANONYMOUS, CALLER_NAME_KEY, Cursor, Decision, Summary, SyncState};
use crate::domain::Definitions;
use answers::{DashboardFacts, minutes};
use calls::{Body, Event, Generated, ToStore, generate_one};
use plan::Plan;

/// Screeners and the device each works on (index into [`DEVICES`]).
pub const SCREENERS: &[(&str, usize)] = &[
    ("screener.alvarez", 0),
    ("screener.nguyen", 0),
    ("screener.kim", 0),
    ("screener.johnson", 0),
    ("screener.petrosyan", 1),
    ("screener.reyes", 1),
];
pub const SUPERVISORS: &[&str] = &["supervisor.lee", "supervisor.martinez"];
/// The call centre's desk, and a field laptop that is offline for days at a time.
pub const DEVICES: &[&str] = &["hq-desk-01", "field-laptop-02"];

/// The first call: Monday 6 January 2025, 8 a.m. in Los Angeles.
pub fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 16, 0, 0)
        .single()
        .expect("valid time")
}

/// One call a minute on average: 1,000,000 encounters span about two years.
const CALL_SPACING_SECS: i64 = 60;
/// Encounters a generator thread hands over at a time.
const CHUNK: u64 = 1_000;
/// Chunks per write transaction.
const CHUNKS_PER_TX: u64 = 40;
/// Share of calls left unfinished (drafts).
const DRAFT_SHARE: f64 = 0.04;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub encounters: u64,
    pub seed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoStats {
    pub encounters: u64,
    pub finalized: u64,
    pub drafts: u64,
    pub reviews: u64,
    pub returned: u64,
    pub addenda: u64,
    pub elapsed: StdDuration,
}

/// Fill `store` with `opts.encounters` synthetic encounters.
pub fn generate(store: &mut Store, defs: &Definitions, opts: &DemoOptions) -> Result<DemoStats> {
    let started = Instant::now();
    let plan = Plan::new(defs);
    let definitions = serde_json::to_string(&defs.versions()).expect("a string map serializes");
    if opts.encounters > 0 {
        // Ids come from the seed: the same seed twice would collide half-way through a batch.
        let first = generate_one(defs, &plan, opts.seed, 0).id;
        if super::encounters::latest(&store.conn, first)?.is_some() {
            return Err(StoreError::Invalid {
                what: "demo seed",
                problem: format!(
                    "seed {} was already generated into this database; pick another --seed",
                    opts.seed
                ),
            });
        }
    }
    let bulk = BulkLoad::begin(&store.conn)?;
    let result = fill(store, defs, &plan, definitions, opts);
    let restored = bulk.end(&store.conn);
    let mut stats = result?;
    restored?;
    // Leave everything in the main file, so equal seeds give equal files.
    store
        .conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// The payloads (and withheld views) of the first `n` calls of `seed` that finalize: the
/// samples `payload-1.zdict` was trained on (`store::packed`).
#[cfg(test)]
pub(crate) fn sample_payloads(defs: &Definitions, seed: u64, n: u64) -> Vec<String> {
    let plan = Plan::new(defs);
    let policy = crate::sync::withhold::builtin().expect("the built-in withholding policy");
    let mut out = Vec::new();
    for i in 0..n {
        if let Body::Final {
            payload, events, ..
        } = generate_one(defs, &plan, seed, i).body
        {
            let addenda = events.into_iter().filter_map(|(_, e)| match e {
                Event::Addendum { payload, .. } => Some(payload),
                _ => None,
            });
            for p in std::iter::once(payload).chain(addenda) {
                if let Ok(Some(view)) = policy.view(&p, None) {
                    out.push(view.payload);
                }
                out.push(p);
            }
        }
    }
    out
}

/// Generate on one thread per core, write on this one.
fn fill(
    store: &mut Store,
    defs: &Definitions,
    plan: &Plan,
    definitions: String,
    opts: &DemoOptions,
) -> Result<DemoStats> {
    let chunks = opts.encounters.div_ceil(CHUNK);
    // As many generators as cores: the writer needs less than a core, and blocks (leaving its
    // core to them) whenever it has caught up.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8) as u64;
    std::thread::scope(|scope| {
        let mut inbox = Vec::new();
        for w in 0..workers {
            let (tx, rx) = sync_channel::<Vec<Generated>>(2);
            inbox.push(rx);
            scope.spawn(move || {
                for b in (w..chunks).step_by(workers as usize) {
                    let end = ((b + 1) * CHUNK).min(opts.encounters);
                    let chunk = (b * CHUNK..end)
                        .map(|i| generate_one(defs, plan, opts.seed, i))
                        .collect();
                    if tx.send(chunk).is_err() {
                        return; // the writer stopped
                    }
                }
            });
        }
        let mut w = writer::Writer::new(definitions);
        let mut next = 0;
        while next < chunks {
            let upto = (next + CHUNKS_PER_TX).min(chunks);
            // Each chunk is written as it arrives, so writing overlaps generating.
            let received = (next..upto).map(|b| {
                inbox[(b % workers) as usize]
                    .recv()
                    .map_err(|_| StoreError::Invalid {
                        what: "demo",
                        problem: "an encounter generator thread failed".into(),
                    })
            });
            store.write(|tx| w.write_batch(tx, received))?;
            next = upto;
        }
        store.write(|tx| w.finish(tx))?;
        Ok(w.stats)
    })
}

/// Settings for loading a database fast, and putting the live ones back.
///
/// Triggers are off for this connection while it loads (other connections keep them): the
/// writer writes what they would have, the superseded revision's dashboard row deleted and the
/// counts of `dashboard_day` and `outbox_count` (`store::counts`), and never does what the
/// guarding ones refuse (it only inserts, and updates sync and review states). A trigger
/// costs more than its own rows: a statement that fires one calling an SQL function keeps a
/// statement journal, a copy of every page it changes.
///
/// A database with no audit row has never been written, so nobody can lose anything in it:
/// there the load also uses a rollback journal (new pages are not journaled, where WAL writes
/// every page twice), `synchronous=OFF` (an interrupted load is simply run again), and no
/// foreign-key or CHECK constraint checks (the rows are the live write paths' rows, see
/// `writer`; `verify` checks both afterwards: `foreign_key_check` and `integrity_check`). Any
/// other database keeps its live settings: WAL, `synchronous=FULL`, all checks on.
struct BulkLoad {
    fresh: bool,
}

impl BulkLoad {
    fn begin(c: &Connection) -> Result<BulkLoad> {
        let fresh: bool =
            c.query_row("SELECT NOT EXISTS (SELECT 1 FROM audit)", [], |r| r.get(0))?;
        // Bulk loading touches index pages all over: a larger page cache while it runs.
        c.pragma_update(None, "cache_size", -524_288)?;
        if fresh {
            // Another connection on the file keeps it in WAL; the load still works, slower.
            let _: String =
                c.pragma_update_and_check(None, "journal_mode", "TRUNCATE", |r| r.get(0))?;
            c.pragma_update(None, "synchronous", "OFF")?;
            c.pragma_update(None, "foreign_keys", "OFF")?;
            c.pragma_update(None, "ignore_check_constraints", "ON")?;
        }
        c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
        Ok(BulkLoad { fresh })
    }

    /// The settings `store::open` chose (WAL before `synchronous`, so switching back does not
    /// wait for the whole file to reach the disk).
    fn end(self, c: &Connection) -> Result<()> {
        c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, true)?;
        if self.fresh {
            let mode: String =
                c.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Invalid {
                    what: "demo",
                    problem: format!("could not return the database to WAL (it is {mode})"),
                });
            }
            c.pragma_update(None, "synchronous", "FULL")?;
            c.pragma_update(None, "foreign_keys", "ON")?;
            c.pragma_update(None, "ignore_check_constraints", "OFF")?;
        }
        c.pragma_update(None, "cache_size", -2_000)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
