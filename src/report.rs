//! The county's reports as CSV (`accessline report`; rules and columns in docs/reports.md):
//!
//! - **initial requests** — the written log of initial requests for services that DHCS requires
//!   of a county mental-health plan and DMC-ODS: who (name or "Anonymous"), when, the nature of
//!   the request and the initial disposition, one row per call;
//! - **timeliness** — deadlines met, missed and pending by triage level, or one row per call.
//!
//! Both read the current finalized revision of each encounter received in a period of county
//! days, in call order, streaming (see `store/reports.rs`): memory stays flat however long the
//! period. The CSV is RFC 4180 (header row, CRLF, fields quoted when they need it) in UTF-8, and
//! a cell that a spreadsheet would run as a formula is defused (see [`Csv`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use crate::domain::Definitions;
use crate::domain::clock::county_time;
use crate::domain::placement::Triage;
use crate::store::{ReportRow, Store, StoreError};

// ---------------------------------------------------------------------------------------------
// Dates and periods

/// A county calendar date typed on the command line: `YYYY-MM-DD`, or the US form
/// `MM/DD/YYYY` (as the screener UI accepts for dates of birth). Anything else is refused,
/// and so is a date that is not on the calendar (`2026-13-01`, `02/30/2026`).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let parts: Vec<&str> = t.split(['-', '/']).collect();
    let ymd = match parts.as_slice() {
        [y, m, d] if t.contains('-') && digits(y, 4, 4) && digits(m, 2, 2) && digits(d, 2, 2) => {
            Some((y, m, d))
        }
        [m, d, y] if t.contains('/') && digits(m, 1, 2) && digits(d, 1, 2) && digits(y, 4, 4) => {
            Some((y, m, d))
        }
        _ => None,
    };
    let Some((y, m, d)) = ymd else {
        return Err(format!(
            "`{text}` is not a date: use YYYY-MM-DD (or MM/DD/YYYY)"
        ));
    };
    let n = |s: &str| s.parse::<u32>().expect("checked digits");
    NaiveDate::from_ymd_opt(n(y) as i32, n(m), n(d))
        .ok_or_else(|| format!("`{text}` is not a date on the calendar"))
}

pub use crate::domain::clock::county_midnight;

/// An inclusive range of county days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// Both ends as typed; `--from` after `--to` is refused.
    pub fn parse(from: &str, to: &str) -> Result<Period, String> {
        let f = parse_date(from).map_err(|e| format!("--from: {e}"))?;
        let t = parse_date(to).map_err(|e| format!("--to: {e}"))?;
        if f > t {
            return Err(format!(
                "--from {f} is after --to {t}: the period would be empty"
            ));
        }
        Ok(Period { from: f, to: t })
    }

    /// The first moment of the period (UTC).
    pub fn start(&self) -> DateTime<Utc> {
        county_midnight(self.from)
    }

    /// The first moment after the period (UTC).
    pub fn end(&self) -> DateTime<Utc> {
        county_midnight(self.to.succ_opt().expect("a date before chrono's last"))
    }
}

/// A moment in county local time, ISO 8601 with its UTC offset: `2026-03-02T09:15:00-08:00`.
pub fn local_iso(t: DateTime<Utc>) -> String {
    county_time(t).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

// ---------------------------------------------------------------------------------------------
// CSV

/// An RFC 4180 writer: one record per line ending in CRLF, a field quoted when it holds a comma,
/// a quote, CR or LF (quotes doubled inside), everything else written as is, in UTF-8.
///
/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and a leading tab or CR) as a
/// formula: a caller's words read out by the screener must never become one (CSV/formula
/// injection). Such a cell gets a leading single quote, which spreadsheets show as plain text.
pub struct Csv<W: Write> {
    out: W,
    line: String,
}

impl<W: Write> Csv<W> {
    pub fn new(out: W) -> Csv<W> {
        Csv {
            out,
            line: String::with_capacity(512),
        }
    }

    pub fn record<S: AsRef<str>>(&mut self, fields: &[S]) -> io::Result<()> {
        self.line.clear();
        for (n, f) in fields.iter().enumerate() {
            if n > 0 {
                self.line.push(',');
            }
            push_field(&mut self.line, f.as_ref());
        }
        self.line.push_str("\r\n");
        self.out.write_all(self.line.as_bytes())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Characters that make a spreadsheet treat a cell as a formula when they come first.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

fn push_field(line: &mut String, value: &str) {
    let guarded: Cow<'_, str> = if value.starts_with(FORMULA_START) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        line.push('"');
        for ch in guarded.chars() {
            if ch == '"' {
                line.push('"');
            }
            line.push(ch);
        }
        line.push('"');
    } else {
        line.push_str(&guarded);
    }
}

// ---------------------------------------------------------------------------------------------
// What the reports read from a payload

/// The few facts the reports need from a stored payload. Both payload shapes are read: the
/// screener UI's (`crisis` with the actions taken, `referrals` as a list, `notices`, the
/// outcome's `programs` with their names) and the demo generator's (`crisis_opened` only, one
/// optional `referral` carrying its program's name). Anything missing or `null` is empty.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Facts {
    #[serde(deserialize_with = "lenient")]
    intake: IntakeFacts,
    #[serde(deserialize_with = "lenient")]
    crisis: CrisisFacts,
    #[serde(deserialize_with = "lenient")]
    crisis_opened: bool,
    override_cell: Option<String>,
    override_reason: Option<String>,
    #[serde(deserialize_with = "lenient")]
    outcome: OutcomeFacts,
    #[serde(deserialize_with = "lenient")]
    referrals: Vec<ReferralFacts>,
    referral: Option<ReferralFacts>,
    #[serde(deserialize_with = "lenient")]
    notices: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IntakeFacts {
    caller_type: Option<String>,
    #[serde(deserialize_with = "lenient")]
    interpreter: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CrisisFacts {
    #[serde(deserialize_with = "lenient")]
    opened: bool,
    /// Action id → when it was done.
    #[serde(deserialize_with = "lenient")]
    actions: BTreeMap<String, IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutcomeFacts {
    #[serde(deserialize_with = "lenient")]
    deadlines: Vec<DueFacts>,
    #[serde(deserialize_with = "lenient")]
    programs: Vec<ProgramFacts>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DueFacts {
    label: Option<String>,
    due_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProgramFacts {
    service_id: String,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReferralFacts {
    service_id: String,
    name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    warm_handoff: bool,
}

/// `null` reads as the default.
fn lenient<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Facts {
    /// The payload's facts, or `None` when it cannot be read (then the report still lists the
    /// call, from the stored summary columns, and says the record is unreadable).
    fn read(payload: &str) -> Option<Facts> {
        serde_json::from_str(payload).ok()
    }

    fn referrals(&self) -> impl Iterator<Item = &ReferralFacts> {
        self.referrals.iter().chain(self.referral.as_ref())
    }

    fn warm_handoff(&self) -> bool {
        self.referrals().any(|r| r.warm_handoff)
    }

    /// The label of the earliest deadline (the one the summary's `deadline_at` is).
    fn deadline_label(&self, due: Option<DateTime<Utc>>) -> Option<&str> {
        let at = |d: &DueFacts| {
            d.due_at
                .as_deref()
                .and_then(|s| DateTime::<FixedOffset>::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let exact = due.and_then(|due| self.outcome.deadlines.iter().find(|d| at(d) == Some(due)));
        exact
            .or_else(|| self.outcome.deadlines.iter().min_by_key(|d| at(d)))
            .and_then(|d| d.label.as_deref())
    }
}

/// Crisis actions in the order the crisis screen lists them, as the log words them.
const CRISIS_ACTIONS: &[(&str, &str)] = &[
    ("called_911", "911"),
    ("connected_988", "988"),
    ("mobile_response", "mobile response"),
    ("stayed_on_line", "stayed on the line"),
    ("safety_plan", "safety plan"),
    ("means_reduced", "lethal means reduced"),
];

/// Program names by service id: what the payload recorded, else the shipped directory.
struct Names<'d> {
    directory: HashMap<&'d str, &'d str>,
}

impl<'d> Names<'d> {
    fn new(defs: &'d Definitions) -> Names<'d> {
        Names {
            directory: defs
                .directory
                .services
                .iter()
                .map(|s| (s.id.as_str(), s.name.as_str()))
                .collect(),
        }
    }

    fn program<'a>(&'a self, facts: &'a Facts, r: &'a ReferralFacts) -> &'a str {
        r.name
            .as_deref()
            .or_else(|| {
                facts
                    .outcome
                    .programs
                    .iter()
                    .find(|p| p.service_id == r.service_id)
                    .and_then(|p| p.name.as_deref())
            })
            .or_else(|| self.directory.get(r.service_id.as_str()).copied())
            .unwrap_or(&r.service_id)
    }
}

/// The initial disposition of a call, in words: what the screener did before hanging up.
///
/// - the crisis protocol, when it was opened, with the actions recorded (`Crisis protocol:
///   911, mobile response`) or `Crisis protocol (no actions recorded)`;
/// - the referrals, each with how it was made (`Referred: <program> (warm hand-off);
///   <program> (appointment)`);
/// - `No referral` when neither happened;
/// - and `Notice of adverse benefit determination given` when that notice was recorded.
///
/// Parts are joined by ". ".
fn disposition(row: &ReportRow<'_>, facts: Option<&Facts>, names: &Names<'_>) -> String {
    let Some(facts) = facts else {
        return "Unknown: the stored record cannot be read (run `accessline verify`)".into();
    };
    let mut parts = Vec::new();
    if row.crisis || facts.crisis_opened || facts.crisis.opened {
        let actions: Vec<Cow<'_, str>> = CRISIS_ACTIONS
            .iter()
            .filter(|(id, _)| facts.crisis.actions.contains_key(*id))
            .map(|(_, label)| Cow::Borrowed(*label))
            .chain(
                facts
                    .crisis
                    .actions
                    .keys()
                    .filter(|id| !CRISIS_ACTIONS.iter().any(|(known, _)| known == id))
                    .map(|id| Cow::Owned(id.replace('_', " "))),
            )
            .collect();
        parts.push(if actions.is_empty() {
            "Crisis protocol (no actions recorded)".to_owned()
        } else {
            format!("Crisis protocol: {}", actions.join(", "))
        });
    }
    let referred: Vec<String> = facts
        .referrals()
        .map(|r| {
            let how = if r.warm_handoff {
                "warm hand-off"
            } else {
                "appointment"
            };
            format!("{} ({how})", names.program(facts, r))
        })
        .collect();
    if !referred.is_empty() {
        parts.push(format!("Referred: {}", referred.join("; ")));
    } else if parts.is_empty() {
        parts.push("No referral".to_owned());
    }
    if facts.notices.iter().any(|n| n == "noabd") {
        parts.push("Notice of adverse benefit determination given".to_owned());
    }
    parts.join(". ")
}

// ---------------------------------------------------------------------------------------------
// Reports

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write the report: {0}")]
    Io(#[from] io::Error),
}

/// What a report wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Encounters read (data rows of the initial-requests log and the timeliness detail).
    pub encounters: u64,
    /// Encounters whose stored payload could not be read (listed from their summary columns).
    pub unreadable: u64,
}

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
        let facts = Facts::read(row.payload);
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

/// Whether a call's deadline was kept (see docs/reports.md for the rule and why).
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
        let facts = Facts::read(row.payload);
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

// ---------------------------------------------------------------------------------------------
// The command

/// Which report, as the command line asked for it (dates still as typed).
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: Kind,
    pub from: String,
    pub to: String,
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    InitialRequests,
    Timeliness {
        detail: bool,
        /// Judge deadlines at the end of this county day (default: now).
        as_of: Option<String>,
    },
}

/// Why a report was not written.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments, a missing database, an output file that cannot be created: nothing was
    /// written (exit code 2).
    BadInput(String),
    /// The database could not be read to the end (exit code 1); no output file is left behind.
    Failed(String),
    /// Sign-in or the role check refused (the message is already printed): this exit code.
    Refused(std::process::ExitCode),
}

/// Run a report: check every argument, open the database read-only, write the CSV to `--out`
/// (through a temporary file renamed at the end, so a failed run leaves no half report) or to
/// standard output. `db` signs in and opens the database (read-only) once the arguments are
/// known to be good, or returns the exit code of its refusal.
pub fn run(
    request: &Request,
    db: impl FnOnce() -> Result<Store, std::process::ExitCode>,
    defs: &Definitions,
) -> Result<Written, Failure> {
    let bad = Failure::BadInput;
    let period = Period::parse(&request.from, &request.to).map_err(bad)?;
    let as_of = match &request.kind {
        Kind::Timeliness {
            as_of: Some(day), ..
        } => {
            let day = parse_date(day).map_err(|e| bad(format!("--as-of: {e}")))?;
            county_midnight(day.succ_opt().expect("a date before chrono's last"))
        }
        _ => Utc::now(),
    };
    if let Some(out) = &request.out
        && out.is_dir()
    {
        return Err(bad(format!("--out {}: is a directory", out.display())));
    }
    let store = db().map_err(Failure::Refused)?;
    let write = |w: &mut dyn Write| match &request.kind {
        Kind::InitialRequests => initial_requests(&store, defs, &period, w),
        Kind::Timeliness { detail, .. } => timeliness(&store, &period, as_of, *detail, w),
    };
    match &request.out {
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::with_capacity(1 << 16, stdout.lock());
            match write(&mut w) {
                Ok(done) => Ok(done),
                // A closed pipe (`| head`) is the reader's choice.
                Err(ReportError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                    Ok(Written::default())
                }
                Err(e) => Err(Failure::Failed(e.to_string())),
            }
        }
        Some(out) => write_file(out, write),
    }
}

fn write_file(
    out: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<Written, ReportError>,
) -> Result<Written, Failure> {
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = std::fs::File::create(&partial)
        .map_err(|e| Failure::BadInput(format!("--out {}: {e}", out.display())))?;
    let mut w = io::BufWriter::with_capacity(1 << 16, file);
    let result = write(&mut w)
        .and_then(|done| {
            let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
            Ok(done)
        })
        .and_then(|done| {
            std::fs::rename(&partial, out)?;
            Ok(done)
        });
    result.map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        Failure::Failed(format!("{}: {e}", out.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dates_in_both_forms_and_nothing_else() {
        assert_eq!(parse_date("2026-11-23"), Ok(d("2026-11-23")));
        assert_eq!(parse_date("11/23/2026"), Ok(d("2026-11-23")));
        assert_eq!(parse_date("3/7/2026"), Ok(d("2026-03-07")));
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "02/30/2026",
            "23/11/2026",
            "2026-1-5",
            "26-01-05",
            "2026/01/05",
            "11-23-2026",
            "2026-11-23T00:00",
            "yesterday",
            "",
            "+2026-01-05",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn county_days_begin_at_local_midnight() {
        // Standard time (UTC-8) and daylight time (UTC-7), and the days of both changes.
        assert_eq!(ts(county_midnight(d("2026-01-15"))), "2026-01-15T08:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-07-01"))), "2026-07-01T07:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-03-08"))), "2026-03-08T08:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-03-09"))), "2026-03-09T07:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-11-01"))), "2026-11-01T07:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-11-02"))), "2026-11-02T08:00:00Z");
        let p = Period::parse("2026-03-01", "03/10/2026").unwrap();
        assert_eq!(ts(p.start()), "2026-03-01T08:00:00Z");
        assert_eq!(ts(p.end()), "2026-03-11T07:00:00Z");
        assert!(Period::parse("2026-03-02", "2026-03-01").is_err());
        assert!(Period::parse("2026-03-01", "2026-03-01").is_ok());
    }

    fn ts(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let mut csv = Csv::new(Vec::new());
        csv.record(&[
            "plain",
            "a, b",
            "say \"hi\"",
            "two\nlines",
            "=1+1",
            "-5",
            "@x",
            "+1",
            "Անի",
            "",
        ])
        .unwrap();
        let text = String::from_utf8(csv.into_inner()).unwrap();
        assert_eq!(
            text,
            "plain,\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\",'=1+1,'-5,'@x,'+1,Անի,\r\n"
        );
    }

    #[test]
    fn both_payload_shapes_are_read() {
        let tui = r#"{"crisis":{"opened":true,"opened_at":null,"actions":{"mobile_response":"2026-01-01T00:00:00Z","called_911":"2026-01-01T00:00:00Z"}},
            "crisis_opened":true,"referrals":[{"service_id":"x","warm_handoff":true}],"notices":["noabd"],
            "outcome":{"programs":[{"service_id":"x","name":"Program X"}],"deadlines":null}}"#;
        let f = Facts::read(tui).unwrap();
        assert!(f.warm_handoff());
        assert_eq!(f.crisis.actions.len(), 2);
        let demo = r#"{"crisis_opened":false,"referral":{"service_id":"y","name":"Program Y","warm_handoff":false},"outcome":{"programs_matched":3}}"#;
        let f = Facts::read(demo).unwrap();
        assert_eq!(f.referrals().count(), 1);
        assert!(!f.warm_handoff());
        assert!(Facts::read("not json").is_none());
    }
}
