//! Writing one accepted record on the hub: the revision or review row, its audit row, its
//! state and its place in the inbox.

use super::*;

impl Importer<'_> {
    /// Write a record; returns the hub's review id for a review.
    pub(super) fn apply(
        &mut self,
        origin: &Origin,
        incoming: &Incoming,
        sha: &str,
    ) -> Result<Option<i64>> {
        let origin_text = format!("{}#{}", origin.device, origin.seq);
        match incoming {
            Incoming::Encounter { row, .. } => {
                let id = row.encounter_id.to_string();
                let record = encounter_record(row.encounter_id, row.revision);
                let detail = serde_json::json!({
                    "sha256": sha,
                    "supersedes": row.supersedes,
                    "origin": origin_text,
                    "batch": self.batch_id,
                })
                .to_string();
                let audit_seq = self.audit("imported", &record, &detail)?;
                self.tx
                    .prepare_cached(
                        "INSERT INTO encounter (encounter_id, revision, status, supersedes, screener,
                             device, created_at, updated_at, finalized_at, received_at, caller_display,
                             language, age, cell_computed, cell_chosen, risk, triage, crisis, deadline_at,
                             reason, note, audit_seq, payload_sha256, definitions, payload)
                         VALUES (?1, ?2, 'finalized', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                             ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
                    )?
                    .execute(params![
                        id,
                        row.revision,
                        row.supersedes,
                        row.screener,
                        row.device,
                        row.created_at,
                        row.updated_at,
                        row.finalized_at,
                        row.received_at,
                        row.caller_display,
                        row.language,
                        row.age,
                        row.cell_computed,
                        row.cell_chosen,
                        row.risk,
                        row.triage,
                        row.crisis,
                        row.deadline_at,
                        row.reason,
                        row.note,
                        audit_seq,
                        row.payload_sha256,
                        row.definitions,
                        crate::store::packed::Packed::of(&row.payload)
                    ])?;
                // Held by the county: acknowledged. A later revision, if any, is current.
                self.tx
                    .prepare_cached(
                        "INSERT INTO encounter_state (encounter_id, revision, screener, current, sync_state,
                             received_at)
                         VALUES (?1, ?2, ?3,
                             NOT EXISTS (SELECT 1 FROM encounter n WHERE n.encounter_id = ?1 AND n.revision > ?2),
                             'acknowledged', ?4)",
                    )?
                    .execute(params![id, row.revision, row.screener, row.received_at])?;
                self.tx
                    .prepare_cached(
                        "UPDATE encounter_state SET current = 0
                         WHERE encounter_id = ?1 AND revision < ?2 AND current = 1",
                    )?
                    .execute(params![id, row.revision])?;
                let text = [row.reason.as_deref(), row.note.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                self.to_index.push((
                    row.encounter_id,
                    row.revision,
                    parse_ts(&row.received_at)?,
                    text,
                ));
                Ok(None)
            }
            Incoming::Review { row, .. } => {
                let id = row.encounter_id.to_string();
                let review_id: i64 = self
                    .tx
                    .prepare_cached("SELECT coalesce(max(review_id), 0) + 1 FROM review")?
                    .query_row([], |r| r.get(0))?;
                let detail = serde_json::json!({
                    "encounter": encounter_record(row.encounter_id, row.revision),
                    "decision": row.decision,
                    "sha256": sha,
                    "origin": origin_text,
                    "batch": self.batch_id,
                })
                .to_string();
                let audit_seq = self.audit("imported", &review_record(review_id), &detail)?;
                self.tx
                    .prepare_cached(
                        "INSERT INTO review (review_id, encounter_id, revision, decision, note, reviewer,
                             device, reviewed_at, audit_seq)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?
                    .execute(params![
                        review_id,
                        id,
                        row.revision,
                        row.decision,
                        row.note,
                        row.reviewer,
                        row.device,
                        row.reviewed_at,
                        audit_seq
                    ])?;
                // The latest decision governs, whatever order reviews arrive in.
                self.tx
                    .prepare_cached(
                        "UPDATE encounter_state SET review_state = coalesce(
                             (SELECT decision FROM review WHERE encounter_id = ?1 AND revision = ?2
                              ORDER BY reviewed_at DESC, device DESC, decision DESC LIMIT 1),
                             'awaiting')
                         WHERE encounter_id = ?1 AND revision = ?2",
                    )?
                    .execute(params![id, row.revision])?;
                if let Some(note) = row.note.as_deref() {
                    let received_at: String = self
                        .tx
                        .prepare_cached(
                            "SELECT received_at FROM encounter WHERE encounter_id = ?1 AND revision = ?2",
                        )?
                        .query_row(params![id, row.revision], |r| r.get(0))?;
                    self.to_index.push((
                        row.encounter_id,
                        row.revision,
                        parse_ts(&received_at)?,
                        note.to_owned(),
                    ));
                }
                Ok(Some(review_id))
            }
        }
    }
}
