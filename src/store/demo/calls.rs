//! One synthetic call, generated from its own random stream: a draft left unfinished, or a
//! finished call with what happens to it later (review, return, addendum, sync), with its
//! payload hashed, packed and its withheld view made, ready for the writer.

use super::*;
use crate::store::views;

/// What one call produced, ready to write.
pub(super) struct Generated {
    pub(super) id: Uuid,
    pub(super) screener: usize,
    pub(super) received_at: DateTime<Utc>,
    pub(super) body: Body,
}

pub(super) enum Body {
    Draft {
        /// `(key, value as JSON, saved at)` in the order the screener answered.
        fields: Vec<(String, String, DateTime<Utc>)>,
        /// Where the screener stopped, as JSON.
        cursor: String,
        caller_display: String,
    },
    Final {
        finalized_at: DateTime<Utc>,
        payload: String,
        stored: Box<ToStore>,
        summary: Summary,
        events: Vec<(DateTime<Utc>, Event)>,
    },
}

pub(super) enum Event {
    Review {
        revision: u32,
        reviewer: usize,
        decision: Decision,
        note: Option<&'static str>,
    },
    Addendum {
        revision: u32,
        payload: String,
        stored: Box<ToStore>,
        summary: Summary,
        note: &'static str,
    },
    Sync {
        revision: u32,
        state: SyncState,
        error: Option<&'static str>,
    },
}

/// A revision's payload and withheld view as the writer stores them, packed on the generator
/// threads (store::packed) so the one writing thread only writes.
pub(super) struct ToStore {
    /// The payload's SHA-256 (of its text).
    pub(super) sha256: String,
    /// What the dashboard reads from it.
    pub(super) facts: DashboardFacts,
    pub(super) packed: Vec<u8>,
    pub(super) view: views::Prepared,
}

impl ToStore {
    fn new(
        payload: &str,
        sha256: String,
        summary: &Summary,
        facts: DashboardFacts,
    ) -> Box<ToStore> {
        let deadline_at = summary.deadline_at.map(crate::store::model::ts);
        Box::new(ToStore {
            sha256,
            facts,
            packed: crate::store::packed::pack(payload),
            view: match crate::sync::withhold::builtin() {
                Some(policy) => views::Prepared::new(policy, payload, deadline_at.as_deref()),
                None => views::Prepared::NoRow,
            },
        })
    }
}

pub(super) fn generate_one(defs: &Definitions, plan: &Plan, seed: u64, i: u64) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(i);
    let received_at = base_time()
        + Duration::seconds(i as i64 * CALL_SPACING_SECS + rng.random_range(0..CALL_SPACING_SECS));
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    let millis = received_at.timestamp_millis() as u64;
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
    let screener = rng.random_range(0..SCREENERS.len());
    let caller = answers::caller(plan, &mut rng, received_at);
    let body = if rng.random_bool(DRAFT_SHARE) {
        draft_body(defs, plan, &mut rng, &caller, received_at)
    } else {
        final_body(defs, &mut rng, caller, screener, received_at)
    };
    Generated {
        id,
        screener,
        received_at,
        body,
    }
}

/// An unfinished call: the intake and the first answers, in form order, and where it stopped.
fn draft_body(
    defs: &Definitions,
    plan: &Plan,
    rng: &mut ChaCha8Rng,
    c: &answers::Caller,
    received_at: DateTime<Utc>,
) -> Body {
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
    let intake = serde_json::to_value(&c.intake).expect("intake serializes");
    let mut all: Vec<(&str, String, serde_json::Value)> = INTAKE_ORDER
        .iter()
        .filter_map(|k| {
            intake
                .get(*k)
                .map(|v| ("intake", format!("intake.{k}"), v.clone()))
        })
        .collect();
    for (step, inst, item, value) in answers::shown(defs, plan, c) {
        let v = serde_json::to_value(value).expect("an answer serializes");
        all.push((step, format!("answers.{inst}.{item}"), v));
    }
    let done = rng.random_range(1..=all.len());
    let cursor = match all.get(done) {
        Some((step, key, _)) => Cursor {
            step: (*step).to_owned(),
            focus: key.clone(),
        },
        None => Cursor {
            step: "summary".into(),
            focus: "finalize".into(),
        },
    };
    // The queue shows the name the screener typed (`save_field` of the caller's name).
    let caller_display = all[..done]
        .iter()
        .find(|(_, k, _)| k == CALLER_NAME_KEY)
        .and_then(|(_, _, v)| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(ANONYMOUS)
        .to_owned();
    let mut at = received_at;
    let fields = all
        .into_iter()
        .take(done)
        .map(|(_, k, v)| {
            at += Duration::seconds(rng.random_range(5..40));
            (k, v.to_string(), at)
        })
        .collect();
    Body::Draft {
        fields,
        // As `Store::save_cursor` stores it (through a JSON value: keys in order).
        cursor: serde_json::to_value(&cursor)
            .expect("a cursor serializes")
            .to_string(),
        caller_display,
    }
}

/// A finished call and what happens to it later: review, return, addendum, sync.
fn final_body(
    defs: &Definitions,
    rng: &mut ChaCha8Rng,
    c: answers::Caller,
    screener: usize,
    received_at: DateTime<Utc>,
) -> Body {
    let a = answers::assess(defs, rng, c);
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
                        revision: 2,
                        stored: ToStore::new(
                            &payload,
                            crate::store::encounters::payload_sha256(&payload),
                            &a.summary,
                            a.facts,
                        ),
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
        stored: ToStore::new(&a.payload, a.sha256, &a.summary, a.facts),
        payload: a.payload,
        summary: a.summary,
        events,
    }
}
