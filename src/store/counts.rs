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

use super::error::Result;

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
            let met = self.warm_handoff || (t == "emergent" && self.crisis_actions > 0);
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
mod tests {
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
        for &(received_at, cell_chosen, risk, triage, crisis, language, deadline, i, w, a) in FACTS
        {
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
}
