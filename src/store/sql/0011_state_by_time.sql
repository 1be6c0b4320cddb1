-- accessline schema, migration 11: every workflow-state filter of the supervisor queue pages
-- from a time-ordered index (issue 5). Released migrations are never edited.
--
-- At 1,000,000 calls the first page of a common state ("approved", "exported") or of drafts
-- walked the time index from the newest call and read each walked call's row from disk to
-- test its state: 51 ms for "approved", 156 ms for "exported", 94 ms for drafts the first time
-- (quiet machine, rows not in the OS cache). A state's page is now its index's next entries:
-- one index per kind of state, ordered by state then time, for current revisions. They
-- replace the partial indexes of migrations 8 and 10 for returned calls, sync conflicts and
-- the awaiting queue (the same entries, in the same order, under one name per kind).
CREATE INDEX encounter_state_review_by_time
    ON encounter_state (review_state, received_at, encounter_id) WHERE current = 1;
CREATE INDEX encounter_state_sync_by_time
    ON encounter_state (sync_state, received_at, encounter_id) WHERE current = 1;
DROP INDEX encounter_state_awaiting_by_time;
DROP INDEX encounter_state_returned_by_time;
DROP INDEX encounter_state_conflict_by_time;

-- Drafts, newest call first (the screener's own drafts keep their index of migration 1).
CREATE INDEX encounter_draft_by_time ON encounter (received_at, encounter_id)
WHERE status = 'draft';

-- Triage levels, like languages and cells (migration 6): an emergent call is a few in a
-- hundred, and a page of them walked ~30 calls' rows per match (72–100 ms the first time).
CREATE INDEX encounter_by_triage ON encounter (triage, received_at, encounter_id);
