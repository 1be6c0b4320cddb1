-- accessline schema, migration 6: indexes for the supervisor queue's filters at a million
-- encounters (issue 5). Released migrations are never edited.
--
-- A filter on a common value walks the time index from the newest call and stops after a
-- page. A rare value makes that walk long (a page of American Sign Language calls, 0.1 % of
-- them, is 100,000 rows into the index): language and quadrant cell get their own time-ordered
-- indexes, which the list uses when it sorts by time (see `queries::list_sql`).
CREATE INDEX encounter_by_language ON encounter (language, received_at, encounter_id);
CREATE INDEX encounter_by_cell     ON encounter (cell_chosen, received_at, encounter_id);

-- Sync conflicts are rare by nature (a few per thousand) and are what a supervisor looks for:
-- the list finds them here and sorts them, instead of walking every call.
CREATE INDEX encounter_state_conflict ON encounter_state (encounter_id, revision)
WHERE sync_state = 'conflict';
