//! Judging a received record against what the hub holds: apply it, already held, a conflict,
//! or parked until what it builds on arrives.

use super::*;

impl Importer<'_> {
    pub(super) fn judge(&self, incoming: &Incoming, sha: &str) -> Result<Verdict> {
        let held_sha = |id: Uuid, revision: u32| -> Result<Option<(String, Option<String>)>> {
            Ok(self
                .tx
                .prepare_cached(
                    "SELECT status, payload_sha256 FROM encounter WHERE encounter_id = ?1 AND revision = ?2",
                )?
                .query_row(params![id.to_string(), revision], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?)
        };
        let held_as = |status: &str, h: Option<String>| -> String {
            match (status, h) {
                ("finalized", Some(h)) => h,
                _ => "draft".to_owned(),
            }
        };
        match incoming {
            Incoming::Encounter {
                row,
                supersedes_sha256,
            } => {
                if let Some((status, h)) = held_sha(row.encounter_id, row.revision)? {
                    let held = held_as(&status, h);
                    return Ok(if held == sha {
                        Verdict::Held { review_id: None }
                    } else {
                        Verdict::Conflict {
                            held_sha256: held,
                            why: "same encounter and revision, different content".into(),
                        }
                    });
                }
                let Some(previous) = row.supersedes else {
                    return Ok(Verdict::Apply);
                };
                match held_sha(row.encounter_id, previous)? {
                    None => Ok(Verdict::Park),
                    Some((status, h)) => {
                        let held = held_as(&status, h);
                        if Some(&held) == supersedes_sha256.as_ref() {
                            Ok(Verdict::Apply)
                        } else {
                            Ok(Verdict::Conflict {
                                held_sha256: held,
                                why: format!(
                                    "an addendum to a version of revision {previous} the hub does not hold"
                                ),
                            })
                        }
                    }
                }
            }
            Incoming::Review {
                row,
                encounter_sha256,
            } => {
                let id = row.encounter_id.to_string();
                // The same review received before (from another batch or sequence number).
                let earlier: Option<(String, Option<i64>)> = self
                    .tx
                    .prepare_cached(
                        "SELECT sha256, review_id FROM sync_inbox
                         WHERE encounter_id = ?1 AND revision = ?2 AND kind = 'review'
                           AND origin_device = ?3 AND origin_review_id = ?4 AND state = 'held'",
                    )?
                    .query_row(params![id, row.revision, row.device, row.review_id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                if let Some((held, review_id)) = earlier {
                    return Ok(if held == sha {
                        Verdict::Held { review_id }
                    } else {
                        Verdict::Conflict {
                            held_sha256: held,
                            why: "same review, different content".into(),
                        }
                    });
                }
                // A review written on this database itself (a hub importing its own export).
                let local: Option<Result<ReviewRow>> = self
                    .tx
                    .prepare_cached(&format!(
                        "SELECT {REVIEW_COLUMNS} FROM review r
                         WHERE r.review_id = ?1 AND r.device = ?2 AND r.encounter_id = ?3 AND r.revision = ?4
                           AND NOT EXISTS (SELECT 1 FROM sync_inbox i WHERE i.encounter_id = r.encounter_id
                                           AND i.revision = r.revision AND i.review_id = r.review_id)"
                    ))?
                    .query_row(params![row.review_id, row.device, id, row.revision], |r| {
                        Ok(review_row(r, 0))
                    })
                    .optional()?;
                if let Some(local) = local {
                    let held = payload_sha256(local?.payload());
                    return Ok(if held == sha {
                        Verdict::Held {
                            review_id: Some(row.review_id),
                        }
                    } else {
                        Verdict::Conflict {
                            held_sha256: held,
                            why: "same review, different content".into(),
                        }
                    });
                }
                match held_sha(row.encounter_id, row.revision)? {
                    None => Ok(Verdict::Park),
                    Some((status, h)) => {
                        let held = held_as(&status, h);
                        if &held == encounter_sha256 {
                            Ok(Verdict::Apply)
                        } else {
                            Ok(Verdict::Conflict {
                                held_sha256: held,
                                why: "a review of a version of the revision the hub does not hold"
                                    .into(),
                            })
                        }
                    }
                }
            }
        }
    }
}
