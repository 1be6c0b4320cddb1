//! Running effects: the only part of the UI that touches the store or the clock. Each result
//! comes back as an [`Action`]; a store error becomes a message on screen, never a crash.

use chrono::{DateTime, Utc};

use super::app::{Action, Effect, HomeData};
use super::review::RecordData;
use crate::domain::clock::county_time;
use crate::store::{Actor, Store};

/// The start of the county's "today", in UTC, for the home screen's counts.
fn start_of_day(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = county_time(now);
    let midnight = local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists");
    now - (local.naive_local() - midnight)
}

pub fn run(effect: Effect, store: &mut Store, actor: &Actor) -> Option<Action> {
    let failed = |what: &str, e: crate::store::StoreError| {
        tracing::error!("{what}: {e}");
        Some(Action::Failed(format!("{what}: {e}")))
    };
    match effect {
        Effect::LoadHome => {
            let load = || -> crate::store::Result<HomeData> {
                Ok(HomeData {
                    drafts: store.drafts_of(&actor.user)?,
                    returned: store.returned_to(&actor.user)?,
                    today: store.day_counts(&actor.user, start_of_day(Utc::now()))?,
                })
            };
            match load() {
                Ok(d) => Some(Action::HomeLoaded(d)),
                Err(e) => failed("Could not load your calls", e),
            }
        }
        Effect::StartDraft { received_at } => match store.start_draft(actor, received_at) {
            Ok(id) => {
                tracing::info!(%id, "draft started");
                Some(Action::DraftStarted(id))
            }
            Err(e) => failed("Could not start the draft (answers are NOT being saved)", e),
        },
        Effect::SaveField { id, key, value } => match store.save_field(actor, id, &key, &value) {
            Ok(()) => None,
            Err(e) => failed(&format!("NOT SAVED: {key}"), e),
        },
        Effect::SaveCursor { id, cursor } => match store.save_cursor(actor, id, &cursor) {
            Ok(()) => None,
            Err(e) => failed("Could not save your place in the call", e),
        },
        Effect::LoadDraft(id) => match store.load_draft(id) {
            Ok(d) => Some(Action::DraftLoaded(Box::new(d))),
            Err(e) => failed("Could not open the draft", e),
        },
        Effect::Finalize {
            id,
            payload,
            summary,
            versions,
        } => match store.finalize(actor, id, &payload, &summary, &versions) {
            Ok(done) => {
                tracing::info!(%id, revision = done.revision, "finalized");
                Some(Action::Finalized(done))
            }
            Err(e) => failed("NOT FINALIZED", e),
        },
        Effect::LoadQueue(query) => match store.list(&query) {
            Ok(page) => Some(Action::QueueLoaded(page)),
            Err(e) => failed("Could not load the queue", e),
        },
        Effect::LoadDashboard { from, before, now } => match store.dashboard(from, before, now) {
            Ok(d) => Some(Action::DashboardLoaded(Box::new(d))),
            Err(e) => failed("Could not load the dashboard", e),
        },
        Effect::LoadRecord(id) => {
            let load = || -> crate::store::Result<RecordData> {
                Ok(RecordData {
                    revisions: store.revisions(id)?,
                    reviews: store.reviews(id)?,
                    audit: store.audit_of(id)?,
                })
            };
            match load() {
                Ok(d) => Some(Action::RecordLoaded(Box::new(d))),
                Err(e) => failed("Could not open the record", e),
            }
        }
        Effect::SaveReview {
            id,
            revision,
            decision,
            note,
        } => match store.add_review(actor, id, revision, decision, note.as_deref()) {
            Ok(r) => Some(Action::Reviewed(r)),
            Err(e) => failed("NOT SAVED: the review", e),
        },
        Effect::LoadAmend(id) => match store.encounter(id, None) {
            Ok(rec) => Some(Action::AmendLoaded(Box::new(rec))),
            Err(e) => failed("Could not open the returned call", e),
        },
        Effect::Addendum {
            id,
            payload,
            summary,
            versions,
            note,
        } => match store.add_addendum(actor, id, &payload, &summary, &versions, &note) {
            Ok(done) => Some(Action::Finalized(done)),
            Err(e) => failed("NOT SAVED: the addendum", e),
        },
        Effect::Quit => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_of_day_is_county_midnight() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T07:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // 07:30 UTC is 23:30 the day before in Los Angeles (UTC-8).
        assert_eq!(
            start_of_day(now),
            DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").unwrap()
        );
    }
}
