//! [`Counts`] and [`day_mismatches`] against the triggers themselves.

use rusqlite::config::DbConfig;

use super::*;
use crate::store::Store;

/// (received_at, cell, risk, triage, crisis, language, deadline, interpreter, warm, actions)
type Row = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    bool,
    Option<&'static str>,
    Option<&'static str>,
    bool,
    bool,
    i64,
);

/// Facts covering every branch: no cell, no risk, no triage, no language, crisis,
/// interpreter, met by warm hand-off, met by emergent crisis actions, no deadline, open.
const FACTS: &[Row] = &[
    (
        "2025-01-06T16:00:00Z",
        Some("2a"),
        Some("moderate"),
        Some("routine"),
        false,
        Some("en"),
        Some("2025-01-16T16:00:00Z"),
        false,
        false,
        0,
    ),
    (
        "2025-01-06T17:00:00Z",
        None,
        None,
        None,
        false,
        None,
        None,
        false,
        false,
        0,
    ),
    (
        "2025-01-06T18:00:00Z",
        Some("3c"),
        Some("imminent"),
        Some("emergent"),
        true,
        Some("es"),
        Some("2025-01-06T18:30:00Z"),
        true,
        false,
        2,
    ),
    (
        "2025-01-06T19:00:00Z",
        Some("1a"),
        Some("low"),
        Some("urgent"),
        false,
        Some("en"),
        None,
        false,
        false,
        0,
    ),
    (
        "2025-01-07T08:00:00Z",
        Some("2b"),
        Some("high"),
        Some("urgent"),
        true,
        Some("ko"),
        Some("2025-01-09T08:00:00Z"),
        true,
        true,
        0,
    ),
    (
        "2025-01-07T09:00:00Z",
        Some("2a"),
        Some("moderate"),
        Some("emergent"),
        false,
        Some("en"),
        Some("2025-01-07T10:00:00Z"),
        false,
        false,
        0,
    ),
];

fn insert(c: &Connection, n: usize, f: &Row) {
    c.execute(
        &format!(
            "INSERT INTO dashboard_fact (encounter_id, revision, {FACT_COLUMNS})
             VALUES ('e{n}', 1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![f.0, f.1, f.2, f.3, f.4, f.5, f.6, f.7, f.8, f.9],
    )
    .unwrap();
}

fn table(c: &Connection, sql: &str) -> Vec<String> {
    let mut st = c.prepare(sql).unwrap();
    let columns = st.column_count();
    st.query_map([], |r| {
        Ok((0..columns)
            .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
            .collect::<Vec<_>>()
            .join(" | "))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The same inserts and deletes, in the same transactions, with the triggers and with
/// [`Counts`]: the same `dashboard_day` and `outbox_count`, rows of 0 included.
#[test]
fn the_counts_are_what_the_triggers_keep() {
    let with = Store::open_in_memory().unwrap();
    let without = Store::open_in_memory().unwrap();
    let (w, wo) = (with.connection(), without.connection());
    wo.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
        .unwrap();
    let mut counts = Counts::default();
    // Transaction 1: every fact in, and the first one out again (its pairs fall to 0).
    // Transaction 2: a fact from transaction 1 out, and an outbox entry through states.
    for c in [w, wo] {
        // The facts and the outbox entry stand alone, with no encounter rows.
        c.execute_batch("PRAGMA foreign_keys = OFF; BEGIN").unwrap();
        for (n, f) in FACTS.iter().enumerate() {
            insert(c, n, f);
        }
    }
    for &(received_at, cell_chosen, risk, triage, crisis, language, deadline, i, w, a) in FACTS {
        let fact = Fact {
            received_at,
            cell_chosen,
            risk,
            triage,
            crisis,
            language,
            has_deadline: deadline.is_some(),
            interpreter: i,
            warm_handoff: w,
            crisis_actions: a,
        };
        counts.fact(&fact, 1);
    }
    let delete = |c: &Connection, n: usize, counts: Option<&mut Counts>| {
        let mut st = c
            .prepare(&format!(
                "DELETE FROM dashboard_fact WHERE encounter_id = ?1 RETURNING {FACT_COLUMNS}"
            ))
            .unwrap();
        let mut rows = st.query([format!("e{n}")]).unwrap();
        let r = rows.next().unwrap().unwrap();
        if let Some(counts) = counts {
            counts.fact(&Fact::from_row(r).unwrap(), -1);
        }
    };
    delete(w, 0, None);
    delete(wo, 0, Some(&mut counts));
    counts.write(wo).unwrap();
    for c in [w, wo] {
        c.execute_batch("COMMIT; BEGIN").unwrap();
        c.execute(
            "INSERT INTO outbox (device, seq, kind, encounter_id, revision, created_at)
             VALUES ('d', 1, 'encounter', 'e1', 1, '2025-01-06T17:00:00Z')",
            [],
        )
        .unwrap();
        c.execute(
            "UPDATE outbox SET state = 'exported' WHERE device = 'd' AND seq = 1",
            [],
        )
        .unwrap();
    }
    delete(w, 3, None);
    delete(wo, 3, Some(&mut counts));
    counts.outbox("pending", 1);
    counts.outbox("pending", -1);
    counts.outbox("exported", 1);
    counts.write(wo).unwrap();
    for c in [w, wo] {
        c.execute_batch("COMMIT").unwrap();
    }
    let days = "SELECT * FROM dashboard_day ORDER BY day, dimension, value";
    let (a, b) = (table(w, days), table(wo, days));
    assert!(a.iter().any(|r| r.ends_with("Integer(0)")), "{a:#?}");
    assert!(a.len() > 20, "{a:#?}");
    assert_eq!(a, b);
    assert_eq!(day_mismatches(w).unwrap(), []);
    assert_eq!(day_mismatches(wo).unwrap(), []);
    // A kept count changed, and one deleted: both are found, with what the recount says.
    w.execute_batch(
        "UPDATE dashboard_day SET n = n + 2
         WHERE day = '2025-01-07' AND dimension = 'cell' AND value = '2b';
         DELETE FROM dashboard_day
         WHERE day = '2025-01-06' AND dimension = 'language' AND value = 'es'",
    )
    .unwrap();
    let found = day_mismatches(w).unwrap();
    let brief: Vec<_> = found
        .iter()
        .map(|m| {
            (
                m.day.as_str(),
                m.dimension.as_str(),
                m.value.as_str(),
                m.kept,
                m.counted,
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("2025-01-06", "language", "es", 0, 1),
            ("2025-01-07", "cell", "2b", 3, 1)
        ]
    );
    let outbox = "SELECT * FROM outbox_count ORDER BY state";
    assert_eq!(table(w, outbox), table(wo, outbox));
    assert_eq!(
        table(w, "SELECT n FROM outbox_count WHERE state = 'exported'"),
        ["Integer(1)"]
    );
}
