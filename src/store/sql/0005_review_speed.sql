-- accessline schema, migration 5: what keeps the supervisor's queue filters and dashboard fast
-- at a million encounters (issue 5). Released migrations are never edited.

-- The dashboard's facts for every current finalized revision, kept by the database itself as
-- revisions are written (by the store, the demo loader or a sync import): one narrow row per
-- call, ordered by the call's time, so a year's dashboard reads this table's rows for the
-- period instead of every payload. Three facts live only in the payload (interpreter used, a
-- warm hand-off among the referrals, crisis actions recorded): they are extracted once, when
-- the revision is written, with the same expressions the dashboard used per read. A revision
-- an addendum supersedes leaves the table (the dashboard counts current revisions only).
CREATE TABLE dashboard_fact (
    received_at    TEXT    NOT NULL,
    encounter_id   TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    cell_chosen    TEXT,
    risk           TEXT,
    triage         TEXT,
    crisis         INTEGER NOT NULL,
    language       TEXT,
    deadline_at    TEXT,
    interpreter    INTEGER NOT NULL,
    warm_handoff   INTEGER NOT NULL,
    crisis_actions INTEGER NOT NULL,
    PRIMARY KEY (received_at, encounter_id, revision)
) WITHOUT ROWID;

-- A writer that already knows the facts (the demo's bulk loader) inserts the row itself just
-- before the revision, and the trigger then leaves it alone instead of parsing the payload.
CREATE TRIGGER dashboard_fact_on_insert AFTER INSERT ON encounter
WHEN NEW.status = 'finalized'
 AND NOT EXISTS (SELECT 1 FROM dashboard_fact f WHERE f.received_at = NEW.received_at
                 AND f.encounter_id = NEW.encounter_id AND f.revision = NEW.revision)
BEGIN
    INSERT INTO dashboard_fact
    SELECT NEW.received_at, NEW.encounter_id, NEW.revision, NEW.cell_chosen, NEW.risk,
           NEW.triage, NEW.crisis, NEW.language, NEW.deadline_at,
           coalesce(json_extract(NEW.payload, '$.intake.interpreter'), 0) <> 0,
           coalesce((SELECT max(coalesce(json_extract(r.value, '$.warm_handoff'), 0))
                     FROM json_each(NEW.payload, '$.referrals') r),
                    json_extract(NEW.payload, '$.referral.warm_handoff'), 0) <> 0,
           (SELECT count(*) FROM json_each(NEW.payload, '$.crisis.actions'));
END;

CREATE TRIGGER dashboard_fact_on_finalize AFTER UPDATE OF status ON encounter
WHEN OLD.status = 'draft' AND NEW.status = 'finalized'
BEGIN
    INSERT INTO dashboard_fact
    SELECT NEW.received_at, NEW.encounter_id, NEW.revision, NEW.cell_chosen, NEW.risk,
           NEW.triage, NEW.crisis, NEW.language, NEW.deadline_at,
           coalesce(json_extract(NEW.payload, '$.intake.interpreter'), 0) <> 0,
           coalesce((SELECT max(coalesce(json_extract(r.value, '$.warm_handoff'), 0))
                     FROM json_each(NEW.payload, '$.referrals') r),
                    json_extract(NEW.payload, '$.referral.warm_handoff'), 0) <> 0,
           (SELECT count(*) FROM json_each(NEW.payload, '$.crisis.actions'));
END;

CREATE TRIGGER dashboard_fact_superseded AFTER INSERT ON encounter
WHEN NEW.supersedes IS NOT NULL
BEGIN
    DELETE FROM dashboard_fact
    WHERE encounter_id = NEW.encounter_id AND revision = NEW.supersedes
      AND received_at = (SELECT received_at FROM encounter
                         WHERE encounter_id = NEW.encounter_id AND revision = NEW.supersedes);
END;

-- Databases written before this migration: their current finalized revisions.
INSERT INTO dashboard_fact
SELECT e.received_at, e.encounter_id, e.revision, e.cell_chosen, e.risk, e.triage, e.crisis,
       e.language, e.deadline_at,
       coalesce(json_extract(e.payload, '$.intake.interpreter'), 0) <> 0,
       coalesce((SELECT max(coalesce(json_extract(r.value, '$.warm_handoff'), 0))
                 FROM json_each(e.payload, '$.referrals') r),
                json_extract(e.payload, '$.referral.warm_handoff'), 0) <> 0,
       (SELECT count(*) FROM json_each(e.payload, '$.crisis.actions'))
FROM encounter e
WHERE e.status = 'finalized'
  AND NOT EXISTS (SELECT 1 FROM encounter n
                  WHERE n.encounter_id = e.encounter_id AND n.revision > e.revision);
