//! The counts the database keeps with triggers, kept instead by a writer that runs with
//! triggers off (the demo's bulk load, `demo::BulkLoad`):
//! - `dashboard_day` (migration 0008): current finalized revisions per UTC day of call time,
//!   under the seven (dimension, value) pairs of `dashboard_day_on_insert`;
//! - `outbox_count` (migration 0012): outbox entries per sync state.
//!
//! [`Counts`] adds up one transaction's changes and writes them at its end, so the rows come
//! out as the triggers would have left them, counts that fell to 0 included (a pair a
//! transaction counted in and out again is a row of 0, as with the triggers). The tests check
//! it against the triggers themselves.

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::Type;
use rusqlite::{Connection, Row, params};

use super::dashboard::met_in_call;
use super::error::Result;
use crate::domain::placement::Triage;

/// The `dashboard_fact` columns [`Fact::from_row`] reads, in its order.
pub(crate) const FACT_COLUMNS: &str = "received_at, cell_chosen, risk, triage, crisis, language, \
     deadline_at, interpreter, warm_handoff, crisis_actions";

/// What one `dashboard_fact` row counts under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fact<'a> {
    pub received_at: &'a str,
    pub cell_chosen: Option<&'a str>,
    pub risk: Option<&'a str>,
    pub triage: Option<&'a str>,
    pub crisis: bool,
    pub language: Option<&'a str>,
    pub has_deadline: bool,
    pub interpreter: bool,
    pub warm_handoff: bool,
    pub crisis_actions: i64,
}

impl<'a> Fact<'a> {
    /// A row selected (or returned) with [`FACT_COLUMNS`].
    pub fn from_row(r: &'a Row<'_>) -> rusqlite::Result<Fact<'a>> {
        let text = |i: usize| -> rusqlite::Result<Option<&'a str>> {
            r.get_ref(i)?
                .as_str_or_null()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, e.into()))
        };
        let flag = |i: usize| -> rusqlite::Result<bool> { Ok(r.get::<_, i64>(i)? != 0) };
        Ok(Fact {
            received_at: text(0)?.unwrap_or_default(),
            cell_chosen: text(1)?,
            risk: text(2)?,
            triage: text(3)?,
            crisis: flag(4)?,
            language: text(5)?,
            has_deadline: r.get_ref(6)?.data_type() != Type::Null,
            interpreter: flag(7)?,
            warm_handoff: flag(8)?,
            crisis_actions: r.get(9)?,
        })
    }

    /// The UTC day it counts on: `substr(received_at, 1, 10)`.
    pub fn day(&self) -> &'a str {
        self.received_at.get(..10).unwrap_or(self.received_at)
    }

    /// The (dimension, value) pairs of `dashboard_day_on_insert`, those with no value left out.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &'a str)> + use<'a> {
        let timeliness = self.triage.map(|t| {
            let emergent = t == Triage::Emergent.as_str();
            let met = met_in_call(emergent, self.warm_handoff, self.crisis_actions);
            let dimension = match () {
                _ if met => "met",
                _ if !self.has_deadline => "no_deadline",
                _ => "open",
            };
            (dimension, t)
        });
        [
            Some(("total", "")),
            self.cell_chosen.map(|c| ("cell", c)),
            Some(("risk", self.risk.unwrap_or("none"))),
            self.crisis.then_some(("crisis", "")),
            Some(("language", self.language.unwrap_or("—"))),
            self.interpreter.then_some(("interpreter", "")),
            timeliness,
        ]
        .into_iter()
        .flatten()
    }
}

/// One transaction's changes to the counts, written by [`Counts::write`].
#[derive(Debug, Default)]
pub(crate) struct Counts {
    days: BTreeMap<(String, &'static str, String), i64>,
    outbox: BTreeMap<&'static str, i64>,
}

impl Counts {
    /// A fact inserted (`sign` +1) or deleted (-1).
    pub fn fact(&mut self, f: &Fact<'_>, sign: i64) {
        let day = f.day();
        for (dimension, value) in f.pairs() {
            *self
                .days
                .entry((day.to_owned(), dimension, value.to_owned()))
                .or_default() += sign;
        }
    }

    /// An outbox entry entering (`sign` +1) or leaving (-1) a sync state.
    pub fn outbox(&mut self, state: &'static str, sign: i64) {
        *self.outbox.entry(state).or_default() += sign;
    }

    /// Add the changes to the tables, and start again from none.
    pub fn write(&mut self, c: &Connection) -> Result<()> {
        let mut day = c.prepare_cached(
            "INSERT INTO dashboard_day (day, dimension, value, n) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (day, dimension, value) DO UPDATE SET n = n + excluded.n",
        )?;
        for ((d, dimension, value), n) in std::mem::take(&mut self.days) {
            day.execute(params![d, dimension, value, n])?;
        }
        let mut outbox = c.prepare_cached("UPDATE outbox_count SET n = n + ?2 WHERE state = ?1")?;
        for (state, n) in std::mem::take(&mut self.outbox) {
            if n != 0 {
                outbox.execute(params![state, n])?;
            }
        }
        Ok(())
    }
}

/// A (day, dimension, value) whose kept `dashboard_day` count is not the recount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayMismatch {
    pub day: String,
    pub dimension: String,
    pub value: String,
    pub kept: i64,
    pub counted: i64,
}

/// `dashboard_day` against a recount of `dashboard_fact` (a row of 0 and no row are the
/// same), for `verify`: what the triggers, or a writer running without them, should have kept.
pub(crate) fn day_mismatches(c: &Connection) -> Result<Vec<DayMismatch>> {
    let mut counted: HashMap<String, i64> = HashMap::new();
    let mut key = String::new();
    let mut st = c.prepare(&format!("SELECT {FACT_COLUMNS} FROM dashboard_fact"))?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let f = Fact::from_row(r)?;
        for (dimension, value) in f.pairs() {
            day_key(&mut key, f.day(), dimension, value);
            match counted.get_mut(key.as_str()) {
                Some(n) => *n += 1,
                None => {
                    counted.insert(key.clone(), 1);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut st = c.prepare("SELECT day, dimension, value, n FROM dashboard_day")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (day, dimension, value): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let kept: i64 = r.get(3)?;
        day_key(&mut key, &day, &dimension, &value);
        let n = counted.remove(key.as_str()).unwrap_or(0);
        if n != kept {
            out.push(DayMismatch {
                day,
                dimension,
                value,
                kept,
                counted: n,
            });
        }
    }
    for (key, n) in counted {
        let mut parts = key.splitn(3, SEP).map(str::to_owned);
        let mut next = || parts.next().unwrap_or_default();
        let (day, dimension, value) = (next(), next(), next());
        out.push(DayMismatch {
            day,
            dimension,
            value,
            kept: 0,
            counted: n,
        });
    }
    out.sort_by(|a, b| (&a.day, &a.dimension, &a.value).cmp(&(&b.day, &b.dimension, &b.value)));
    Ok(out)
}

/// Separates the parts of [`day_key`] (a character no day, dimension or value holds).
const SEP: char = '\u{1f}';

/// `day SEP dimension SEP value`, written into `buf` (one map key, no allocation per lookup).
fn day_key(buf: &mut String, day: &str, dimension: &str, value: &str) {
    buf.clear();
    for (i, part) in [day, dimension, value].into_iter().enumerate() {
        if i > 0 {
            buf.push(SEP);
        }
        buf.push_str(part);
    }
}

#[cfg(test)]
mod tests;
