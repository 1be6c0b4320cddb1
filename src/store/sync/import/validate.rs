//! Values the schema would refuse, checked before anything is written.

use super::*;

/// Values the schema would refuse, refused with a message that says which.
pub(super) fn validate(incoming: &Incoming) -> Result<()> {
    let bad = |problem: String| StoreError::Invalid {
        what: "sync record",
        problem,
    };
    let time = |name: &str, v: &str| -> Result<()> {
        let t = parse_ts(v).map_err(|_| bad(format!("{name} `{v}` is not an RFC 3339 time")))?;
        if ts(t) != v {
            return Err(bad(format!(
                "{name} `{v}` is not in storage form (UTC, milliseconds, `Z`)"
            )));
        }
        Ok(())
    };
    match incoming {
        Incoming::Encounter {
            row,
            supersedes_sha256,
        } => {
            if row.revision == 0 {
                return Err(bad("revision must be 1 or more".into()));
            }
            let expected = (row.revision > 1).then(|| row.revision - 1);
            if row.supersedes != expected {
                return Err(bad(format!(
                    "revision {} must supersede {:?}, not {:?}",
                    row.revision, expected, row.supersedes
                )));
            }
            if row.supersedes.is_some() != supersedes_sha256.is_some() {
                return Err(bad(
                    "an addendum carries the hash of the revision it supersedes (and only an addendum)".into(),
                ));
            }
            if payload_sha256(&row.payload) != row.payload_sha256 {
                return Err(bad("payload does not match its SHA-256".into()));
            }
            for (name, v) in [
                ("created_at", &row.created_at),
                ("updated_at", &row.updated_at),
                ("finalized_at", &row.finalized_at),
                ("received_at", &row.received_at),
            ] {
                time(name, v)?;
            }
            if let Some(d) = &row.deadline_at {
                time("deadline_at", d)?;
            }
            if serde_json::from_str::<BTreeMap<String, String>>(&row.definitions).is_err() {
                return Err(bad(
                    "definitions must be an object of definition id → version".into(),
                ));
            }
            for (name, cell) in [
                ("cell_computed", &row.cell_computed),
                ("cell_chosen", &row.cell_chosen),
            ] {
                if let Some(c) = cell
                    && crate::domain::quadrant::CellId::parse(c).is_none()
                {
                    return Err(bad(format!("{name} `{c}` is not a quadrant cell")));
                }
            }
            if let Some(r) = &row.risk
                && crate::store::model::Risk::parse(r).is_none()
            {
                return Err(bad(format!("risk `{r}` is not a risk level")));
            }
            if let Some(t) = &row.triage
                && crate::store::records::triage_parse(t).is_none()
            {
                return Err(bad(format!("triage `{t}` is not a triage level")));
            }
        }
        Incoming::Review { row, .. } => {
            if crate::store::model::Decision::parse(&row.decision).is_none() {
                return Err(bad(format!(
                    "decision `{}` is not a review decision",
                    row.decision
                )));
            }
            time("reviewed_at", &row.reviewed_at)?;
            if row.review_id < 1 || row.revision < 1 {
                return Err(bad("review id and revision must be 1 or more".into()));
            }
        }
    }
    Ok(())
}
