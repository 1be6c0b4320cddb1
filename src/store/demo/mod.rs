//! `accessline demo --encounters N [--seed S]`: fill a database with realistic synthetic
//! encounters, built through the real domain code and written through the store's own write
//! paths (so triggers, audit chain and outbox are exactly as in live use).
//!
//! Deterministic: encounter `i` draws from its own ChaCha stream `(seed, i)` and all times
//! come from a fixed base, so the same seed gives the same database content; the streams also
//! let encounters be generated on worker threads while one thread writes, in order, many
//! encounters per transaction (per-answer transactions are for the live UI, not a generator).
//! Reviews, addenda and sync results are events with their own times, applied in time order
//! as the call stream passes them; those still in the future at the end have not happened.

mod answers;
mod caller;
mod writer;

use std::sync::mpsc::sync_channel;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::Store;
use super::error::{Result, StoreError};
use super::model::{Cursor, Decision, Summary, SyncState};
use crate::domain::Definitions;
use answers::{Plan, minutes};

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
/// Encounters per transaction.
const BATCH: u64 = 5_000;

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

/// What one call produced, ready to write.
struct Generated {
    id: Uuid,
    screener: usize,
    received_at: DateTime<Utc>,
    body: Body,
}

enum Body {
    Draft {
        fields: Vec<(String, serde_json::Value, DateTime<Utc>)>,
        cursor: Cursor,
    },
    Final {
        finalized_at: DateTime<Utc>,
        payload: String,
        summary: Summary,
        events: Vec<(DateTime<Utc>, Event)>,
    },
}

enum Event {
    Review {
        revision: u32,
        reviewer: usize,
        decision: Decision,
        note: Option<&'static str>,
    },
    Addendum {
        payload: String,
        summary: Summary,
        note: &'static str,
    },
    Sync {
        revision: u32,
        state: SyncState,
        error: Option<&'static str>,
    },
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
    let batches = opts.encounters.div_ceil(BATCH);
    // One core writes; the others generate. More generators than spare cores would only take
    // time from the writer, which is the slower side.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .clamp(1, 4) as u64;
    // Bulk loading touches index pages all over: a larger page cache while it runs.
    store.conn.pragma_update(None, "cache_size", -262_144)?;
    let result = std::thread::scope(|scope| {
        let mut inbox = Vec::new();
        for w in 0..workers {
            let (tx, rx) = sync_channel::<Vec<Generated>>(2);
            inbox.push(rx);
            let plan = &plan;
            scope.spawn(move || {
                for b in (w..batches).step_by(workers as usize) {
                    let end = ((b + 1) * BATCH).min(opts.encounters);
                    let batch = (b * BATCH..end)
                        .map(|i| generate_one(defs, plan, opts.seed, i))
                        .collect();
                    if tx.send(batch).is_err() {
                        return; // the writer stopped
                    }
                }
            });
        }
        let mut w = writer::Writer::new(definitions);
        for b in 0..batches {
            let batch = inbox[(b % workers) as usize]
                .recv()
                .map_err(|_| StoreError::Invalid {
                    what: "demo",
                    problem: "an encounter generator thread failed".into(),
                })?;
            store.write(|tx| w.write_batch(tx, batch))?;
        }
        store.write(|tx| w.finish(tx))?;
        Ok::<_, StoreError>(w.stats)
    });
    store.conn.pragma_update(None, "cache_size", -2_000)?;
    let mut stats = result?;
    // Leave everything in the main file, so equal seeds give equal files.
    store
        .conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    stats.elapsed = started.elapsed();
    Ok(stats)
}

fn generate_one(defs: &Definitions, plan: &Plan, seed: u64, i: u64) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(i);
    let received_at = base_time()
        + Duration::seconds(i as i64 * CALL_SPACING_SECS + rng.random_range(0..CALL_SPACING_SECS));
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    let millis = received_at.timestamp_millis() as u64;
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
    let screener = rng.random_range(0..SCREENERS.len());
    let a = answers::assess(defs, plan, &mut rng, received_at);
    let body = if rng.random_bool(0.05) {
        draft_body(&mut rng, &a, received_at)
    } else {
        final_body(&mut rng, a, screener, received_at)
    };
    Generated {
        id,
        screener,
        received_at,
        body,
    }
}

/// An unfinished call: the intake and the first answers, in form order, and where it stopped.
fn draft_body(rng: &mut ChaCha8Rng, a: &answers::Assessed, received_at: DateTime<Utc>) -> Body {
    const INTAKE_ORDER: &[&str] = &[
        "caller_type",
        "anonymous",
        "caller_name",
        "callback_number",
        "age",
        "date_of_birth",
        "sex",
        "language",
        "interpreter",
        "medi_cal",
        "zip",
        "reason",
    ];
    let intake = serde_json::to_value(&a.intake).expect("intake serializes");
    let mut all: Vec<(String, String, serde_json::Value)> = INTAKE_ORDER
        .iter()
        .filter_map(|k| {
            intake
                .get(*k)
                .map(|v| ("intake".to_owned(), format!("intake.{k}"), v.clone()))
        })
        .collect();
    for (step, inst, item) in &a.shown {
        let v = serde_json::to_value(a.answers[inst][item]).expect("answer serializes");
        all.push((step.clone(), format!("answers.{inst}.{item}"), v));
    }
    let done = rng.random_range(1..=all.len());
    let cursor = match all.get(done) {
        Some((step, key, _)) => Cursor {
            step: step.clone(),
            focus: key.clone(),
        },
        None => Cursor {
            step: "summary".into(),
            focus: "finalize".into(),
        },
    };
    let mut at = received_at;
    let fields = all
        .into_iter()
        .take(done)
        .map(|(_, k, v)| {
            at += Duration::seconds(rng.random_range(5..40));
            (k, v, at)
        })
        .collect();
    Body::Draft { fields, cursor }
}

/// A finished call and what happens to it later: review, return, addendum, sync.
fn final_body(
    rng: &mut ChaCha8Rng,
    a: answers::Assessed,
    screener: usize,
    received_at: DateTime<Utc>,
) -> Body {
    let finalized_at = received_at + minutes(rng, 8, 40);
    let mut events = Vec::new();
    let field = SCREENERS[screener].1 == 1;
    let sync_delay = |rng: &mut ChaCha8Rng| {
        if field {
            minutes(rng, 24 * 60, 5 * 24 * 60)
        } else {
            minutes(rng, 5, 60)
        }
    };
    let sync_result = |rng: &mut ChaCha8Rng| match rng.random_range(0..1000) {
        0..3 => (
            SyncState::Conflict,
            Some("the server holds a different payload for this revision"),
        ),
        3..33 => (SyncState::Exported, None),
        _ => (SyncState::Acknowledged, None),
    };
    let (state, error) = sync_result(rng);
    events.push((
        finalized_at + sync_delay(rng),
        Event::Sync {
            revision: 1,
            state,
            error,
        },
    ));
    if rng.random_bool(0.6) {
        let reviewer = rng.random_range(0..SUPERVISORS.len());
        let reviewed = finalized_at + minutes(rng, 120, 30 * 60);
        if rng.random_bool(0.12) {
            let (note, correction) = caller::return_note(rng);
            events.push((
                reviewed,
                Event::Review {
                    revision: 1,
                    reviewer,
                    decision: Decision::NeedsChanges,
                    note: Some(note),
                },
            ));
            if rng.random_bool(0.85) {
                let amended = reviewed + minutes(rng, 60, 24 * 60);
                let payload = answers::corrected(&a.payload, correction);
                events.push((
                    amended,
                    Event::Addendum {
                        payload,
                        summary: a.summary.clone(),
                        note: correction,
                    },
                ));
                let (state, error) = sync_result(rng);
                events.push((
                    amended + sync_delay(rng),
                    Event::Sync {
                        revision: 2,
                        state,
                        error,
                    },
                ));
                if rng.random_bool(0.7) {
                    let again = amended + minutes(rng, 120, 30 * 60);
                    events.push((
                        again,
                        Event::Review {
                            revision: 2,
                            reviewer,
                            decision: Decision::Approved,
                            note: None,
                        },
                    ));
                }
            }
        } else {
            events.push((
                reviewed,
                Event::Review {
                    revision: 1,
                    reviewer,
                    decision: Decision::Approved,
                    note: None,
                },
            ));
        }
    }
    Body::Final {
        finalized_at,
        payload: a.payload,
        summary: a.summary,
        events,
    }
}
