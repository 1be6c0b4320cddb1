//! The supervisor's dashboard for a period: the 3×3 grid as counts, risk levels, crisis calls,
//! timeliness by triage level, calls by language and interpreter use. Whole days come from
//! `dashboard_day` (migration 0008: per-day counts the database keeps in step with
//! `dashboard_fact`), the partial days at the period's ends from `dashboard_fact` itself
//! (migration 0005: one narrow row per current finalized revision, with the three facts the
//! dashboard needs from its payload extracted when it was written).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveTime, Utc};
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
///
/// The whole UTC days of the period are summed from `dashboard_day` (migration 0008: per-day
/// counts kept in step with `dashboard_fact` by triggers), at most ~40 rows a day; the partial
/// days at either end are counted from their `dashboard_fact` rows. A year is ~15,000 rows
/// instead of ~500,000.
pub(crate) fn dashboard(
    c: &Connection,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Dashboard> {
    let Some((first, end)) = whole_days(from, before) else {
        return facts(c, from, before, now);
    };
    let mut d = days(c, first, end, now)?;
    if from < first {
        d.add(&facts(c, from, first, now)?);
    }
    if end < before {
        d.add(&facts(c, end, before, now)?);
    }
    Ok(d)
}

/// The whole UTC days inside `[from, before)`, as `[first midnight, last midnight)`.
fn whole_days(
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let midnight = |t: DateTime<Utc>| t.date_naive().and_time(NaiveTime::MIN).and_utc();
    let first = match midnight(from) {
        m if m == from => m,
        m => m + Duration::days(1),
    };
    let end = midnight(before);
    (first < end).then_some((first, end))
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// The calls of `[first, end)` (both UTC midnights) from the per-day counts.
fn days(
    c: &Connection,
    first: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Dashboard> {
    let mut d = Dashboard::default();
    // Summed here rather than with GROUP BY (which sorts every row): the (dimension, value)
    // pairs repeat day after day, so a short list finds each one.
    let mut sums: Vec<(String, String, i64)> = Vec::new();
    let mut st = c.prepare_cached(
        "SELECT dimension, value, n FROM dashboard_day WHERE day >= ?1 AND day < ?2",
    )?;
    let mut rows = st.query(params![day(first), day(end)])?;
    while let Some(r) = rows.next()? {
        let (dimension, value) = (text(r, 0)?.unwrap_or(""), text(r, 1)?.unwrap_or(""));
        let n: i64 = r.get(2)?;
        match sums
            .iter_mut()
            .find(|(d, v, _)| d == dimension && v == value)
        {
            Some(slot) => slot.2 += n,
            None => sums.push((dimension.to_owned(), value.to_owned(), n)),
        }
    }
    for (dimension, value, n) in &sums {
        let (dimension, value) = (dimension.as_str(), value.as_str());
        let Ok(n @ 1..) = u64::try_from(*n) else {
            continue;
        };
        match dimension {
            "total" => d.total += n,
            "cell" => *d.cells.entry(value.to_owned()).or_default() += n,
            "risk" => {
                *d.risk
                    .entry(Risk::parse(value).unwrap_or(Risk::None))
                    .or_default() += n
            }
            "crisis" => d.crisis += n,
            "language" => *d.languages.entry(value.to_owned()).or_default() += n,
            "interpreter" => d.interpreter += n,
            "met" | "no_deadline" | "open" => {
                let Some(t) = triage(Some(value)) else {
                    continue;
                };
                let slot = d.timeliness.entry(t).or_default();
                match dimension {
                    "met" => slot.met += n,
                    "no_deadline" => slot.no_deadline += n,
                    // Open deadlines count as missed here; the pending ones move below.
                    _ => slot.missed += n,
                }
            }
            _ => {}
        }
    }
    // The open deadlines still ahead of `now`: the entries of the open-deadline index after it
    // (counted here: a GROUP BY would sort them).
    let mut st = c.prepare_cached(
        "SELECT triage FROM dashboard_fact INDEXED BY dashboard_fact_open
         WHERE deadline_at > ?3 AND received_at >= ?1 AND received_at < ?2
           AND triage IS NOT NULL AND deadline_at IS NOT NULL AND warm_handoff = 0
           AND NOT (triage = 'emergent' AND crisis_actions > 0)",
    )?;
    let mut rows = st.query(params![ts(first), ts(end), ts(now)])?;
    let mut pending: BTreeMap<Triage, u64> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        if let Some(t) = triage(text(r, 0)?) {
            *pending.entry(t).or_default() += 1;
        }
    }
    for (t, n) in pending {
        let slot = d.timeliness.entry(t).or_default();
        slot.missed -= n.min(slot.missed);
        slot.pending += n;
    }
    Ok(d)
}

/// The calls of `[from, before)` counted from their rows of `dashboard_fact`.
fn facts(
    c: &Connection,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Dashboard> {
    let mut st = c.prepare_cached(
        "SELECT cell_chosen, risk, triage, crisis, language, deadline_at, interpreter,
                warm_handoff, crisis_actions
         FROM dashboard_fact
         WHERE received_at >= ?1 AND received_at < ?2",
    )?;
    let rows = st.query(params![ts(from), ts(before)])?;
    count(rows, now)
}

fn triage(s: Option<&str>) -> Option<Triage> {
    match s {
        Some("emergent") => Some(Triage::Emergent),
        Some("urgent") => Some(Triage::Urgent),
        Some("routine") => Some(Triage::Routine),
        _ => None,
    }
}

impl Dashboard {
    /// Add another period's counts to these.
    fn add(&mut self, o: &Dashboard) {
        fn sum<K: Ord + Clone>(a: &mut BTreeMap<K, u64>, b: &BTreeMap<K, u64>) {
            for (k, n) in b {
                *a.entry(k.clone()).or_default() += n;
            }
        }
        self.total += o.total;
        sum(&mut self.cells, &o.cells);
        sum(&mut self.risk, &o.risk);
        self.crisis += o.crisis;
        for (t, x) in &o.timeliness {
            let slot = self.timeliness.entry(*t).or_default();
            slot.met += x.met;
            slot.missed += x.missed;
            slot.pending += x.pending;
            slot.no_deadline += x.no_deadline;
        }
        sum(&mut self.languages, &o.languages);
        self.interpreter += o.interpreter;
    }
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
        if let Some(t) = triage(text(r, 2)?) {
            let warm: i64 = r.get(7)?;
            let actions: i64 = r.get(8)?;
            let deadline = text(r, 5)?;
            let slot = d.timeliness.entry(t).or_default();
            match deadline {
                _ if met_in_call(t == Triage::Emergent, warm != 0, actions) => slot.met += 1,
                None => slot.no_deadline += 1,
                Some(dl) if dl > now.as_str() => slot.pending += 1,
                Some(_) => slot.missed += 1,
            }
        }
    }
    Ok(d)
}

/// A deadline met during the call itself: a warm hand-off, or an emergent call whose crisis
/// protocol recorded actions (the rule above; `dashboard_day` counts by it too, `store::counts`).
pub(crate) fn met_in_call(emergent: bool, warm_handoff: bool, crisis_actions: i64) -> bool {
    warm_handoff || (emergent && crisis_actions > 0)
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
mod tests;
