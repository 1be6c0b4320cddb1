-- accessline schema, migration 8: what closes issue 5's last misses at a million encounters —
-- the dashboard for a year, and the first (cold) read of the rare review and sync states.
-- Released migrations are never edited.

-- The dashboard's counts per UTC day of call time, kept by the database itself in the same
-- transaction as every change to `dashboard_fact` (migration 0005: one row per current
-- finalized revision, whoever writes it — the store, the demo's bulk loader, a sync import;
-- an addendum deletes the revision it supersedes). A period's dashboard sums its whole days
-- here (at most ~40 rows a day) and reads `dashboard_fact` only for the partial days at its
-- ends. One row per (day, dimension, value):
--   total ''          every call            crisis ''       crisis calls
--   cell <cell id>    by chosen cell        interpreter ''  an interpreter was used
--   risk <risk>       by risk (none if unset)
--   language <code>   by language ('—' if unset)
--   met / no_deadline / open <triage>  timeliness by triage level; "open" (a deadline, not met)
--   splits into pending and missed only when the dashboard is read, since that depends on
--   "now": the pending ones come from `dashboard_fact_open` below.
-- A count that falls to 0 stays as a row of 0; readers skip it.
CREATE TABLE dashboard_day (
    day       TEXT    NOT NULL,
    dimension TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, dimension, value)
) WITHOUT ROWID;

-- The open deadlines (not met, a deadline recorded), by deadline: the pending ones of a
-- period are the entries after "now", a short walk (deadlines are days after the call). It
-- holds every column the count reads (covering): no table row is visited.
CREATE INDEX dashboard_fact_open
ON dashboard_fact (deadline_at, received_at, triage, warm_handoff, crisis_actions)
WHERE triage IS NOT NULL AND deadline_at IS NOT NULL AND warm_handoff = 0
  AND NOT (triage = 'emergent' AND crisis_actions > 0);

-- The (dimension, value) pairs one fact counts under; `sign` is +1 or -1. Written out in each
-- trigger (a trigger cannot call a view with NEW/OLD): keep the three copies and the backfill
-- in step; `store::dashboard` tests them against the dashboard read row by row.
CREATE TRIGGER dashboard_day_on_insert AFTER INSERT ON dashboard_fact
BEGIN
    INSERT INTO dashboard_day (day, dimension, value, n)
    SELECT substr(NEW.received_at, 1, 10), column1, column2, 1
    FROM (VALUES ('total', ''),
                 ('cell', NEW.cell_chosen),
                 ('risk', coalesce(NEW.risk, 'none')),
                 ('crisis', CASE WHEN NEW.crisis <> 0 THEN '' END),
                 ('language', coalesce(NEW.language, '—')),
                 ('interpreter', CASE WHEN NEW.interpreter <> 0 THEN '' END),
                 (CASE WHEN NEW.warm_handoff <> 0
                            OR (NEW.triage = 'emergent' AND NEW.crisis_actions > 0) THEN 'met'
                       WHEN NEW.deadline_at IS NULL THEN 'no_deadline'
                       ELSE 'open' END, NEW.triage))
    WHERE column2 IS NOT NULL
    ON CONFLICT (day, dimension, value) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER dashboard_day_on_delete AFTER DELETE ON dashboard_fact
BEGIN
    UPDATE dashboard_day SET n = n - 1
    WHERE day = substr(OLD.received_at, 1, 10)
      AND (dimension, value) IN (
          VALUES ('total', ''),
                 ('cell', OLD.cell_chosen),
                 ('risk', coalesce(OLD.risk, 'none')),
                 ('crisis', CASE WHEN OLD.crisis <> 0 THEN '' END),
                 ('language', coalesce(OLD.language, '—')),
                 ('interpreter', CASE WHEN OLD.interpreter <> 0 THEN '' END),
                 (CASE WHEN OLD.warm_handoff <> 0
                            OR (OLD.triage = 'emergent' AND OLD.crisis_actions > 0) THEN 'met'
                       WHEN OLD.deadline_at IS NULL THEN 'no_deadline'
                       ELSE 'open' END, OLD.triage));
END;

-- Nothing updates a fact today (a new revision deletes and inserts); should anything, the
-- counts follow: out with the old row, in with the new.
CREATE TRIGGER dashboard_day_on_update AFTER UPDATE ON dashboard_fact
BEGIN
    UPDATE dashboard_day SET n = n - 1
    WHERE day = substr(OLD.received_at, 1, 10)
      AND (dimension, value) IN (
          VALUES ('total', ''),
                 ('cell', OLD.cell_chosen),
                 ('risk', coalesce(OLD.risk, 'none')),
                 ('crisis', CASE WHEN OLD.crisis <> 0 THEN '' END),
                 ('language', coalesce(OLD.language, '—')),
                 ('interpreter', CASE WHEN OLD.interpreter <> 0 THEN '' END),
                 (CASE WHEN OLD.warm_handoff <> 0
                            OR (OLD.triage = 'emergent' AND OLD.crisis_actions > 0) THEN 'met'
                       WHEN OLD.deadline_at IS NULL THEN 'no_deadline'
                       ELSE 'open' END, OLD.triage));
    INSERT INTO dashboard_day (day, dimension, value, n)
    SELECT substr(NEW.received_at, 1, 10), column1, column2, 1
    FROM (VALUES ('total', ''),
                 ('cell', NEW.cell_chosen),
                 ('risk', coalesce(NEW.risk, 'none')),
                 ('crisis', CASE WHEN NEW.crisis <> 0 THEN '' END),
                 ('language', coalesce(NEW.language, '—')),
                 ('interpreter', CASE WHEN NEW.interpreter <> 0 THEN '' END),
                 (CASE WHEN NEW.warm_handoff <> 0
                            OR (NEW.triage = 'emergent' AND NEW.crisis_actions > 0) THEN 'met'
                       WHEN NEW.deadline_at IS NULL THEN 'no_deadline'
                       ELSE 'open' END, NEW.triage))
    WHERE column2 IS NOT NULL
    ON CONFLICT (day, dimension, value) DO UPDATE SET n = n + 1;
END;

-- Databases written before this migration: every fact counted once, under the same pairs as
-- the insert trigger (one pass over the facts, seven pairs each).
INSERT INTO dashboard_day (day, dimension, value, n)
SELECT day, dimension, value, count(*)
FROM (SELECT substr(f.received_at, 1, 10) AS day,
             CASE k.column1
                 WHEN 1 THEN 'total' WHEN 2 THEN 'cell' WHEN 3 THEN 'risk' WHEN 4 THEN 'crisis'
                 WHEN 5 THEN 'language' WHEN 6 THEN 'interpreter'
                 ELSE CASE WHEN f.warm_handoff <> 0
                                OR (f.triage = 'emergent' AND f.crisis_actions > 0) THEN 'met'
                           WHEN f.deadline_at IS NULL THEN 'no_deadline'
                           ELSE 'open' END
             END AS dimension,
             CASE k.column1
                 WHEN 1 THEN '' WHEN 2 THEN f.cell_chosen WHEN 3 THEN coalesce(f.risk, 'none')
                 WHEN 4 THEN CASE WHEN f.crisis <> 0 THEN '' END
                 WHEN 5 THEN coalesce(f.language, '—')
                 WHEN 6 THEN CASE WHEN f.interpreter <> 0 THEN '' END
                 ELSE f.triage
             END AS value
      FROM dashboard_fact f CROSS JOIN (VALUES (1), (2), (3), (4), (5), (6), (7)) k)
WHERE value IS NOT NULL
GROUP BY day, dimension, value;

-- The call's time beside its workflow state, so the rare states a supervisor looks for come
-- from small time-ordered partial indexes: a page of returned calls or sync conflicts is the
-- index's newest entries, not a walk of every call (or a sort of every match) read from disk.
-- Every writer sets it with the revision (the same as the revision's `received_at`).
ALTER TABLE encounter_state ADD COLUMN received_at TEXT;

-- Current revisions from their dashboard rows (an ordered table of the current ones), the
-- few superseded ones from their own rows.
UPDATE encounter_state SET received_at = f.received_at
FROM dashboard_fact f
WHERE f.encounter_id = encounter_state.encounter_id AND f.revision = encounter_state.revision;
UPDATE encounter_state SET received_at = (
    SELECT e.received_at FROM encounter e
    WHERE e.encounter_id = encounter_state.encounter_id AND e.revision = encounter_state.revision)
WHERE received_at IS NULL;

-- Returned calls, newest first: the supervisor list's "returned" filter, and a screener's own
-- (which replaces the screener-only index of migration 1: it also gives their order).
DROP INDEX encounter_state_returned;
CREATE INDEX encounter_state_returned_by_time ON encounter_state (received_at, encounter_id)
WHERE review_state = 'needs_changes' AND current = 1;
CREATE INDEX encounter_state_returned_to ON encounter_state (screener, received_at, encounter_id)
WHERE review_state = 'needs_changes' AND current = 1;
CREATE INDEX encounter_state_conflict_by_time ON encounter_state (received_at, encounter_id)
WHERE sync_state = 'conflict';
