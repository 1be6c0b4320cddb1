//! The supervisor's dashboard for a period: the 3×3 grid as counts, risk levels, crisis calls,
//! timeliness by triage level, calls by language and interpreter use. One pass over the
//! period's rows of `dashboard_fact` (migration 0005): the current finalized revisions' summary
//! columns and the three facts the dashboard needs from their payloads, extracted when each
//! revision was written.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::error::Result;
use super::model::{Risk, ts};
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;

/// Met / missed / pending deadlines of one triage level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeliness {
    pub met: u64,
    pub missed: u64,
    pub pending: u64,
    /// Calls with no governing deadline recorded.
    pub no_deadline: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dashboard {
    pub total: u64,
    /// Chosen cell → calls.
    pub cells: BTreeMap<String, u64>,
    pub risk: BTreeMap<Risk, u64>,
    pub crisis: u64,
    pub timeliness: BTreeMap<Triage, Timeliness>,
    /// Language code (or "—") → calls.
    pub languages: BTreeMap<String, u64>,
    pub interpreter: u64,
}

impl Dashboard {
    pub fn cell(&self, c: CellId) -> u64 {
        self.cells.get(&c.id()).copied().unwrap_or(0)
    }
}

/// The same rule as `accessline report timeliness` (docs/reports.md): met when any referral was
/// a warm hand-off during the call, or the call was emergent and the crisis protocol recorded
/// actions; otherwise pending until the deadline passes and missed after it (appointment dates
/// are not recorded yet). The dashboard judges at `now`.
pub(crate) fn dashboard(
    c: &Connection,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Dashboard> {
    // `dashboard_fact` (migration 0005) holds these columns for every current finalized
    // revision, ordered by call time, with the payload's three facts extracted when the
    // revision was written: a year is one range of a narrow table, not 500,000 payloads.
    let mut st = c.prepare_cached(
        "SELECT cell_chosen, risk, triage, crisis, language, deadline_at, interpreter,
                warm_handoff, crisis_actions
         FROM dashboard_fact
         WHERE received_at >= ?1 AND received_at < ?2",
    )?;
    let rows = st.query(params![ts(from), ts(before)])?;
    count(rows, now)
}

/// Count rows of `(cell_chosen, risk, triage, crisis, language, deadline_at, interpreter,
/// warm_handoff, crisis_actions)`.
fn count(mut rows: rusqlite::Rows<'_>, now: DateTime<Utc>) -> Result<Dashboard> {
    let mut d = Dashboard::default();
    let now = ts(now);
    // Text is read in place (no String per row): a year is half a million rows.
    while let Some(r) = rows.next()? {
        d.total += 1;
        if let Some(cell) = text(r, 0)? {
            bump(&mut d.cells, cell);
        }
        let risk = text(r, 1)?.and_then(Risk::parse).unwrap_or(Risk::None);
        *d.risk.entry(risk).or_default() += 1;
        let crisis: bool = r.get(3)?;
        d.crisis += u64::from(crisis);
        bump(&mut d.languages, text(r, 4)?.unwrap_or("—"));
        let interpreter: i64 = r.get(6)?;
        d.interpreter += u64::from(interpreter != 0);
        let triage = match text(r, 2)? {
            Some("emergent") => Some(Triage::Emergent),
            Some("urgent") => Some(Triage::Urgent),
            Some("routine") => Some(Triage::Routine),
            _ => None,
        };
        if let Some(t) = triage {
            let warm: i64 = r.get(7)?;
            let actions: i64 = r.get(8)?;
            let deadline = text(r, 5)?;
            let slot = d.timeliness.entry(t).or_default();
            match deadline {
                _ if warm != 0 || (t == Triage::Emergent && actions > 0) => slot.met += 1,
                None => slot.no_deadline += 1,
                Some(dl) if dl > now.as_str() => slot.pending += 1,
                Some(_) => slot.missed += 1,
            }
        }
    }
    Ok(d)
}

/// A text column read in place.
fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Result<Option<&'r str>> {
    r.get_ref(i)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
            .into()
    })
}

/// Count one more under `key`, allocating the key only the first time it is seen.
fn bump(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_owned(), 1);
        }
    }
}

#[cfg(test)]
mod tests {
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
                    coalesce(json_extract(e.payload, '$.intake.interpreter'), 0),
                    coalesce((SELECT max(coalesce(json_extract(r.value, '$.warm_handoff'), 0))
                              FROM json_each(e.payload, '$.referrals') r),
                             json_extract(e.payload, '$.referral.warm_handoff'), 0),
                    (SELECT count(*) FROM json_each(e.payload, '$.crisis.actions'))
             FROM encounter e
             WHERE e.received_at >= ?1 AND e.received_at < ?2 AND e.status = 'finalized'
               AND {CURRENT}"
        );
        let mut st = c.prepare(&sql).unwrap();
        let rows = st.query(params![ts(from), ts(before)]).unwrap();
        count(rows, now).unwrap()
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
        let start = demo::base_time();
        // Deadlines both passed and pending at `now`; periods cutting through the data.
        let now = start + chrono::Duration::days(7);
        for (from, hours) in [(0, 10_000), (0, 24), (20, 12), (30, 1)] {
            let from = start + chrono::Duration::hours(from);
            let before = from + chrono::Duration::hours(hours);
            let want = from_payloads(c, from, before, now);
            assert!(want.total > 0 || hours < 2);
            assert_eq!(dashboard(c, from, before, now).unwrap(), want);
        }
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
}
