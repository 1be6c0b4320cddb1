use super::*;
use crate::domain::Definitions;
use crate::store::Store;
use crate::store::demo::{self, DemoOptions};
use crate::store::search::CURRENT;

/// The dashboard as it was computed before `dashboard_fact`: every payload read per query.
fn from_payloads(
    c: &Connection,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Dashboard {
    let sql = format!(
        "SELECT e.cell_chosen, e.risk, e.triage, e.crisis, e.language, e.deadline_at,
                coalesce(json_extract(payload_text(e.payload), '$.intake.interpreter'), 0),
                coalesce((SELECT max(coalesce(json_extract(r.value, '$.warm_handoff'), 0))
                          FROM json_each(payload_text(e.payload), '$.referrals') r),
                         json_extract(payload_text(e.payload), '$.referral.warm_handoff'), 0),
                (SELECT count(*) FROM json_each(payload_text(e.payload), '$.crisis.actions'))
         FROM encounter e
         WHERE e.received_at >= ?1 AND e.received_at < ?2 AND e.status = 'finalized'
           AND {CURRENT}"
    );
    let mut st = c.prepare(&sql).unwrap();
    let rows = st.query(params![ts(from), ts(before)]).unwrap();
    count(rows, now).unwrap()
}

/// The per-day counts as migration 0008 backfills them, recounted from every fact.
fn recount(c: &Connection) -> Vec<(String, String, String, i64)> {
    let sql = include_str!("../sql/0008_dashboard_days.sql");
    let start = sql
        .find("INSERT INTO dashboard_day (day, dimension, value, n)\nSELECT day,")
        .expect("the backfill");
    let end = start + sql[start..].find(';').expect("its end");
    let backfill =
        sql[start..end].replace("INSERT INTO dashboard_day (day, dimension, value, n)", "");
    let mut st = c
        .prepare(&format!("SELECT * FROM ({backfill}) ORDER BY 1, 2, 3"))
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn kept(c: &Connection) -> Vec<(String, String, String, i64)> {
    let mut st = c
        .prepare("SELECT day, dimension, value, n FROM dashboard_day WHERE n <> 0 ORDER BY 1, 2, 3")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// Periods cutting through the data at midnights and between them, from hours to all of it,
/// each judged at several moments: the dashboard equals the one read from every payload.
fn check_periods(c: &Connection) {
    let start = demo::base_time();
    let h = chrono::Duration::hours;
    let periods = [
        (h(0), h(10_000)),
        (h(0), h(24)),
        (h(20), h(12)),
        (h(30), h(1)),
        (h(8), h(48)),
        (h(5), h(24 * 30 + 3)),
        (h(-16), h(24 * 3)),
    ];
    let mut with_calls = 0;
    for now in [
        start + chrono::Duration::days(7),
        start + h(30),
        start + h(500),
    ] {
        for (from, len) in periods {
            let from = start + from;
            let before = from + len;
            let want = from_payloads(c, from, before, now);
            with_calls += usize::from(want.total > 0);
            assert_eq!(
                dashboard(c, from, before, now).unwrap(),
                want,
                "{from} {before} {now}"
            );
        }
        // "All calls", as the screen asks for it.
        let (from, before) = (
            DateTime::<Utc>::UNIX_EPOCH,
            start + chrono::Duration::days(400),
        );
        assert_eq!(
            dashboard(c, from, before, now).unwrap(),
            from_payloads(c, from, before, now)
        );
    }
    assert!(with_calls >= 12, "most periods hold calls ({with_calls})");
}

#[test]
fn the_dashboard_from_its_facts_equals_the_dashboard_from_the_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_unencrypted(dir.path().join("d.db")).unwrap();
    let defs = Definitions::builtin().unwrap();
    demo::generate(
        &mut store,
        &defs,
        &DemoOptions {
            encounters: 3_000,
            seed: 7,
        },
    )
    .unwrap();
    let c = store.connection();
    let addenda: i64 = c
        .query_row(
            "SELECT count(*) FROM encounter WHERE revision > 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(addenda > 10, "the demo wrote addenda ({addenda})");
    // The bulk writer's facts went through the per-day triggers.
    assert_eq!(kept(c), recount(c));
    assert!(kept(c).len() > 50);
    check_periods(c);
    let start = demo::base_time();
    let now = start + chrono::Duration::days(7);
    let all = dashboard(c, start, start + chrono::Duration::days(400), now).unwrap();
    assert!(all.interpreter > 0 && all.crisis > 0, "{all:?}");
    let t = all.timeliness.values().fold((0, 0, 0), |a, t| {
        (a.0 + t.met, a.1 + t.missed, a.2 + t.pending)
    });
    assert!(
        t.0 > 0 && t.1 > 0 && t.2 > 0,
        "met, missed and pending: {t:?}"
    );
}

/// Through the store's own write paths: returns, and addenda that move a call to another
/// cell, risk, language, triage and deadline, and make a deadline met — the per-day counts
/// follow (the superseded revision leaves them, the addendum enters them).
#[test]
fn the_per_day_counts_follow_addenda_and_returns() {
    use crate::domain::placement::Triage;
    use crate::store::model::{Actor, Decision};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_unencrypted(dir.path().join("d.db")).unwrap();
    let defs = Definitions::builtin().unwrap();
    demo::generate(
        &mut store,
        &defs,
        &DemoOptions {
            encounters: 1_000,
            seed: 3,
        },
    )
    .unwrap();
    let ids: Vec<String> = {
        let mut st = store
            .connection()
            .prepare(
                "SELECT encounter_id FROM dashboard_fact WHERE triage IS NOT NULL
                 ORDER BY received_at LIMIT 40",
            )
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let boss = Actor::new("supervisor.lee", "dev-hub");
    for (i, id) in ids.iter().enumerate() {
        let id: uuid::Uuid = id.parse().unwrap();
        let rec = store.encounter(id, None).unwrap();
        if i % 2 == 0 {
            store
                .add_review(
                    &boss,
                    id,
                    rec.revision,
                    Decision::NeedsChanges,
                    Some("Check the placement"),
                )
                .unwrap();
        }
        let mut s = rec.summary.clone();
        s.risk = Risk::ALL[i % Risk::ALL.len()];
        s.cell_chosen = crate::domain::quadrant::CellId::all().nth(i % 9);
        s.language = (i % 3 != 0).then(|| ["vie", "spa"][i % 2].to_owned());
        s.triage = [Some(Triage::Emergent), Some(Triage::Routine), None][i % 3];
        s.crisis = i % 4 == 0;
        s.deadline_at = (i % 5 != 0).then(|| s.received_at + chrono::Duration::days(i as i64 % 9));
        let mut payload: serde_json::Value =
            serde_json::from_str(rec.payload.as_deref().unwrap()).unwrap();
        payload["intake"]["interpreter"] = serde_json::json!(i % 2 == 1);
        payload["referrals"] = serde_json::json!([{ "warm_handoff": i % 7 == 0 }]);
        let actor = Actor::new(rec.screener.clone(), rec.device.clone());
        store
            .add_addendum(&actor, id, &payload, &s, &rec.definitions, "corrected")
            .unwrap();
    }
    let c = store.connection();
    assert_eq!(kept(c), recount(c));
    check_periods(c);
}
