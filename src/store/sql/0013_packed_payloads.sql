-- accessline schema, migration 13: payloads stored compressed (store::packed). Released
-- migrations are never edited.
--
-- From this version on, a revision's `payload` (and a kept view's) is written as a BLOB: one
-- zstd frame of the payload's JSON text, made with a dictionary trained on such payloads
-- (about 300 bytes instead of 5–6 KB: one page holds several revisions instead of one
-- revision taking two). Rows written before keep their TEXT payload; finalized rows never
-- change. `payload_sha256` is still the SHA-256 of the JSON text, whichever form is stored.
--
-- SQL that reads inside a payload goes through `payload_text(x)`, a function every
-- connection the program opens registers: TEXT as it is, a BLOB decompressed.
--
-- The dashboard's facts of a revision (migration 5), defined once: the row `dashboard_fact`
-- keeps for it. The two triggers of migration 5 that extracted them with json_extract on the
-- raw payload are made again from this view. Same facts, same rows.
CREATE VIEW encounter_dashboard_fact AS
SELECT e.received_at, e.encounter_id, e.revision, e.cell_chosen, e.risk, e.triage, e.crisis,
       e.language, e.deadline_at,
       coalesce(json_extract(payload_text(e.payload), '$.intake.interpreter'), 0) <> 0
           AS interpreter,
       coalesce((SELECT max(coalesce(json_extract(r.value, '$.warm_handoff'), 0))
                 FROM json_each(payload_text(e.payload), '$.referrals') r),
                json_extract(payload_text(e.payload), '$.referral.warm_handoff'), 0) <> 0
           AS warm_handoff,
       (SELECT count(*) FROM json_each(payload_text(e.payload), '$.crisis.actions'))
           AS crisis_actions
FROM encounter e;

DROP TRIGGER dashboard_fact_on_insert;
DROP TRIGGER dashboard_fact_on_finalize;

-- A writer that already knows the facts (the demo's bulk loader) inserts the row itself just
-- before the revision, and the trigger then leaves it alone.
CREATE TRIGGER dashboard_fact_on_insert AFTER INSERT ON encounter
WHEN NEW.status = 'finalized'
 AND NOT EXISTS (SELECT 1 FROM dashboard_fact f WHERE f.received_at = NEW.received_at
                 AND f.encounter_id = NEW.encounter_id AND f.revision = NEW.revision)
BEGIN
    INSERT INTO dashboard_fact SELECT * FROM encounter_dashboard_fact
    WHERE encounter_id = NEW.encounter_id AND revision = NEW.revision;
END;

CREATE TRIGGER dashboard_fact_on_finalize AFTER UPDATE OF status ON encounter
WHEN OLD.status = 'draft' AND NEW.status = 'finalized'
BEGIN
    INSERT INTO dashboard_fact SELECT * FROM encounter_dashboard_fact
    WHERE encounter_id = NEW.encounter_id AND revision = NEW.revision;
END;
