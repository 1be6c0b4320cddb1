//! The county's log of initial requests: one row per call.

use std::collections::HashMap;
use std::io::Write;

use crate::domain::Definitions;
use crate::domain::clock::county_time;
use crate::store::Store;

use super::facts::{Facts, Names, disposition};
use super::{Csv, Period, ReportError, Written, local_iso};

pub const INITIAL_REQUESTS_HEADER: &[&str] = &[
    "received_at",
    "request_date",
    "encounter_id",
    "revision",
    "addenda",
    "caller",
    "caller_type",
    "language",
    "interpreter",
    "nature_of_request",
    "triage",
    "placement_cell",
    "computed_cell",
    "override_reason",
    "initial_disposition",
    "deadline",
    "deadline_standard",
    "screener",
];

/// The log of initial requests for `period`, as CSV: one row per call, oldest first.
pub fn initial_requests<W: Write>(
    store: &Store,
    defs: &Definitions,
    period: &Period,
    out: W,
) -> Result<Written, ReportError> {
    let names = Names::new(defs);
    let languages: HashMap<&str, &str> = defs
        .directory
        .languages
        .iter()
        .map(|l| (l.code.as_str(), l.name.as_str()))
        .collect();
    let mut csv = Csv::new(out);
    csv.record(INITIAL_REQUESTS_HEADER)?;
    let mut written = Written::default();
    store.for_each_current_in(period.start(), period.end(), |row| {
        let facts = Facts::read(&row.payload);
        written.encounters += 1;
        written.unreadable += u64::from(facts.is_none());
        let local = county_time(row.received_at);
        let overridden = facts.as_ref().is_some_and(|f| f.override_cell.is_some())
            || (row.cell_computed.is_some() && row.cell_computed != row.cell_chosen);
        let cell = |c: Option<crate::domain::quadrant::CellId>| c.map(|c| c.id());
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let f = facts.as_ref();
        csv.record(&[
            local_iso(row.received_at),
            local.date_naive().to_string(),
            row.encounter_id.to_owned(),
            row.revision.to_string(),
            row.addenda().to_string(),
            row.caller_display.to_owned(),
            f.and_then(|f| f.intake.caller_type.clone())
                .unwrap_or_default(),
            row.language
                .map(|code| languages.get(code).copied().unwrap_or(code).to_owned())
                .unwrap_or_default(),
            f.map(|f| yes_no(f.intake.interpreter).to_owned())
                .unwrap_or_default(),
            row.reason.unwrap_or_default().to_owned(),
            row.triage
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            cell(row.cell_chosen).unwrap_or_default(),
            if overridden {
                cell(row.cell_computed).unwrap_or_default()
            } else {
                String::new()
            },
            if overridden {
                f.and_then(|f| f.override_reason.as_deref())
                    .map(str::trim)
                    .unwrap_or_default()
                    .to_owned()
            } else {
                String::new()
            },
            disposition(row, f, &names),
            row.deadline_at.map(local_iso).unwrap_or_default(),
            f.and_then(|f| f.deadline_label(row.deadline_at))
                .unwrap_or_default()
                .to_owned(),
            row.screener.to_owned(),
        ])?;
        Ok::<(), ReportError>(())
    })?;
    csv.flush()?;
    Ok(written)
}
