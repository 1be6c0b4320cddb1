-- accessline schema: autosave of an addendum being written (issue 3: nothing is lost). A
-- returned encounter's corrections are saved field by field, as a draft's are, against the
-- finalized revision they correct; writing the addendum removes them in the same transaction.
-- The finalized revision itself is never touched.
CREATE TABLE amend_field (
    encounter_id  TEXT    NOT NULL,
    base_revision INTEGER NOT NULL CHECK (base_revision >= 1),
    key           TEXT    NOT NULL CHECK (length(key) > 0),
    value         TEXT    NOT NULL,
    screener      TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (encounter_id, base_revision, key),
    FOREIGN KEY (encounter_id, base_revision) REFERENCES encounter (encounter_id, revision)
) WITHOUT ROWID;
