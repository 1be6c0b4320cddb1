//! The supervisor's dashboard for a period: the 3×3 grid as counts, risk levels, crisis calls,
//! timeliness by triage level, calls by language and interpreter use. One pass over the
//! period's current finalized revisions on the `received_at` index; only two small fields are
//! read out of each payload (SQLite's json_extract, no parsing in Rust).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::error::Result;
use super::model::{Risk, ts};
use super::search::CURRENT;
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
    let mut st = c.prepare_cached(&sql)?;
    let mut rows = st.query(params![ts(from), ts(before)])?;
    let mut d = Dashboard::default();
    let now = ts(now);
    while let Some(r) = rows.next()? {
        d.total += 1;
        if let Some(cell) = r.get::<_, Option<String>>(0)? {
            *d.cells.entry(cell).or_default() += 1;
        }
        let risk = r
            .get::<_, Option<String>>(1)?
            .as_deref()
            .and_then(Risk::parse)
            .unwrap_or(Risk::None);
        *d.risk.entry(risk).or_default() += 1;
        let crisis: bool = r.get(3)?;
        d.crisis += u64::from(crisis);
        let lang = r
            .get::<_, Option<String>>(4)?
            .unwrap_or_else(|| "—".to_owned());
        *d.languages.entry(lang).or_default() += 1;
        let interpreter: i64 = r.get(6)?;
        d.interpreter += u64::from(interpreter != 0);
        let triage = r
            .get::<_, Option<String>>(2)?
            .and_then(|t| match t.as_str() {
                "emergent" => Some(Triage::Emergent),
                "urgent" => Some(Triage::Urgent),
                "routine" => Some(Triage::Routine),
                _ => None,
            });
        if let Some(t) = triage {
            let warm: i64 = r.get(7)?;
            let actions: i64 = r.get(8)?;
            let deadline: Option<String> = r.get(5)?;
            let slot = d.timeliness.entry(t).or_default();
            match deadline {
                _ if warm != 0 || (t == Triage::Emergent && actions > 0) => slot.met += 1,
                None => slot.no_deadline += 1,
                Some(dl) if dl.as_str() > now.as_str() => slot.pending += 1,
                Some(_) => slot.missed += 1,
            }
        }
    }
    Ok(d)
}
