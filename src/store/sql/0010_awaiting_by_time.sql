-- accessline schema: the "awaiting review" queue from its own time-ordered partial index
-- (issue 5). At 1,000,000 calls most older calls are reviewed, so paging back through the
-- awaiting queue walked the time index testing thousands of calls' states per page (median
-- 61 ms, first time 396 ms, at page 88 on a quiet machine). Like returned calls and sync
-- conflicts (migration 8), a page is now the index's next entries and their rows.
CREATE INDEX encounter_state_awaiting_by_time ON encounter_state (received_at, encounter_id)
WHERE review_state = 'awaiting' AND current = 1;
