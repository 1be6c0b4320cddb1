//! Deadlines met, missed and pending, by triage level or one row per call.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};

use crate::domain::placement::Triage;
use crate::store::{ReportRow, Store};

use super::facts::Facts;
use super::{Csv, Period, ReportError, Written, local_iso};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timely {
    Met,
    Missed,
    Pending,
    NoDeadline,
}

impl Timely {
    pub fn as_str(self) -> &'static str {
        match self {
            Timely::Met => "met",
            Timely::Missed => "missed",
            Timely::Pending => "pending",
            Timely::NoDeadline => "no_deadline",
        }
    }
}

/// Judge one call's deadline as of `as_of`, with the reason:
/// 1. a referral made by warm hand-off during the call → met (the service was reached then);
/// 2. an emergent call with crisis actions recorded → met (the immediate response happened);
/// 3. no deadline recorded → no deadline;
/// 4. the deadline is still ahead of `as_of` → pending;
/// 5. otherwise → missed: nothing recorded shows the service was offered in time.
///
/// The current revision decides, so an addendum that records a hand-off or crisis actions
/// turns a missed deadline into a met one. Appointment dates are not recorded yet, so an
/// appointment alone never counts as met.
fn judge(
    row: &ReportRow<'_>,
    facts: Option<&Facts>,
    as_of: DateTime<Utc>,
) -> (Timely, &'static str) {
    if facts.is_some_and(Facts::warm_handoff) {
        return (Timely::Met, "warm hand-off during the call");
    }
    if row.triage == Some(Triage::Emergent) && facts.is_some_and(|f| !f.crisis.actions.is_empty()) {
        return (Timely::Met, "crisis actions recorded");
    }
    match row.deadline_at {
        None => (Timely::NoDeadline, "no deadline recorded"),
        Some(due) if due >= as_of => (Timely::Pending, "deadline not yet reached"),
        Some(_) if facts.is_none() => (Timely::Missed, "deadline passed; record unreadable"),
        Some(_) => (
            Timely::Missed,
            "deadline passed with no warm hand-off or crisis action recorded",
        ),
    }
}

pub const TIMELINESS_HEADER: &[&str] = &[
    "triage",
    "total",
    "met",
    "missed",
    "pending",
    "no_deadline",
    "percent_met",
];

pub const TIMELINESS_DETAIL_HEADER: &[&str] = &[
    "received_at",
    "encounter_id",
    "revision",
    "triage",
    "deadline",
    "deadline_standard",
    "status",
    "basis",
    "screener",
];

/// Triage levels as the timeliness report lists them; calls with none are `unassessed`.
const LEVELS: &[&str] = &["emergent", "urgent", "routine"];
const UNASSESSED: &str = "unassessed";

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    met: u64,
    missed: u64,
    pending: u64,
    no_deadline: u64,
}

impl Tally {
    fn add(&mut self, t: Timely) {
        match t {
            Timely::Met => self.met += 1,
            Timely::Missed => self.missed += 1,
            Timely::Pending => self.pending += 1,
            Timely::NoDeadline => self.no_deadline += 1,
        }
    }

    fn total(&self) -> u64 {
        self.met + self.missed + self.pending + self.no_deadline
    }

    /// Met as a share of the deadlines that have come (met + missed), one decimal; empty when
    /// none has.
    fn percent_met(&self) -> String {
        let decided = self.met + self.missed;
        if decided == 0 {
            String::new()
        } else {
            format!("{:.1}", self.met as f64 * 100.0 / decided as f64)
        }
    }

    fn record(&self, label: &str) -> [String; 7] {
        [
            label.to_owned(),
            self.total().to_string(),
            self.met.to_string(),
            self.missed.to_string(),
            self.pending.to_string(),
            self.no_deadline.to_string(),
            self.percent_met(),
        ]
    }
}

/// Deadlines met, missed and pending for `period`, judged as of `as_of`: totals by triage level
/// (emergent, urgent, routine, `unassessed` when there are such calls, then `all`), or with
/// `detail` one row per call.
pub fn timeliness<W: Write>(
    store: &Store,
    period: &Period,
    as_of: DateTime<Utc>,
    detail: bool,
    out: W,
) -> Result<Written, ReportError> {
    let mut csv = Csv::new(out);
    csv.record(if detail {
        TIMELINESS_DETAIL_HEADER
    } else {
        TIMELINESS_HEADER
    })?;
    let mut written = Written::default();
    let mut tallies: HashMap<&'static str, Tally> = HashMap::new();
    store.for_each_current_in(period.start(), period.end(), |row| {
        let facts = Facts::read(&row.payload);
        written.encounters += 1;
        written.unreadable += u64::from(facts.is_none());
        let (status, basis) = judge(row, facts.as_ref(), as_of);
        let level = row.triage.map_or(UNASSESSED, Triage::as_str);
        tallies.entry(level).or_default().add(status);
        if detail {
            csv.record(&[
                local_iso(row.received_at),
                row.encounter_id.to_owned(),
                row.revision.to_string(),
                level.to_owned(),
                row.deadline_at.map(local_iso).unwrap_or_default(),
                facts
                    .as_ref()
                    .and_then(|f| f.deadline_label(row.deadline_at))
                    .unwrap_or_default()
                    .to_owned(),
                status.as_str().to_owned(),
                basis.to_owned(),
                row.screener.to_owned(),
            ])?;
        }
        Ok::<(), ReportError>(())
    })?;
    if !detail {
        let mut all = Tally::default();
        for level in LEVELS {
            let t = tallies.get(level).copied().unwrap_or_default();
            csv.record(&t.record(level))?;
        }
        if let Some(t) = tallies.get(UNASSESSED) {
            csv.record(&t.record(UNASSESSED))?;
        }
        for t in tallies.values() {
            all.met += t.met;
            all.missed += t.missed;
            all.pending += t.pending;
            all.no_deadline += t.no_deadline;
        }
        csv.record(&all.record("all"))?;
    }
    csv.flush()?;
    Ok(written)
}
