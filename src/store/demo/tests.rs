//! The demo's clinical mix with the real definitions, its determinism, and that what it
//! writes is what the store's own write paths write.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::*;

const N: u64 = 2_000;
const SEED: u64 = 20_250_106;

fn demo(dir: &tempfile::TempDir, name: &str, seed: u64, n: u64) -> Store {
    let mut store = Store::open_unencrypted(dir.path().join(name)).unwrap();
    let defs = Definitions::builtin().unwrap();
    let stats = generate(
        &mut store,
        &defs,
        &DemoOptions {
            encounters: n,
            seed,
        },
    )
    .unwrap();
    assert_eq!(stats.encounters, n);
    store
}

/// SHA-256 over every column of every encounter row, in key order.
fn encounter_table_hash(c: &Connection) -> String {
    let mut st = c
        .prepare("SELECT * FROM encounter ORDER BY encounter_id, revision")
        .unwrap();
    let columns = st.column_count();
    let mut rows = st.query([]).unwrap();
    let mut h = Sha256::new();
    while let Some(r) = rows.next().unwrap() {
        for i in 0..columns {
            h.update(format!("{:?}\u{1f}", r.get_ref(i).unwrap()).as_bytes());
        }
        h.update(b"\x1e");
    }
    hex::encode(h.finalize())
}

/// What the generated calls look like, from the stored payloads of first revisions.
#[derive(Default, Debug)]
struct Mix {
    calls: usize,
    drafts: usize,
    finalized: usize,
    triage: BTreeMap<String, usize>,
    cell: BTreeMap<String, usize>,
    risk: BTreeMap<String, usize>,
    cssrs: BTreeMap<String, usize>,
    phq9_item9: usize,
    sud_positive: usize,
    language: BTreeMap<String, usize>,
    youth: usize,
    crisis: usize,
}

impl Mix {
    fn of(c: &Connection) -> Mix {
        let mut m = Mix::default();
        let mut st = c
            .prepare(
                "SELECT status, triage, cell_computed, risk, language, age, payload
                 FROM encounter WHERE revision = 1",
            )
            .unwrap();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            m.calls += 1;
            if r.get::<_, String>(0).unwrap() == "draft" {
                m.drafts += 1;
                continue;
            }
            m.finalized += 1;
            let text = |i| r.get::<_, String>(i).unwrap();
            let payload = |i| r.get::<_, crate::store::packed::Stored>(i).unwrap().0;
            *m.triage.entry(text(1)).or_default() += 1;
            *m.cell.entry(text(2)).or_default() += 1;
            *m.risk.entry(text(3)).or_default() += 1;
            *m.language.entry(text(4)).or_default() += 1;
            m.youth += usize::from(r.get::<_, u32>(5).unwrap() < 21);
            let p: serde_json::Value = serde_json::from_str(&payload(6)).unwrap();
            m.crisis += usize::from(p["crisis_opened"] == true);
            m.phq9_item9 += usize::from(p["answers"]["phq9"]["q9"].as_i64().unwrap_or(0) > 0);
            let result = |id: &str| {
                p["outcome"]["evaluation"]["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["instrument"] == id)
                    .cloned()
                    .unwrap_or_default()
            };
            let cssrs = result("cssrs_screen")["band"]["id"]
                .as_str()
                .unwrap_or("none")
                .to_owned();
            *m.cssrs.entry(cssrs).or_default() += 1;
            let auditc = result("auditc")["band"]["id"] == "positive";
            let dast = result("dast10")["total"].as_i64().unwrap_or(0) >= 3;
            m.sud_positive += usize::from(auditc || dast);
        }
        m
    }

    /// Per cent of finalized calls.
    fn pct(&self, n: usize) -> f64 {
        100.0 * n as f64 / self.finalized as f64
    }

    fn pct_of(&self, map: &BTreeMap<String, usize>, key: &str) -> f64 {
        self.pct(map.get(key).copied().unwrap_or(0))
    }
}

#[test]
fn the_mix_is_a_county_access_line_s_and_the_same_seed_gives_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(&dir, "a.db", SEED, N);
    let c = store.connection();
    let m = Mix::of(c);
    eprintln!("{m:#?}");
    let within = |what: &str, v: f64, lo: f64, hi: f64| {
        assert!(
            (lo..=hi).contains(&v),
            "{what}: {v:.1} % not in {lo}..{hi} %"
        );
    };
    assert_eq!(m.calls, N as usize);
    within("drafts", 100.0 * m.drafts as f64 / N as f64, 1.0, 8.0);
    within("emergent", m.pct_of(&m.triage, "emergent"), 3.0, 10.0);
    within("urgent", m.pct_of(&m.triage, "urgent"), 10.0, 24.0);
    within("routine", m.pct_of(&m.triage, "routine"), 66.0, 87.0);
    within("crisis protocol", m.pct(m.crisis), 3.0, 10.0);
    within("PHQ-9 item 9 > 0", m.pct(m.phq9_item9), 6.0, 14.0);
    within("C-SSRS moderate", m.pct_of(&m.cssrs, "moderate"), 1.0, 7.0);
    within("C-SSRS high", m.pct_of(&m.cssrs, "high"), 0.5, 6.0);
    within("SUD screen positive", m.pct(m.sud_positive), 17.0, 33.0);
    within("English", m.pct_of(&m.language, "en"), 52.0, 68.0);
    within("Spanish", m.pct_of(&m.language, "es"), 22.0, 34.0);
    assert!(
        m.language.len() >= 6,
        "other threshold languages: {:?}",
        m.language
    );
    within("under 21", m.pct(m.youth), 10.0, 20.0);
    // The grid: every cell, low/low the largest, high/high among the rarest.
    assert_eq!(m.cell.len(), 9, "{:?}", m.cell);
    let largest = m.cell.iter().max_by_key(|(_, n)| **n).unwrap().0;
    assert_eq!(largest, "low_low", "{:?}", m.cell);
    within("low/low", m.pct_of(&m.cell, "low_low"), 30.0, 60.0);
    within("high/high", m.pct_of(&m.cell, "high_high"), 0.5, 6.0);
    // Urgent calls are urgent for a reason a supervisor can see in the risk column mostly.
    within("risk none", m.pct_of(&m.risk, "none"), 60.0, 90.0);
    // Reviews, returns and addenda.
    let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let approved = count("SELECT count(*) FROM review WHERE decision = 'approved'");
    let returned = count("SELECT count(*) FROM review WHERE decision = 'needs_changes'");
    let addenda = count("SELECT count(*) FROM encounter WHERE revision = 2");
    assert!(
        approved > 300 && returned > 30 && addenda > 10,
        "{approved} {returned} {addenda}"
    );
    assert!(
        store.verify().unwrap().is_ok(),
        "{}",
        store.verify().unwrap()
    );

    let hash = encounter_table_hash(c);
    let again = demo(&dir, "b.db", SEED, N);
    assert_eq!(
        encounter_table_hash(again.connection()),
        hash,
        "same seed, same table"
    );
    let other = demo(&dir, "c.db", SEED + 1, 50);
    assert_ne!(encounter_table_hash(other.connection()), hash);
}

/// The store's own write paths, one action at a time, as the live application calls them: the
/// reference the bulk writer must match row for row.
mod reference {
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, HashMap};

    use super::super::super::{encounters, outbox, reviews, search};
    use super::*;
    use crate::store::encounters::NewRevision;
    use crate::store::model::{Actor, CURSOR_KEY, ts};

    pub fn write(store: &mut Store, definitions: &str, calls: Vec<Generated>) {
        let screeners: Vec<Actor> = SCREENERS
            .iter()
            .map(|(u, d)| Actor::new(*u, DEVICES[*d]))
            .collect();
        let supervisors: Vec<Actor> = SUPERVISORS
            .iter()
            .map(|u| Actor::new(*u, DEVICES[0]))
            .collect();
        let mut queue = BinaryHeap::new();
        let mut events = HashMap::new();
        let mut sent: HashMap<(Uuid, u32), (&str, i64)> = HashMap::new();
        let mut order = 0u64;
        let mut last = None;
        let replay = |store: &mut Store,
                      until: DateTime<Utc>,
                      queue: &mut BinaryHeap<Reverse<(DateTime<Utc>, u64)>>,
                      events: &mut HashMap<u64, (Uuid, usize, DateTime<Utc>, Event)>,
                      sent: &mut HashMap<(Uuid, u32), (&str, i64)>| {
            while queue.peek().is_some_and(|Reverse((at, _))| *at <= until) {
                let Reverse((at, n)) = queue.pop().unwrap();
                let (id, screener, received_at, event) = events.remove(&n).unwrap();
                let now = ts(at);
                store
                    .write(|c| {
                        match event {
                            Event::Review {
                                revision,
                                reviewer,
                                decision,
                                note,
                            } => {
                                reviews::add_review(
                                    c,
                                    &supervisors[reviewer],
                                    id,
                                    revision,
                                    decision,
                                    note,
                                    &now,
                                )?;
                                if let Some(note) = note {
                                    search::index_text(c, id, revision, received_at, note)?;
                                }
                            }
                            Event::Addendum {
                                payload,
                                summary,
                                note,
                                ..
                            } => {
                                let rev = NewRevision {
                                    id,
                                    payload: &payload,
                                    summary: &summary,
                                    definitions,
                                    note: Some(note),
                                    now: &now,
                                };
                                let done = encounters::add_addendum(c, &screeners[screener], &rev)?;
                                let text = encounters::search_text(&rev);
                                search::index_text(c, id, done.revision, received_at, &text)?;
                                let device = DEVICES[SCREENERS[screener].1];
                                sent.insert((id, done.revision), (device, done.outbox_seq));
                            }
                            Event::Sync {
                                revision,
                                state,
                                error,
                            } => {
                                if let Some((device, seq)) = sent.remove(&(id, revision)) {
                                    outbox::set_state(c, device, seq, state, error)?;
                                }
                            }
                        }
                        Ok(())
                    })
                    .unwrap();
            }
        };
        for g in calls {
            replay(store, g.received_at, &mut queue, &mut events, &mut sent);
            last = Some(g.received_at);
            let actor = &screeners[g.screener];
            match g.body {
                Body::Draft { fields, cursor, .. } => {
                    let received = ts(g.received_at);
                    store
                        .write(|c| encounters::start_draft(c, actor, g.id, &received, &received))
                        .unwrap();
                    let mut at = g.received_at;
                    for (key, value, saved) in fields {
                        let value: serde_json::Value = serde_json::from_str(&value).unwrap();
                        store
                            .write(|c| {
                                encounters::save_field(c, actor, g.id, &key, &value, &ts(saved))
                            })
                            .unwrap();
                        at = saved;
                    }
                    let cursor: serde_json::Value = serde_json::from_str(&cursor).unwrap();
                    store
                        .write(|c| {
                            encounters::save_field(c, actor, g.id, CURSOR_KEY, &cursor, &ts(at))
                        })
                        .unwrap();
                }
                Body::Final {
                    finalized_at,
                    payload,
                    summary,
                    events: later,
                    ..
                } => {
                    let now = ts(finalized_at);
                    let rev = NewRevision {
                        id: g.id,
                        payload: &payload,
                        summary: &summary,
                        definitions,
                        note: None,
                        now: &now,
                    };
                    let done = store
                        .write(|c| {
                            let done = encounters::finalize(c, actor, &rev)?;
                            let text = encounters::search_text(&rev);
                            search::index_text(c, g.id, 1, g.received_at, &text)?;
                            Ok(done)
                        })
                        .unwrap();
                    let device = DEVICES[SCREENERS[g.screener].1];
                    sent.insert((g.id, 1), (device, done.outbox_seq));
                    for (at, event) in later {
                        order += 1;
                        queue.push(Reverse((at, order)));
                        events.insert(order, (g.id, g.screener, g.received_at, event));
                    }
                }
            }
        }
        if let Some(end) = last {
            replay(store, end, &mut queue, &mut events, &mut sent);
        }
    }
}

/// Every row of a table, in primary-key order, as text.
fn rows(c: &Connection, table: &str, key: &str) -> Vec<String> {
    let mut st = c
        .prepare(&format!("SELECT * FROM {table} ORDER BY {key}"))
        .unwrap();
    let columns = st.column_count();
    let mut rows = st.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        let row: Vec<String> = (0..columns)
            .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
            .collect();
        out.push(row.join(" | "));
    }
    out
}

#[test]
fn the_bulk_writer_writes_what_the_store_s_own_write_paths_write() {
    const CALLS: u64 = 400;
    let dir = tempfile::tempdir().unwrap();
    let bulk = demo(&dir, "bulk.db", SEED, CALLS);
    let defs = Definitions::builtin().unwrap();
    let plan = Plan::new(&defs);
    let definitions = serde_json::to_string(&defs.versions()).unwrap();
    let calls = (0..CALLS)
        .map(|i| generate_one(&defs, &plan, SEED, i))
        .collect();
    let mut live = Store::open_unencrypted(dir.path().join("live.db")).unwrap();
    reference::write(&mut live, &definitions, calls);
    for (table, key) in [
        ("encounter", "encounter_id, revision"),
        ("draft_field", "encounter_id, key"),
        ("encounter_state", "encounter_id, revision"),
        ("review", "review_id"),
        ("audit", "seq"),
        ("outbox", "device, seq"),
        ("search_doc", "doc"),
        ("dashboard_fact", "received_at, encounter_id, revision"),
        ("dashboard_day", "day, dimension, value"),
        ("outbox_count", "state"),
        ("encounter_view", "encounter_id, revision"),
    ] {
        let (b, l) = (
            rows(bulk.connection(), table, key),
            rows(live.connection(), table, key),
        );
        assert!(!b.is_empty(), "{table} has rows");
        assert_eq!(b.len(), l.len(), "{table}: row count");
        for (b, l) in b.iter().zip(&l) {
            assert_eq!(b, l, "{table}");
        }
    }
    for word in ["eviction", "fentanyl", "callback", "interpreter", "suicide"] {
        let hits = |c: &Connection| -> Vec<i64> {
            let mut st = c
                .prepare("SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 ORDER BY rowid")
                .unwrap();
            st.query_map([word], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(hits(bulk.connection()), hits(live.connection()), "{word}");
    }
    assert!(live.verify().unwrap().is_ok());
    // Written without triggers, checked afterwards: the kept counts are recounts.
    let report = bulk.verify().unwrap();
    assert!(report.is_ok(), "{report}");
}
