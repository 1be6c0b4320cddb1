-- accessline schema: the withheld view of each finalized revision, made once (issue 6, export
-- speed). A revision without the caller's consent to share substance-use information leaves
-- the device as a *withheld view* (docs/sync.md, src/sync/withhold.rs). A finalized revision
-- never changes, so its view is made when it is finalized and kept here; the export reads it
-- instead of filtering the payload again.
--
-- This is derived data, a cache: a row is made from the revision's payload by the withholding
-- rules named in `policy` (a fingerprint of the rules and the definitions they read). A row
-- made under other rules, or missing (revisions finalized before this migration), is made
-- again by the export, exactly as it would have been without this table. Nothing is backfilled
-- here: the rules are program code, not SQL.
CREATE TABLE encounter_view (
    encounter_id   TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    -- The withholding rules and definitions the row was made under.
    policy         TEXT    NOT NULL,
    -- The payload hash of the revision it was made from (it must still be the revision's).
    of_sha256      TEXT    NOT NULL CHECK (length(of_sha256) = 64),
    -- 1: leaves as this view; 0: the caller consented, the revision leaves as stored.
    withheld       INTEGER NOT NULL CHECK (withheld IN (0, 1)),
    -- The view's `deadline_at` column (substance-use deadlines left out), as stored text.
    deadline_at    TEXT,
    payload_sha256 TEXT    CHECK (payload_sha256 IS NULL OR length(payload_sha256) = 64),
    payload        TEXT,
    PRIMARY KEY (encounter_id, revision),
    FOREIGN KEY (encounter_id, revision) REFERENCES encounter (encounter_id, revision),
    CHECK ((withheld = 1) = (payload IS NOT NULL AND payload_sha256 IS NOT NULL))
);
