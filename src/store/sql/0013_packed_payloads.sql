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
-- connection the program opens registers: TEXT as it is, a BLOB decompressed. The two
-- dashboard triggers of migration 5 read the payload with json_extract; they are made again
-- reading `payload_text(NEW.payload)` once per row. Same facts, same rows.
DROP TRIGGER dashboard_fact_on_insert;
DROP TRIGGER dashboard_fact_on_finalize;

CREATE TRIGGER dashboard_fact_on_insert AFTER INSERT ON encounter
WHEN NEW.status = 'finalized'
 AND NOT EXISTS (SELECT 1 FROM dashboard_fact f WHERE f.received_at = NEW.received_at
                 AND f.encounter_id = NEW.encounter_id AND f.revision = NEW.revision)
BEGIN
    INSERT INTO dashboard_fact
    SELECT NEW.received_at, NEW.encounter_id, NEW.revision, NEW.cell_chosen, NEW.risk,
           NEW.triage, NEW.crisis, NEW.language, NEW.deadline_at,
           coalesce(json_extract(p.t, '$.intake.interpreter'), 0) <> 0,
           coalesce((SELECT max(coalesce(json_extract(r.value, '$.warm_handoff'), 0))
                     FROM json_each(p.t, '$.referrals') r),
                    json_extract(p.t, '$.referral.warm_handoff'), 0) <> 0,
           (SELECT count(*) FROM json_each(p.t, '$.crisis.actions'))
    FROM (SELECT payload_text(NEW.payload) AS t) p;
END;

CREATE TRIGGER dashboard_fact_on_finalize AFTER UPDATE OF status ON encounter
WHEN OLD.status = 'draft' AND NEW.status = 'finalized'
BEGIN
    INSERT INTO dashboard_fact
    SELECT NEW.received_at, NEW.encounter_id, NEW.revision, NEW.cell_chosen, NEW.risk,
           NEW.triage, NEW.crisis, NEW.language, NEW.deadline_at,
           coalesce(json_extract(p.t, '$.intake.interpreter'), 0) <> 0,
           coalesce((SELECT max(coalesce(json_extract(r.value, '$.warm_handoff'), 0))
                     FROM json_each(p.t, '$.referrals') r),
                    json_extract(p.t, '$.referral.warm_handoff'), 0) <> 0,
           (SELECT count(*) FROM json_each(p.t, '$.crisis.actions'))
    FROM (SELECT payload_text(NEW.payload) AS t) p;
END;
