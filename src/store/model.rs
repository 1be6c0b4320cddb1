//! The records the store reads and writes, and the small vocabularies stored as text.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::{Result, StoreError};
use crate::domain::outcome::{Intake, Outcome};
use crate::domain::placement::Triage;
use crate::domain::quadrant::CellId;

/// Who is writing, from which device: stamped on rows, the audit chain and the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub device: String,
}

impl Actor {
    pub fn new(user: impl Into<String>, device: impl Into<String>) -> Actor {
        Actor {
            user: user.into(),
            device: device.into(),
        }
    }
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// Lifecycle of an encounter revision.
    Status { Draft = "draft", Finalized = "finalized" }
);
text_enum!(
    /// Suicide/safety risk shown on the supervisor list, least to most severe.
    Risk { None = "none", Low = "low", Moderate = "moderate", High = "high", Imminent = "imminent" }
);
text_enum!(
    /// Where a finalized revision is in supervisor review.
    ReviewState { Awaiting = "awaiting", Approved = "approved", NeedsChanges = "needs_changes" }
);
text_enum!(
    /// A supervisor's decision on a revision.
    Decision { Approved = "approved", NeedsChanges = "needs_changes" }
);
text_enum!(
    /// Where an outbox record is in sync.
    SyncState { Pending = "pending", Exported = "exported", Acknowledged = "acknowledged", Conflict = "conflict" }
);

/// Storage form of a time: UTC, RFC 3339, milliseconds, fixed width (so text order = time order).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt {
            what: format!("timestamp `{s}`"),
        })
}

/// The instrument whose band is the caller's suicide risk (DESIGN 3: C-SSRS screener).
pub const RISK_INSTRUMENT: &str = "cssrs_screen";

/// Denormalized facts for the supervisor list, stored beside the payload of each revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub received_at: DateTime<Utc>,
    /// The caller's name, or "Anonymous".
    pub caller_display: String,
    pub language: Option<String>,
    pub age: Option<u32>,
    pub cell_computed: Option<CellId>,
    pub cell_chosen: Option<CellId>,
    pub risk: Risk,
    pub triage: Option<Triage>,
    pub crisis: bool,
    /// The earliest governing deadline.
    pub deadline_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

impl Summary {
    /// The summary of an assessed encounter, as the supervisor list shows it.
    pub fn from_outcome(
        intake: &Intake,
        outcome: &Outcome,
        crisis_opened: bool,
        received_at: DateTime<FixedOffset>,
    ) -> Summary {
        let crisis = crisis_opened || outcome.crisis_indicated;
        let risk = if crisis || outcome.triage.level == Triage::Emergent {
            Risk::Imminent
        } else {
            outcome
                .evaluation
                .result(RISK_INSTRUMENT)
                .and_then(|r| r.band.as_ref())
                .and_then(|b| Risk::parse(&b.id))
                .unwrap_or(Risk::None)
        };
        Summary {
            received_at: received_at.with_timezone(&Utc),
            caller_display: caller_display(intake),
            language: intake.language.clone(),
            age: outcome.age,
            cell_computed: Some(outcome.placement.cell),
            cell_chosen: Some(outcome.chosen_cell),
            risk,
            triage: Some(outcome.triage.level),
            crisis,
            deadline_at: outcome
                .deadlines
                .iter()
                .map(|d| d.due_at.with_timezone(&Utc))
                .min(),
            reason: intake.reason.clone(),
        }
    }
}

/// "Anonymous" unless a name was given for a caller who is not anonymous.
pub fn caller_display(intake: &Intake) -> String {
    match intake.caller_name.as_deref().map(str::trim) {
        Some(name) if !intake.anonymous && !name.is_empty() => name.to_owned(),
        _ => ANONYMOUS.to_owned(),
    }
}

pub const ANONYMOUS: &str = "Anonymous";

/// Draft field that holds where the screener was.
pub const CURSOR_KEY: &str = "cursor";
/// Draft field whose text becomes the draft's caller display in the screener's queue.
pub const CALLER_NAME_KEY: &str = "intake.caller_name";

/// Where to resume a draft: the step and the focused field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub step: String,
    pub focus: String,
}

/// A draft as saved: every field and the cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub encounter_id: Uuid,
    pub screener: String,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every saved field except the cursor.
    pub fields: BTreeMap<String, serde_json::Value>,
    pub cursor: Option<Cursor>,
}

/// One stored revision.
#[derive(Debug, Clone, PartialEq)]
pub struct EncounterRecord {
    pub encounter_id: Uuid,
    pub revision: u32,
    pub status: Status,
    pub supersedes: Option<u32>,
    pub screener: String,
    pub device: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub summary: Summary,
    /// The addendum's note (why this revision was written).
    pub note: Option<String>,
    pub definitions: BTreeMap<String, String>,
    /// The payload's JSON text, as finalized (its SHA-256 is `payload_sha256`; the database
    /// keeps it packed, see `store::packed`).
    pub payload: Option<String>,
    pub payload_sha256: Option<String>,
    pub review_state: Option<ReviewState>,
    pub sync_state: Option<SyncState>,
}

/// What a finalize or an addendum wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finalized {
    pub encounter_id: Uuid,
    pub revision: u32,
    pub payload_sha256: String,
    pub outbox_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub review_id: i64,
    pub encounter_id: Uuid,
    pub revision: u32,
    pub decision: Decision,
    pub note: Option<String>,
    pub reviewer: String,
    pub device: String,
    pub reviewed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub device: String,
    pub seq: i64,
    /// `encounter` or `review`.
    pub kind: String,
    pub encounter_id: Uuid,
    pub revision: u32,
    pub review_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub state: SyncState,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub device: String,
    pub action: String,
    pub record: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// `N` consecutive columns of a row, from column `first`, as an array.
pub(crate) fn columns<T: rusqlite::types::FromSql, const N: usize>(
    r: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<[T; N]> {
    let read = (first..first + N)
        .map(|i| r.get(i))
        .collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(read
        .try_into()
        .unwrap_or_else(|_| unreachable!("exactly N columns were read")))
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt {
        what: format!("encounter id `{s}`"),
    })
}

pub(crate) fn parse_enum<T>(s: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(s).ok_or_else(|| StoreError::Corrupt {
        what: format!("{what} `{s}`"),
    })
}
